//! One training run that becomes a version: the rating model, then the
//! ranking model, each stepped so every step can be reported and the run
//! stopped (keep what was learned) or cancelled (keep nothing); then, when
//! ratings were held out, the full evaluation on them; then the model is
//! saved as the next version and made active.

use std::ops::ControlFlow;
use std::time::Instant;

use anyhow::{Context, Result};
use cinema_host::EngineClient;
use cinema_protocol::{ModelSpec, Progress, Role, Triple, Value, call};
use cinema_store::dataset::Dataset;
use cinema_store::models::ModelMeta;
use cinema_store::versions::Versions;

use crate::eval::score::{RANKED_USERS, held_out as held_out_scores, scale, triples};
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
    /// A first start's quick models (see [`first_plans`]), saved as such.
    pub quick: bool,
}

/// Above this many ratings a first start trains quick models first.
pub const QUICK_FIRST_ABOVE: usize = 2_000_000;

/// Ratings a quick model visits, about: what a full fit of the defaults
/// visits on a million-rating dataset (ML-1M), so that at any size the
/// first personal list comes in about the time ML-1M's models take.
const QUICK_VISITS_PER_PASS: f64 = 1_000_000.0;

/// Passes (epochs, iterations) a quick model makes at least.
const QUICK_MIN_PASSES: i64 = 2;

/// A first start's models: the module's defaults, scored on the held-out
/// tenth and refitted (`full`); on a dataset above [`QUICK_FIRST_ABOVE`]
/// ratings, first the same models with fewer passes, neither scored nor
/// refitted (`quick`), which serve until `full` is ready.
///
/// Why: at 25 million ratings the defaults take about 20 minutes (60 SVD
/// epochs and 15 iALS iterations, twice), and a list built from a few
/// passes is already far more yours than the popular one; each SGD epoch
/// there makes 25 times the updates of an ML-1M epoch.
pub fn first_plans(rating: ModelSpec, ranking: Option<ModelSpec>, ratings: usize) -> (Option<Plan>, Plan) {
    let full = Plan { rating, ranking, evaluate: true, quick: false };
    if ratings <= QUICK_FIRST_ABOVE {
        return (None, full);
    }
    let fewer = |spec: &ModelSpec| {
        let mut spec = spec.clone();
        for name in ["epochs", "iterations"] {
            if let Some(passes) = spec.integer(name) {
                let quick = (passes as f64 * QUICK_VISITS_PER_PASS / ratings as f64).ceil() as i64;
                spec.set(name, Value::Integer(quick.clamp(QUICK_MIN_PASSES.min(passes), passes)));
            }
        }
        spec
    };
    let quick =
        Plan { rating: fewer(&full.rating), ranking: full.ranking.as_ref().map(fewer), evaluate: false, quick: true };
    (Some(quick), full)
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
        /// The second fit, on every rating, after the held-out scoring.
        refit: bool,
        /// Engine instances training it: more than one when a team shares
        /// its rounds, one core each (`EngineClient::start_team`).
        cores: usize,
    },
    /// Scoring the trained models on the held-out ratings.
    Evaluating,
}

/// The protocol named beside a version's metrics.
pub fn protocol(users: usize) -> String {
    let holdout = format!("holdout {:.0} % (seed {HOLDOUT_SEED})", HOLDOUT_FRACTION * 100.0);
    match users > RANKED_USERS {
        true => format!("{holdout}, lists scored for a seeded sample of {RANKED_USERS} of its users"),
        false => holdout,
    }
}

