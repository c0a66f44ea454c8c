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
//! takes it back whole.
//!
//! Besides stars the log keeps how you steer your lists: a movie marked
//! "seen it" (watched, not rated) or "not interested", and your watchlist
//! in your order. They are records like a rating, undone the same way.
//!
//! Format 2 is format 1 plus batches; format 3 is format 2 plus marks and
//! the watchlist. A log is marked with the format its first record of a
//! newer kind needs, just before that record is written, so an older
//! Cinema refuses it rather than misread it.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use cinema_protocol::Mark;

use crate::lock;

const MAGIC: &[u8; 8] = b"CINEMARL";
const VERSION: u32 = 3;
/// Logs this Cinema reads: format 1 had no batches, format 2 no marks.
const READS: [u32; 3] = [1, 2, 3];
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
    /// The movie's mark: 0 none, 1 seen, 2 not interested.
    Mark = 5,
    /// The movie moves to this place on the watchlist (0 is the top; past
    /// the end is the end), or with -1 leaves it.
    Watch = 6,
}

impl Kind {
    /// The log format that first had records of this kind.
    fn format(self) -> u32 {
        match self {
            Kind::Rate | Kind::Remove | Kind::Undo => 1,
            Kind::Batch => 2,
            Kind::Mark | Kind::Watch => 3,
        }
    }
}

fn mark_value(mark: Option<Mark>) -> f32 {
    match mark {
        None => 0.0,
        Some(Mark::Seen) => 1.0,
        Some(Mark::Hidden) => 2.0,
    }
}

fn mark_of(value: f32) -> Option<Option<Mark>> {
    match value {
        0.0 => Some(None),
        1.0 => Some(Some(Mark::Seen)),
        2.0 => Some(Some(Mark::Hidden)),
        _ => None,
    }
}

/// One change to your ratings, as undo needs it: what the movie had before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub movie: u32,
    pub what: What,
    /// For an undone batch, how many ratings it held (this is its first); else 0.
    pub batch: u32,
    /// The number of the log record that made the change (1 is the first), so
    /// an undo can say exactly which change it took back.
    pub record: u64,
}

/// What changed about a movie, before → after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum What {
    /// Its stars (`None`: unrated).
    Rating(Option<f32>, Option<f32>),
    /// Its mark: seen it, not interested, or none.
    Mark(Option<Mark>, Option<Mark>),
    /// Its place on the watchlist (0 is the top; `None`: not on it).
    Watch(Option<u32>, Option<u32>),
}

impl What {
    /// The same change the other way round: what an undo does.
    pub fn reversed(self) -> What {
        match self {
            What::Rating(a, b) => What::Rating(b, a),
            What::Mark(a, b) => What::Mark(b, a),
            What::Watch(a, b) => What::Watch(b, a),
        }
    }
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
    marks: BTreeMap<u32, Mark>,
    watchlist: Vec<u32>,
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
            marks: BTreeMap::new(),
            watchlist: Vec::new(),
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
            marks: BTreeMap::new(),
            watchlist: Vec::new(),
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

    /// Movies marked "seen it" or "not interested", by the dataset's movie id.
    pub fn marks(&self) -> &BTreeMap<u32, Mark> {
        &self.marks
    }

    /// Your watchlist by the dataset's movie id, in your order.
    pub fn watchlist(&self) -> &[u32] {
        &self.watchlist
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
        self.change(Kind::Rate, movie, value)
    }

    /// Removes your rating of `movie` (no-op if there is none).
    pub fn remove(&mut self, movie: u32) -> Result<Option<Change>> {
        let _guard = self.lock_to_write("removing a rating")?;
        if !self.ratings.contains_key(&movie) {
            return Ok(None);
        }
        self.change(Kind::Remove, movie, 0.0).map(Some)
    }

    /// Marks `movie` "seen it" or "not interested" (`None` clears the mark);
    /// `None` returned when it already had that mark.
    pub fn mark(&mut self, movie: u32, mark: Option<Mark>) -> Result<Option<Change>> {
        let _guard = self.lock_to_write("marking a movie")?;
        if self.marks.get(&movie).copied() == mark {
            return Ok(None);
        }
        self.change(Kind::Mark, movie, mark_value(mark)).map(Some)
    }

