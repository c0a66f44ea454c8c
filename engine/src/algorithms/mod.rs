//! The algorithms this engine can train, one file each, and the registry
//! that lists them ([`registry!`] below: one line per algorithm).
//!
//! A file declares its parameters once with [`params!`](crate::params) (name, type,
//! default, range, help: the typed struct, its defaults, its wire
//! description and the spec mapping both ways), implements [`Algo`] for
//! them (name, role, how to start fitting, how to read a saved model) and
//! the door's traits (`crate::door`) for its model. The registry line gives
//! the algorithm a variant of [`Algorithm`] and a tag for saved models, and
//! puts it in the description every module sends in `Hello`.

#[macro_use]
pub mod params;
pub mod extension;

use cinema_protocol::{AlgorithmInfo, ModelSpec, Role, Scale, Value};
use serde::de::{self, Deserializer, EnumAccess, VariantAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::EngineError;
use crate::door::{Fit, RatingModel, Team};
use crate::ratings::RatingMatrix;
use extension::{EXTERNAL_TAG, External};
pub use params::Params;

/// Seeds stay below 2^53 so they survive any JSON a host writes them to.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// What an algorithm's parameter struct says about its algorithm.
pub trait Algo: Params + Copy + 'static {
    /// The name hosts ask for (`--algo NAME`).
    const NAME: &'static str;
    const ROLE: Role;
    /// One line for the Lab form and `cinema plugins list`.
    const DESCRIPTION: &'static str;

    /// Epochs (or iterations) a fit runs.
    fn epochs(&self) -> u32;

    /// A fresh model and its fitting, for `data` (never empty).
    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError>;

    /// A fresh fit as one member of a `team` (see [`Team`]); an algorithm
    /// whose rounds are not shared trains alone.
    fn start_in(self, data: &RatingMatrix, scale: Scale, team: Team) -> Result<Box<dyn Fit>, EngineError> {
        match team.is_alone() {
            true => self.start(data, scale),
            false => Err(EngineError::BadState(format!("{} trains alone, not in a team", Self::NAME))),
        }
    }

    /// A saved model of this algorithm from what [`RatingModel::encode`] wrote.
    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError>;

    /// The shrinkage of a folded-in user's [bias, vector] given `n` ratings,
    /// for models whose fold-in is `foldin`'s ridge regression.
    fn fold_in_shrinkage(&self, _n: f32) -> (f32, f32) {
        (crate::foldin::PRIOR, crate::foldin::PRIOR)
    }
}

