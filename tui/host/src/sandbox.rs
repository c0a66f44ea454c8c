//! One running engine instance, fenced in: no imports at all (no WASI, no
//! host functions), a memory cap, a cap on table elements, one memory and one
//! instance per store, a CPU deadline per guest entry, a reply size cap, and
//! every pointer and length the guest hands back checked against its memory.
//! The instance lives on a thread of its own with a stack large enough for
//! wasmtime's stack limit. A trap or a broken promise ends this instance,
//! never the process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use cinema_protocol::{ABI_VERSION, Call, Reply, call};
use wasmtime::{Engine, Instance, Linker, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc, UpdateDeadline};

use super::runtime::Runtime;

/// Most elements any table may hold. Table elements live in host memory
/// outside the linear-memory cap (a pointer each), so they get their own cap;
/// the built-in engines use a few dozen.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Stack of the thread an instance runs on. Wasmtime's `max_wasm_stack`
/// (2 MiB, set in `runtime.rs`) bounds the wasm frames but does not check
/// that the calling thread has that much stack left: a deeply recursing guest
/// called from a default 2 MiB thread would overflow the host stack and abort
/// the whole process. This must stay well above `max_wasm_stack`.
const GUEST_STACK_BYTES: usize = 8 << 20;

/// What a module may use. Defaults suit ML-25M-sized data on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest linear memory the module may grow to.
    pub memory_bytes: usize,
    /// Longest a single guest entry (instantiation, `abi_version`, `alloc`,
    /// `call`) may run with no data loaded.
    pub call_deadline: Duration,
    /// Extra time a `call` may take per MiB of data the host has handed the
    /// module (ratings since the last `Reset`, plus the model last
    /// imported). Indexing, starting training and exporting a model are
    /// linear or n·log n in that data, so a fixed deadline would refuse
    /// large datasets; a hostile module still can only burn time in
    /// proportion to what the host chose to send it.
    pub deadline_per_mib: Duration,
    /// Largest reply the host will decode: an exported model is the
    /// largest honest one (MovieLens 25M's default models, 162,000 users and
    /// 62,000 movies of 200 + 128 factors, are 295 MB; 32M's about 380 MB).
    pub max_reply_bytes: usize,
}

impl Default for Limits {
    /// `deadline_per_mib`: indexing 5M ratings (about 40 MiB on the wire)
    /// ran past a fixed 1 s deadline; with 100 ms per MiB it gets five.
    fn default() -> Limits {
        Limits {
            memory_bytes: 3 << 30,
            call_deadline: Duration::from_secs(1),
            deadline_per_mib: Duration::from_millis(100),
            max_reply_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// The deadline of a `call` made while the module holds `held_bytes` of data.
    /// Whole milliseconds, so messages read "1.25s", not nanoseconds.
    pub fn deadline_holding(&self, held_bytes: u64) -> Duration {
        let extra = self.deadline_per_mib.mul_f64(held_bytes as f64 / (1u64 << 20) as f64);
        Duration::from_millis(u64::try_from((self.call_deadline + extra).as_millis()).unwrap_or(u64::MAX))
    }
}

/// The data a module holds, as the host has sent it: what its deadlines scale with.
#[derive(Debug, Default, Clone, Copy)]
struct Held {
    ratings_bytes: u64,
    model_bytes: u64,
}

impl Held {
    /// Accounts for a request of type `C`, about to be sent as `encoded_len` bytes.
    fn note<C: Call>(&mut self, encoded_len: usize) {
        let len = encoded_len as u64;
        match C::NAME {
            call::Reset::NAME => *self = Held::default(),
            call::AddRatings::NAME => self.ratings_bytes += len,
            call::ImportModel::NAME => self.model_bytes = len,
            _ => {}
        }
    }

    fn bytes(&self) -> u64 {
        self.ratings_bytes + self.model_bytes
    }
}

/// Why a call into a module failed. Each of these ends the instance; an
/// engine's own error reply is not one of them (it is `Ok(Reply::Error)`).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("engine module {module} ran past its CPU deadline of {deadline:?} {during} and was stopped")]
    Deadline { module: String, deadline: Duration, during: String },
    #[error(
        "engine module {module} was stopped {during} after {wall:?} of waiting, having had only part of its {deadline:?} of CPU: this machine is too busy; try again when it is less loaded"
    )]
    Busy { module: String, deadline: Duration, wall: Duration, during: String },
    #[error("engine module {module} tried to use more than its memory cap of {cap_mib} MiB and was stopped")]
    Memory { module: String, cap_mib: usize },
    #[error("engine module {module} crashed (trap: {trap})")]
    Trap { module: String, trap: String },
    #[error("engine module {module} broke the ABI: {reason}")]
    Abi { module: String, reason: String },
    #[error(
        "engine module {module} speaks ABI version {found}, this host speaks {ABI_VERSION}: rebuild it against ABI version {ABI_VERSION} (plugins/ABI.md)"
    )]
    Version { module: String, found: u32 },
    #[error("engine module {module} was stopped earlier ({reason}); start a fresh instance")]
    Stopped { module: String, reason: String },
}

