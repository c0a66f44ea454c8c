//! `cinema bench`: speed figures and ratios, never pass/fail. Training runs
//! the same kernel twice — inside the WASM module through the host, and
//! natively — on the same data with the same parameters. Start-up is timed
//! on this very executable, started the way a person starts it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cinema_engine::{Algorithm, EngineInfo, Session};
use cinema_protocol::{Features, ModelSpec, Request, Triple, Value, call};
use serde::Serialize;

use super::{Env, load_dataset, print_json};
use crate::eval::score::{held_out, scale, triples};
use crate::eval::splits::holdout;
use crate::eval::{Protocol, make_splits};
use crate::lab::train::{HOLDOUT_FRACTION, HOLDOUT_SEED};
use crate::recommender::features::features;
use crate::recommender::{CONTENT_NEIGHBOURS, DEFAULT_WEIGHT};
use cinema_host::{EngineClient, Runtime};
use cinema_store::dataset::Dataset;
use cinema_store::synthetic;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Train on DIR/train.tsv instead of every rating.
    #[arg(long, value_name = "DIR")]
    split_dir: Option<PathBuf>,
    /// Also measure synthetic datasets of these sizes (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "N")]
    synthetic_ratings: Vec<usize>,
    /// Movies in each synthetic dataset.
    #[arg(long, default_value_t = 20_000, value_name = "M")]
    synthetic_movies: usize,
    /// Factors of the benchmarked SVD.
    #[arg(long, default_value_t = 100)]
    factors: u32,
    /// Epochs of the benchmarked SVD.
    #[arg(long, default_value_t = 20)]
    epochs: u32,
    /// Timed fits of each kind (wasm, native, alternating); the figures are
    /// their medians. A shared machine's noise moves a single fit by ±30 %.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    fit_runs: u32,
    /// Iterations of the one timed fit of the module's ranking model
    /// (default: the module's own); its figure per iteration is what scales.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    ranking_iterations: Option<u32>,
    /// Engine instances that train the ranking model together, as the
    /// app's Lab does (default: the Lab's team for this machine's cores and
    /// memory; 1 alone).
    #[arg(long, value_name = "N")]
    members: Option<usize>,
    /// Timed start-ups of the app on --dataset (after one that warms the caches).
    #[arg(long, default_value_t = 5, value_name = "N")]
    startup_runs: usize,
    /// Also time a tuning search of this grid on --dataset (e.g. the
    /// reference 'factors=50,100,150;epochs=20,30;lr=0.002,0.005,0.01;reg=0.02,0.05,0.1')
    /// with one job and with --tune-jobs, and print the speed-up.
    #[arg(long, value_name = "GRID", requires = "dataset")]
    tune_grid: Option<String>,
    /// Jobs of the parallel tuning run.
    #[arg(long, default_value_t = 2, value_name = "J")]
    tune_jobs: usize,
    /// Cross-validation folds of the timed tuning runs.
    #[arg(long, default_value_t = 3, value_name = "K")]
    tune_folds: usize,
    /// Also time importing a Letterboxd export of this many of --dataset's
    /// movies (read, match, preview), e.g. 2000.
    #[arg(long, value_name = "N", requires = "dataset")]
    history_rows: Option<usize>,
    /// Also fit every rating model the module offers, with its defaults,
    /// once on each measured dataset, and time a rating → fold-in → top 10
    /// with each (no ranking model: the list is the model's own).
    #[arg(long)]
    every_model: bool,
}

/// One rating model of the module on one dataset (`--every-model`).
#[derive(Serialize)]
struct ModelFigures {
    dataset: String,
    algorithm: String,
    fit_seconds_wasm: f64,
    fold_in_ms_p50: f64,
    fold_in_ms_p99: f64,
    rate_to_recommendations_ms_p50: f64,
    rate_to_recommendations_ms_p99: f64,
}

