//! Compiling engine modules from bytes or files, and finding the `.wasm`
//! files in a plugins folder. Which modules are built into the app is the
//! app's business (`cinema::modules`), not the host's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use wasmtime::Module;

use super::runtime::{Compiled, Runtime, hex};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    Builtin(&'static str),
    File(PathBuf),
}

/// A compiled engine module, ready to be instantiated any number of times.
pub struct EngineModule {
    pub name: String,
    pub source: ModuleSource,
    pub sha256: String,
    pub module: Module,
    pub compiled: Compiled,
}

impl EngineModule {
    /// Loads a `.wasm` (or `.wat`) file.
    pub fn from_file(runtime: &Runtime, path: &Path) -> Result<EngineModule> {
        let bytes = std::fs::read(path).with_context(|| format!("could not read engine module {}", path.display()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        // wasmtime reads anything that is not binary wasm as WAT text; for a
        // `.wasm` file its parser's complaint would only mislead.
        if path.extension().is_some_and(|e| e == "wasm") && !bytes.starts_with(b"\0asm") {
            bail!(
                "engine module {name} is not a valid WebAssembly module: {} does not start with \\0asm{}",
                path.display(),
                looks_like(&bytes)
            );
        }
        EngineModule::from_bytes(runtime, &name, ModuleSource::File(path.to_path_buf()), &bytes)
    }

    /// Compiles a module held in memory (or loads its compiled form from the cache).
    pub fn from_bytes(runtime: &Runtime, name: &str, source: ModuleSource, bytes: &[u8]) -> Result<EngineModule> {
        let (module, compiled) = runtime.compile(name, bytes)?;
        Ok(EngineModule { name: name.to_string(), source, sha256: hex(&Sha256::digest(bytes)), module, compiled })
    }

    pub fn location(&self) -> String {
        match &self.source {
            ModuleSource::Builtin(name) => format!("built-in:{name}"),
            ModuleSource::File(path) => path.display().to_string(),
        }
    }
}

/// The `.wasm` files in a plugins folder, sorted by name.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    found.sort();
    found
}

/// What a file that is not wasm seems to be, for the error message.
fn looks_like(bytes: &[u8]) -> &'static str {
    match bytes {
        [] => " (it is empty)",
        [0x7f, b'E', b'L', b'F', ..] => " (it looks like an ELF executable)",
        [b'M', b'Z', ..] => " (it looks like a Windows executable)",
        [b'P', b'K', 3, 4, ..] => " (it looks like a zip archive)",
        _ if std::str::from_utf8(bytes).is_ok() => " (it is text; WebAssembly text belongs in a .wat file)",
        _ => "",
    }
}