    /// Puts `movie` at `place` on the watchlist (0 is the top; past the end
    /// is the end), moving it there if it is on it; `None` takes it off.
    /// `None` returned when nothing moved.
    pub fn watch(&mut self, movie: u32, place: Option<u32>) -> Result<Option<Change>> {
        let _guard = self.lock_to_write("changing your watchlist")?;
        let now = self.watchlist.iter().position(|&m| m == movie);
        let len = self.watchlist.len() - usize::from(now.is_some());
        let place = place.map(|p| (p as usize).min(len));
        if now == place {
            return Ok(None);
        }
        // Places are kept exactly on disk as f32 up to 2^24 movies.
        let value = place.map_or(-1.0, |p| p as f32);
        self.change(Kind::Watch, movie, value).map(Some)
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
        Ok(Some(Change { what: first.what.reversed(), ..first }))
    }

    /// Rates every `(movie, value)` as one batch: on disk in one synced
    /// write, replayed whole or not at all, undone whole. Returns how many.
    pub fn rate_batch(&mut self, ratings: &[(u32, f32)]) -> Result<usize> {
        if ratings.is_empty() {
            return Ok(0);
        }
        let _guard = self.lock_to_write("importing your ratings")?;
        self.upgrade(Kind::Batch)?;
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

    /// Marks the log with the format a record of `kind` needs before the
    /// first one is written, so an older Cinema refuses it rather than
    /// misread the record.
    fn upgrade(&mut self, kind: Kind) -> Result<()> {
        if self.version >= kind.format() {
            return Ok(());
        }
        let mut file = OpenOptions::new().write(true).open(&self.path)?;
        file.seek(SeekFrom::Start(8))?;
        file.write_all(&kind.format().to_le_bytes())?;
        file.sync_all()?;
        self.version = kind.format();
        Ok(())
    }

    /// Writes one record and applies it.
    fn append(&mut self, kind: Kind, movie: u32, value: f32) -> Result<()> {
        self.upgrade(kind)?;
        let timestamp = now();
        let record = self.next_record();
        self.write(&encode(kind, movie, value, timestamp))?;
        self.apply(record, kind, movie, value, timestamp);
        Ok(())
    }

    /// Writes a change's record; returns the change it made.
    fn change(&mut self, kind: Kind, movie: u32, value: f32) -> Result<Change> {
        self.append(kind, movie, value)?;
        Ok(self.undo.last().expect("a change is an undo step").changes[0].0)
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
        let change = match kind {
            Kind::Rate | Kind::Remove => self.set(record, movie, (kind == Kind::Rate).then_some(value), timestamp, 0),
            Kind::Mark => {
                let mark = mark_of(value).expect("decode and `mark` write only marks");
                let before = self.set_mark(movie, mark);
                (Change { movie, what: What::Mark(before, mark), batch: 0, record }, None)
            }
            Kind::Watch => {
                let place = (value >= 0.0).then_some(value as u32);
                let before = self.set_place(movie, place);
                (Change { movie, what: What::Watch(before, place), batch: 0, record }, None)
            }
            Kind::Undo => {
                // Back to front, so a movie changed twice in a step ends as it began.
                for (change, previous) in self.undo.pop().into_iter().flat_map(|s| s.changes).rev() {
                    match (change.what, previous) {
                        (What::Rating(..), Some(entry)) => {
                            self.ratings.insert(change.movie, entry);
                        }
                        (What::Rating(..), None) => {
                            self.ratings.remove(&change.movie);
                        }
                        (What::Mark(before, _), _) => {
                            self.set_mark(change.movie, before);
                        }
                        (What::Watch(before, _), _) => {
                            self.set_place(change.movie, before);
                        }
                    }
                }
                return;
            }
            // Batches are replayed by `apply_batch`.
            Kind::Batch => return,
        };
        self.undo.push(Step { record, changes: vec![change] });
    }

    /// Sets (or with `None` clears) a mark; returns the one it had.
    fn set_mark(&mut self, movie: u32, mark: Option<Mark>) -> Option<Mark> {
        match mark {
            Some(mark) => self.marks.insert(movie, mark),
            None => self.marks.remove(&movie),
        }
    }

    /// Moves `movie` to `place` on the watchlist (clamped to its end), or
    /// with `None` off it; returns where it was.
    fn set_place(&mut self, movie: u32, place: Option<u32>) -> Option<u32> {
        let before = self.watchlist.iter().position(|&m| m == movie);
        if let Some(at) = before {
            self.watchlist.remove(at);
        }
        if let Some(place) = place {
            self.watchlist.insert((place as usize).min(self.watchlist.len()), movie);
        }
        before.map(|at| at as u32)
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
        (Change { movie, what: What::Rating(previous.map(|e| e.value), after), batch, record }, previous)
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
        5 => Kind::Mark,
        6 => Kind::Watch,
        _ => return None,
    };
    let value = f32::from_le_bytes(r[5..9].try_into().ok()?);
    let valid = match kind {
        Kind::Rate => value.is_finite(),
        Kind::Mark => mark_of(value).is_some(),
        Kind::Watch => value == -1.0 || (value >= 0.0 && value.fract() == 0.0 && value < (1 << 24) as f32),
        _ => true,
    };
    if !valid {
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
        assert_eq!(
            log.undo().unwrap(),
            Some(Change { movie: 7, what: What::Rating(None, Some(2.0)), batch: 0, record: 4 })
        );
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
    fn marks_and_the_watchlist_replay_in_order_and_undo_step_by_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log");
        // A format-2 log with one rating, as the Cinema before marks wrote it.
        let mut v2 = MAGIC.to_vec();
        v2.extend_from_slice(&2u32.to_le_bytes());
        v2.extend_from_slice(&encode(Kind::Rate, 1, 4.0, 5));
        std::fs::write(&path, &v2).unwrap();
        let (mut log, _) = RatingsLog::open(&path).unwrap();
        log.rate(1, 4.0).unwrap();
        assert_eq!(std::fs::read(&path).unwrap()[8..12], 2u32.to_le_bytes(), "ratings alone keep format 2");
        let hide = log.mark(2, Some(Mark::Hidden)).unwrap().unwrap();
        assert_eq!(hide.what, What::Mark(None, Some(Mark::Hidden)));
        assert_eq!(std::fs::read(&path).unwrap()[8..12], 3u32.to_le_bytes(), "marked format 3 before the mark");
        assert_eq!(log.mark(2, Some(Mark::Hidden)).unwrap(), None, "already hidden: nothing written");
        log.mark(3, Some(Mark::Seen)).unwrap();
        for movie in [10, 11, 12] {
            log.watch(movie, Some(u32::MAX)).unwrap();
        }
        let moved = log.watch(12, Some(0)).unwrap().unwrap();
        assert_eq!(moved.what, What::Watch(Some(2), Some(0)));
        assert_eq!(log.watch(12, Some(0)).unwrap(), None, "already there");
        log.watch(11, None).unwrap();
        drop(log);
        let (mut log, w) = RatingsLog::open(&path).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(log.watchlist(), [12, 10]);
        assert_eq!(log.marks().iter().map(|(&m, &k)| (m, k)).collect::<Vec<_>>(), [(2, Mark::Hidden), (3, Mark::Seen)]);
        assert_eq!(log.undo().unwrap().unwrap().what, What::Watch(None, Some(2)), "11 comes back where it was");
        assert_eq!(log.watchlist(), [12, 10, 11]);
        log.undo().unwrap();
        assert_eq!(log.watchlist(), [10, 11, 12], "and the move is taken back");
        for _ in 0..3 {
            log.undo().unwrap();
        }
        assert!(log.watchlist().is_empty());
        assert_eq!(log.undo().unwrap().unwrap().what, What::Mark(Some(Mark::Seen), None));
        drop(log);
        let (log, _) = RatingsLog::open(&path).unwrap();
        assert_eq!(log.marks().len(), 1, "the undos survive a restart");
        assert_eq!(values(&log), vec![(1, 4.0)], "ratings untouched");
        drop(log);
        // A mark with a value no Cinema writes is damage, not a mark.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&encode(Kind::Mark, 5, 7.0, 1));
        bytes.extend_from_slice(&encode(Kind::Watch, 5, 0.5, 1));
        std::fs::write(&path, &bytes).unwrap();
        let (log, w) = RatingsLog::open(&path).unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(!log.marks().contains_key(&5) && log.watchlist().is_empty());
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
