//! SVD++ (Koren 2008): SVD whose user is their own vector plus what the
//! movies they rated say, `r̂ = μ + b_u + b_i + q_i·(p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j)`.
//!
//! Surprise updates every y_j of the user at every rating, so an epoch costs
//! Σ_u |N(u)|²·k. Here a user's ratings are visited together: the implicit
//! sum s_u is made once per user, the ratings are fitted with it held fixed,
//! and the y_j take the gradient the run accumulated in one pass at its end,
//! so an epoch costs a few passes over the ratings, as SVD's does.
//!
//! The trained model serves as vectors (each user row is `p_u + s_u`), so the
//! top-N index, "similar" and alike users work as for SVD; the y_j stay for
//! fold-in, which makes s from the viewer's ratings and solves p_u alone.

use cinema_protocol::{Decomposition, Role, Scale, Triple};
use ndarray::Array2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::{Algo, Algorithm, MAX_SEED};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::{Viewer, decomposition, ridge_parts};
use crate::foldin::{PRIOR, fold_in_shifted};
use crate::kernels::{axpy, dot, sgd_pair};
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::train::{init_factors, visiting_order};

params! {
    /// Defaults chosen as SVD's were, on validation data carved from the
    /// training files only (the README's grid).
    pub struct SvdPpParams {
        factors: u32 = 200, 1..=1024, "length of each user's and movie's vector";
        epochs: u32 = 40, 1..=10_000, "passes over the training ratings";
        /// Learning rate of the vectors (p, q and y).
        lr: f32 = 0.007, 0.0..=1.0, "learning rate of the vectors";
        /// L2 regularization of p and q.
        reg: f32 = 0.08, 0.0..=100.0, "L2 regularization of the vectors";
        /// L2 regularization of the y_j (what having rated j says).
        reg_implicit: f32 = 0.01, 0.0..=100.0, "L2 regularization of the implicit vectors";
        lr_bias: f32 = 0.007, 0.0..=1.0, "learning rate of the biases";
        reg_bias: f32 = 0.02, 0.0..=100.0, "L2 regularization of the biases";
        init_std: f32 = 0.05, 0.0..=10.0, "vectors start as N(0, init_std²)";
        lr_decay: f32 = 1.0, 0.01..=1.0, "learning rates are multiplied by this every epoch";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the random start";
    }
}

impl Algo for SvdPpParams {
    const NAME: &'static str = "svdpp";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "SVD++: SVD plus what the movies a user rated say about them (SGD)";

    fn epochs(&self) -> u32 {
        self.epochs
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let k = self.factors as usize;
        let vectors = Model::empty(Algorithm::SvdPp(self), scale, data.users, data.items, k, data.global_mean);
        let mut own = Array2::zeros((data.users as usize, k));
        let mut model = SvdPp { vectors, implicit: Array2::zeros((data.items as usize, k)) };
        init_factors(&mut own, self.init_std, &mut rng, |u| data.by_user.row_len(u) > 0);
        init_factors(&mut model.vectors.item_factors, self.init_std, &mut rng, |i| data.by_item.row_len(i) > 0);
        let order = visiting_order(data, &mut rng);
        let (lr, lr_bias) = (self.lr, self.lr_bias);
        Ok(Box::new(Fitting { model, own, order, next: 0, lr, lr_bias, p: self }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: SvdPp = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.vectors.validate()?;
        if model.implicit.dim() != (model.vectors.items() as usize, model.vectors.factors())
            || !model.implicit.is_standard_layout()
            || !model.implicit.iter().all(|x| x.is_finite())
        {
            return Err(EngineError::BadModel("the implicit vectors do not fit the model".into()));
        }
        Ok(Box::new(model))
    }

    fn fold_in_shrinkage(&self, n: f32) -> (f32, f32) {
        (self.reg_bias * n + PRIOR, self.reg * n + PRIOR)
    }
}

/// A trained SVD++.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvdPp {
    /// Each user row is `p_u + s_u`: the model as it serves.
    vectors: Model,
    /// y_j, one row per movie: what having rated it says about a user.
    implicit: Array2<f32>,
}

impl RatingModel for SvdPp {
    fn algorithm(&self) -> Algorithm {
        self.vectors.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.vectors.scale
    }

