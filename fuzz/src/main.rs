//! `cinema-fuzz <target|all> --seconds N [--seed S]`: fuzzes one target (or
//! each in turn) for N seconds, growing `fuzz/corpus/<target>/` and saving
//! crashing inputs to `fuzz/crashes/<target>/`; exits non-zero on a crash.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use cinema_fuzz::run::{Options, fuzz};
use cinema_fuzz::targets;

const USAGE: &str = "usage: cinema-fuzz <protocol|reply|datasets|all> --seconds N [--seed S]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((which, seconds, seed)) = parse(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let names: Vec<&str> = if which == "all" { targets::NAMES.to_vec() } else { vec![which.as_str()] };
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut reports = Vec::new();
    for name in names {
        let Some(mut target) = targets::by_name(name) else {
            eprintln!("no target called {name}\n{USAGE}");
            return ExitCode::from(2);
        };
        let options = Options {
            duration: Duration::from_secs_f64(seconds),
            seed,
            corpus: here.join("corpus").join(name),
            grow_corpus: true,
            crashes: here.join("crashes").join(name),
            status_every: Some(Duration::from_secs(10)),
        };
        eprintln!("fuzzing {name} for {seconds} s, seed {seed}");
        reports.push(fuzz(target.as_mut(), &options));
    }
    println!(
        "{:<10} {:>12} {:>10} {:>8} {:>9} {:>8}",
        "target", "executions", "execs/s", "corpus", "features", "crashes"
    );
    for r in &reports {
        println!(
            "{:<10} {:>12} {:>10.0} {:>8} {:>9} {:>8}",
            r.target,
            r.executions,
            r.execs_per_second(),
            r.corpus,
            r.features.len(),
            r.crash_count()
        );
        for crash in r.crashes.values() {
            println!("  {} × {}\n    saved to {:?}", crash.hits, crash.message.replace('\n', "\n    "), crash.saved);
        }
    }
    if reports.iter().any(|r| r.crash_count() > 0) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// (target, seconds, seed) from the arguments.
fn parse(args: &[String]) -> Option<(String, f64, u64)> {
    let (which, mut seconds, mut seed) = (args.first()?.clone(), None, 1);
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next()?;
        match flag.as_str() {
            "--seconds" => seconds = Some(value.parse().ok().filter(|s: &f64| *s >= 0.0)?),
            "--seed" => seed = value.parse().ok()?,
            _ => return None,
        }
    }
    Some((which, seconds?, seed))
}
