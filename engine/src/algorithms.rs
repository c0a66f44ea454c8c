//! The algorithms this engine can train: their typed parameters, and their
//! description on the wire ([`describe`]), which is where a parameter's
//! valid range is stated once for both the module and every host.

use cinema_protocol::{AlgorithmInfo, ModelSpec, ParamInfo, Role};
use serde::{Deserialize, Serialize};

use crate::{EngineError, defaults};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineParams {
    /// Alternating least squares sweeps.
    pub epochs: u32,
    /// Shrinkage of user biases towards zero.
    pub reg_user: f32,
    /// Shrinkage of item biases towards zero.
    pub reg_item: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SvdParams {
    pub factors: u32,
    pub epochs: u32,
    /// Learning rate of the factor vectors.
    pub lr: f32,
    /// L2 regularization of the factor vectors.
    pub reg: f32,
    /// Learning rate of the biases.
    pub lr_bias: f32,
    /// L2 regularization of the biases.
    pub reg_bias: f32,
    /// Factors start as N(0, init_std²).
    pub init_std: f32,
    /// The learning rates are multiplied by this after every epoch.
    pub lr_decay: f32,
    pub seed: u64,
}

/// Implicit-feedback matrix factorisation for ranking (see `implicit.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IalsParams {
    pub factors: u32,
    /// Alternating sweeps (users, then movies).
    pub iterations: u32,
    /// L2 regularization λ of both factor matrices.
    pub reg: f32,
    /// Confidence of a rated pair: 1 + alpha·w(rating).
    pub alpha: f32,
    /// How much the confidence grows with the rating, in [0, 1]: 0 treats
    /// every rating as the same evidence, 1 makes the lowest rating count 1.
    pub rating_weight: f32,
    /// Conjugate-gradient steps per row and sweep (warm-started).
    pub cg_steps: u32,
    /// Factors start as N(0, init_std²).
    pub init_std: f32,
    pub seed: u64,
}

/// A checked [`ModelSpec`] with typed parameters: what the engine trains.
/// Saved models carry it, so its encoding is that of ABI 1's `ModelSpec`
/// (models exported then still load).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Algorithm {
    /// Global mean + user bias + item bias.
    Baseline(BaselineParams),
    /// Biased matrix factorization trained by SGD.
    Svd(SvdParams),
    /// The ranking model: implicit ALS. Training it leaves the rating model
    /// in place; `Recommend` then ranks by it and predicts by the rating model.
    Ials(IalsParams),
}

impl Algorithm {
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Baseline(_) => "baseline",
            Algorithm::Svd(_) => "svd",
            Algorithm::Ials(_) => "ials",
        }
    }

    pub fn epochs(&self) -> u32 {
        match self {
            Algorithm::Baseline(p) => p.epochs,
            Algorithm::Svd(p) => p.epochs,
            Algorithm::Ials(p) => p.iterations,
        }
    }

    /// Whether this trains the ranking model rather than the rating model.
    pub fn is_ranking(&self) -> bool {
        matches!(self, Algorithm::Ials(_))
    }
}

/// Every algorithm this engine can train, as the wire describes it. A module
/// offers some or all of them (see `plugins/`).
pub fn describe() -> Vec<AlgorithmInfo> {
    vec![svd_info(), baseline_info(), ials_info()]
}

/// Seeds stay below 2^53 so they survive any JSON a host writes them to.
const MAX_SEED: i64 = (1 << 53) - 1;

