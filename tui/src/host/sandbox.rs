//! One running engine instance, fenced in: no imports at all (no WASI, no
//! host functions), a memory cap, a cap on table elements, one memory and one
//! instance per store, a CPU deadline per guest entry, a reply size cap, and
//! every pointer and length the guest hands back checked against its memory.
//! A trap or a broken promise ends this instance, never the process.

use std::time::Duration;

use anyhow::Result;
use cinema_engine::protocol::{ABI_VERSION, Reply, Request};
use wasmtime::{Instance, Linker, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc};

use super::runtime::{Runtime, TICK};

/// Most elements any table may hold. Table elements live in host memory
/// outside the linear-memory cap (a pointer each), so they get their own cap;
/// the built-in engines use a few dozen.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Stack of the thread every guest entry runs on. Wasmtime's `max_wasm_stack`
/// (2 MiB, set in `runtime.rs`) only bounds the wasm frames and does not
/// check that the calling thread has that much left: a deeply recursing
/// guest on a default 2 MiB thread would overflow the host stack and abort
/// the process. So guests run on threads of this size, which must stay well
/// above `max_wasm_stack`.
const GUEST_STACK_BYTES: usize = 8 << 20;

/// What a module may use. Defaults suit ML-25M-sized data on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest linear memory the module may grow to.
    pub memory_bytes: usize,
    /// Longest a single guest entry (instantiation, `abi_version`, `alloc`,
    /// `call`) may run.
    pub call_deadline: Duration,
    /// Largest reply the host will decode.
    pub max_reply_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { memory_bytes: 3 << 30, call_deadline: Duration::from_secs(1), max_reply_bytes: 256 << 20 }
    }
}

/// Why a call into a module failed. Everything except `Engine` ends the instance.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("engine module {module} ran past its CPU deadline of {deadline:?} and was stopped")]
    Deadline { module: String, deadline: Duration },
    #[error("engine module {module} tried to use more than its memory cap of {cap_mib} MiB and was stopped")]
    Memory { module: String, cap_mib: usize },
    #[error("engine module {module} crashed (trap: {trap})")]
    Trap { module: String, trap: String },
    #[error("engine module {module} broke the ABI: {reason}")]
    Abi { module: String, reason: String },
    #[error(
        "engine module {module} speaks ABI version {found}, this host speaks {ABI_VERSION}: rebuild it against cinema-engine {ABI_VERSION}"
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

/// The store's data: the limiter and nothing else (there are no host functions).
struct Guest {
    memory_bytes: usize,
}

/// Growing past a cap traps (a runaway guest that ignores `memory.grow`'s -1
/// would otherwise spin until its deadline); growing past the module's own
/// declared maximum, or a growth the system cannot back, returns -1 as the
/// spec says.
impl ResourceLimiter for Guest {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(CapExceeded::Memory { desired, cap: self.memory_bytes }));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
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

struct Exports {
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    call: TypedFunc<(u32, u32), u64>,
}

pub struct Sandbox {
    name: String,
    limits: Limits,
    store: Store<Guest>,
    exports: Exports,
    /// Set once the instance can no longer be trusted.
    stopped: Option<String>,
}

impl Sandbox {
    /// Instantiates `module` (running its start function under the deadline),
    /// checks its ABI version, then its exports.
    pub fn new(runtime: &Runtime, name: &str, module: &Module, limits: Limits) -> Result<Sandbox, SandboxError> {
        on_guest_stack(name, || Sandbox::new_here(runtime, name, module, limits))?
    }