/// One search timed with one job and with several.
#[derive(Serialize)]
struct TuneFigures {
    grid: String,
    candidates: usize,
    folds: usize,
    jobs: usize,
    seconds_one_job: f64,
    seconds_jobs: f64,
    speedup: f64,
    best_cv_rmse: f64,
}

#[derive(Serialize)]
struct Figures {
    dataset: String,
    ratings: usize,
    users: usize,
    movies: usize,
    factors: u32,
    epochs: u32,
    /// Medians of the runs below.
    fit_seconds_wasm: f64,
    fit_seconds_native: f64,
    fit_seconds_wasm_runs: Vec<f64>,
    fit_seconds_native_runs: Vec<f64>,
    fit_seconds_per_epoch_wasm: f64,
    fit_seconds_per_epoch_native: f64,
    wasm_native_ratio: f64,
    /// One fit of the ranking model inside wasm (after the SVD fits), with
    /// the module's default parameters; `None` if the module has none.
    ranking: Option<ModelSpec>,
    /// Instances that trained it together (`--members`).
    ranking_members: usize,
    ranking_fit_seconds_wasm: Option<f64>,
    ranking_fit_seconds_per_iteration_wasm: Option<f64>,
    /// The Lab's step after a fit, with the models just trained: the
    /// dataset's held-out tenth (its seed) predicted and scored, and
    /// top-10 lists for its test users (a seeded sample of
    /// `eval::score::RANKED_USERS` above that many). The models saw those
    /// ratings here; the work is the same.
    heldout_scoring_seconds: f64,
    /// Top-10 by the ranking model when there is one, else by the SVD.
    recommend_top10_ms_p50: f64,
    recommend_top10_ms_p99: f64,
    /// A new rating → fold-in → new top-10, with the app's default model
    /// shapes (rating and ranking model).
    rate_to_recommendations_ms_p50: f64,
    rate_to_recommendations_ms_p99: f64,
    /// What a press of `[` or `]` costs the app: the viewer's predictions
    /// and the hybrid top 50 under the new weight, with content built.
    weight_change_ms_p50: f64,
    weight_change_ms_p99: f64,
    /// Measuring how often lists show each movie (once per model, before
    /// the first list with diversity), then what a press of `{` or `}`
    /// costs: the predictions and the top 50 at the new diversity.
    diversity_prepare_ms: f64,
    diversity_change_ms_p50: f64,
    diversity_change_ms_p99: f64,
    /// Building the content model (sending every movie's terms, TF-IDF
    /// vectors and the search's indices) in a fresh module, and how large
    /// its memory grew.
    content_build_ms: Option<f64>,
    content_module_mib: Option<f64>,
    /// One movie's 50 most similar by content, found when asked (the
    /// detail view asks), over 100 movies spread over the catalogue.
    content_similar_ms_p50: Option<f64>,
    content_similar_ms_p99: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    engine: String,
    module_load_ms_cold: f64,
    module_load_ms_cached: f64,
    /// Process start to the first full frame of the app on --dataset, caches
    /// warm (median of the timed runs); `None` without --dataset.
    startup_ms: Option<f64>,
    startup_ms_runs: Vec<f64>,
    #[serde(flatten)]
    main: Option<Figures>,
    synthetic: Vec<Figures>,
    tune: Option<TuneFigures>,
    /// Reading, matching and previewing a Letterboxd export of `history_rows` movies.
    history_import_ms: Option<f64>,
    history_rows: Option<usize>,
    /// Every rating model on every measured dataset (`--every-model`).
    models: Vec<ModelFigures>,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let (cold, cached) = module_load_ms(env)?;
    let mut spec_params = cinema_engine::defaults::svd_reference();
    spec_params.factors = args.factors;
    spec_params.epochs = args.epochs;
    let spec = Algorithm::Svd(spec_params);
    let startup_ms_runs = match &args.dataset {
        Some(path) => startup_ms(env, path, args.startup_runs)?,
        None => Vec::new(),
    };
    let mut models = Vec::new();
    let main = match &args.dataset {
        Some(path) => {
            let dataset = load_dataset(env, Some(path))?;
            let train = match &args.split_dir {
                Some(dir) => make_splits(&dataset, &Protocol::SplitDir { dir: dir.clone() })?.remove(0).train,
                None => dataset.ratings.clone(),
            };
            if args.every_model {
                models.extend(every_model(env, &dataset, &triples(&train))?);
            }
            Some(measure(env, &dataset, triples(&train), &spec, &args)?)
        }
        None => None,
    };
    let mut synthetic = Vec::new();
    for &n in &args.synthetic_ratings {
        let dataset = synthetic::generate(n, args.synthetic_movies, 42);
        if args.every_model {
            models.extend(every_model(env, &dataset, &triples(&dataset.ratings))?);
        }
        synthetic.push(measure(env, &dataset, triples(&dataset.ratings), &spec, &args)?);
    }
    let tune = match (&args.tune_grid, &args.dataset) {
        (Some(grid), Some(path)) => Some(tune_figures(env, &load_dataset(env, Some(path))?, grid, &args)?),
        _ => None,
    };
    let history_import_ms = match (args.history_rows, &args.dataset) {
        (Some(rows), Some(path)) => Some(history_import_ms(&load_dataset(env, Some(path))?, rows)?),
        _ => None,
    };
    let report = Report {
        engine: env.module()?.location(),
        module_load_ms_cold: cold,
        module_load_ms_cached: cached,
        startup_ms: median(&startup_ms_runs),
        startup_ms_runs,
        main,
        synthetic,
        tune,
        history_import_ms,
        history_rows: args.history_rows,
        models,
    };
    if env.json {
        return print_json(&report);
    }
    println!("engine {}: module load {:.1} ms cold, {:.1} ms cached", report.engine, cold, cached);
    if let Some(ms) = report.startup_ms {
        let runs = report.startup_ms_runs.len();
        println!("start-up to the first full frame: {ms:.0} ms (median of {runs}, caches warm)");
    }
    for f in report.main.iter().chain(&report.synthetic) {
        println!(
            "{}: {} ratings, {}×{}, k={} × {} epochs: wasm {:.4} s/epoch, native {:.4} s/epoch (ratio {:.2}); top-10 p50 {:.3} ms, p99 {:.3} ms; rate→top-10 p50 {:.3} ms, p99 {:.3} ms",
            f.dataset,
            f.ratings,
            f.users,
            f.movies,
            f.factors,
            f.epochs,
            f.fit_seconds_per_epoch_wasm,
            f.fit_seconds_per_epoch_native,
            f.wasm_native_ratio,
            f.recommend_top10_ms_p50,
            f.recommend_top10_ms_p99,
            f.rate_to_recommendations_ms_p50,
            f.rate_to_recommendations_ms_p99
        );
        println!(
            "  a move of the hybrid weight ([ or ]): p50 {:.2} ms, p99 {:.2} ms",
            f.weight_change_ms_p50, f.weight_change_ms_p99
        );
        println!(
            "  diversity: measured in {:.0} ms once per model; a move ({{ or }}): p50 {:.2} ms, p99 {:.2} ms",
            f.diversity_prepare_ms, f.diversity_change_ms_p50, f.diversity_change_ms_p99
        );
        if let (Some(ms), Some(mib), Some(p50), Some(p99)) =
            (f.content_build_ms, f.content_module_mib, f.content_similar_ms_p50, f.content_similar_ms_p99)
        {
            println!(
                "  content model: built in {ms:.0} ms, module memory {mib:.0} MiB; one movie's 50 most similar: p50 {p50:.2} ms, p99 {p99:.2} ms"
            );
        }
        if let (Some(ranking), Some(seconds)) = (&f.ranking, f.ranking_fit_seconds_wasm) {
            println!(
                "  ranking model {} ({} iterations, {} instances): wasm fit {seconds:.3} s, {:.4} s/iteration",
                ranking.name(),
                ranking.integer("iterations").unwrap_or(0),
                f.ranking_members,
                f.ranking_fit_seconds_per_iteration_wasm.unwrap_or(f64::NAN)
            );
        }
        println!("  held-out tenth scored (predictions and top-10 lists): {:.2} s", f.heldout_scoring_seconds);
    }
    for m in &report.models {
        println!(
            "{} {}: fit {:.2} s in wasm; fold-in p50 {:.3} ms, p99 {:.3} ms; rate→top-10 p50 {:.3} ms, p99 {:.3} ms",
            m.dataset,
            m.algorithm,
            m.fit_seconds_wasm,
            m.fold_in_ms_p50,
            m.fold_in_ms_p99,
            m.rate_to_recommendations_ms_p50,
            m.rate_to_recommendations_ms_p99
        );
    }
    if let (Some(ms), Some(rows)) = (report.history_import_ms, report.history_rows) {
        println!("import of a {rows}-row Letterboxd export (read, match, preview): {ms:.1} ms");
    }
    if let Some(t) = &report.tune {
        println!(
            "tuning {} candidates × {} folds ({}): {:.2} s with 1 job, {:.2} s with {} jobs, speed-up {:.2}× (best CV RMSE {:.4})",
            t.candidates, t.folds, t.grid, t.seconds_one_job, t.seconds_jobs, t.jobs, t.speedup, t.best_cv_rmse
        );
    }
    Ok(())
}

