//! Your data against `kill -9` and damaged files, through the real `cinema`
//! binary: it is killed at random moments while it rates, removes and undoes
//! (on ML-100K) and while a first start imports, compiles and trains, and
//! every acknowledged change must survive and every saved model must load or
//! be absent; torn, flipped and future-format files must be reported while
//! the rest of the data still loads.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cinema_store::models;
use cinema_store::versions::Versions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::common::{self, shared};

// --- Helpers -----------------------------------------------------------------

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn ml100k() -> PathBuf {
    shared().join("datasets/ml-100k")
}

/// A small synthetic dataset in the ML-100K layout (40 movies, 60 users × 20
/// ratings), so a first start trains in milliseconds and can be killed often.
fn tiny_dataset(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    fs::create_dir_all(&dir).unwrap();
    let flags = |m: u32| (0..19).map(|g| if g == m % 19 { "|1" } else { "|0" }).collect::<String>();
    let items: String = (1..=TINY_MOVIES)
        .map(|m| format!("{m}|Synthetic Movie {m} (2000)|01-Jan-2000||http://example.invalid/{m}{}\n", flags(m)))
        .collect();
    fs::write(dir.join("u.item"), items).unwrap();
    let data: String = (1..=60u32)
        .flat_map(|u| (0..20u32).map(move |k| (u, (u * 7 + k * 3) % TINY_MOVIES + 1, (u + k) % 5 + 1)))
        .map(|(u, m, r)| format!("{u}\t{m}\t{r}\t{}\n", 880_000_000 + u * 100 + m))
        .collect();
    fs::write(dir.join("u.data"), data).unwrap();
    dir
}

const TINY_MOVIES: u32 = 40;

/// Fixed so a failing run can be replayed (the kill moments still vary with timing).
const SEED: u64 = 0x4b11_9d0a;

/// The binary with its own data directory.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Home {
        Home { dir: TempDir::new().unwrap() }
    }

    fn cinema(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cinema"));
        cmd.env_remove("CINEMA_HOME").env_remove("CINEMA_LOG").arg("--home").arg(self.dir.path());
        cmd.stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = self.cinema().args(args).output().unwrap();
        assert_no_panic(&output.stderr);
        output
    }

    /// Runs and expects success; returns stderr.
    fn succeeds(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "cinema {args:?} failed: {stderr}");
        stderr
    }

    /// Your ratings as `cinema ratings --json` lists them, and the stderr of
    /// opening the dataset with its model (`recommend --me`, which loads,
    /// checks and if need be retrains it) and of listing them.
    fn ratings(&self, dataset: &Path) -> (BTreeMap<u32, u8>, String) {
        let served = self.run(&["recommend", "--me", "-n", "1", "--dataset", &shown(dataset)]);
        let mut stderr = String::from_utf8_lossy(&served.stderr).into_owned();
        assert!(served.status.success(), "cinema recommend failed: {stderr}");
        let output = self.run(&["ratings", "--dataset", &shown(dataset), "--json"]);
        stderr.push_str(&String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "cinema ratings failed: {stderr}");
        let list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        let ratings = list
            .iter()
            .map(|r| {
                let value = r["rating"].as_f64().unwrap();
                assert_eq!(value.fract(), 0.0, "{r}");
                (r["movie_id"].as_u64().unwrap() as u32, value as u8)
            })
            .collect();
        (ratings, stderr)
    }

    fn log_path(&self, dataset: &Path) -> PathBuf {
        self.dir.path().join("ratings").join(format!("{}.log", name(dataset)))
    }

    fn log_len(&self, dataset: &Path) -> u64 {
        fs::metadata(self.log_path(dataset)).map(|m| m.len()).unwrap_or(0)
    }

    fn models_dir(&self, dataset: &Path) -> PathBuf {
        self.dir.path().join("models").join(name(dataset))
    }

    /// The active model version's file (which may not exist yet).
    fn model_path(&self, dataset: &Path) -> PathBuf {
        let versions = Versions::open(&self.models_dir(dataset)).unwrap().0;
        versions.path(versions.active().unwrap().unwrap_or(1))
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn name(dataset: &Path) -> String {
    dataset.file_name().unwrap().to_string_lossy().into_owned()
}

fn assert_no_panic(stderr: &[u8]) {
    let stderr = String::from_utf8_lossy(stderr);
    assert!(!stderr.contains("panicked"), "cinema panicked: {stderr}");
}

/// One change, as `cinema rate` takes it.
#[derive(Debug, Clone, Copy)]
enum Op {
    Rate(u32, u8),
    Remove(u32),
    Undo,
}

impl Op {
    fn args(self, dataset: &Path) -> Vec<String> {
        let mut args = vec!["rate".to_string(), "--dataset".into(), shown(dataset)];
        match self {
            Op::Rate(movie, value) => args.extend([movie.to_string(), value.to_string()]),
            Op::Remove(movie) => args.extend(["--remove".into(), movie.to_string()]),
            Op::Undo => args.push("--undo".into()),
        }
        args
    }

    fn random(rng: &mut StdRng, movies: u32) -> Op {
        let movie = rng.random_range(1..=movies);
        match rng.random_range(0..20) {
            0..14 => Op::Rate(movie, rng.random_range(1..=5)),
            14..17 => Op::Remove(movie),
            _ => Op::Undo,
        }
    }
}

/// What the log should hold: an independent model of its rules (a change
/// pushes what the movie had before; undo pops and restores it).
#[derive(Debug, Default, Clone)]
struct Reference {
    ratings: BTreeMap<u32, u8>,
    undo: Vec<(u32, Option<u8>)>,
}

impl Reference {
    /// Applies `op`; false when it changes nothing, so the log writes nothing.
    fn apply(&mut self, op: Op) -> bool {
        let (movie, before) = match op {
            Op::Rate(movie, value) => {
                let before = self.ratings.insert(movie, value);
                self.undo.push((movie, before));
                return true;
            }
            Op::Remove(movie) => match self.ratings.remove(&movie) {
                Some(before) => (movie, Some(before)),
                None => return false,
            },
            Op::Undo => {
                let Some((movie, before)) = self.undo.pop() else { return false };
                match before {
                    Some(value) => self.ratings.insert(movie, value),
                    None => self.ratings.remove(&movie),
                };
                return true;
            }
        };
        self.undo.push((movie, before));
        true
    }
}

/// When to send SIGKILL.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// As soon as the acknowledgement line has been read from stdout.
    Ack,
    /// This long after the start, acknowledged or not.
    After(Duration),
}

