//! `cinema import PATH`: detect, validate and cache a dataset.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::{Env, print_json};
use cinema_store::cache::{CacheStatus, load_or_import_noted};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A MovieLens folder or .zip.
    path: PathBuf,
}

#[derive(Serialize)]
struct Summary {
    name: String,
    format: &'static str,
    users: usize,
    movies: usize,
    rated_movies: usize,
    ratings: usize,
    rating_scale: [f32; 3],
    /// Ratings of a (user, movie) pair rated more than once, dropped for the pair's latest.
    duplicates_dropped: usize,
    warnings: Vec<String>,
    cached: bool,
    seconds: f64,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let started = Instant::now();
    let (d, status, notes) = load_or_import_noted(&env.home, &args.path)?;
    // What the next command without --dataset (and the app) opens.
    if let Err(e) = env.home.set_active_dataset(&args.path) {
        tracing::warn!("could not remember {} as the dataset last opened: {e:#}", args.path.display());
    }
    let s = Summary {
        name: d.name.clone(),
        format: d.format.label(),
        users: d.user_ids.len(),
        movies: d.movies.len(),
        rated_movies: d.rated_movie_count(),
        ratings: d.ratings.len(),
        rating_scale: [d.scale.min, d.scale.max, d.scale.step],
        duplicates_dropped: notes.duplicates_dropped,
        warnings: notes.warnings(),
        cached: status == CacheStatus::Hit,
        seconds: started.elapsed().as_secs_f64(),
    };
    if env.json {
        return print_json(&s);
    }
    for warning in &s.warnings {
        eprintln!("warning: {warning}");
    }
    println!("dataset   {} ({})", s.name, s.format);
    println!("users     {}", s.users);
    println!("movies    {} ({} rated)", s.movies, s.rated_movies);
    println!("ratings   {}", s.ratings);
    if s.duplicates_dropped > 0 {
        println!("dropped   {} duplicate ratings (each pair's latest kept)", s.duplicates_dropped);
    }
    println!("scale     {}–{} in steps of {}", s.rating_scale[0], s.rating_scale[1], s.rating_scale[2]);
    let source = if s.cached { "from the cache" } else { "imported and cached" };
    println!("loaded    {source} in {:.3} s", s.seconds);
    Ok(())
}
