//! cinema-engine: the recommender core of Cinema.
//!
//! Pure computation — no I/O, threads, clock or OS randomness (every random
//! choice comes from a seeded RNG) — so the same code runs natively in tests
//! and benchmarks and inside a sandboxed WebAssembly module. It speaks the
//! wire protocol of `cinema-protocol`, the crate it shares with hosts.
//!
//! Rooms: [`ratings`] (CSR indices) → [`algorithms`] (one file per model and
//! the registry that lists them) through [`door`] (what every model
//! answers: fit in steps, predict, fold in, explain; [`stack`] fits the
//! models made of models) → [`train`] (stepped fitting, the same for all)
//! → [`model`] (the vector form most models share; [`retrieval`] ranks
//! large catalogues fast) and [`metrics`] (its own crate, shared with the
//! app); [`session`] puts them behind one request/reply call; [`abi`]
//! exports that call from a module.

pub mod abi;
pub mod algorithms;
pub mod cg;
pub mod content;
pub mod defaults;
pub mod diversity;
pub mod door;
pub mod explain;
pub mod foldin;
pub mod hybrid;
pub mod implicit;
pub mod kernels;
pub mod model;
pub mod ratings;
pub mod retrieval;
pub mod session;
pub mod stack;
pub mod topn;
pub mod train;

pub use algorithms::{Algorithm, describe as standard_algorithms};
pub use door::{Fit, RatingModel};
pub use model::Model;
pub use session::{EngineInfo, Session};

pub use cinema_metrics as metrics;
/// The wire types, for module crates and the macros they use.
pub use cinema_protocol as protocol;
pub use cinema_protocol::ABI_VERSION;
use cinema_protocol::{ErrorKind, Reply};

/// Everything that can go wrong inside the engine; each becomes a
/// [`Reply::Error`] at the boundary.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error("request does not decode: {0}")]
    BadRequest(String),
    #[error("{0}")]
    BadState(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("user {0} is out of range (users: {1})")]
    UserOutOfRange(u32, u32),
    #[error("movie {0} is out of range (movies: {1})")]
    ItemOutOfRange(u32, u32),
    #[error("model rejected: {0}")]
    BadModel(String),
}

impl From<EngineError> for Reply {
    fn from(e: EngineError) -> Reply {
        let kind = match e {
            EngineError::BadRequest(_) => ErrorKind::BadRequest,
            EngineError::BadState(_) => ErrorKind::BadState,
            EngineError::BadArgument(_) | EngineError::UserOutOfRange(..) | EngineError::ItemOutOfRange(..) => {
                ErrorKind::BadArgument
            }
            EngineError::BadModel(_) => ErrorKind::BadModel,
        };
        Reply::Error { kind, message: e.to_string() }
    }
}
