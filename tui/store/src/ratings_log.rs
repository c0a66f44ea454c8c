//! Your ratings: an append-only log, synced to disk before a rating is
//! acknowledged, replayed at start.
//!
//! Records have a fixed size and a CRC, so a write torn by a crash shows up
//! as a short tail (dropped: it was never acknowledged) and a damaged record
//! as a checksum mismatch (skipped and reported) — the rest still loads.
//! Undo is itself a record, so the undo history survives restarts too.
//!
//! A batch (an import of your ratings from elsewhere) is one header record
//! giving its size, then its ratings, written and synced in one go: replay
//! applies a batch whole or, if a crash cut it short, not at all; undo
//! takes it back whole. Format 2 is format 1 plus batches; a format-1 log
//! becomes format 2 when its first batch is written.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::lock;

const MAGIC: &[u8; 8] = b"CINEMARL";
const VERSION: u32 = 2;
/// Logs this Cinema reads: format 1 had no batches.
const READS: [u32; 2] = [1, 2];
const HEADER: usize = 12;
/// kind u8, movie u32, value f32, timestamp i64, crc u32.
const RECORD: usize = 1 + 4 + 4 + 8 + 4;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Rate = 1,
    Remove = 2,
    Undo = 3,
    /// The next `movie` records are one batch of ratings.
    Batch = 4,
}

/// One change to your ratings, as undo needs it: what the movie had before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub movie: u32,
    pub before: Option<f32>,
    pub after: Option<f32>,
    /// For an undone batch, how many ratings it held (this is its first); else 0.
    pub batch: u32,
    /// The number of the log record that made the change (1 is the first), so
    /// an undo can say exactly which change it took back.
    pub record: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub value: f32,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
}

/// Something undo can take back whole: one change, or a batch's changes.
#[derive(Debug, Clone)]
struct Step {
    /// The record that began it: what an undo names.
    record: u64,
    changes: Vec<(Change, Option<Entry>)>,
}

/// An undo refused because another Cinema changed your ratings after this
/// one last read them: taking back "the last change" would then take back
/// theirs, which this one never showed.
#[derive(Debug, thiserror::Error)]
#[error(
    "another Cinema changed your ratings since this one read them (your last change is now record #{now}); nothing was undone: undo again to take that back"
)]
pub struct Moved {
    pub now: u64,
}

pub struct RatingsLog {
    path: PathBuf,
    file: File,
    /// Bytes of the file replayed so far: anything past it was written by
    /// another Cinema and is read in before this one decides anything.
    offset: u64,
    /// False when the file (or its folder) is read-only: reading works, writing says why not.
    writable: bool,
    ratings: BTreeMap<u32, Entry>,
    undo: Vec<Step>,
    version: u32,
}

