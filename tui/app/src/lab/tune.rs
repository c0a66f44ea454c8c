//! Tuning a rating model: candidates from a grid or drawn at random around
//! the defaults, each scored by k-fold cross-validation RMSE on the training
//! ratings (the lab's held-out ratings are never seen), with folds and
//! candidates spread over several engine instances, one thread each.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use cinema_host::{EngineClient, EngineModule, Limits, Runtime};
use cinema_metrics::rmse_mae;
use cinema_protocol::{AlgorithmInfo, ModelSpec, ParamKind, Triple, Value};
use cinema_store::dataset::Dataset;

use super::train::{HOLDOUT_FRACTION, HOLDOUT_SEED};
use crate::eval::score::{scale, triples};
use crate::eval::splits::holdout;

/// One fold's validation RMSE and training seconds.
type FoldScore = (f64, f64);

/// One scored candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Its place in the search, from 0.
    pub index: usize,
    pub params: ModelSpec,
    /// Mean validation RMSE over the folds.
    pub cv_rmse: f64,
    pub fold_rmse: Vec<f64>,
    /// Training time summed over the folds.
    pub seconds: f64,
}

/// Every combination of `grid`'s values (`'factors=50,100;epochs=20,30'`)
/// on top of `base`, each checked against the description.
pub fn grid(info: &AlgorithmInfo, base: &ModelSpec, grid: &str) -> Result<Vec<ModelSpec>> {
    let mut axes: Vec<(&str, Vec<Value>)> = Vec::new();
    for axis in grid.split(';').map(str::trim).filter(|a| !a.is_empty()) {
        let (name, values) =
            axis.split_once('=').with_context(|| format!("--grid takes NAME=V1,V2;NAME=…, not `{axis}`"))?;
        let name = name.trim();
        let values: Vec<Value> = values.split(',').map(|v| info.value(name, v.trim())).collect::<Result<_, _>>()?;
        if values.is_empty() || axes.iter().any(|(n, _)| *n == name) {
            bail!("--grid names `{name}` twice or with no values");
        }
        axes.push((name, values));
    }
    if axes.is_empty() {
        bail!("--grid is empty; e.g. --grid 'factors=50,100;epochs=20,30'");
    }
    let mut specs = vec![base.clone()];
    for (name, values) in &axes {
        specs = specs.iter().flat_map(|spec| values.iter().map(move |v| spec.clone().with(name, v.clone()))).collect();
    }
    specs.iter().map(|s| Ok(info.check(s)?)).collect()
}

/// `n` candidates drawn around `base` (its values, else the defaults):
/// integers from half to twice it, reals log-uniformly from a quarter to
/// four times it (both within the described range), any choice; `seed`
/// parameters are kept.
pub fn random(info: &AlgorithmInfo, base: &ModelSpec, n: usize, seed: u64) -> Result<Vec<ModelSpec>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut specs = Vec::with_capacity(n);
    for _ in 0..n {
        let mut spec = base.clone();
        for p in info.params.iter().filter(|p| p.name != "seed") {
            let value = match &p.kind {
                ParamKind::Integer { default, min, max } => {
                    let center = base.integer(&p.name).unwrap_or(*default);
                    let (lo, hi) = (((center + 1) / 2).max(*min), center.saturating_mul(2).min(*max));
                    Value::Integer(if lo < hi { rng.random_range(lo..=hi) } else { center })
                }
                ParamKind::Real { default, min, max } => {
                    let center = base.real(&p.name).unwrap_or(*default);
                    let (lo, hi) = ((center / 4.0).max(*min).max(f64::MIN_POSITIVE), (center * 4.0).min(*max));
                    Value::Real(if center > 0.0 && lo < hi { rng.random_range(lo.ln()..hi.ln()).exp() } else { center })
                }
                ParamKind::Choice { choices, .. } => Value::Choice(choices[rng.random_range(0..choices.len())].clone()),
            };
            spec.set(&p.name, value);
        }
        specs.push(info.check(&spec)?);
    }
    Ok(specs)
}

/// Engine instances a search runs at once by default: one per core, since
/// each fit keeps a core busy.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Memory a helper of a team holds beyond the first instance, per training
/// rating and in all: its own copy of the ratings, of both factor tables
/// and of what a sweep prepares. Measured at 25 million ratings: 1.24 GB
/// more peak with a team of two (`cinema bench --synthetic-ratings
/// 25000000 --synthetic-movies 62000 --members 2`, then `--members 1`).
const HELPER_BYTES_PER_RATING: u64 = 52;
const HELPER_BASE_BYTES: u64 = 64 << 20;

