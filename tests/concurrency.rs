//! Cinema beside other Cinemas, through the real binary: several writers at
//! once (`rate`, `rate --undo`, `import-ratings`) over many rounds, each
//! started after a random delay, on one data directory. Every acknowledged
//! change must be in the final log unless an acknowledged undo named it,
//! and every undo must have taken back exactly the change it named.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tempfile::TempDir;

const ROUNDS: u32 = 30;
/// Movies each round uses: two single ratings and an import of three.
const PER_ROUND: u32 = 5;

/// A dataset in the ML-100K layout with a movie for every change the test
/// makes, so each change touches movies no other change does.
fn dataset(parent: &Path) -> PathBuf {
    let dir = parent.join("many-movies");
    fs::create_dir_all(&dir).unwrap();
    let movies = ROUNDS * PER_ROUND + 10;
    let genres = "|0".repeat(18);
    let items: String = (1..=movies)
        .map(|m| format!("{m}|Film Number {m} (2000)|01-Jan-2000||http://example.invalid/{m}|1{genres}\n"))
        .collect();
    fs::write(dir.join("u.item"), items).unwrap();
    let data: String = (1..=30u32)
        .flat_map(|u| (0..20u32).map(move |k| (u, (u * 7 + k * 3) % movies + 1, (u + k) % 5 + 1)))
        .map(|(u, m, r)| format!("{u}\t{m}\t{r}\t{}\n", 880_000_000 + u * 1000 + m))
        .collect();
    fs::write(dir.join("u.data"), data).unwrap();
    dir
}

fn cinema(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cinema"));
    cmd.env_remove("CINEMA_HOME").arg("--home").arg(home).stdin(Stdio::null());
    cmd
}

/// One writer's acknowledged change.
#[derive(Debug, Clone, PartialEq)]
enum Acked {
    /// These movies were given these ratings (one rating, or an import's batch).
    Rated(Vec<(u64, f64)>),
    /// An undo that named the change it took back: its first movie and size
    /// (0 for a single rating).
    Undid { movie: u64, batch: u64, before: Option<f64> },
    /// An undo that changed nothing, or was refused because another writer
    /// came in between (it says so and writes nothing).
    Nothing,
}

fn run(home: &Path, dataset: &Path, args: Vec<String>) -> Acked {
    let output = cinema(home).args(&args).arg("--dataset").arg(dataset).arg("--json").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    if !output.status.success() {
        assert!(
            args.iter().any(|a| a == "--undo") && stderr.contains("nothing was undone"),
            "only an undo may refuse, and it must say it wrote nothing: {args:?}: {stderr}"
        );
        return Acked::Nothing;
    }
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stderr}"));
    if args[0] == "import-ratings" {
        let rated: Vec<(u64, f64)> = json["ratings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["movie_id"].as_u64().unwrap(), p["rating"].as_f64().unwrap()))
            .collect();
        assert_eq!(json["imported"].as_u64(), Some(rated.len() as u64), "{json}");
        return Acked::Rated(rated);
    }
    if json["changed"] == false {
        return Acked::Nothing;
    }
    let movie = json["movie_id"].as_u64().unwrap();
    if json["undo"] == true {
        return Acked::Undid { movie, batch: json["batch"].as_u64().unwrap(), before: json["before"].as_f64() };
    }
    Acked::Rated(vec![(movie, json["after"].as_f64().unwrap())])
}

