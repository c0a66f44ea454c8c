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

/// The tuned default SVD: the best mean validation RMSE of the grids in the
/// README, on ML-100K u1–u5.base and the seed-42 latest-small train.tsv,
/// each with 10 % of its *training* ratings held out for validation.
pub fn svd() -> SvdParams {
    SvdParams {
        factors: 200,
        epochs: 60,
        lr: 0.007,
        reg: 0.08,
        lr_bias: 0.007,
        reg_bias: 0.02,
        init_std: 0.05,
        lr_decay: 1.0,
        seed: 42,
    }
}

/// Surprise's `BaselineOnly()` ALS settings.
pub fn baseline() -> BaselineParams {
    BaselineParams { epochs: 10, reg_user: 15.0, reg_item: 10.0 }
}

/// The default ranking model (chosen on validation data carved from the
/// training files; see `examples/rank_tune.rs` and the README).
pub fn ials() -> IalsParams {
    IalsParams {
        factors: 128,
        iterations: 15,
        reg: 30.0,
        alpha: 5.0,
        rating_weight: 1.0,
        cg_steps: 3,
        init_std: 0.01,
        seed: 42,
    }
}
