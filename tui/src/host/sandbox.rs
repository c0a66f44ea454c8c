//! One running engine instance, fenced in: no imports at all (no WASI, no
//! host functions), a memory cap, a CPU deadline per call, a reply size cap,
//! and every pointer and length the guest hands back checked against its
//! memory. A trap or a broken promise ends this instance, never the process.

use std::time::Duration;

use anyhow::Result;
use cinema_engine::protocol::{ABI_VERSION, Reply, Request};
use wasmtime::{Instance, Linker, Memory, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, TypedFunc};

use super::runtime::{Runtime, TICK};

/// What a module may use. Defaults suit ML-25M-sized data on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest linear memory the module may grow to.
    pub memory_bytes: usize,
    /// Longest a single call (including instantiation) may run.
    pub call_deadline: Duration,
    /// Largest reply the host will copy out.
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

struct Guest {
    limits: StoreLimits,
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
    /// Instantiates `module` (running its start function under the deadline)
    /// and checks its exports and ABI version.
    pub fn new(runtime: &Runtime, name: &str, module: &Module, limits: Limits) -> Result<Sandbox, SandboxError> {
        let guest = Guest {
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .memories(1)
                .tables(4)
                .instances(1)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(runtime.engine(), guest);
        store.limiter(|g| &mut g.limits);
        set_deadline(&mut store, limits.call_deadline);
        let fault = |e: wasmtime::Error| classify(name, &limits, e);
        // An empty linker: a module that imports anything is refused here.
        let instance = Linker::new(runtime.engine()).instantiate(&mut store, module).map_err(|e| {
            if e.downcast_ref::<Trap>().is_some() {
                fault(e)
            } else {
                SandboxError::Abi { module: name.into(), reason: format!("cannot be instantiated: {e:#}") }
            }
        })?;
        let exports = Exports::find(&mut store, &instance, name)?;
        let version: TypedFunc<(), u32> = typed(&mut store, &instance, name, "abi_version", "() -> i32")?;
        set_deadline(&mut store, limits.call_deadline);
        let found = version.call(&mut store, ()).map_err(fault)?;
        if found != ABI_VERSION {
            return Err(SandboxError::Version { module: name.into(), found });
        }
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
        let result = self.call_unchecked(&request.encode());
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
        self.exports
            .memory
            .write(&mut self.store, ptr as usize, request)
            .map_err(|_| abi(format!("alloc({len}) returned {ptr:#x}, outside its memory")))?;
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
        let memory = self.exports.memory.data(&self.store);
        let reply = reply_ptr.checked_add(reply_len).and_then(|end| memory.get(reply_ptr..end)).ok_or_else(|| {
            abi(format!("reply at {reply_ptr:#x}+{reply_len} lies outside its {} bytes of memory", memory.len()))
        })?;
        Reply::decode(reply).map_err(|e| abi(format!("reply does not decode ({e})")))
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

fn set_deadline(store: &mut Store<Guest>, deadline: Duration) {
    let ticks = deadline.as_millis().div_ceil(TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(ticks);
}

fn classify(module: &str, limits: &Limits, error: wasmtime::Error) -> SandboxError {
    let module = module.to_string();
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => SandboxError::Deadline { module, deadline: limits.call_deadline },
        _ if format!("{error:#}").contains("forcing trap when growing memory") => {
            SandboxError::Memory { module, cap_mib: limits.memory_bytes >> 20 }
        }
        Some(trap) => SandboxError::Trap { module, trap: trap.to_string() },
        None => SandboxError::Trap { module, trap: format!("{error:#}") },
    }
}
