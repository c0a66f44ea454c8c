//! cinema-protocol: the wire protocol between a host and an engine module.
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

mod algorithm;
mod calls;

pub use calls::Call;
use calls::calls;

/// Version of the exports and of every type in this crate. Version 2: the
/// algorithms describe themselves ([`AlgorithmInfo`]) and a [`ModelSpec`]
/// names an algorithm and parameter values instead of a fixed enum.
/// Version 3: lists and explanations take a diversity setting
/// ([`Request::PrepareDiversity`], [`Explanation::lift`]).
/// Version 4: fold-in carries the viewer's [`Mark`]s and a ranking
/// explanation their parts ([`Decomposition::marks`]).
pub const ABI_VERSION: u32 = 4;

/// A rating as it crosses the boundary: (user, item, value).
pub type Triple = (u32, u32, f32);

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub min: f32,
    pub max: f32,
}

/// What "liked" means, here because both sides count on it: the engine
/// builds the content part of a hybrid list from the movies a viewer liked
/// (and counts them in [`Explanation::liked`]), and a host says "nothing
/// liked yet" by the same rule.
impl Scale {
    /// A rating that says "liked": 4 on a 1–5 scale, three quarters up any scale.
    pub fn like_value(self) -> f32 {
        self.min + 0.75 * (self.max - self.min)
    }

    /// The movies a viewer liked, of their `(movie, rating)`s: rated at
    /// least [`Scale::like_value`]. On half-star data, where harsh raters
    /// rarely give 4, the top quarter of their own ratings counts too, as
    /// long as it is above the scale's midpoint.
    pub fn liked(self, ratings: &[(u32, f32)], half_stars: bool) -> Vec<u32> {
        let mut threshold = self.like_value();
        if half_stars && !ratings.is_empty() {
            let mut values: Vec<f32> = ratings.iter().map(|r| r.1).collect();
            values.sort_by(f32::total_cmp);
            let top_quarter = values[(values.len() - 1) * 3 / 4];
            let midpoint = (self.min + self.max) / 2.0;
            threshold = threshold.min(top_quarter.max(midpoint + f32::EPSILON));
        }
        ratings.iter().filter(|r| r.1 >= threshold).map(|r| r.0).collect()
    }
}

/// How a viewer steered a movie without rating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mark {
    /// Watched, not rated: an implicit positive for the ranking model.
    Seen,
    /// Not interested: never listed again, and a negative signal for the
    /// ranking model.
    Hidden,
}

/// Which rating set an `AddRatings` chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RatingSet {
    /// Ratings the model learns from.
    Train,
    /// Held-out ratings whose RMSE is reported after every epoch.
    Validation,
}

pub use algorithm::{AlgorithmInfo, ModelSpec, ParamError, ParamInfo, ParamKind, Role, Value};

