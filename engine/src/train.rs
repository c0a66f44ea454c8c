//! Stepped training. `start` makes a fresh model; each `step` visits a
//! bounded number of ratings and reports progress, so a host can stream
//! per-epoch metrics, enforce a CPU deadline per call, and cancel by simply
//! not calling again.

use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::EngineError;
use crate::algorithms::{Algorithm, BaselineParams, IalsParams, SvdParams};
use crate::implicit::{Confidence, Costs, FixedSide, HalfSweep, Plan, Scratch};
use crate::kernels::{dot, sgd_pair, sgd_pair_dot};
use crate::model::Model;
use crate::ratings::RatingMatrix;
use cinema_protocol::{Progress, Scale, Triple};

pub struct Training {
    spec: Algorithm,
    epoch: u32,
    visited: u64,
    /// Training ratings in the (seeded, shuffled) order SGD visits them.
    order: Vec<Triple>,
    lr: f32,
    lr_bias: f32,
    squared_error: f64,
    train_rmse: Option<f32>,
    validation_rmse: Option<f32>,
    /// iALS only: where the alternating sweep stands.
    als: Option<AlsSweep>,
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

impl Training {
    pub fn start(spec: Algorithm, data: &RatingMatrix, scale: Scale) -> Result<(Training, Model), EngineError> {
        validate(&spec)?;
        if data.is_empty() {
            return Err(EngineError::BadState("there are no training ratings".into()));
        }
        let mut als = None;
        let (model, order, lr, lr_bias) = match spec {
            Algorithm::Baseline(_) => {
                (Model::empty(spec, scale, data.users, data.items, 0, data.global_mean), Vec::new(), 0.0, 0.0)
            }
            Algorithm::Svd(p) => {
                // Drawing the initial factors was a quarter of a 20-epoch fit
                // inside wasm with ChaCha12; see the dependency's note.
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(p.seed);
                let mut model = Model::empty(spec, scale, data.users, data.items, p.factors as usize, data.global_mean);
                init_factors(&mut model.user_factors, p.init_std, &mut rng, |u| data.by_user.row_len(u) > 0);
                init_factors(&mut model.item_factors, p.init_std, &mut rng, |i| data.by_item.row_len(i) > 0);
                (model, visiting_order(data, &mut rng), p.lr, p.lr_bias)
            }
            Algorithm::Ials(p) => {
                // Scores are likelihoods of watching: no mean, no biases.
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(p.seed);
                let mut model = Model::empty(spec, scale, data.users, data.items, p.factors as usize, 0.0);
                init_factors(&mut model.item_factors, p.init_std, &mut rng, |i| data.by_item.row_len(i) > 0);
                als = Some(AlsSweep::new(&p, data, Confidence::new(&p, scale)));
                (model, Vec::new(), 0.0, 0.0)
            }
        };
        let training = Training {
            spec,
            epoch: 0,
            visited: 0,
            order,
            lr,
            lr_bias,
            squared_error: 0.0,
            train_rmse: None,
            validation_rmse: None,
            als,
        };
        Ok((training, model))
    }

    pub fn finished(&self) -> bool {
        self.epoch >= self.spec.epochs()
    }

    /// Whether this trains the ranking model rather than the rating model.
    pub fn is_ranking(&self) -> bool {
        self.spec.is_ranking()
    }

    /// The work of one epoch, in the units `Progress::visited` counts:
    /// ratings for SGD and the baseline; for iALS, both half-sweeps'
    /// multiply-adds over k ([`Costs`]), so that every step does a budget's
    /// worth of it whether it prepares rows or solves them.
    pub fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        match &self.als {
            Some(als) => als.per_epoch(),
            None => data.len() as u64,
        }
    }

    pub fn progress(&self, per_epoch: u64) -> Progress {
        Progress {
            epoch: self.epoch,
            epochs: self.spec.epochs(),
            visited: self.visited,
            per_epoch,
            train_rmse: self.train_rmse,
            validation_rmse: self.validation_rmse,
            finished: self.finished(),
        }
    }

