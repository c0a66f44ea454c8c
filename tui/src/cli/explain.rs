//! `cinema explain`: why a movie is recommended to a user and why it is
//! predicted its stars — the rated movies that add the most (exactly, for
//! `--me`), the genre match, similar users, the hybrid's parts and a
//! confidence.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::rate::find_movie;
use super::recommend::resolve_user;
use super::{Env, load_dataset, open_recommender, print_json};
use crate::recommender::DEFAULT_WEIGHT;
use crate::recommender::why::{Reason, Why};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip.
    #[arg(long)]
    dataset: PathBuf,
    /// The dataset's own user id.
    #[arg(long, conflicts_with = "me")]
    user: Option<u32>,
    /// Explain for you, from your own ratings (`cinema rate`).
    #[arg(long)]
    me: bool,
    /// The movie: its id, or words of its title.
    #[arg(long)]
    movie: String,
    /// The hybrid's weight on CF (the rest is content), from 0 to 1.
    #[arg(long, default_value_t = DEFAULT_WEIGHT)]
    hybrid: f32,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    if !args.me && args.user.is_none() {
        bail!("say whom to explain for: --me, or --user ID");
    }
    if !(0.0..=1.0).contains(&args.hybrid) {
        bail!("--hybrid {} is outside 0 to 1 (the weight on CF)", args.hybrid);
    }
    let dataset = load_dataset(env, &args.dataset)?;
    let user = resolve_user(&dataset, args.me, args.user)?;
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
