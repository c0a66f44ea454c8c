//! Modules that speak the protocol perfectly and lie. `plugins/liar` is the
//! real engine with one kind of reply corrupted; it is built for wasm here
//! once, and each lie is one byte patched into a copy. Each copy is given
//! to the real `cinema` binary, which must stop it with an error naming the
//! module, the request and the rule — exit 1, no panic, no hang — and
//! leave your data as they were: the built-in module still recommends
//! afterwards, retraining rather than trusting a model the liar wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::common::shared;

/// Long enough for a busy machine; a hang is what this catches.
const TIMEOUT: Duration = Duration::from_secs(120);
const MARKER: &[u8] = b"cinema-liar-mode:";

/// The liar built for wasm, into the target directory `build.rs` uses for
/// the engine modules (so the engine is not compiled again).
fn liar_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"))
            .join("engine-modules");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--profile", "plugin", "--target", "wasm32-unknown-unknown", "-p", "cinema-plugin-liar"])
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building plugins/liar for wasm failed");
        std::fs::read(target_dir.join("wasm32-unknown-unknown/plugin/cinema_plugin_liar.wasm")).unwrap()
    })
}

/// A copy of the liar telling lie `mode`, as `dir/liar-NAME.wasm`.
fn liar(dir: &Path, mode: u8, name: &str) -> PathBuf {
    let mut wasm = liar_wasm().to_vec();
    let at = wasm.windows(MARKER.len()).position(|w| w == MARKER).expect("the marker is in the module");
    wasm[at + MARKER.len()] = mode;
    let path = dir.join(format!("liar-{name}.wasm"));
    std::fs::write(&path, wasm).unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// `cinema --home HOME ARGS…`, killed if it outlives [`TIMEOUT`].
fn cinema(home: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cinema"))
        .arg("--home")
        .arg(home)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            panic!("cinema {args:?} hung for {TIMEOUT:?}");
        }
        sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Run { code: out.status.code(), stdout: text(out.stdout), stderr: text(out.stderr), took: started.elapsed() }
}

/// `recommend` asks for the hybrid list unless the weight is all on CF and
/// there is no diversity.
const CF_ALONE: &[&str] = &["--hybrid", "1", "--diversity", "0"];

/// Each lie, the request it corrupts, the rule the host must name, and the
/// command that makes the request (after `--dataset ML-100K`).
const LIES: [(u8, &str, &str, &str, &[&str]); 15] = [
    (1, "recommend-out-of-range", "Recommend", "movie index 4294967295, outside the 1682 movies sent", CF_ALONE),
    (2, "stuck-training", "TrainStep", "the step did not move training on", &[]),
    (3, "nan-predictions", "Predict", "prediction NaN for pair 0, outside the scale 1–5", &[]),
    (4, "duplicate-recommendations", "Recommend", "twice", CF_ALONE),
    (5, "wild-progress", "TrainStart", "progress epoch 1000000 of 2", &[]),
    (6, "huge-hello", "Hello", "a name of 1048576 bytes (at most 256)", &[]),
    (7, "huge-model", "ExportModel", "a model of 104857600 bytes, over the", &[]),
    (8, "hybrid-part-out-of-range", "RecommendHybrid", "hybrid parts", &["--hybrid", "0.6"]),
    (9, "explanation-of-another-movie", "Explain", "an explanation of movie index", &["--movie", "7"]),
    (10, "content-too-many-pairs", "BuildContent", "neighbour pairs (at most", &[]),
    (11, "wrong-kind", "Index", "Ok where Indexed was expected", &[]),
    (12, "parts-with-escape", "Parts", "a part named", &["--movie", "7"]),
    (13, "diversity-never-ready", "PrepareDiversity", "no step past 0 of", &["--diversity", "0.5"]),
    (14, "stuck-team-member", "ShardStep", "the step did not move training on", &[]),
    (15, "huge-handoff", "ShardStep", "a handoff of 104857600 bytes, over the", &[]),
];

