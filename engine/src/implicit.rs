//! iALS: implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008),
//! the model that ranks the list a person sees.
//!
//! A rating is read as "watched": p_ui = 1 with confidence
//! c_ui = 1 + α·w(r_ui); every pair not rated is p_ui = 0 with confidence 1.
//! The model minimises Σ_ui c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²) by
//! alternating: with the movies fixed, each user's row solves
//!
//!   (YᵀY + Σ_{i∈I_u} (c_ui − 1) y_i y_iᵀ + λI) x_u = Σ_{i∈I_u} c_ui y_i
//!
//! and the same with the roles swapped. YᵀY is shared by every row of a
//! sweep, so a row costs k² + O(n_u·k) per conjugate-gradient step instead
//! of a k³ factorisation (the `cg` solver of Takács et al. 2011, as in
//! implicit). Scores x_u·y_i are a likelihood of watching, not stars: a
//! movie almost nobody watched cannot top a list on an inflated bias.
//!
//! The ranking model is a [`Model`] with zero biases and mean, so it is
//! exported, indexed for top-N ([`crate::retrieval`]) and ranked like any
//! other; only its training and fold-in differ.

use ndarray::Array2;

use crate::algorithms::IalsParams;
use crate::cg;
use crate::kernels::{axpy, dot};
use crate::model::Model;
use crate::ratings::Csr;
use cinema_protocol::Scale;

/// Confidence weight of one rating: 1 + α·w(r), with w rising linearly from
/// `1 − rating_weight` at the bottom of the scale to 1 at the top, so
/// a 5-star rating counts more than a 1-star one when `rating_weight` > 0.
#[derive(Debug, Clone, Copy)]
pub struct Confidence {
    alpha: f32,
    rating_weight: f32,
    min: f32,
    span: f32,
}

impl Confidence {
    pub fn new(p: &IalsParams, scale: Scale) -> Confidence {
        Confidence { alpha: p.alpha, rating_weight: p.rating_weight, min: scale.min, span: scale.max - scale.min }
    }

    /// c − 1 for a rating `r` (the part the Gram matrix does not cover).
    #[inline]
    pub fn extra(&self, r: f32) -> f32 {
        let position = ((r - self.min) / self.span).clamp(0.0, 1.0);
        self.alpha * (1.0 - self.rating_weight + self.rating_weight * position)
    }
}

/// `G = AᵀA` of a row-major `rows × k` matrix, as `k × k` row-major.
pub fn gram(a: &Array2<f32>) -> Vec<f32> {
    let k = a.ncols();
    let mut g = vec![0f32; k * k];
    // The upper triangle only, then mirrored: half the work, and the same
    // floats as the whole (each entry sums the same products in the same order).
    for row in a.rows() {
        let row = row.as_slice().expect("factor rows are contiguous");
        for (f, &x) in row.iter().enumerate() {
            if x != 0.0 {
                axpy(&mut g[f * k + f..(f + 1) * k], x, &row[f..]);
            }
        }
    }
    for f in 0..k {
        for c in f + 1..k {
            g[c * k + f] = g[f * k + c];
        }
    }
    g
}

/// The linear system of one row: `A v = G v + Σ_j e_j (y_j·v) y_j + λ v`,
/// with `e_j` = c − 1 of each interaction `j` and `y_j` a row of `other`.
pub struct RowSystem<'a> {
    pub gram: &'a [f32],
    pub other: &'a [f32],
    pub k: usize,
    pub reg: f32,
    pub cols: &'a [u32],
    pub extra: &'a [f32],
}

impl RowSystem<'_> {
    fn row(&self, j: u32) -> &[f32] {
        &self.other[j as usize * self.k..(j as usize + 1) * self.k]
    }

    fn apply(&self, v: &[f32], out: &mut [f32]) {
        let k = self.k;
        for (f, o) in out.iter_mut().enumerate() {
            *o = dot(&self.gram[f * k..(f + 1) * k], v) + self.reg * v[f];
        }
        for (&j, &e) in self.cols.iter().zip(self.extra) {
            let y = self.row(j);
            axpy(out, e * dot(y, v), y);
        }
    }

    /// Right-hand side Σ_j c_j y_j = Σ_j (1 + e_j) y_j.
    pub fn rhs(&self, out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.k, 0.0);
        for (&j, &e) in self.cols.iter().zip(self.extra) {
            axpy(out, 1.0 + e, self.row(j));
        }
    }

    /// Improves `x` by at most `steps` conjugate-gradient steps (see [`cg::solve`]).
    pub fn solve(&self, x: &mut [f32], steps: usize, tolerance: f32, scratch: &mut Scratch) {
        self.rhs(&mut scratch.rhs);
        cg::solve(|v, out| self.apply(v, out), &scratch.rhs, x, steps, tolerance, &mut scratch.cg);
    }

    /// x = A⁻¹b to rounding, from zero: conjugate gradients converge in at most k steps.
    pub fn solve_exactly(&self, b: &[f32]) -> Vec<f32> {
        let mut x = vec![0f32; self.k];
        cg::solve(|v, out| self.apply(v, out), b, &mut x, 2 * self.k + 10, 1e-6, &mut cg::Scratch::default());
        x
    }
}

/// Buffers reused across rows so a sweep allocates nothing per row.
#[derive(Debug, Default)]
pub struct Scratch {
    rhs: Vec<f32>,
    extra: Vec<f32>,
    cg: cg::Scratch,
}

