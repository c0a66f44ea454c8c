//! Where engine modules come from: the ones built into the binary, and any
//! `.wasm` file the user drops into the plugins folder or names on the
//! command line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::Module;

use super::runtime::{Compiled, Runtime, hex};

/// Modules built from `plugins/` and embedded at compile time (see build.rs).
pub const BUILTIN: [(&str, &[u8]); 2] = [
    ("cinema-default", include_bytes!(env!("CINEMA_MODULE_DEFAULT"))),
    ("cinema-baseline", include_bytes!(env!("CINEMA_MODULE_BASELINE"))),
];

pub const DEFAULT_MODULE: &str = "cinema-default";

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
    pub fn builtin(runtime: &Runtime, name: &str) -> Result<EngineModule> {
        let (name, bytes) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .with_context(|| format!("there is no built-in engine module called {name}"))?;
        EngineModule::from_bytes(runtime, name, ModuleSource::Builtin(name), bytes)
    }

    /// Loads a `.wasm` (or `.wat`) file.
    pub fn from_file(runtime: &Runtime, path: &Path) -> Result<EngineModule> {
        let bytes = std::fs::read(path).with_context(|| format!("could not read engine module {}", path.display()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        EngineModule::from_bytes(runtime, &name, ModuleSource::File(path.to_path_buf()), &bytes)
    }

    /// `--plugin` accepts a built-in name or a path.
    pub fn resolve(runtime: &Runtime, spec: Option<&str>) -> Result<EngineModule> {
        match spec {
            None => EngineModule::builtin(runtime, DEFAULT_MODULE),
            Some(s) if BUILTIN.iter().any(|(n, _)| *n == s) => EngineModule::builtin(runtime, s),
            Some(path) => EngineModule::from_file(runtime, Path::new(path)),
        }
    }

    fn from_bytes(runtime: &Runtime, name: &str, source: ModuleSource, bytes: &[u8]) -> Result<EngineModule> {
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
