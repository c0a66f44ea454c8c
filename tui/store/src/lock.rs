//! One writer at a time: an advisory lock on a file beside what it guards
//! (your ratings log, a dataset's model versions), held around every
//! read-decide-write, so two Cinemas — the app in one terminal and the CLI
//! in another — never decide on a state the other has already changed.
//!
//! The holder writes its process id and what it is doing into the lock
//! file, so a writer that waits too long can say who holds it. The lock is
//! the operating system's (`flock` on Unix): it goes with the process, so a
//! writer killed mid-write never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long a writer waits for another before giving up. Every guarded step
/// is a small synced write (a batch of a whole Letterboxd history is well
/// under a second), so a wait this long means the holder is stuck.
pub const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(5);

/// Held while it lives; dropping it releases the lock.
#[derive(Debug)]
pub struct Guard {
    _file: File,
}

/// Takes the lock at `path` (created if missing) for `doing`, waiting up to
/// [`WAIT`] for another holder. `Ok(None)`: the lock file cannot be created
/// because the folder is read-only, where nobody can write what it guards.
pub fn acquire(path: &Path, doing: &str) -> Result<Option<Guard>> {
    acquire_within(path, doing, WAIT)
}

pub fn acquire_within(path: &Path, doing: &str, wait: Duration) -> Result<Option<Guard>> {
    let mut file = match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path) {
        Ok(file) => file,
        Err(e) if read_only(&e) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("could not open the lock {}", path.display())),
    };
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < wait => std::thread::sleep(POLL),
            Err(TryLockError::WouldBlock) => {
                bail!(
                    "{} is busy: another Cinema ({}) has held it for over {} s; wait for it to finish, or end it, and try again",
                    guarded(path).display(),
                    holder(&mut file),
                    wait.as_secs()
                )
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("could not lock {}", path.display()));
            }
        }
    }
    // Who holds it, for a writer that waits too long; best effort.
    let _ = file.set_len(0).and_then(|()| write!(file, "pid {}: {doing}", std::process::id()));
    Ok(Some(Guard { _file: file }))
}

/// What the current holder wrote about itself.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.take(200).read_to_string(&mut text));
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if text.is_empty() { "a process that has not said which".into() } else { text }
}

/// `ratings/x.log.lock` guards `ratings/x.log`; a folder's `.lock`, the folder.
fn guarded(lock: &Path) -> PathBuf {
    match (lock.file_name(), lock.parent()) {
        (Some(name), Some(folder)) if name == ".lock" => folder.to_path_buf(),
        _ => lock.with_extension(""),
    }
}

pub fn read_only(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.log.lock");
        let held = acquire(&path, "cinema rate").unwrap().unwrap();
        let err = acquire_within(&path, "cinema import-ratings", Duration::from_millis(50)).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}: cinema rate", std::process::id())), "{err}");
        assert!(err.contains("r.log is busy"), "{err}");
        drop(held);
        let again = acquire_within(&path, "cinema import-ratings", Duration::from_millis(50)).unwrap();
        assert!(again.is_some(), "released on drop");
        assert_eq!(guarded(&dir.path().join("models/ml-100k/.lock")), dir.path().join("models/ml-100k"));
    }

    #[test]
    fn a_waiting_writer_gets_the_lock_once_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.lock");
        let held = acquire(&path, "first").unwrap().unwrap();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || acquire(&path, "second").map(|g| g.is_some()))
        };
        std::thread::sleep(Duration::from_millis(100));
        drop(held);
        assert!(waiter.join().unwrap().unwrap());
    }
}
