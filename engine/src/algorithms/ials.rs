//! iALS, the ranking model: implicit-feedback matrix factorisation (Hu,
//! Koren & Volinsky 2008) fitted by alternating least squares with
//! conjugate-gradient row solves; the kernels are in `crate::implicit`.

use cinema_protocol::{Decomposition, Mark, Role, Scale};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Algo, Algorithm, MAX_SEED};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::Viewer;
use crate::implicit::{self, Confidence, Costs, FixedSide, HalfSweep, Plan, Scratch};
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::train::init_factors;

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

impl Algo for IalsParams {
    const NAME: &'static str = "ials";
    const ROLE: Role = Role::Ranking;
    const DESCRIPTION: &'static str = "ranking model: implicit-feedback matrix factorization (ALS), orders the lists";

    fn epochs(&self) -> u32 {
        self.iterations
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        // Scores are likelihoods of watching: no mean, no biases.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let k = self.factors as usize;
        let mut model = Model::empty(Algorithm::Ials(self), scale, data.users, data.items, k, 0.0);
        init_factors(&mut model.item_factors, self.init_std, &mut rng, |i| data.by_item.row_len(i) > 0);
        let sweep = AlsSweep::new(&self, data, Confidence::new(&self, scale));
        Ok(Box::new(Ials { model, sweep, p: self }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: Model = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.validate()?;
        Ok(Box::new(Trained::new(model)?))
    }

    /// Only a sane fallback: a ranking model is folded in by `implicit::fold_in`.
    fn fold_in_shrinkage(&self, _n: f32) -> (f32, f32) {
        (crate::foldin::PRIOR, self.reg + crate::foldin::PRIOR)
    }
}

struct Ials {
    model: Model,
    sweep: AlsSweep,
    p: IalsParams,
}

impl Fit for Ials {
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        let (work, epoch_done) = self.sweep.step(&mut self.model, data, &self.p, budget.max(1));
        Step { work, epoch_done, squared_error: None }
    }

    /// An iteration's work in [`Costs`]' units: both half-sweeps'
    /// multiply-adds over k, so that every step does a budget's worth of it
    /// whether it prepares rows or solves them.
    fn per_epoch(&self, _data: &RatingMatrix) -> u64 {
        self.sweep.per_epoch()
    }

    fn unit_cost(&self) -> u64 {
        u64::from(self.p.factors)
    }

    fn model(&self) -> &dyn RatingModel {
        &self.model
    }

    fn model_mut(&mut self) -> &mut dyn RatingModel {
        &mut self.model
    }

    fn finish(self: Box<Self>) -> Box<dyn RatingModel> {
        Box::new(Trained::new(self.model).expect("a fit keeps its own parameters"))
    }
}

/// A trained iALS: its vectors, with what every fold-in and explanation
/// shares, built once and dropped with it.
pub struct Trained {
    model: Model,
    p: IalsParams,
    /// YᵀY of the movie vectors.
    gram: Vec<f32>,
    /// The mean user vector: how a viewer with no ratings yet is ranked, so
    /// their list is what most people watch, not an arbitrary order of zeros.
    mean_user: Vec<f32>,
}

impl Trained {
    /// `model` must be an iALS model (saved files before format 4 carried
    /// the ranking model as bare vectors).
    pub fn new(model: Model) -> Result<Trained, EngineError> {
        let Algorithm::Ials(p) = model.spec else {
            return Err(EngineError::BadModel(format!("the ranking part was made by {}", model.spec.name())));
        };
        let gram = implicit::gram(&model.item_factors);
        let mut mean_user = vec![0f32; model.factors()];
        for row in model.user_factors.rows() {
            for (m, x) in mean_user.iter_mut().zip(row) {
                *m += x / model.users().max(1) as f32;
            }
        }
        Ok(Trained { model, p, gram, mean_user })
    }
}

impl RatingModel for Trained {
    fn algorithm(&self) -> Algorithm {
        self.model.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.model.scale
    }

    fn users(&self) -> u32 {
        self.model.users()
    }

