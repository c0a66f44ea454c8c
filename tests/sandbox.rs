//! Hostile engine modules (`tests/hostile/*.wat`, one small commented module
//! per case) against the sandbox: each must end in the right `SandboxError`
//! with a message that names the module and the limit it broke, the instance
//! must refuse further calls, and the host must go on — the built-in engine
//! still starts and answers `Hello` in the same process, on the same runtime.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use cinema_host::{EngineClient, EngineModule, Limits, Runtime, Sandbox, SandboxError};
use cinema_protocol::{ABI_VERSION, Call, RatingSet, Reply, Scale, call};
use tempfile::TempDir;

use crate::common::shared;

// --- Helpers -----------------------------------------------------------------

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn hostile(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/hostile").join(file)
}

/// One runtime for the whole process, shared by hostile and healthy modules
/// alike (as in the app); no disk cache, so nothing outlives the test run.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(None).expect("the runtime starts"))
}

/// The built-in engine, compiled once on the shared runtime.
fn builtin() -> &'static EngineModule {
    static BUILTIN: OnceLock<EngineModule> = OnceLock::new();
    BUILTIN.get_or_init(|| cinema::modules::builtin(runtime(), "cinema-default").expect("the built-in engine compiles"))
}

/// Compiles `tests/hostile/<name>.wat` on the shared runtime.
fn module(name: &str) -> EngineModule {
    EngineModule::from_file(runtime(), &hostile(&format!("{name}.wat")))
        .unwrap_or_else(|e| panic!("{name}.wat should compile: {e:#}"))
}

fn limits_with_memory_mib(mib: usize) -> Limits {
    Limits { memory_bytes: mib << 20, ..Limits::default() }
}

/// The host goes on: a fresh instance of the built-in engine starts on the
/// shared runtime and answers `Hello`.
fn assert_host_goes_on() {
    let client = EngineClient::start(runtime(), builtin(), Limits::default()).expect("the built-in engine starts");
    assert_eq!(client.hello().abi_version, ABI_VERSION);
    assert_eq!(client.hello().engine, "cinema-default");
}

/// Prints how long a hostile case took to end, for the README's figure:
/// `cargo test --release --test integration sandbox:: -- --nocapture --test-threads 1 2>&1 | grep ended`.
fn report(name: &str, started: Instant) {
    eprintln!("hostile case {name} ended after {:?}", started.elapsed());
}

/// Instantiating `name` must fail; returns the error (the host is checked to go on).
fn start_fails(name: &str, limits: Limits) -> SandboxError {
    let module = module(name);
    let started = Instant::now();
    let error = match Sandbox::new(runtime(), &module.name, &module.module, limits) {
        Ok(_) => panic!("{name} should be refused at instantiation"),
        Err(e) => e,
    };
    report(name, started);
    assert!(error.to_string().contains(&format!("engine module {name} ")), "the message names the module: {error}");
    assert_host_goes_on();
    error
}

/// `name` instantiates, but its first call (a `Hello`) must fail. The same
/// instance must then refuse a second call with `Stopped`, and the host must
/// go on. Returns the first error.
fn call_fails(name: &str, limits: Limits) -> SandboxError {
    let module = module(name);
    let mut sandbox = Sandbox::new(runtime(), &module.name, &module.module, limits)
        .unwrap_or_else(|e| panic!("{name} should instantiate: {e}"));
    let started = Instant::now();
    let error = match sandbox.call(&call::Hello {}) {
        Ok(reply) => panic!("{name} should fail its first call, got {reply:?}"),
        Err(e) => e,
    };
    report(name, started);
    let message = error.to_string();
    assert!(message.contains(&format!("engine module {name} ")), "the message names the module: {message}");
    match sandbox.call(&call::Hello {}) {
        Err(SandboxError::Stopped { module, reason }) => {
            assert_eq!(module, name);
            assert_eq!(reason, message, "Stopped carries the first failure");
        }
        other => panic!("a failed instance must refuse further calls with Stopped, got {other:?}"),
    }
    assert_host_goes_on();
    error
}

