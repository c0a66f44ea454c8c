//! Imports a MovieLens dataset from a folder or a `.zip`, detecting the format
//! from the files present. All or nothing: any bad line fails the import.

mod build;
mod csv_family;
mod error;
mod ml100k;
mod ml1m;
pub(crate) mod parse;
mod source;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::{ImportError, Reason};
use source::Source;

use super::dataset::Dataset;

/// The files that identify one MovieLens layout.
struct Layout {
    ratings: &'static str,
    catalogue: &'static str,
    optional: &'static [&'static str],
    read: fn(&mut Source) -> Result<(Dataset, ImportNotes), ImportError>,
}

/// Checked in this order when a folder somehow holds several layouts.
const LAYOUTS: [Layout; 3] = [
    Layout { ratings: "u.data", catalogue: "u.item", optional: &["u.genre"], read: ml100k::import },
    Layout { ratings: "ratings.dat", catalogue: "movies.dat", optional: &[], read: ml1m::import },
    Layout {
        ratings: "ratings.csv",
        catalogue: "movies.csv",
        optional: &["tags.csv", "links.csv"],
        read: csv_family::import,
    },
];

const RATINGS_FILES: [&str; 3] = [LAYOUTS[0].ratings, LAYOUTS[1].ratings, LAYOUTS[2].ratings];

/// What an import that succeeded still has to say about the data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportNotes {
    /// Ratings of a (user, movie) pair rated more than once, dropped in
    /// favour of the pair's latest rating.
    pub duplicates_dropped: usize,
}

impl ImportNotes {
    /// One line per problem, for wherever an import is reported.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.duplicates_dropped > 0 {
            warnings.push(format!(
                "{} duplicate ratings dropped: a user rated the same movie more than once, \
                 and only each pair's latest rating was kept",
                self.duplicates_dropped
            ));
        }
        warnings
    }
}

/// Reads the dataset at `path` (a folder or a zip archive). What
/// [`ImportNotes`] would say goes to the log.
pub fn import(path: &Path) -> Result<Dataset, ImportError> {
    import_noted(path).map(|(dataset, _)| dataset)
}

/// [`import`], with what the import noticed about the data.
pub fn import_noted(path: &Path) -> Result<(Dataset, ImportNotes), ImportError> {
    let (dataset, notes) = read(Source::open(path, &RATINGS_FILES)?)?;
    for warning in notes.warnings() {
        tracing::warn!("{}: {warning}", path.display());
    }
    Ok((dataset, notes))
}

/// Reads a dataset from `(file name, bytes)` pairs as if they sat in the
/// folder `path`: the same detection and parsers as [`import`], no disk.
/// For fuzzing the parsers, which must fail cleanly on any bytes.
pub fn import_files(path: &Path, files: &[(&str, &[u8])]) -> Result<Dataset, ImportError> {
    read(Source::memory(path, files)).map(|(dataset, _)| dataset)
}

fn read(mut source: Source) -> Result<(Dataset, ImportNotes), ImportError> {
    let read = detect(&source)?.read;
    read(&mut source)
}

/// The files on disk that importing `path` would read: the archive itself, or
/// the folder's dataset files. A change to any of them means a new import.
pub fn source_files(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let source = Source::open(path, &RATINGS_FILES)?;
    if source.is_zip() {
        return Ok(vec![source.path().to_owned()]);
    }
    let layout = detect(&source)?;
    let names = [layout.ratings, layout.catalogue].into_iter().chain(layout.optional.iter().copied());
    Ok(names.filter(|n| source.contains(n)).map(|n| source.path().join(n)).collect())
}

/// The folder or archive stem a dataset at `path` will be named after.
pub fn dataset_name(path: &Path) -> String {
    source::dataset_name(path)
}

fn detect(source: &Source) -> Result<&'static Layout, ImportError> {
    let layout =
        LAYOUTS.iter().find(|l| source.contains(l.ratings)).ok_or_else(|| source.error(Reason::NoRatingsFile))?;
    if !source.contains(layout.catalogue) {
        return Err(source.error(Reason::MissingCatalogue { ratings: layout.ratings, catalogue: layout.catalogue }));
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Format;
    use std::fs;

    #[test]
    fn a_folder_without_ratings_says_what_it_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("README"), "hi").unwrap();
        let err = import(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no MovieLens ratings file found (expected u.data, ratings.dat or ratings.csv)",
                dir.path().display()
            )
        );
    }

    #[test]
    fn ratings_without_a_catalogue_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ratings.dat"), "1::1::5::0\n").unwrap();
        let err = import(dir.path()).unwrap_err();
        assert_eq!(err.reason, Reason::MissingCatalogue { ratings: "ratings.dat", catalogue: "movies.dat" });
    }

    #[test]
    fn a_small_1m_folder_imports() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tiny");
        fs::create_dir(&root).unwrap();
        fs::write(root.join("movies.dat"), "1::A (1990)::Drama\n2::B (1991)::Comedy|Drama\n").unwrap();
        fs::write(root.join("ratings.dat"), "7::2::5::10\n3::1::1::11\n").unwrap();
        let ds = import(&root).unwrap();
        assert_eq!((ds.name.as_str(), ds.format), ("tiny", Format::Ml1m));
        assert_eq!(ds.user_ids, [3, 7]);
        assert_eq!(ds.genres, ["Comedy", "Drama"]);
        let files = source_files(&root).unwrap();
        assert_eq!(files, [root.join("ratings.dat"), root.join("movies.dat")]);
    }

    #[test]
    fn files_in_memory_import_like_the_same_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tiny");
        fs::create_dir(&root).unwrap();
        let files: [(&str, &[u8]); 2] = [("movies.dat", b"1::A (1990)::Drama\n"), ("ratings.dat", b"3::1::4::11\n")];
        for (name, bytes) in files {
            fs::write(root.join(name), bytes).unwrap();
        }
        assert_eq!(import_files(&root, &files).unwrap(), import(&root).unwrap());
        let err = import_files(&root, &files[..1]).unwrap_err();
        assert_eq!(err.reason, Reason::NoRatingsFile);
    }

    #[test]
    fn a_missing_path_is_an_io_error() {
        let err = import(Path::new("/nonexistent/cinema")).unwrap_err();
        assert!(matches!(err.reason, Reason::Io(_)), "{err}");
    }
}
