//! `cinema eval`: train and score a model under a named protocol.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cinema_protocol::ModelSpec;
use serde::Serialize;

use super::model_args::ModelArgs;
use super::{Env, load_dataset, print_json};
use crate::eval::score::{Beyond, Diverse, ListMetrics, diverse, hybrid};
use crate::eval::{Protocol, SplitReport, evaluate, make_splits};
use crate::recommender::CONTENT_NEIGHBOURS;
use crate::recommender::features::features;
use cinema_host::EngineClient;
use cinema_store::models::Metrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProtocolName {
    Folds,
    Holdout,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "holdout")]
    protocol: ProtocolName,
    /// Seed of the holdout split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Share of ratings held out (holdout).
    #[arg(long, default_value_t = 0.1)]
    test_fraction: f64,
    /// Read the split from DIR/train.tsv and DIR/test.tsv instead.
    #[arg(long, value_name = "DIR")]
    split_dir: Option<PathBuf>,
    /// Engine instances at once: splits evaluated side by side, and the
    /// cores left over train each split's ranking model as a team.
    #[arg(long, default_value_t = crate::lab::tune::default_jobs())]
    jobs: usize,
    /// Also score the list blended with content: W · CF + (1 − W) · content.
    #[arg(long, value_name = "W")]
    hybrid: Option<f32>,
    /// Also score the list at this diversity (0 to 1): each movie pays for
    /// how often lists already show it.
    #[arg(long, value_name = "X", conflicts_with = "diversity_sweep")]
    diversity: Option<f32>,
    /// Also score the list at diversity 0, 0.1, …, 1: accuracy against
    /// coverage, novelty and genre diversity.
    #[arg(long)]
    diversity_sweep: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Serialize)]
pub struct EngineSummary {
    pub module: String,
    pub sha256: String,
    pub abi_version: u32,
}

#[derive(Serialize)]
struct Report {
    dataset: String,
    protocol: String,
    /// `algorithm` and `params`, e.g. `"params": {"factors": 200, …}`.
    #[serde(flatten)]
    model: ModelSpec,
    /// The model that orders the lists (`None`: predicted stars do).
    ranking: Option<ModelSpec>,
    engine: EngineSummary,
    /// Means over the splits.
    #[serde(flatten)]
    metrics: Metrics,
    /// The list people see beside its accuracy (means over the splits).
    beyond: Beyond,
    by_predicted_stars: ListMetrics,
    /// With `--hybrid W`: the blended list's figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    hybrid_weight: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hybrid: Option<ListMetrics>,
    /// With `--diversity X` or `--diversity-sweep`: the list at each setting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    diversity: Vec<Diverse>,
    fit_seconds: f64,
    ranking_fit_seconds: f64,
    predict_seconds: f64,
    folds: Vec<SplitReport>,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let path = super::dataset_path(env, args.dataset.as_deref())?;
    let dataset = load_dataset(env, Some(&path))?;
    let protocol = match (&args.split_dir, args.protocol) {
        (Some(dir), _) => Protocol::SplitDir { dir: dir.clone() },
        (None, ProtocolName::Folds) => Protocol::Folds { dir: path },
        (None, ProtocolName::Holdout) => Protocol::Holdout { seed: args.seed, test_fraction: args.test_fraction },
    };
    super::recommend::check_weight(args.hybrid)?;
    super::recommend::check_diversity(args.diversity)?;
    let settings: Vec<f32> = match (args.diversity, args.diversity_sweep) {
        (_, true) => (0..=10).map(|k| k as f32 / 10.0).collect(),
        (Some(x), false) => vec![x],
        (None, false) => Vec::new(),
    };
    let splits = make_splits(&dataset, &protocol)?;
    // Diversity calibrates and spreads genres with the content model.
    let content = args.hybrid.is_some() || !settings.is_empty();
    let features = if content { features(&dataset) } else { Vec::new() };
    let module = env.module()?;
    let probe = EngineClient::start(&env.runtime, &module, env.limits)?;
    let spec = args.model.spec(probe.hello())?;
    let ranking = args.model.ranking_spec(probe.hello())?;
    let engine = EngineSummary {
        module: module.location(),
        sha256: module.sha256.clone(),
        abi_version: probe.hello().abi_version,
    };
    drop(probe);

