//! `cinema similar`: the movies most like one movie, by content (genres,
//! title words, tags) or by CF (who watched what together).

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use super::rate::find_movie;
use super::{Env, load_dataset, open_recommender, print_json};
use crate::recommender::SimilarBy;
use cinema_store::history::titles::display;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// The movie: its id, or words of its title.
    movie: String,
    /// What "like" means.
    #[arg(long, value_enum, default_value_t = By::Content)]
    by: By,
    /// How many movies.
    #[arg(short, default_value_t = 10)]
    n: u32,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    /// Genres, title words and tags (TF-IDF, cosine).
    Content,
    /// The collaborative model's movie vectors (cosine).
    Cf,
}

#[derive(Serialize)]
struct Similar {
    movie_id: u32,
    title: String,
    display_title: String,
    year: Option<u16>,
    genres: Vec<String>,
    similarity: f32,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let dataset = load_dataset(env, args.dataset.as_deref())?;
    let movie = find_movie(&dataset, &args.movie)?;
    let rec = open_recommender(env, dataset)?;
    let by = match args.by {
        By::Content => SimilarBy::Content,
        By::Cf => SimilarBy::Cf,
    };
    let ds = &rec.dataset;
    let list: Vec<Similar> = rec
        .similar(movie, by, args.n)
        .wait()?
        .into_iter()
        .map(|(i, similarity)| {
            let m = &ds.movies[i as usize];
            Similar {
                movie_id: m.id,
                title: m.title.clone(),
                display_title: display(&m.title),
                year: m.year,
                genres: ds.genre_names(m).into_iter().map(String::from).collect(),
                similarity,
            }
        })
        .collect();
    if env.json {
        return print_json(&list);
    }
    let m = &ds.movies[movie as usize];
    println!("like {} (movie {}), by {:?}:", display(&m.title), m.id, args.by);
    for (rank, s) in list.iter().enumerate() {
        let year = s.year.map(|y| format!(" ({y})")).unwrap_or_default();
        println!("{:>3}. {:.3}  {}{}  [{}]", rank + 1, s.similarity, s.display_title, year, s.genres.join(", "));
    }
    Ok(())
}