/// Trains `plan` on `dataset` plus `you` (your ratings as `(movie, value)`,
/// trained as the user after the dataset's), reporting to `on` after every
/// step; saves the result as a new version of `versions` and makes it
/// active. `Ok(None)`: cancelled. The engine keeps the trained model.
///
/// With `plan.evaluate` the models are first trained without a held-out
/// tenth and scored on it, then fitted again with the same settings (and as
/// many epochs) on every rating, as a grid search refits its best: the
/// scores describe the settings, and the version that serves has learned
/// from everything.
pub fn run(
    client: &mut EngineClient,
    dataset: &Dataset,
    you: &[(u32, f32)],
    plan: Plan,
    versions: &Versions,
    mut on: impl FnMut(&Phase) -> ControlFlow<Halt>,
) -> Result<Option<Trained>> {
    let started = Instant::now();
    let every = || Split { name: "all".into(), train: dataset.ratings.clone(), test: Vec::new() };
    let split = if plan.evaluate { holdout(&dataset.ratings, HOLDOUT_SEED, HOLDOUT_FRACTION) } else { every() };
    let Some(mut fitted) = fit(client, dataset, you, &plan, &split, None, &mut on)? else {
        return Ok(None);
    };
    let (mut metrics, mut held_out, mut scored_on) = (None, Vec::new(), None);
    if plan.evaluate {
        if on(&Phase::Evaluating) == ControlFlow::Break(Halt::Cancel) {
            return Ok(None);
        }
        let scored = held_out_scores(client, dataset, &split)?;
        held_out = split.test.iter().zip(scored.predictions).map(|(r, p)| (r.value, p)).collect();
        (metrics, scored_on) = (Some(scored.metrics), Some(fitted.ratings));
        let scored_run = fitted;
        fitted = match fit(client, dataset, you, &plan, &every(), Some(&scored_run), &mut on)? {
            Some(refit) => Fitted { stopped: scored_run.stopped || refit.stopped, ..refit },
            None => return Ok(None),
        };
    }
    let mut meta = describe(client, dataset, plan, &fitted, started, metrics, scored_on);
    meta.parts = client.parts()?;
    let model = client.ask(call::ExportModel {})?;
    // A model that cannot be saved (a full or read-only disk) still serves
    // this session: the caller says once that it was not kept.
    let (meta, unsaved) = match versions.add_active(meta.clone(), &model) {
        Ok(meta) => (meta, None),
        Err(e) => (meta, Some(format!("{e:#}"))),
    };
    Ok(Some(Trained { meta, held_out, unsaved }))
}

/// Trains `rating` alone on the `ratings` already loaded in `client` (every
/// rating, yours included: no second load of millions) and keeps it in the
/// engine only, not as a version: what serves while a first start's real
/// models train behind the app (id 0).
pub fn stand_in(client: &mut EngineClient, dataset: &Dataset, ratings: usize, rating: ModelSpec) -> Result<ModelMeta> {
    let started = Instant::now();
    let mut progress = client.train_start(rating.clone())?;
    while !progress.finished {
        progress = client.train_step()?;
    }
    let fitted = Fitted { rating: progress, ranking_epochs: 0, ratings, stopped: false };
    let plan = Plan { rating, ranking: None, evaluate: false, quick: false };
    Ok(describe(client, dataset, plan, &fitted, started, None, None))
}

/// What a fit of `rating` on every rating of `dataset` will be, before it
/// is done (no error, no time, id 0): the metadata shown while it is
/// under way behind the first frame.
pub fn pending(client: &EngineClient, dataset: &Dataset, rating: ModelSpec) -> ModelMeta {
    let progress = Progress {
        epoch: 0,
        epochs: 0,
        visited: 0,
        per_epoch: 0,
        train_rmse: None,
        validation_rmse: None,
        finished: false,
    };
    let fitted = Fitted { rating: progress, ranking_epochs: 0, ratings: dataset.ratings.len(), stopped: false };
    let plan = Plan { rating, ranking: None, evaluate: false, quick: false };
    describe(client, dataset, plan, &fitted, Instant::now(), None, None)
}

/// What a fit is, as a version's metadata (id 0 until it is saved).
fn describe(
    client: &EngineClient,
    dataset: &Dataset,
    plan: Plan,
    fitted: &Fitted,
    started: Instant,
    metrics: Option<cinema_store::models::Metrics>,
    scored_on: Option<usize>,
) -> ModelMeta {
    ModelMeta {
        algorithm: plan.rating.algorithm.clone(),
        params: plan.rating,
        ranking: plan.ranking,
        dataset: dataset.name.clone(),
        engine: client.hello().engine.clone(),
        engine_sha256: client.module_sha256().to_owned(),
        train_ratings: fitted.ratings,
        train_rmse: fitted.rating.train_rmse,
        training_seconds: started.elapsed().as_secs_f64(),
        created: super::now(),
        id: 0,
        dataset_fingerprint: dataset.fingerprint(),
        metrics,
        protocol: plan.evaluate.then(|| protocol(dataset.user_ids.len())),
        scored_on,
        stopped: fitted.stopped,
        epochs: fitted.rating.epoch,
        quick: plan.quick,
        ranking_chosen: true,
        parts: Vec::new(),
    }
}