    // Splits run on `jobs` threads, each with its own engine instance; the
    // cores left over (one split on two cores) train each split's ranking
    // model as a team.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = args.jobs.clamp(1, splits.len());
    let members = crate::lab::tune::team_size(args.jobs.max(1) / workers, dataset.ratings.len() * workers);
    let mut reports: Vec<(usize, Result<SplitReport>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<(usize, Result<SplitReport>)>> {
                    let mut client = EngineClient::start_team(&env.runtime, &module, env.limits, members)?;
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(split) = splits.get(i) else { return Ok(done) };
                        let report = evaluate(&mut client, &dataset, split, spec.clone(), ranking.clone())
                            .and_then(|mut report| {
                                if content {
                                    client.build_content(&features, CONTENT_NEIGHBOURS)?;
                                }
                                if let Some(weight) = args.hybrid {
                                    report.hybrid = Some(hybrid(&mut client, &dataset, split, weight)?);
                                }
                                if !settings.is_empty() {
                                    let weight = args.hybrid.unwrap_or(1.0);
                                    report.diversity = diverse(&mut client, &dataset, split, weight, &settings)?;
                                }
                                Ok(report)
                            })
                            .with_context(|| format!("evaluating split {}", split.name));
                        done.push((i, report));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("evaluation thread panicked").unwrap_or_else(|e| vec![(usize::MAX, Err(e))]))
            .collect()
    });
    reports.sort_by_key(|(i, _)| *i);
    let folds: Vec<SplitReport> = reports.into_iter().map(|(_, r)| r).collect::<Result<_>>()?;
    if folds.is_empty() {
        bail!("no splits were evaluated");
    }
    let mean = |f: fn(&SplitReport) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    let report = Report {
        dataset: dataset.name.clone(),
        protocol: match protocol {
            Protocol::Folds { .. } => "folds".into(),
            Protocol::Holdout { seed, test_fraction } => format!("holdout(seed={seed}, test_fraction={test_fraction})"),
            Protocol::SplitDir { dir } => format!("split-dir({})", dir.display()),
        },
        model: spec,
        ranking,
        engine,
        metrics: Metrics::mean(folds.iter().map(|f| &f.metrics)),
        beyond: Beyond::mean(&folds.iter().map(|r| r.beyond).collect::<Vec<_>>()),
        by_predicted_stars: ListMetrics::mean(&folds.iter().map(|r| r.by_predicted_stars).collect::<Vec<_>>()),
        hybrid_weight: args.hybrid,
        hybrid: args.hybrid.map(|_| ListMetrics::mean(&folds.iter().filter_map(|r| r.hybrid).collect::<Vec<_>>())),
        diversity: mean_diversity(&folds),
        fit_seconds: mean(|r| r.fit_seconds),
        ranking_fit_seconds: mean(|r| r.ranking_fit_seconds),
        predict_seconds: mean(|r| r.predict_seconds),
        folds,
    };
    if env.json {
        return print_json(&report);
    }
    let ranked_by = report.ranking.as_ref().map_or("predicted stars", |r| r.name());
    println!(
        "{} on {} ({}), lists ordered by {ranked_by}, engine {}",
        report.model.algorithm, report.dataset, report.protocol, report.engine.module
    );
    println!(
        "{:<8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "split", "RMSE", "MAE", "P@10", "R@10", "NDCG", "cover", "rP@10", "rR@10", "fit s"
    );
    let row = |name: &str, m: &Metrics, fit_seconds: f64| {
        let figures: String = m.named().iter().map(|(_, x, _)| format!(" {x:>7.4}")).collect();
        println!("{name:<8}{figures} {fit_seconds:>7.3}");
    };
    for f in &report.folds {
        row(&f.split, &f.metrics, f.fit_seconds);
    }
    row("mean", &report.metrics, report.fit_seconds);
    let beyond = report.beyond;
    println!(
        "beside accuracy: novelty {:.2} bits  genre diversity {:.3}  miscalibration {:.3}  Gini {:.3}",
        beyond.novelty, beyond.intra_list_diversity, beyond.miscalibration, beyond.gini
    );
    let stars = report.by_predicted_stars;
    println!(
        "ordered by predicted stars instead: P@10 {:.4}  R@10 {:.4}  NDCG@10 {:.4}  coverage {:.4}",
        stars.precision_at_10, stars.recall_at_10, stars.ndcg_at_10, stars.coverage
    );
    if let (Some(w), Some(h)) = (report.hybrid_weight, report.hybrid) {
        println!(
            "blended with content at weight {w}: P@10 {:.4}  R@10 {:.4}  NDCG@10 {:.4}  coverage {:.4}",
            h.precision_at_10, h.recall_at_10, h.ndcg_at_10, h.coverage
        );
    }
    if !report.diversity.is_empty() {
        let plain = report.metrics.ndcg_at_10;
        println!(
            "{:>9} {:>8} {:>7} {:>8} {:>8} {:>9} {:>8} {:>6}",
            "diversity", "NDCG@10", "change", "coverage", "novelty", "genre div", "miscal", "Gini"
        );
        for d in &report.diversity {
            let b = d.beyond;
            println!(
                "{:>9.2} {:>8.4} {:>+6.1}% {:>7.1}% {:>8.2} {:>9.3} {:>8.3} {:>6.3}",
                d.diversity,
                d.list.ndcg_at_10,
                100.0 * (d.list.ndcg_at_10 / plain - 1.0),
                100.0 * d.list.coverage,
                b.novelty,
                b.intra_list_diversity,
                b.miscalibration,
                b.gini
            );
        }
    }
    Ok(())
}

/// Each diversity setting's figures, averaged over the splits.
fn mean_diversity(folds: &[SplitReport]) -> Vec<Diverse> {
    let settings = folds.first().map_or(0, |f| f.diversity.len());
    (0..settings)
        .map(|k| {
            let at: Vec<Diverse> = folds.iter().map(|r| r.diversity[k]).collect();
            Diverse {
                diversity: at[0].diversity,
                list: ListMetrics::mean(&at.iter().map(|d| d.list).collect::<Vec<_>>()),
                beyond: Beyond::mean(&at.iter().map(|d| d.beyond).collect::<Vec<_>>()),
            }
        })
        .collect()
}