/// Declares the registry: `TAG => Variant(module::Params),` per algorithm,
/// in the order hosts list them (the first rating model is the default).
/// `TAG` is the algorithm's number in saved models: never reuse or change one.
macro_rules! registry {
    ( $( $tag:literal => $variant:ident($module:ident :: $params:ident), )* ) => {
        $( pub mod $module; )*

        /// A checked [`ModelSpec`] with typed parameters: what the engine
        /// trains. Saved models carry it, tagged as the registry says.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Algorithm {
            $( $variant($module::$params), )*
            /// A model offered from outside the engine (`extension`).
            External(External),
        }

        $(
            impl From<$module::$params> for Algorithm {
                fn from(p: $module::$params) -> Algorithm {
                    Algorithm::$variant(p)
                }
            }
        )*

        impl Algorithm {
            pub fn name(&self) -> &'static str {
                match self {
                    $( Algorithm::$variant(_) => <$module::$params as Algo>::NAME, )*
                    Algorithm::External(e) => e.kind().name(),
                }
            }

            pub fn role(&self) -> Role {
                match self {
                    $( Algorithm::$variant(_) => <$module::$params as Algo>::ROLE, )*
                    Algorithm::External(e) => e.kind().role(),
                }
            }

            pub fn epochs(&self) -> u32 {
                match self {
                    $( Algorithm::$variant(p) => p.epochs(), )*
                    Algorithm::External(e) => e.kind().epochs(e.spec()),
                }
            }

            /// A fresh model and its fitting.
            pub fn start(&self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
                match self {
                    $( Algorithm::$variant(p) => p.start(data, scale), )*
                    Algorithm::External(e) => e.kind().start(e.spec(), data, scale),
                }
            }

            /// A fresh fit as one member of `team`.
            pub fn start_in(&self, data: &RatingMatrix, scale: Scale, team: Team) -> Result<Box<dyn Fit>, EngineError> {
                match self {
                    $( Algorithm::$variant(p) => p.start_in(data, scale, team), )*
                    Algorithm::External(e) if team.is_alone() => e.kind().start(e.spec(), data, scale),
                    Algorithm::External(e) => {
                        Err(EngineError::BadState(format!("{} trains alone, not in a team", e.kind().name())))
                    }
                }
            }

            pub fn fold_in_shrinkage(&self, n: f32) -> (f32, f32) {
                match self {
                    $( Algorithm::$variant(p) => p.fold_in_shrinkage(n), )*
                    Algorithm::External(e) => e.kind().fold_in_shrinkage(e.spec(), n),
                }
            }

            fn values(&self) -> Vec<(String, Value)> {
                match self {
                    $( Algorithm::$variant(p) => p.values(), )*
                    Algorithm::External(e) => e.spec().params.clone(),
                }
            }

            /// The typed form of a spec checked against this engine's description.
            fn from_checked(spec: &ModelSpec) -> Result<Algorithm, EngineError> {
                $( if spec.algorithm == <$module::$params as Algo>::NAME {
                    return Ok(Algorithm::$variant(<$module::$params>::from_checked(spec)));
                } )*
                match extension::find(&spec.algorithm) {
                    Some(kind) => Ok(Algorithm::External(External { kind, spec: spec.clone() })),
                    None => Err(unknown(&spec.algorithm)),
                }
            }

            /// A saved rating model of the algorithm named `name`, as its
            /// own decoder checks it (see [`Algorithm::decode`]).
            fn decode_own(name: &str, bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
                $( if name == <$module::$params as Algo>::NAME {
                    return <$module::$params as Algo>::decode(bytes);
                } )*
                match extension::find(name) {
                    Some(kind) => kind.decode(bytes),
                    None => Err(EngineError::BadModel(format!(
                        "made by `{name}`, an algorithm this engine does not know (it knows: {})",
                        known().join(", ")
                    ))),
                }
            }
        }

        /// Every algorithm this engine can train, as the wire describes it
        /// (the registry's, then those offered from outside). A module offers
        /// some or all of them (see `plugins/`).
        pub fn describe() -> Vec<AlgorithmInfo> {
            let built_in = vec![ $( info::<$module::$params>(), )* ];
            built_in.into_iter().chain(extension::all().into_iter().map(|e| e.info())).collect()
        }

        /// Every built-in algorithm's name, in the registry's order.
        pub const NAMES: &[&str] = &[ $( <$module::$params as Algo>::NAME, )* ];

        impl Serialize for Algorithm {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Algorithm::$variant(p) => s.serialize_newtype_variant("Algorithm", $tag, stringify!($variant), p), )*
                    Algorithm::External(e) => s.serialize_newtype_variant("Algorithm", EXTERNAL_TAG, "External", e.spec()),
                }
            }
        }

        impl<'de> Deserialize<'de> for Algorithm {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
                struct Tagged;
                impl<'de> Visitor<'de> for Tagged {
                    type Value = Algorithm;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("an algorithm tag and its parameters")
                    }
                    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Algorithm, A::Error> {
                        let (tag, variant): (u32, _) = data.variant()?;
                        match tag {
                            $( $tag => variant.newtype_variant().map(Algorithm::$variant), )*
                            EXTERNAL_TAG => {
                                let spec: ModelSpec = variant.newtype_variant()?;
                                Algorithm::from_spec(&spec, &describe()).map_err(de::Error::custom)
                            }
                            _ => Err(de::Error::custom(format!("algorithm tag {tag} is unknown to this engine"))),
                        }
                    }
                }
                d.deserialize_enum("Algorithm", &[ $( stringify!($variant), )* "External" ], Tagged)
            }
        }
    };
}

