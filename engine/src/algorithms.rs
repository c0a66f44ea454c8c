//! The algorithms this engine can train: their typed parameters, and their
//! description on the wire ([`describe`]), which is where a parameter's
//! valid range is stated once for both the module and every host.
//!
//! Each algorithm's parameters are declared once, in a [`params!`] block:
//! name, type, default, range and help. That one declaration is the typed
//! struct (its fields in order: saved models encode them so), its defaults,
//! its wire description and both directions of the spec mapping.

use cinema_protocol::{AlgorithmInfo, ModelSpec, ParamInfo, Role, Value};
use serde::{Deserialize, Serialize};

use crate::EngineError;

/// A parameter's type: how it is described, read from a checked spec and
/// written back.
trait Param: Copy {
    fn info(name: &str, default: Self, min: Self, max: Self, help: &str) -> ParamInfo;
    /// From a spec already checked against the description.
    fn read(spec: &ModelSpec, name: &str) -> Self;
    fn value(self) -> Value;
}

impl Param for u32 {
    fn info(name: &str, default: u32, min: u32, max: u32, help: &str) -> ParamInfo {
        ParamInfo::integer(name, default.into(), min.into(), max.into(), help)
    }
    fn read(spec: &ModelSpec, name: &str) -> u32 {
        spec.integer(name).expect("checked against the description") as u32
    }
    fn value(self) -> Value {
        Value::Integer(self.into())
    }
}

impl Param for u64 {
    fn info(name: &str, default: u64, min: u64, max: u64, help: &str) -> ParamInfo {
        ParamInfo::integer(name, default as i64, min as i64, max as i64, help)
    }
    fn read(spec: &ModelSpec, name: &str) -> u64 {
        spec.integer(name).expect("checked against the description") as u64
    }
    fn value(self) -> Value {
        Value::Integer(self as i64)
    }
}

impl Param for f32 {
    fn info(name: &str, default: f32, min: f32, max: f32, help: &str) -> ParamInfo {
        ParamInfo::real(name, wide(default), wide(min), wide(max), help)
    }
    fn read(spec: &ModelSpec, name: &str) -> f32 {
        spec.real(name).expect("checked against the description") as f32
    }
    fn value(self) -> Value {
        Value::Real(wide(self))
    }
}

/// Declares an algorithm's parameters once (see the module doc):
/// `name: type = default, min..=max, "help";` per parameter.
macro_rules! params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty = $default:expr, $min:literal ..= $max:expr, $help:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> $name {
                $name { $( $field: $default ),* }
            }
        }

        impl $name {
            /// The parameters as the wire describes them, with their defaults.
            pub fn describe() -> Vec<ParamInfo> {
                let d = $name::default();
                vec![ $( <$ty as Param>::info(stringify!($field), d.$field, $min, $max, $help) ),* ]
            }

            /// The typed form of a spec already checked against [`Self::describe`].
            pub fn from_checked(spec: &ModelSpec) -> $name {
                $name { $( $field: <$ty as Param>::read(spec, stringify!($field)) ),* }
            }

            /// Every parameter as the spec names it.
            pub fn values(&self) -> Vec<(String, Value)> {
                vec![ $( (stringify!($field).to_owned(), <$ty as Param>::value(self.$field)) ),* ]
            }
        }
    };
}

/// Seeds stay below 2^53 so they survive any JSON a host writes them to.
const MAX_SEED: u64 = (1 << 53) - 1;

params! {
    /// Surprise's `BaselineOnly()` ALS settings by default.
    pub struct BaselineParams {
        /// Alternating least squares sweeps.
        epochs: u32 = 10, 1..=10_000, "alternating least squares sweeps";
        /// Shrinkage of user biases towards zero.
        reg_user: f32 = 15.0, 0.0..=10_000.0, "shrinkage of user biases towards zero";
        /// Shrinkage of item biases towards zero.
        reg_item: f32 = 10.0, 0.0..=10_000.0, "shrinkage of movie biases towards zero";
    }
}

