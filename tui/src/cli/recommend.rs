//! `cinema recommend`: top-N movies for you (`--me`) or for a dataset user,
//! from the dataset's saved model (trained once on first use).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{Env, load_dataset, open_recommender, print_json};
use crate::recommender::Recommender;
use cinema_store::dataset::Dataset;

/// Whose list: a dataset user or you (`recommend`, `explain`).
#[derive(Debug, clap::Args)]
pub struct ViewerArgs {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// The dataset's own user id.
    #[arg(long, conflicts_with = "me")]
    pub user: Option<u32>,
    /// You, from your own ratings (`cinema rate`).
    #[arg(long)]
    pub me: bool,
}

impl ViewerArgs {
    /// The dense index of the user (`None`: you). Checked before the
    /// recommender opens, which may train; `doing` names the command's work.
    pub fn resolve(&self, dataset: &Dataset, doing: &str) -> Result<Option<u32>> {
        if !self.me && self.user.is_none() {
            bail!("say whom to {doing} for: --me, or --user ID");
        }
        resolve_user(dataset, self.me, self.user)
    }
}

/// A hybrid weight given on the command line, checked.
pub fn check_weight(weight: Option<f32>) -> Result<()> {
    match weight {
        Some(w) if !(0.0..=1.0).contains(&w) => bail!("--hybrid {w} is outside 0 to 1 (the weight on CF)"),
        _ => Ok(()),
    }
}

/// A diversity given on the command line, checked.
pub fn check_diversity(diversity: Option<f32>) -> Result<()> {
    match diversity {
        Some(d) if !(0.0..=1.0).contains(&d) => {
            bail!("--diversity {d} is outside 0 to 1 (0: the plain list; 1: the most spread)")
        }
        _ => Ok(()),
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    viewer: ViewerArgs,
    /// How many movies.
    #[arg(short, default_value_t = 10)]
    n: u32,
    /// The weight on CF of the hybrid list, W · CF part + (1 − W) · content
    /// part, both scaled to 0–1 over the candidates; prints both parts.
    /// 1 is CF's list alone. Default: the weight last set in the app
    /// (`[` and `]`), else 0.8 — the app's For you and this are one list.
    #[arg(long, value_name = "W")]
    hybrid: Option<f32>,
    /// How far the list spreads over the catalogue, 0 to 1: each movie pays
    /// for how often other people's lists already show it. Default: the
    /// diversity last set in the app (`{` and `}`), else 0.
    #[arg(long, value_name = "X")]
    diversity: Option<f32>,
}

#[derive(Serialize)]
pub struct Recommendation {
    pub rank: usize,
    pub movie_id: u32,
    /// MovieLens's form, e.g. `Godfather, The`.
    pub title: String,
    /// As people write it, e.g. `The Godfather`.
    pub display_title: String,
    pub year: Option<u16>,
    pub genres: Vec<String>,
    pub predicted: f32,
    pub score: f32,
    /// The collaborative part, in 0–1 (absent for CF's list alone, weight 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cf: Option<f32>,
    /// The content part, in 0–1 (absent for CF's list alone, weight 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<f32>,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    check_weight(args.hybrid)?;
    check_diversity(args.diversity)?;
    let dataset = load_dataset(env, args.viewer.dataset.as_deref())?;
    let user = args.viewer.resolve(&dataset, "recommend")?;
    let mut rec = open_recommender(env, dataset)?;
    let user = user.unwrap_or(rec.you());
    if rec.is_cold(user) {
        let what = if rec.meta.ranking.is_some() { "the most watched" } else { "popular, well-rated" };
        eprintln!(
            "you have rated nothing in {} yet: these are {what} movies \
             (rate some with `cinema rate` for your own list)",
            rec.dataset.name
        );
    }
    let weight = args.hybrid.unwrap_or_else(|| rec.prefs.weight());
    let diversity = args.diversity.unwrap_or_else(|| rec.prefs.diversity());
    let list = recommendations(&mut rec, user, args.n, weight, diversity)?;
    if env.json {
        return print_json(&list);
    }
    for r in &list {
        let year = r.year.map(|y| format!(" ({y})")).unwrap_or_default();
        let parts = match (r.cf, r.content) {
            (Some(cf), Some(content)) => format!("  cf {cf:.2} content {content:.2}"),
            _ => String::new(),
        };
        println!("{:>3}. {:.2}{parts}  {}{}  [{}]", r.rank, r.predicted, r.display_title, year, r.genres.join(", "));
    }
    Ok(())
}

/// The dense index of the dataset user `id`, or `None` for you (`me`).
pub fn resolve_user(dataset: &Dataset, me: bool, id: Option<u32>) -> Result<Option<u32>> {
    match (me, id) {
        (false, Some(id)) => dataset.user_index(id).map(Some).with_context(|| {
            let ids = &dataset.user_ids;
            format!(
                "user {id} is not in {} (user ids run from {} to {}); use --me for yourself",
                dataset.name,
                ids.first().unwrap_or(&0),
                ids.last().unwrap_or(&0)
            )
        }),
        _ => Ok(None),
    }
}

fn recommendations(
    rec: &mut Recommender,
    user: u32,
    n: u32,
    weight: f32,
    diversity: f32,
) -> Result<Vec<Recommendation>> {
    let view = rec.view(user, n, false, Some(weight), diversity).wait()?;
    let parts =
        view.parts.iter().map(|&(cf, content)| (Some(cf), Some(content))).chain(std::iter::repeat((None, None)));
    Ok(view
        .recs
        .into_iter()
        .zip(parts)
        .enumerate()
        .map(|(rank, (s, (cf, content)))| {
            let m = &rec.dataset.movies[s.item as usize];
            Recommendation {
                rank: rank + 1,
                movie_id: m.id,
                title: m.title.clone(),
                display_title: cinema_store::history::titles::display(&m.title),
                year: m.year,
                genres: rec.dataset.genre_names(m).into_iter().map(String::from).collect(),
                predicted: s.prediction,
                score: s.score,
                cf,
                content,
            }
        })
        .collect())
}
