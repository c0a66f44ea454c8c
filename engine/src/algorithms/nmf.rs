//! Non-negative matrix factorisation (Luo et al. 2014; Surprise's `NMF`):
//! `r̂ = p_u·q_i` with every factor ≥ 0, fitted by regularised
//! multiplicative updates. Each half epoch gathers, over the ratings,
//! `Σ q_i r` and `Σ q_i r̂` per user with the movie factors held, then
//! multiplies every user factor by its ratio; then the same for the movies.
//! A step is a slice of one half's rows.
//!
//! The trained model serves as vectors (no mean, no biases), so the top-N
//! index and "similar" work as for SVD. A viewer is folded in by the same
//! updates on their vector alone; the explanation's parts come from the
//! ridge solve of their ratings and are marked approximate.

use cinema_protocol::{Decomposition, Role, Scale};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::{Algo, Algorithm, MAX_SEED};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::{Viewer, stars};
use crate::kernels::{axpy, dot};
use crate::model::Model;
use crate::ratings::RatingMatrix;

params! {
    /// Chosen on validation data carved from the training files only (the
    /// README); Surprise's `NMF()` is 15 factors, 50 epochs, 0.06 and 0.06.
    pub struct NmfParams {
        factors: u32 = 16, 1..=1024, "length of each user's and movie's vector";
        epochs: u32 = 100, 1..=10_000, "multiplicative update sweeps";
        reg_user: f32 = 0.2, 0.0..=100.0, "L2 regularization of the user vectors";
        reg_item: f32 = 0.06, 0.0..=100.0, "L2 regularization of the movie vectors";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the random start (uniform in 0..1)";
    }
}

/// Multiplicative sweeps a fold-in makes on the viewer's vector.
const FOLD_IN_SWEEPS: usize = 50;

impl Algo for NmfParams {
    const NAME: &'static str = "nmf";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "non-negative matrix factorization (multiplicative updates)";

    fn epochs(&self) -> u32 {
        self.epochs
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let k = self.factors as usize;
        let mut vectors = Model::empty(Algorithm::Nmf(self), scale, data.users, data.items, k, 0.0);
        vectors.user_factors.iter_mut().for_each(|x| *x = rng.random::<f32>());
        vectors.item_factors.iter_mut().for_each(|x| *x = rng.random::<f32>());
        let (num, denom) = (Array2::zeros((data.users as usize, k)), Array2::zeros((data.users as usize, k)));
        Ok(Box::new(Fitting { model: Nmf { vectors }, p: self, movies: false, next: 0, num, denom }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: Nmf = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.vectors.validate()?;
        let v = &model.vectors;
        if v.user_factors.iter().chain(v.item_factors.iter()).any(|&x| x < 0.0) {
            return Err(EngineError::BadModel("nmf: a factor is negative".into()));
        }
        Ok(Box::new(model))
    }
}

/// A trained NMF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nmf {
    /// Non-negative factors; mean and biases zero.
    vectors: Model,
}

impl RatingModel for Nmf {
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

    /// The epoch's user update, repeated on the viewer's vector alone.
    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        let Algorithm::Nmf(p) = self.vectors.spec else { unreachable!("an nmf model is made with its own parameters") };
        let k = self.vectors.factors();
        // No ratings: a zero vector, the neutral user.
        let (start, sweeps) = if ratings.is_empty() { (0.0, 0) } else { (0.5, FOLD_IN_SWEEPS) };
        let mut x = vec![start; k];
        let (mut num, mut denom) = (vec![0f32; k], vec![0f32; k]);
        for _ in 0..sweeps {
            num.fill(0.0);
            denom.fill(0.0);
            for &(i, r) in ratings {
                let q = self.vectors.item_row(i);
                axpy(&mut num, r, q);
                axpy(&mut denom, dot(&x, q), q);
            }
            update(&mut x, &num, &denom, ratings.len() as f32 * p.reg_user);
        }
        self.vectors.user_row_mut(u).copy_from_slice(&x);
    }