#[test]
fn every_lie_stops_the_module_with_the_rule_it_broke_and_the_built_in_module_carries_on() {
    let modules = TempDir::new().unwrap();
    let ml100k = shared().join("datasets/ml-100k").display().to_string();
    let recommend = ["recommend", "--dataset", &ml100k, "--user", "1", "-n", "10", "--json"];
    let explain = ["explain", "--dataset", &ml100k, "--user", "1", "--json"];
    // A team trains the ranking model where there are two cores.
    let train = ["train", "--dataset", &ml100k, "--json"];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let home = TempDir::new().unwrap();

    // The honest build (lie 0) works like any module: the fixture itself is sound.
    let honest = liar(modules.path(), 0, "honest");
    let run = cinema(home.path(), &[&["--plugin", &honest.display().to_string()][..], &recommend].concat());
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    for (mode, name, request, rule, extra) in LIES {
        if request == "ShardStep" && cores < 2 {
            eprintln!("{name}: not told on one core (no team trains)");
            continue;
        }
        let path = liar(modules.path(), mode, name);
        // Explaining and training are commands of their own; every other
        // lie is told to `recommend`.
        let asked = match request {
            "Explain" | "Parts" => &explain[..],
            "ShardStep" => &train[..],
            _ => &recommend[..],
        };
        let run = cinema(home.path(), &[&["--plugin", &path.display().to_string()][..], asked, extra].concat());
        let said = format!("engine module liar-{name} answered {request} with");
        eprintln!("{name}: rc {:?} in {:.2?}", run.code, run.took);
        assert_eq!(run.code, Some(1), "{name}: {}", run.stderr);
        assert!(run.stderr.contains(&said) && run.stderr.contains(rule), "{name}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{name} printed an answer: {}", run.stdout);

        // The built-in module, on the same data directory, still recommends;
        // a model another module saved is retrained, not imported.
        let after = cinema(home.path(), &recommend);
        assert_eq!(after.code, Some(0), "after {name}: {}", after.stderr);
        let list: serde_json::Value = serde_json::from_str(&after.stdout).unwrap();
        assert_eq!(list.as_array().map(Vec::len), Some(10), "after {name}: {list}");
    }
}

/// A model file is only read back by the module that wrote it.
#[test]
fn a_model_saved_by_one_module_is_retrained_by_another_and_says_why() {
    let modules = TempDir::new().unwrap();
    let home = TempDir::new().unwrap();
    let ml100k = shared().join("datasets/ml-100k").display().to_string();
    let recommend = ["recommend", "--dataset", &ml100k, "--user", "1", "--json"];
    let honest = liar(modules.path(), 0, "honest").display().to_string();
    assert_eq!(cinema(home.path(), &[&["--plugin", &honest][..], &recommend].concat()).code, Some(0));
    let run = cinema(home.path(), &recommend);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("the active model v1 was trained by engine module cinema-liar")
            && run.stderr.contains("retraining with cinema-default"),
        "{}",
        run.stderr
    );
    let again = cinema(home.path(), &recommend);
    assert!(!again.stderr.contains("retraining"), "the default module's own model is kept: {}", again.stderr);
}

/// What the app tests open: ML-100K in a fresh data directory, and a liar
/// module (`mode`, `lie`) compiled to serve it, with a deadline that a
/// loaded machine cannot miss.
struct LiarOnMl100k {
    /// The modules' folder and the data directory, removed when dropped.
    _dirs: (TempDir, TempDir),
    home: cinema_store::Home,
    runtime: std::sync::Arc<cinema_host::Runtime>,
    module: std::sync::Arc<cinema_host::EngineModule>,
    dataset: cinema_store::Dataset,
    ml100k: PathBuf,
    limits: cinema_host::Limits,
}

