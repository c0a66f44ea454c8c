//! cinema: the two front ends — the terminal UI ([`ui`]) and the headless
//! CLI ([`cli`]) — over one app library.
//!
//! The workspace's rooms, one job each: `cinema-protocol` (the wire
//! protocol), `cinema-engine` (the recommender core, built into the wasm
//! modules of `plugins/`), `cinema-metrics` (the metrics, shared by both
//! sides), `cinema-host` (`tui/host`: the sandbox and typed client),
//! `cinema-store` (`tui/store`: everything on disk), `cinema-app`
//! (`tui/app`: the recommender, evaluation, the Lab, the built-in modules).
//! This crate only asks the app and shows the answers; its modules re-export
//! the app's so paths read `cinema::recommender`. Arrows point one way:
//! cli/ui → app → host/store → protocol.

pub mod cli;
pub mod ui;

pub use cinema_app::{eval, lab, modules, recommender};
