//! Everything on disk: the app's home directory, dataset import and its
//! binary cache, predefined train/test splits, your ratings log (and your
//! history imported from Letterboxd or IMDb), the last list shown to you, saved model versions, and the demo and synthetic catalogues.

pub mod atomic;
pub mod cache;
pub mod dataset;
pub mod demo;
pub mod download;
pub mod history;
pub mod home;
pub mod import;
pub mod input;
pub mod last_view;
pub mod lock;
pub mod models;
pub mod place;
pub mod prefs;
pub mod ratings_log;
pub mod splits;
pub mod stats;
pub mod synthetic;
pub mod text;
pub mod versions;

pub use cache::{CacheStatus, Fingerprint, import_fingerprint, load_or_import, load_or_import_noted};
pub use dataset::{Dataset, Format, Movie, Rating, RatingScale};
pub use home::Home;
pub use import::{ImportError, ImportNotes, Reason, import};
pub use splits::read_split_file;
pub use stats::MovieStats;