/// The error the limiter raises when the guest outgrows a cap. It travels
/// through wasmtime as the call's error and is recognised by type (not by
/// message text) in [`classify`].
#[derive(Debug, Clone, Copy, thiserror::Error)]
enum CapExceeded {
    #[error("linear memory would grow to {desired} bytes, past the cap of {cap} bytes")]
    Memory { desired: usize, cap: usize },
    #[error("a table would grow to {desired} elements, past the cap of {cap} elements")]
    Table { desired: usize, cap: usize },
}

/// The store's data: the limiter and the running entry's time budget
/// (there are no host functions).
struct Caps {
    budget: Budget,
    memory_bytes: usize,
    /// The largest size the linear memory has grown to, read by the host
    /// thread (`Sandbox::memory_peak`) while the guest thread owns the store.
    peak: Arc<AtomicUsize>,
}

/// How long the guest entry under way may run. The deadline counts the
/// guest thread's own CPU time, read at every epoch tick, so other programs
/// on a busy machine never count against the module; wall-clock time is
/// only a last resort, far beyond the CPU deadline, for a machine so loaded
/// that the module hardly runs at all.
#[derive(Debug, Clone, Copy)]
struct Budget {
    cpu: Duration,
    /// The thread's CPU time when the entry began (`None`: the platform
    /// cannot tell a thread's CPU time, and wall-clock time stands in).
    cpu_start: Option<Duration>,
    wall_start: Instant,
}

/// Why a guest entry was ended by the clock.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the machine was too busy for the module to use its CPU deadline within {wall:?}")]
struct TooBusy {
    wall: Duration,
}

impl Budget {
    fn new(cpu: Duration) -> Budget {
        Budget { cpu, cpu_start: thread_cpu_time(), wall_start: Instant::now() }
    }

    /// The wall-clock ceiling: a module given a tenth of a core still
    /// finishes within it.
    fn wall(&self) -> Duration {
        self.cpu * 10 + Duration::from_secs(30)
    }

    /// At an epoch tick: go on, or stop the module (its own CPU deadline
    /// passed, or the wall-clock ceiling did).
    fn check(&self) -> wasmtime::Result<UpdateDeadline> {
        let used = match (self.cpu_start, thread_cpu_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall_start.elapsed(),
        };
        if used > self.cpu {
            return Ok(UpdateDeadline::Interrupt);
        }
        if self.wall_start.elapsed() > self.wall() {
            return Err(wasmtime::Error::new(TooBusy { wall: self.wall() }));
        }
        Ok(UpdateDeadline::Continue(1))
    }
}

/// The calling thread's CPU time (user and system).
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write to; the call has no other effect.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Growing past a cap traps (a runaway guest that ignores `memory.grow`'s -1
/// would otherwise spin until its deadline); growing past the module's own
/// declared maximum, or a growth the system cannot back, returns -1 as the
/// spec says.
impl ResourceLimiter for Caps {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(CapExceeded::Memory { desired, cap: self.memory_bytes }));
        }
        let grows = maximum.is_none_or(|max| desired <= max);
        if grows {
            self.peak.fetch_max(desired, Ordering::Relaxed);
        }
        Ok(grows)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            return Err(wasmtime::Error::new(CapExceeded::Table { desired, cap: MAX_TABLE_ELEMENTS }));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }

    /// The cap is per memory, so a module gets exactly one.
    fn memories(&self) -> usize {
        1
    }
}

