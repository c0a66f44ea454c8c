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

mod common;

use std::time::Instant;

use common::{carve, list, read};

use cinema_engine::algorithms::{Algorithm, SvdParams};
use cinema_engine::defaults;
use cinema_engine::ratings::RatingMatrix;
use cinema_engine::train::{Training, rmse_of};
use cinema_protocol::Scale;

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
                                        let mut tr = Training::start(Algorithm::Svd(p), &data, scale).unwrap();
                                        while !tr.step(&data, &[], u64::MAX).finished {}
                                        sum += rmse_of(tr.model().expect("not handed over"), valid);
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