    fn new_here(runtime: &Runtime, name: &str, module: &Module, limits: Limits) -> Result<Sandbox, SandboxError> {
        let mut store = Store::new(runtime.engine(), Guest { memory_bytes: limits.memory_bytes });
        store.limiter(|g| g as &mut dyn ResourceLimiter);
        let fault = |e: wasmtime::Error| classify(name, &limits, e);
        // An empty linker: a module that imports anything is refused here.
        set_deadline(&mut store, limits.call_deadline);
        let instance = Linker::new(runtime.engine()).instantiate(&mut store, module).map_err(|e| {
            if is_guest_fault(&e) {
                fault(e)
            } else {
                SandboxError::Abi { module: name.into(), reason: format!("cannot be instantiated: {e:#}") }
            }
        })?;
        // The version first: a module of another ABI may well have other exports.
        let version: TypedFunc<(), u32> = typed(&mut store, &instance, name, "abi_version", "() -> i32")?;
        set_deadline(&mut store, limits.call_deadline);
        let found = version.call(&mut store, ()).map_err(fault)?;
        if found != ABI_VERSION {
            return Err(SandboxError::Version { module: name.into(), found });
        }
        let exports = Exports::find(&mut store, &instance, name)?;
        Ok(Sandbox { name: name.into(), limits, store, exports, stopped: None })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sends one request and decodes the reply. After any error other than
    /// an engine error reply, the instance refuses further calls.
    pub fn call(&mut self, request: &Request) -> Result<Reply, SandboxError> {
        if let Some(reason) = &self.stopped {
            return Err(SandboxError::Stopped { module: self.name.clone(), reason: reason.clone() });
        }
        let (name, request) = (self.name.clone(), request.encode());
        let result = on_guest_stack(&name, || self.call_unchecked(&request)).and_then(|r| r);
        if let Err(e) = &result {
            tracing::error!("{e}");
            self.stopped = Some(e.to_string());
        }
        result
    }

    fn call_unchecked(&mut self, request: &[u8]) -> Result<Reply, SandboxError> {
        let abi = |reason: String| SandboxError::Abi { module: self.name.clone(), reason };
        let len = u32::try_from(request.len()).map_err(|_| abi("request larger than 4 GiB".into()))?;
        set_deadline(&mut self.store, self.limits.call_deadline);
        let ptr = self.exports.alloc.call(&mut self.store, len).map_err(|e| classify(&self.name, &self.limits, e))?;
        // `Memory::write` checks `ptr + len` against the memory's size.
        self.exports.memory.write(&mut self.store, ptr as usize, request).map_err(|_| {
            let size = self.exports.memory.data_size(&self.store);
            abi(format!("alloc({len}) returned {ptr:#x}, outside its memory of {size} bytes"))
        })?;
        set_deadline(&mut self.store, self.limits.call_deadline);
        let packed =
            self.exports.call.call(&mut self.store, (ptr, len)).map_err(|e| classify(&self.name, &self.limits, e))?;
        let (reply_ptr, reply_len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        if reply_len > self.limits.max_reply_bytes {
            return Err(abi(format!(
                "reply of {reply_len} bytes exceeds the cap of {} bytes",
                self.limits.max_reply_bytes
            )));
        }
        // Both halves are below 2^32, so the sum cannot overflow a 64-bit
        // usize; `checked_add` keeps 32-bit hosts honest too.
        let memory = self.exports.memory.data(&self.store);
        let reply = reply_ptr.checked_add(reply_len).and_then(|end| memory.get(reply_ptr..end)).ok_or_else(|| {
            abi(format!("reply at {reply_ptr:#x}+{reply_len} lies outside its memory of {} bytes", memory.len()))
        })?;
        Reply::decode(reply).map_err(|e| abi(format!("reply of {reply_len} bytes does not decode ({e})")))
    }
}

impl Exports {
    fn find(store: &mut Store<Guest>, instance: &Instance, name: &str) -> Result<Exports, SandboxError> {
        let memory = instance
            .get_memory(&mut *store, "memory")
            .ok_or_else(|| SandboxError::Abi { module: name.into(), reason: "missing export `memory`".into() })?;
        Ok(Exports {
            memory,
            alloc: typed(store, instance, name, "alloc", "(i32) -> i32")?,
            call: typed(store, instance, name, "call", "(i32, i32) -> i64")?,
        })
    }
}

fn typed<P, R>(
    store: &mut Store<Guest>,
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

/// Runs `f` (which enters the guest) on a scoped thread with a
/// [`GUEST_STACK_BYTES`] stack, whatever thread the caller is on.
fn on_guest_stack<R: Send>(module: &str, f: impl FnOnce() -> R + Send) -> Result<R, SandboxError> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("wasm-guest".into())
            .stack_size(GUEST_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| SandboxError::Trap {
                module: module.into(),
                trap: format!("the host could not start a thread to run it: {e}"),
            })?;
        // The guest cannot make host code panic; a panic here is a host bug.
        Ok(thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// Epoch deadlines are relative to the current epoch, so this must run
/// before every entry into the guest (an unset deadline traps at once).
fn set_deadline(store: &mut Store<Guest>, deadline: Duration) {
    let ticks = deadline.as_millis().div_ceil(TICK.as_millis()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
}

/// Whether an instantiation error is the guest's doing at run time (its start
/// function trapped, ran out of time, or a memory or table outgrew a cap)
/// rather than the module being unacceptable as it stands.
fn is_guest_fault(error: &wasmtime::Error) -> bool {
    error.is::<Trap>() || error.is::<CapExceeded>()
}

fn classify(module: &str, limits: &Limits, error: wasmtime::Error) -> SandboxError {
    let module = module.to_string();
    if let Some(cap) = error.downcast_ref::<CapExceeded>() {
        return match cap {
            CapExceeded::Memory { .. } => SandboxError::Memory { module, cap_mib: limits.memory_bytes >> 20 },
            CapExceeded::Table { .. } => SandboxError::Trap { module, trap: cap.to_string() },
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => SandboxError::Deadline { module, deadline: limits.call_deadline },
        Some(trap) => SandboxError::Trap { module, trap: trap.to_string() },
        None => SandboxError::Trap { module, trap: format!("{error:#}") },
    }
}