calls! {
    /// Handshake.
    Hello => Hello(crate::Hello);
    /// Start over with an empty rating matrix of this shape.
    Reset { users: u32, items: u32, scale: Scale } => Ok;
    /// Append a chunk of ratings. Hosts send large data in several chunks.
    AddRatings { set: RatingSet, ratings: Vec<Triple> } => Ok;
    /// Build the by-user and by-item indices.
    Index => Indexed(Indexed);
    /// Begin training a fresh model of an algorithm from `Hello.algorithms`
    /// (parameters left out take their defaults); refused with
    /// `BadArgument` naming the parameter that is unknown, of the wrong
    /// kind or out of range.
    TrainStart { spec: ModelSpec } => Progress(Progress);
    /// Visit at most `budget` training ratings, then report progress. Hosts
    /// size the budget so that one call stays well under their CPU deadline.
    TrainStep { budget: u64 } => Progress(Progress);
    /// Predicted ratings, clipped to the scale.
    Predict { pairs: Vec<(u32, u32)> } => Predictions(Vec<f32>);
    /// The `n` best movies the user has not rated, among movies with at least
    /// one training rating.
    Recommend { user: u32, n: u32 } => Recommendations(Vec<Scored>);
    /// The current model as bytes.
    ExportModel => Model(Vec<u8>);
    /// Replace the current model with exported bytes.
    ImportModel {
        // The same bytes on the wire as a plain `Vec<u8>` (a length, then
        // the bytes), read and written as one block.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    } => Ok;
    /// Instant learning: these are now all of `user`'s ratings (`(item,
    /// value)`) and marks; re-solve that user's bias and factors with the
    /// movies held fixed, and exclude these movies from the user's
    /// recommendations. Marks teach only the ranking model: a movie seen
    /// counts as watched, a movie hidden as one they do not want.
    FoldIn { user: u32, ratings: Vec<(u32, f32)>, marks: Vec<(u32, Mark)> } => Ok;
    /// The `n` movies most like `item` by the model's movie vectors (the
    /// ranking model's when it is trained), among movies with training
    /// ratings, as `(item, cosine)`; `BadState` for a model without vectors.
    Similar { item: u32, n: u32 } => Neighbours(Vec<(u32, f32)>);
    /// End the training under way now, keeping what it learned so far as
    /// if it had finished (a ranking model starts ranking); the progress
    /// has `finished` set, or `BadState` when nothing is training.
    TrainStop => Progress(Progress);
    /// Content features of movies, appended in chunks after `Reset`: each
    /// movie's terms as ids of the host's vocabulary (a term listed twice
    /// counts twice).
    AddFeatures { items: Vec<Features> } => Ok;
    /// Build the content model from the features sent since `Reset`: TF-IDF
    /// vectors and each movie's `neighbours` most similar movies by cosine.
    BuildContent { neighbours: u32 } => ContentBuilt(ContentStats);
    /// The `n` movies whose features are most like `item`'s (from its kept
    /// neighbours); `BadState` before `BuildContent`.
    SimilarContent { item: u32, n: u32 } => Neighbours(Vec<(u32, f32)>);
    /// The list blended with content: `weight` · CF part + (1 − `weight`) ·
    /// content part, both in [0, 1] over the candidates. A `diversity`
    /// above 0 (up to 1) charges each movie for how often lists already
    /// show it (`BadState` until `PrepareDiversity` is done).
    RecommendHybrid { user: u32, n: u32, weight: f32, diversity: f32 } => Hybrid(Vec<HybridScored>);
    /// Why `item` is recommended to `user` and why it is predicted its
    /// stars, with the hybrid parts under `weight` and what `diversity`
    /// did to its place.
    Explain { user: u32, item: u32, weight: f32, diversity: f32 } => Explanation(Explanation);
    /// The models the rating model is made of, by algorithm name, each with
    /// its weight (a blend's members); empty for a model of one piece.
    /// `BadState` without a rating model.
    Parts => Parts(Vec<(String, f32)>);
    /// Measure how often lists show each movie, for lists with a diversity
    /// above 0: at most `users` more steps a call (one per sampled user,
    /// then at most [`Readiness::MAX_EXTRA`] more). Hosts call it until
    /// `done == total`, again after every model change.
    PrepareDiversity { users: u32 } => Diversity(Readiness);
    /// Begin training `spec` as member `member` (from 0) of a team of
    /// `members` instances of this module that were sent the same training
    /// ratings: each does its share of every round of the fit and hands
    /// the others what they need ([`Request::ShardStep`],
    /// [`Request::ShardTake`]), so a team of two trains on two cores. A
    /// team trains the same model, to the bit, as one instance alone.
    /// Refused for an algorithm that trains alone (and by modules written
    /// before teams, which cannot read it): the host then sends `TrainStart`.
    TrainShard { spec: ModelSpec, member: u32, members: u32 } => Progress(Progress);
    /// A team member's `TrainStep`: at most `budget` units of work, never
    /// past the end of its share of the round. The step that ends its share
    /// carries its [`Handoff`]; it then takes no step until `ShardTake`.
    ShardStep { budget: u64 } => Shard(Stepped);
    /// Every other member's handoff of the round, in member order: the
    /// member takes them in and the round ends (the last round ends the
    /// training, as a last `TrainStep` does).
    ShardTake { handoffs: Vec<Handoff> } => Progress(Progress);
}

/// A team member's step: its progress, and its handoff once its share of
/// the round is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stepped {
    pub progress: Progress,
    pub handoff: Option<Handoff>,
}

