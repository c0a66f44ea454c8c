//! The engine modules built into the app (compiled from `plugins/` by
//! build.rs and embedded), and how a `--plugin` argument picks one.

use std::path::Path;

use anyhow::{Context, Result};
use cinema_host::{EngineModule, ModuleSource, Runtime};

/// Modules built from `plugins/` and embedded at compile time (see build.rs).
pub const BUILTIN: [(&str, &[u8]); 3] = [
    ("cinema-default", include_bytes!(env!("CINEMA_MODULE_DEFAULT"))),
    ("cinema-baseline", include_bytes!(env!("CINEMA_MODULE_BASELINE"))),
    ("cinema-classic", include_bytes!(env!("CINEMA_MODULE_CLASSIC"))),
];

pub const DEFAULT_MODULE: &str = "cinema-default";

/// A built-in module by name.
pub fn builtin(runtime: &Runtime, name: &str) -> Result<EngineModule> {
    let (name, bytes) = BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .with_context(|| format!("there is no built-in engine module called {name}"))?;
    EngineModule::from_bytes(runtime, name, ModuleSource::Builtin(name), bytes)
}

/// `--plugin` accepts a built-in name, the name of a `.wasm` in the plugins
/// folder, or a path; none means the default module.
pub fn resolve(runtime: &Runtime, plugins_dir: &Path, spec: Option<&str>) -> Result<EngineModule> {
    match spec {
        None => builtin(runtime, DEFAULT_MODULE),
        Some(s) if BUILTIN.iter().any(|(n, _)| *n == s) => builtin(runtime, s),
        Some(name) if plugins_dir.join(format!("{name}.wasm")).exists() => {
            EngineModule::from_file(runtime, &plugins_dir.join(format!("{name}.wasm")))
        }
        Some(path) => EngineModule::from_file(runtime, Path::new(path)),
    }
}

/// Every module the app can load: the built-in ones, then each `.wasm` in
/// the plugins folder (by name). A file that does not compile is listed
/// with its error rather than hiding the others.
pub fn available(runtime: &Runtime, plugins_dir: &Path) -> Vec<(String, Result<EngineModule>)> {
    let builtin = BUILTIN.iter().map(|(name, _)| (name.to_string(), builtin(runtime, name)));
    let files = cinema_host::modules::discover(plugins_dir).into_iter().map(|path| {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        (name, EngineModule::from_file(runtime, &path))
    });
    builtin.chain(files).collect()
}
