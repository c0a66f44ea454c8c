//! Your ratings: an append-only log, synced to disk before a rating is
//! acknowledged, replayed at start.
//!
//! Records have a fixed size and a CRC, so a write torn by a crash shows up
//! as a short tail (dropped: it was never acknowledged) and a damaged record
//! as a checksum mismatch (skipped and reported) — the rest still loads.
//! Undo is itself a record, so the undo history survives restarts too.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

const MAGIC: &[u8; 8] = b"CINEMARL";
const VERSION: u32 = 1;
const HEADER: usize = 12;
/// kind u8, movie u32, value f32, timestamp i64, crc u32.
const RECORD: usize = 1 + 4 + 4 + 8 + 4;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Rate = 1,
    Remove = 2,
    Undo = 3,
}

/// One change to your ratings, as undo needs it: what the movie had before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub movie: u32,
    pub before: Option<f32>,
    pub after: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub value: f32,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
}

pub struct RatingsLog {
    path: PathBuf,
    file: File,
    ratings: BTreeMap<u32, Entry>,
    undo: Vec<(Change, Option<Entry>)>,
}

impl RatingsLog {
    /// Opens (or creates) the log and replays it. Problems that lose no
    /// acknowledged rating — a torn last record, a damaged record — are
    /// repaired or skipped and returned as warnings.
    pub fn open(path: &Path) -> Result<(RatingsLog, Vec<String>)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("could not open your ratings log {}", path.display()))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).with_context(|| format!("could not read {}", path.display()))?;
        let mut warnings = Vec::new();
        if bytes.len() < HEADER {
            // New, or a crash tore the header itself: nothing was acknowledged yet.
            file.set_len(0)?;
            let mut header = MAGIC.to_vec();
            header.extend_from_slice(&VERSION.to_le_bytes());
            file.write_all(&header)?;
            file.sync_all()?;
            sync_folders(path);
            bytes = header;
        }
        if &bytes[..8] != MAGIC {
            bail!("{} is not a Cinema ratings log (it was left untouched)", path.display());
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            bail!(
                "{} is a ratings log of format {version}; this Cinema reads format {VERSION} (the file was left untouched)",
                path.display()
            );
        }
        let body = &bytes[HEADER..];
        let whole = body.len() / RECORD * RECORD;
        if whole < body.len() {
            warnings.push(format!(
                "{}: dropped a torn record at the end ({} bytes, written during a crash and never acknowledged)",
                path.display(),
                body.len() - whole
            ));
            file.set_len((HEADER + whole) as u64)?;
            file.sync_all()?;
        }
        let mut log = RatingsLog { path: path.to_path_buf(), file, ratings: BTreeMap::new(), undo: Vec::new() };
        for (n, record) in body[..whole].chunks_exact(RECORD).enumerate() {
            match decode(record) {
                Some((kind, movie, value, timestamp)) => log.apply(kind, movie, value, timestamp),
                None => {
                    warnings.push(format!("{}: skipped damaged record #{} (checksum mismatch)", path.display(), n + 1))
                }
            }
        }
        Ok((log, warnings))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Your current ratings by the dataset's movie id.
    pub fn ratings(&self) -> &BTreeMap<u32, Entry> {
        &self.ratings
    }

    /// Rates `movie`; returns once the rating is on disk.
    pub fn rate(&mut self, movie: u32, value: f32) -> Result<Change> {
        self.append(Kind::Rate, movie, value)
    }

    /// Removes your rating of `movie` (no-op if there is none).
    pub fn remove(&mut self, movie: u32) -> Result<Option<Change>> {
        if !self.ratings.contains_key(&movie) {
            return Ok(None);
        }
        self.append(Kind::Remove, movie, 0.0).map(Some)
    }

    /// Reverts the most recent change not yet undone.
    pub fn undo(&mut self) -> Result<Option<Change>> {
        let Some(&(change, _)) = self.undo.last() else { return Ok(None) };
        self.append(Kind::Undo, change.movie, 0.0)?;
        Ok(Some(Change { movie: change.movie, before: change.after, after: change.before }))
    }

    fn append(&mut self, kind: Kind, movie: u32, value: f32) -> Result<Change> {
        let timestamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let record = encode(kind, movie, value, timestamp);
        self.cut_partial_record()
            .and_then(|_| self.file.write_all(&record))
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("could not save to your ratings log {}", self.path.display()))?;
        let before = self.ratings.get(&movie).map(|e| e.value);
        self.apply(kind, movie, value, timestamp);
        Ok(Change { movie, before, after: self.ratings.get(&movie).map(|e| e.value) })
    }

    /// A write that failed part-way (a full disk) leaves part of a record at
    /// the end. Appending after it would shift the new record, and every later
    /// one, off the record boundaries: at the next start they would all fail
    /// their checksums. So the part is cut off first, as `open` would.
    fn cut_partial_record(&mut self) -> std::io::Result<()> {
        let len = self.file.metadata()?.len();
        let partial = len.saturating_sub(HEADER as u64) % RECORD as u64;
        if partial != 0 {
            self.file.set_len(len - partial)?;
        }
        Ok(())
    }

    fn apply(&mut self, kind: Kind, movie: u32, value: f32, timestamp: i64) {
        match kind {
            Kind::Rate | Kind::Remove => {
                let previous = self.ratings.get(&movie).copied();
                let after = (kind == Kind::Rate).then_some(value);
                match after {
                    Some(value) => self.ratings.insert(movie, Entry { value, timestamp }),
                    None => self.ratings.remove(&movie),
                };
                self.undo.push((Change { movie, before: previous.map(|e| e.value), after }, previous));
            }
            Kind::Undo => {
                if let Some((_, previous)) = self.undo.pop() {
                    match previous {
                        Some(entry) => self.ratings.insert(movie, entry),
                        None => self.ratings.remove(&movie),
                    };
                }
            }
        }
    }
}