/// Milliseconds to read a Letterboxd `ratings.csv` of `rows` of the
/// dataset's movies (cycling through them), match it and preview it.
fn history_import_ms(dataset: &Dataset, rows: usize) -> Result<f64> {
    use cinema_store::history::{self, export, titles::display};
    let mut csv = String::from("Date,Name,Year,Letterboxd URI,Rating\n");
    for m in dataset.movies.iter().cycle().take(rows) {
        let year = m.year.map(|y| y.to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "2024-01-01,\"{}\",{year},https://boxd.it/x,4\n",
            display(&m.title).replace('"', "\"\"")
        ));
    }
    let started = Instant::now();
    let export = export::parse(csv.as_bytes())?;
    let preview = history::preview(&export, dataset, &Default::default());
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if preview.rows != rows {
        bail!("the export read {} rows of {rows}", preview.rows);
    }
    Ok(ms)
}

/// The same search with one job, then with `--tune-jobs`.
fn tune_figures(env: &Env, dataset: &Dataset, grid: &str, args: &Args) -> Result<TuneFigures> {
    use crate::lab::tune::{self, Search};
    let module = env.module()?;
    let probe = EngineClient::start(&env.runtime, &module, env.limits)?;
    let info = probe.hello().default_rating().and_then(|s| probe.hello().algorithm(&s.algorithm).cloned());
    let info = info.context("the engine offers no rating model")?;
    let candidates = tune::grid(&info, &info.defaults(), grid)?;
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let time = |jobs| -> Result<(f64, f64)> {
        let search = Search {
            runtime: &env.runtime,
            module: &module,
            limits: env.limits,
            folds: args.tune_folds,
            jobs,
            cancel: &cancel,
        };
        let started = Instant::now();
        let scored = search.run(dataset, &candidates, |_| {})?;
        let best = tune::best(&scored).map_or(f64::NAN, |c| c.cv_rmse);
        Ok((started.elapsed().as_secs_f64(), best))
    };
    let (one, best) = time(1)?;
    let (many, _) = time(args.tune_jobs)?;
    Ok(TuneFigures {
        grid: grid.to_owned(),
        candidates: candidates.len(),
        folds: args.tune_folds,
        jobs: args.tune_jobs,
        seconds_one_job: one,
        seconds_jobs: many,
        speedup: one / many,
        best_cv_rmse: best,
    })
}

