//! The wasmtime engine shared by every instance: compiler settings, the
//! epoch ticker behind per-call deadlines, and the on-disk cache of compiled
//! modules (so a second start does not recompile).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, Module, OptLevel};

/// How often the epoch advances; deadlines are whole ticks.
pub const TICK: Duration = Duration::from_millis(10);

pub struct Runtime {
    engine: Arc<Engine>,
    cache_dir: Option<PathBuf>,
}

/// How a module was obtained, for the start-up benchmark and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiled {
    /// Loaded from the on-disk cache.
    Cached,
    /// Compiled now (and written to the cache when there is one).
    Fresh,
}

impl Runtime {
    /// A runtime caching compiled modules in `cache_dir` (none: no cache).
    pub fn new(cache_dir: Option<&Path>) -> Result<Runtime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        config.wasm_simd(true);
        config.max_wasm_stack(2 << 20);
        let engine = Arc::new(
            Engine::new(&config).map_err(anyhow::Error::from).context("could not start the WebAssembly runtime")?,
        );
        spawn_ticker(Arc::downgrade(&engine));
        Ok(Runtime { engine, cache_dir: cache_dir.map(Path::to_path_buf) })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles `wasm` (text or binary), or loads it from the cache.
    pub fn compile(&self, name: &str, wasm: &[u8]) -> Result<(Module, Compiled)> {
        let Some(path) = self.cache_path(wasm) else {
            return Ok((self.compile_fresh(name, wasm)?, Compiled::Fresh));
        };
        if let Some(module) = self.load_cached(&path) {
            return Ok((module, Compiled::Cached));
        }
        let module = self.compile_fresh(name, wasm)?;
        if let Err(e) = store_artifact(&path, &module) {
            tracing::warn!("could not cache compiled module {name} at {}: {e:#}", path.display());
        }
        Ok((module, Compiled::Fresh))
    }

    fn compile_fresh(&self, name: &str, wasm: &[u8]) -> Result<Module> {
        let started = Instant::now();
        let module = Module::new(&self.engine, wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("engine module {name} is not a valid WebAssembly module"))?;
        tracing::info!("compiled {name} in {:?}", started.elapsed());
        Ok(module)
    }

    /// Cache files are keyed by the module's hash and by wasmtime's own
    /// compatibility hash, so another wasmtime version or configuration
    /// never even tries to read them.
    fn cache_path(&self, wasm: &[u8]) -> Option<PathBuf> {
        use std::hash::{Hash, Hasher};
        let dir = self.cache_dir.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        let module = hex(&Sha256::digest(wasm)[..16]);
        Some(dir.join(format!("{module}-{:016x}.cwasm", h.finish())))
    }

    /// A cached artifact is its SHA-256 followed by wasmtime's serialized
    /// module; any mismatch or failure is a cache miss.
    fn load_cached(&self, path: &Path) -> Option<Module> {
        let bytes = std::fs::read(path).ok()?;
        if bytes.len() < 32 || Sha256::digest(&bytes[32..])[..] != bytes[..32] {
            tracing::warn!("ignoring damaged module cache {}", path.display());
            return None;
        }
        // SAFETY: the artifact was written by `store_artifact` with this
        // engine configuration (the file name carries its compatibility
        // hash) and its checksum matches, so it is the bytes wasmtime wrote.
        match unsafe { Module::deserialize(&self.engine, &bytes[32..]) } {
            Ok(module) => Some(module),
            Err(e) => {
                tracing::warn!("ignoring module cache {}: {e:#}", path.display());
                None
            }
        }
    }
}

/// Written to a temporary name, then renamed: a module mapped from the old
/// file is never overwritten underneath a running instance.
fn store_artifact(path: &Path, module: &Module) -> Result<()> {
    let dir = path.parent().context("cache path has no folder")?;
    std::fs::create_dir_all(dir)?;
    let artifact = module.serialize().map_err(anyhow::Error::from)?;
    let mut bytes = Sha256::digest(&artifact).to_vec();
    bytes.extend_from_slice(&artifact);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    Ok(())
}

/// Advances the engine's epoch every [`TICK`] until the engine is dropped.
fn spawn_ticker(engine: Weak<Engine>) {
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .expect("could not start the epoch ticker thread");
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