#[test]
fn writers_at_once_lose_nothing_and_every_undo_takes_back_what_it_names() {
    let tmp = TempDir::new().unwrap();
    let home = tmp.path().join("home");
    let data = dataset(tmp.path());
    let imported = cinema(&home).arg("import").arg(&data).output().unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));

    let mut rng = StdRng::seed_from_u64(0x10c4);
    let mut acked = Vec::new();
    for round in 0..ROUNDS {
        let first = round * PER_ROUND + 1;
        let export = tmp.path().join(format!("letterboxd-{round}.csv"));
        let rows: String = (first + 2..first + 5)
            .map(|m| format!("2020-01-01,Film Number {m},2000,https://boxd.it/{m},4\n"))
            .collect();
        fs::write(&export, format!("Date,Name,Year,Letterboxd URI,Rating\n{rows}")).unwrap();
        let value = |k: u32| ((round + k) % 5 + 1).to_string();
        let mut writers: Vec<Vec<String>> = vec![
            vec!["rate".into(), first.to_string(), value(0)],
            vec!["rate".into(), (first + 1).to_string(), value(1)],
            vec!["import-ratings".into(), export.display().to_string()],
            vec!["rate".into(), "--undo".into()],
        ];
        if round % 3 == 0 {
            writers.push(vec!["rate".into(), "--undo".into()]);
        }
        let delays: Vec<u64> = writers.iter().map(|_| rng.random_range(0..60)).collect();
        let handles: Vec<_> = writers
            .into_iter()
            .zip(delays)
            .map(|(args, delay)| {
                let (home, data) = (home.clone(), data.clone());
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(delay));
                    run(&home, &data, args)
                })
            })
            .collect();
        acked.extend(handles.into_iter().map(|h| h.join().unwrap()));
    }

    // What must be left: every change, less those an undo named.
    let changes: Vec<&Vec<(u64, f64)>> =
        acked.iter().filter_map(|a| if let Acked::Rated(r) = a { Some(r) } else { None }).collect();
    let mut expected: BTreeMap<u64, f64> = changes.iter().flat_map(|r| r.iter().copied()).collect();
    let mut undos = 0;
    for a in &acked {
        let Acked::Undid { movie, batch, before } = a else { continue };
        let change = changes
            .iter()
            .find(|r| r[0].0 == *movie)
            .unwrap_or_else(|| panic!("an undo named movie {movie}, which no acknowledged change began with"));
        assert_eq!(*batch, if change.len() > 1 { change.len() as u64 } else { 0 }, "{a:?} against {change:?}");
        if *batch == 0 {
            assert_eq!(*before, Some(change[0].1), "the undo says it took back the rating that was given");
        }
        for (m, _) in change.iter() {
            assert!(expected.remove(m).is_some(), "movie {m} was undone twice");
        }
        undos += 1;
    }
    let listed = cinema(&home).arg("ratings").arg("--dataset").arg(&data).arg("--json").output().unwrap();
    assert!(listed.status.success());
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let got: BTreeMap<u64, f64> =
        listed.iter().map(|r| (r["movie_id"].as_u64().unwrap(), r["rating"].as_f64().unwrap())).collect();
    let refused = acked.iter().filter(|a| **a == Acked::Nothing).count();
    eprintln!(
        "{ROUNDS} rounds: {} changes acknowledged, {undos} undone as named, {refused} undos refused or with nothing to undo; {} ratings left",
        changes.len(),
        got.len()
    );
    assert_eq!(got, expected, "the log must hold exactly every acknowledged change not undone");
    assert!(undos >= ROUNDS as usize / 2, "the undos must mostly have had something to take back");
}

use crate::common;

/// Busy loops, twice as many as the machine has cores, until dropped: what a
/// compile or a video call beside Cinema does to it.
struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Load {
        use std::sync::atomic::{AtomicBool, Ordering};
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let threads = (0..2 * cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::black_box(0u64);
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.threads.drain(..).for_each(|t| t.join().unwrap());
    }
}

/// Module deadlines count the module's own CPU time, so a machine whose
/// cores are all taken by other work slows Cinema down but never fails it.
#[test]
fn on_a_busy_machine_a_first_start_rate_train_and_eval_all_succeed() {
    let tmp = TempDir::new().unwrap();
    let home = tmp.path().join("home");
    let data = common::shared().join("datasets/ml-latest-small");
    let _alone = common::timing_alone();
    let _load = Load::start();
    let steps: [&[&str]; 4] = [
        &["recommend", "--me", "-n", "5"],
        &["rate", "1", "4"],
        &["train", "--param", "epochs=20", "--rank-iterations", "5"],
        &["eval", "--protocol", "holdout", "--epochs", "20", "--ranking", "none"],
    ];
    for args in steps {
        let started = std::time::Instant::now();
        let output = cinema(&home).args(args).arg("--dataset").arg(&data).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "cinema {args:?} failed under load: {stderr}");
        eprintln!("under load: cinema {} took {:.1} s", args.join(" "), started.elapsed().as_secs_f64());
    }
}