/// What a team member hands the others at the end of a round (iALS: the
/// rows it solved and their Gram matrices). The host passes it on
/// unread; the members check what they take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// How far `PrepareDiversity` has come, in steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub done: u32,
    pub total: u32,
}

impl Readiness {
    /// Steps a module may take beyond one per user.
    pub const MAX_EXTRA: u32 = 64;
}

/// What diversity did to a movie's place in the viewer's list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lift {
    /// The price the movie pays, in standard deviations of the viewer's
    /// scores (0 when diversity is 0).
    pub price: f32,
    /// Its place (1 = first) among the viewer's candidates without diversity.
    pub before: u32,
    /// Its place with diversity.
    pub after: u32,
}

/// Which part of a movie's description a content term comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    Genre,
    Title,
    Tag,
}

/// One movie's content terms: `(term, field)`, the term an id of the host's
/// vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub item: u32,
    pub terms: Vec<(u32, Field)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContentStats {
    /// Movies with at least one term.
    pub items: u32,
    pub terms: u32,
    /// Neighbour pairs kept, over all movies; 0 for a module that finds a
    /// movie's neighbours when asked (the built-in one does).
    pub pairs: u64,
    /// Bytes the model holds.
    pub bytes: u64,
}

/// One movie of a hybrid list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HybridScored {
    pub item: u32,
    /// `weight · cf + (1 − weight) · content`.
    pub score: f32,
    /// Predicted stars (the rating model's), clipped to the scale.
    pub prediction: f32,
    /// The collaborative part in [0, 1]: the list's own score, min–max
    /// scaled over the candidates.
    pub cf: f32,
    /// The content part in [0, 1]: mean similarity to the viewer's liked
    /// movies, divided by its largest value over the candidates.
    pub content: f32,
}

/// A score taken apart: `baseline + Σ contributions + Σ marks = total`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decomposition {
    pub baseline: f32,
    /// `(item, the viewer's rating, its share of the score)` for every rated
    /// movie, largest share (by size) first.
    pub contributions: Vec<(u32, f32, f32)>,
    /// `baseline` plus every contribution.
    pub total: f32,
    /// The model's own score; equal to `total` up to rounding when `exact`,
    /// otherwise `total` is a least-squares refit of the viewer's vector
    /// from their ratings (a dataset user trained by SGD).
    pub model: f32,
    pub exact: bool,
    /// `(item, its mark, its share of the score)` for every movie the
    /// viewer marked, when the model learns from marks (a ranking model).
    pub marks: Vec<(u32, Mark, f32)>,
}

