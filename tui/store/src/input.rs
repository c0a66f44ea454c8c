//! Reading a file someone named, bounded before it is read: only a regular
//! file (checked by metadata, following symlinks, before it is opened —
//! opening a FIFO for reading blocks until someone writes, and `/dev/zero`
//! never ends), and never more than a stated cap.

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
    let file = File::open(path).map_err(Refused::Io)?;
    read_at_most(file, cap, meta.len())
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
    fn sizes_read_well() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(2 << 30), "2 GiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
