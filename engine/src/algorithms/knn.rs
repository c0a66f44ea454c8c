//! Item-kNN with baselines (Koren 2010; Surprise's `KNNBaseline` with
//! `pearson_baseline` similarity): `r̂_ui = b_ui + Σ_j s_ij (r_uj − b_uj) / Σ_j s_ij`
//! over the `k` movies most similar to i among those u rated, where
//! `b_ui = μ + b_u + b_i` and `s_ij` is the Pearson correlation of the two
//! movies' baseline deviations over their common raters, shrunk by
//! `(n − 1) / (n − 1 + shrinkage)`.
//!
//! Sparse: only the `keep` most similar movies (with s > 0) are kept per
//! movie, so the model is `keep` pairs per movie however large the
//! catalogue. Fitting is the baseline's sweeps, then one pass that finds
//! each movie's neighbours, a few movies per step. A prediction is exactly
//! its baseline plus each neighbour's weighted deviation, so explanations
//! are exact and the neighbours answer "similar".

use cinema_protocol::{Decomposition, Role, Scale};
use serde::{Deserialize, Serialize};

use super::baseline::als_sweep;
use super::{Algo, Algorithm};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::{Viewer, decomposition};
use crate::foldin::{PRIOR, fold_in};
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::topn::TopN;

params! {
    /// Surprise's `KNNBaseline` settings by default (k 40, shrinkage 100,
    /// ALS baselines with 10 sweeps, shrinkage 15 and 10). Keeping 1000
    /// neighbours per movie scores as keeping more on validation data
    /// (ML-100K u1–u5.base, 10 % held out, seed 7: 0.92354, as 2000; 500
    /// kept: 0.92361, 200: 0.9194 in an earlier split), and is 8 KB a movie.
    pub struct KnnParams {
        k: u32 = 40, 1..=1000, "neighbours a prediction uses, among the movies the viewer rated";
        keep: u32 = 1000, 1..=5000, "most similar movies kept per movie";
        shrinkage: f32 = 100.0, 0.0..=1e6, "similarity × (n−1)/(n−1+shrinkage) over n common raters";
        baseline_epochs: u32 = 10, 1..=1000, "alternating least squares sweeps of the baseline";
        reg_user: f32 = 15.0, 0.0..=10_000.0, "shrinkage of user biases towards zero";
        reg_item: f32 = 10.0, 0.0..=10_000.0, "shrinkage of movie biases towards zero";
    }
}

impl Algo for KnnParams {
    const NAME: &'static str = "knn";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "item neighbours with baselines (Pearson-baseline similarity, shrunk)";

    /// The baseline's sweeps, then the pass that finds the neighbours.
    fn epochs(&self) -> u32 {
        self.baseline_epochs + 1
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let base = Model::empty(Algorithm::Knn(self), scale, data.users, data.items, 0, data.global_mean);
        let ratings = (0..data.users as usize)
            .map(|u| {
                let (items, values) = data.by_user.row(u);
                items.iter().copied().zip(values.iter().copied()).collect()
            })
            .collect();
        let model = Knn { base, offsets: vec![0], near: Vec::new(), sims: Vec::new(), ratings };
        Ok(Box::new(Fitting { model, p: self, sweeps: 0, sums: Sums::new(data.items as usize) }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: Knn = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.validate()?;
        Ok(Box::new(model))
    }

    /// A folded-in user's bias is the baseline's ALS update of it.
    fn fold_in_shrinkage(&self, _n: f32) -> (f32, f32) {
        (self.reg_user, PRIOR)
    }
}

/// A trained item-kNN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knn {
    /// `b_ui = μ + b_u + b_i`: a model without vectors.
    base: Model,
    /// Movie i's neighbours are `near[offsets[i]..offsets[i + 1]]`, most
    /// similar first, with their similarities in `sims`. While fitting, only
    /// the movies already visited have a row.
    offsets: Vec<u32>,
    near: Vec<u32>,
    sims: Vec<f32>,
    /// Each user's ratings by movie: what a prediction averages over (a
    /// fold-in replaces the user's row).
    ratings: Vec<Vec<(u32, f32)>>,
}

impl Knn {
    fn neighbours_of(&self, i: u32) -> (&[u32], &[f32]) {
        match self.offsets.get(i as usize + 1) {
            Some(&end) => {
                let range = self.offsets[i as usize] as usize..end as usize;
                (&self.near[range.clone()], &self.sims[range])
            }
            None => (&[], &[]),
        }
    }

    fn k(&self) -> usize {
        match self.base.spec {
            Algorithm::Knn(p) => p.k as usize,
            _ => unreachable!("a knn model is made with its own parameters"),
        }
    }

    /// `(movie, similarity, deviation)` of the `k` most similar movies to
    /// `i` that `deviation` knows (the viewer rated), most similar first.
    fn chosen(&self, i: u32, deviation: impl Fn(u32) -> Option<f32>) -> Vec<(u32, f32, f32)> {
        let (near, sims) = self.neighbours_of(i);
        near.iter().zip(sims).filter_map(|(&j, &s)| deviation(j).map(|d| (j, s, d))).take(self.k()).collect()
    }