impl RatingsLog {
    /// Opens (or creates) the log and replays it. Problems that lose no
    /// acknowledged rating — a torn last record, a damaged record — are
    /// repaired or skipped and returned as warnings. A log that cannot be
    /// written (a read-only folder) opens for reading.
    pub fn open(path: &Path) -> Result<(RatingsLog, Vec<String>)> {
        let writable = match path.parent().map(std::fs::create_dir_all) {
            Some(Err(e)) if lock::read_only(&e) => false,
            Some(Err(e)) => {
                return Err(e).with_context(|| format!("could not create the folder of {}", path.display()));
            }
            _ => true,
        };
        let _guard = if writable { lock::acquire(&lock_path(path), "opening your ratings")? } else { None };
        let opened = OpenOptions::new().read(true).append(true).create(true).open(path);
        let (mut file, writable) = match opened {
            Ok(file) => (file, writable && _guard.is_some()),
            Err(e) if lock::read_only(&e) || (!writable && e.kind() == std::io::ErrorKind::NotFound) => {
                match File::open(path) {
                    Ok(file) => (file, false),
                    // Nothing rated yet, and nowhere to write: an empty log for reading.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Self::empty(path)?, Vec::new())),
                    Err(e) => {
                        return Err(e).with_context(|| format!("could not open your ratings log {}", path.display()));
                    }
                }
            }
            Err(e) => return Err(e).with_context(|| format!("could not open your ratings log {}", path.display())),
        };
        let mut header = Vec::new();
        (&mut file)
            .take(HEADER as u64)
            .read_to_end(&mut header)
            .with_context(|| format!("could not read {}", path.display()))?;
        if header.len() < HEADER {
            if !writable {
                return Ok((Self::empty(path)?, Vec::new()));
            }
            // New, or a crash tore the header itself: nothing was acknowledged yet.
            file.set_len(0)?;
            header = MAGIC.to_vec();
            header.extend_from_slice(&VERSION.to_le_bytes());
            file.write_all(&header)?;
            file.sync_all()?;
            sync_folders(path);
        }
        if &header[..8] != MAGIC {
            bail!("{} is not a Cinema ratings log (it was left untouched)", path.display());
        }
        let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if !READS.contains(&version) {
            bail!(
                "{} is a ratings log of format {version}; this Cinema reads formats 1 to {VERSION} (the file was left untouched)",
                path.display()
            );
        }
        let mut log = RatingsLog {
            path: path.to_path_buf(),
            file,
            offset: HEADER as u64,
            writable,
            ratings: BTreeMap::new(),
            undo: Vec::new(),
            version,
        };
        let warnings = log.read_new()?;
        Ok((log, warnings))
    }

