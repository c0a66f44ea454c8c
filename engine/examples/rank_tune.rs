//! Natively run a ranking model (iALS or EASE) over training files to choose its
//! defaults by full-ranking NDCG@10 — the eval's protocol, on validation data.
//!
//! Never pass a real test split here: 10 % of each *training* file is held
//! out (seed 7, as `tune.rs` does) and the list is scored on it: every
//! validation user with training ratings gets a top 10 over every movie with
//! a training rating they did not rate; relevant = validation ratings ≥ 4.
//!
//! ```text
//! cargo run --release -p cinema-engine --example rank_tune -- TRAIN.tsv [TRAIN2.tsv ...] \
//!     [--factors 64,128] [--iterations 15] [--reg 1,10] [--alpha 5,10] [--rating-weight 0,0.5] [--cg-steps 3]
//! cargo run --release -p cinema-engine --example rank_tune -- TRAIN.tsv [TRAIN2.tsv ...] --algo ease \
//!     [--reg 100,200,400] [--floor 0.2,1] [--min-ratings 1,5]
//! ```

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use cinema_engine::algorithms::ease::EaseParams;
use cinema_engine::algorithms::{Algorithm, IalsParams};
use cinema_engine::metrics::Ranking;
use cinema_engine::{EngineInfo, Session, defaults, standard_algorithms};
use cinema_protocol::{ModelSpec, RatingSet, Reply, Request, Scale};
use common::{carve, list, read};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: Vec<&String> = args.iter().take_while(|a| !a.starts_with("--")).collect();
    let scale = Scale { min: list(&args, "--scale-min", 1.0f32)[0], max: 5.0 };
    let mut popular = 0.0;
    let mut sessions: Vec<(Session, HashMap<u32, HashSet<u32>>, u32)> = files
        .iter()
        .map(|f| {
            let (users, items, fit, valid) = carve(&read(f), 0.1);
            let info = EngineInfo { name: "rank_tune", version: "0", algorithms: standard_algorithms() };
            let mut s = Session::new(info);
            s.handle(Request::Reset { users, items, scale });
            s.handle(Request::AddRatings { set: RatingSet::Train, ratings: fit.clone() });
            s.handle(Request::Index);
            train(&mut s, Algorithm::Baseline(defaults::baseline()).to_spec());
            let trained: HashSet<u32> = fit.iter().map(|t| t.0).collect();
            let mut relevant: HashMap<u32, HashSet<u32>> = HashMap::new();
            for &(u, i, r) in valid.iter().filter(|t| trained.contains(&t.0)) {
                let set = relevant.entry(u).or_default();
                if r >= 4.0 {
                    set.insert(i);
                }
            }
            popular += most_popular(&fit, &relevant, items) / files.len() as f64;
            (s, relevant, items)
        })
        .collect();
    println!("most popular (the reference a ranking model must beat): ndcg {popular:.4}");
    let mut results = Vec::new();
    for p in candidates(&args) {
        let t = Instant::now();
        let (mut ndcg, mut coverage) = (0.0, 0.0);
        for (s, relevant, items) in &mut sessions {
            train(s, p.to_spec());
            let m = score(s, relevant, *items);
            ndcg += m.ndcg;
            coverage += m.coverage;
        }
        let n = sessions.len() as f64;
        let (ndcg, coverage) = (ndcg / n, coverage / n);
        println!("ndcg {ndcg:.4} coverage {coverage:.3} {:.2}s {p:?}", t.elapsed().as_secs_f32());
        results.push((ndcg, p));
    }
    results.sort_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((ndcg, p)) = results.last() {
        println!("best ndcg {ndcg:.4} {p:?}");
    }
}

/// Every setting of the grid the flags give, for `--algo ials` (the
/// default) or `--algo ease`.
fn candidates(args: &[String]) -> Vec<Algorithm> {
    let mut all = Vec::new();
    if args.windows(2).any(|w| w[0] == "--algo" && w[1] == "ease") {
        let d = EaseParams::default();
        for reg in list(args, "--reg", d.reg) {
            for floor in list(args, "--floor", d.floor) {
                for min_ratings in list(args, "--min-ratings", d.min_ratings) {
                    all.push(Algorithm::Ease(EaseParams { reg, floor, min_ratings }));
                }
            }
        }
        return all;
    }
    let d = defaults::ials();
    for factors in list(args, "--factors", d.factors) {
        for iterations in list(args, "--iterations", d.iterations) {
            for reg in list(args, "--reg", d.reg) {
                for alpha in list(args, "--alpha", d.alpha) {
                    for rating_weight in list(args, "--rating-weight", d.rating_weight) {
                        for cg_steps in list(args, "--cg-steps", d.cg_steps) {
                            let p = IalsParams { factors, iterations, reg, alpha, rating_weight, cg_steps, ..d };
                            all.push(Algorithm::Ials(p));
                        }
                    }
                }
            }
        }
    }
    all
}

fn train(s: &mut Session, spec: ModelSpec) {
    s.handle(Request::TrainStart { spec });
    while !matches!(s.handle(Request::TrainStep { budget: u64::MAX }), Reply::Progress(p) if p.finished) {}
}

fn score(s: &mut Session, relevant: &HashMap<u32, HashSet<u32>>, items: u32) -> cinema_engine::metrics::RankingMetrics {
    let mut ranking = Ranking::new(10);
    for (&u, rel) in relevant {
        let Reply::Recommendations(top) = s.handle(Request::Recommend { user: u, n: 10 }) else { panic!("recommend") };
        ranking.add(&top.iter().map(|t| t.item).collect::<Vec<_>>(), rel);
    }
    ranking.finish(items as usize)
}

/// NDCG@10 of ranking every movie by its number of training ratings.
fn most_popular(fit: &[(u32, u32, f32)], relevant: &HashMap<u32, HashSet<u32>>, items: u32) -> f64 {
    let mut count = vec![0u32; items as usize];
    let mut seen: HashMap<u32, HashSet<u32>> = HashMap::new();
    for &(u, i, _) in fit {
        count[i as usize] += 1;
        seen.entry(u).or_default().insert(i);
    }
    let mut order: Vec<u32> = (0..items).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(count[i as usize]));
    let mut ranking = Ranking::new(10);
    for (u, rel) in relevant {
        let top: Vec<u32> = order.iter().copied().filter(|i| !seen[u].contains(i)).take(10).collect();
        ranking.add(&top, rel);
    }
    ranking.finish(items as usize).ndcg
}
