//! A compact binary copy of each imported dataset, so the next start skips
//! parsing. The copy is tied to the source files' sizes and mtimes, checked by
//! SHA-256, written atomically, and silently rebuilt when anything is off.
//!
//! File layout: `CINEMADS`, format version (u32 LE), fingerprint length (u32
//! LE), postcard fingerprint, SHA-256 of the body, body length (u64 LE), body
//! (the postcard `(Dataset, ImportNotes)`).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use thiserror::Error;

use super::dataset::Dataset;
use super::home::Home;
use super::import::{self, ImportError, ImportNotes, Reason};

const MAGIC: &[u8; 8] = b"CINEMADS";
/// Bump whenever `Dataset`, what the import puts in it, or this layout
/// changes: old caches become misses. 2: titles, genres and tags cleaned of
/// control characters, duplicate ratings dropped, and the import's notes kept.
const FORMAT_VERSION: u32 = 2;
const CHECKSUM_LEN: usize = 32;

/// Whether `load_or_import` answered from the cache or had to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

/// What the cached copy was built from: a source file changing invalidates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub files: Vec<FileStamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub path: String,
    pub len: u64,
    /// Modification time in nanoseconds since the Unix epoch (0 if unknown).
    pub mtime_ns: u64,
}

/// The dataset at `path`, from the cache when it is still valid, else imported
/// (and cached for next time). A failed import leaves no cache file behind.
pub fn load_or_import(home: &Home, path: &Path) -> anyhow::Result<(Dataset, CacheStatus)> {
    load_or_import_noted(home, path).map(|(dataset, status, _)| (dataset, status))
}

/// [`load_or_import`], with what the import noticed about the data (kept in
/// the cache, so a hit says it too).
pub fn load_or_import_noted(home: &Home, path: &Path) -> anyhow::Result<(Dataset, CacheStatus, ImportNotes)> {
    // Taken before reading, so a file changed mid-import makes the next start re-import.
    let fingerprint = import_fingerprint(path)?;
    let cache = cache_path(home, path);
    match read_cache(&cache, &fingerprint) {
        Ok(Some((dataset, notes))) => return Ok((dataset, CacheStatus::Hit, notes)),
        Ok(None) => {}
        Err(defect) => tracing::warn!("ignoring dataset cache {}: {defect}", cache.display()),
    }
    let (dataset, notes) = match import::import_noted(path) {
        Ok(imported) => imported,
        Err(err) => {
            discard(&cache);
            return Err(err.into());
        }
    };
    // The cache only saves time: failing to write it must not fail the import.
    if let Err(err) = write_cache(&cache, &fingerprint, &dataset, &notes) {
        tracing::warn!("could not write dataset cache {}: {err:#}", cache.display());
    }
    Ok((dataset, CacheStatus::Miss, notes))
}

/// Size and mtime of every file an import of `path` would read.
pub fn import_fingerprint(path: &Path) -> Result<Fingerprint, ImportError> {
    let files = import::source_files(path)?;
    let files = files.iter().map(|f| stamp(f)).collect::<Result<_, _>>()?;
    Ok(Fingerprint { files })
}

fn stamp(path: &Path) -> Result<FileStamp, ImportError> {
    let shown = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| ImportError::whole(&shown, Reason::Io(e.to_string())))?;
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Ok(FileStamp { path: shown, len: meta.len(), mtime_ns })
}

/// `<cache dir>/datasets/<dataset name>-<hash of the canonical source path>.dataset`:
/// readable, yet two datasets with the same folder name never collide. (The
/// subfolder keeps them apart from other caches, such as compiled modules.)
pub fn cache_path(home: &Home, path: &Path) -> PathBuf {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let name: String = import::dataset_name(path)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    home.cache_dir().join("datasets").join(format!("{name}-{hash}.dataset"))
}