registry! {
    1 => Svd(svd::SvdParams),
    0 => Baseline(baseline::BaselineParams),
    9 => RankBlend(rankblend::RankBlendParams),
    2 => Ials(ials::IalsParams),
    3 => SvdPp(svdpp::SvdPpParams),
    4 => Knn(knn::KnnParams),
    5 => Nmf(nmf::NmfParams),
    6 => SlopeOne(slopeone::SlopeOneParams),
    7 => Blend(blend::BlendParams),
    8 => Ease(ease::EaseParams),
}

pub use baseline::BaselineParams;
pub use ials::IalsParams;
pub use svd::SvdParams;

fn info<A: Algo>() -> AlgorithmInfo {
    AlgorithmInfo { name: A::NAME.into(), role: A::ROLE, description: A::DESCRIPTION.into(), params: A::describe() }
}

/// Every algorithm's name: the registry's, then those offered from outside.
fn known() -> Vec<&'static str> {
    NAMES.iter().copied().chain(extension::all().into_iter().map(|e| e.name())).collect()
}

fn unknown(name: &str) -> EngineError {
    EngineError::BadArgument(format!("this engine cannot train `{name}` (it knows: {})", known().join(", ")))
}

impl Algorithm {
    /// Whether this trains the ranking model rather than the rating model.
    pub fn is_ranking(&self) -> bool {
        self.role() == Role::Ranking
    }

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
        // Checked against this engine's own description, so every read finds its value.
        let own = describe().into_iter().find(|a| a.name == spec.algorithm).ok_or_else(|| unknown(&spec.algorithm))?;
        Algorithm::from_checked(&own.check(spec).map_err(refuse)?)
    }

    /// A saved rating model of the algorithm named `name`. Whatever its own
    /// decoder checks, its rating scale is checked here: every prediction
    /// is clipped to it, and an inverted or NaN scale would stop the module.
    pub fn decode(name: &str, bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model = Algorithm::decode_own(name, bytes)?;
        let Scale { min, max } = model.scale();
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(EngineError::BadModel(format!("{name}: rating scale {min} to {max} is invalid")));
        }
        Ok(model)
    }

    /// The wire form, every parameter given: what a host sends to train this.
    pub fn to_spec(&self) -> ModelSpec {
        ModelSpec { algorithm: self.name().into(), params: self.values() }
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

    /// Saved models name their algorithm by the registry's tag: the three
    /// algorithms of ABI 1 and 2 keep the numbers their files were written with.
    #[test]
    fn saved_models_keep_their_algorithm_tags() {
        for (typed, tag) in [
            (Algorithm::Baseline(defaults::baseline()), 0u8),
            (Algorithm::Svd(defaults::svd()), 1),
            (Algorithm::Ials(defaults::ials()), 2),
        ] {
            let bytes = postcard::to_stdvec(&typed).unwrap();
            assert_eq!(bytes[0], tag, "{}", typed.name());
            assert_eq!(postcard::from_bytes::<Algorithm>(&bytes).unwrap(), typed);
        }
        assert!(postcard::from_bytes::<Algorithm>(&[200, 1]).is_err());
    }

    #[test]
    fn an_unknown_name_is_refused_naming_the_known_ones() {
        let everything: Vec<_> = describe()
            .into_iter()
            .map(|mut a| {
                a.name = "nope".into();
                a
            })
            .collect();
        let Err(EngineError::BadArgument(m)) = Algorithm::from_spec(&ModelSpec::new("nope"), &everything) else {
            panic!()
        };
        assert!(m.contains("cannot train `nope`") && m.contains("svd, baseline, rankblend, ials"), "{m}");
    }
}
