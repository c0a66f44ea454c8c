//! Evaluation protocols: how train/test splits are made ([`splits`]) and how
//! a model is scored on them through an engine module ([`score`]). The
//! metric definitions live in `cinema_metrics` and the README.

pub mod score;
pub mod splits;

pub use score::{SplitReport, evaluate};
pub use splits::{Protocol, Split, make_splits};
