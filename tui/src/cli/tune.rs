//! `cinema tune`: grid or random search over the rating model's described
//! parameters, scored by k-fold cross-validation on the training ratings,
//! folds and candidates spread over `--jobs` engine instances.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Result, bail};
use cinema_host::EngineClient;
use cinema_protocol::ModelSpec;
use serde::Serialize;

use super::model_args::ModelArgs;
use super::versions::VersionJson;
use super::{Env, load_dataset, print_json};
use crate::lab::train::Plan;
use crate::lab::tune::{self, Candidate, Search};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Every combination of these values, e.g. 'factors=50,100;epochs=20,30'.
    #[arg(long, conflicts_with = "random")]
    grid: Option<String>,
    /// This many candidates drawn around the starting point (integers ½–2×, reals ¼–4×).
    #[arg(long, value_name = "N")]
    random: Option<usize>,
    /// Seed of --random.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 3)]
    folds: usize,
    /// Engine instances training at once (default: one per core).
    #[arg(long, default_value_t = crate::lab::tune::default_jobs())]
    jobs: usize,
    /// Then train the best candidate into a new active version.
    #[arg(long)]
    train_best: bool,
    /// The starting point the search varies (and the algorithm).
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Serialize)]
struct Best {
    #[serde(flatten)]
    spec: ModelSpec,
    cv_rmse: f64,
}

#[derive(Serialize)]
struct Report {
    dataset: String,
    folds: usize,
    jobs: usize,
    seconds: f64,
    best: Best,
    /// In the order they were generated.
    candidates: Vec<Candidate>,
    /// The version `--train-best` made.
    version: Option<VersionJson>,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let path = super::dataset_path(env, args.dataset.as_deref())?;
    let dataset = load_dataset(env, Some(&path))?;
    let module = env.module()?;
    let mut client = EngineClient::start(&env.runtime, &module, env.limits)?;
    let base = args.model.spec(client.hello())?;
    let info = client.hello().algorithm(&base.algorithm).expect("spec() checked the algorithm").clone();
    let candidates = match (&args.grid, args.random) {
        (Some(grid), _) => tune::grid(&info, &base, grid)?,
        (None, Some(n)) if n > 0 => tune::random(&info, &base, n, args.seed)?,
        _ => bail!("say how to search: --grid 'factors=50,100;epochs=20,30' or --random N"),
    };
    let varied = tune::varied(candidates.iter());
    let total = candidates.len();
    let cancel = AtomicBool::new(false);
    let search = Search {
        runtime: &env.runtime,
        module: &module,
        limits: env.limits,
        folds: args.folds,
        jobs: args.jobs,
        cancel: &cancel,
    };
    eprintln!("{total} candidates × {} folds on {} with {} jobs", args.folds, dataset.name, args.jobs);
    let started = Instant::now();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let scored = search.run(&dataset, &candidates, |c| {
        let k = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!("[{k}/{total}] CV RMSE {:.4}  {}  ({:.1} s)", c.cv_rmse, describe(&c.params, &varied), c.seconds);
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let best = tune::best(&scored).expect("a finished search scores every candidate").clone();
    let version = if args.train_best {
        let plan = Plan {
            rating: best.params.clone(),
            ranking: args.model.ranking_spec(client.hello())?,
            evaluate: true,
            quick: false,
        };
        let meta = super::train::train_version(env, &mut client, &dataset, plan)?;
        Some(VersionJson::new(&meta, true, None))
    } else {
        None
    };
    let report = Report {
        dataset: dataset.name.clone(),
        folds: args.folds,
        jobs: args.jobs,
        seconds,
        best: Best { spec: best.params.clone(), cv_rmse: best.cv_rmse },
        candidates: scored,
        version,
    };
    if env.json {
        return print_json(&report);
    }
    let mut ranked: Vec<&Candidate> = report.candidates.iter().collect();
    ranked.sort_by(|a, b| a.cv_rmse.total_cmp(&b.cv_rmse));
    println!(
        "{total} candidates, {}-fold CV on {}'s training ratings, {seconds:.1} s with {} jobs",
        args.folds, report.dataset, args.jobs
    );
    for (rank, c) in ranked.iter().take(10).enumerate() {
        println!("{:>3}. CV RMSE {:.4}  {}", rank + 1, c.cv_rmse, describe(&c.params, &varied));
    }
    println!("best: {} (CV RMSE {:.4})", best.params, best.cv_rmse);
    if let Some(v) = &report.version {
        println!("trained into v{}, now active", v.id);
    } else {
        println!(
            "train it: cinema train --dataset {} --algo {} {}",
            path.display(),
            best.params.algorithm,
            as_flags(&best.params, &varied)
        );
    }
    Ok(())
}

fn describe(spec: &ModelSpec, names: &[String]) -> String {
    names.iter().filter_map(|n| spec.get(n).map(|v| format!("{n}={v}"))).collect::<Vec<_>>().join(" ")
}

fn as_flags(spec: &ModelSpec, names: &[String]) -> String {
    names.iter().filter_map(|n| spec.get(n).map(|v| format!("--param {n}={v}"))).collect::<Vec<_>>().join(" ")
}