    /// Trains on at most `budget` ratings (at least one), finishing an epoch
    /// when its last rating is reached.
    pub fn step(&mut self, model: &mut Model, data: &RatingMatrix, validation: &[Triple], budget: u64) -> Progress {
        let per_epoch = self.per_epoch(data);
        if self.finished() {
            return self.progress(per_epoch);
        }
        let epoch_done = match self.spec {
            Algorithm::Baseline(p) => {
                self.squared_error = als_sweep(model, data, p);
                true
            }
            Algorithm::Svd(p) => {
                let from = self.visited as usize;
                // Saturating: the budget is the caller's number, and usize is 32 bits inside the module.
                let budget = usize::try_from(budget.max(1)).unwrap_or(usize::MAX);
                let to = from.saturating_add(budget).min(self.order.len());
                self.squared_error += sgd_epoch_slice(model, &self.order[from..to], self.lr, self.lr_bias, p);
                self.visited = to as u64;
                to == self.order.len()
            }
            Algorithm::Ials(p) => {
                let als = self.als.as_mut().expect("an iALS training starts with its sweep state");
                let (visited, done) = als.step(model, data, &p, budget.max(1));
                self.visited += visited;
                done
            }
        };
        if epoch_done && self.spec.is_ranking() {
            // A likelihood of watching has no RMSE to report.
            self.visited = 0;
            self.epoch += 1;
        } else if epoch_done {
            self.train_rmse = Some((self.squared_error / per_epoch as f64).sqrt() as f32);
            self.validation_rmse = (!validation.is_empty()).then(|| rmse_of(model, validation));
            self.squared_error = 0.0;
            self.visited = 0;
            self.epoch += 1;
            if let Algorithm::Svd(p) = self.spec {
                self.lr *= p.lr_decay;
                self.lr_bias *= p.lr_decay;
            }
        }
        self.progress(per_epoch)
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
fn init_factors(m: &mut Array2<f32>, std: f32, rng: &mut Xoshiro256PlusPlus, has_ratings: impl Fn(usize) -> bool) {
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
fn visiting_order(data: &RatingMatrix, rng: &mut Xoshiro256PlusPlus) -> Vec<Triple> {
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

/// One SGD pass over `ratings`; returns the sum of squared errors seen.
fn sgd_epoch_slice(model: &mut Model, ratings: &[Triple], lr: f32, lr_bias: f32, p: SvdParams) -> f64 {
    let k = model.factors();
    let pass = Pass { k, mu: model.global_mean, lr, lr_bias, p };
    let pu_all = model.user_factors.as_slice_mut().expect("factor rows are contiguous");
    let qi_all = model.item_factors.as_slice_mut().expect("factor rows are contiguous");
    let mut squared_error = 0f64;
    for run in ratings.chunk_by(|a, b| a.0 == b.0) {
        let u = run[0].0 as usize;
        let (pu, bu) = (&mut pu_all[u * k..(u + 1) * k], &mut model.user_bias[u]);
        squared_error += pass.user_run(pu, bu, run, qi_all, &mut model.item_bias);
    }
    squared_error
}

/// The constants of one SGD pass (named apart from `Training::step`, which runs one).
struct Pass {
    k: usize,
    mu: f32,
    lr: f32,
    lr_bias: f32,
    p: SvdParams,
}

impl Pass {
    /// One user's consecutive ratings; returns their squared errors.
    ///
    /// The user's factors and bias stay put for the whole run, and each
    /// update computes the dot product the next rating needs
    /// (`sgd_pair_dot`): the same numbers as a separate `dot`, with one pass
    /// less over `pu`. A function of its own so that, inside wasm, the
    /// compiler keeps the run's state in registers.
    #[inline(never)]
    fn user_run(&self, pu: &mut [f32], bu: &mut f32, run: &[Triple], qi_all: &mut [f32], bi_all: &mut [f32]) -> f64 {
        let (k, p) = (self.k, self.p);
        let row = |i: usize| i * k..(i + 1) * k;
        let mut b = *bu;
        let mut squared_error = 0f64;
        let mut pq = run.first().map_or(0.0, |&(_, i, _)| dot(pu, &qi_all[row(i as usize)]));
        for (t, &(_, i, r)) in run.iter().enumerate() {
            let i = i as usize;
            let err = r - (self.mu + b + bi_all[i] + pq);
            squared_error += (err * err) as f64;
            b += self.lr_bias * (err - p.reg_bias * b);
            bi_all[i] += self.lr_bias * (err - p.reg_bias * bi_all[i]);
            match run.get(t + 1) {
                Some(&(_, next, _)) if next as usize != i => {
                    let (qi, next) = row_and_other(qi_all, k, i, next as usize);
                    pq = sgd_pair_dot(pu, qi, next, err, self.lr, p.reg);
                }
                next => {
                    sgd_pair(pu, &mut qi_all[row(i)], err, self.lr, p.reg);
                    // The same movie twice in a row (or none): the next dot reads the updated row.
                    pq = next.map_or(0.0, |&(_, next, _)| dot(pu, &qi_all[row(next as usize)]));
                }
            }
        }
        *bu = b;
        squared_error
    }
}

/// Row `i` of a row-major matrix with `k` columns, mutable, and row `j ≠ i`.
fn row_and_other(all: &mut [f32], k: usize, i: usize, j: usize) -> (&mut [f32], &[f32]) {
    if i < j {
        let (head, tail) = all.split_at_mut(j * k);
        (&mut head[i * k..(i + 1) * k], &tail[..k])
    } else {
        let (head, tail) = all.split_at_mut(i * k);
        (&mut tail[..k], &head[j * k..(j + 1) * k])
    }
}

/// One alternating-least-squares sweep of the biases (items, then users);
/// returns the squared training error after the sweep.
fn als_sweep(model: &mut Model, data: &RatingMatrix, p: BaselineParams) -> f64 {
    let mu = model.global_mean;
    for i in 0..data.items as usize {
        let (users, values) = data.by_item.row(i);
        let dev: f32 = users.iter().zip(values).map(|(&u, &r)| r - mu - model.user_bias[u as usize]).sum();
        model.item_bias[i] = dev / (p.reg_item + users.len() as f32);
    }
    let mut squared_error = 0f64;
    for u in 0..data.users as usize {
        let (items, values) = data.by_user.row(u);
        let dev: f32 = items.iter().zip(values).map(|(&i, &r)| r - mu - model.item_bias[i as usize]).sum();
        model.user_bias[u] = dev / (p.reg_user + items.len() as f32);
        for (&i, &r) in items.iter().zip(values) {
            let e = r - (mu + model.user_bias[u] + model.item_bias[i as usize]);
            squared_error += (e * e) as f64;
        }
    }
    squared_error
}

/// RMSE of the model's clipped predictions on `ratings`.
pub fn rmse_of(model: &Model, ratings: &[Triple]) -> f32 {
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
mod tests {
    use super::*;
    use crate::defaults;

    /// 3 users × 3 movies, hand-checkable: μ = 3.
    fn three_by_three() -> RatingMatrix {
        let t = [(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0), (1, 2, 1.0), (2, 1, 2.0), (2, 2, 3.0)];
        RatingMatrix::new(3, 3, &t)
    }

    const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    #[test]
    fn baseline_without_shrinkage_matches_hand_computed_biases() {
        let data = three_by_three();
        assert_eq!(data.global_mean, 3.0);
        let spec = Algorithm::Baseline(BaselineParams { epochs: 1, reg_user: 0.0, reg_item: 0.0 });
        let (mut t, mut m) = Training::start(spec, &data, SCALE).unwrap();
        t.step(&mut m, &data, &[], 1);
        // Items first, with b_u = 0: b_0 = ((5−3)+(4−3))/2 = 1.5, b_1 = ((3−3)+(2−3))/2 = −0.5, b_2 = ((1−3)+(3−3))/2 = −1.
        assert_eq!(m.item_bias, vec![1.5, -0.5, -1.0]);
        // Then users: b_u0 = ((5−3−1.5)+(3−3+0.5))/2 = 0.5, b_u1 = ((4−3−1.5)+(1−3+1))/2 = −0.75, b_u2 = ((2−3+0.5)+(3−3+1))/2 = 0.25.
        assert_eq!(m.user_bias, vec![0.5, -0.75, 0.25]);
        assert!(t.finished());
    }

    #[test]
    fn shrinkage_pulls_biases_towards_zero() {
        let data = three_by_three();
        let spec = Algorithm::Baseline(BaselineParams { epochs: 1, reg_user: 0.0, reg_item: 2.0 });
        let (mut t, mut m) = Training::start(spec, &data, SCALE).unwrap();
        t.step(&mut m, &data, &[], 1);
        assert_eq!(m.item_bias[0], 3.0 / 4.0);
    }

    #[test]
    fn svd_fits_the_training_data_and_steps_in_slices() {
        let data = three_by_three();
        let mut p = defaults::svd();
        p.epochs = 200;
        p.factors = 4;
        p.reg = 0.0;
        p.reg_bias = 0.0;
        p.lr = 0.05;
        p.lr_bias = 0.05;
        p.lr_decay = 1.0;
        let (mut t, mut m) = Training::start(Algorithm::Svd(p), &data, SCALE).unwrap();
        let first = t.step(&mut m, &data, &[], 4);
        assert_eq!((first.epoch, first.visited, first.per_epoch), (0, 4, 6));
        let mut last = first;
        while !last.finished {
            last = t.step(&mut m, &data, &[], 4);
        }
        assert_eq!(last.epoch, 200);
        assert!(last.train_rmse.unwrap() < 0.05, "{last:?}");
        assert!((m.predict(0, 0) - 5.0).abs() < 0.1);
    }

    #[test]
    fn same_seed_same_model_and_unrated_rows_stay_zero() {
        let t = [(0, 0, 5.0), (1, 1, 3.0)];
        let data = RatingMatrix::new(3, 3, &t);
        let spec = Algorithm::Svd(defaults::svd());
        let a = Training::start(spec, &data, SCALE).unwrap().1;
        let b = Training::start(spec, &data, SCALE).unwrap().1;
        assert_eq!(a, b);
        assert!(a.user_factors.row(2).iter().all(|&x| x == 0.0));
        assert!(a.item_factors.row(2).iter().all(|&x| x == 0.0));
        assert!(a.item_factors.row(0).iter().any(|&x| x != 0.0));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let data = three_by_three();
        let mut p = defaults::svd();
        p.lr = f32::NAN;
        assert!(Training::start(Algorithm::Svd(p), &data, SCALE).is_err());
        let empty = RatingMatrix::new(2, 2, &[]);
        assert!(Training::start(Algorithm::Svd(defaults::svd()), &empty, SCALE).is_err());
    }
}
