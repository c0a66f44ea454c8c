//! The bounded fuzzing pass CI runs: each target for a few seconds from the
//! committed corpus (read, never written), with no crash allowed.

use std::path::Path;
use std::time::Duration;

use cinema_fuzz::run::{Options, Report, fuzz};
use cinema_fuzz::targets;

/// Per target; `CINEMA_FUZZ_SECONDS` overrides.
const SECONDS: f64 = 6.0;

fn short_pass(name: &str) -> Report {
    let seconds = std::env::var("CINEMA_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(SECONDS);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name);
    let committed = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
    let options = Options {
        duration: Duration::from_secs_f64(seconds),
        seed: 42,
        corpus,
        grow_corpus: false,
        crashes: Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes").join(name),
        status_every: None,
    };
    let mut target = targets::by_name(name).unwrap();
    let report = fuzz(target.as_mut(), &options);
    println!("{}", report.summary());
    let crashes: Vec<String> =
        report.crashes.values().map(|c| format!("{}\n  input: {:?}", c.message, c.saved)).collect();
    assert!(crashes.is_empty(), "{name} crashed:\n{}", crashes.join("\n"));
    let seeds = target.seeds().len();
    assert!(committed >= seeds, "{name}: {committed} inputs in the committed corpus, fewer than its {seeds} seeds");
    assert!(report.executions > 1000, "{}", report.summary());
    report
}

#[test]
fn protocol() {
    let report = short_pass("protocol");
    assert!(report.features.iter().any(|f| f.ends_with("Recommend → Recommendations")), "never got as far as ranking");
}

#[test]
fn reply() {
    let report = short_pass("reply");
    assert!(report.features.iter().any(|f| f.starts_with("recommend: recommendations")));
    assert!(report.features.iter().any(|f| f.contains("refused") && f.contains("does not decode")));
}

#[test]
fn datasets() {
    let report = short_pass("datasets");
    for format in ["Ml100k", "Ml1m", "MlCsv"] {
        assert!(report.features.iter().any(|f| f.contains(format)), "no input imported as {format}");
    }
}