/// A new file survives a power cut only once its folder entry is on disk, and
/// `ratings/` may be new as well: sync both folders. Best effort, as some
/// file systems cannot sync a folder.
fn sync_folders(path: &Path) {
    for dir in path.ancestors().skip(1).take(2).filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!("could not sync {}: {e}", dir.display());
        }
    }
}

fn encode(kind: Kind, movie: u32, value: f32, timestamp: i64) -> [u8; RECORD] {
    let mut r = [0u8; RECORD];
    r[0] = kind as u8;
    r[1..5].copy_from_slice(&movie.to_le_bytes());
    r[5..9].copy_from_slice(&value.to_le_bytes());
    r[9..17].copy_from_slice(&timestamp.to_le_bytes());
    let crc = crc32fast::hash(&r[..17]);
    r[17..].copy_from_slice(&crc.to_le_bytes());
    r
}

fn decode(r: &[u8]) -> Option<(Kind, u32, f32, i64)> {
    let crc = u32::from_le_bytes(r[17..21].try_into().ok()?);
    if crc32fast::hash(&r[..17]) != crc {
        return None;
    }
    let kind = match r[0] {
        1 => Kind::Rate,
        2 => Kind::Remove,
        3 => Kind::Undo,
        _ => return None,
    };
    let value = f32::from_le_bytes(r[5..9].try_into().ok()?);
    if kind == Kind::Rate && !value.is_finite() {
        return None;
    }
    Some((kind, u32::from_le_bytes(r[1..5].try_into().ok()?), value, i64::from_le_bytes(r[9..17].try_into().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(log: &RatingsLog) -> Vec<(u32, f32)> {
        log.ratings().iter().map(|(&m, e)| (m, e.value)).collect()
    }

    #[test]
    fn ratings_survive_reopening_and_undo_walks_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let (mut log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty());
        log.rate(50, 5.0).unwrap();
        log.rate(7, 2.0).unwrap();
        log.rate(50, 3.5).unwrap();
        log.remove(7).unwrap();
        drop(log);
        let (mut log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty());
        assert_eq!(values(&log), vec![(50, 3.5)]);
        assert_eq!(log.undo().unwrap(), Some(Change { movie: 7, before: None, after: Some(2.0) }));
        assert_eq!(values(&log), vec![(7, 2.0), (50, 3.5)]);
        log.undo().unwrap();
        assert_eq!(values(&log), vec![(7, 2.0), (50, 5.0)]);
        drop(log);
        let (mut log, _) = RatingsLog::open(&path).unwrap();
        assert_eq!(values(&log), vec![(7, 2.0), (50, 5.0)]);
        log.undo().unwrap();
        log.undo().unwrap();
        assert_eq!(log.undo().unwrap(), None);
        assert!(log.ratings().is_empty());
    }

    #[test]
    fn a_torn_tail_is_dropped_and_a_damaged_record_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let (mut log, _) = RatingsLog::open(&path).unwrap();
        for m in 1..=3 {
            log.rate(m, 4.0).unwrap();
        }
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER + RECORD + 3] ^= 0xff; // damage record #2
        bytes.extend_from_slice(&[1, 2, 3]); // a torn fourth record
        std::fs::write(&path, &bytes).unwrap();
        let (mut log, warnings) = RatingsLog::open(&path).unwrap();
        assert_eq!(values(&log), vec![(1, 4.0), (3, 4.0)]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        log.rate(9, 1.0).unwrap();
        drop(log);
        let (log, warnings) = RatingsLog::open(&path).unwrap();
        assert_eq!(values(&log), vec![(1, 4.0), (3, 4.0), (9, 1.0)]);
        assert_eq!(warnings.len(), 1, "only the damaged record remains to report");
    }

    #[test]
    fn an_append_after_a_failed_partial_write_stays_on_the_record_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let (mut log, _) = RatingsLog::open(&path).unwrap();
        log.rate(1, 4.0).unwrap();
        // What a write cut short by a full disk leaves behind.
        OpenOptions::new().append(true).open(&path).unwrap().write_all(&[1, 2, 0, 0, 0, 0, 0]).unwrap();
        log.rate(2, 3.0).unwrap();
        drop(log);
        let (log, warnings) = RatingsLog::open(&path).unwrap();
        assert_eq!(values(&log), vec![(1, 4.0), (2, 3.0)]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unknown_versions_and_foreign_files_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let mut future = MAGIC.to_vec();
        future.extend_from_slice(&7u32.to_le_bytes());
        future.extend_from_slice(&[0; RECORD]);
        std::fs::write(&path, &future).unwrap();
        let err = RatingsLog::open(&path).err().unwrap().to_string();
        assert!(err.contains("format 7"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), future);
        std::fs::write(&path, b"hello, this is not a log").unwrap();
        assert!(RatingsLog::open(&path).is_err());
    }
}
