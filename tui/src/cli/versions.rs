//! `cinema versions`: the dataset's saved models — list, show, activate
//! (roll back), delete, compare — and the JSON form of a version that
//! `cinema train` prints too.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{Env, load_dataset, open_recommender, print_json};
use crate::lab::compare::{Comparison, compare};
use crate::lab::unusable;
use crate::recommender::why::parts_list;
use crate::ui::format::date_time;
use cinema_protocol::ModelSpec;
use cinema_store::dataset::Dataset;
use cinema_store::models::{Metrics, ModelMeta};
use cinema_store::versions::Versions;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Every version with its metrics; `*` marks the active one.
    List(Where),
    /// One version in full.
    Show(One),
    /// Serve this version from now on (roll back or forward).
    Activate(One),
    /// Delete a version (not the active one).
    Delete(One),
    /// Metric deltas, the parameters that differ, and how a top 10 changes from A to B.
    Compare(Two),
}

#[derive(Debug, clap::Args)]
pub struct Where {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct One {
    /// A version, e.g. v2 (or 2).
    id: String,
    #[command(flatten)]
    at: Where,
}

#[derive(Debug, clap::Args)]
pub struct Two {
    a: String,
    b: String,
    /// Whose top 10 to compare: a dataset user id (default: you).
    #[arg(long)]
    user: Option<u32>,
    #[command(flatten)]
    at: Where,
}

/// A version as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct VersionJson {
    pub id: u32,
    /// `algorithm` and `params`, e.g. `"params": {"factors": 200, …}`.
    #[serde(flatten)]
    pub model: ModelSpec,
    pub ranking: Option<ModelSpec>,
    pub metrics: Option<Metrics>,
    pub protocol: Option<String>,
    pub engine: String,
    pub engine_sha256: String,
    pub dataset: String,
    pub dataset_fingerprint: String,
    /// Seconds since the Unix epoch.
    pub created: i64,
    pub active: bool,
    pub stopped: bool,
    /// A first start's quick models on a large dataset (fewer passes).
    pub quick: bool,
    pub epochs: u32,
    pub training_seconds: f64,
    /// The ratings this model learned from.
    pub train_ratings: usize,
    /// With metrics from a fit that held ratings out: the ratings that fit
    /// learned from (this model is the refit, with the same settings, on all).
    pub scored_on: Option<usize>,
    /// Why it cannot be activated here, if it cannot.
    pub unusable: Option<String>,
    /// A blend's members with their fitted weights (empty for one model).
    pub parts: Vec<(String, f32)>,
}

impl VersionJson {
    pub fn new(meta: &ModelMeta, active: bool, unusable: Option<String>) -> VersionJson {
        VersionJson {
            id: meta.id,
            model: meta.params.clone(),
            ranking: meta.ranking.clone(),
            metrics: meta.metrics,
            protocol: meta.protocol.clone(),
            engine: meta.engine.clone(),
            engine_sha256: meta.engine_sha256.clone(),
            dataset: meta.dataset.clone(),
            dataset_fingerprint: meta.dataset_fingerprint.clone(),
            created: meta.created,
            active,
            stopped: meta.stopped,
            quick: meta.quick,
            epochs: meta.epochs,
            training_seconds: meta.training_seconds,
            train_ratings: meta.train_ratings,
            scored_on: meta.scored_on,
            unusable,
            parts: meta.parts.clone(),
        }
    }
}

/// `v3` or `3`.
pub fn parse_id(text: &str) -> Result<u32> {
    text.trim()
        .trim_start_matches(['v', 'V'])
        .parse()
        .ok()
        .filter(|&id| id > 0)
        .with_context(|| format!("`{text}` is not a version; versions are named v1, v2, …"))
}

pub fn run(env: &Env, command: Command) -> Result<()> {
    match command {
        Command::List(at) => list(env, &at),
        Command::Show(one) => show(env, &one),
        Command::Activate(one) => activate(env, &one),
        Command::Delete(one) => delete(env, &one),
        Command::Compare(two) => compare_two(env, two),
    }
}

/// The dataset, its versions, and what makes a version usable here.
struct Shelf {
    dataset: Dataset,
    versions: Versions,
    sha256: String,
    fingerprint: String,
}