    fn users(&self) -> u32 {
        self.vectors.users()
    }

    fn items(&self) -> u32 {
        self.vectors.items()
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        self.vectors.score(u, i)
    }

    /// Everything the viewer rated says something: s from all of it, then
    /// their bias and own vector by the ridge fold-in.
    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        let items: Vec<u32> = ratings.iter().map(|r| r.0).collect();
        let shift = implicit_sum(&self.implicit, &items);
        fold_in_shifted(&mut self.vectors, u, ratings, Some(&shift));
    }

    /// Each rated movie adds its part of the ridge solve of the viewer's own
    /// vector and what having rated it says, `|N|^-½ q_item·y_i`.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let m = &self.vectors;
        let items: Vec<u32> = viewer.ratings.iter().map(|r| r.0).collect();
        let shift = implicit_sum(&self.implicit, &items);
        let norm = 1.0 / (items.len().max(1) as f32).sqrt();
        let mut parts = ridge_parts(m, viewer, item, Some(&shift));
        for part in &mut parts {
            part.2 += norm * dot(m.item_row(item), row(&self.implicit, part.0));
        }
        let baseline = m.global_mean + m.item_bias[item as usize];
        decomposition(baseline, parts, m.score(viewer.user, item), viewer.folded)
    }

    fn vectors(&self) -> Option<&Model> {
        Some(&self.vectors)
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

/// `|N|^-½ Σ_{i ∈ N} y_i`: what having rated `items` says about a user.
fn implicit_sum(y: &Array2<f32>, items: &[u32]) -> Vec<f32> {
    let mut sum = vec![0f32; y.ncols()];
    let norm = 1.0 / (items.len().max(1) as f32).sqrt();
    for &i in items {
        axpy(&mut sum, norm, row(y, i));
    }
    sum
}

fn row(m: &Array2<f32>, i: u32) -> &[f32] {
    let k = m.ncols();
    &m.as_slice().expect("rows are contiguous")[i as usize * k..(i as usize + 1) * k]
}

struct Fitting {
    model: SvdPp,
    /// p_u, the users' own vectors (the model's rows add s_u).
    own: Array2<f32>,
    /// Training ratings, each user's together, in a seeded order.
    order: Vec<Triple>,
    /// The next rating of `order` this epoch: always a user's first.
    next: usize,
    lr: f32,
    lr_bias: f32,
    p: SvdPpParams,
}

impl Fit for Fitting {
    /// Whole users only: their implicit sum is made and spent per run.
    fn step(&mut self, _data: &RatingMatrix, budget: u64) -> Step {
        let from = self.next;
        let budget = usize::try_from(budget.max(1)).unwrap_or(usize::MAX);
        let mut to = from.saturating_add(budget).min(self.order.len());
        while to < self.order.len() && self.order[to].0 == self.order[to - 1].0 {
            to += 1;
        }
        let mut squared_error = 0f64;
        let mut scratch = Scratch::new(self.model.vectors.factors());
        let order = std::mem::take(&mut self.order);
        for run in order[from..to].chunk_by(|a, b| a.0 == b.0) {
            squared_error += self.user_run(run, &mut scratch);
        }
        self.order = order;
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

struct Scratch {
    /// s_u.
    shift: Vec<f32>,
    /// Σ err·q_i over the run: the y_j's gradient, before |N|^-½.
    gradient: Vec<f32>,
}

impl Scratch {
    fn new(k: usize) -> Scratch {
        Scratch { shift: vec![0.0; k], gradient: vec![0.0; k] }
    }
}

impl Fitting {
    /// One user's ratings (all of them: N(u) is the run); returns their
    /// squared errors.
    ///
    /// With z = p_u + s_u the SGD step on p_u is, in z,
    /// `z ← (1 − lr·reg) z + lr·err·q_i + lr·reg·s_u`: SVD's pair update on
    /// (z, q_i) plus a constant, so the row the model serves is updated in place.
    fn user_run(&mut self, run: &[Triple], scratch: &mut Scratch) -> f64 {
        let (p, k) = (self.p, self.model.vectors.factors());
        let u = run[0].0 as usize;
        let norm = 1.0 / (run.len() as f32).sqrt();
        let Scratch { shift, gradient } = scratch;
        let implicit = self.model.implicit.as_slice_mut().expect("rows are contiguous");
        let row = |i: u32| i as usize * k..(i as usize + 1) * k;
        shift.fill(0.0);
        for &(_, j, _) in run {
            axpy(shift, norm, &implicit[row(j)]);
        }
        gradient.fill(0.0);
        let m = &mut self.model.vectors;
        let own = &mut self.own.as_slice_mut().expect("rows are contiguous")[row(u as u32)];
        let z = &mut m.user_factors.as_slice_mut().expect("rows are contiguous")[row(u as u32)];
        z.copy_from_slice(own);
        axpy(z, 1.0, shift);
        let q_all = m.item_factors.as_slice_mut().expect("rows are contiguous");
        let (mu, mut b) = (m.global_mean, m.user_bias[u]);
        let mut squared_error = 0f64;
        for &(_, i, r) in run {
            let q = &mut q_all[row(i)];
            let bi = &mut m.item_bias[i as usize];
            let err = r - (mu + b + *bi + dot(z, q));
            squared_error += (err * err) as f64;
            b += self.lr_bias * (err - p.reg_bias * b);
            *bi += self.lr_bias * (err - p.reg_bias * *bi);
            axpy(gradient, err, q);
            sgd_pair(z, q, err, self.lr, p.reg);
            axpy(z, self.lr * p.reg, shift);
        }
        m.user_bias[u] = b;
        own.copy_from_slice(z);
        axpy(own, -1.0, shift);
        // Surprise shrinks each y_j once per rating of the run; so does this, at once.
        let decay = (1.0 - self.lr * p.reg_implicit).powi(run.len() as i32);
        for &(_, j, _) in run {
            let y = &mut implicit[row(j)];
            y.iter_mut().for_each(|x| *x *= decay);
            axpy(y, self.lr * norm, gradient);
        }
        squared_error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::{SCALE, three_by_three};

    fn small() -> SvdPpParams {
        SvdPpParams { factors: 4, epochs: 300, lr: 0.03, lr_bias: 0.03, ..SvdPpParams::default() }
    }

    fn trained(data: &RatingMatrix) -> Box<dyn RatingModel> {
        let mut t = Training::start(Algorithm::SvdPp(small()), data, SCALE).unwrap();
        while !t.step(data, &[], 2).finished {}
        t.finish().unwrap()
    }

    #[test]
    fn fits_the_training_data_in_whole_user_steps() {
        let data = three_by_three();
        let mut t = Training::start(Algorithm::SvdPp(small()), &data, SCALE).unwrap();
        // A budget of one still fits a whole user (each has two ratings).
        assert_eq!(t.step(&data, &[], 1).visited, 2);
        let mut last = t.progress();
        while !last.finished {
            last = t.step(&data, &[], 3);
        }
        assert!(last.train_rmse.unwrap() < 0.1, "{last:?}");
        assert!((t.model().unwrap().predict(0, 0) - 5.0).abs() < 0.2);
    }

    /// A folded-in viewer's stars are exactly the parts the explanation lists,
    /// each rated movie adding its ridge part and what having rated it says.
    #[test]
    fn a_folded_viewer_is_explained_exactly() {
        let data = three_by_three();
        let mut model = trained(&data);
        let ratings = [(0, 5.0), (1, 2.0)];
        model.fold_in(2, &ratings);
        let d = model.explain(&Viewer { user: 2, ratings: &ratings, marks: &[], folded: true }, 2);
        assert!((d.total - model.score(2, 2)).abs() < 1e-3, "{} vs {}", d.total, model.score(2, 2));
        assert!(d.exact);
    }

    #[test]
    fn saved_bytes_come_back_and_a_bad_shape_is_refused() {
        let model = trained(&three_by_three());
        let back = SvdPpParams::decode(&model.encode()).unwrap();
        assert_eq!(back.encode(), model.encode());
        let SvdPp { vectors, .. } = postcard::from_bytes(&model.encode()).unwrap();
        let wrong = SvdPp { vectors, implicit: Array2::zeros((1, 1)) };
        assert!(SvdPpParams::decode(&postcard::to_stdvec(&wrong).unwrap()).is_err());
    }
}