/// Why a cache file was not used.
#[derive(Debug, Error)]
enum CacheDefect {
    #[error("cannot read it: {0}")]
    Io(#[from] io::Error),
    #[error("not a Cinema dataset cache")]
    NotACache,
    #[error("written by cache format {0}, this build reads {FORMAT_VERSION}")]
    OtherVersion(u32),
    #[error("truncated")]
    Truncated,
    #[error("checksum mismatch")]
    Checksum,
    #[error("undecodable: {0}")]
    Decode(#[from] postcard::Error),
}

/// `Ok(None)` when there is no cache or it describes other source files.
fn read_cache(cache: &Path, expected: &Fingerprint) -> Result<Option<(Dataset, ImportNotes)>, CacheDefect> {
    let bytes = match fs::read(cache) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        other => other?,
    };
    decode(&bytes, expected)
}

fn decode(bytes: &[u8], expected: &Fingerprint) -> Result<Option<(Dataset, ImportNotes)>, CacheDefect> {
    let mut input = Cursor(bytes);
    if input.take(MAGIC.len()).map_err(|_| CacheDefect::NotACache)? != MAGIC {
        return Err(CacheDefect::NotACache);
    }
    let version = input.u32()?;
    if version != FORMAT_VERSION {
        return Err(CacheDefect::OtherVersion(version));
    }
    let fingerprint_len = input.u32()? as usize;
    let fingerprint: Fingerprint = postcard::from_bytes(input.take(fingerprint_len)?)?;
    if fingerprint != *expected {
        tracing::info!("dataset cache is stale: the source files changed");
        return Ok(None);
    }
    let checksum = input.take(CHECKSUM_LEN)?;
    let body_len = usize::try_from(input.u64()?).map_err(|_| CacheDefect::Truncated)?;
    let body = input.take(body_len)?;
    if !input.0.is_empty() {
        return Err(CacheDefect::Truncated);
    }
    if Sha256::digest(body).as_slice() != checksum {
        return Err(CacheDefect::Checksum);
    }
    Ok(Some(postcard::from_bytes(body)?))
}

/// Reads the fixed-layout header without ever indexing out of bounds.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CacheDefect> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(CacheDefect::Truncated)?;
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, CacheDefect> {
        let bytes = self.take(4)?.try_into().map_err(|_| CacheDefect::Truncated)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn u64(&mut self) -> Result<u64, CacheDefect> {
        let bytes = self.take(8)?.try_into().map_err(|_| CacheDefect::Truncated)?;
        Ok(u64::from_le_bytes(bytes))
    }
}

/// Everything before the body.
fn encode_header(fingerprint: &Fingerprint, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let stamp = postcard::to_stdvec(fingerprint)?;
    let mut header = Vec::with_capacity(64 + stamp.len());
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&u32::try_from(stamp.len())?.to_le_bytes());
    header.extend_from_slice(&stamp);
    header.extend_from_slice(&Sha256::digest(body));
    header.extend_from_slice(&(body.len() as u64).to_le_bytes());
    Ok(header)
}

/// Temp file in the same folder, fsync, atomic rename: a crash leaves either
/// the old cache or the new one, never half of one.
fn write_cache(target: &Path, fingerprint: &Fingerprint, dataset: &Dataset, notes: &ImportNotes) -> anyhow::Result<()> {
    let dir = target.parent().context("cache path has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let body = postcard::to_stdvec(&(dataset, notes))?;
    let header = encode_header(fingerprint, &body)?;
    let mut tmp = NamedTempFile::new_in(dir)?;
    tmp.write_all(&header)?;
    tmp.write_all(&body)?;
    tmp.as_file().sync_all()?;
    tmp.persist(target)?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename itself durable. Best effort: not every platform can.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(err) = fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!("could not sync {}: {err}", dir.display());
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Removes a cache whose source no longer imports.
fn discard(cache: &Path) {
    match fs::remove_file(cache) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => {
            tracing::warn!("could not remove stale dataset cache {}: {err}", cache.display());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Format, Movie, Rating, RatingScale};

    fn dataset() -> Dataset {
        Dataset {
            name: "tiny".into(),
            format: Format::Ml1m,
            scale: RatingScale::WHOLE_STARS,
            genres: vec!["Drama".into()],
            movies: vec![Movie {
                id: 1,
                title: "Amélie".into(),
                year: Some(2001),
                genres: 1,
                imdb_id: None,
                tmdb_id: None,
                tags: vec![],
            }],
            user_ids: vec![7],
            ratings: vec![Rating { user: 0, item: 0, value: 5.0, timestamp: 10 }],
        }
    }

    fn notes() -> ImportNotes {
        ImportNotes { duplicates_dropped: 3 }
    }

    fn fingerprint(len: u64) -> Fingerprint {
        Fingerprint { files: vec![FileStamp { path: "/d/ratings.dat".into(), len, mtime_ns: 42 }] }
    }

    fn encoded() -> Vec<u8> {
        let body = postcard::to_stdvec(&(dataset(), notes())).unwrap();
        let mut bytes = encode_header(&fingerprint(10), &body).unwrap();
        bytes.extend_from_slice(&body);
        bytes
    }

    #[test]
    fn round_trip() {
        assert_eq!(decode(&encoded(), &fingerprint(10)).unwrap(), Some((dataset(), notes())));
    }

    #[test]
    fn changed_source_is_stale() {
        assert_eq!(decode(&encoded(), &fingerprint(11)).unwrap(), None);
    }

    #[test]
    fn damage_is_detected() {
        let good = encoded();
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 0x55;
        assert!(matches!(decode(&flipped, &fingerprint(10)), Err(CacheDefect::Checksum)));
        let truncated = &good[..good.len() - 3];
        assert!(matches!(decode(truncated, &fingerprint(10)), Err(CacheDefect::Truncated)));
        let mut other = good.clone();
        other[8] = 99;
        assert!(matches!(decode(&other, &fingerprint(10)), Err(CacheDefect::OtherVersion(99))));
        assert!(matches!(decode(b"CINEM", &fingerprint(10)), Err(CacheDefect::NotACache)));
    }

    #[test]
    fn cache_names_are_readable_and_distinct() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(tmp.path().join("home"))).unwrap();
        let a = cache_path(&home, &tmp.path().join("x/ml 100k"));
        let b = cache_path(&home, &tmp.path().join("y/ml 100k"));
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("ml_100k-") && name.ends_with(".dataset"), "{name}");
    }
}