fn liar_on_ml100k(mode: u8, lie: &str) -> LiarOnMl100k {
    use cinema_host::{EngineModule, Limits, Runtime};
    use cinema_store::{Home, load_or_import};
    use std::sync::Arc;

    let (modules, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let runtime = Arc::new(Runtime::new(None).unwrap());
    let module = Arc::new(EngineModule::from_file(&runtime, &liar(modules.path(), mode, lie)).unwrap());
    let ml100k = shared().join("datasets/ml-100k");
    let dataset = load_or_import(&home, &ml100k).unwrap().0;
    let limits = Limits { call_deadline: Duration::from_secs(60), ..Limits::default() };
    LiarOnMl100k { _dirs: (modules, dir), home, runtime, module, dataset, ml100k, limits }
}

/// In the terminal app, a module caught lying is replaced: the same dataset
/// opens again with the built-in module, and the screen says why.
#[test]
fn the_app_falls_back_to_the_built_in_module_when_its_module_lies() {
    use cinema::recommender::Recommender;
    use cinema::ui::App;
    use cinema::ui::state::Level;
    use cinema::ui::tabs::data::DataPanel;
    use cinema::ui::work::Launcher;
    use std::sync::mpsc;

    // Every view predicts for every movie: the lie shows on the first one.
    let LiarOnMl100k { _dirs, home, runtime, module, dataset, ml100k, limits } = liar_on_ml100k(3, "nan-predictions");
    let rec = Recommender::open(&home, &runtime, &module, limits, dataset, |_, _, _| {}).unwrap();

    // The first answer is waited for (nothing attached yet): the lie is shown, the app stays up.
    let mut app = App::new(rec);
    let toast = app.shared.toast.clone().expect("the failure is shown");
    assert_eq!(toast.level, Level::Error);
    assert!(toast.text.contains("answered Predict with prediction NaN"), "{}", toast.text);

    let (tx, rx) = mpsc::channel();
    app.attach(Launcher::new(home, runtime, module, limits), tx);
    app.shared.source = Some(ml100k.clone());
    app.refresh(false, None);
    let deadline = Instant::now() + TIMEOUT;
    while app.shared.learning || app.tab::<DataPanel>().running.is_some() || app.shared.rec.loading() {
        let event = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("an answer in time");
        app.handle(event);
    }
    assert_eq!(app.shared.rec.meta.engine, "cinema-default");
    assert_eq!(
        (app.shared.rec.dataset.name.as_str(), app.shared.source.as_deref()),
        ("ml-100k", Some(ml100k.as_path()))
    );
    assert_eq!(app.shared.recs.len(), cinema::ui::state::RECOMMENDATIONS as usize, "the built-in module recommends");
    let toast = app.shared.toast.clone().expect("the switch is explained");
    assert!(
        toast.text.contains("was stopped")
            && toast.text.contains("switched to the built-in engine module cinema-default"),
        "{}",
        toast.text
    );
}

/// The app draws before the engine has loaded the dataset; a module that
/// breaks a rule during that load (here, building the content model) is
/// replaced the same way: the screen says why, and the built-in module
/// serves the same dataset.
#[test]
fn a_module_that_lies_while_the_app_loads_behind_its_first_frame_is_replaced() {
    use cinema::recommender::Recommender;
    use cinema::ui::App;
    use cinema::ui::event::Event;
    use cinema::ui::tabs::data::DataPanel;
    use cinema::ui::tabs::lab::LabPanel;
    use cinema::ui::work::Launcher;
    use std::sync::mpsc;

    let LiarOnMl100k { _dirs, home, runtime, module, dataset, ml100k, limits } =
        liar_on_ml100k(10, "content-too-many-pairs");
    let (tx, rx) = mpsc::channel();
    let opened = tx.clone();
    let tell = move |d, o| {
        let _ = opened.send(Event::Opened(d, Box::new(o)));
    };
    let rec = Recommender::open_behind(&home, &runtime, &module, limits, dataset, |_, _, _| {}, tell).unwrap();
    assert!(rec.loading(), "nothing waited for the engine");
    let mut app = App::new(rec);
    app.shared.source = Some(ml100k.clone());
    app.attach(Launcher::new(home, runtime, module, limits), tx);
    let deadline = Instant::now() + TIMEOUT;
    let mut said = Vec::new();
    while app.shared.rec.loading()
        || app.shared.learning
        || app.tab::<DataPanel>().running.is_some()
        || app.tab::<LabPanel>().run.is_some()
    {
        let event = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("an answer in time");
        app.handle(event);
        if let Some(toast) = app.shared.toast.as_ref().filter(|t| said.last() != Some(&t.text)) {
            said.push(toast.text.clone());
        }
    }
    assert_eq!(app.shared.rec.meta.engine, "cinema-default");
    assert_eq!(
        (app.shared.rec.dataset.name.as_str(), app.shared.source.as_deref()),
        ("ml-100k", Some(ml100k.as_path()))
    );
    assert_eq!(app.shared.recs.len(), cinema::ui::state::RECOMMENDATIONS as usize, "the built-in module recommends");
    assert!(
        said.iter().any(|s| s.contains("answered BuildContent")
            && s.contains("neighbour pairs (at most")
            && s.contains("switched to the built-in engine module cinema-default")),
        "the rule it broke and the switch are said: {said:#?}"
    );
}