fn svd_info() -> AlgorithmInfo {
    let d = defaults::svd();
    AlgorithmInfo {
        name: "svd".into(),
        role: Role::Rating,
        description: "biased matrix factorization trained by SGD".into(),
        params: vec![
            ParamInfo::integer("factors", d.factors.into(), 1, 1024, "length of each user's and movie's vector"),
            ParamInfo::integer("epochs", d.epochs.into(), 1, 10_000, "passes over the training ratings"),
            ParamInfo::real("lr", wide(d.lr), 0.0, 1.0, "learning rate of the vectors"),
            ParamInfo::real("reg", wide(d.reg), 0.0, 100.0, "L2 regularization of the vectors"),
            ParamInfo::real("lr_bias", wide(d.lr_bias), 0.0, 1.0, "learning rate of the biases"),
            ParamInfo::real("reg_bias", wide(d.reg_bias), 0.0, 100.0, "L2 regularization of the biases"),
            ParamInfo::real("init_std", wide(d.init_std), 0.0, 10.0, "vectors start as N(0, init_std²)"),
            ParamInfo::real(
                "lr_decay",
                wide(d.lr_decay),
                0.01,
                1.0,
                "learning rates are multiplied by this every epoch",
            ),
            ParamInfo::integer("seed", d.seed as i64, 0, MAX_SEED, "seed of the random start"),
        ],
    }
}

fn baseline_info() -> AlgorithmInfo {
    let d = defaults::baseline();
    AlgorithmInfo {
        name: "baseline".into(),
        role: Role::Rating,
        description: "global mean + user and item biases (ALS)".into(),
        params: vec![
            ParamInfo::integer("epochs", d.epochs.into(), 1, 10_000, "alternating least squares sweeps"),
            ParamInfo::real("reg_user", wide(d.reg_user), 0.0, 10_000.0, "shrinkage of user biases towards zero"),
            ParamInfo::real("reg_item", wide(d.reg_item), 0.0, 10_000.0, "shrinkage of movie biases towards zero"),
        ],
    }
}

fn ials_info() -> AlgorithmInfo {
    let d = defaults::ials();
    AlgorithmInfo {
        name: "ials".into(),
        role: Role::Ranking,
        description: "ranking model: implicit-feedback matrix factorization (ALS), orders the lists".into(),
        params: vec![
            ParamInfo::integer("factors", d.factors.into(), 1, 1024, "length of each user's and movie's vector"),
            ParamInfo::integer("iterations", d.iterations.into(), 1, 10_000, "alternating sweeps (users, then movies)"),
            ParamInfo::real("reg", wide(d.reg), 0.0, 1e6, "L2 regularization of both factor matrices"),
            ParamInfo::real("alpha", wide(d.alpha), 0.0, 1e4, "confidence of a rated pair: 1 + alpha·w(rating)"),
            ParamInfo::real(
                "rating_weight",
                wide(d.rating_weight),
                0.0,
                1.0,
                "how much confidence grows with the rating",
            ),
            ParamInfo::integer("cg_steps", d.cg_steps.into(), 1, 1024, "conjugate-gradient steps per row and sweep"),
            ParamInfo::real("init_std", wide(d.init_std), 0.0, 10.0, "vectors start as N(0, init_std²)"),
            ParamInfo::integer("seed", d.seed as i64, 0, MAX_SEED, "seed of the random start"),
        ],
    }
}

/// An `f32` as the `f64` a person would write (0.007, not 0.007000000216…);
/// it narrows back to the same `f32`.
fn wide(x: f32) -> f64 {
    x.to_string().parse().expect("a float's Display parses")
}

