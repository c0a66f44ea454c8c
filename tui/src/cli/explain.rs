//! `cinema explain`: why a movie is recommended to a user and why it is
//! predicted its stars — the rated movies that add the most (exactly, for
//! `--me`), the genre match, similar users, the hybrid's parts and a
//! confidence.

use anyhow::Result;

use super::rate::find_movie;
use super::recommend::{ViewerArgs, check_weight};
use super::{Env, load_dataset, open_recommender, print_json};
use crate::recommender::DEFAULT_WEIGHT;
use crate::recommender::why::{Reason, Why};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    viewer: ViewerArgs,
    /// The movie: its id, or words of its title.
    #[arg(long)]
    movie: String,
    /// The hybrid's weight on CF (the rest is content), from 0 to 1.
    #[arg(long, default_value_t = DEFAULT_WEIGHT)]
    hybrid: f32,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    check_weight(Some(args.hybrid))?;
    let dataset = load_dataset(env, args.viewer.dataset.as_deref())?;
    let user = args.viewer.resolve(&dataset, "explain")?;
    let movie = find_movie(&dataset, &args.movie)?;
    let rec = open_recommender(env, dataset)?;
    let user = user.unwrap_or(rec.you());
    let why = Why::new(&rec.explain(user, movie, args.hybrid)?, &rec.dataset, args.hybrid);
    if env.json {
        return print_json(&why);
    }
    println!("{}: predicted {:.2}, confidence {:.2}", why.movie_title, why.predicted_rating, why.confidence);
    for reason in &why.reasons {
        let description = match reason {
            Reason::SimilarMovies { description, .. }
            | Reason::GenreMatch { description, .. }
            | Reason::SimilarUsers { description, .. }
            | Reason::HybridShare { description, .. } => description,
        };
        println!("  - {description}");
    }
    let how = if why.exact { "exact" } else { "a least-squares refit of this user's vector" };
    println!("  {:.3} baseline + {:+.3} from the rated movies ({how})", why.baseline, why.contributions_sum);
    for c in why.movies() {
        println!("      {:+.3}  {} ({})", c.contribution, c.title, c.your_rating);
    }
    Ok(())
}