/// A running instance, owned by its guest thread.
struct Live {
    name: String,
    limits: Limits,
    store: Store<Caps>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    call: TypedFunc<(u32, u32), u64>,
}

/// One request for the guest thread, with where to send its outcome.
struct Job {
    request: Vec<u8>,
    /// The request's name, for a deadline error.
    name: &'static str,
    deadline: Duration,
    reply: mpsc::SyncSender<Result<Reply, SandboxError>>,
}

/// The guest thread, serving [`Job`]s until its sender is dropped or a call fails.
struct GuestThread {
    jobs: mpsc::Sender<Job>,
    thread: JoinHandle<()>,
}

pub struct Sandbox {
    name: String,
    limits: Limits,
    /// `None` once stopped: the untrusted instance is dropped at once.
    guest: Option<GuestThread>,
    /// Set once the instance can no longer be trusted.
    stopped: Option<String>,
    held: Held,
    memory_peak: Arc<AtomicUsize>,
}

impl Sandbox {
    /// Starts a guest thread, instantiates `module` there (running its start
    /// function under the deadline), and checks its ABI version, then its
    /// exports.
    pub fn new(runtime: &Runtime, name: &str, module: &Module, limits: Limits) -> Result<Sandbox, SandboxError> {
        let (engine, module, owned_name) = (runtime.engine().clone(), module.clone(), name.to_string());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (jobs, jobs_rx) = mpsc::channel::<Job>();
        let memory_peak = Arc::new(AtomicUsize::new(0));
        let peak = memory_peak.clone();
        let thread = std::thread::Builder::new()
            .name("wasm-guest".into())
            .stack_size(GUEST_STACK_BYTES)
            .spawn(move || match Live::start(&engine, owned_name, &module, limits, peak) {
                Err(e) => drop(ready_tx.send(Err(e))),
                Ok(live) => {
                    if ready_tx.send(Ok(())).is_ok() {
                        live.serve(jobs_rx);
                    }
                }
            })
            .map_err(|e| SandboxError::Trap {
                module: name.into(),
                trap: format!("the host could not start a thread to run it: {e}"),
            })?;
        let ready = ready_rx.recv().unwrap_or_else(|_| Err(lost(name)));
        match ready {
            Ok(()) => Ok(Sandbox {
                name: name.into(),
                limits,
                guest: Some(GuestThread { jobs, thread }),
                stopped: None,
                held: Held::default(),
                memory_peak,
            }),
            Err(e) => {
                let _ = thread.join();
                Err(e)
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The largest the module's linear memory has grown to, in bytes.
    pub fn memory_peak(&self) -> usize {
        self.memory_peak.load(Ordering::Relaxed)
    }

    /// Sends one request and decodes the reply. After any error other than
    /// an engine error reply, the instance is dropped and further calls are
    /// refused.
    pub fn call<C: Call>(&mut self, request: &C) -> Result<Reply, SandboxError> {
        if let Some(reason) = &self.stopped {
            return Err(SandboxError::Stopped { module: self.name.clone(), reason: reason.clone() });
        }
        let bytes = request.encode();
        self.held.note::<C>(bytes.len());
        let deadline = self.limits.deadline_holding(self.held.bytes());
        let result = self.round_trip(bytes, C::NAME, deadline);
        if let Err(e) = &result {
            tracing::error!("{e}");
            self.stopped = Some(e.to_string());
            self.shut_down();
        }
        result
    }

    fn round_trip(&self, request: Vec<u8>, name: &'static str, deadline: Duration) -> Result<Reply, SandboxError> {
        let guest = self.guest.as_ref().ok_or_else(|| lost(&self.name))?;
        let (reply, outcome) = mpsc::sync_channel(1);
        guest.jobs.send(Job { request, name, deadline, reply }).map_err(|_| lost(&self.name))?;
        outcome.recv().unwrap_or_else(|_| Err(lost(&self.name)))
    }

    /// Ends the instance for `reason` (a reply that broke a rule): later
    /// calls are refused as after a trap.
    pub fn stop(&mut self, reason: String) {
        tracing::error!("{reason}");
        self.stopped = Some(reason);
        self.shut_down();
    }

    /// Ends the guest thread, dropping the instance and its memory.
    fn shut_down(&mut self) {
        if let Some(GuestThread { jobs, thread }) = self.guest.take() {
            drop(jobs);
            // Nothing is running: every call waits for its reply, and each
            // guest entry is bounded by the deadline.
            let _ = thread.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl SandboxError {
    /// Names what the module was doing when it overran its deadline.
    fn during(self, what: &str) -> SandboxError {
        match self {
            SandboxError::Deadline { module, deadline, .. } => {
                SandboxError::Deadline { module, deadline, during: format!("while {what}") }
            }
            SandboxError::Busy { module, deadline, wall, .. } => {
                SandboxError::Busy { module, deadline, wall, during: format!("while {what}") }
            }
            other => other,
        }
    }
}

/// The guest thread ended without answering: only a host bug (a panic on
/// that thread) gets here.
fn lost(module: &str) -> SandboxError {
    SandboxError::Trap { module: module.into(), trap: "the host thread running it ended unexpectedly".into() }
}

impl Live {
    fn start(
        engine: &Engine,
        name: String,
        module: &Module,
        limits: Limits,
        peak: Arc<AtomicUsize>,
    ) -> Result<Live, SandboxError> {
        let caps = Caps { budget: Budget::new(limits.call_deadline), memory_bytes: limits.memory_bytes, peak };
        let mut store = Store::new(engine, caps);
        store.limiter(|caps| caps as &mut dyn ResourceLimiter);
        store.epoch_deadline_callback(|store| store.data().budget.check());
        let fault = |e: wasmtime::Error| classify(&name, limits.call_deadline, e).during("starting");
        // An empty linker: a module that imports anything is refused here.
        set_deadline(&mut store, limits.call_deadline);
        let instance = Linker::new(engine).instantiate(&mut store, module).map_err(|e| {
            if is_guest_fault(&e) {
                fault(e)
            } else {
                SandboxError::Abi { module: name.clone(), reason: format!("cannot be instantiated: {e:#}") }
            }
        })?;
        // The version first: a module of another ABI may well have other exports.
        let version: TypedFunc<(), u32> = typed(&mut store, &instance, &name, "abi_version", "() -> i32")?;
        set_deadline(&mut store, limits.call_deadline);
        let found = version.call(&mut store, ()).map_err(fault)?;
        if found != ABI_VERSION {
            return Err(SandboxError::Version { module: name, found });
        }
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| SandboxError::Abi { module: name.clone(), reason: "missing export `memory`".into() })?;
        let alloc = typed(&mut store, &instance, &name, "alloc", "(i32) -> i32")?;
        let call = typed(&mut store, &instance, &name, "call", "(i32, i32) -> i64")?;
        Ok(Live { name, limits, store, memory, alloc, call })
    }

    /// Answers jobs until the sandbox hangs up or a call fails; the store is
    /// dropped on return.
    fn serve(mut self, jobs: mpsc::Receiver<Job>) {
        for Job { request, name, deadline, reply } in jobs {
            let result = self.call(&request, deadline).map_err(|e| e.during(&format!("answering {name}")));
            let failed = result.is_err();
            let _ = reply.send(result);
            if failed {
                return;
            }
        }
    }

    fn call(&mut self, request: &[u8], deadline: Duration) -> Result<Reply, SandboxError> {
        let abi = |reason: String| SandboxError::Abi { module: self.name.clone(), reason };
        let len = u32::try_from(request.len()).map_err(|_| abi("request larger than 4 GiB".into()))?;
        set_deadline(&mut self.store, self.limits.call_deadline);
        let ptr =
            self.alloc.call(&mut self.store, len).map_err(|e| classify(&self.name, self.limits.call_deadline, e))?;
        // `Memory::write` checks `ptr + len` against the memory's size.
        self.memory.write(&mut self.store, ptr as usize, request).map_err(|_| {
            let size = self.memory.data_size(&self.store);
            abi(format!("alloc({len}) returned {ptr:#x}, outside its memory of {size} bytes"))
        })?;
        set_deadline(&mut self.store, deadline);
        let packed = self.call.call(&mut self.store, (ptr, len)).map_err(|e| classify(&self.name, deadline, e))?;
        let (reply_ptr, reply_len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        if reply_len > self.limits.max_reply_bytes {
            return Err(abi(format!(
                "reply of {reply_len} bytes exceeds the cap of {} bytes",
                self.limits.max_reply_bytes
            )));
        }
        // Both halves are below 2^32, so the sum cannot overflow a 64-bit
        // usize; `checked_add` keeps 32-bit hosts honest too.
        let memory = self.memory.data(&self.store);
        let reply = reply_ptr.checked_add(reply_len).and_then(|end| memory.get(reply_ptr..end)).ok_or_else(|| {
            abi(format!("reply at {reply_ptr:#x}+{reply_len} lies outside its memory of {} bytes", memory.len()))
        })?;
        Reply::decode(reply).map_err(|e| abi(format!("reply of {reply_len} bytes does not decode ({e})")))
    }
}

fn typed<P, R>(
    store: &mut Store<Caps>,
    instance: &Instance,
    module: &str,
    export: &str,
    signature: &str,
) -> Result<TypedFunc<P, R>, SandboxError>
where
    P: wasmtime::WasmParams,
    R: wasmtime::WasmResults,
{
    instance.get_typed_func::<P, R>(&mut *store, export).map_err(|_| SandboxError::Abi {
        module: module.into(),
        reason: format!("missing export `{export}` of type {signature}"),
    })
}

/// Starts the budget of the next entry into the guest; it is checked at
/// every epoch tick. Epoch deadlines are relative to the current epoch, so
/// this must run before every entry (an unset deadline traps at once).
fn set_deadline(store: &mut Store<Caps>, deadline: Duration) {
    store.data_mut().budget = Budget::new(deadline);
    store.set_epoch_deadline(1);
}

/// Whether an instantiation error is the guest's doing at run time (its start
/// function trapped, ran out of time, or a memory or table outgrew a cap)
/// rather than the module being unacceptable as it stands.
fn is_guest_fault(error: &wasmtime::Error) -> bool {
    error.is::<Trap>() || error.is::<CapExceeded>() || error.is::<TooBusy>()
}

/// What a guest entry's failure means; `deadline` is the one it ran under.
fn classify(module: &str, deadline: Duration, error: wasmtime::Error) -> SandboxError {
    let module = module.to_string();
    if let Some(cap) = error.downcast_ref::<CapExceeded>() {
        return match cap {
            CapExceeded::Memory { cap, .. } => SandboxError::Memory { module, cap_mib: cap >> 20 },
            CapExceeded::Table { .. } => SandboxError::Trap { module, trap: cap.to_string() },
        };
    }
    if let Some(TooBusy { wall }) = error.downcast_ref::<TooBusy>() {
        return SandboxError::Busy { module, deadline, wall: *wall, during: String::new() };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => SandboxError::Deadline { module, deadline, during: String::new() },
        Some(trap) => SandboxError::Trap { module, trap: trap.to_string() },
        None => SandboxError::Trap { module, trap: format!("{error:#}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stops(budget: &Budget) -> bool {
        matches!(budget.check(), Ok(UpdateDeadline::Interrupt))
    }

    /// Time the thread spends off the CPU — waiting, or crowded out by
    /// other programs — is not the module's: only its own work counts.
    #[test]
    fn the_deadline_counts_the_threads_own_cpu_not_the_clock() {
        let budget = Budget::new(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!stops(&budget), "300 ms asleep used none of a 100 ms CPU budget");
        // 150 ms of the thread's own CPU, however long the clock takes to
        // give it (a busy machine once made 150 ms of clock less than 100 of CPU).
        let Some(from) = thread_cpu_time() else { return };
        while thread_cpu_time().is_some_and(|now| now - from < Duration::from_millis(150)) {
            std::hint::black_box(0u64.wrapping_add(1));
        }
        assert!(stops(&budget), "150 ms of work passes a 100 ms budget");
    }

    #[test]
    fn past_the_wall_clock_ceiling_the_module_is_stopped_as_too_busy() {
        // Two seconds of CPU, barely touched, but 50 s (its ceiling) and more on the clock.
        let mut budget = Budget::new(Duration::from_secs(2));
        budget.wall_start -= budget.wall() + Duration::from_millis(1);
        let Err(err) = budget.check() else { panic!("the ceiling must stop it") };
        assert!(err.is::<TooBusy>());
        let e = classify("m", Duration::from_secs(1), err).during("answering TrainStep");
        assert!(e.to_string().contains("this machine is too busy"), "{e}");
        assert!(e.to_string().contains("while answering TrainStep"), "{e}");
    }
}
