//! What every end-to-end test needs: where the shared MovieLens data lives.
//! The repository never holds the data (the GroupLens licence forbids
//! redistribution); tests read it from `../shared` beside the checkout, or
//! from `$CINEMA_SHARED`.

use std::path::{Path, PathBuf};

/// The shared folder: datasets, splits and peer scripts.
pub fn shared() -> PathBuf {
    std::env::var_os("CINEMA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}
