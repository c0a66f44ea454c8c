//! Fold-in: a user's bias and factors re-solved from their ratings with the
//! movie side held fixed — instant learning without retraining.
//!
//! With z_i = [1, q_i] and target y_i = r_ui − μ − b_i, the user's
//! x = [b_u, p_u] minimises Σ (y_i − x·z_i)² + λ_b b_u² + λ_p ‖p_u‖², the SGD
//! objective restricted to one user: a (k+1)-dimensional ridge regression
//! (ZᵀZ + Λ) x = Zᵀy. It is solved by conjugate gradients without forming
//! ZᵀZ — each iteration is two passes over the user's movies with the SIMD
//! kernels — warm-started from the user's current vector, so one new rating
//! converges in a few iterations.

use crate::cg;
use crate::kernels::{axpy, dot};
use crate::model::Model;

/// Extra shrinkage so one or two ratings move a user decisively but not wildly.
pub const PRIOR: f32 = 1.0;
const MAX_ITERATIONS: usize = 50;
/// Stop when the residual is this small relative to the right-hand side.
const TOLERANCE: f32 = 1e-5;

/// Sets user `u`'s bias and factors from `ratings` (`(item, value)` pairs).
/// No ratings: a neutral user (bias and factors zero), whose list is then the
/// items' own biases — popular-and-well-rated.
pub fn fold_in(model: &mut Model, u: u32, ratings: &[(u32, f32)]) {
    fold_in_shifted(model, u, ratings, None);
}

/// [`fold_in`] for a user vector written `p_u + shift`, with the ridge on
/// `p_u` alone: SVD++'s user is their own vector plus what the movies they
/// rated say (`shift`, fixed by the ratings), so only `p_u` is solved for.
pub fn fold_in_shifted(model: &mut Model, u: u32, ratings: &[(u32, f32)], shift: Option<&[f32]>) {
    if ratings.is_empty() {
        model.user_bias[u as usize] = 0.0;
        model.user_row_mut(u).fill(0.0);
        return;
    }
    let normal = Normal::new(model, ratings);
    // Right-hand side Zᵀy.
    let mut rhs = vec![0f32; model.factors() + 1];
    for &(i, r) in ratings {
        axpy_z(&mut rhs, target(model, i, r, shift), model.item_row(i));
    }
    let mut x = Vec::with_capacity(rhs.len());
    x.push(model.user_bias[u as usize]);
    x.extend_from_slice(model.user_row(u));
    if let Some(shift) = shift {
        axpy(&mut x[1..], -1.0, shift);
    }
    normal.solve(&rhs, &mut x, MAX_ITERATIONS, TOLERANCE);
    if let Some(shift) = shift {
        axpy(&mut x[1..], 1.0, shift);
    }
    model.user_bias[u as usize] = x[0];
    model.user_row_mut(u).copy_from_slice(&x[1..]);
}

/// y_i = r_ui − μ − b_i − q_i·shift: what the user's bias and own vector
/// must explain.
pub fn target(model: &Model, i: u32, r: f32, shift: Option<&[f32]>) -> f32 {
    let shifted = shift.map_or(0.0, |s| dot(s, model.item_row(i)));
    r - model.global_mean - model.item_bias[i as usize] - shifted
}

/// out += a · z with z = [1, q].
pub fn axpy_z(out: &mut [f32], a: f32, q: &[f32]) {
    out[0] += a;
    axpy(&mut out[1..], a, q);
}

/// The operator v ↦ (ZᵀZ + Λ) v of one user's ratings, applied without
/// materialising the matrix.
pub struct Normal<'a> {
    model: &'a Model,
    ratings: &'a [(u32, f32)],
    shrink_bias: f32,
    shrink_factors: f32,
}

impl<'a> Normal<'a> {
    pub fn new(model: &'a Model, ratings: &'a [(u32, f32)]) -> Normal<'a> {
        let n = ratings.len() as f32;
        // Diagonal shrinkage of [b_u, p_u]: each algorithm says its own (SGD's
        // per-rating regularization summed over the ratings, the baseline's shrinkage).
        let (shrink_bias, shrink_factors) = model.spec.fold_in_shrinkage(n);
        Normal { model, ratings, shrink_bias, shrink_factors }
    }

    /// Improves `x` towards A⁻¹b (see [`cg::solve`]).
    pub fn solve(&self, b: &[f32], x: &mut [f32], steps: usize, tolerance: f32) {
        cg::solve(|v, out| self.apply(v, out), b, x, steps, tolerance, &mut cg::Scratch::default());
    }

    fn apply(&self, v: &[f32], out: &mut [f32]) {
        out[0] = self.shrink_bias * v[0];
        for (o, &vf) in out[1..].iter_mut().zip(&v[1..]) {
            *o = self.shrink_factors * vf;
        }
        for &(i, _) in self.ratings {
            let q = self.model.item_row(i);
            axpy_z(out, v[0] + dot(q, &v[1..]), q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::Algorithm;
    use crate::defaults;
    use cinema_protocol::Scale;
    use ndarray::Array2;

    fn model() -> Model {
        let mut m = Model::empty(Algorithm::Svd(defaults::svd()), Scale { min: 1.0, max: 5.0 }, 2, 4, 2, 3.0);
        m.item_factors = Array2::from_shape_vec((4, 2), vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.9, 0.1]).unwrap();
        m.item_bias = vec![0.2, -0.1, 0.0, 0.3];
        m
    }

    #[test]
    fn solves_the_normal_equations() {
        let mut m = model();
        let ratings = [(0, 5.0), (2, 1.0), (1, 3.5)];
        fold_in(&mut m, 1, &ratings);
        // The gradient of the ridge objective vanishes at the solution.
        let (p, b) = (defaults::svd(), m.user_bias[1]);
        let n = ratings.len() as f32;
        let mut grad = [(p.reg_bias * n + PRIOR) * b, 0.0, 0.0];
        for f in 0..2 {
            grad[f + 1] = (p.reg * n + PRIOR) * m.user_factors[[1, f]];
        }
        for &(i, r) in &ratings {
            let err = m.score(1, i) - r;
            grad[0] += err;
            grad[1] += err * m.item_factors[[i as usize, 0]];
            grad[2] += err * m.item_factors[[i as usize, 1]];
        }
        assert!(grad.iter().all(|g| g.abs() < 1e-3), "{grad:?}");
    }

    #[test]
    fn liking_a_movie_lifts_similar_ones() {
        let mut m = model();
        fold_in(&mut m, 1, &[(0, 5.0), (2, 1.0)]);
        // Movie 3 points the same way as movie 0 (loved) and away from movie 2 (hated).
        assert!(m.predict(1, 3) > m.predict(1, 1) + 0.5, "{} vs {}", m.predict(1, 3), m.predict(1, 1));
        assert!(m.score(1, 0) > 4.0 && m.score(1, 2) < 2.0);
    }

    #[test]
    fn no_ratings_is_a_neutral_user() {
        let mut m = model();
        m.user_bias[1] = 0.7;
        fold_in(&mut m, 1, &[]);
        assert_eq!(m.user_bias[1], 0.0);
        assert!(m.user_factors.row(1).iter().all(|&x| x == 0.0));
    }
}