/// Why a movie is on a viewer's list; see [`Request::Explain`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub item: u32,
    /// Predicted stars, clipped to the scale.
    pub prediction: f32,
    /// The rating model's score taken apart.
    pub stars: Decomposition,
    /// The ranking model's score taken apart, when one is trained.
    pub rank: Option<Decomposition>,
    /// The movie's genre terms, each with its part of `genre_match`: the
    /// parts add up to it.
    pub genres: Vec<(u32, f32)>,
    /// Cosine of the movie's genres and the viewer's genre profile, in [0, 1].
    pub genre_match: f32,
    /// `(user, their rating, cosine in factor space)`: the nearest users who
    /// liked the movie, nearest first.
    pub similar_users: Vec<(u32, f32, f32)>,
    /// The hybrid parts under the requested weight (see [`HybridScored`]).
    pub cf: f32,
    pub content: f32,
    /// How many of the viewer's movies count as liked.
    pub liked: u32,
    pub user_ratings: u32,
    pub item_ratings: u32,
    /// In [0, 1]; see the README for the formula.
    pub confidence: f32,
    /// Its place with and without diversity; `None` when the movie is
    /// not a candidate (the viewer rated it, or no one did).
    pub lift: Option<Lift>,
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
    /// The algorithm called `name`, if the module offers it.
    pub fn algorithm(&self, name: &str) -> Option<&AlgorithmInfo> {
        self.algorithms.iter().find(|a| a.name == name)
    }

    /// The module's first rating model: what a user who chooses nothing trains.
    pub fn default_rating(&self) -> Option<ModelSpec> {
        self.algorithms.iter().find(|a| a.role == Role::Rating).map(AlgorithmInfo::defaults)
    }

    /// The module's first ranking model, if it offers one.
    pub fn default_ranking(&self) -> Option<ModelSpec> {
        self.algorithms.iter().find(|a| a.role == Role::Ranking).map(AlgorithmInfo::defaults)
    }

    /// What `spec` trains: a rating or a ranking model, if the module offers it.
    pub fn role_of(&self, spec: &ModelSpec) -> Option<Role> {
        self.algorithm(&spec.algorithm).map(|a| a.role)
    }

    /// `spec` checked against the module's own description and completed
    /// with defaults — what the module will check again on `TrainStart`.
    pub fn check(&self, spec: &ModelSpec) -> Result<ModelSpec, ParamError> {
        match self.algorithm(&spec.algorithm) {
            Some(info) => info.check(spec),
            None => Err(ParamError::UnknownAlgorithm {
                algorithm: spec.algorithm.clone(),
                offered: self.algorithms.iter().map(|a| a.name.clone()).collect(),
            }),
        }
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
    /// Work done in the epoch under way (0 right after an epoch ends), in
    /// the module's own units (ratings, for SGD). Every `TrainStep` does at
    /// least its budget's worth unless it ends the epoch: hosts bound the
    /// steps of a training by it.
    pub visited: u64,
    /// The work of one epoch, in the same units.
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

impl std::fmt::Display for ErrorKind {
    /// In words, for messages people read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorKind::BadRequest => "a request it could not read",
            ErrorKind::BadState => "not possible now",
            ErrorKind::BadArgument => "a value out of range",
            ErrorKind::BadModel => "model bytes it could not use",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Hello(Hello),
    Ok,
    Indexed(Indexed),
    Progress(Progress),
    Predictions(Vec<f32>),
    Recommendations(Vec<Scored>),
    Model(#[serde(with = "serde_bytes")] Vec<u8>),
    Error {
        kind: ErrorKind,
        message: String,
    },
    /// `(item, similarity)`, most similar first; similarity is a cosine in [-1, 1].
    Neighbours(Vec<(u32, f32)>),
    ContentBuilt(ContentStats),
    Hybrid(Vec<HybridScored>),
    Explanation(Explanation),
    Parts(Vec<(String, f32)>),
    Diversity(Readiness),
    Shard(Stepped),
}

impl Request {
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
            Reply::Neighbours(_) => "Neighbours",
            Reply::ContentBuilt(_) => "ContentBuilt",
            Reply::Hybrid(_) => "Hybrid",
            Reply::Explanation(_) => "Explanation",
            Reply::Parts(_) => "Parts",
            Reply::Diversity(_) => "Diversity",
            Reply::Shard(_) => "Shard",
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
    fn model_bytes_are_on_the_wire_as_a_plain_byte_list() {
        // Modules built before the bytes went as one block still read them.
        let bytes: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let tag = Request::ImportModel { bytes: Vec::new() }.encode()[0];
        let mut plain = vec![tag];
        plain.extend(postcard::to_stdvec(&bytes).unwrap());
        assert_eq!(Request::ImportModel { bytes: bytes.clone() }.encode(), plain);
        assert_eq!(Request::decode(&plain).unwrap(), Request::ImportModel { bytes });
    }

    /// A call's bytes are its enum variant's, for every request.
    #[test]
    fn a_call_encodes_as_its_request() {
        fn same<C: Call + Clone>(call: C) -> &'static str {
            assert_eq!(call.encode(), call.clone().into_request().encode(), "{}", C::NAME);
            assert_eq!(call.into_request().name(), C::NAME);
            C::NAME
        }
        let spec = ModelSpec::new("svd").with("factors", Value::Integer(4));
        let features = vec![Features { item: 2, terms: vec![(7, Field::Tag)] }];
        let encoded = [
            same(call::Hello {}),
            same(call::Reset { users: 300, items: 2, scale: Scale { min: 0.5, max: 5.0 } }),
            same(call::AddRatings { set: RatingSet::Validation, ratings: vec![(1, 2, 3.5); 200] }),
            same(call::Index {}),
            same(call::TrainStart { spec: spec.clone() }),
            same(call::TrainStep { budget: 1 << 40 }),
            same(call::Predict { pairs: vec![(1, 2)] }),
            same(call::Recommend { user: 1 << 20, n: 10 }),
            same(call::ExportModel {}),
            same(call::ImportModel { bytes: vec![9; 300] }),
            same(call::FoldIn { user: 3, ratings: vec![(4, 4.5)], marks: vec![(5, Mark::Hidden)] }),
            same(call::Similar { item: 5, n: 6 }),
            same(call::TrainStop {}),
            same(call::AddFeatures { items: features }),
            same(call::BuildContent { neighbours: 40 }),
            same(call::SimilarContent { item: 5, n: 6 }),
            same(call::RecommendHybrid { user: 1, n: 50, weight: 0.3, diversity: 0.5 }),
            same(call::Explain { user: 1, item: 2, weight: 0.7, diversity: 0.0 }),
            same(call::Parts {}),
            same(call::PrepareDiversity { users: 8 }),
            same(call::TrainShard { spec, member: 1, members: 2 }),
            same(call::ShardStep { budget: 1 << 20 }),
            same(call::ShardTake { handoffs: vec![Handoff(vec![7; 300])] }),
        ];
        assert_eq!(encoded.as_slice(), Request::NAMES, "every request, in wire order");
    }

    #[test]
    fn an_answer_is_taken_only_from_its_reply() {
        assert_eq!(<call::Recommend as Call>::answer(Reply::Recommendations(vec![])), Ok(vec![]));
        assert_eq!(<call::FoldIn as Call>::answer(Reply::Ok), Ok(()));
        assert_eq!(<call::Similar as Call>::answer(Reply::Ok), Err(Reply::Ok));
        assert_eq!(call::SimilarContent::REPLY, "Neighbours");
    }

    #[test]
    fn liked_is_four_stars_or_a_harsh_raters_top_quarter() {
        let whole = Scale { min: 1.0, max: 5.0 };
        assert_eq!(whole.liked(&[(0, 4.0), (1, 3.0), (2, 5.0)], false), vec![0, 2]);
        let half = Scale { min: 0.5, max: 5.0 };
        let harsh = [(0, 3.5), (1, 2.0), (2, 2.5), (3, 1.0), (4, 3.0)];
        assert_eq!(half.liked(&harsh, true), vec![0, 4]);
        // Never the bottom half of the scale, however harsh.
        assert!(half.liked(&[(0, 2.0), (1, 1.0)], true).is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Request::decode(&[0xff, 0xff, 0xff]).is_err());
        assert!(Reply::decode(&[]).is_err());
    }

    /// The variants of `enum name` in `source`: the identifiers that open a
    /// line at one indent inside its braces.
    fn variants<'s>(source: &'s str, name: &str) -> Vec<&'s str> {
        let body = source.split(&format!("pub enum {name} {{\n")).nth(1).expect("the enum is declared");
        let body = &body[..body.find("\n}").expect("the enum ends")];
        body.lines()
            .filter_map(|l| l.strip_prefix("    "))
            .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|l| l.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap())
            .collect()
    }

    /// `plugins/ABI.md` is the contract for module authors in any language:
    /// every variant that crosses the wire must be on it.
    #[test]
    fn abi_md_documents_every_wire_variant() {
        let abi = include_str!("../../plugins/ABI.md");
        let lib = include_str!("lib.rs");
        let algorithm = include_str!("algorithm.rs");
        for request in Request::NAMES {
            assert!(abi.contains(&format!("`{request}")), "plugins/ABI.md does not mention Request::{request}");
        }
        let enums = [
            (lib, "Reply"),
            (lib, "RatingSet"),
            (lib, "ErrorKind"),
            (lib, "Field"),
            (algorithm, "Role"),
            (algorithm, "ParamKind"),
            (algorithm, "Value"),
        ];
        for (source, name) in enums {
            let found = variants(source, name);
            assert!(found.len() >= 2, "{name}: {found:?}");
            for variant in found {
                assert!(abi.contains(&format!("`{variant}")), "plugins/ABI.md does not mention {name}::{variant}");
            }
        }
        assert!(abi.contains(&format!("must return `{ABI_VERSION}`")), "ABI.md names the current version");
    }
}
