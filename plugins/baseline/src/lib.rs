//! cinema-baseline: a minimal alternative engine module offering only the
//! bias baseline (μ + b_u + b_i). Small and fast to load; useful as a sanity
//! reference and as the example of swapping engines.

cinema_engine::export_abi!(cinema_engine::EngineInfo {
    name: "cinema-baseline",
    version: env!("CARGO_PKG_VERSION"),
    algorithms: cinema_engine::standard_algorithms().into_iter().filter(|a| a.name == "baseline").collect(),
});