impl Shelf {
    fn open(env: &Env, at: &Where) -> Result<Shelf> {
        let dataset = load_dataset(env, at.dataset.as_deref())?;
        let (versions, migrated) = Versions::open(&super::place(env, &dataset).models_dir(&env.home))?;
        if let Some(note) = migrated {
            eprintln!("note: {note}");
        }
        let fingerprint = dataset.fingerprint();
        Ok(Shelf { dataset, versions, sha256: env.module()?.sha256, fingerprint })
    }

    fn json(&self, meta: &ModelMeta, active: Option<u32>) -> VersionJson {
        VersionJson::new(meta, active == Some(meta.id), unusable(meta, &self.sha256, &self.fingerprint))
    }
}

fn list(env: &Env, at: &Where) -> Result<()> {
    let shelf = Shelf::open(env, at)?;
    let active = shelf.versions.active()?;
    let listed = shelf.versions.list()?;
    if env.json {
        let good: Vec<VersionJson> =
            listed.iter().filter_map(|l| l.meta.as_ref().ok()).map(|m| shelf.json(m, active)).collect();
        for l in &listed {
            if let Err(e) = &l.meta {
                eprintln!("warning: v{} cannot be read: {e}", l.id);
            }
        }
        return print_json(&good);
    }
    if listed.is_empty() {
        println!("no versions of {} yet: `cinema train --dataset …` makes one", shelf.dataset.name);
        return Ok(());
    }
    println!(
        "   {:<5} {:<9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>7}  {:<16} note",
        "id", "algorithm", "RMSE", "MAE", "P@10", "R@10", "NDCG", "cover", "epochs", "created"
    );
    for l in &listed {
        let meta = match &l.meta {
            Ok(meta) => meta,
            Err(e) => {
                println!("   v{:<4} damaged: {e}", l.id);
                continue;
            }
        };
        let mark = if active == Some(meta.id) { "*" } else { " " };
        let figures = match &meta.metrics {
            Some(m) => format!(
                "{:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>6.3}",
                m.rmse, m.mae, m.precision_at_10, m.recall_at_10, m.ndcg_at_10, m.coverage
            ),
            None => format!("{:>47}", "(trained on every rating: no held-out score)"),
        };
        let mut note = Vec::new();
        if meta.stopped {
            note.push("stopped".to_owned());
        }
        if !meta.parts.is_empty() {
            note.push(parts_list(&meta.parts));
        }
        if let Some(why) = unusable(meta, &shelf.sha256, &shelf.fingerprint) {
            note.push(format!("cannot serve here: {why}"));
        }
        println!(
            " {mark} v{:<4} {:<9} {figures} {:>7}  {:<16} {}",
            meta.id,
            meta.algorithm,
            meta.epochs,
            date_time(meta.created),
            note.join("; ")
        );
    }
    Ok(())
}

fn show(env: &Env, one: &One) -> Result<()> {
    let shelf = Shelf::open(env, &one.at)?;
    let (meta, _) = shelf.versions.load(parse_id(&one.id)?)?;
    let json = shelf.json(&meta, shelf.versions.active()?);
    if env.json {
        return print_json(&json);
    }
    println!(
        "v{}{}{}",
        meta.id,
        if json.active { " (active)" } else { "" },
        if meta.stopped { " stopped" } else { "" }
    );
    println!("  rating model   {}", meta.params);
    if let Some(r) = &meta.ranking {
        println!("  ranking model  {r}");
    }
    println!("  engine         {} ({})", meta.engine, meta.engine_sha256);
    println!("  dataset        {} ({})", meta.dataset, meta.dataset_fingerprint);
    println!(
        "  trained        {} on {} ratings, {} epochs, {:.1} s",
        date_time(meta.created),
        meta.train_ratings,
        meta.epochs,
        meta.training_seconds
    );
    match (&meta.metrics, &meta.protocol) {
        (Some(m), protocol) => {
            let protocol = protocol.as_deref().unwrap_or("held out");
            match meta.scored_on {
                Some(scored) => println!(
                    "  metrics ({protocol}) of the same settings trained on {scored} ratings; \
                     this model is their refit on all {}",
                    meta.train_ratings
                ),
                None => println!("  metrics ({protocol})"),
            }
            for (name, value, _) in m.every() {
                println!("    {name:<22} {value:.4}");
            }
        }
        (None, _) => println!("  metrics        none (trained on every rating)"),
    }
    if let Some(why) = json.unusable {
        println!("  cannot serve here: it was {why}");
    }
    Ok(())
}

