//! Where a dataset's bytes come from: a folder or a `.zip` archive (possibly
//! with one top folder), or files already in memory. Parsers only ever see
//! `(display name, bytes)`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::error::{ImportError, Reason};
use crate::input::{self, Refused};

/// The most one dataset file (or archive entry, once inflated) may hold.
/// MovieLens 32M's ratings.csv, the largest, is 877 MB: 2 GiB leaves more
/// than twice that. Files are parsed whole in memory, so this is also the
/// most memory one file of a hostile archive can make an import hold.
pub const DATASET_FILE_CAP: u64 = 2 << 30;

/// Lowers (never raises) [`DATASET_FILE_CAP`], so tests can prove the cap
/// works without writing gigabytes.
const CAP_OVERRIDE: &str = "CINEMA_TEST_DATASET_FILE_CAP";

fn dataset_file_cap() -> u64 {
    let lowered = std::env::var(CAP_OVERRIDE).ok().and_then(|v| v.parse::<u64>().ok());
    lowered.map_or(DATASET_FILE_CAP, |cap| cap.min(DATASET_FILE_CAP))
}

/// One file's contents and the name errors should show for it.
pub(crate) struct SourceFile {
    pub(crate) display: String,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) struct Source {
    path: PathBuf,
    origin: Origin,
    cap: u64,
}

enum Origin {
    Dir,
    /// `prefix` is the folder inside the archive that holds the dataset
    /// (`ml-latest-small/`), or empty when the files sit at the top.
    Zip {
        archive: ZipArchive<BufReader<File>>,
        prefix: String,
    },
    /// Named files, read as if they sat in a folder at `path`.
    Memory(Vec<(String, Vec<u8>)>),
}

impl Source {
    /// Opens a folder, or anything else as a zip archive.
    pub(crate) fn open(path: &Path, ratings_files: &[&str]) -> Result<Source, ImportError> {
        let whole = |reason| ImportError::whole(&path.display().to_string(), reason);
        let meta = std::fs::metadata(path).map_err(|e| whole(Reason::Io(e.to_string())))?;
        let origin = if meta.is_dir() {
            Origin::Dir
        } else if let Some(kind) = input::not_regular(&meta) {
            return Err(whole(Reason::NotRegular { kind, wanted: "a folder or a .zip archive" }));
        } else {
            let file = File::open(path).map_err(|e| whole(Reason::Io(e.to_string())))?;
            let archive =
                ZipArchive::new(BufReader::new(file)).map_err(|e| whole(Reason::NotAnArchive(e.to_string())))?;
            let prefix = dataset_prefix(&archive, ratings_files);
            Origin::Zip { archive, prefix }
        };
        Ok(Source { path: path.to_owned(), origin, cap: dataset_file_cap() })
    }

    /// Files held in memory, named as if they sat in the folder `path`.
    pub(crate) fn memory(path: &Path, files: &[(&str, &[u8])]) -> Source {
        let files = files.iter().map(|&(name, bytes)| (name.to_owned(), bytes.to_vec())).collect();
        Source { path: path.to_owned(), origin: Origin::Memory(files), cap: dataset_file_cap() }
    }

