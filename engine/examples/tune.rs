//! Natively fit any rating model of the registry over training files to
//! choose its defaults.
//!
//! Never pass a real test split here: the protocol that chose the defaults
//! holds out `--validation-fraction` of each *training* file (seeded) and
//! scores on that. Usage:
//!
//! ```text
//! cargo run --release -p cinema-engine --example tune -- \
//!     TRAIN.tsv [TRAIN2.tsv ...] [--algo svd] [--factors 100,200] [--epochs 40] [--lr 0.005] ...
//! ```
//! Every parameter the algorithm describes is a flag (`--reg-bias` for
//! `reg_bias`) taking a comma-separated list; every combination is tried
//! (two at a time) and the mean validation RMSE over the files is printed
//! with the fit time, best last.

mod common;

use std::sync::Mutex;
use std::time::Instant;

use common::{carve, list};

use cinema_engine::algorithms::{Algorithm, describe};
use cinema_engine::ratings::RatingMatrix;
use cinema_engine::train::{Training, rmse_of};
use cinema_protocol::{ModelSpec, ParamKind, Scale, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: Vec<&String> = args.iter().take_while(|a| !a.starts_with("--")).collect();
    let algo = list(&args, "--algo", "svd".to_string()).remove(0);
    let fraction = list(&args, "--validation-fraction", 0.1f64)[0];
    let scale_min = list(&args, "--scale-min", 1.0f32)[0];
    let info = describe().into_iter().find(|a| a.name == algo).unwrap_or_else(|| panic!("no algorithm `{algo}`"));
    let mut specs = vec![ModelSpec::new(&algo)];
    for param in &info.params {
        let flag = format!("--{}", param.name.replace('_', "-"));
        let Some(at) = args.iter().position(|a| *a == flag) else { continue };
        let values: Vec<Value> = args[at + 1]
            .split(',')
            .map(|v| match param.kind {
                ParamKind::Integer { .. } => Value::Integer(v.parse().unwrap_or_else(|_| panic!("{flag} {v}"))),
                ParamKind::Real { .. } => Value::Real(v.parse().unwrap_or_else(|_| panic!("{flag} {v}"))),
                ParamKind::Choice { .. } => Value::Choice(v.to_owned()),
            })
            .collect();
        specs = specs.iter().flat_map(|s| values.iter().map(|v| s.clone().with(&param.name, v.clone()))).collect();
    }
    let splits: Vec<_> = files.iter().map(|f| carve(&common::read(f), fraction)).collect();
    let scale = Scale { min: scale_min, max: 5.0 };
    let results = Mutex::new(Vec::new());
    let next = Mutex::new(specs.into_iter());
    std::thread::scope(|threads| {
        for _ in 0..2 {
            threads.spawn(|| {
                while let Some(spec) = next.lock().unwrap().next() {
                    let typed = Algorithm::from_spec(&spec, &describe()).unwrap_or_else(|e| panic!("{e}"));
                    let t = Instant::now();
                    let mut sum = 0.0;
                    for (users, items, fit, valid) in &splits {
                        let data = RatingMatrix::new(*users, *items, fit);
                        let mut tr = Training::start(typed.clone(), &data, scale).unwrap();
                        while !tr.step(&data, &[], u64::MAX).finished {}
                        sum += rmse_of(tr.model().expect("not handed over"), valid);
                    }
                    let rmse = sum / splits.len() as f32;
                    println!("{rmse:.4} {:.2}s {:?}", t.elapsed().as_secs_f32(), typed.to_spec().params);
                    results.lock().unwrap().push((rmse, typed));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| b.0.total_cmp(&a.0));
    if let Some((rmse, p)) = results.last() {
        println!("best {rmse:.4} {:?}", p.to_spec().params);
    }
}