fn activate(env: &Env, one: &One) -> Result<()> {
    let shelf = Shelf::open(env, &one.at)?;
    let id = parse_id(&one.id)?;
    let (meta, _) = shelf.versions.load(id)?;
    if let Some(why) = unusable(&meta, &shelf.sha256, &shelf.fingerprint) {
        bail!("v{id} cannot be activated: it was {why}");
    }
    shelf.versions.set_active(id)?;
    if env.json {
        return print_json(&shelf.json(&meta, Some(id)));
    }
    println!("v{id} is now active: recommendations for {} come from it", shelf.dataset.name);
    Ok(())
}

fn delete(env: &Env, one: &One) -> Result<()> {
    let shelf = Shelf::open(env, &one.at)?;
    let id = parse_id(&one.id)?;
    shelf.versions.delete(id)?;
    if env.json {
        return print_json(&serde_json::json!({ "deleted": id }));
    }
    println!("deleted v{id}");
    Ok(())
}

/// A comparison as `--json` prints it: the movies by their dataset ids.
#[derive(Serialize)]
struct ComparisonJson {
    #[serde(flatten)]
    comparison: Comparison,
    user: String,
    top10_a: Vec<u32>,
    top10_b: Vec<u32>,
}

fn compare_two(env: &Env, two: Two) -> Result<()> {
    let dataset = load_dataset(env, two.at.dataset.as_deref())?;
    let user = super::recommend::resolve_user(&dataset, two.user.is_none(), two.user)?;
    let (a, b) = (parse_id(&two.a)?, parse_id(&two.b)?);
    let rec = open_recommender(env, dataset)?;
    let user = user.unwrap_or(rec.you());
    let (meta_a, _) = rec.versions().load(a)?;
    let (meta_b, _) = rec.versions().load(b)?;
    let top_a: Vec<u32> = rec.top_under(a, user, 10).wait()?.iter().map(|s| s.item).collect();
    let top_b: Vec<u32> = rec.top_under(b, user, 10).wait()?.iter().map(|s| s.item).collect();
    let mut comparison = compare(&meta_a, &meta_b, &top_a, &top_b);
    let ids = |items: &[u32]| -> Vec<u32> { items.iter().map(|&i| rec.dataset.movies[i as usize].id).collect() };
    comparison.top10.entered = ids(&comparison.top10.entered);
    comparison.top10.left = ids(&comparison.top10.left);
    let who = match two.user {
        Some(id) => format!("user {id}"),
        None => "you".to_owned(),
    };
    if env.json {
        let json = ComparisonJson { comparison, user: who, top10_a: ids(&top_a), top10_b: ids(&top_b) };
        return print_json(&json);
    }
    println!("v{a} → v{b}");
    if comparison.deltas.is_empty() {
        println!("  metrics: one of them was trained on every rating, so there is nothing held out to compare");
    }
    for d in &comparison.deltas {
        let mark = if d.better {
            "better"
        } else if d.delta == 0.0 {
            "same"
        } else {
            "worse"
        };
        println!("  {:<22} {:>8.4} → {:>8.4}  {:>+8.4}  {mark}", d.metric, d.a, d.b, d.delta);
    }
    if comparison.params.is_empty() {
        println!("  parameters: the same");
    }
    for p in &comparison.params {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
        println!("  {:<22} {} → {}", p.name, show(&p.a), show(&p.b));
    }
    let title = |id: &u32| {
        rec.dataset
            .movie_index(*id)
            .map(|i| crate::ui::format::title_year(&rec.dataset.movies[i as usize]))
            .unwrap_or_default()
    };
    println!("  top 10 for {who}: {} in both", comparison.top10.overlap);
    for id in &comparison.top10.entered {
        println!("    + {}", title(id));
    }
    for id in &comparison.top10.left {
        println!("    - {}", title(id));
    }
    Ok(())
}