/// One fit of the plan's models, as far as it went.
#[derive(Debug, Clone)]
struct Fitted {
    /// The rating model's last progress.
    rating: Progress,
    /// The ranking model's epochs (iterations) done.
    ranking_epochs: u32,
    /// Ratings it learned from, yours included.
    ratings: usize,
    stopped: bool,
}

/// Loads `split` (yours added to its training ratings) and trains the
/// plan's rating model, then its ranking model, step by step. A refit
/// (`like` is the scored fit) runs each model for as many epochs as the
/// scored fit did, so a stopped run is refitted to where it stopped.
/// `Ok(None)`: cancelled.
fn fit(
    client: &mut EngineClient,
    dataset: &Dataset,
    you: &[(u32, f32)],
    plan: &Plan,
    split: &Split,
    like: Option<&Fitted>,
    on: &mut impl FnMut(&Phase) -> ControlFlow<Halt>,
) -> Result<Option<Fitted>> {
    let users = dataset.user_ids.len() as u32;
    let mut train = triples(&split.train);
    train.extend(you.iter().map(|&(item, value)| (users, item, value)));
    let validation: Vec<Triple> = triples(&split.test);
    client.load(users + 1, dataset.movies.len() as u32, scale(dataset), &train, &validation)?;

    let mut stopped = false;
    let (mut rating, mut ranking_epochs) = (None, 0);
    for (spec, role) in
        std::iter::once((&plan.rating, Role::Rating)).chain(plan.ranking.iter().map(|r| (r, Role::Ranking)))
    {
        let until = like.map(|l| if role == Role::Rating { l.rating.epoch } else { l.ranking_epochs });
        let mut progress = client.train_start(spec.clone())?;
        let mut halt = None;
        while !progress.finished && halt.is_none() {
            if until.is_some_and(|until| progress.epoch >= until && progress.visited == 0) {
                halt = Some(Halt::Stop);
                break;
            }
            progress = client.train_step()?;
            let cores = if client.in_team() { client.members() } else { 1 };
            let (algorithm, refit) = (spec.algorithm.clone(), like.is_some());
            let phase = Phase::Training { role, algorithm, progress, refit, cores };
            halt = on(&phase).break_value();
        }
        match halt {
            Some(Halt::Cancel) => return Ok(None),
            Some(Halt::Stop) => {
                // Reaching the scored fit's epochs is where a refit ends, not a stop.
                stopped |= until.is_none_or(|until| progress.epoch < until);
                progress = client.train_stop()?;
            }
            None => {}
        }
        match role {
            Role::Rating => rating = Some(progress),
            Role::Ranking => ranking_epochs = progress.epoch,
        }
    }
    let rating = rating.context("no rating model was trained")?;
    Ok(Some(Fitted { rating, ranking_epochs, ratings: train.len(), stopped }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(algorithm: &str, passes: &str, n: i64) -> ModelSpec {
        ModelSpec { algorithm: algorithm.into(), params: vec![("factors".into(), Value::Integer(100))] }
            .with(passes, Value::Integer(n))
    }

    #[test]
    fn a_large_first_start_trains_quick_models_before_the_full_ones() {
        let (svd, ials) = (spec("svd", "epochs", 60), spec("ials", "iterations", 15));
        // ML-1M and smaller: the full models at once, scored.
        let (quick, full) = first_plans(svd.clone(), Some(ials.clone()), 1_000_209);
        assert!(quick.is_none() && full.evaluate && !full.quick);
        // 25M: 3 epochs and 2 iterations (75M and 50M ratings visited), not scored; then the full ones.
        let (quick, full) = first_plans(svd.clone(), Some(ials.clone()), 25_000_095);
        let quick = quick.expect("quick models first");
        assert_eq!(
            (quick.rating.integer("epochs"), quick.ranking.as_ref().and_then(|r| r.integer("iterations"))),
            (Some(3), Some(2))
        );
        assert_eq!(quick.rating.integer("factors"), Some(100), "only the passes change");
        assert!(quick.quick && !quick.evaluate);
        assert_eq!((full.rating, full.ranking, full.evaluate, full.quick), (svd.clone(), Some(ials), true, false));
        // Just above the threshold: fewer passes, never more than the defaults.
        let (quick, _) = first_plans(svd, None, 2_500_000);
        assert_eq!(quick.expect("quick").rating.integer("epochs"), Some(24));
        let (quick, _) = first_plans(spec("svd", "epochs", 1), None, 25_000_000);
        assert_eq!(quick.expect("quick").rating.integer("epochs"), Some(1));
    }
}
