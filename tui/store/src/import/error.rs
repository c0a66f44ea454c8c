//! The import error: which file, which line, and why — nothing else.

use thiserror::Error;

/// A dataset could not be imported. Displays as `{file}:{line}: {reason}`, or
/// `{file}: {reason}` when the problem is not on one line.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{file}{}: {reason}", line_suffix(*.line))]
pub struct ImportError {
    /// Path of the file; inside a zip, `path/to/archive.zip:folder/file.csv`.
    pub file: String,
    /// 1-based line number of the first bad line.
    pub line: Option<u64>,
    pub reason: Reason,
}

impl ImportError {
    /// An error on line `line` of `file`.
    pub fn at(file: &str, line: u64, reason: Reason) -> Self {
        ImportError { file: file.to_owned(), line: Some(line), reason }
    }

    /// An error about `file` as a whole.
    pub fn whole(file: &str, reason: Reason) -> Self {
        ImportError { file: file.to_owned(), line: None, reason }
    }
}

fn line_suffix(line: Option<u64>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// Why an import failed. The text is written for the person who owns the file.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Reason {
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not a folder or a readable zip archive ({0})")]
    NotAnArchive(String),
    /// `kind` is what the path is (`a FIFO (named pipe)`), `wanted` what it should be.
    #[error("is {kind}, not {wanted}; nothing was read from it")]
    NotRegular { kind: &'static str, wanted: &'static str },
    #[error("is larger than the {cap} a dataset file may be; nothing of it was imported")]
    TooLarge { cap: String },
    /// An archive entry refused by [`crate::input::read_entry`], as it says.
    #[error("{0}; nothing of it was imported")]
    Entry(String),
    #[error("no MovieLens ratings file found (expected u.data, ratings.dat or ratings.csv)")]
    NoRatingsFile,
    #[error("found {ratings} but not {catalogue}")]
    MissingCatalogue { ratings: &'static str, catalogue: &'static str },
    #[error("file is empty")]
    Empty,
    #[error("contains no {0}")]
    NoRows(&'static str),
    #[error("invalid UTF-8")]
    InvalidUtf8,
    #[error("expected the header `{0}`")]
    BadHeader(&'static str),
    #[error("expected {expected} fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("expected {min} or {max} fields, found {found}")]
    FieldCountRange { min: usize, max: usize, found: usize },
    #[error("{field} `{value}` is not a number")]
    NotANumber { field: &'static str, value: String },
    #[error("rating {value} is outside the scale {scale}")]
    OutOfScale { value: String, scale: String },
    #[error("movie {id} is not in {catalogue}")]
    UnknownMovie { id: u32, catalogue: String },
    #[error("user {id} is not in {dataset}")]
    UnknownUser { id: u32, dataset: String },
    #[error("movie {id} is listed twice (first on line {first_line})")]
    DuplicateMovie { id: u32, first_line: u64 },
    #[error("genre flag `{0}` is not 0 or 1")]
    BadGenreFlag(String),
    #[error("genre index {found} is out of order (expected {expected})")]
    GenreOrder { expected: u32, found: u32 },
    #[error("more than 32 genres (`{0}` would be number 33)")]
    TooManyGenres(String),
    #[error("{0}")]
    Malformed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_line() {
        let e = ImportError::at("d/u.data", 3, Reason::FieldCount { expected: 4, found: 3 });
        assert_eq!(e.to_string(), "d/u.data:3: expected 4 fields, found 3");
        let e = ImportError::whole("d/u.data", Reason::Empty);
        assert_eq!(e.to_string(), "d/u.data: file is empty");
    }

    #[test]
    fn reasons_read_well() {
        let r = Reason::NotANumber { field: "rating", value: "abc".into() };
        assert_eq!(r.to_string(), "rating `abc` is not a number");
        let r = Reason::UnknownMovie { id: 99999, catalogue: "u.item".into() };
        assert_eq!(r.to_string(), "movie 99999 is not in u.item");
    }
}
