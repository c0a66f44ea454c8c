//! Compiling engine modules from bytes or files, and finding the `.wasm`
//! files in a plugins folder. Which modules are built into the app is the
//! app's business (`cinema::modules`), not the host's.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use wasmtime::Module;

use super::runtime::{Compiled, Runtime, hex};

/// The most an engine module file may hold. The built-in modules are about
/// 370 KB and an engine with a large model baked in a few MB; 64 MiB leaves
/// room for any honest module and keeps a mistaken path (a video, a disk
/// image) from being read into memory whole before wasmtime refuses it.
pub const MODULE_CAP: u64 = 64 << 20;

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
    /// Loads a `.wasm` (or `.wat`) file. Only a regular file of at most
    /// [`MODULE_CAP`] bytes is read; a FIFO or device is refused unopened.
    pub fn from_file(runtime: &Runtime, path: &Path) -> Result<EngineModule> {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = read_module_file(path)?;
        let text = !bytes.starts_with(b"\0asm");
        // wasmtime reads anything that is not binary wasm as WAT text; for a
        // `.wasm` file, or text that is not WAT, its parser's complaint would
        // only mislead (and quote the file).
        if text && (path.extension().is_some_and(|e| e == "wasm") || !looks_like_wat(&bytes)) {
            bail!(
                "engine module {name} is not a WebAssembly module: {} starts with neither \\0asm nor `(module`{}",
                path.display(),
                looks_like(&bytes)
            );
        }
        let compiled = EngineModule::from_bytes(runtime, &name, ModuleSource::File(path.to_path_buf()), &bytes);
        if !text {
            return compiled;
        }
        // The WAT parser's errors quote the offending source lines: keep
        // only the first line of its complaint, cleaned and short.
        compiled.map_err(|e| {
            let cause = e.root_cause().to_string();
            let first = cause.lines().next().unwrap_or_default();
            anyhow!("engine module {name} is not valid WebAssembly text: {}", excerpt(first))
        })
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

/// The bytes of a module file: refused unopened unless it is a regular file
/// (opening a FIFO blocks, a device never ends), and never more than
/// [`MODULE_CAP`] bytes, even if the file grows while it is read.
fn read_module_file(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("could not read engine module {shown}"))?;
    if !meta.is_file() {
        bail!("engine module {shown} is {}, not a regular file; nothing was read from it", file_kind(&meta));
    }
    let too_large = || {
        anyhow!(
            "engine module {shown} is larger than the {} MiB an engine module may be; nothing was loaded",
            MODULE_CAP >> 20
        )
    };
    if meta.len() > MODULE_CAP {
        return Err(too_large());
    }
    // Opened without blocking and checked again: the path may have become a
    // FIFO since the metadata above, and opening one would wait forever.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).with_context(|| format!("could not read engine module {shown}"))?;
    let opened = file.metadata().with_context(|| format!("could not read engine module {shown}"))?;
    if !opened.is_file() {
        bail!("engine module {shown} is {}, not a regular file; nothing was read from it", file_kind(&opened));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MODULE_CAP + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("could not read engine module {shown}"))?;
    if bytes.len() as u64 > MODULE_CAP {
        return Err(too_large());
    }
    Ok(bytes)
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// WebAssembly text opens with `(module`, perhaps after blank space and
/// `;;` line or `(; ;)` block comments.
fn looks_like_wat(bytes: &[u8]) -> bool {
    let Ok(mut text) = std::str::from_utf8(bytes) else { return false };
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix(";;") {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("(;") {
            text = rest.split_once(";)").map_or("", |(_, after)| after);
        } else {
            return text
                .strip_prefix("(module")
                .is_some_and(|r| r.is_empty() || r.starts_with(|c: char| !c.is_alphanumeric()));
        }
    }
}

/// At most 60 characters of `s`, control characters replaced, `…` marking a cut.
fn excerpt(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = chars.by_ref().take(60).map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
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
        _ if looks_like_wat(bytes) => " (it is WebAssembly text, which belongs in a .wat file)",
        _ if std::str::from_utf8(bytes).is_ok() => " (it is text)",
        _ => "",
    }
}
