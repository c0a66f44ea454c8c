//! Reading a file someone named, bounded before it is read: only a regular
//! file (checked by metadata, following symlinks, before it is opened —
//! opening a FIFO for reading blocks until someone writes, and `/dev/zero`
//! never ends — and again on the open file, in case the path changed in
//! between), never more than a stated cap, and an archive entry never
//! inflated past what its size and compression make believable.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// What a path that is not a regular file is, or `None` when it is one.
pub fn not_regular(meta: &Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Why a bounded read was refused.
#[derive(Debug)]
pub enum Refused {
    /// The path is a FIFO, device, socket or folder (the text says which).
    NotRegular(&'static str),
    /// More than the cap (or than the size promised) would have to be read.
    TooLarge,
    Io(io::Error),
}

/// The metadata of `path` if it is a regular file (symlinks followed).
pub fn regular(path: &Path) -> Result<Metadata, Refused> {
    let meta = std::fs::metadata(path).map_err(Refused::Io)?;
    match not_regular(&meta) {
        Some(kind) => Err(Refused::NotRegular(kind)),
        None => Ok(meta),
    }
}

/// The whole of the regular file `path`, refused without reading when it is
/// not a regular file or is larger than `cap` bytes. The read itself stops
/// at `cap + 1` bytes too, since a file may grow after its size was asked.
pub fn read_file(path: &Path, cap: u64) -> Result<Vec<u8>, Refused> {
    let meta = regular(path)?;
    if meta.len() > cap {
        return Err(Refused::TooLarge);
    }
    let file = open_regular(path)?;
    read_at_most(file, cap, meta.len())
}

/// Opens `path` without blocking, then checks what was opened: between the
/// metadata check and the open, the path may have become a FIFO, and opening
/// one for reading would wait for a writer forever.
fn open_regular(path: &Path) -> Result<File, Refused> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(Refused::Io)?;
    match not_regular(&file.metadata().map_err(Refused::Io)?) {
        Some(kind) => Err(Refused::NotRegular(kind)),
        None => Ok(file),
    }
}

/// The most an archive entry may inflate per compressed byte. MovieLens and
/// Letterboxd files deflate 2–4 times; a bomb, hundreds of times. Apache
/// POI's zip guard uses the same kind of bound.
pub const MAX_INFLATE_RATIO: u64 = 20;

/// Entries smaller than this may compress as well as they like: they cannot
/// take much memory whatever they claim.
const RATIO_FREE_BELOW: u64 = 1 << 20;

/// Why an archive entry was not read.
#[derive(Debug, thiserror::Error)]
pub enum EntryRefused {
    /// It declares more than the cap.
    #[error("is larger than the {} {what} may be", size(*cap))]
    TooLarge { cap: u64, what: &'static str },
    /// It inflates past the size its archive declares (a lie or damage).
    #[error("inflates to more than the {declared} bytes its archive declares for it (a damaged or hostile archive)")]
    PastDeclared { declared: u64 },
    /// It claims to inflate far more than any real data file does.
    #[error(
        "would inflate {ratio} times its compressed size, where real data files inflate \
         at most a few times ({MAX_INFLATE_RATIO} is the limit): a damaged or hostile archive"
    )]
    TooCompressed { ratio: u64 },
    #[error("cannot be read: {0}")]
    Io(io::Error),
}

/// The whole of one archive entry, which declares `declared` bytes inflated
/// from `compressed`. Both are the archive's claims, not facts: a claim over
/// `cap`, or one that inflates more than [`MAX_INFLATE_RATIO`] times, is
/// refused unread; otherwise inflating stops at `declared` bytes. So what an
/// archive can make us hold is bounded by its own size, not its contents.
pub fn read_entry(
    entry: impl Read,
    declared: u64,
    compressed: u64,
    cap: u64,
    what: &'static str,
) -> Result<Vec<u8>, EntryRefused> {
    if declared > cap {
        return Err(EntryRefused::TooLarge { cap, what });
    }
    if declared >= RATIO_FREE_BELOW && declared / compressed.max(1) > MAX_INFLATE_RATIO {
        return Err(EntryRefused::TooCompressed { ratio: declared / compressed.max(1) });
    }
    match read_at_most(entry, declared, declared) {
        Ok(bytes) => Ok(bytes),
        Err(Refused::TooLarge) => Err(EntryRefused::PastDeclared { declared }),
        Err(Refused::Io(e)) => Err(EntryRefused::Io(e)),
        Err(Refused::NotRegular(_)) => unreachable!("read_at_most reads a reader, not a path"),
    }
}

/// Everything `reader` gives, refused as soon as it gives more than `cap`
/// bytes. `expected` only sizes the first allocation, and is itself capped,
/// so a size someone claims cannot make us reserve memory.
pub fn read_at_most(reader: impl Read, cap: u64, expected: u64) -> Result<Vec<u8>, Refused> {
    let mut bytes = Vec::with_capacity(expected.min(cap).min(64 << 20) as usize);
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(Refused::Io)?;
    if bytes.len() as u64 > cap { Err(Refused::TooLarge) } else { Ok(bytes) }
}

/// `64 MiB`, `2 GiB`: a cap as people read it.
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_cap() {
        assert_eq!(read_at_most(&b"12345"[..], 5, 0).unwrap(), b"12345");
        assert!(matches!(read_at_most(&b"123456"[..], 5, 1 << 40), Err(Refused::TooLarge)));
        // An endless reader is cut off, not read to the end.
        assert!(matches!(read_at_most(io::repeat(0), 1 << 20, 0), Err(Refused::TooLarge)));
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_folders_are_refused_by_metadata() {
        assert!(matches!(regular(Path::new("/dev/zero")), Err(Refused::NotRegular("a device"))));
        assert!(matches!(read_file(Path::new("/dev/zero"), 10), Err(Refused::NotRegular("a device"))));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // Would block forever if it were opened.
        assert!(matches!(read_file(&fifo, 10), Err(Refused::NotRegular("a FIFO (named pipe)"))));
        assert!(matches!(regular(dir.path()), Err(Refused::NotRegular("a folder"))));
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(read_file(&file, 3).unwrap(), b"abc");
        assert!(matches!(read_file(&file, 2), Err(Refused::TooLarge)));
    }

    #[test]
    fn entries_are_bounded_by_their_claims() {
        let cap = 64 << 20;
        let entry = |bytes: &'static [u8]| bytes;
        assert_eq!(read_entry(entry(b"abc"), 3, 3, cap, "x").unwrap(), b"abc");
        // Inflating past the declared size stops there.
        assert!(matches!(
            read_entry(io::repeat(0), 10, 10, cap, "x"),
            Err(EntryRefused::PastDeclared { declared: 10 })
        ));
        // A claim over the cap, or of a bomb's ratio, is refused unread.
        assert!(matches!(read_entry(io::repeat(0), cap + 1, cap, cap, "x"), Err(EntryRefused::TooLarge { .. })));
        assert!(matches!(
            read_entry(io::repeat(0), 32 << 20, 32 << 10, cap, "x"),
            Err(EntryRefused::TooCompressed { ratio: 1024 })
        ));
        // Small entries may compress as well as they like.
        assert_eq!(read_entry(&[0u8; 1000][..], 1000, 10, cap, "x").unwrap().len(), 1000);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(2 << 30), "2 GiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
