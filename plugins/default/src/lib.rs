//! cinema-default: the default engine module — every algorithm the engine
//! offers, with the tuned defaults. Built for `wasm32-unknown-unknown`; the
//! exports are described in `plugins/ABI.md`.

cinema_engine::export_abi!(cinema_engine::EngineInfo {
    name: "cinema-default",
    version: env!("CARGO_PKG_VERSION"),
    algorithms: cinema_engine::standard_algorithms(),
});
