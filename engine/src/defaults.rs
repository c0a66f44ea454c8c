//! Parameter sets: the reference settings of the original design, and the
//! defaults a user who changes nothing gets (chosen by `examples/tune.rs` on
//! validation folds carved from training data only — see the README).

use crate::algorithms::{BaselineParams, IalsParams, SvdParams};

/// The design's reference SVD (the same as Surprise's `SVD()` at 100 factors).
pub fn svd_reference() -> SvdParams {
    SvdParams {
        factors: 100,
        epochs: 20,
        lr: 0.005,
        reg: 0.02,
        lr_bias: 0.005,
        reg_bias: 0.02,
        init_std: 0.1,
        lr_decay: 1.0,
        seed: 42,
    }
}

/// The default SVD (declared with its parameters in `algorithms.rs`).
pub fn svd() -> SvdParams {
    SvdParams::default()
}

/// The default baseline: Surprise's `BaselineOnly()` ALS settings.
pub fn baseline() -> BaselineParams {
    BaselineParams::default()
}

/// The default ranking model (declared in `algorithms.rs`).
pub fn ials() -> IalsParams {
    IalsParams::default()
}
