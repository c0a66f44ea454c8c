//! The wire protocol between a host and an engine module.
//!
//! Every call carries one postcard-encoded [`Request`] and returns one
//! postcard-encoded [`Reply`]. postcard is not self-describing, so the rules
//! for changing this file are strict: append new variants and fields at the
//! end, and bump [`ABI_VERSION`] whenever an encoding changes. A host refuses
//! a module whose `abi_version` export differs from its own.
//!
//! Users and movies are dense indices (`0..users`, `0..items`) chosen by the
//! host; the engine never sees the dataset's own ids.

use serde::{Deserialize, Serialize};

/// Version of the exports and of every type in this module.
pub const ABI_VERSION: u32 = 1;

/// A rating as it crosses the boundary: (user, item, value).
pub type Triple = (u32, u32, f32);

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub min: f32,
    pub max: f32,
}

/// Which rating set an `AddRatings` chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RatingSet {
    /// Ratings the model learns from.
    Train,
    /// Held-out ratings whose RMSE is reported after every epoch.
    Validation,
}

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

/// What to train, with its knobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ModelSpec {
    /// Global mean + user bias + item bias.
    Baseline(BaselineParams),
    /// Biased matrix factorization trained by SGD.
    Svd(SvdParams),
    /// The ranking model: implicit ALS. Training it leaves the rating model
    /// in place; `Recommend` then ranks by it and predicts by the rating model.
    Ials(IalsParams),
}

impl ModelSpec {
    pub fn name(&self) -> &'static str {
        match self {
            ModelSpec::Baseline(_) => "baseline",
            ModelSpec::Svd(_) => "svd",
            ModelSpec::Ials(_) => "ials",
        }
    }

    pub fn epochs(&self) -> u32 {
        match self {
            ModelSpec::Baseline(p) => p.epochs,
            ModelSpec::Svd(p) => p.epochs,
            ModelSpec::Ials(p) => p.iterations,
        }
    }

    /// Whether this trains the ranking model rather than the rating model.
    pub fn is_ranking(&self) -> bool {
        matches!(self, ModelSpec::Ials(_))
    }
}

/// A training algorithm a module offers, with the defaults it recommends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgorithmInfo {
    pub name: String,
    pub description: String,
    pub defaults: ModelSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Handshake; answered by [`Reply::Hello`].
    Hello,
    /// Start over with an empty rating matrix of this shape.
    Reset { users: u32, items: u32, scale: Scale },
    /// Append a chunk of ratings. Hosts send large data in several chunks.
    AddRatings { set: RatingSet, ratings: Vec<Triple> },
    /// Build the by-user and by-item indices; answered by [`Reply::Indexed`].
    Index,
    /// Begin training a fresh model; answered by [`Reply::Progress`].
    TrainStart { spec: ModelSpec },
    /// Visit at most `budget` training ratings, then report progress. Hosts
    /// size the budget so that one call stays well under their CPU deadline.
    TrainStep { budget: u64 },
    /// Predicted ratings, clipped to the scale; answered by [`Reply::Predictions`].
    Predict { pairs: Vec<(u32, u32)> },
    /// The `n` best movies the user has not rated, among movies with at least
    /// one training rating; answered by [`Reply::Recommendations`].
    Recommend { user: u32, n: u32 },
    /// The current model as bytes; answered by [`Reply::Model`].
    ExportModel,
    /// Replace the current model with exported bytes; answered by [`Reply::Ok`].
    ImportModel { bytes: Vec<u8> },
    /// Instant learning: these are now all of `user`'s ratings (`(item,
    /// value)`); re-solve that user's bias and factors with the movies held
    /// fixed, and exclude these movies from the user's recommendations.
    /// Answered by [`Reply::Ok`].
    FoldIn { user: u32, ratings: Vec<(u32, f32)> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub abi_version: u32,
    /// The module's name, e.g. `cinema-default`.
    pub engine: String,
    pub engine_version: String,
    pub algorithms: Vec<AlgorithmInfo>,
}

impl Hello {
    /// The module's first rating model: what a user who chooses nothing trains.
    pub fn default_rating(&self) -> Option<ModelSpec> {
        self.algorithms.iter().map(|a| a.defaults).find(|s| !s.is_ranking())
    }

    /// The module's first ranking model, if it offers one.
    pub fn default_ranking(&self) -> Option<ModelSpec> {
        self.algorithms.iter().map(|a| a.defaults).find(|s| s.is_ranking())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Indexed {
    pub users: u32,
    pub items: u32,
    pub train: u64,
    pub validation: u64,
    pub global_mean: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs completed so far.
    pub epoch: u32,
    pub epochs: u32,
    /// Ratings visited in the epoch under way (0 right after an epoch ends).
    pub visited: u64,
    /// Ratings in one epoch.
    pub per_epoch: u64,
    /// RMSE on the training ratings during the last completed epoch.
    pub train_rmse: Option<f32>,
    /// RMSE on the validation ratings after the last completed epoch.
    pub validation_rmse: Option<f32>,
    pub finished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub item: u32,
    /// The model's raw estimate, used for ranking (not clipped, so no ties at the top).
    pub score: f32,
    /// The estimate clipped to the rating scale, for display.
    pub prediction: f32,
}

/// Why a request failed. The module stays usable after any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The request bytes did not decode.
    BadRequest,
    /// The request is valid but not now (e.g. `TrainStep` before `TrainStart`).
    BadState,
    /// An index or parameter is out of range.
    BadArgument,
    /// Model bytes that do not decode or do not fit the loaded data.
    BadModel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Hello(Hello),
    Ok,
    Indexed(Indexed),
    Progress(Progress),
    Predictions(Vec<f32>),
    Recommendations(Vec<Scored>),
    Model(Vec<u8>),
    Error { kind: ErrorKind, message: String },
}

impl Request {
    /// The variant's name, for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Hello => "Hello",
            Request::Reset { .. } => "Reset",
            Request::AddRatings { .. } => "AddRatings",
            Request::Index => "Index",
            Request::TrainStart { .. } => "TrainStart",
            Request::TrainStep { .. } => "TrainStep",
            Request::Predict { .. } => "Predict",
            Request::Recommend { .. } => "Recommend",
            Request::ExportModel => "ExportModel",
            Request::ImportModel { .. } => "ImportModel",
            Request::FoldIn { .. } => "FoldIn",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("requests always encode")
    }

    pub fn decode(bytes: &[u8]) -> Result<Request, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

impl Reply {
    /// The variant's name, for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Reply::Hello(_) => "Hello",
            Reply::Ok => "Ok",
            Reply::Indexed(_) => "Indexed",
            Reply::Progress(_) => "Progress",
            Reply::Predictions(_) => "Predictions",
            Reply::Recommendations(_) => "Recommendations",
            Reply::Model(_) => "Model",
            Reply::Error { .. } => "Error",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("replies always encode")
    }

    pub fn decode(bytes: &[u8]) -> Result<Reply, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips() {
        let r = Request::AddRatings { set: RatingSet::Validation, ratings: vec![(1, 2, 3.5)] };
        assert_eq!(Request::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Request::decode(&[0xff, 0xff, 0xff]).is_err());
        assert!(Reply::decode(&[]).is_err());
    }
}
