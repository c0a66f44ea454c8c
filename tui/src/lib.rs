//! cinema: the host application.
//!
//! Rooms, one job each — `host` loads and calls sandboxed engine modules;
//! `store` is everything on disk (datasets, caches, the data directory);
//! `eval` runs the evaluation protocols through an engine; `cli` is the
//! headless command line. Arrows point one way: cli → eval → host/store →
//! cinema-engine's protocol.

pub mod cli;
pub mod eval;
pub mod host;
pub mod recommender;
pub mod store;
pub mod ui;