/// One half of an ALS iteration: the rows of one side re-solved with the
/// other side (`other`, its Gram matrix `gram`) fixed.
pub struct HalfSweep<'a> {
    pub other: &'a Array2<f32>,
    pub gram: &'a [f32],
    /// Each row's interactions (columns index `other`).
    pub by_row: &'a Csr,
    pub params: &'a IalsParams,
    pub confidence: Confidence,
}

impl HalfSweep<'_> {
    /// Re-solves `rows[range]` from their interactions; rows with none are zero.
    pub fn solve_rows(&self, rows: &mut Array2<f32>, range: std::ops::Range<usize>, scratch: &mut Scratch) {
        let k = rows.ncols();
        let other = self.other.as_slice().expect("factor rows are contiguous");
        let all = rows.as_slice_mut().expect("factor rows are contiguous");
        for r in range {
            let (cols, values) = self.by_row.row(r);
            let x = &mut all[r * k..(r + 1) * k];
            if cols.is_empty() {
                x.fill(0.0);
                continue;
            }
            let mut extra = std::mem::take(&mut scratch.extra);
            extra.clear();
            extra.extend(values.iter().map(|&v| self.confidence.extra(v)));
            let system = RowSystem { gram: self.gram, other, k, reg: self.params.reg, cols, extra: &extra };
            system.solve(x, self.params.cg_steps as usize, 0.0, scratch);
            scratch.extra = extra;
        }
    }
}

/// Instant learning for the ranking model: user `u`'s row solved exactly
/// from `ratings` with the movies fixed (`gram` = YᵀY). No ratings: a zero row.
pub fn fold_in(model: &mut Model, gram: &[f32], p: &IalsParams, scale: Scale, u: u32, ratings: &[(u32, f32)]) {
    let k = model.factors();
    let mut x = vec![0f32; k];
    if !ratings.is_empty() {
        let cols: Vec<u32> = ratings.iter().map(|r| r.0).collect();
        let confidence = Confidence::new(p, scale);
        let extra: Vec<f32> = ratings.iter().map(|r| confidence.extra(r.1)).collect();
        let other = model.item_factors.as_slice().expect("factor rows are contiguous");
        let system = RowSystem { gram, other, k, reg: p.reg, cols: &cols, extra: &extra };
        system.rhs(&mut x);
        x = system.solve_exactly(&x);
    }
    model.user_row_mut(u).copy_from_slice(&x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::Algorithm;
    use crate::defaults;

    const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    #[test]
    fn gram_by_hand() {
        let a = Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(gram(&a), vec![10.0, 14.0, 14.0, 20.0]);
    }

    #[test]
    fn the_mirrored_gram_is_the_whole_product_to_the_bit() {
        let (rows, k) = (37, 9);
        let values = (0..rows * k).map(|i| ((i * 7919 % 113) as f32 - 56.0) / 17.0).collect();
        let a = Array2::from_shape_vec((rows, k), values).unwrap();
        let mut whole = vec![0f32; k * k];
        for row in a.rows() {
            for f in 0..k {
                for c in 0..k {
                    whole[f * k + c] += row[f] * row[c];
                }
            }
        }
        assert_eq!(gram(&a), whole);
    }

    #[test]
    fn confidence_rises_with_the_rating() {
        let mut p = defaults::ials();
        p.alpha = 2.0;
        p.rating_weight = 0.5;
        let c = Confidence::new(&p, SCALE);
        assert_eq!(c.extra(5.0), 2.0);
        assert_eq!(c.extra(1.0), 1.0);
        p.rating_weight = 0.0;
        assert_eq!(Confidence::new(&p, SCALE).extra(1.0), 2.0);
    }

    /// The fold-in solves the weighted least-squares normal equations: the
    /// gradient of the objective vanishes at the returned row.
    #[test]
    fn fold_in_solves_the_normal_equations() {
        let p = defaults::ials();
        let mut m = Model::empty(Algorithm::Ials(p), SCALE, 1, 4, 2, 0.0);
        m.item_factors = Array2::from_shape_vec((4, 2), vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.5, 0.9, 0.1]).unwrap();
        let g = gram(&m.item_factors);
        let ratings = [(0, 5.0), (2, 2.0)];
        fold_in(&mut m, &g, &p, SCALE, 0, &ratings);
        let x = m.user_row(0).to_vec();
        let c = Confidence::new(&p, SCALE);
        // ∇ = Σ_all c_i (x·y_i − p_i) y_i + λx, with c = 1 and p = 0 for unrated movies.
        let mut grad: Vec<f32> = x.iter().map(|v| p.reg * v).collect();
        for i in 0..4u32 {
            let (conf, target) = match ratings.iter().find(|r| r.0 == i) {
                Some(&(_, r)) => (1.0 + c.extra(r), 1.0),
                None => (1.0, 0.0),
            };
            let y = m.item_row(i);
            axpy(&mut grad, conf * (dot(&x, y) - target), y);
        }
        assert!(grad.iter().all(|g| g.abs() < 1e-4), "{grad:?}");
        // Watching movie 0 makes the nearby movie 3 likelier than the unwatched, opposite movie 2's neighbour 1.
        assert!(dot(&x, m.item_row(3)) > dot(&x, m.item_row(1)));
    }
}