fn assert_deadline(error: &SandboxError, name: &str, deadline: Duration) {
    match error {
        SandboxError::Deadline { module, deadline: d, .. } => {
            assert_eq!((module.as_str(), *d), (name, deadline));
        }
        other => panic!("expected a deadline error from {name}, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains(&format!("engine module {name} ran past its CPU deadline of {deadline:?}")), "{message}");
}

fn assert_abi(error: &SandboxError, needles: &[&str]) {
    assert!(matches!(error, SandboxError::Abi { .. }), "expected an ABI error, got {error:?}");
    let message = error.to_string();
    for needle in needles {
        assert!(message.contains(needle), "{message:?} should mention {needle:?}");
    }
}

/// A generous bound on how long a 1 s deadline may take to fire. It is only a
/// guard against a hang on a loaded 2-core machine (the epoch ticker is a
/// sleeping thread); the real assertions are on the error variant and message.
/// How long the cases really take is printed (`-- --nocapture`) and reported
/// in the README, not asserted tightly here.
const HANG_GUARD: Duration = Duration::from_secs(5);

// --- CPU deadline ------------------------------------------------------------

#[test]
fn a_call_that_loops_forever_is_stopped_at_the_deadline() {
    let module = module("loop");
    let mut sandbox = Sandbox::new(runtime(), &module.name, &module.module, Limits::default()).unwrap();
    let started = Instant::now();
    let error = sandbox.call(&call::Hello {}).expect_err("the loop must be stopped");
    let took = started.elapsed();
    eprintln!("loop.wat stopped after {took:?} (deadline 1s)");
    assert_deadline(&error, "loop", Duration::from_secs(1));
    assert_eq!(
        error.to_string(),
        "engine module loop ran past its CPU deadline of 1s while answering Hello and was stopped"
    );
    assert!(took >= Duration::from_millis(990), "stopped before its deadline: {took:?}");
    assert!(took < HANG_GUARD, "safety bound only: {took:?}");
    assert!(matches!(sandbox.call(&call::Hello {}), Err(SandboxError::Stopped { .. })));
    assert_host_goes_on();
}

#[test]
fn a_short_deadline_is_honoured() {
    let deadline = Duration::from_millis(50);
    let started = Instant::now();
    let error = call_fails("loop", Limits { call_deadline: deadline, ..Limits::default() });
    assert!(started.elapsed() < HANG_GUARD);
    assert_deadline(&error, "loop", deadline);
}

/// Indexing or exporting is linear (or n·log n) in the data the module
/// holds, so the deadline grows with the ratings the host has sent: here
/// 50 ms plus 6 s per MiB of a 35 KiB `AddRatings` (the hostile module has
/// one 64 KiB page; the default is 100 ms per MiB).
#[test]
fn the_deadline_grows_with_the_data_sent() {
    let limits = Limits {
        call_deadline: Duration::from_millis(50),
        deadline_per_mib: Duration::from_secs(6),
        ..Limits::default()
    };
    let ratings: Vec<(u32, u32, f32)> = (0..4_000).map(|i| (i, i, 3.5)).collect();
    let request = call::AddRatings { set: RatingSet::Train, ratings };
    let expected = limits.deadline_holding(request.encode().len() as u64);
    assert!(expected > Duration::from_millis(200) && expected < Duration::from_millis(300), "{expected:?}");
    let module = module("loop");
    let mut sandbox = Sandbox::new(runtime(), &module.name, &module.module, limits).unwrap();
    let started = Instant::now();
    let error = sandbox.call(&request).expect_err("the loop must be stopped");
    let took = started.elapsed();
    assert_deadline(&error, "loop", expected);
    assert!(error.to_string().ends_with("while answering AddRatings and was stopped"), "{error}");
    assert!(took >= expected - Duration::from_millis(10), "stopped before its deadline: {took:?}");
    assert!(took < HANG_GUARD, "safety bound only: {took:?}");
}

#[test]
fn a_start_function_that_loops_forever_is_stopped_at_the_deadline() {
    let started = Instant::now();
    let error = start_fails("start_loop", Limits::default());
    eprintln!("start_loop.wat stopped after {:?} (deadline 1s)", started.elapsed());
    assert!(started.elapsed() < HANG_GUARD, "safety bound only");
    assert_deadline(&error, "start_loop", Duration::from_secs(1));
    assert!(error.to_string().ends_with("while starting and was stopped"), "{error}");
}

#[test]
fn an_abi_version_that_loops_forever_is_stopped_at_the_deadline() {
    let error = start_fails("version_loop", Limits::default());
    assert_deadline(&error, "version_loop", Duration::from_secs(1));
}

#[test]
fn an_alloc_that_loops_forever_is_stopped_at_the_deadline() {
    let error = call_fails("alloc_loop", Limits::default());
    assert_deadline(&error, "alloc_loop", Duration::from_secs(1));
}

// --- Memory and tables -------------------------------------------------------

#[test]
fn a_runaway_memory_grow_hits_the_cap() {
    let started = Instant::now();
    let error = call_fails("grow", limits_with_memory_mib(64));
    assert!(
        matches!(&error, SandboxError::Memory { module, cap_mib: 64 } if module == "grow"),
        "expected the memory cap, got {error:?}"
    );
    assert_eq!(error.to_string(), "engine module grow tried to use more than its memory cap of 64 MiB and was stopped");
    assert!(started.elapsed() < HANG_GUARD, "the cap, not the deadline, ends it");
}

#[test]
fn a_runaway_memory_grow_hits_the_default_cap() {
    let started = Instant::now();
    let error = call_fails("grow", Limits::default());
    eprintln!("grow.wat reached the default 3 GiB cap after {:?}", started.elapsed());
    assert!(matches!(error, SandboxError::Memory { cap_mib: 3072, .. }), "{error:?}");
    assert!(error.to_string().contains("memory cap of 3072 MiB"), "{error}");
}

#[test]
fn an_initial_memory_above_the_cap_is_refused() {
    let error = start_fails("big_memory", Limits::default());
    assert!(matches!(error, SandboxError::Memory { cap_mib: 3072, .. }), "{error:?}");
    let error = start_fails("big_memory", limits_with_memory_mib(64));
    assert!(error.to_string().contains("memory cap of 64 MiB"), "{error}");
}

#[test]
fn a_second_memory_is_refused() {
    let error = start_fails("two_memories", Limits::default());
    assert_abi(&error, &["cannot be instantiated", "memory"]);
}

#[test]
fn a_runaway_table_grow_hits_the_table_cap() {
    let error = call_fails("table_grow", Limits::default());
    assert!(matches!(error, SandboxError::Trap { .. }), "{error:?}");
    assert!(error.to_string().contains("past the cap of 1048576 elements"), "{error}");
}

#[test]
fn a_huge_declared_table_is_refused() {
    let error = start_fails("big_table", Limits::default());
    assert!(error.to_string().contains("a table would grow to 4000000000 elements"), "{error}");
}

// --- Traps -------------------------------------------------------------------

#[test]
fn unreachable_is_a_trap() {
    let error = call_fails("trap", Limits::default());
    assert!(matches!(&error, SandboxError::Trap { module, .. } if module == "trap"), "{error:?}");
    assert!(error.to_string().contains("unreachable"), "{error}");
}

/// Wasmtime's wasm stack limit (2 MiB) does not check the calling thread's
/// stack; the sandbox runs guests on threads of its own so that a caller on a
/// small stack (here 256 KiB, less than the wasm limit) is not aborted.
#[test]
fn unbounded_recursion_is_a_trap_not_a_host_stack_overflow() {
    let error = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| call_fails("recursion", Limits::default()))
        .unwrap()
        .join()
        .expect("the caller's thread survives");
    assert!(matches!(error, SandboxError::Trap { .. }), "{error:?}");
    assert!(error.to_string().contains("call stack exhausted"), "{error}");
}

// --- Pointers and lengths the guest returns -------------------------------------

#[test]
fn a_reply_pointer_outside_memory_is_refused() {
    let error = call_fails("reply_ptr_outside", Limits::default());
    assert_abi(&error, &["reply at 0x100000+16", "outside its memory of 65536 bytes"]);
}

#[test]
fn a_reply_length_running_past_memory_is_refused() {
    let error = call_fails("reply_len_outside", Limits::default());
    assert_abi(&error, &["reply at 0x0+131072", "outside its memory"]);
}

#[test]
fn a_reply_whose_end_wraps_around_u32_is_refused() {
    let error = call_fails("reply_overflow", Limits::default());
    assert_abi(&error, &["reply at 0xfffffff0+32", "outside its memory"]);
}

#[test]
fn a_reply_of_u32_max_at_u32_max_is_refused_even_without_a_reply_cap() {
    let error = call_fails("reply_all_ones", Limits { max_reply_bytes: usize::MAX, ..Limits::default() });
    assert_abi(&error, &["reply at 0xffffffff+4294967295", "outside its memory"]);
}

#[test]
fn an_alloc_pointer_outside_memory_is_refused() {
    let error = call_fails("alloc_outside", Limits::default());
    assert_abi(&error, &["alloc(1) returned 0x80000000", "outside its memory of 65536 bytes"]);
}

#[test]
fn an_alloc_pointer_one_past_the_end_is_refused() {
    let error = call_fails("alloc_at_end", Limits::default());
    assert_abi(&error, &["alloc(1) returned 0x10000", "outside its memory"]);
}

#[test]
fn a_junk_reply_does_not_decode() {
    let error = call_fails("junk", Limits::default());
    assert_abi(&error, &["reply of 16 bytes does not decode"]);
}

#[test]
fn a_reply_above_the_cap_is_refused() {
    let error = call_fails("big_reply", Limits { max_reply_bytes: 1 << 20, ..Limits::default() });
    assert_abi(&error, &["reply of 2097152 bytes exceeds the cap of 1048576 bytes"]);
    // The default cap (256 MiB), checked before the bounds.
    let error = call_fails("reply_all_ones", Limits::default());
    assert_abi(&error, &["reply of 4294967295 bytes exceeds the cap of 1073741824 bytes"]);
}

// --- Version and exports -----------------------------------------------------

#[test]
fn another_abi_version_is_refused_naming_both_versions() {
    // version1.wat also lacks `call`: the version is what the user must hear.
    let error = start_fails("version1", Limits::default());
    assert!(matches!(&error, SandboxError::Version { module, found: 1 } if module == "version1"), "{error:?}");
    assert_eq!(
        error.to_string(),
        "engine module version1 speaks ABI version 1, this host speaks 4: rebuild it against ABI version 4 (plugins/ABI.md)"
    );
}

#[test]
fn missing_or_mistyped_exports_are_refused() {
    let cases = [
        ("no_call", "missing export `call` of type (i32, i32) -> i64"),
        ("no_memory", "missing export `memory`"),
        ("no_abi_version", "missing export `abi_version` of type () -> i32"),
        ("call_wrong_type", "missing export `call` of type (i32, i32) -> i64"),
    ];
    for (name, expected) in cases {
        let error = start_fails(name, Limits::default());
        assert_abi(&error, &[expected]);
    }
}

// --- Imports and files that are not modules --------------------------------------

#[test]
fn imports_are_refused_at_instantiation_naming_the_import() {
    let cases = [
        ("import_wasi", "wasi_snapshot_preview1::fd_write"),
        ("import_env", "env::anything"),
        ("import_memory", "env::memory"),
    ];
    for (name, import) in cases {
        let error = start_fails(name, Limits::default());
        assert_abi(&error, &["cannot be instantiated", import]);
    }
}

#[test]
fn files_that_are_not_webassembly_are_refused_when_loading() {
    let tmp = TempDir::new().unwrap();
    // A deterministic stream of pseudo-random bytes.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut truncated = b"\0asm\x01\0\0\0".to_vec();
    truncated.extend_from_slice(&random[..64]);
    let files: [(&str, &[u8]); 5] = [
        ("random.wasm", &random),
        ("empty.wasm", b""),
        ("truncated.wasm", &truncated),
        ("text.wasm", b"This is a text file, not a module.\n"),
        ("elf.wasm", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"),
    ];
    let mut paths: Vec<PathBuf> = files
        .iter()
        .map(|(file, bytes)| {
            let path = tmp.path().join(file);
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    paths.push(hostile("not_wasm.txt"));
    for path in paths {
        let error = match EngineModule::from_file(runtime(), &path) {
            Ok(_) => panic!("{} should not load", path.display()),
            Err(e) => format!("{e:#}"),
        };
        let stem = path.file_stem().unwrap().to_string_lossy();
        assert!(
            // Not even the magic: "not a WebAssembly module"; the magic but a bad body: "not a valid …".
            error.contains(&format!("engine module {stem} is not a valid WebAssembly module"))
                || error.contains(&format!("engine module {stem} is not a WebAssembly module")),
            "{}: {error}",
            path.display()
        );
    }
    // A binary that is not wasm is called what it is, not parsed as WAT text.
    let elf = format!("{:#}", EngineModule::from_file(runtime(), &tmp.path().join("elf.wasm")).err().unwrap());
    assert!(elf.contains("(it looks like an ELF executable)"), "{elf}");
    assert_host_goes_on();
}

// --- The host goes on --------------------------------------------------------

/// A runtime of its own, used by a string of hostile modules, then by a
/// healthy engine doing real work; and a healthy engine answering on another
/// thread while a hostile one spins on the same runtime.
#[test]
fn a_runtime_used_by_hostile_modules_stays_usable() {
    let runtime = Runtime::new(None).unwrap();
    let small = limits_with_memory_mib(64);
    for name in ["loop", "grow", "trap", "junk", "reply_overflow", "alloc_outside"] {
        let module = EngineModule::from_file(&runtime, &hostile(&format!("{name}.wat"))).unwrap();
        let mut sandbox = Sandbox::new(&runtime, &module.name, &module.module, small).unwrap();
        assert!(sandbox.call(&call::Hello {}).is_err(), "{name} should fail");
    }
    for name in ["start_loop", "import_env", "version1"] {
        let module = EngineModule::from_file(&runtime, &hostile(&format!("{name}.wat"))).unwrap();
        assert!(Sandbox::new(&runtime, &module.name, &module.module, small).is_err(), "{name} should be refused");
    }

    let spinning = EngineModule::from_file(&runtime, &hostile("loop.wat")).unwrap();
    let healthy = cinema::modules::builtin(&runtime, "cinema-default").unwrap();
    std::thread::scope(|scope| {
        let hostile = scope.spawn(|| {
            let mut sandbox = Sandbox::new(&runtime, &spinning.name, &spinning.module, Limits::default()).unwrap();
            sandbox.call(&call::Hello {})
        });
        let mut sandbox = Sandbox::new(&runtime, &healthy.name, &healthy.module, Limits::default()).unwrap();
        assert!(matches!(sandbox.call(&call::Hello {}), Ok(Reply::Hello(_))));
        let error = hostile.join().expect("the hostile call returns, it does not panic").unwrap_err();
        assert_deadline(&error, "loop", Duration::from_secs(1));
    });

    // Real work on the same runtime: load a few ratings, train, predict.
    let mut client = EngineClient::start(&runtime, &healthy, Limits::default()).unwrap();
    let baseline = client.hello().algorithms.iter().find(|a| a.name == "baseline").expect("baseline is offered");
    let spec = baseline.defaults();
    let train = [(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0), (1, 1, 2.0), (2, 0, 4.5)];
    client.load(3, 2, Scale { min: 1.0, max: 5.0 }, &train, &[]).unwrap();
    let progress = client.train(spec, |_| ControlFlow::Continue(())).unwrap();
    assert!(progress.finished);
    let predictions = client.predict(&[(2, 1), (0, 0)]).unwrap();
    assert_eq!(predictions.len(), 2);
    assert!(predictions.iter().all(|p| (1.0..=5.0).contains(p)), "{predictions:?}");
}

/// The app moves engines between threads and may share them behind a lock.
#[test]
fn sandboxes_and_clients_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sandbox>();
    send_sync::<EngineClient>();
}

// --- The command line ----------------------------------------------------------

/// `cinema eval` with a hostile `--plugin` fails cleanly: non-zero exit, the
/// sandbox's message on stderr, no panic.
fn cli_fails_with(plugin: &Path, expected: &str) {
    let home = TempDir::new().unwrap();
    let started = Instant::now();
    let output = Command::cargo_bin("cinema")
        .unwrap()
        .arg("--home")
        .arg(home.path())
        .arg("--plugin")
        .arg(plugin)
        .args(["eval", "--protocol", "folds", "--algo", "baseline", "--dataset"])
        .arg(shared().join("datasets/ml-100k"))
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("cinema eval --plugin {} took {:?}", plugin.display(), started.elapsed());
    assert!(!output.status.success(), "cinema should fail; stderr: {stderr}");
    assert!(stderr.contains(expected), "stderr should contain {expected:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
}

#[test]
fn cli_eval_with_a_looping_plugin_fails_with_the_deadline_message() {
    cli_fails_with(
        &hostile("loop.wat"),
        "engine module loop ran past its CPU deadline of 1s while answering Hello and was stopped",
    );
}

#[test]
fn cli_eval_with_an_importing_plugin_fails_naming_the_import() {
    cli_fails_with(&hostile("import_wasi.wat"), "wasi_snapshot_preview1::fd_write");
}

#[test]
fn cli_eval_with_a_file_that_is_not_webassembly_fails() {
    cli_fails_with(&hostile("not_wasm.txt"), "engine module not_wasm is not a WebAssembly module");
}