    /// A log with nothing in it that cannot be written: there is no file,
    /// and nowhere to create one.
    fn empty(path: &Path) -> Result<RatingsLog> {
        let mut file = tempfile::tempfile()?;
        file.write_all(MAGIC)?;
        file.write_all(&VERSION.to_le_bytes())?;
        Ok(RatingsLog {
            path: path.to_path_buf(),
            file,
            offset: HEADER as u64,
            writable: false,
            ratings: BTreeMap::new(),
            undo: Vec::new(),
            version: VERSION,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Your current ratings by the dataset's movie id.
    pub fn ratings(&self) -> &BTreeMap<u32, Entry> {
        &self.ratings
    }

    /// Whether another Cinema has written to the log since this one last
    /// read it (one `stat`: cheap enough to ask every frame).
    pub fn changed_elsewhere(&self) -> bool {
        self.file.metadata().map(|m| m.len() != self.offset).unwrap_or(false)
    }

    /// Reads in what other Cinemas wrote since; true if there was anything.
    /// A writer busy right now is not waited for (false: ask again later),
    /// so an app asking on every tick never stalls.
    pub fn refresh(&mut self) -> Result<bool> {
        let _guard = match self.writable {
            true => match lock::acquire_within(&lock_path(&self.path), "reading your ratings", Duration::ZERO) {
                Ok(guard) => guard,
                Err(e) => {
                    tracing::debug!("not reading your ratings now: {e:#}");
                    return Ok(false);
                }
            },
            false => None,
        };
        let offset = self.offset;
        for w in self.read_new()? {
            tracing::warn!("{w}");
        }
        Ok(self.offset != offset)
    }

    /// Rates `movie`; returns once the rating is on disk.
    pub fn rate(&mut self, movie: u32, value: f32) -> Result<Change> {
        let _guard = self.lock_to_write("rating a movie")?;
        self.append(Kind::Rate, movie, value)
    }

    /// Removes your rating of `movie` (no-op if there is none).
    pub fn remove(&mut self, movie: u32) -> Result<Option<Change>> {
        let _guard = self.lock_to_write("removing a rating")?;
        if !self.ratings.contains_key(&movie) {
            return Ok(None);
        }
        self.append(Kind::Remove, movie, 0.0).map(Some)
    }

    /// Takes back the most recent change this log has shown (a whole batch,
    /// if that was it) and returns it. If another Cinema has changed your
    /// ratings since, nothing is undone and the error is [`Moved`]: what
    /// would be taken back is no longer what the caller saw as "last".
    pub fn undo(&mut self) -> Result<Option<Change>> {
        let seen = self.undo.last().map(|s| s.record);
        let _guard = self.lock_to_write("undoing a change")?;
        let Some(step) = self.undo.last() else { return Ok(None) };
        if Some(step.record) != seen {
            return Err(Moved { now: step.record }.into());
        }
        let (first, _) = step.changes[0];
        self.append(Kind::Undo, first.movie, 0.0)?;
        Ok(Some(Change { before: first.after, after: first.before, ..first }))
    }

    /// Rates every `(movie, value)` as one batch: on disk in one synced
    /// write, replayed whole or not at all, undone whole. Returns how many.
    pub fn rate_batch(&mut self, ratings: &[(u32, f32)]) -> Result<usize> {
        if ratings.is_empty() {
            return Ok(0);
        }
        let _guard = self.lock_to_write("importing your ratings")?;
        if self.version < 2 {
            self.upgrade()?;
        }
        let timestamp = now();
        let mut bytes = encode(Kind::Batch, ratings.len() as u32, 0.0, timestamp).to_vec();
        for &(movie, value) in ratings {
            bytes.extend_from_slice(&encode(Kind::Rate, movie, value, timestamp));
        }
        let record = self.next_record();
        self.write(&bytes)?;
        let batch: Vec<(u32, f32, i64)> = ratings.iter().map(|&(m, v)| (m, v, timestamp)).collect();
        self.apply_batch(record, &batch);
        Ok(ratings.len())
    }

    fn lock(&self, doing: &str) -> Result<Option<lock::Guard>> {
        if !self.writable {
            return Ok(None);
        }
        lock::acquire(&lock_path(&self.path), doing)
    }

    /// The lock for a change, with everything other Cinemas wrote read in
    /// first, so the change is decided on the log as it is now.
    fn lock_to_write(&mut self, doing: &str) -> Result<Option<lock::Guard>> {
        if !self.writable {
            bail!(
                "your ratings log {} is read-only here, so nothing can be changed; give Cinema a writable data directory (--home DIR)",
                self.path.display()
            );
        }
        let guard = self.lock(doing)?;
        for w in self.read_new()? {
            tracing::warn!("{w}");
        }
        Ok(guard)
    }

    /// Replays the records past `offset`. A torn tail or a batch cut short
    /// (a writer that crashed mid-write: the lock is held, so no writer is
    /// mid-write now) was never acknowledged, and is cut off when the log
    /// can be written.
    fn read_new(&mut self) -> Result<Vec<String>> {
        let path = self.path.display().to_string();
        let mut body = Vec::new();
        self.file
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| self.file.read_to_end(&mut body))
            .with_context(|| format!("could not read your ratings log {path}"))?;
        let mut warnings = Vec::new();
        let whole = body.len() / RECORD * RECORD;
        let mut keep = whole;
        if whole < body.len() {
            warnings.push(format!(
                "{path}: dropped a torn record at the end ({} bytes, written during a crash and never acknowledged)",
                body.len() - whole
            ));
        }
        let first = self.next_record();
        let records: Vec<&[u8]> = body[..whole].chunks_exact(RECORD).collect();
        let damaged = |n: usize| format!("{path}: skipped damaged record #{} (checksum mismatch)", first + n as u64);
        let mut n = 0;
        while n < records.len() {
            let record = first + n as u64;
            match decode(records[n]) {
                Some((Kind::Batch, size, _, _)) => {
                    let size = size as usize;
                    if records.len() - n - 1 < size {
                        // Cut short by a crash: it was never acknowledged.
                        warnings.push(format!(
                            "{path}: dropped an import of {size} ratings cut short by a crash (never acknowledged)"
                        ));
                        keep = n * RECORD;
                        break;
                    }
                    let mut batch = Vec::with_capacity(size);
                    for (k, r) in records[n + 1..n + 1 + size].iter().enumerate() {
                        match decode(r) {
                            Some((Kind::Rate, movie, value, timestamp)) => batch.push((movie, value, timestamp)),
                            _ => warnings.push(damaged(n + 1 + k)),
                        }
                    }
                    self.apply_batch(record, &batch);
                    n += 1 + size;
                }
                Some((kind, movie, value, timestamp)) => {
                    self.apply(record, kind, movie, value, timestamp);
                    n += 1;
                }
                None => {
                    warnings.push(damaged(n));
                    n += 1;
                }
            }
        }
        self.offset += keep as u64;
        if keep < body.len() && self.writable {
            self.file.set_len(self.offset)?;
            self.file.sync_all()?;
        }
        Ok(warnings)
    }

    /// The number the next record written will have.
    fn next_record(&self) -> u64 {
        (self.offset - HEADER as u64) / RECORD as u64 + 1
    }

    /// Marks a format-1 log as format 2 before its first batch, so an older
    /// Cinema refuses it rather than misread the batch.
    fn upgrade(&mut self) -> Result<()> {
        let mut file = OpenOptions::new().write(true).open(&self.path)?;
        file.seek(SeekFrom::Start(8))?;
        file.write_all(&VERSION.to_le_bytes())?;
        file.sync_all()?;
        self.version = VERSION;
        Ok(())
    }

    fn append(&mut self, kind: Kind, movie: u32, value: f32) -> Result<Change> {
        let timestamp = now();
        let record = self.next_record();
        self.write(&encode(kind, movie, value, timestamp))?;
        let before = self.ratings.get(&movie).map(|e| e.value);
        self.apply(record, kind, movie, value, timestamp);
        Ok(Change { movie, before, after: self.ratings.get(&movie).map(|e| e.value), batch: 0, record })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.cut_partial_record()
            .and_then(|_| self.file.write_all(bytes))
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("could not save to your ratings log {}", self.path.display()))?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// A write that failed part-way (a full disk) leaves part of a record at
    /// the end. Appending after it would shift the new record, and every later
    /// one, off the record boundaries: at the next start they would all fail
    /// their checksums. So the part is cut off first, as `open` would.
    fn cut_partial_record(&mut self) -> std::io::Result<()> {
        let len = self.file.metadata()?.len();
        if len != self.offset {
            self.file.set_len(self.offset)?;
        }
        Ok(())
    }

    fn apply(&mut self, record: u64, kind: Kind, movie: u32, value: f32, timestamp: i64) {
        match kind {
            Kind::Rate | Kind::Remove => {
                let change = self.set(record, movie, (kind == Kind::Rate).then_some(value), timestamp, 0);
                self.undo.push(Step { record, changes: vec![change] });
            }
            Kind::Undo => {
                // Back to front, so a movie rated twice in a step ends as it began.
                for (change, previous) in self.undo.pop().into_iter().flat_map(|s| s.changes).rev() {
                    match previous {
                        Some(entry) => self.ratings.insert(change.movie, entry),
                        None => self.ratings.remove(&change.movie),
                    };
                }
            }
            // Batches are replayed by `apply_batch`.
            Kind::Batch => {}
        }
    }

    fn apply_batch(&mut self, record: u64, batch: &[(u32, f32, i64)]) {
        let size = batch.len() as u32;
        let changes: Vec<_> =
            batch.iter().map(|&(movie, value, t)| self.set(record, movie, Some(value), t, size)).collect();
        if !changes.is_empty() {
            self.undo.push(Step { record, changes });
        }
    }

    /// Sets (or with `None` clears) a rating; returns the change and what was there.
    fn set(
        &mut self,
        record: u64,
        movie: u32,
        after: Option<f32>,
        timestamp: i64,
        batch: u32,
    ) -> (Change, Option<Entry>) {
        let previous = self.ratings.get(&movie).copied();
        match after {
            Some(value) => self.ratings.insert(movie, Entry { value, timestamp }),
            None => self.ratings.remove(&movie),
        };
        (Change { movie, before: previous.map(|e| e.value), after, batch, record }, previous)
    }
}

/// `ratings/x.log` is guarded by `ratings/x.log.lock`.
fn lock_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
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

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
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
        4 => Kind::Batch,
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
        assert_eq!(log.undo().unwrap(), Some(Change { movie: 7, before: None, after: Some(2.0), batch: 0, record: 4 }));
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
    fn a_batch_replays_whole_undoes_whole_and_a_torn_one_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        // A format-1 log with one rating, as an older Cinema wrote it.
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.extend_from_slice(&encode(Kind::Rate, 1, 2.0, 5));
        std::fs::write(&path, &v1).unwrap();
        let (mut log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty());
        assert_eq!(log.rate_batch(&[(1, 5.0), (2, 4.0), (3, 3.0)]).unwrap(), 3);
        assert_eq!(std::fs::read(&path).unwrap()[8..12], 2u32.to_le_bytes(), "upgraded to format 2");
        log.rate(4, 1.0).unwrap();
        drop(log);
        let (mut log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(values(&log), vec![(1, 5.0), (2, 4.0), (3, 3.0), (4, 1.0)]);
        log.undo().unwrap();
        let undone = log.undo().unwrap().unwrap();
        assert_eq!((undone.batch, undone.movie), (3, 1));
        assert_eq!(values(&log), vec![(1, 2.0)], "the whole batch went, the earlier rating came back");
        drop(log);
        let (log, _) = RatingsLog::open(&path).unwrap();
        assert_eq!(values(&log), vec![(1, 2.0)], "the undo survives a restart");
        drop(log);
        // A batch cut short by a crash: its header and one of two ratings.
        let mut bytes = std::fs::read(&path).unwrap();
        let good = bytes.len();
        bytes.extend_from_slice(&encode(Kind::Batch, 2, 0.0, 9));
        bytes.extend_from_slice(&encode(Kind::Rate, 8, 4.0, 9));
        std::fs::write(&path, &bytes).unwrap();
        let (mut log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.len() == 1 && w[0].contains("cut short"), "{w:?}");
        assert_eq!(values(&log), vec![(1, 2.0)]);
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, good, "the partial batch is cut off");
        log.rate(9, 3.0).unwrap();
        drop(log);
        let (log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty());
        assert_eq!(values(&log), vec![(1, 2.0), (9, 3.0)]);
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

    #[test]
    fn two_cinemas_on_one_log_see_each_other_and_undo_only_what_they_showed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let (mut app, _) = RatingsLog::open(&path).unwrap();
        let (mut cli, _) = RatingsLog::open(&path).unwrap();
        app.rate(1, 4.0).unwrap();
        assert!(cli.changed_elsewhere());
        let change = cli.rate(2, 3.0).unwrap();
        assert_eq!(values(&cli), vec![(1, 4.0), (2, 3.0)], "read in before deciding");
        assert_eq!(change.record, 2);
        // The app last saw its own rating; the CLI's import came after it.
        assert_eq!(cli.rate_batch(&[(3, 5.0), (4, 5.0)]).unwrap(), 2);
        let err = app.undo().unwrap_err();
        assert!(err.is::<Moved>(), "{err:#}");
        assert_eq!(values(&app), vec![(1, 4.0), (2, 3.0), (3, 5.0), (4, 5.0)], "nothing undone, all read in");
        let undone = app.undo().unwrap().unwrap();
        assert_eq!((undone.batch, undone.record), (2, 3), "now it names the import it takes back");
        assert!(!cli.changed_elsewhere() || cli.refresh().unwrap());
        assert_eq!(values(&cli), vec![(1, 4.0), (2, 3.0)]);
        let (reopened, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(values(&reopened), vec![(1, 4.0), (2, 3.0)]);
    }

    #[test]
    fn writers_in_parallel_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        let writers: Vec<_> = (0..4u32)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let (mut log, _) = RatingsLog::open(&path).unwrap();
                    for k in 0..50 {
                        if k % 10 == 9 {
                            log.rate_batch(&[(w * 1000 + k, 2.0), (w * 1000 + 500 + k, 2.0)]).unwrap();
                        } else {
                            log.rate(w * 1000 + k, 4.0).unwrap();
                        }
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        let (log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(log.ratings().len(), 4 * (50 + 5));
    }
}