    /// The path the person gave (folder or archive).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn is_zip(&self) -> bool {
        matches!(self.origin, Origin::Zip { .. })
    }

    /// Folder name or archive stem, e.g. `ml-latest-small`.
    pub(crate) fn dataset_name(&self) -> String {
        dataset_name(&self.path)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        match &self.origin {
            // Anything by that name counts, so that a FIFO called ratings.csv
            // is refused as what it is rather than reported missing.
            Origin::Dir => std::fs::metadata(self.path.join(name)).is_ok_and(|m| !m.is_dir()),
            Origin::Zip { archive, prefix } => archive.index_for_name(&format!("{prefix}{name}")).is_some(),
            Origin::Memory(files) => files.iter().any(|(n, _)| n == name),
        }
    }

    /// How errors name `name`: a path, or `archive.zip:folder/name`.
    pub(crate) fn display(&self, name: &str) -> String {
        match &self.origin {
            Origin::Dir | Origin::Memory(_) => self.path.join(name).display().to_string(),
            // The folder name comes from the archive: shown cleaned.
            Origin::Zip { prefix, .. } => format!("{}:{}{name}", self.path.display(), crate::text::clean(prefix)),
        }
    }

    /// An error about the folder or archive as a whole.
    pub(crate) fn error(&self, reason: Reason) -> ImportError {
        ImportError::whole(&self.path.display().to_string(), reason)
    }

    pub(crate) fn read(&mut self, name: &str) -> Result<SourceFile, ImportError> {
        let display = self.display(name);
        let io = |e: std::io::Error| ImportError::whole(&display, Reason::Io(e.to_string()));
        let cap = self.cap;
        let too_large = || ImportError::whole(&display, Reason::TooLarge { cap: input::size(cap) });
        let bytes = match &mut self.origin {
            Origin::Dir => match input::read_file(&self.path.join(name), cap) {
                Ok(bytes) => bytes,
                Err(Refused::NotRegular(kind)) => {
                    return Err(ImportError::whole(&display, Reason::NotRegular { kind, wanted: "a regular file" }));
                }
                Err(Refused::TooLarge) => return Err(too_large()),
                Err(Refused::Io(e)) => return Err(io(e)),
            },
            Origin::Zip { archive, prefix } => {
                let entry = archive
                    .by_name(&format!("{prefix}{name}"))
                    .map_err(|e| ImportError::whole(&display, Reason::Io(e.to_string())))?;
                let (declared, compressed) = (entry.size(), entry.compressed_size());
                input::read_entry(entry, declared, compressed, cap, "a dataset file")
                    .map_err(|refused| ImportError::whole(&display, Reason::Entry(refused.to_string())))?
            }
            Origin::Memory(files) => match files.iter().find(|(n, _)| n == name) {
                Some((_, bytes)) if bytes.len() as u64 > cap => return Err(too_large()),
                Some((_, bytes)) => bytes.clone(),
                None => return Err(io(std::io::ErrorKind::NotFound.into())),
            },
        };
        Ok(SourceFile { display, bytes })
    }

    pub(crate) fn read_optional(&mut self, name: &str) -> Result<Option<SourceFile>, ImportError> {
        if self.contains(name) { self.read(name).map(Some) } else { Ok(None) }
    }
}

/// Folder name or file stem of a dataset path.
pub(crate) fn dataset_name(path: &Path) -> String {
    let named = if path.is_dir() { path.file_name() } else { path.file_stem() };
    named
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| path.canonicalize().ok()?.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "dataset".to_owned())
}

/// The folder inside an archive holding a ratings file: the top, or one level down.
fn dataset_prefix(archive: &ZipArchive<BufReader<File>>, ratings_files: &[&str]) -> String {
    let mut best: Option<String> = None;
    for name in archive.file_names().flatten() {
        if name.starts_with("__MACOSX/") {
            continue;
        }
        let (folder, file) = match name.rsplit_once('/') {
            Some((folder, file)) => (format!("{folder}/"), file),
            None => (String::new(), &*name),
        };
        let shallow = folder.matches('/').count() <= 1;
        if shallow && ratings_files.contains(&file) && best.as_ref().is_none_or(|b| folder.len() < b.len()) {
            best = Some(folder);
        }
    }
    best.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(path: &Path, names: &[&str]) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for name in names {
            zip.start_file(*name, options).unwrap();
            zip.write_all(name.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn zip_files_at_the_top_or_in_one_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top.zip");
        zip_with(&top, &["u.data", "u.item"]);
        let mut source = Source::open(&top, &["u.data"]).unwrap();
        assert!(source.contains("u.item"));
        assert_eq!(source.read("u.data").unwrap().bytes, b"u.data");
        assert_eq!(source.display("u.data"), format!("{}:u.data", top.display()));
        assert_eq!(source.dataset_name(), "top");

        let nested = tmp.path().join("ml-1m.zip");
        zip_with(&nested, &["__MACOSX/ml-1m/ratings.dat", "ml-1m/ratings.dat", "ml-1m/movies.dat"]);
        let mut source = Source::open(&nested, &["ratings.dat"]).unwrap();
        assert_eq!(source.read("movies.dat").unwrap().bytes, b"ml-1m/movies.dat");
        assert_eq!(source.display("movies.dat"), format!("{}:ml-1m/movies.dat", nested.display()));
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_refused() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), "userId,movieId\n").unwrap();
        let err = Source::open(tmp.path(), &["ratings.csv"]).err().unwrap();
        assert!(matches!(err.reason, Reason::NotAnArchive(_)), "{err}");
    }
}
