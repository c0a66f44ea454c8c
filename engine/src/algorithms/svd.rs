//! SVD: biased matrix factorisation `r̂ = μ + b_u + b_i + p_u·q_i` fitted by
//! stochastic gradient descent (Funk; Surprise's `SVD`), visiting each
//! user's ratings together.

use cinema_protocol::{Role, Scale, Triple};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Algo, Algorithm, MAX_SEED};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::kernels::{dot, sgd_pair, sgd_pair_dot};
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::train::{init_factors, visiting_order};

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

impl Algo for SvdParams {
    const NAME: &'static str = "svd";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "biased matrix factorization trained by SGD";

    fn epochs(&self) -> u32 {
        self.epochs
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        // Drawing the initial factors was a quarter of a 20-epoch fit
        // inside wasm with ChaCha12; see the dependency's note.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let k = self.factors as usize;
        let mut model = Model::empty(Algorithm::Svd(self), scale, data.users, data.items, k, data.global_mean);
        init_factors(&mut model.user_factors, self.init_std, &mut rng, |u| data.by_user.row_len(u) > 0);
        init_factors(&mut model.item_factors, self.init_std, &mut rng, |i| data.by_item.row_len(i) > 0);
        let order = visiting_order(data, &mut rng);
        Ok(Box::new(Svd { model, order, next: 0, lr: self.lr, lr_bias: self.lr_bias, p: self }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        Model::decode(bytes)
    }

    /// SGD's per-rating regularization summed over the user's ratings.
    fn fold_in_shrinkage(&self, n: f32) -> (f32, f32) {
        (self.reg_bias * n + crate::foldin::PRIOR, self.reg * n + crate::foldin::PRIOR)
    }
}

struct Svd {
    model: Model,
    /// Training ratings in the (seeded, shuffled) order SGD visits them.
    order: Vec<Triple>,
    /// The next rating of `order` this epoch.
    next: usize,
    lr: f32,
    lr_bias: f32,
    p: SvdParams,
}

impl Fit for Svd {
    fn step(&mut self, _data: &RatingMatrix, budget: u64) -> Step {
        let from = self.next;
        // Saturating: the budget is the caller's number, and usize is 32 bits inside the module.
        let budget = usize::try_from(budget.max(1)).unwrap_or(usize::MAX);
        let to = from.saturating_add(budget).min(self.order.len());
        let pass = Pass { k: self.model.factors(), mu: self.model.global_mean, lr: self.lr, lr_bias: self.lr_bias, p: self.p };
        let squared_error = pass.run(&mut self.model, &self.order[from..to]);
        let epoch_done = to == self.order.len();
        self.next = if epoch_done { 0 } else { to };
        if epoch_done {
            self.lr *= self.p.lr_decay;
            self.lr_bias *= self.p.lr_decay;
        }
        Step { work: (to - from) as u64, epoch_done, squared_error: Some(squared_error) }
    }

    fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        data.len() as u64
    }

    fn model(&self) -> &dyn RatingModel {
        &self.model
    }

    fn model_mut(&mut self) -> &mut dyn RatingModel {
        &mut self.model
    }

    fn finish(self: Box<Self>) -> Box<dyn RatingModel> {
        Box::new(self.model)
    }
}

/// The constants of one SGD pass.
pub(crate) struct Pass {
    pub k: usize,
    pub mu: f32,
    pub lr: f32,
    pub lr_bias: f32,
    pub p: SvdParams,
}

impl Pass {
    /// One SGD pass over `ratings` (each user's together); returns the sum
    /// of squared errors seen.
    fn run(&self, model: &mut Model, ratings: &[Triple]) -> f64 {
        let k = self.k;
        let pu_all = model.user_factors.as_slice_mut().expect("factor rows are contiguous");
        let qi_all = model.item_factors.as_slice_mut().expect("factor rows are contiguous");
        let mut squared_error = 0f64;
        for run in ratings.chunk_by(|a, b| a.0 == b.0) {
            let u = run[0].0 as usize;
            let (pu, bu) = (&mut pu_all[u * k..(u + 1) * k], &mut model.user_bias[u]);
            squared_error += self.user_run(pu, bu, run, qi_all, &mut model.item_bias);
        }
        squared_error
    }

    /// One user's consecutive ratings; returns their squared errors.
    ///
    /// The user's factors and bias stay put for the whole run, and each
    /// update computes the dot product the next rating needs
    /// (`sgd_pair_dot`): the same numbers as a separate `dot`, with one pass
    /// less over `pu`. A function of its own so that, inside wasm, the
    /// compiler keeps the run's state in registers.
    #[inline(never)]
    pub(crate) fn user_run(
        &self,
        pu: &mut [f32],
        bu: &mut f32,
        run: &[Triple],
        qi_all: &mut [f32],
        bi_all: &mut [f32],
    ) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;
    use crate::train::Training;
    use crate::train::tests::{SCALE, three_by_three};

    #[test]
    fn fits_the_training_data_and_steps_in_slices() {
        let data = three_by_three();
        let mut p = defaults::svd();
        (p.epochs, p.factors, p.reg, p.reg_bias, p.lr, p.lr_bias, p.lr_decay) = (200, 4, 0.0, 0.0, 0.05, 0.05, 1.0);
        let mut t = Training::start(Algorithm::Svd(p), &data, SCALE).unwrap();
        let first = t.step(&data, &[], 4);
        assert_eq!((first.epoch, first.visited, first.per_epoch), (0, 4, 6));
        let mut last = first;
        while !last.finished {
            last = t.step(&data, &[], 4);
        }
        assert_eq!(last.epoch, 200);
        assert!(last.train_rmse.unwrap() < 0.05, "{last:?}");
        assert!((t.model().unwrap().predict(0, 0) - 5.0).abs() < 0.1);
    }

    #[test]
    fn same_seed_same_model_and_unrated_rows_stay_zero() {
        let data = RatingMatrix::new(3, 3, &[(0, 0, 5.0), (1, 1, 3.0)]);
        let start = || Training::start(Algorithm::Svd(defaults::svd()), &data, SCALE).unwrap();
        let (a, b) = (start(), start());
        let (a, b) = (a.model().unwrap().vectors().unwrap(), b.model().unwrap().vectors().unwrap());
        assert_eq!(a, b);
        assert!(a.user_factors.row(2).iter().all(|&x| x == 0.0));
        assert!(a.item_factors.row(2).iter().all(|&x| x == 0.0));
        assert!(a.item_factors.row(0).iter().any(|&x| x != 0.0));
    }
}
