//! cinema-app: what the product does, under both front ends (the terminal
//! UI and the CLI of the `cinema` crate), which only ask and show.
//!
//! [`recommender`] is the product's recommender over one engine module
//! (your ratings, instant learning, lists, explanations, versions);
//! [`eval`] the evaluation protocols; [`lab`] training into versions,
//! tuning and comparing; [`modules`] the engine modules built into the
//! binary. It reaches the engine only through `cinema-host` (the sandbox and
//! its typed client) and never links the engine itself. Arrows point one
//! way: front ends → this crate → host/store → protocol.

pub mod eval;
pub mod lab;
pub mod modules;
pub mod recommender;