params! {
    /// By default the tuned SVD: the best mean validation RMSE of the grids
    /// in the README, on ML-100K u1–u5.base and the seed-42 latest-small
    /// train.tsv, each with 10 % of its *training* ratings held out for
    /// validation (`examples/tune.rs`).
    pub struct SvdParams {
        factors: u32 = 200, 1..=1024, "length of each user's and movie's vector";
        epochs: u32 = 60, 1..=10_000, "passes over the training ratings";
        /// Learning rate of the factor vectors.
        lr: f32 = 0.007, 0.0..=1.0, "learning rate of the vectors";
        /// L2 regularization of the factor vectors.
        reg: f32 = 0.08, 0.0..=100.0, "L2 regularization of the vectors";
        /// Learning rate of the biases.
        lr_bias: f32 = 0.007, 0.0..=1.0, "learning rate of the biases";
        /// L2 regularization of the biases.
        reg_bias: f32 = 0.02, 0.0..=100.0, "L2 regularization of the biases";
        /// Factors start as N(0, init_std²).
        init_std: f32 = 0.05, 0.0..=10.0, "vectors start as N(0, init_std²)";
        /// The learning rates are multiplied by this after every epoch.
        lr_decay: f32 = 1.0, 0.01..=1.0, "learning rates are multiplied by this every epoch";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the random start";
    }
}

params! {
    /// Implicit-feedback matrix factorisation for ranking (see
    /// `implicit.rs`); the defaults were chosen on validation data carved
    /// from the training files (`examples/rank_tune.rs`, the README).
    pub struct IalsParams {
        factors: u32 = 128, 1..=1024, "length of each user's and movie's vector";
        /// Alternating sweeps (users, then movies).
        iterations: u32 = 15, 1..=10_000, "alternating sweeps (users, then movies)";
        /// L2 regularization λ of both factor matrices.
        reg: f32 = 30.0, 0.0..=1e6, "L2 regularization of both factor matrices";
        /// Confidence of a rated pair: 1 + alpha·w(rating).
        alpha: f32 = 5.0, 0.0..=1e4, "confidence of a rated pair: 1 + alpha·w(rating)";
        /// How much the confidence grows with the rating, in [0, 1]: 0 treats
        /// every rating as the same evidence, 1 makes the lowest rating count 1.
        rating_weight: f32 = 1.0, 0.0..=1.0, "how much confidence grows with the rating";
        /// Conjugate-gradient steps per row and sweep (warm-started).
        cg_steps: u32 = 3, 1..=1024, "conjugate-gradient steps per row and sweep";
        /// Factors start as N(0, init_std²).
        init_std: f32 = 0.01, 0.0..=10.0, "vectors start as N(0, init_std²)";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the random start";
    }
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
    let info = |name: &str, role, description: &str, params| AlgorithmInfo {
        name: name.into(),
        role,
        description: description.into(),
        params,
    };
    vec![
        info("svd", Role::Rating, "biased matrix factorization trained by SGD", SvdParams::describe()),
        info("baseline", Role::Rating, "global mean + user and item biases (ALS)", BaselineParams::describe()),
        info(
            "ials",
            Role::Ranking,
            "ranking model: implicit-feedback matrix factorization (ALS), orders the lists",
            IalsParams::describe(),
        ),
    ]
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
        Ok(match s.algorithm.as_str() {
            "svd" => Algorithm::Svd(SvdParams::from_checked(&s)),
            "baseline" => Algorithm::Baseline(BaselineParams::from_checked(&s)),
            "ials" => Algorithm::Ials(IalsParams::from_checked(&s)),
            other => return Err(EngineError::BadArgument(format!("this engine cannot train `{other}`"))),
        })
    }

    /// The wire form, every parameter given: what a host sends to train this.
    pub fn to_spec(&self) -> ModelSpec {
        let params = match self {
            Algorithm::Svd(p) => p.values(),
            Algorithm::Baseline(p) => p.values(),
            Algorithm::Ials(p) => p.values(),
        };
        ModelSpec { algorithm: self.name().into(), params }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;

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