impl Algorithm {
    /// The typed form of `spec`, if `offered` lists its algorithm and its
    /// parameters pass the description's checks; otherwise `BadArgument`
    /// with a message naming the parameter.
    pub fn from_spec(spec: &ModelSpec, offered: &[AlgorithmInfo]) -> Result<Algorithm, EngineError> {
        let refuse = |e: cinema_protocol::ParamError| EngineError::BadArgument(e.to_string());
        if !offered.iter().any(|a| a.name == spec.algorithm) {
            return Err(refuse(cinema_protocol::ParamError::UnknownAlgorithm {
                algorithm: spec.algorithm.clone(),
                offered: offered.iter().map(|a| a.name.clone()).collect(),
            }));
        }
        // Checked against this engine's own description, so every read below finds its value.
        let own = describe().into_iter().find(|a| a.name == spec.algorithm);
        let s = match own {
            Some(info) => info.check(spec).map_err(refuse)?,
            None => return Err(EngineError::BadArgument(format!("this engine cannot train `{}`", spec.algorithm))),
        };
        let int = |name: &str| s.integer(name).expect("checked against the description");
        let real = |name: &str| s.real(name).expect("checked against the description") as f32;
        Ok(match s.algorithm.as_str() {
            "svd" => Algorithm::Svd(SvdParams {
                factors: int("factors") as u32,
                epochs: int("epochs") as u32,
                lr: real("lr"),
                reg: real("reg"),
                lr_bias: real("lr_bias"),
                reg_bias: real("reg_bias"),
                init_std: real("init_std"),
                lr_decay: real("lr_decay"),
                seed: int("seed") as u64,
            }),
            "baseline" => Algorithm::Baseline(BaselineParams {
                epochs: int("epochs") as u32,
                reg_user: real("reg_user"),
                reg_item: real("reg_item"),
            }),
            _ => Algorithm::Ials(IalsParams {
                factors: int("factors") as u32,
                iterations: int("iterations") as u32,
                reg: real("reg"),
                alpha: real("alpha"),
                rating_weight: real("rating_weight"),
                cg_steps: int("cg_steps") as u32,
                init_std: real("init_std"),
                seed: int("seed") as u64,
            }),
        })
    }

    /// The wire form, every parameter given: what a host sends to train this.
    pub fn to_spec(&self) -> ModelSpec {
        use cinema_protocol::Value::{Integer, Real};
        let r = |x: f32| Real(wide(x));
        let params: Vec<(&str, cinema_protocol::Value)> = match *self {
            Algorithm::Svd(p) => vec![
                ("factors", Integer(p.factors.into())),
                ("epochs", Integer(p.epochs.into())),
                ("lr", r(p.lr)),
                ("reg", r(p.reg)),
                ("lr_bias", r(p.lr_bias)),
                ("reg_bias", r(p.reg_bias)),
                ("init_std", r(p.init_std)),
                ("lr_decay", r(p.lr_decay)),
                ("seed", Integer(p.seed as i64)),
            ],
            Algorithm::Baseline(p) => {
                vec![("epochs", Integer(p.epochs.into())), ("reg_user", r(p.reg_user)), ("reg_item", r(p.reg_item))]
            }
            Algorithm::Ials(p) => vec![
                ("factors", Integer(p.factors.into())),
                ("iterations", Integer(p.iterations.into())),
                ("reg", r(p.reg)),
                ("alpha", r(p.alpha)),
                ("rating_weight", r(p.rating_weight)),
                ("cg_steps", Integer(p.cg_steps.into())),
                ("init_std", r(p.init_std)),
                ("seed", Integer(p.seed as i64)),
            ],
        };
        ModelSpec { algorithm: self.name().into(), params: params.into_iter().map(|(n, v)| (n.into(), v)).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_and_typed_form_round_trip_through_the_description() {
        for typed in [
            Algorithm::Svd(defaults::svd()),
            Algorithm::Baseline(defaults::baseline()),
            Algorithm::Ials(defaults::ials()),
        ] {
            let spec = typed.to_spec();
            assert_eq!(Algorithm::from_spec(&spec, &describe()).unwrap(), typed);
            let info = describe().into_iter().find(|a| a.name == spec.algorithm).unwrap();
            assert_eq!(info.defaults(), spec, "the description's defaults are the engine's defaults");
        }
    }

    #[test]
    fn out_of_range_and_unoffered_are_bad_arguments_naming_the_parameter() {
        let zero = ModelSpec::new("svd").with("factors", cinema_protocol::Value::Integer(0));
        let Err(EngineError::BadArgument(m)) = Algorithm::from_spec(&zero, &describe()) else { panic!() };
        assert!(m.contains("`factors`") && m.contains("from 1 to 1024"), "{m}");
        let only_baseline: Vec<_> = describe().into_iter().filter(|a| a.name == "baseline").collect();
        let Err(EngineError::BadArgument(m)) = Algorithm::from_spec(&ModelSpec::new("svd"), &only_baseline) else {
            panic!()
        };
        assert!(m.contains("offers: baseline"), "{m}");
    }
}