struct Killed {
    /// The acknowledgement (`saved: …` or `nothing to change`), if it was printed.
    ack: Option<String>,
    /// Whether SIGKILL ended it (rather than it exiting first).
    by_signal: bool,
}

/// Starts `cinema`, kills it with SIGKILL at `at` (std's `Child::kill` sends
/// SIGKILL on Unix), and reports what it acknowledged before dying.
fn run_and_kill(mut cmd: Command, at: KillAt) -> Killed {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    match at {
        KillAt::Ack => {
            stdout.read_line(&mut first).unwrap();
        }
        KillAt::After(delay) => std::thread::sleep(delay),
    }
    // An already exited (unreaped) child is no error: `by_signal` tells them apart.
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    assert_no_panic(&stderr);
    let by_signal = status.signal() == Some(SIGKILL);
    assert!(by_signal || status.success(), "cinema failed on its own ({status}): {}", String::from_utf8_lossy(&stderr));
    let ack =
        (first + &rest).lines().find(|l| l.starts_with("saved: ") || *l == "nothing to change").map(str::to_owned);
    Killed { ack, by_signal }
}

/// SIGKILL's number on every Unix.
const SIGKILL: i32 = 9;

/// How long a warm `cinema rate` lives, so kill moments can be spread over
/// its whole life on a fast or a loaded machine alike.
fn lifetime(home: &Home, dataset: &Path, reference: &mut Reference, ops: &[Op]) -> Duration {
    let mut times: Vec<Duration> = ops
        .iter()
        .map(|&op| {
            let started = Instant::now();
            home.succeeds(&op.args(dataset).iter().map(String::as_str).collect::<Vec<_>>());
            reference.apply(op);
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Whole records in the log: a kill may leave a torn tail, which the next
/// start drops (it was never acknowledged), so only whole records count.
fn whole_records(home: &Home, dataset: &Path, header: u64, record: u64) -> u64 {
    home.log_len(dataset).saturating_sub(header) / record
}

/// Header and record sizes of the log, measured rather than assumed: the
/// size of a fresh log, then what one rating adds.
fn log_layout(home: &Home, dataset: &Path, reference: &mut Reference) -> (u64, u64) {
    home.succeeds(&["ratings", "--dataset", &shown(dataset)]);
    let header = home.log_len(dataset);
    let op = Op::Rate(1, 3);
    home.succeeds(&op.args(dataset).iter().map(String::as_str).collect::<Vec<_>>());
    reference.apply(op);
    let record = home.log_len(dataset) - header;
    assert!(header > 0 && record > 0, "header {header}, record {record}");
    (header, record)
}

/// The value after `→` in an acknowledgement, `None` for `unrated`.
fn acknowledged_value(ack: &str) -> Option<u8> {
    let after = ack.rsplit(" → ").next().unwrap();
    (after != "unrated").then(|| after.parse().unwrap_or_else(|_| panic!("odd acknowledgement: {ack}")))
}

#[derive(Debug, Default)]
struct Tally {
    rounds: u32,
    kills: u32,
    /// Killed before its record reached the log.
    before_write: u32,
    /// Killed with its record in the log but no acknowledgement printed.
    written_unacknowledged: u32,
    /// Killed after printing its acknowledgement.
    after_ack: u32,
    /// Acknowledged changes whose record was checked to be in the log.
    acknowledged: u32,
}

/// Runs `op` and kills it at `at`, then checks the log against `reference`:
/// an acknowledged change is in the log, and the acknowledgement says what
/// the reference says.
fn kill_round(
    home: &Home,
    dataset: &Path,
    (header, record): (u64, u64),
    reference: &mut Reference,
    op: Op,
    at: KillAt,
    tally: &mut Tally,
) {
    let before = whole_records(home, dataset, header, record);
    let mut cmd = home.cinema();
    cmd.args(op.args(dataset));
    let killed = run_and_kill(cmd, at);
    let after = whole_records(home, dataset, header, record);
    assert!(after - before <= 1, "one change wrote {} records", after - before);
    let written = after > before;
    let mut expected = reference.clone();
    let changes = expected.apply(op);
    if written {
        assert!(changes, "{op:?} changes nothing, yet a record was written");
        *reference = expected;
    }
    match &killed.ack {
        Some(ack) if ack == "nothing to change" => assert!(!changes && !written, "{op:?}: {ack}"),
        Some(ack) => {
            assert!(written, "{op:?} was acknowledged ({ack}) but its record is not in the log");
            let movie = match op {
                Op::Rate(m, _) | Op::Remove(m) => Some(m),
                Op::Undo => None,
            };
            if let Some(movie) = movie {
                assert_eq!(acknowledged_value(ack), reference.ratings.get(&movie).copied(), "{op:?}: {ack}");
            }
            tally.acknowledged += 1;
        }
        None => {}
    }
    tally.count(&killed, written);
}

impl Tally {
    /// Counts a round, and when it was killed, at which moment.
    fn count(&mut self, killed: &Killed, written: bool) {
        self.rounds += 1;
        if killed.by_signal {
            self.kills += 1;
            match (&killed.ack, written) {
                (Some(_), _) => self.after_ack += 1,
                (None, true) => self.written_unacknowledged += 1,
                (None, false) => self.before_write += 1,
            }
        }
    }

    /// Whether to go on killing until `kills`, failing once `rounds` ran
    /// without enough processes still alive at the kill.
    fn short_of(&self, kills: u32, rounds: u32) -> bool {
        assert!(
            self.rounds < rounds,
            "only {} of {} processes were still running at the kill",
            self.kills,
            self.rounds
        );
        self.kills < kills
    }
}

// --- kill -9 -------------------------------------------------------------------

/// The promise behind "saved": once `cinema rate` has printed its
/// acknowledgement, killing it at once loses nothing.
#[test]
fn killing_cinema_right_after_it_acknowledges_a_rating_loses_nothing() {
    let home = Home::new();
    let dataset = ml100k();
    let mut reference = Reference::default();
    let layout = log_layout(&home, &dataset, &mut reference);
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut tally = Tally::default();
    let started = Instant::now();
    while tally.short_of(100, 300) {
        let op = Op::Rate(rng.random_range(1..=200), rng.random_range(1..=5));
        kill_round(&home, &dataset, layout, &mut reference, op, KillAt::Ack, &mut tally);
        // Checked after every kill, by a fresh process reading the log.
        let (ratings, stderr) = home.ratings(&dataset);
        assert_eq!(ratings, reference.ratings, "after {op:?} ({stderr})");
        assert!(!stderr.contains("warning"), "{stderr}");
    }
    assert_eq!(tally.acknowledged, tally.rounds, "every round was acknowledged before the kill");
    println!("kill right after the acknowledgement: {tally:?} in {:.1?}", started.elapsed());
}

/// SIGKILL at moments spread over the whole life of `cinema rate`, `--remove`
/// and `--undo` (start-up, replaying the log, loading the model, writing,
/// syncing, acknowledging, shutting down): every acknowledged change is in the
/// log with its value, nothing unacknowledged leaves a half record behind,
/// and the log always opens.
#[test]
fn kill_9_at_random_moments_never_loses_an_acknowledged_change() {
    // Kill moments are drawn from timings taken here: not beside the busy-machine test.
    let _alone = common::timing_alone();
    let home = Home::new();
    let dataset = ml100k();
    let mut reference = Reference::default();
    let layout = log_layout(&home, &dataset, &mut reference);
    let warm = lifetime(&home, &dataset, &mut reference, &[Op::Rate(2, 4), Op::Rate(3, 2), Op::Rate(2, 5)]);
    let mut rng = StdRng::seed_from_u64(SEED ^ 1);
    let mut tally = Tally::default();
    let started = Instant::now();
    while tally.short_of(120, 400) {
        let op = Op::random(&mut rng, 12);
        let at =
            if tally.rounds % 4 == 0 { KillAt::Ack } else { KillAt::After(warm.mul_f64(rng.random_range(0.0..1.2))) };
        kill_round(&home, &dataset, layout, &mut reference, op, at, &mut tally);
        if tally.rounds % 10 == 0 {
            assert_eq!(home.ratings(&dataset).0, reference.ratings, "after round {}", tally.rounds);
        }
    }
    let (ratings, stderr) = home.ratings(&dataset);
    assert_eq!(ratings, reference.ratings);
    assert!(!stderr.contains("warning"), "{stderr}");
    println!("kill at random moments (process lifetime {warm:.1?}): {tally:?} in {:.1?}", started.elapsed());
    assert!(tally.before_write > 0 && tally.after_ack > 0, "the kills did not spread over the write: {tally:?}");
}

/// SIGKILL during first starts on a small dataset: importing and caching it,
/// compiling the engine module, training the default model and saving it.
/// After every kill the saved model either loads or is absent, and the next
/// start recovers with every acknowledged rating.
#[test]
fn kill_9_during_a_first_start_leaves_each_saved_model_whole_or_absent() {
    // Kill moments are drawn from timings taken here: not beside the busy-machine test.
    let _alone = common::timing_alone();
    let home = Home::new();
    let data = TempDir::new().unwrap();
    let dataset = tiny_dataset(data.path(), "tiny");
    let mut reference = Reference::default();
    log_layout(&home, &dataset, &mut reference);
    let cold_start = |home: &Home, everything: bool| {
        let _ = fs::remove_dir_all(home.models_dir(&dataset));
        if everything {
            let _ = fs::remove_dir_all(home.dir.path().join("cache"));
        }
    };
    // `rate` saves without a model; the first start that trains is the
    // first command that serves a list.
    let first_start = || {
        let mut cmd = home.cinema();
        cmd.args(["recommend", "--me", "-n", "1", "--dataset", &shown(&dataset)]);
        cmd
    };
    let mut times = BTreeMap::new();
    for everything in [false, true] {
        cold_start(&home, everything);
        let started = Instant::now();
        let output = first_start().output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        times.insert(everything, started.elapsed());
    }
    let mut rng = StdRng::seed_from_u64(SEED ^ 2);
    let (mut tally, mut absent, mut loaded) = (Tally::default(), 0, 0);
    let started = Instant::now();
    while tally.short_of(40, 150) {
        let op = Op::Rate(rng.random_range(1..=TINY_MOVIES), rng.random_range(1..=5));
        home.succeeds(&op.args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
        reference.apply(op);
        // Now and then the caches go too: re-import and recompile as well.
        let everything = tally.rounds % 8 == 0;
        cold_start(&home, everything);
        let at = KillAt::After(times[&everything].mul_f64(rng.random_range(0.0..1.2)));
        let killed = run_and_kill(first_start(), at);
        tally.rounds += 1;
        tally.kills += u32::from(killed.by_signal);
        // The lifetime measured at the start may have been slowed by other
        // tests: a start that ended before its kill shortens the estimate, a
        // killed one lengthens it a little, so kills keep landing in its life.
        let estimate = times.get_mut(&everything).expect("both kinds were timed");
        *estimate = estimate.mul_f64(if killed.by_signal { 1.05 } else { 0.8 });
        let model = home.model_path(&dataset);
        if model.exists() {
            models::load(&model).unwrap_or_else(|e| panic!("a killed first start left a damaged model: {e:#}"));
            loaded += 1;
        } else {
            absent += 1;
        }
        if tally.rounds % 5 == 0 {
            assert_eq!(home.ratings(&dataset).0, reference.ratings, "after round {}", tally.rounds);
            models::load(&model).expect("the next start saves a model that loads");
        }
    }
    assert_eq!(home.ratings(&dataset).0, reference.ratings);
    // A kill between writing the temporary file and renaming it leaves the
    // temporary file behind; it is never mistaken for a model.
    let leftovers = fs::read_dir(home.models_dir(&dataset))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".tmp"))
        .count();
    println!(
        "kill during first starts (lifetimes {times:?}): {tally:?}, model absent {absent}, loaded {loaded}, \
         {leftovers} temporary files left, in {:.1?}",
        started.elapsed()
    );
    assert!(absent > 0, "no kill landed before the model was saved: {tally:?}");
}

// --- Damaged files -------------------------------------------------------------

/// A home with three acknowledged ratings of the small dataset and a saved
/// model, and the log's layout.
fn home_with_three_ratings() -> (Home, TempDir, PathBuf, (u64, u64)) {
    let home = Home::new();
    let data = TempDir::new().unwrap();
    let dataset = tiny_dataset(data.path(), "tiny");
    let mut reference = Reference::default();
    let layout = log_layout(&home, &dataset, &mut reference);
    for op in [Op::Rate(2, 5), Op::Rate(3, 2)] {
        home.succeeds(&op.args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
    }
    // `rate` needs no model; serving a list trains and saves the first.
    home.ratings(&dataset);
    (home, data, dataset, layout)
}

fn edit(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = fs::read(path).unwrap();
    change(&mut bytes);
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_torn_last_record_is_dropped_with_a_warning_and_the_rest_loads() {
    let (home, _data, dataset, (_, record)) = home_with_three_ratings();
    edit(&home.log_path(&dataset), |b| b.truncate(b.len() - record as usize + 5));
    let (ratings, stderr) = home.ratings(&dataset);
    assert!(stderr.contains("warning:") && stderr.contains("dropped a torn record at the end (5 bytes"), "{stderr}");
    assert_eq!(ratings, BTreeMap::from([(1, 3), (2, 5)]));
    // Repaired: the next start has nothing to report, and new ratings append cleanly.
    home.succeeds(&Op::Rate(9, 1).args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
    let (ratings, stderr) = home.ratings(&dataset);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(ratings, BTreeMap::from([(1, 3), (2, 5), (9, 1)]));
}

#[test]
fn a_flipped_byte_in_a_record_is_a_checksum_mismatch_reported_and_skipped() {
    let (home, _data, dataset, (header, record)) = home_with_three_ratings();
    // The second record's rating value.
    edit(&home.log_path(&dataset), |b| b[(header + record + 6) as usize] ^= 0x40);
    let (ratings, stderr) = home.ratings(&dataset);
    assert!(stderr.contains("skipped damaged record #2 (checksum mismatch)"), "{stderr}");
    assert_eq!(ratings, BTreeMap::from([(1, 3), (3, 2)]));
}

#[test]
fn a_ratings_log_of_an_unknown_format_is_refused_untouched_while_the_rest_loads() {
    let (home, data, dataset, _) = home_with_three_ratings();
    let other = tiny_dataset(data.path(), "other");
    home.succeeds(&Op::Rate(7, 4).args(&other).iter().map(String::as_str).collect::<Vec<_>>());
    let log = home.log_path(&dataset);
    // Bytes 8..12 hold the format version (see ratings_log.rs).
    edit(&log, |b| b[8..12].copy_from_slice(&7u32.to_le_bytes()));
    let future = fs::read(&log).unwrap();
    let output = home.run(&["ratings", "--dataset", &shown(&dataset), "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("is a ratings log of format 7; this Cinema reads formats 1 to 3"), "{stderr}");
    assert!(stderr.contains("left untouched"), "{stderr}");
    assert_eq!(fs::read(&log).unwrap(), future, "the newer log must not be rewritten");
    models::load(&home.model_path(&dataset)).expect("the dataset's model still loads");
    assert_eq!(home.ratings(&other).0, BTreeMap::from([(7, 4)]), "another dataset's ratings still load");
}

/// A way to damage a file's bytes.
type Damage = fn(&mut Vec<u8>);

/// Damage to the saved model is reported, it is retrained (the dataset and
/// your ratings are all it is made of), and your ratings are untouched.
#[test]
fn a_flipped_or_truncated_saved_model_is_reported_and_retrained_and_ratings_survive() {
    let (home, _data, dataset, _) = home_with_three_ratings();
    let damages: [(&str, Damage, &str); 3] = [
        (
            "flipped byte in the model",
            |b| {
                let middle = b.len() / 2;
                b[middle] ^= 0x01
            },
            "damaged (checksum mismatch)",
        ),
        ("flipped byte in the checksum", |b| *b.last_mut().unwrap() ^= 0x80, "damaged (checksum mismatch)"),
        ("truncated", |b| b.truncate(20), "not a Cinema model file"),
    ];
    for (what, damage, message) in damages {
        let model = home.model_path(&dataset);
        edit(&model, damage);
        assert!(models::load(&model).is_err(), "{what}");
        let (ratings, stderr) = home.ratings(&dataset);
        assert!(
            stderr.contains("warning:") && stderr.contains(message) && stderr.contains("retraining"),
            "{what}: {stderr}"
        );
        assert_eq!(ratings, BTreeMap::from([(1, 3), (2, 5), (3, 2)]), "{what}");
        let retrained = home.model_path(&dataset);
        assert_ne!(retrained, model, "{what}: a new version serves");
        models::load(&retrained).unwrap_or_else(|e| panic!("{what}: the retrained model does not load: {e:#}"));
    }
}

#[test]
fn a_saved_model_of_an_unknown_format_is_reported_and_retrained() {
    let (home, _data, dataset, _) = home_with_three_ratings();
    let model = home.model_path(&dataset);
    // A well-formed file of a future format: version at 8..12, a valid
    // SHA-256 of everything before the last 32 bytes (see models.rs).
    edit(&model, |b| {
        b[8..12].copy_from_slice(&7u32.to_le_bytes());
        let body = b.len() - 32;
        let digest = Sha256::digest(&b[..body]);
        b[body..].copy_from_slice(&digest);
    });
    let (ratings, stderr) = home.ratings(&dataset);
    assert!(stderr.contains("of format 7, this Cinema reads format 1; retraining"), "{stderr}");
    assert_eq!(ratings, BTreeMap::from([(1, 3), (2, 5), (3, 2)]));
    models::load(&home.model_path(&dataset)).expect("the retrained model loads");
}

// --- Model versions ------------------------------------------------------------

/// Every `v<N>.cmodel` in the dataset's models folder, by id, with its bytes.
fn version_files(home: &Home, dataset: &Path) -> BTreeMap<u32, Vec<u8>> {
    let Ok(entries) = fs::read_dir(home.models_dir(dataset)) else { return BTreeMap::new() };
    entries
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix('v')?.strip_suffix(".cmodel")?.parse().ok()?;
            Some((id, fs::read(e.path()).unwrap()))
        })
        .collect()
}

/// `cinema train` killed at random moments — while it trains, scores, or
/// writes its version — never touches an earlier version, and never leaves a
/// half-written one where the listing would find it: every `v<N>.cmodel`
/// loads, and `versions list` lists exactly those.
#[test]
fn kill_9_during_training_or_a_version_write_leaves_every_version_whole() {
    // Kill moments are drawn from timings taken here: not beside the busy-machine test.
    let _alone = common::timing_alone();
    let home = Home::new();
    let data = TempDir::new().unwrap();
    let dataset = tiny_dataset(data.path(), "tiny");
    let train = ["train", "--dataset", &shown(&dataset), "--epochs", "40"];
    let mut lives = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        home.succeeds(&train);
        lives.push(started.elapsed());
    }
    lives.sort();
    let life = lives[1];
    let earlier = version_files(&home, &dataset);
    assert_eq!(earlier.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
    let mut rng = StdRng::seed_from_u64(SEED ^ 3);
    let (mut killed, mut saved_before_kill) = (0, 0);
    for round in 0..30 {
        let before = version_files(&home, &dataset).len();
        let mut cmd = home.cinema();
        cmd.args(train);
        let outcome = run_and_kill(cmd, KillAt::After(life.mul_f64(rng.random_range(0.2..1.1))));
        killed += usize::from(outcome.by_signal);
        let now = version_files(&home, &dataset);
        saved_before_kill += usize::from(outcome.by_signal && now.len() > before);
        for (id, bytes) in &earlier {
            assert_eq!(now.get(id), Some(bytes), "round {round}: v{id} changed");
        }
        for id in now.keys() {
            let path = home.models_dir(&dataset).join(format!("v{id}.cmodel"));
            models::load(&path).unwrap_or_else(|e| panic!("round {round}: a listed version does not load: {e:#}"));
        }
        let list = home.run(&["versions", "list", "--json", "--dataset", &shown(&dataset)]);
        assert!(list.status.success() && list.stderr.is_empty(), "{}", String::from_utf8_lossy(&list.stderr));
        let listed: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
        let ids: Vec<u64> = listed.iter().map(|v| v["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, now.keys().map(|&id| u64::from(id)).collect::<Vec<_>>(), "round {round}");
        assert_eq!(listed.iter().filter(|v| v["active"] == true).count(), 1, "round {round}: one serves");
    }
    println!("{killed} of 30 trainings killed, {saved_before_kill} of them after their version was saved");
    assert!(killed >= 10, "too few kills landed during training ({killed})");
}

// --- Importing your history ------------------------------------------------------

/// `cinema import-ratings` killed at random moments: each import is one
/// batch, so the ratings are all of one import or all of the one before —
/// never part of one — and every acknowledged import survives.
#[test]
fn kill_9_during_an_import_leaves_whole_batches_only() {
    // Kill moments are drawn from timings taken here: not beside the busy-machine test.
    let _alone = common::timing_alone();
    let home = Home::new();
    let data = TempDir::new().unwrap();
    let dataset = tiny_dataset(data.path(), "tiny");
    let export = data.path().join("ratings.csv");
    let write_export = |stars: u32| {
        let rows: String = (1..=TINY_MOVIES)
            .map(|m| format!("2024-01-01,Synthetic Movie {m},2000,https://boxd.it/{m},{stars}\n"))
            .collect();
        fs::write(&export, format!("Date,Name,Year,Letterboxd URI,Rating\n{rows}")).unwrap();
    };
    let import = ["import-ratings", &shown(&export), "--dataset", &shown(&dataset)];
    write_export(1);
    let started = Instant::now();
    home.succeeds(&import);
    let life = started.elapsed();
    let mut rng = StdRng::seed_from_u64(SEED ^ 4);
    let (mut current, mut killed) = (1u8, 0);
    for round in 2..=31u32 {
        let stars = (round % 5 + 1) as u8;
        write_export(u32::from(stars));
        let mut cmd = home.cinema();
        cmd.args(import);
        let outcome = run_and_kill(cmd, KillAt::After(life.mul_f64(rng.random_range(0.1..1.2))));
        killed += usize::from(outcome.by_signal);
        let (ratings, stderr) = home.ratings(&dataset);
        let values: std::collections::BTreeSet<u8> = ratings.values().copied().collect();
        assert_eq!(ratings.len(), TINY_MOVIES as usize, "round {round}: {stderr}");
        assert_eq!(values.len(), 1, "round {round}: part of a batch was applied: {ratings:?}");
        let now = *values.iter().next().unwrap();
        assert!(
            now == stars || now == current,
            "round {round}: {now}, neither this import's {stars} nor the last's {current}"
        );
        if !outcome.by_signal {
            assert_eq!(now, stars, "round {round}: an acknowledged import was lost");
        }
        current = now;
    }
    println!("{killed} of 30 imports killed");
}

// --- Read-only and full disks ----------------------------------------------------

/// A small tmpfs mounted over `dir` for as long as it lives (Cinema's CI
/// runs as root, where `mount` works); `None` where mounting is not allowed.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: this test needs to mount a tmpfs (run as root)");
        }
        ok.then(|| Tmpfs { dir: dir.to_owned() })
    }

    fn remount(&self, how: &str) {
        let status = Command::new("mount").args(["-o", &format!("remount,{how}")]).arg(&self.dir).status().unwrap();
        assert!(status.success(), "remount {how}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// A data directory on a read-only disk still lists your ratings and serves
/// the saved model; a change says why it cannot be made, and nothing is rewritten.
#[test]
fn a_read_only_data_directory_serves_what_it_has_and_refuses_changes_clearly() {
    let outer = TempDir::new().unwrap();
    let Some(disk) = Tmpfs::mount(&outer.path().join("home"), "64m") else { return };
    let home = Home { dir: tempfile::Builder::new().tempdir_in(&disk.dir).unwrap() };
    let data = TempDir::new().unwrap();
    let dataset = tiny_dataset(data.path(), "tiny");
    home.succeeds(&Op::Rate(1, 3).args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
    let (ratings, _) = home.ratings(&dataset);
    assert_eq!(ratings, BTreeMap::from([(1, 3)]));
    let log = fs::read(home.log_path(&dataset)).unwrap();
    disk.remount("ro");

    let (ratings, stderr) = home.ratings(&dataset);
    assert_eq!(ratings, BTreeMap::from([(1, 3)]), "{stderr}");
    assert!(!stderr.contains("retraining"), "the saved model serves: {stderr}");
    let refused = home.run(&Op::Rate(2, 4).args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("read-only") && stderr.contains("--home"), "{stderr}");
    disk.remount("rw");
    assert_eq!(fs::read(home.log_path(&dataset)).unwrap(), log, "nothing was rewritten");
    assert_eq!(home.ratings(&dataset).0, BTreeMap::from([(1, 3)]));
}

/// On a full disk a first start still serves its freshly trained model for
/// the session (and says once that it could not be kept); a rating is
/// either acknowledged and kept, or refused with the disk named and lost
/// nowhere; once there is room again everything works and the log is whole.
#[test]
fn a_full_disk_serves_the_trained_model_unsaved_and_never_damages_the_log() {
    let outer = TempDir::new().unwrap();
    let Some(disk) = Tmpfs::mount(&outer.path().join("home"), "8m") else { return };
    let home = Home { dir: tempfile::Builder::new().tempdir_in(&disk.dir).unwrap() };
    let data = TempDir::new().unwrap();
    let dataset = tiny_dataset(data.path(), "tiny");
    home.succeeds(&Op::Rate(1, 3).args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
    // Fill the disk: what is left is too little for a model version.
    let filler = disk.dir.join("filler");
    let mut file = fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 << 10];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    drop(file);

    let served = home.run(&["recommend", "--me", "-n", "3", "--dataset", &shown(&dataset)]);
    let stderr = String::from_utf8_lossy(&served.stderr);
    assert!(served.status.success(), "a full disk must not stop the list: {stderr}");
    assert!(stderr.contains("could not be saved"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&served.stdout).lines().count(), 3, "{stderr}");

    let mut reference = BTreeMap::from([(1, 3)]);
    for (movie, value) in [(2, 4), (3, 5), (4, 1)] {
        let out = home.run(&Op::Rate(movie, value).args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
        if out.status.success() {
            reference.insert(movie, value);
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("could not save") || stderr.contains("No space"), "{stderr}");
        }
    }
    assert!(home.run(&["ratings", "--dataset", &shown(&dataset), "--json"]).status.success());
    fs::remove_file(&filler).unwrap();
    let (ratings, stderr) = home.ratings(&dataset);
    assert_eq!(ratings, reference, "{stderr}");
    assert!(!stderr.contains("damaged"), "{stderr}");
    home.succeeds(&Op::Rate(5, 2).args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
    reference.insert(5, 2);
    assert_eq!(home.ratings(&dataset).0, reference);
}

/// Two datasets whose folders share a name are told apart by their movies:
/// each keeps its own ratings, and the second is told why it has a place
/// of its own.
#[test]
fn a_different_dataset_under_a_familiar_name_never_sees_your_ratings_of_other_movies() {
    let home = Home::new();
    let data = TempDir::new().unwrap();
    let first = tiny_dataset(&data.path().join("a"), "movies");
    let second = tiny_dataset(&data.path().join("b"), "movies");
    // The same layout and ids, other films.
    let items = fs::read_to_string(second.join("u.item")).unwrap().replace("Synthetic Movie", "Another Film");
    fs::write(second.join("u.item"), items).unwrap();

    home.succeeds(&Op::Rate(5, 4).args(&first).iter().map(String::as_str).collect::<Vec<_>>());
    let (theirs, stderr) = home.ratings(&second);
    assert!(theirs.is_empty(), "another catalogue's movie 5 is not the one you rated: {theirs:?}");
    assert!(stderr.contains("another dataset called movies") && stderr.contains("kept apart"), "{stderr}");
    home.succeeds(&Op::Rate(5, 2).args(&second).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(home.ratings(&second).0, BTreeMap::from([(5, 2)]));
    let (mine, stderr) = home.ratings(&first);
    assert_eq!(mine, BTreeMap::from([(5, 4)]));
    assert!(!stderr.contains("kept apart"), "the first keeps its name: {stderr}");
}

// --- kill -9 while steering ----------------------------------------------------

/// One change to your marks or watchlist, as `cinema hide`, `cinema
/// watchlist` and `cinema rate --undo` take it.
#[derive(Debug, Clone, Copy)]
enum Steer {
    Hide(u32),
    Unhide(u32),
    Watch(u32),
    Unwatch(u32),
    Undo,
}

impl Steer {
    fn args(self, dataset: &Path) -> Vec<String> {
        let words: Vec<String> = match self {
            Steer::Hide(m) => vec!["hide".into(), m.to_string()],
            Steer::Unhide(m) => vec!["hide".into(), "--remove".into(), m.to_string()],
            Steer::Watch(m) => vec!["watchlist".into(), "add".into(), m.to_string()],
            Steer::Unwatch(m) => vec!["watchlist".into(), "remove".into(), m.to_string()],
            Steer::Undo => vec!["rate".into(), "--undo".into()],
        };
        words.into_iter().chain(["--dataset".into(), shown(dataset)]).collect()
    }

    fn random(rng: &mut StdRng, movies: u32) -> Steer {
        let movie = rng.random_range(1..=movies);
        match rng.random_range(0..10) {
            0..3 => Steer::Hide(movie),
            3 => Steer::Unhide(movie),
            4..7 => Steer::Watch(movie),
            7..9 => Steer::Unwatch(movie),
            _ => Steer::Undo,
        }
    }
}

/// What undo takes back: whether a movie was hidden, where it was on the
/// watchlist, or a change this model does not track (the first rating).
#[derive(Debug, Clone)]
enum Prior {
    Hidden(u32, bool),
    Place(u32, Option<usize>),
    Other,
}

/// An independent model of the log's rules for marks and the watchlist.
#[derive(Debug, Clone)]
struct Steered {
    hidden: std::collections::BTreeSet<u32>,
    watchlist: Vec<u32>,
    undo: Vec<Prior>,
}

impl Steered {
    /// Applies `op`; false when it changes nothing, so the log writes nothing.
    fn apply(&mut self, op: Steer) -> bool {
        let place = |list: &[u32], m: u32| list.iter().position(|&x| x == m);
        let prior = match op {
            Steer::Hide(m) if self.hidden.insert(m) => Prior::Hidden(m, false),
            Steer::Unhide(m) if self.hidden.remove(&m) => Prior::Hidden(m, true),
            // Added at the end; already last is no change.
            Steer::Watch(m) if self.watchlist.last() != Some(&m) => {
                let before = place(&self.watchlist, m);
                self.watchlist.retain(|&x| x != m);
                self.watchlist.push(m);
                Prior::Place(m, before)
            }
            Steer::Unwatch(m) if place(&self.watchlist, m).is_some() => {
                let before = place(&self.watchlist, m);
                self.watchlist.retain(|&x| x != m);
                Prior::Place(m, before)
            }
            Steer::Undo => {
                match self.undo.pop() {
                    None => return false,
                    Some(Prior::Hidden(m, true)) => self.hidden.insert(m),
                    Some(Prior::Hidden(m, false)) => self.hidden.remove(&m),
                    Some(Prior::Place(m, before)) => {
                        self.watchlist.retain(|&x| x != m);
                        if let Some(at) = before {
                            self.watchlist.insert(at, m);
                        }
                        true
                    }
                    Some(Prior::Other) => true,
                };
                return true;
            }
            _ => return false,
        };
        self.undo.push(prior);
        true
    }

    /// The hidden movies and the watchlist as `cinema ratings --json` lists them.
    fn read(home: &Home, dataset: &Path) -> (std::collections::BTreeSet<u32>, Vec<u32>) {
        let output = home.run(&["ratings", "--dataset", &shown(dataset), "--json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        let id = |r: &Value| r["movie_id"].as_u64().unwrap() as u32;
        let hidden = list.iter().filter(|r| r["mark"] == "hidden").map(id).collect();
        let mut placed: Vec<(u64, u32)> = list.iter().filter_map(|r| Some((r["watchlist"].as_u64()?, id(r)))).collect();
        placed.sort();
        (hidden, placed.into_iter().map(|p| p.1).collect())
    }
}

/// SIGKILL at moments spread over the life of `cinema hide`, `cinema
/// watchlist add|remove` and `cinema rate --undo`: every acknowledged
/// change is in the log, a change never writes more than its one record,
/// and what the log holds is what the acknowledged changes say.
#[test]
fn kill_9_while_hiding_and_listing_never_loses_an_acknowledged_change() {
    let _alone = common::timing_alone();
    let home = Home::new();
    let dataset = ml100k();
    let (header, record) = log_layout(&home, &dataset, &mut Reference::default());
    let mut steered = Steered { hidden: Default::default(), watchlist: Vec::new(), undo: vec![Prior::Other] };
    let mut warm: Vec<Duration> = [Steer::Watch(7), Steer::Hide(8), Steer::Watch(9)]
        .into_iter()
        .map(|op| {
            let started = Instant::now();
            home.succeeds(&op.args(&dataset).iter().map(String::as_str).collect::<Vec<_>>());
            steered.apply(op);
            started.elapsed()
        })
        .collect();
    warm.sort();
    let warm = warm[1];
    let mut rng = StdRng::seed_from_u64(SEED ^ 3);
    let mut tally = Tally::default();
    while tally.short_of(60, 250) {
        let op = Steer::random(&mut rng, 10);
        let at =
            if tally.rounds % 4 == 0 { KillAt::Ack } else { KillAt::After(warm.mul_f64(rng.random_range(0.0..1.2))) };
        let before = whole_records(&home, &dataset, header, record);
        let mut cmd = home.cinema();
        cmd.args(op.args(&dataset));
        let killed = run_and_kill(cmd, at);
        let written = whole_records(&home, &dataset, header, record) - before;
        assert!(written <= 1, "{op:?} wrote {written} records");
        let mut expected = steered.clone();
        let changes = expected.apply(op);
        if written == 1 {
            assert!(changes, "{op:?} changes nothing, yet a record was written");
            steered = expected;
        }
        match killed.ack.as_deref() {
            Some("nothing to change") => assert!(!changes && written == 0, "{op:?}"),
            Some(ack) => {
                assert!(written == 1, "{op:?} was acknowledged ({ack}) but its record is not in the log");
                tally.acknowledged += 1;
            }
            None => {}
        }
        tally.count(&killed, written == 1);
        if tally.rounds % 8 == 0 {
            assert_eq!(Steered::read(&home, &dataset), (steered.hidden.clone(), steered.watchlist.clone()));
        }
    }
    assert_eq!(Steered::read(&home, &dataset), (steered.hidden.clone(), steered.watchlist.clone()));
    println!("kill while steering (process lifetime {warm:.1?}): {tally:?}");
    assert!(tally.before_write > 0 && tally.after_ack > 0, "the kills did not spread over the write: {tally:?}");
}