    fn items(&self) -> u32 {
        self.model.items()
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        self.model.score(u, i)
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        self.fold_in_marked(u, ratings, &[]);
    }

    fn fold_in_marked(&mut self, u: u32, ratings: &[(u32, f32)], marks: &[(u32, Mark)]) {
        let scale = self.model.scale;
        implicit::fold_in(&mut self.model, &self.gram, &self.p, scale, u, ratings, marks);
        if ratings.is_empty() && !marks.iter().any(|m| m.1 == Mark::Seen) {
            self.model.user_row_mut(u).copy_from_slice(&self.mean_user);
        }
    }

    /// Exact: the viewer's solve taken apart by rated movie (`explain::rank`).
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        crate::explain::rank(&self.model, &self.gram, &self.p, self.model.scale, viewer, item)
    }

    fn vectors(&self) -> Option<&Model> {
        Some(&self.model)
    }

    fn into_vectors(self: Box<Self>) -> Option<Model> {
        Some(self.model)
    }

    fn encode(&self) -> Vec<u8> {
        self.model.encode()
    }
}

/// The state of an iALS iteration between steps: users first, then movies.
struct AlsSweep {
    confidence: Confidence,
    costs: Costs,
    /// The users' half and the movies' half: each chosen once, from how
    /// many ratings each row has.
    plans: [Plan; 2],
    movies_phase: bool,
    /// Whether the current phase has started (its Gram matrix is made).
    started: bool,
    /// The next row of the current phase.
    row: usize,
    /// The side held fixed in this phase.
    side: FixedSide,
    scratch: Scratch,
}

impl AlsSweep {
    fn new(p: &IalsParams, data: &RatingMatrix, confidence: Confidence) -> AlsSweep {
        let costs = Costs::new(p.factors as usize, p.cg_steps);
        let plans = [
            Plan::choose(&data.by_user, data.items as usize, costs),
            Plan::choose(&data.by_item, data.users as usize, costs),
        ];
        AlsSweep {
            confidence,
            costs,
            plans,
            movies_phase: false,
            started: false,
            row: 0,
            side: FixedSide::default(),
            scratch: Scratch::default(),
        }
    }

    /// An iteration's work in [`Costs`]' units.
    fn per_epoch(&self) -> u64 {
        self.plans.iter().map(|p| p.work).sum()
    }

    /// Prepares the side held fixed, then re-solves rows, until about
    /// `budget` units of work are done; returns the units of work done and
    /// whether the iteration ended.
    fn step(&mut self, model: &mut Model, data: &RatingMatrix, p: &IalsParams, budget: u64) -> (u64, bool) {
        let mut spent = 0u64;
        loop {
            let (rows, other, by_row) = if self.movies_phase {
                (&mut model.item_factors, &model.user_factors, &data.by_item)
            } else {
                (&mut model.user_factors, &model.item_factors, &data.by_user)
            };
            if !self.started {
                self.side.start(other, p.reg, self.plans[usize::from(self.movies_phase)]);
                self.started = true;
            }
            while spent < budget {
                match self.side.prepare_next(other, self.costs) {
                    Some(cost) => spent += cost,
                    None => break,
                }
            }
            if spent >= budget {
                return (spent, false);
            }
            let from = self.row;
            let mut to = from;
            let mut planned = 0;
            while to < by_row.rows() && spent + planned < budget {
                planned += self.costs.row_cost(self.side.prepared(), by_row.row_len(to) as u64);
                to += 1;
            }
            let half = HalfSweep {
                fixed: other.as_slice().expect("factor rows are contiguous"),
                side: &self.side,
                by_row,
                params: p,
                confidence: self.confidence,
                costs: self.costs,
            };
            half.solve_rows(rows, from..to, &mut self.scratch);
            spent += planned;
            self.row = to;
            if to == by_row.rows() {
                (self.row, self.started) = (0, false);
                if self.movies_phase {
                    self.movies_phase = false;
                    return (spent, true);
                }
                self.movies_phase = true;
            }
            if spent >= budget {
                return (spent, false);
            }
        }
    }
}

