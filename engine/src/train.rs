//! Stepped training, the same for every model: `start` asks the algorithm
//! for a fresh model and its [`Fit`]; each `step` does a bounded amount of
//! its work and reports progress, so a host can stream per-epoch metrics,
//! enforce a CPU deadline per call, and cancel by simply not calling again.
//! Epochs, RMSEs and the validation score are counted here, once.

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::EngineError;
use crate::algorithms::Algorithm;
use crate::door::{Fit, RatingModel, Step, Team};
use crate::ratings::RatingMatrix;
use cinema_protocol::{Progress, Scale, Triple};

pub struct Training {
    spec: Algorithm,
    /// Taken by [`Training::finish`]; the progress stays.
    fit: Option<Box<dyn Fit>>,
    per_epoch: u64,
    /// Epochs to run: the algorithm's, unless the fit says otherwise.
    epochs: u32,
    epoch: u32,
    visited: u64,
    /// The epoch's squared training error so far; `None` once a step had none.
    squared_error: Option<f64>,
    train_rmse: Option<f32>,
    validation_rmse: Option<f32>,
    team: Team,
    /// A team member's share of the round is handed off: it takes no step
    /// until it has taken the others'.
    waiting: bool,
}

impl Training {
    pub fn start(spec: Algorithm, data: &RatingMatrix, scale: Scale) -> Result<Training, EngineError> {
        Training::start_in(spec, data, scale, Team::ALONE)
    }

    /// Starts fitting `spec` as one member of a `team`.
    pub fn start_in(spec: Algorithm, data: &RatingMatrix, scale: Scale, team: Team) -> Result<Training, EngineError> {
        validate(&spec)?;
        if data.is_empty() {
            return Err(EngineError::BadState("there are no training ratings".into()));
        }
        let fit = spec.start_in(data, scale, team)?;
        Ok(Training {
            team,
            waiting: false,
            epochs: fit.epochs().unwrap_or_else(|| spec.epochs()),
            spec,
            per_epoch: fit.per_epoch(data),
            fit: Some(fit),
            epoch: 0,
            visited: 0,
            squared_error: Some(0.0),
            train_rmse: None,
            validation_rmse: None,
        })
    }

    pub fn finished(&self) -> bool {
        self.epoch >= self.epochs
    }

    /// Whether this trains the ranking model rather than the rating model.
    pub fn is_ranking(&self) -> bool {
        self.spec.is_ranking()
    }

    pub fn progress(&self) -> Progress {
        Progress {
            epoch: self.epoch,
            epochs: self.epochs,
            visited: self.visited,
            per_epoch: self.per_epoch,
            train_rmse: self.train_rmse,
            validation_rmse: self.validation_rmse,
            finished: self.finished(),
        }
    }

    /// The model as fitted so far; `None` once handed over by [`Training::finish`].
    pub fn model(&self) -> Option<&dyn RatingModel> {
        self.fit.as_deref().map(Fit::model)
    }

    pub fn model_mut(&mut self) -> Option<&mut dyn RatingModel> {
        self.fit.as_deref_mut().map(Fit::model_mut)
    }

    /// The fitted model (once; the progress stays readable).
    pub fn finish(&mut self) -> Option<Box<dyn RatingModel>> {
        self.fit.take().map(Fit::finish)
    }

    /// Does about `budget` units of work (at least one), finishing an epoch
    /// when its last unit is reached.
    pub fn step(&mut self, data: &RatingMatrix, validation: &[Triple], budget: u64) -> Progress {
        if self.finished() {
            return self.progress();
        }
        let Some(fit) = self.fit.as_mut() else { return self.progress() };
        let step = fit.step(data, budget);
        self.record(step, validation)
    }

    /// Whether this is one member of a team of several.
    pub fn in_team(&self) -> bool {
        !self.team.is_alone()
    }

    /// A team member's step ([`Training::step`]), with its handoff when
    /// the step ended its share of the round.
    pub fn shard_step(
        &mut self,
        data: &RatingMatrix,
        validation: &[Triple],
        budget: u64,
    ) -> Result<(Progress, Option<Vec<u8>>), EngineError> {
        if self.waiting {
            return Err(EngineError::BadState("this member waits for the others' handoffs: send ShardTake".into()));
        }
        let progress = self.step(data, validation, budget);
        let handoff = self.fit.as_mut().and_then(|fit| fit.handoff());
        self.waiting = handoff.is_some();
        Ok((progress, handoff))
    }

