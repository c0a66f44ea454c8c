//! Chooses the content model's field weights (genres, title words, tags) on
//! validation data, never a test split: a seeded tenth of the given training
//! file is held out, and each weighting is scored by the NDCG@10 of the
//! content list alone (your liked training movies' mean cosine, exactly as
//! the hybrid computes its content part) against the held-out movies each
//! user liked. Usage:
//!
//! ```text
//! cargo run --release -p cinema --example content_weights -- \
//!     DATASET TRAIN.tsv [--titles 0.25,0.5,1] [--tags 0.5,1,2] [--write-split DIR]
//! ```
//! Genres keep weight 1 (only the ratios matter). Prints one row per
//! weighting, best last. `--write-split DIR` also writes the validation
//! split as `DIR/train.tsv` and `DIR/test.tsv`, for `cinema eval
//! --split-dir DIR --hybrid W` (how the hybrid's default weight is chosen).

use std::collections::HashSet;
use std::path::Path;

use cinema::eval::splits::holdout;
use cinema::recommender::features::features;
use cinema_engine::content::{Content, FieldWeights};
use cinema_engine::metrics::Ranking;
use cinema_engine::topn::TopN;
use cinema_protocol::Scale;
use cinema_store::{import, read_split_file};

/// The validation split's seed, as the hybrid weight's validation used.
const SEED: u64 = 7;

fn list(args: &[String], flag: &str, default: &[f64]) -> Vec<f64> {
    match args.iter().position(|a| a == flag) {
        Some(at) => args[at + 1].split(',').map(|v| v.parse().expect("a number")).collect(),
        None => default.to_vec(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dataset, train] = [&args[0], &args[1]].map(Path::new);
    let dataset = import(dataset).expect("the dataset imports");
    let train = read_split_file(train, &dataset).expect("the training file reads");
    let split = holdout(&train, SEED, 0.1);
    let scale = Scale { min: dataset.scale.min, max: dataset.scale.max };
    let half_stars = dataset.scale.step < 1.0;
    let items = dataset.movies.len();

    let mut rated = vec![Vec::new(); dataset.user_ids.len()];
    let mut has_ratings = vec![false; items];
    for r in &split.train {
        rated[r.user as usize].push((r.item, r.value));
        has_ratings[r.item as usize] = true;
    }
    let mut relevant = vec![HashSet::new(); dataset.user_ids.len()];
    for r in split.test.iter().filter(|r| r.value >= scale.like_value()) {
        relevant[r.user as usize].insert(r.item);
    }
    let terms = features(&dataset);
    if let Some(at) = args.iter().position(|a| a == "--write-split") {
        let dir = Path::new(&args[at + 1]);
        std::fs::create_dir_all(dir).expect("the split folder is made");
        for (name, part) in [("train.tsv", &split.train), ("test.tsv", &split.test)] {
            let lines: String = part
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}\t{}\n",
                        dataset.user_ids[r.user as usize], dataset.movies[r.item as usize].id, r.value
                    )
                })
                .collect();
            std::fs::write(dir.join(name), lines).expect("the split is written");
        }
    }

    let mut rows = Vec::new();
    for title in list(&args, "--titles", &[0.125, 0.25, 0.5, 1.0, 2.0]) {
        for tag in list(&args, "--tags", &[0.25, 0.5, 1.0, 2.0, 4.0]) {
            let weights = FieldWeights { genre: 1.0, title, tag };
            let content = Content::build_weighted(items as u32, &terms, 1, weights);
            let mut ranking = Ranking::new(10);
            for (user, ratings) in rated.iter().enumerate() {
                let likes = scale.liked(ratings, half_stars);
                if likes.is_empty() || relevant[user].is_empty() {
                    continue;
                }
                let seen: HashSet<u32> = ratings.iter().map(|r| r.0).collect();
                let sums = content.cosine_sums(&likes);
                let mut top = TopN::new(10);
                for (item, &sum) in sums.iter().enumerate() {
                    if has_ratings[item] && !seen.contains(&(item as u32)) {
                        top.push(item as u32, sum);
                    }
                }
                let top: Vec<u32> = top.into_sorted().into_iter().map(|(item, _)| item).collect();
                ranking.add(&top, &relevant[user]);
            }
            rows.push((ranking.finish(items).ndcg, title, tag));
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!("{} validation ratings held out of {} (seed {SEED})", split.test.len(), train.len());
    println!("{:>8} {:>8} {:>12}", "title", "tag", "NDCG@10");
    for (ndcg, title, tag) in rows {
        println!("{title:>8} {tag:>8} {ndcg:>12.4}");
    }
}
