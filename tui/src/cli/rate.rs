//! `cinema rate` and `cinema ratings`: your ratings from the command line.

use std::path::PathBuf;

use anyhow::{Result, bail};
use cinema_store::history::titles::display;
use serde::Serialize;

use super::{Env, load_dataset, open_recommender, print_json};
use cinema_store::dataset::Dataset;

#[derive(Debug, clap::Args)]
pub struct RateArgs {
    /// MovieLens folder or .zip.
    #[arg(long)]
    dataset: PathBuf,
    /// Movie id, or words of its title (not with --undo).
    #[arg(required_unless_present = "undo")]
    movie: Option<String>,
    /// Your rating on the dataset's scale; omit with --remove.
    #[arg(required_unless_present_any = ["remove", "undo"])]
    rating: Option<f32>,
    /// Remove your rating of the movie instead.
    #[arg(long)]
    remove: bool,
    /// Undo your last change (a whole import of your ratings, if that was it).
    #[arg(long)]
    undo: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// MovieLens folder or .zip.
    #[arg(long)]
    dataset: PathBuf,
}

#[derive(Serialize)]
struct Rated {
    movie_id: u32,
    /// MovieLens's form, e.g. `Godfather, The`.
    title: String,
    /// As people write it, e.g. `The Godfather`.
    display_title: String,
    year: Option<u16>,
    rating: f32,
    timestamp: i64,
}

/// A movie id, or the single movie whose title contains every given word.
pub fn find_movie(dataset: &Dataset, query: &str) -> Result<u32> {
    if let Ok(id) = query.parse::<u32>()
        && let Some(i) = dataset.movie_index(id)
    {
        return Ok(i);
    }
    let words: Vec<String> = query.to_lowercase().split_whitespace().map(String::from).collect();
    let hits: Vec<u32> = (0..dataset.movies.len() as u32)
        .filter(|&i| {
            let title = dataset.movies[i as usize].title.to_lowercase();
            words.iter().all(|w| title.contains(w.as_str()))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no movie in {} matches `{query}`", dataset.name),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(8)
                .map(|&i| {
                    let m = &dataset.movies[i as usize];
                    format!("{} {} ({})", m.id, m.title, m.year.map(|y| y.to_string()).unwrap_or_default())
                })
                .collect();
            bail!("`{query}` matches {} movies; give the id: {}", many.len(), names.join("; "))
        }
    }
}

pub fn rate(env: &Env, args: RateArgs) -> Result<()> {
    let mut rec = open_recommender(env, load_dataset(env, &args.dataset)?)?;
    let change = if args.undo {
        rec.undo()?
    } else {
        let movie = find_movie(&rec.dataset, args.movie.as_deref().unwrap_or_default())?;
        match (args.remove, args.rating) {
            (true, _) => rec.remove(movie)?,
            (false, Some(value)) => Some(rec.rate(movie, value)?),
            (false, None) => bail!("give a rating, or --remove"),
        }
    };
    let Some(change) = change else {
        println!("nothing to change");
        return Ok(());
    };
    let title = rec
        .dataset
        .movie_index(change.movie)
        .map(|i| display(&rec.dataset.movies[i as usize].title))
        .unwrap_or_default();
    if change.batch > 0 && args.undo {
        println!("saved: undid the import of {} ratings", change.batch);
        return Ok(());
    }
    let show = |v: Option<f32>| v.map(|v| v.to_string()).unwrap_or_else(|| "unrated".into());
    println!("saved: {title} {} → {}", show(change.before), show(change.after));
    Ok(())
}

pub fn list(env: &Env, args: ListArgs) -> Result<()> {
    let rec = open_recommender(env, load_dataset(env, &args.dataset)?)?;
    let mut rated: Vec<Rated> = rec
        .your_ratings()
        .iter()
        .map(|(&id, e)| {
            let m = rec.dataset.movie_index(id).map(|i| &rec.dataset.movies[i as usize]);
            Rated {
                movie_id: id,
                title: m.map(|m| m.title.clone()).unwrap_or_else(|| format!("movie {id} (not in this dataset)")),
                display_title: m.map(|m| display(&m.title)).unwrap_or_else(|| format!("movie {id}")),
                year: m.and_then(|m| m.year),
                rating: e.value,
                timestamp: e.timestamp,
            }
        })
        .collect();
    rated.sort_by_key(|r| std::cmp::Reverse(r.timestamp));
    if env.json {
        return print_json(&rated);
    }
    if rated.is_empty() {
        println!("you have not rated anything in {} yet: cinema rate --dataset PATH MOVIE RATING", rec.dataset.name);
    }
    for r in &rated {
        println!("{:>4}  {}{}", r.rating, r.display_title, r.year.map(|y| format!(" ({y})")).unwrap_or_default());
    }
    Ok(())
}