    fn deviation(&self, u: u32, j: u32) -> Option<f32> {
        let row = &self.ratings[u as usize];
        row.binary_search_by_key(&j, |r| r.0).ok().map(|at| row[at].1 - self.base.score(u, j))
    }

    fn validate(&self) -> Result<(), EngineError> {
        let bad = |why: &str| Err(EngineError::BadModel(format!("knn: {why}")));
        self.base.validate()?;
        let (users, items) = (self.base.users(), self.base.items());
        if self.offsets.len() != items as usize + 1
            || self.offsets.first() != Some(&0)
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || self.offsets.last().map(|&n| n as usize) != Some(self.near.len())
            || self.near.len() != self.sims.len()
        {
            return bad("the neighbour lists are malformed");
        }
        if self.near.iter().any(|&j| j >= items) || !self.sims.iter().all(|s| s.is_finite()) {
            return bad("a neighbour is out of range or not a number");
        }
        let rating_ok = |row: &Vec<(u32, f32)>| {
            row.windows(2).all(|w| w[0].0 < w[1].0) && row.iter().all(|&(j, r)| j < items && r.is_finite())
        };
        if self.ratings.len() != users as usize || !self.ratings.iter().all(rating_ok) {
            return bad("the ratings are malformed");
        }
        Ok(())
    }
}

/// The weighted mean of the chosen neighbours' deviations (0 with none).
fn weighted(chosen: &[(u32, f32, f32)]) -> f32 {
    let weight: f32 = chosen.iter().map(|c| c.1).sum();
    if weight > 0.0 { chosen.iter().map(|c| c.1 * c.2).sum::<f32>() / weight } else { 0.0 }
}

impl RatingModel for Knn {
    fn algorithm(&self) -> Algorithm {
        self.base.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.base.scale
    }

    fn users(&self) -> u32 {
        self.base.users()
    }

    fn items(&self) -> u32 {
        self.base.items()
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        self.base.score(u, i) + weighted(&self.chosen(i, |j| self.deviation(u, j)))
    }

    /// The user's deviations laid out by movie once, then every movie's
    /// neighbours looked up in it.
    fn scores(&self, u: u32) -> Vec<f32> {
        let mut deviation = vec![f32::NAN; self.items() as usize];
        for &(j, r) in &self.ratings[u as usize] {
            deviation[j as usize] = r - self.base.score(u, j);
        }
        let known = |j: u32| Some(deviation[j as usize]).filter(|d| !d.is_nan());
        (0..self.items()).map(|i| self.base.score(u, i) + weighted(&self.chosen(i, known))).collect()
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        let mut row = ratings.to_vec();
        row.sort_unstable_by_key(|r| r.0);
        row.dedup_by_key(|r| r.0);
        fold_in(&mut self.base, u, &row);
        self.ratings[u as usize] = row;
    }

    /// Exact: the baseline, then each chosen neighbour's weighted deviation.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let chosen = self.chosen(item, |j| self.deviation(viewer.user, j));
        let weight: f32 = chosen.iter().map(|c| c.1).sum();
        let rating = |j: u32| viewer.ratings.iter().find(|r| r.0 == j).map_or(f32::NAN, |r| r.1);
        let parts = chosen.iter().map(|&(j, s, d)| (j, rating(j), if weight > 0.0 { s * d / weight } else { 0.0 }));
        let baseline = self.base.score(viewer.user, item);
        decomposition(baseline, parts.collect(), self.score(viewer.user, item), true)
    }

