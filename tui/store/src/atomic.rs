//! Writing a small file so a crash leaves the old contents or the new ones,
//! never half: a synced temporary file in the same folder, renamed over the
//! target, then the folder synced so the rename itself survives.

use std::path::Path;

use anyhow::{Context, Result};

pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, Durable::Yes)
}

/// Whether a write must survive a power cut, or only never be seen half
/// written (a cache rebuilt from what is durable, written after every view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    Yes,
    WholeOnly,
}

/// Puts `bytes` at `path` by renaming a temporary file over it, synced
/// first (with its folder after) when `durable` says so.
pub fn replace(path: &Path, bytes: &[u8], durable: Durable) -> Result<()> {
    let dir = path.parent().context("the path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    if durable == Durable::Yes {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).with_context(|| format!("could not save {}", path.display()))?;
    // Best effort: not every platform can sync a folder.
    if durable == Durable::Yes
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