fn measure(env: &Env, dataset: &Dataset, train: Vec<Triple>, spec: &Algorithm, args: &Args) -> Result<Figures> {
    let fit_runs = args.fit_runs;
    let (users, items) = (dataset.user_ids.len() as u32, dataset.movies.len() as u32);
    let members =
        args.members.unwrap_or_else(|| crate::lab::tune::team_size(crate::lab::tune::default_jobs(), train.len()));
    let mut client = EngineClient::start_team(&env.runtime, &env.module()?, env.limits, members)?;
    client.load(users, items, scale(dataset), &train, &[])?;
    let (mut wasm_runs, mut native_runs) = (Vec::new(), Vec::new());
    for _ in 0..fit_runs {
        let started = Instant::now();
        client.train(spec.to_spec(), |_| std::ops::ControlFlow::Continue(()))?;
        wasm_runs.push(started.elapsed().as_secs_f64());
        native_runs.push(native_fit_seconds(dataset, &train, spec));
    }
    let (wasm, native) = (median(&wasm_runs).unwrap_or(f64::NAN), median(&native_runs).unwrap_or(f64::NAN));
    let ranking = default_ranking(&client, args.ranking_iterations);
    let (ranking_fit_seconds_wasm, ranking_iterations) = match &ranking {
        Some(ranking) => {
            let started = Instant::now();
            let done = client.train(ranking.clone(), |_| std::ops::ControlFlow::Continue(()))?;
            (Some(started.elapsed().as_secs_f64()), f64::from(done.epochs))
        }
        None => (None, f64::NAN),
    };

    // Every user at an even stride, at most 500 calls.
    let stride = (users as usize / 500).max(1);
    let mut times = Vec::new();
    for user in (0..users).step_by(stride) {
        let started = Instant::now();
        client.ask(call::Recommend { user, n: 10 })?;
        times.push(started.elapsed());
    }
    let features = features(dataset);
    let latency = rate_to_recommendations_ms(env, dataset, &train, &features)?;
    let content = content_figures(env, dataset, &features)?;
    // Last, the training triples gone: the split is a second copy of the ratings.
    let ratings = train.len();
    drop(train);
    let split = holdout(&dataset.ratings, HOLDOUT_SEED, HOLDOUT_FRACTION);
    let started = Instant::now();
    held_out(&mut client, dataset, &split)?;
    let heldout_scoring_seconds = started.elapsed().as_secs_f64();
    let epochs = f64::from(spec.epochs());
    let Algorithm::Svd(p) = spec else { unreachable!("bench trains SVD") };
    Ok(Figures {
        dataset: dataset.name.clone(),
        ratings,
        users: users as usize,
        movies: items as usize,
        factors: p.factors,
        epochs: p.epochs,
        fit_seconds_wasm: wasm,
        fit_seconds_native: native,
        fit_seconds_wasm_runs: wasm_runs,
        fit_seconds_native_runs: native_runs,
        fit_seconds_per_epoch_wasm: wasm / epochs,
        fit_seconds_per_epoch_native: native / epochs,
        wasm_native_ratio: wasm / native,
        ranking,
        ranking_members: client.members(),
        ranking_fit_seconds_wasm,
        ranking_fit_seconds_per_iteration_wasm: ranking_fit_seconds_wasm.map(|seconds| seconds / ranking_iterations),
        heldout_scoring_seconds,
        recommend_top10_ms_p50: percentile_ms(&mut times, 0.50),
        recommend_top10_ms_p99: percentile_ms(&mut times, 0.99),
        rate_to_recommendations_ms_p50: latency.rate.0,
        rate_to_recommendations_ms_p99: latency.rate.1,
        weight_change_ms_p50: latency.weight.0,
        weight_change_ms_p99: latency.weight.1,
        diversity_prepare_ms: latency.prepare_ms,
        diversity_change_ms_p50: latency.diversity.0,
        diversity_change_ms_p99: latency.diversity.1,
        content_build_ms: content.map(|c| c.0),
        content_module_mib: content.map(|c| c.1),
        content_similar_ms_p50: content.map(|c| c.2),
        content_similar_ms_p99: content.map(|c| c.3),
    })
}

