//! The fuzzing loop for one target: run the corpus, then mutate and run for
//! a bounded time; keep inputs that show new features, save crashing ones.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::Target;
use crate::mutate::Mutator;

/// One allocation above this, for inputs of at most a few KiB, is a bug: the
/// targets bound the sizes a request may legitimately ask for far below it.
pub const ALLOCATION_LIMIT: usize = 64 << 20;

/// An input slower than this would have hit the sandbox's CPU deadline.
pub const SLOW: Duration = Duration::from_secs(1);

pub struct Options {
    pub duration: Duration,
    pub seed: u64,
    /// Read at the start; with `grow_corpus`, new finds are written here.
    pub corpus: PathBuf,
    pub grow_corpus: bool,
    /// Crashing and slow inputs are written here.
    pub crashes: PathBuf,
    /// Print a status line this often (to stderr).
    pub status_every: Option<Duration>,
}

/// One distinct crash: where it panicked (or why it counts as one).
#[derive(Debug, Clone)]
pub struct Crash {
    pub message: String,
    pub hits: u64,
    pub saved: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Report {
    pub target: &'static str,
    pub executions: u64,
    pub elapsed: Duration,
    pub corpus: usize,
    /// Inputs added to the corpus by this run.
    pub added: usize,
    pub features: HashSet<String>,
    /// Distinct crashes by their first line (the panic location).
    pub crashes: BTreeMap<String, Crash>,
    pub slow: u64,
}

impl Report {
    pub fn execs_per_second(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn crash_count(&self) -> u64 {
        self.crashes.values().map(|c| c.hits).sum()
    }

    pub fn summary(&self) -> String {
        format!(
            "{}: {} executions in {:.0?} ({:.0}/s), corpus {} (+{}), {} features, {} crashes ({} distinct), {} slow",
            self.target,
            self.executions,
            self.elapsed,
            self.execs_per_second(),
            self.corpus,
            self.added,
            self.features.len(),
            self.crash_count(),
            self.crashes.len(),
            self.slow
        )
    }
}

thread_local! {
    /// Set while a target runs on this thread: its panics are recorded here
    /// instead of printed, so a crash costs no terminal spam.
    static CAUGHT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Chains a hook that records panics on threads running a target and leaves
/// every other panic (a failing test, say) to the previous hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let recorded = CAUGHT.with(|c| match &mut *c.borrow_mut() {
                Some(slot) => {
                    *slot = Some(info.to_string());
                    true
                }
                None => false,
            });
            if !recorded {
                previous(info);
            }
        }));
    });
}

pub fn fuzz(target: &mut dyn Target, options: &Options) -> Report {
    install_panic_hook();
    let started = Instant::now();
    let mut report = Report {
        target: target.name(),
        executions: 0,
        elapsed: Duration::ZERO,
        corpus: 0,
        added: 0,
        features: HashSet::new(),
        crashes: BTreeMap::new(),
        slow: 0,
    };
    let mut corpus = target.seeds();
    let stored = read_corpus(&options.corpus);
    if options.grow_corpus && stored.is_empty() {
        for seed in &corpus {
            save(&options.corpus, "", seed);
        }
    }
    for input in stored {
        if !corpus.contains(&input) {
            corpus.push(input);
        }
    }
    for input in corpus.clone() {
        execute(target, &input, options, &mut report);
    }
    let mut mutator = Mutator::new(options.seed, target.max_len(), target.dictionary());
    let mut last_status = Instant::now();
    while started.elapsed() < options.duration {
        let base = &corpus[mutator.pick(corpus.len())];
        let other = &corpus[mutator.pick(corpus.len())];
        let input = mutator.mutate(base, other);
        if execute(target, &input, options, &mut report) {
            if options.grow_corpus {
                save(&options.corpus, "", &input);
            }
            corpus.push(input);
            report.added += 1;
        }
        if let Some(every) = options.status_every
            && last_status.elapsed() >= every
        {
            report.elapsed = started.elapsed();
            report.corpus = corpus.len();
            eprintln!("{}", report.summary());
            last_status = Instant::now();
        }
    }
    report.elapsed = started.elapsed();
    report.corpus = corpus.len();
    report
}

/// Runs one input; true when it showed a feature never seen before.
fn execute(target: &mut dyn Target, input: &[u8], options: &Options, report: &mut Report) -> bool {
    crate::take_largest_allocation();
    CAUGHT.with(|c| *c.borrow_mut() = Some(None));
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| target.run(input)));
    let took = started.elapsed();
    let panic = CAUGHT.with(|c| c.borrow_mut().take()).flatten();
    let largest = crate::take_largest_allocation();
    report.executions += 1;
    let features = match outcome {
        Ok(features) => features,
        Err(_) => {
            target.reset();
            let message = panic.unwrap_or_else(|| "panicked (no message)".into());
            record_crash(report, options, message, input);
            return false;
        }
    };
    if largest > ALLOCATION_LIMIT {
        let message = format!("allocated {largest} bytes at once for an input of {} bytes", input.len());
        record_crash(report, options, message, input);
    }
    if took > SLOW {
        report.slow += 1;
        save(&options.crashes, "slow-", input);
    }
    let mut new = false;
    for feature in features {
        if !report.features.contains(&feature) {
            report.features.insert(feature);
            new = true;
        }
    }
    new
}

fn record_crash(report: &mut Report, options: &Options, message: String, input: &[u8]) {
    // The first line names the panic's location: one entry per place.
    let key = crate::shape(message.lines().next().unwrap_or_default());
    let crash = report.crashes.entry(key).or_insert_with(|| {
        let saved = save(&options.crashes, "crash-", input);
        eprintln!("{}: crash: {message}\n  input saved to {saved:?}", report.target);
        Crash { message, hits: 0, saved }
    });
    crash.hits += 1;
}

/// Corpus files, in name order so a run is reproducible from its seed.
fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    paths.sort();
    paths.iter().filter(|p| p.is_file()).filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Writes `input` into `dir` named by its hash; `None` if that failed.
fn save(dir: &Path, prefix: &str, input: &[u8]) -> Option<PathBuf> {
    let mut hasher = DefaultHasher::new();
    input.hash(&mut hasher);
    let path = dir.join(format!("{prefix}{:016x}", hasher.finish()));
    std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, input)).ok()?;
    Some(path)
}
