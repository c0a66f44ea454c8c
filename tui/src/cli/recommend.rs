//! `cinema recommend`: top-N movies for a dataset user.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use super::model_args::ModelArgs;
use super::{Env, load_dataset, print_json};
use crate::eval::score::{scale, triples};
use crate::host::EngineClient;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip.
    #[arg(long)]
    dataset: PathBuf,
    /// The dataset's own user id.
    #[arg(long)]
    user: u32,
    /// How many movies.
    #[arg(short, default_value_t = 10)]
    n: u32,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Serialize)]
struct Recommendation {
    rank: usize,
    movie_id: u32,
    title: String,
    year: Option<u16>,
    genres: Vec<String>,
    predicted: f32,
    score: f32,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let dataset = load_dataset(env, &args.dataset)?;
    let user = dataset.user_index(args.user).with_context(|| {
        format!(
            "user {} is not in {} (user ids run from {} to {})",
            args.user,
            dataset.name,
            dataset.user_ids.first().unwrap_or(&0),
            dataset.user_ids.last().unwrap_or(&0)
        )
    })?;
    let mut client = EngineClient::start(&env.runtime, &env.module()?, env.limits)?;
    let spec = args.model.spec(client.hello())?;
    client.load(
        dataset.user_ids.len() as u32,
        dataset.movies.len() as u32,
        scale(&dataset),
        &triples(&dataset.ratings),
        &[],
    )?;
    client.train(spec, |_| std::ops::ControlFlow::Continue(()))?;
    let list: Vec<Recommendation> = client
        .recommend(user, args.n)?
        .into_iter()
        .enumerate()
        .map(|(rank, s)| {
            let m = &dataset.movies[s.item as usize];
            Recommendation {
                rank: rank + 1,
                movie_id: m.id,
                title: m.title.clone(),
                year: m.year,
                genres: dataset.genre_names(m).into_iter().map(String::from).collect(),
                predicted: s.prediction,
                score: s.score,
            }
        })
        .collect();
    if env.json {
        return print_json(&list);
    }
    for r in &list {
        let year = r.year.map(|y| format!(" ({y})")).unwrap_or_default();
        println!("{:>3}. {:.2}  {}{}  [{}]", r.rank, r.predicted, r.title, year, r.genres.join(", "));
    }
    Ok(())
}