/// The module's ranking model, with `iterations` if given (and if it has
/// a parameter of that name, as iALS does).
fn default_ranking(client: &EngineClient, iterations: Option<u32>) -> Option<ModelSpec> {
    let mut spec = client.hello().default_ranking()?;
    if let Some(iterations) = iterations.filter(|_| spec.get("iterations").is_some()) {
        spec.set("iterations", Value::Integer(iterations.into()));
    }
    Some(spec)
}

/// Milliseconds to build the content model in a fresh module, the module's
/// memory afterwards in MiB, and p50 and p99 milliseconds of one movie's 50
/// most similar; `None` if the module offers no content model.
fn content_figures(env: &Env, dataset: &Dataset, features: &[Features]) -> Result<Option<(f64, f64, f64, f64)>> {
    let (users, items) = (dataset.user_ids.len() as u32, dataset.movies.len() as u32);
    let mut client = EngineClient::start(&env.runtime, &env.module()?, env.limits)?;
    client.load(users, items, scale(dataset), &[], &[])?;
    let started = Instant::now();
    if let Err(e) = client.build_content(features, CONTENT_NEIGHBOURS) {
        return if e.downcast_ref::<cinema_host::Refused>().is_some() { Ok(None) } else { Err(e) };
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let mib = client.memory_peak() as f64 / f64::from(1 << 20);
    let mut times = Vec::new();
    for movie in (0..items).step_by((items as usize / 100).max(1)) {
        let started = Instant::now();
        client.ask(call::SimilarContent { item: movie, n: 50 })?;
        times.push(started.elapsed());
    }
    Ok(Some((ms, mib, percentile_ms(&mut times, 0.50), percentile_ms(&mut times, 0.99))))
}

/// You (an extra user) rate 200 movies one at a time; each rating is folded
/// in and a fresh top-10 computed, as the app does on every key press. The
/// models have the module's default shapes (factors) but one epoch or
/// iteration: latency depends on the shape, not on how well they were trained.
/// Then, with the content model built, the weight moves 50 times, as `[`
/// and `]` do, and the diversity 50 times, as `{` and `}` do.
fn rate_to_recommendations_ms(
    env: &Env,
    dataset: &Dataset,
    train: &[Triple],
    features: &[Features],
) -> Result<Latency> {
    let (users, items) = (dataset.user_ids.len() as u32, dataset.movies.len() as u32);
    let mut client = EngineClient::start(&env.runtime, &env.module()?, env.limits)?;
    let mut spec = client.hello().default_rating().context("engine offers no rating model")?;
    if spec.get("epochs").is_some() {
        spec.set("epochs", Value::Integer(1));
    }
    client.load(users + 1, items, scale(dataset), train, &[])?;
    client.train(spec, |_| std::ops::ControlFlow::Continue(()))?;
    if let Some(ranking) = default_ranking(&client, Some(1)) {
        client.train(ranking, |_| std::ops::ControlFlow::Continue(()))?;
    }
    let (_, mut times) = rate_one_by_one(&mut client, users, items)?;
    match client.build_content(features, CONTENT_NEIGHBOURS) {
        // A module without a content model blends with a content part of 0.
        Err(e) if e.downcast_ref::<cinema_host::Refused>().is_none() => return Err(e),
        _ => {}
    }
    let pairs: Vec<(u32, u32)> = (0..items).map(|m| (users, m)).collect();
    let mut moves = Vec::new();
    let n = crate::ui::state::RECOMMENDATIONS;
    for k in 0..50u16 {
        let weight = f32::from(k % 11) / 10.0;
        let started = Instant::now();
        client.predict(&pairs)?;
        client.ask(call::RecommendHybrid { user: users, n, weight, diversity: 0.0 })?;
        moves.push(started.elapsed());
    }
    let started = Instant::now();
    client.prepare_diversity()?;
    let prepare_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut diverse = Vec::new();
    for k in 0..50u16 {
        let diversity = f32::from(k % 10 + 1) / 10.0;
        let started = Instant::now();
        client.predict(&pairs)?;
        client.ask(call::RecommendHybrid { user: users, n, weight: DEFAULT_WEIGHT, diversity })?;
        diverse.push(started.elapsed());
    }
    let p50_p99 = |times: &mut Vec<Duration>| (percentile_ms(times, 0.50), percentile_ms(times, 0.99));
    Ok(Latency { rate: p50_p99(&mut times), weight: p50_p99(&mut moves), diversity: p50_p99(&mut diverse), prepare_ms })
}

/// p50 and p99 milliseconds of a rating and of each knob's move, and the
/// milliseconds diversity takes to measure before its first list.
struct Latency {
    rate: (f64, f64),
    weight: (f64, f64),
    diversity: (f64, f64),
    prepare_ms: f64,
}

/// A new viewer (user `users`) rates 200 movies one at a time; each rating
/// is folded in and a new top 10 asked for. Returns the fold-ins' times and
/// the whole round trips'.
fn rate_one_by_one(client: &mut EngineClient, users: u32, items: u32) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let mut yours: Vec<(u32, f32)> = Vec::new();
    let (mut fold_ins, mut rounds) = (Vec::new(), Vec::new());
    for k in 0..200u32 {
        let movie = (k.wrapping_mul(2_654_435_761) >> 7) % items;
        yours.retain(|r| r.0 != movie);
        yours.push((movie, (1 + k % 5) as f32));
        let started = Instant::now();
        client.ask(call::FoldIn { user: users, ratings: yours.clone(), marks: vec![] })?;
        fold_ins.push(started.elapsed());
        client.ask(call::Recommend { user: users, n: 10 })?;
        rounds.push(started.elapsed());
    }
    Ok((fold_ins, rounds))
}

