//! cinema: the app — the terminal UI and the headless CLI over one
//! recommender.
//!
//! The workspace's rooms, one job each: `cinema-protocol` (the wire
//! protocol), `cinema-engine` (the recommender core, built into the wasm
//! modules of `plugins/`), `cinema-host` (`tui/host`: the sandbox and typed
//! client), `cinema-store` (`tui/store`: everything on disk). This crate:
//! [`modules`] (the built-in engine modules), [`recommender`] (the product's
//! recommender semantics over one engine), [`eval`] (the evaluation
//! protocols), [`lab`] (training into versions, tuning, comparing), [`cli`] and [`ui`]. Arrows point one way: cli/ui →
//! recommender/eval → host/store → protocol.

pub mod cli;
pub mod eval;
pub mod lab;
pub mod modules;
pub mod recommender;
pub mod ui;