    fn neighbours(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        let (near, sims) = self.neighbours_of(item);
        Some(near.iter().copied().zip(sims.iter().copied()).take(n).collect())
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

struct Fitting {
    model: Knn,
    p: KnnParams,
    /// Baseline sweeps done; the neighbour pass follows.
    sweeps: u32,
    sums: Sums,
}

impl Fit for Fitting {
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        if self.sweeps < self.p.baseline_epochs {
            // A sweep is one short step, an epoch's worth of units. Its
            // error is the baseline's, not kNN's: none is reported.
            self.sweeps += 1;
            als_sweep(&mut self.model.base, data, self.p.reg_user, self.p.reg_item);
            return Step { work: self.per_epoch(data), epoch_done: true, squared_error: None };
        }
        // Movies in order, until their co-ratings add up to the budget.
        let mut work = 0u64;
        while work < budget.max(1) && self.model.offsets.len() <= data.items as usize {
            let i = self.model.offsets.len() as u32 - 1;
            work += data.co_ratings(i);
            let top = self.sums.neighbours(&self.model, data, i, &self.p);
            for (j, s) in top {
                self.model.near.push(j);
                self.model.sims.push(s);
            }
            self.model.offsets.push(self.model.near.len() as u32);
        }
        let epoch_done = self.model.offsets.len() > data.items as usize;
        Step { work, epoch_done, squared_error: None }
    }

    /// In co-ratings (see [`RatingMatrix::co_ratings`]): what the neighbour
    /// pass visits.
    fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        data.co_ratings_total()
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

/// One movie's co-rating sums with every other movie, over their common
/// raters: laid out by movie and reset after each movie.
struct Sums {
    product: Vec<f32>,
    own: Vec<f32>,
    other: Vec<f32>,
    common: Vec<u32>,
    touched: Vec<u32>,
}

impl Sums {
    fn new(items: usize) -> Sums {
        Sums {
            product: vec![0.0; items],
            own: vec![0.0; items],
            other: vec![0.0; items],
            common: vec![0; items],
            touched: Vec::new(),
        }
    }

    /// Movie i's `keep` most similar movies with s > 0, most similar first.
    fn neighbours(&mut self, model: &Knn, data: &RatingMatrix, i: u32, p: &KnnParams) -> Vec<(u32, f32)> {
        let base = &model.base;
        let (raters, values) = data.by_item.row(i as usize);
        for (&u, &r) in raters.iter().zip(values) {
            let d_i = r - base.score(u, i);
            let (items, values) = data.by_user.row(u as usize);
            for (&j, &r) in items.iter().zip(values) {
                if j == i {
                    continue;
                }
                let d_j = r - base.score(u, j);
                let j = j as usize;
                if self.common[j] == 0 {
                    self.touched.push(j as u32);
                }
                self.common[j] += 1;
                self.product[j] += d_i * d_j;
                self.own[j] += d_i * d_i;
                self.other[j] += d_j * d_j;
            }
        }
        let mut top = TopN::new(p.keep as usize);
        for &j in &self.touched {
            let j = j as usize;
            let n = self.common[j] as f32;
            let norm = (self.own[j] * self.other[j]).sqrt();
            if n > 1.0 && norm > 0.0 {
                let s = self.product[j] / norm * (n - 1.0) / (n - 1.0 + p.shrinkage);
                if s > 0.0 {
                    top.push(j as u32, s);
                }
            }
            (self.common[j], self.product[j], self.own[j], self.other[j]) = (0, 0.0, 0.0, 0.0);
        }
        self.touched.clear();
        top.into_sorted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::SCALE;

    /// Movies 0 and 1 are rated alike by everyone, movie 2 the opposite way.
    fn alike() -> RatingMatrix {
        let mut t = Vec::new();
        for (u, (a, c)) in [(5.0, 1.0), (4.0, 2.0), (1.0, 5.0), (2.0, 4.0), (5.0, 1.0)].into_iter().enumerate() {
            t.extend([(u as u32, 0, a), (u as u32, 1, a), (u as u32, 2, c)]);
        }
        t.push((5, 0, 5.0));
        RatingMatrix::new(6, 3, &t)
    }

    fn trained(data: &RatingMatrix) -> Box<dyn RatingModel> {
        let p = KnnParams { shrinkage: 0.0, baseline_epochs: 3, ..KnnParams::default() };
        let mut t = Training::start(Algorithm::Knn(p), data, SCALE).unwrap();
        let mut last = t.progress();
        while !last.finished {
            last = t.step(data, &[(5, 1, 5.0)], 1);
        }
        assert_eq!((last.epoch, last.epochs), (4, 4));
        assert!(last.train_rmse.is_none() && last.validation_rmse.is_some(), "{last:?}");
        t.finish().unwrap()
    }

    #[test]
    fn movies_rated_alike_are_neighbours_and_opposites_are_not() {
        let model = trained(&alike());
        let near = model.neighbours(0, 5).unwrap();
        assert_eq!(near.iter().map(|n| n.0).collect::<Vec<_>>(), vec![1], "{near:?}");
        assert!(near[0].1 > 0.9, "{near:?}");
        // User 5 loved movie 0: movie 1, its neighbour, is lifted above its baseline.
        let viewer = Viewer { user: 5, ratings: &[(0, 5.0)], marks: &[], folded: false };
        let d = model.explain(&viewer, 1);
        assert!(d.exact && (d.total - model.score(5, 1)).abs() < 1e-5, "{d:?}");
        assert_eq!(d.contributions.len(), 1);
        assert!(d.contributions[0].2 > 0.0, "{d:?}");
    }

    #[test]
    fn fold_in_replaces_the_viewers_ratings_and_the_row_scores_match() {
        let mut model = trained(&alike());
        model.fold_in(5, &[(0, 1.0)]);
        assert!(model.score(5, 1) < model.score(5, 2) + 1.0);
        let row = model.scores(5);
        for i in 0..3 {
            assert!((row[i as usize] - model.score(5, i)).abs() < 1e-6);
        }
    }

    #[test]
    fn saved_bytes_come_back_and_malformed_lists_are_refused() {
        let model = trained(&alike());
        let back = KnnParams::decode(&model.encode()).unwrap();
        assert_eq!(back.encode(), model.encode());
        let mut broken: Knn = postcard::from_bytes(&model.encode()).unwrap();
        broken.near.push(99);
        assert!(KnnParams::decode(&postcard::to_stdvec(&broken).unwrap()).is_err());
    }
}
