//! cinema-classic: an engine module built outside the engine crate. Its
//! models are written only against `cinema-engine`'s public door (one file
//! each, offered below with `offer`), beside the built-in `baseline` for
//! reference; `README.md` is the guide for a model author.

pub mod coclustering;

use cinema_engine::algorithms::extension::offer;

/// What this module offers, in the order hosts list them.
pub fn algorithms() -> Vec<cinema_engine::protocol::AlgorithmInfo> {
    let built_in = cinema_engine::standard_algorithms().into_iter().filter(|a| a.name == "baseline");
    let own = [offer::<coclustering::CoClusteringParams>()];
    own.into_iter().chain(built_in).collect()
}

cinema_engine::export_abi!(cinema_engine::EngineInfo {
    name: "cinema-classic",
    version: env!("CARGO_PKG_VERSION"),
    algorithms: crate::algorithms(),
});
