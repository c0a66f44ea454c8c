//! `cinema explain`: why a movie is recommended to a user and why it is
//! predicted its stars — the rated movies that add the most (exactly, for
//! `--me`), the genre match, similar users, the hybrid's parts and a
//! confidence.

use anyhow::Result;

use super::rate::find_movie;
use super::recommend::{ViewerArgs, check_diversity, check_weight};
use super::{Env, load_dataset, open_recommender, print_json};
use crate::recommender::why::{Reason, Why, parts_sentence};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    viewer: ViewerArgs,
    /// The movie: its id, or words of its title.
    #[arg(long)]
    movie: String,
    /// The hybrid's weight on CF (the rest is content), from 0 to 1.
    /// Default: the weight last set in the app, else 0.8 (as `recommend`).
    #[arg(long, value_name = "W")]
    hybrid: Option<f32>,
    /// The list's diversity, 0 to 1: the explanation says where it moved
    /// the movie. Default: the diversity last set in the app, else 0.
    #[arg(long, value_name = "X")]
    diversity: Option<f32>,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    check_weight(args.hybrid)?;
    check_diversity(args.diversity)?;
    let dataset = load_dataset(env, args.viewer.dataset.as_deref())?;
    let user = args.viewer.resolve(&dataset, "explain")?;
    let movie = find_movie(&dataset, &args.movie)?;
    let rec = open_recommender(env, dataset)?;
    let user = user.unwrap_or(rec.you());
    let weight = args.hybrid.unwrap_or_else(|| rec.prefs.weight());
    let diversity = args.diversity.unwrap_or_else(|| rec.prefs.diversity());
    let why = Why::new(&rec.explain(user, movie, weight, diversity).wait()?, &rec.dataset, weight, diversity);
    if env.json {
        return print_json(&why);
    }
    println!("{}: predicted {:.2}, confidence {:.2}", why.movie_title, why.predicted_rating, why.confidence);
    if !why.parts.is_empty() {
        println!("  {}", parts_sentence(&why.parts));
    }
    for reason in &why.reasons {
        let description = match reason {
            Reason::SimilarMovies { description, .. }
            | Reason::GenreMatch { description, .. }
            | Reason::SimilarUsers { description, .. }
            | Reason::HybridShare { description, .. }
            | Reason::Diversity { description, .. } => description,
        };
        println!("  - {description}");
    }
    let how = if why.exact { "exact" } else { "a least-squares refit of this user's vector" };
    let sign = if why.contributions_sum < 0.0 { '−' } else { '+' };
    println!(
        "  {:.3} baseline {sign} {:.3} from the rated movies = {:.3} ({how})",
        why.baseline,
        why.contributions_sum.abs(),
        why.baseline + why.contributions_sum
    );
    for c in why.movies() {
        println!("      {:+.3}  {} ({})", c.contribution, c.title, c.your_rating);
    }
    Ok(())
}