    /// Approximate: the viewer's vector is not linear in their ratings.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        Decomposition { exact: false, ..stars(&self.vectors, viewer, item) }
    }

    fn vectors(&self) -> Option<&Model> {
        Some(&self.vectors)
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

/// `x_f ← x_f · num_f / (denom_f + reg·x_f)`, leaving a factor with nothing
/// to divide by where it is.
fn update(x: &mut [f32], num: &[f32], denom: &[f32], reg: f32) {
    for ((x, &n), &d) in x.iter_mut().zip(num).zip(denom) {
        let d = d + reg * *x;
        if d > 0.0 {
            *x *= n / d;
        }
    }
}

struct Fitting {
    model: Nmf,
    p: NmfParams,
    /// Whether this half of the epoch updates the movies (users first).
    movies: bool,
    /// The next row (user or movie) whose ratings are gathered.
    next: u32,
    /// Per row of the current side: Σ other·r and Σ other·r̂.
    num: Array2<f32>,
    denom: Array2<f32>,
}

impl Fit for Fitting {
    /// Users, then movies (Lee and Seung's alternating updates: each half
    /// gathers its sums with the other side's latest factors, so the fit
    /// never oscillates as simultaneous updates of both sides can).
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        let m = &mut self.model.vectors;
        let k = m.factors();
        let (by_row, rows, reg) = if self.movies {
            (&data.by_item, data.items, self.p.reg_item)
        } else {
            (&data.by_user, data.users, self.p.reg_user)
        };
        let (mut work, mut squared_error) = (0u64, 0f64);
        {
            let (fixed, own) = if self.movies { (&m.user_factors, &m.item_factors) } else { (&m.item_factors, &m.user_factors) };
            let (fixed, own) = (fixed.as_slice().expect("contiguous"), own.as_slice().expect("contiguous"));
            let (num, denom) = (self.num.as_slice_mut().expect("contiguous"), self.denom.as_slice_mut().expect("contiguous"));
            while work < budget.max(1) && self.next < rows {
                let x = self.next as usize;
                let (cols, values) = by_row.row(x);
                let mine = &own[x * k..(x + 1) * k];
                for (&c, &r) in cols.iter().zip(values) {
                    let other = &fixed[c as usize * k..(c as usize + 1) * k];
                    let est = dot(mine, other);
                    squared_error += f64::from((r - est) * (r - est));
                    // Both sums in one pass over the other side's vector.
                    let (num, denom) = (&mut num[x * k..(x + 1) * k], &mut denom[x * k..(x + 1) * k]);
                    for ((n, d), &o) in num.iter_mut().zip(denom.iter_mut()).zip(other) {
                        *n += r * o;
                        *d += est * o;
                    }
                }
                work += cols.len() as u64;
                self.next += 1;
            }
        }
        // The training error is that of the factors the epoch began with.
        let squared_error = Some(if self.movies { 0.0 } else { squared_error });
        if self.next < rows {
            return Step { work, epoch_done: false, squared_error };
        }
        let own = if self.movies { &mut m.item_factors } else { &mut m.user_factors };
        let own = own.as_slice_mut().expect("contiguous");
        for x in 0..rows as usize {
            let rows = x * k..(x + 1) * k;
            let reg = by_row.row_len(x) as f32 * reg;
            update(&mut own[rows.clone()], &self.num.as_slice().unwrap()[rows.clone()], &self.denom.as_slice().unwrap()[rows], reg);
        }
        self.movies = !self.movies;
        self.next = 0;
        let other_rows = if self.movies { data.items } else { data.users } as usize;
        self.num = Array2::zeros((other_rows, k));
        self.denom = Array2::zeros((other_rows, k));
        Step { work, epoch_done: !self.movies, squared_error }
    }

    /// Both halves: every rating is visited twice.
    fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        2 * data.len() as u64
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::{SCALE, three_by_three};

    fn trained() -> (RatingMatrix, Box<dyn RatingModel>) {
        let data = three_by_three();
        let p = NmfParams { factors: 3, epochs: 400, reg_user: 0.0, reg_item: 0.0, ..NmfParams::default() };
        let mut t = Training::start(Algorithm::Nmf(p), &data, SCALE).unwrap();
        let mut last = t.progress();
        while !last.finished {
            last = t.step(&data, &[], 2);
        }
        assert!(last.train_rmse.unwrap() < 0.2, "{last:?}");
        (data, t.finish().unwrap())
    }

    #[test]
    fn fits_with_non_negative_factors() {
        let (_, model) = trained();
        let v = model.vectors().unwrap();
        assert!(v.user_factors.iter().chain(v.item_factors.iter()).all(|&x| x >= 0.0));
        assert!((model.predict(0, 0) - 5.0).abs() < 0.5, "{}", model.predict(0, 0));
    }

    #[test]
    fn fold_in_fits_the_viewer_and_says_its_explanation_is_approximate() {
        let (_, mut model) = trained();
        model.fold_in(2, &[(0, 5.0), (1, 3.0)]);
        assert!((model.predict(2, 0) - 5.0).abs() < 0.6, "{}", model.predict(2, 0));
        let d = model.explain(&Viewer { user: 2, ratings: &[(0, 5.0), (1, 3.0)], marks: &[], folded: true }, 2);
        assert!(!d.exact);
        model.fold_in(2, &[]);
        assert_eq!(model.score(2, 0), 0.0);
    }

    #[test]
    fn a_negative_factor_is_refused() {
        let (_, model) = trained();
        let mut broken: Nmf = postcard::from_bytes(&model.encode()).unwrap();
        broken.vectors.item_factors[[0, 0]] = -1.0;
        assert!(NmfParams::decode(&postcard::to_stdvec(&broken).unwrap()).is_err());
        assert!(NmfParams::decode(&model.encode()).is_ok());
    }
}
