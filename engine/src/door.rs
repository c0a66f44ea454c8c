//! The door every model goes through: what the session asks of a trained
//! rating model ([`RatingModel`]) and of one being fitted ([`Fit`]).
//!
//! A model is one file under `algorithms/` — its parameters (`params!`), its
//! trained form implementing [`RatingModel`], its fitting implementing
//! [`Fit`] — plus one line in the registry (`algorithms/mod.rs`). The session
//! knows nothing else about it: it serves stars, lists, fold-in and
//! explanations through these traits, and builds what it derives from a
//! model (the top-N index) from [`RatingModel::vectors`], so a cache is
//! dropped with the model it was made from.

use cinema_protocol::{Decomposition, Mark, Scale, Scored};

use crate::EngineError;
use crate::algorithms::Algorithm;
use crate::explain::Viewer;
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::topn::TopN;

/// A trained model that predicts stars (`implicit`'s model API, for ratings).
pub trait RatingModel: Send {
    /// What was trained, with every parameter.
    fn algorithm(&self) -> Algorithm;
    fn scale(&self) -> Scale;
    fn users(&self) -> u32;
    fn items(&self) -> u32;

    /// The raw estimate of user `u`'s rating of movie `i`, unclipped.
    fn score(&self, u: u32, i: u32) -> f32;

    /// Re-solves user `u` from `ratings` (`(movie, stars)`, every rating they
    /// have) with everything else held fixed: instant learning. No ratings
    /// makes a neutral user.
    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]);

    /// Re-solves user `u` from their ratings and marks (seen: watched,
    /// unrated; hidden: not wanted). A model that learns from marks (a
    /// ranking model) overrides this; the others learn from stars alone.
    fn fold_in_marked(&mut self, u: u32, ratings: &[(u32, f32)], marks: &[(u32, Mark)]) {
        let _ = marks;
        self.fold_in(u, ratings);
    }

    /// The score of `item` for the viewer taken apart into what each of
    /// their ratings adds; `exact` says whether the parts add up to the score.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition;

    /// The model as one vector per user and movie with
    /// `score = μ + b_u + b_i + p_u·q_i`, when it can be put so: the session
    /// then ranks large catalogues with the quantized index, finds similar
    /// movies and alike users by cosine. A model without vectors is ranked
    /// by a full scan of [`RatingModel::score`].
    fn vectors(&self) -> Option<&Model> {
        None
    }

    /// Every movie's raw score for `u`, in movie order: what a list is ranked
    /// by without a ranking model. A model whose score of one pair costs
    /// more than a dot product does the whole row at once.
    fn scores(&self, u: u32) -> Vec<f32> {
        (0..self.items()).map(|i| self.score(u, i)).collect()
    }

    /// The `n` movies most like `item` by the model's own notion, best first,
    /// for a model without vectors (a neighbourhood model's neighbours).
    fn neighbours(&self, _item: u32, _n: usize) -> Option<Vec<(u32, f32)>> {
        None
    }

    /// The models this one is made of, by algorithm name, each with its
    /// weight (a blend's members); empty for a model of one piece.
    fn parts(&self) -> Vec<(String, f32)> {
        Vec::new()
    }

    /// The vectors, by value: what a ranking model hands over when it
    /// finishes (a ranking model must have them).
    fn into_vectors(self: Box<Self>) -> Option<Model> {
        None
    }

    /// The bytes [`RatingModel`]'s registry entry decodes (see
    /// `Models::export`).
    fn encode(&self) -> Vec<u8>;

    /// The estimate clipped to the rating scale.
    fn predict(&self, u: u32, i: u32) -> f32 {
        let scale = self.scale();
        self.score(u, i).clamp(scale.min, scale.max)
    }

    fn check_user(&self, u: u32) -> Result<(), EngineError> {
        if u < self.users() { Ok(()) } else { Err(EngineError::UserOutOfRange(u, self.users())) }
    }

    fn check_item(&self, i: u32) -> Result<(), EngineError> {
        if i < self.items() { Ok(()) } else { Err(EngineError::ItemOutOfRange(i, self.items())) }
    }
}

/// The `n` best-scored movies for `u` among those `candidate` accepts, by a
/// full scan of the model's scores.
pub fn recommend(model: &dyn RatingModel, u: u32, n: usize, candidate: impl Fn(u32) -> bool) -> Vec<Scored> {
    let mut top = TopN::new(n);
    for (i, score) in model.scores(u).into_iter().enumerate() {
        if candidate(i as u32) {
            top.push(i as u32, score);
        }
    }
    let scale = model.scale();
    top.into_sorted()
        .into_iter()
        .map(|(item, score)| Scored { item, score, prediction: score.clamp(scale.min, scale.max) })
        .collect()
}

/// What one bounded step of fitting did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Step {
    /// Work done, in the units of [`Fit::per_epoch`].
    pub work: u64,
    /// Whether the step ended an epoch.
    pub epoch_done: bool,
    /// Squared training error of the ratings visited, for a rating model
    /// whose step sees its errors; an epoch with a step without it reports
    /// no training RMSE.
    pub squared_error: Option<f64>,
}

/// Which share of a fit an instance does: member `member` (from 0) of a
/// team of `members` instances that hold the same ratings. Each does its
/// share of every round and hands the others what they need
/// ([`Fit::handoff`], [`Fit::take`]); a team makes the same model as one
/// instance alone (`Team::ALONE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Team {
    pub member: u32,
    pub members: u32,
}

impl Team {
    pub const ALONE: Team = Team { member: 0, members: 1 };

    pub fn is_alone(self) -> bool {
        self.members == 1
    }
}

/// A model being fitted in bounded steps, so that a host can stream
/// per-epoch metrics, keep within a deadline per call and stop or cancel by
/// not calling again. The epoch count, RMSEs and progress are kept by
/// `train::Training`, the same for every model.
pub trait Fit: Send {
    /// Fits about `budget` units of work (at least one unit), never past the
    /// end of an epoch.
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step;

    /// The work of one epoch, in the units a [`Step`] counts.
    fn per_epoch(&self, data: &RatingMatrix) -> u64;

    /// About how many multiply-adds one unit of its work costs: a blend
    /// asks each member for the same compute per budget with it, whatever
    /// the member counts in (iALS in multiply-adds over its factors, EASE
    /// in rows of its matrix).
    fn unit_cost(&self) -> u64 {
        1
    }

    /// The epochs this fit runs, when the data changed what its parameters
    /// say (a blend that leaves out a member the data is too large for).
    fn epochs(&self) -> Option<u32> {
        None
    }

    /// In a team: what this member hands the others, once a step has
    /// ended its share of the round. It then takes no step until
    /// [`Fit::take`]. Alone, or between rounds, `None`.
    fn handoff(&mut self) -> Option<Vec<u8>> {
        None
    }

    /// In a team: the other members' handoffs of the round, in member
    /// order; the round ends. A handoff that does not fit is refused and
    /// changes nothing.
    fn take(&mut self, data: &RatingMatrix, handoffs: &[&[u8]]) -> Result<Step, EngineError> {
        let _ = (data, handoffs);
        Err(EngineError::BadState("this fit trains alone: it takes no handoffs".into()))
    }

    /// The model as fitted so far (it predicts between steps).
    fn model(&self) -> &dyn RatingModel;
    fn model_mut(&mut self) -> &mut dyn RatingModel;

    /// The fitted model, fitting state dropped.
    fn finish(self: Box<Self>) -> Box<dyn RatingModel>;
}