/// Instances that train one model of `ratings` ratings together on
/// `cores` cores (`EngineClient::start_team`): teams of 1, 2 or 4, the
/// sizes the built-in engine shares iALS's rounds among (a module that
/// cannot trains alone), with no more helpers than half the memory the
/// machine has available holds.
pub fn team_size(cores: usize, ratings: usize) -> usize {
    let helper = HELPER_BASE_BYTES + HELPER_BYTES_PER_RATING * ratings as u64;
    let spare = available_memory().map(|bytes| bytes / 2);
    let fits = |n: usize| spare.is_none_or(|spare| (n as u64 - 1).saturating_mul(helper) <= spare);
    [4, 2, 1].into_iter().find(|&n| n <= cores && fits(n)).unwrap_or(1)
}

/// The memory the machine can still give, in bytes (Linux's
/// `MemAvailable`); `None` where it is not known.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// How a search runs.
pub struct Search<'a> {
    pub runtime: &'a Runtime,
    pub module: &'a EngineModule,
    pub limits: Limits,
    pub folds: usize,
    pub jobs: usize,
    /// Set to stop early; candidates finished so far are returned.
    pub cancel: &'a AtomicBool,
}

impl Search<'_> {
    /// Scores every candidate on `dataset`'s training ratings; `on_done`
    /// hears of each as its last fold finishes. Returns them in order.
    pub fn run(
        &self,
        dataset: &Dataset,
        candidates: &[ModelSpec],
        on_done: impl Fn(&Candidate) + Sync,
    ) -> Result<Vec<Candidate>> {
        if !(2..=20).contains(&self.folds) {
            bail!("--folds must be from 2 to 20, not {}", self.folds);
        }
        let folds = self.fold_sets(dataset);
        let tasks: Vec<(usize, usize)> =
            (0..candidates.len()).flat_map(|c| (0..self.folds).map(move |f| (c, f))).collect();
        let scores: Mutex<Vec<Vec<Option<FoldScore>>>> = Mutex::new(vec![vec![None; self.folds]; candidates.len()]);
        let done: Mutex<Vec<Candidate>> = Mutex::new(Vec::new());
        let next = AtomicUsize::new(0);
        let (users, items) = (dataset.user_ids.len() as u32, dataset.movies.len() as u32);
        let work = || -> Result<()> {
            let mut client = EngineClient::start(self.runtime, self.module, self.limits)?;
            let mut loaded = None;
            while !self.cancel.load(Ordering::Relaxed) {
                let Some(&(c, f)) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) else { return Ok(()) };
                let (train, validation) = &folds[f];
                if loaded != Some(f) {
                    client.load(users, items, scale(dataset), train, validation)?;
                    loaded = Some(f);
                }
                let started = Instant::now();
                client.train(candidates[c].clone(), |_| {
                    if self.cancel.load(Ordering::Relaxed) {
                        std::ops::ControlFlow::Break(())
                    } else {
                        std::ops::ControlFlow::Continue(())
                    }
                })?;
                if self.cancel.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let seconds = started.elapsed().as_secs_f64();
                let pairs: Vec<(u32, u32)> = validation.iter().map(|&(u, i, _)| (u, i)).collect();
                let predicted = client.predict(&pairs)?;
                let (rmse, _) = rmse_mae(predicted.iter().zip(validation).map(|(&p, &(_, _, r))| (p, r)));
                let finished = {
                    let mut scores = scores.lock().expect("scores");
                    scores[c][f] = Some((rmse, seconds));
                    scores[c].iter().copied().collect::<Option<Vec<(f64, f64)>>>()
                };
                if let Some(all) = finished {
                    let fold_rmse: Vec<f64> = all.iter().map(|s| s.0).collect();
                    let candidate = Candidate {
                        index: c,
                        params: candidates[c].clone(),
                        cv_rmse: fold_rmse.iter().sum::<f64>() / fold_rmse.len() as f64,
                        fold_rmse,
                        seconds: all.iter().map(|s| s.1).sum(),
                    };
                    on_done(&candidate);
                    done.lock().expect("done").push(candidate);
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.jobs.clamp(1, tasks.len().max(1))).map(|_| scope.spawn(work)).collect();
            workers.into_iter().try_for_each(|w| w.join().expect("a tuning thread panicked"))
        })?;
        let mut done = done.into_inner().expect("done");
        done.sort_by_key(|c| c.index);
        Ok(done)
    }

    /// The lab's training ratings cut into `folds` seeded parts: for each,
    /// (the other parts, this part) as engine triples.
    fn fold_sets(&self, dataset: &Dataset) -> Vec<(Vec<Triple>, Vec<Triple>)> {
        let mut train = triples(&holdout(&dataset.ratings, HOLDOUT_SEED, HOLDOUT_FRACTION).train);
        train.shuffle(&mut StdRng::seed_from_u64(HOLDOUT_SEED ^ 0x7u64));
        let k = self.folds;
        (0..k)
            .map(|f| {
                let (mut rest, mut part) = (Vec::new(), Vec::new());
                for (i, t) in train.iter().enumerate() {
                    if i % k == f { part.push(*t) } else { rest.push(*t) }
                }
                (rest, part)
            })
            .collect()
    }
}

