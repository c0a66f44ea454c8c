//! One training run that becomes a version: the rating model, then the
//! ranking model, each stepped so every step can be reported and the run
//! stopped (keep what was learned) or cancelled (keep nothing); then, when
//! ratings were held out, the full evaluation on them; then the model is
//! saved as the next version and made active.

use std::ops::ControlFlow;
use std::time::Instant;

use anyhow::{Context, Result};
use cinema_host::EngineClient;
use cinema_protocol::{ModelSpec, Progress, Role, Triple};
use cinema_store::dataset::Dataset;
use cinema_store::models::{Metrics, ModelMeta};
use cinema_store::versions::Versions;

use crate::eval::score::{held_out, scale, triples};
use crate::eval::splits::{Split, holdout};

/// The ratings a lab training holds out to score the result: a seeded 10 %,
/// the same every time, so versions are compared on the same ratings.
pub const HOLDOUT_SEED: u64 = 42;
pub const HOLDOUT_FRACTION: f64 = 0.1;

/// What to train.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rating: ModelSpec,
    pub ranking: Option<ModelSpec>,
    /// Hold out [`HOLDOUT_FRACTION`] of the dataset's ratings and score the
    /// models on them; without it every rating trains (a first start).
    pub evaluate: bool,
}

/// A finished (or stopped) run, saved as a version.
pub struct Trained {
    pub meta: ModelMeta,
    /// `(true rating, prediction)` for every held-out rating (empty without
    /// `Plan::evaluate`): what the prediction-quality view draws.
    pub held_out: Vec<(f32, f32)>,
    /// Why the run could not be saved as a version (its `meta.id` is then 0).
    pub unsaved: Option<String>,
}

/// How a run is ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Keep the epochs done so far as a version, marked stopped.
    Stop,
    /// Keep nothing.
    Cancel,
}

/// Where a run is, reported after every step.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Training {
        role: Role,
        algorithm: String,
        progress: Progress,
    },
    /// Scoring the trained models on the held-out ratings.
    Evaluating,
}

/// The protocol named beside a version's metrics.
pub fn protocol() -> String {
    format!("holdout {:.0} % (seed {HOLDOUT_SEED})", HOLDOUT_FRACTION * 100.0)
}

/// Trains `plan` on `dataset` plus `you` (your ratings as `(movie, value)`,
/// trained as the user after the dataset's), reporting to `on` after every
/// step; saves the result as a new version of `versions` and makes it
/// active. `Ok(None)`: cancelled. The engine keeps the trained model (for
/// the training ratings, which are all of them without `plan.evaluate`).
pub fn run(
    client: &mut EngineClient,
    dataset: &Dataset,
    you: &[(u32, f32)],
    plan: Plan,
    versions: &Versions,
    mut on: impl FnMut(&Phase) -> ControlFlow<Halt>,
) -> Result<Option<Trained>> {
    let started = Instant::now();
    let users = dataset.user_ids.len() as u32;
    let split = if plan.evaluate {
        holdout(&dataset.ratings, HOLDOUT_SEED, HOLDOUT_FRACTION)
    } else {
        Split { name: "all".into(), train: dataset.ratings.clone(), test: Vec::new() }
    };
    let mut train = triples(&split.train);
    train.extend(you.iter().map(|&(item, value)| (users, item, value)));
    let validation: Vec<Triple> = triples(&split.test);
    client.load(users + 1, dataset.movies.len() as u32, scale(dataset), &train, &validation)?;

    let mut stopped = false;
    let mut rating_progress = None;
    for (spec, role) in
        std::iter::once((&plan.rating, Role::Rating)).chain(plan.ranking.iter().map(|r| (r, Role::Ranking)))
    {
        let mut progress = client.train_start(spec.clone())?;
        let mut halt = None;
        while !progress.finished && halt.is_none() {
            progress = client.train_step()?;
            let phase = Phase::Training { role, algorithm: spec.algorithm.clone(), progress };
            halt = on(&phase).break_value();
        }
        match halt {
            Some(Halt::Cancel) => return Ok(None),
            Some(Halt::Stop) => {
                stopped = true;
                progress = client.train_stop()?;
            }
            None => {}
        }
        if role == Role::Rating {
            rating_progress = Some(progress);
        }
    }
    let rating_progress = rating_progress.context("no rating model was trained")?;
    let (metrics, held_out): (Option<Metrics>, Vec<(f32, f32)>) = if plan.evaluate {
        if on(&Phase::Evaluating) == ControlFlow::Break(Halt::Cancel) {
            return Ok(None);
        }
        let scored = held_out(client, &split, dataset.movies.len())?;
        let pairs = split.test.iter().zip(scored.predictions).map(|(r, p)| (r.value, p)).collect();
        (Some(scored.metrics), pairs)
    } else {
        (None, Vec::new())
    };
    let meta = ModelMeta {
        algorithm: plan.rating.algorithm.clone(),
        params: plan.rating,
        ranking: plan.ranking,
        dataset: dataset.name.clone(),
        engine: client.hello().engine.clone(),
        engine_sha256: client.module_sha256().to_owned(),
        train_ratings: train.len(),
        train_rmse: rating_progress.train_rmse,
        training_seconds: started.elapsed().as_secs_f64(),
        created: super::now(),
        id: 0,
        dataset_fingerprint: dataset.fingerprint(),
        metrics,
        protocol: plan.evaluate.then(protocol),
        stopped,
        epochs: rating_progress.epoch,
    };
    let model = client.export_model()?;
    // A model that cannot be saved (a full or read-only disk) still serves
    // this session: the caller says once that it was not kept.
    let (meta, unsaved) = match versions.add_active(meta.clone(), &model) {
        Ok(meta) => (meta, None),
        Err(e) => (meta, Some(format!("{e:#}"))),
    };
    Ok(Some(Trained { meta, held_out, unsaved }))
}