    /// The other members' handoffs of the round, in member order: the round ends.
    pub fn take(
        &mut self,
        data: &RatingMatrix,
        validation: &[Triple],
        handoffs: &[&[u8]],
    ) -> Result<Progress, EngineError> {
        let fit = self.fit.as_mut().filter(|_| self.waiting);
        let fit =
            fit.ok_or_else(|| EngineError::BadState("this member has handed nothing off: nothing to take".into()))?;
        let step = fit.take(data, handoffs)?;
        self.waiting = false;
        Ok(self.record(step, validation))
    }

    /// Counts a step's work; at the end of an epoch, its errors.
    fn record(&mut self, step: Step, validation: &[Triple]) -> Progress {
        let Some(fit) = self.fit.as_ref() else { return self.progress() };
        self.visited += step.work;
        self.squared_error = self.squared_error.zip(step.squared_error).map(|(a, b)| a + b);
        if step.epoch_done {
            // A likelihood of watching has no RMSE to report.
            if !self.spec.is_ranking() {
                self.train_rmse = self.squared_error.map(|se| (se / self.per_epoch.max(1) as f64).sqrt() as f32);
                self.validation_rmse = (!validation.is_empty()).then(|| rmse_of(fit.model(), validation));
            }
            self.squared_error = Some(0.0);
            self.visited = 0;
            self.epoch += 1;
        }
        self.progress()
    }
}

/// The description's ranges are the one statement of what is valid, so a
/// typed spec built natively is checked by going through the wire form.
fn validate(spec: &Algorithm) -> Result<(), EngineError> {
    Algorithm::from_spec(&spec.to_spec(), &crate::algorithms::describe()).map(|_| ())
}

/// Draws N(0, init_std²) into the (zeroed) rows of users/items that have
/// ratings; the rest stay zero, so an unseen user or movie contributes
/// nothing until it is rated.
pub fn init_factors(m: &mut Array2<f32>, std: f32, rng: &mut Xoshiro256PlusPlus, has_ratings: impl Fn(usize) -> bool) {
    let normal = Normal::new(0.0f32, std).expect("init_std was validated");
    for (r, mut row) in m.rows_mut().into_iter().enumerate() {
        if has_ratings(r) {
            row.iter_mut().for_each(|x| *x = normal.sample(rng));
        }
    }
}

/// Users in a seeded random order, each user's ratings together (shuffled
/// among themselves): the user's factor row stays in cache across their
/// ratings, which makes an epoch several times faster than a fully random
/// order at the same accuracy.
pub fn visiting_order(data: &RatingMatrix, rng: &mut Xoshiro256PlusPlus) -> Vec<Triple> {
    let mut users: Vec<u32> = (0..data.users).collect();
    users.shuffle(rng);
    let mut order = Vec::with_capacity(data.len());
    for u in users {
        let start = order.len();
        let (items, values) = data.by_user.row(u as usize);
        order.extend(items.iter().zip(values).map(|(&i, &r)| (u, i, r)));
        order[start..].shuffle(rng);
    }
    order
}

/// RMSE of the model's clipped predictions on `ratings`.
pub fn rmse_of(model: &dyn RatingModel, ratings: &[Triple]) -> f32 {
    let se: f64 = ratings
        .iter()
        .map(|&(u, i, r)| {
            let e = model.predict(u, i) - r;
            (e * e) as f64
        })
        .sum();
    (se / ratings.len().max(1) as f64).sqrt() as f32
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::defaults;

    /// 3 users × 3 movies, hand-checkable: μ = 3.
    pub fn three_by_three() -> RatingMatrix {
        let t = [(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0), (1, 2, 1.0), (2, 1, 2.0), (2, 2, 3.0)];
        RatingMatrix::new(3, 3, &t)
    }

    pub const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    #[test]
    fn bad_parameters_are_refused() {
        let data = three_by_three();
        let mut p = defaults::svd();
        p.lr = f32::NAN;
        assert!(Training::start(Algorithm::Svd(p), &data, SCALE).is_err());
        let empty = RatingMatrix::new(2, 2, &[]);
        assert!(Training::start(Algorithm::Svd(defaults::svd()), &empty, SCALE).is_err());
    }

    #[test]
    fn a_finished_model_is_handed_over_once_and_the_progress_stays() {
        let data = three_by_three();
        let mut t = Training::start(Algorithm::Baseline(defaults::baseline()), &data, SCALE).unwrap();
        while !t.step(&data, &[(0, 2, 4.0)], 1).finished {}
        assert!(t.progress().validation_rmse.is_some());
        assert!(t.finish().is_some() && t.finish().is_none() && t.model().is_none());
        assert!(t.step(&data, &[], 1).finished);
    }
}