/// The parameters whose values differ between `specs` (what a table of
/// candidates needs to show).
pub fn varied<'a>(specs: impl Iterator<Item = &'a ModelSpec> + Clone) -> Vec<String> {
    let mut all = specs.clone();
    let Some(first) = all.next() else { return Vec::new() };
    first
        .params
        .iter()
        .filter(|(name, v)| specs.clone().any(|c| c.get(name) != Some(v)))
        .map(|(n, _)| n.clone())
        .collect()
}

/// The candidate with the lowest CV RMSE.
pub fn best(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates.iter().min_by(|a, b| a.cv_rmse.total_cmp(&b.cv_rmse))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_protocol::ParamInfo;

    #[test]
    fn a_team_has_a_size_the_engine_shares_and_the_memory_holds() {
        let sizes: Vec<usize> = [0, 1, 2, 3, 4, 8].map(|cores| team_size(cores, 100_000)).to_vec();
        assert_eq!(sizes, [1, 1, 2, 2, 4, 4], "on a machine with a few hundred MB free");
        if available_memory().is_some() {
            assert_eq!(team_size(8, usize::MAX / 1024), 1, "no helper where its copy of the ratings cannot fit");
        }
    }

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            name: "svd".into(),
            role: cinema_protocol::Role::Rating,
            description: String::new(),
            params: vec![
                ParamInfo::integer("factors", 100, 1, 1024, ""),
                ParamInfo::real("lr", 0.005, 0.0, 1.0, ""),
                ParamInfo::integer("seed", 7, 0, 100, ""),
            ],
        }
    }

    #[test]
    fn a_grid_is_every_combination_and_bad_values_are_named() {
        let specs = grid(&info(), &ModelSpec::new("svd"), "factors=50,100,150; lr=0.002,0.01").unwrap();
        assert_eq!(specs.len(), 6);
        assert_eq!(specs[5].integer("factors"), Some(150));
        assert_eq!(specs[5].real("lr"), Some(0.01));
        assert_eq!(specs[0].integer("seed"), Some(7), "defaults filled in");
        let e = grid(&info(), &ModelSpec::new("svd"), "factors=0").unwrap_err().to_string();
        assert!(e.contains("factors") && e.contains("from 1 to 1024"), "{e}");
        assert!(grid(&info(), &ModelSpec::new("svd"), "speed=1").unwrap_err().to_string().contains("speed"));
        assert!(grid(&info(), &ModelSpec::new("svd"), "factors=1;factors=2").is_err());
    }

    #[test]
    fn random_candidates_stay_near_the_starting_point_and_keep_the_seed() {
        let specs = random(&info(), &ModelSpec::new("svd"), 50, 1).unwrap();
        assert_eq!(specs.len(), 50);
        for s in &specs {
            assert!((50..=200).contains(&s.integer("factors").unwrap()), "{s}");
            assert!((0.00125..=0.02).contains(&s.real("lr").unwrap()), "{s}");
            assert_eq!(s.integer("seed"), Some(7));
        }
        assert_eq!(specs, random(&info(), &ModelSpec::new("svd"), 50, 1).unwrap(), "seeded");
        let base = ModelSpec::new("svd").with("factors", Value::Integer(10));
        for s in random(&info(), &base, 20, 2).unwrap() {
            assert!((5..=20).contains(&s.integer("factors").unwrap()), "the starting point is the centre: {s}");
        }
    }
}
