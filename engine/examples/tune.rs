//! Natively run SVD over train/test rating files to choose the defaults.
//!
//! Never pass a real test split here: the protocol that chose the defaults
//! holds out `--validation-fraction` of each *training* file (seeded) and
//! scores on that. Usage:
//!
//! ```text
//! cargo run --release -p cinema-engine --example tune -- \
//!     TRAIN.tsv [TRAIN2.tsv ...] [--factors 100,200] [--epochs 40] [--lr 0.005] [--reg 0.05] ...
//! ```
//! Each flag takes a comma-separated list; every combination is tried and
//! the mean validation RMSE over the files is printed, best last.

use std::collections::HashMap;
use std::time::Instant;

use cinema_engine::defaults;
use cinema_engine::protocol::{ModelSpec, Scale, SvdParams, Triple};
use cinema_engine::ratings::RatingMatrix;
use cinema_engine::train::{Training, rmse_of};
use rand::SeedableRng;
use rand::seq::SliceRandom;

fn read(path: &str) -> Vec<(String, String, f32)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sep = if path.ends_with(".csv") { ',' } else { '\t' };
    text.lines()
        .filter(|l| !l.starts_with("userId"))
        .map(|l| {
            let f: Vec<&str> = l.split(sep).collect();
            (f[0].to_string(), f[1].to_string(), f[2].parse().expect("rating"))
        })
        .collect()
}

/// Seeded 90/10 split of one training file into (fit, validation), densely indexed.
fn carve(rows: &[(String, String, f32)], fraction: f64) -> (u32, u32, Vec<Triple>, Vec<Triple>) {
    let (mut users, mut items) = (HashMap::new(), HashMap::new());
    let mut triples: Vec<Triple> = rows
        .iter()
        .map(|(u, i, r)| {
            let n = users.len() as u32;
            let u = *users.entry(u.clone()).or_insert(n);
            let n = items.len() as u32;
            let i = *items.entry(i.clone()).or_insert(n);
            (u, i, *r)
        })
        .collect();
    triples.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    let n_valid = (triples.len() as f64 * fraction) as usize;
    let valid = triples.split_off(triples.len() - n_valid);
    (users.len() as u32, items.len() as u32, triples, valid)
}

fn list<T: std::str::FromStr>(args: &[String], flag: &str, default: T) -> Vec<T>
where
    T::Err: std::fmt::Debug,
{
    match args.iter().position(|a| a == flag) {
        Some(at) => args[at + 1].split(',').map(|v| v.parse().expect(flag)).collect(),
        None => vec![default],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: Vec<&String> = args.iter().take_while(|a| !a.starts_with("--")).collect();
    let d = defaults::svd();
    let fraction = list(&args, "--validation-fraction", 0.1f64)[0];
    let scale_min = list(&args, "--scale-min", 1.0f32)[0];
    let splits: Vec<_> = files.iter().map(|f| carve(&read(f), fraction)).collect();
    let mut results = Vec::new();
    for factors in list(&args, "--factors", d.factors) {
        for epochs in list(&args, "--epochs", d.epochs) {
            for lr in list(&args, "--lr", d.lr) {
                for reg in list(&args, "--reg", d.reg) {
                    for lr_bias in list(&args, "--lr-bias", lr) {
                        for reg_bias in list(&args, "--reg-bias", d.reg_bias) {
                            for init_std in list(&args, "--init-std", d.init_std) {
                                for lr_decay in list(&args, "--lr-decay", d.lr_decay) {
                                    let p = SvdParams {
                                        factors,
                                        epochs,
                                        lr,
                                        reg,
                                        lr_bias,
                                        reg_bias,
                                        init_std,
                                        lr_decay,
                                        seed: 42,
                                    };
                                    let t = Instant::now();
                                    let mut sum = 0.0;
                                    for (users, items, fit, valid) in &splits {
                                        let data = RatingMatrix::new(*users, *items, fit);
                                        let scale = Scale { min: scale_min, max: 5.0 };
                                        let (mut tr, mut m) = Training::start(ModelSpec::Svd(p), &data, scale).unwrap();
                                        while !tr.step(&mut m, &data, &[], u64::MAX).finished {}
                                        sum += rmse_of(&m, valid);
                                    }
                                    let rmse = sum / splits.len() as f32;
                                    println!("{rmse:.4} {:.2}s {p:?}", t.elapsed().as_secs_f32());
                                    results.push((rmse, p));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    results.sort_by(|a, b| b.0.total_cmp(&a.0));
    if let Some((rmse, p)) = results.last() {
        println!("best {rmse:.4} {p:?}");
    }
}
