//! Cinema's end-to-end tests, one binary (as ripgrep's `tests/` is): each
//! module is a group that runs alone by name, e.g.
//! `cargo test --release --test integration sandbox::`. They drive the real
//! `cinema` binary, the real engine `.wasm` through the real host, and real
//! MovieLens files from `../shared`.
//!
//! One binary links wasmtime and the app once, where ten linked them ten
//! times (most of a clean build's time).

mod common;

mod cli;
mod concurrency;
mod durability;
mod engine_wasm;
mod first_start;
mod import;
mod liars;
mod sandbox;
mod tui_tmux;
mod tui_views;
