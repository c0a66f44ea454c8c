//! What every end-to-end test needs: where the shared MovieLens data lives.
//! The repository never holds the data (the GroupLens licence forbids
//! redistribution); tests read it from `../shared` beside the checkout, or
//! from `$CINEMA_SHARED`.

pub mod synthetic;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The shared folder: datasets, splits and peer scripts.
pub fn shared() -> PathBuf {
    std::env::var_os("CINEMA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Held by the tests that load the whole machine or time its answers, so
/// that, sharing one test binary, they never run beside each other: the
/// busy-machine test would otherwise be timed as the app's own slowness.
pub fn timing_alone() -> MutexGuard<'static, ()> {
    static TIMED: Mutex<()> = Mutex::new(());
    TIMED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