/// Every rating model the module offers, each with its defaults, fitted
/// once in a fresh module on `train`, then rated with one by one.
fn every_model(env: &Env, dataset: &Dataset, train: &[Triple]) -> Result<Vec<ModelFigures>> {
    let (users, items) = (dataset.user_ids.len() as u32, dataset.movies.len() as u32);
    let module = env.module()?;
    let offered = EngineClient::start(&env.runtime, &module, env.limits)?.hello().algorithms.clone();
    let rating = offered.iter().filter(|a| a.role == cinema_protocol::Role::Rating);
    rating
        .map(|info| {
            eprintln!("bench: {} on {} …", info.name, dataset.name);
            let mut client = EngineClient::start(&env.runtime, &module, env.limits)?;
            client.load(users + 1, items, scale(dataset), train, &[])?;
            let started = Instant::now();
            client
                .train(info.defaults(), |_| std::ops::ControlFlow::Continue(()))
                .with_context(|| format!("fitting {} on {}", info.name, dataset.name))?;
            let fit_seconds_wasm = started.elapsed().as_secs_f64();
            let (mut fold_ins, mut rounds) = rate_one_by_one(&mut client, users, items)?;
            Ok(ModelFigures {
                dataset: dataset.name.clone(),
                algorithm: info.name.clone(),
                fit_seconds_wasm,
                fold_in_ms_p50: percentile_ms(&mut fold_ins, 0.50),
                fold_in_ms_p99: percentile_ms(&mut fold_ins, 0.99),
                rate_to_recommendations_ms_p50: percentile_ms(&mut rounds, 0.50),
                rate_to_recommendations_ms_p99: percentile_ms(&mut rounds, 0.99),
            })
        })
        .collect()
}

