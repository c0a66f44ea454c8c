//! Loading and calling engine modules.
//!
//! [`Runtime`] owns wasmtime and the compiled-module cache; [`Sandbox`] is one
//! running instance behind the memory cap and CPU deadline; [`EngineClient`]
//! is the typed client the rest of the app uses. Nothing outside this room
//! touches wasmtime or raw protocol bytes.

pub mod checks;
pub mod client;
pub mod modules;
pub mod runtime;
pub mod sandbox;

pub use client::{Broken, EngineClient, Refused};
pub use modules::{EngineModule, ModuleSource};
pub use runtime::Runtime;
pub use sandbox::{Limits, Sandbox, SandboxError};

/// Whether `error` ended the module's instance — it broke a limit of the
/// sandbox or a rule of [`checks`] — rather than being an answer the module
/// gave and survived (a [`Refused`] request, or the host's own I/O).
pub fn is_fault(error: &anyhow::Error) -> bool {
    error.downcast_ref::<Broken>().is_some() || error.downcast_ref::<SandboxError>().is_some()
}