/// The same session code, compiled natively, fed the same requests.
fn native_fit_seconds(dataset: &Dataset, train: &[Triple], spec: &Algorithm) -> f64 {
    let info = EngineInfo { name: "native", version: "", algorithms: cinema_engine::standard_algorithms() };
    let mut session = Session::new(info);
    let (users, items) = (dataset.user_ids.len() as u32, dataset.movies.len() as u32);
    session.handle(Request::Reset { users, items, scale: scale(dataset) });
    session.handle(Request::AddRatings { set: cinema_protocol::RatingSet::Train, ratings: train.to_vec() });
    session.handle(Request::Index);
    let started = Instant::now();
    session.handle(Request::TrainStart { spec: spec.to_spec() });
    while let cinema_protocol::Reply::Progress(p) = session.handle(Request::TrainStep { budget: u64::MAX }) {
        if p.finished {
            break;
        }
    }
    started.elapsed().as_secs_f64()
}

/// Starts this executable as `cinema --dataset PATH` would be started, with
/// the same data directory and module, `runs + 1` times, after training the
/// models if this data directory has none (as `cinema recommend` would: the
/// app itself would serve a stand-in and train behind the screen); the first
/// run warms the caches. Each run is timed from spawning the process to its
/// report that the first frame is drawn. A timed run that did not restore
/// the saved model is an error.
fn startup_ms(env: &Env, dataset: &Path, runs: usize) -> Result<Vec<f64>> {
    drop(super::open_recommender(env, super::load_dataset(env, Some(dataset))?)?);
    let exe = std::env::current_exe().context("cannot find this executable to time its start-up")?;
    let mut times = Vec::new();
    for run in 0..=runs {
        let mut command = Command::new(&exe);
        command.arg("--home").arg(env.home.root()).arg("--dataset").arg(dataset).arg("--exit-after-first-frame");
        if let Some(plugin) = &env.plugin {
            command.arg("--plugin").arg(plugin);
        }
        // stdout stays ours: on a terminal the app draws there, as it would for a person.
        command.stdin(Stdio::inherit()).stdout(Stdio::inherit()).stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().with_context(|| format!("cannot start {}", exe.display()))?;
        let mut stderr = BufReader::new(child.stderr.take().context("no stderr from the app")?);
        let (mut report, mut said) = (None, String::new());
        let mut text = String::new();
        while stderr.read_line(&mut text)? > 0 {
            if let Some(rest) = text.strip_prefix(crate::ui::FIRST_FRAME) {
                report = Some((started.elapsed(), rest.trim().to_owned()));
                break;
            }
            said.push_str(&text);
            text.clear();
        }
        // Drain what is left so the app cannot block on a full pipe, then reap it.
        std::io::copy(&mut stderr, &mut std::io::sink())?;
        let status = child.wait()?;
        let Some((elapsed, how)) = report.filter(|_| status.success()) else {
            bail!("the app did not start on {} ({status}): {}", dataset.display(), said.trim());
        };
        if run > 0 && !how.contains("loaded") {
            bail!("a warm start-up on {} retrained the model instead of restoring it", dataset.display());
        }
        if run > 0 {
            times.push(elapsed.as_secs_f64() * 1e3);
        }
    }
    Ok(times)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Compile-and-instantiate time without a cache, then from a warm cache.
fn module_load_ms(env: &Env) -> Result<(f64, f64)> {
    let time = |runtime: &Runtime| -> Result<f64> {
        let started = Instant::now();
        let module = crate::modules::resolve(runtime, &env.home.plugins_dir(), env.plugin.as_deref())?;
        EngineClient::start(runtime, &module, env.limits)?;
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    let cold = time(&Runtime::new(None)?)?;
    let dir = tempfile::tempdir()?;
    time(&Runtime::new(Some(dir.path()))?)?;
    let cached = time(&Runtime::new(Some(dir.path()))?)?;
    Ok((cold, cached))
}

fn percentile_ms(times: &mut [Duration], q: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    times.sort();
    let at = ((times.len() - 1) as f64 * q).round() as usize;
    times[at].as_secs_f64() * 1e3
}
