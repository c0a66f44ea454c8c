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
//! and the same with the roles swapped. YᵀY + λI is shared by every row of
//! a sweep, so each sweep first whitens it ([`Whitening`]): in that basis a
//! row's conjugate-gradient step costs O(n_u·k), not the k² of multiplying
//! by YᵀY (the `cg` solver of Takács et al. 2011, as in implicit, then
//! costs k² per row twice, not once per step), and the steps are
//! preconditioned by YᵀY + λI, so they converge faster. Scores x_u·y_i are
//! a likelihood of watching, not stars: a movie almost nobody watched
//! cannot top a list on an inflated bias.
//!
//! The ranking model is a [`Model`] with zero biases and mean, so it is
//! exported, indexed for top-N ([`crate::retrieval`]) and ranked like any
//! other; only its training and fold-in differ.

use ndarray::Array2;

use crate::algorithms::IalsParams;
use crate::cg;
use crate::kernels::{axpy, axpy_rows, dot};
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

/// Rows of `A` added into the Gram matrix per pass over it.
const GRAM_BLOCK: usize = 32;

/// `G = AᵀA` of a row-major `rows × k` matrix, as `k × k` row-major.
pub fn gram(a: &Array2<f32>) -> Vec<f32> {
    let k = a.ncols();
    let mut g = vec![0f32; k * k];
    let mut column: Vec<f32> = Vec::with_capacity(GRAM_BLOCK);
    // The upper triangle only, then mirrored: half the work, and the same
    // floats as the whole (each entry sums the same products in the same
    // order, row after row), a block of rows per pass over G.
    for block in a.as_slice().expect("factor rows are contiguous").chunks(GRAM_BLOCK * k) {
        let rows = block.len() / k;
        for f in 0..k {
            column.clear();
            column.extend((0..rows).map(|r| block[r * k + f]));
            axpy_rows(&mut g[f * k + f..(f + 1) * k], &column, &block[f..], k);
        }
    }
    for f in 0..k {
        for c in f + 1..k {
            g[c * k + f] = g[f * k + c];
        }
    }
    g
}

/// `G + λI = L·Lᵀ` (Cholesky) of one sweep, and `L⁻¹`. With `x = L⁻ᵀz`
/// and `ỹ = L⁻¹y` a row's system `(G + λI + Σ_j e_j y_j y_jᵀ) x = Σ_j c_j y_j`
/// becomes `(I + Σ_j e_j ỹ_j ỹ_jᵀ) z = Σ_j c_j ỹ_j`: the shared part is the
/// identity. Conjugate gradients on it are, in the old coordinates, CG
/// preconditioned by `G + λI`, so a row with n interactions is solved
/// exactly in n + 1 steps.
#[derive(Debug, Clone, Default)]
pub struct Whitening {
    k: usize,
    /// `L`, lower triangular, row-major.
    l: Vec<f32>,
    /// `L⁻¹`, lower triangular, row-major.
    inv: Vec<f32>,
}

impl Whitening {
    /// Of the `k × k` Gram matrix `gram` plus `reg`·I (positive definite as
    /// `reg` > 0). In f64: k³/3 operations once a sweep, and the rows' floats
    /// do not inherit the factorisation's rounding.
    pub fn new(gram: &[f32], k: usize, reg: f32) -> Whitening {
        let mut l = vec![0f64; k * k];
        for i in 0..k {
            for j in 0..=i {
                let shift = if i == j { f64::from(reg) } else { 0.0 };
                let s = f64::from(gram[i * k + j]) + shift - (0..j).map(|c| l[i * k + c] * l[j * k + c]).sum::<f64>();
                l[i * k + j] = if i == j { s.max(f64::MIN_POSITIVE).sqrt() } else { s / l[j * k + j] };
            }
        }
        let mut inv = vec![0f64; k * k];
        for c in 0..k {
            inv[c * k + c] = 1.0 / l[c * k + c];
            for i in c + 1..k {
                let s: f64 = (c..i).map(|m| l[i * k + m] * inv[m * k + c]).sum();
                inv[i * k + c] = -s / l[i * k + i];
            }
        }
        let narrow = |m: Vec<f64>| m.into_iter().map(|v| v as f32).collect();
        Whitening { k, l: narrow(l), inv: narrow(inv) }
    }

    /// `ỹ = L⁻¹y`: a row of the side held fixed, in the new basis.
    pub fn whiten(&self, y: &[f32], out: &mut [f32]) {
        let k = self.k;
        for (i, o) in out.iter_mut().enumerate() {
            *o = dot(&self.inv[i * k..i * k + i + 1], &y[..=i]);
        }
    }

    /// `z = Lᵀx = Σ_c x_c·(L row c)`: a solved row's warm start, in the new basis.
    fn to_basis(&self, x: &[f32], z: &mut [f32]) {
        z.fill(0.0);
        for (c, &xc) in x.iter().enumerate() {
            axpy(&mut z[..=c], xc, &self.l[c * self.k..c * self.k + c + 1]);
        }
    }

    /// `x = L⁻ᵀz = Σ_c z_c·(L⁻¹ row c)`: a solved row, back in the model's basis.
    fn back_from_basis(&self, z: &[f32], x: &mut [f32]) {
        x.fill(0.0);
        for (c, &zc) in z.iter().enumerate() {
            axpy(&mut x[..=c], zc, &self.inv[c * self.k..c * self.k + c + 1]);
        }
    }
}

/// The linear system of one row: `A v = S v + Σ_j e_j (y_j·v) y_j`, with
/// `e_j` = c − 1 of each interaction `j`, `y_j` a row of `other` and `S`
/// the part every row shares.
pub struct RowSystem<'a> {
    /// `S = G + λI` as `(G, λ)`; `None`: `S = I`, as `other` is whitened
    /// ([`Whitening`]).
    pub shared: Option<(&'a [f32], f32)>,
    pub other: &'a [f32],
    pub k: usize,
    pub cols: &'a [u32],
    pub extra: &'a [f32],
}

impl RowSystem<'_> {
    fn row(&self, j: u32) -> &[f32] {
        &self.other[j as usize * self.k..(j as usize + 1) * self.k]
    }

    fn apply(&self, v: &[f32], out: &mut [f32]) {
        let k = self.k;
        match self.shared {
            Some((gram, reg)) => {
                for (f, o) in out.iter_mut().enumerate() {
                    *o = dot(&gram[f * k..(f + 1) * k], v) + reg * v[f];
                }
            }
            None => out.copy_from_slice(v),
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
    z: Vec<f32>,
    cg: cg::Scratch,
}

/// One half of an ALS iteration: the rows of one side re-solved with the
/// other side fixed, given whitened (`whitened`, by `whitening`).
pub struct HalfSweep<'a> {
    /// The other side's rows, `L⁻¹y` each, row-major.
    pub whitened: &'a [f32],
    pub whitening: &'a Whitening,
    /// Each row's interactions (columns index the other side).
    pub by_row: &'a Csr,
    pub params: &'a IalsParams,
    pub confidence: Confidence,
}

impl HalfSweep<'_> {
    /// Re-solves `rows[range]` from their interactions, warm-started from
    /// their values; rows with none are zero.
    pub fn solve_rows(&self, rows: &mut Array2<f32>, range: std::ops::Range<usize>, scratch: &mut Scratch) {
        let k = rows.ncols();
        let all = rows.as_slice_mut().expect("factor rows are contiguous");
        let (mut extra, mut z) = (std::mem::take(&mut scratch.extra), std::mem::take(&mut scratch.z));
        z.resize(k, 0.0);
        for r in range {
            let (cols, values) = self.by_row.row(r);
            let x = &mut all[r * k..(r + 1) * k];
            if cols.is_empty() {
                x.fill(0.0);
                continue;
            }
            extra.clear();
            extra.extend(values.iter().map(|&v| self.confidence.extra(v)));
            let system = RowSystem { shared: None, other: self.whitened, k, cols, extra: &extra };
            self.whitening.to_basis(x, &mut z);
            system.solve(&mut z, self.params.cg_steps as usize, 0.0, scratch);
            self.whitening.back_from_basis(&z, x);
        }
        (scratch.extra, scratch.z) = (extra, z);
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
        let system = RowSystem { shared: Some((gram, p.reg)), other, k, cols: &cols, extra: &extra };
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

    /// A deterministic `rows × k` matrix of values in about [-3, 3].
    fn matrix(rows: usize, k: usize, seed: usize) -> Array2<f32> {
        let values = (0..rows * k).map(|i| (((i + seed) * 7919 % 113) as f32 - 56.0) / 19.0).collect();
        Array2::from_shape_vec((rows, k), values).unwrap()
    }

    #[test]
    fn the_whitening_factors_the_shared_matrix_and_inverts_its_factor() {
        let (k, reg) = (7, 2.5);
        let g = gram(&matrix(30, k, 3));
        let w = Whitening::new(&g, k, reg);
        for i in 0..k {
            for j in 0..k {
                let llt: f32 = (0..k).map(|c| w.l[i * k + c] * w.l[j * k + c]).sum();
                let want = g[i * k + j] + if i == j { reg } else { 0.0 };
                assert!((llt - want).abs() <= 1e-4 * want.abs().max(1.0), "LLᵀ[{i}][{j}] = {llt}, want {want}");
                let id: f32 = (0..k).map(|c| w.inv[i * k + c] * w.l[c * k + j]).sum();
                assert!((id - f32::from(i == j)).abs() < 1e-5, "L⁻¹L[{i}][{j}] = {id}");
            }
        }
        // Into the basis and out again is the identity.
        let x: Vec<f32> = (0..k).map(|f| f as f32 - 3.0).collect();
        let (mut z, mut back) = (vec![0.0; k], vec![0.0; k]);
        w.to_basis(&x, &mut z);
        w.back_from_basis(&z, &mut back);
        assert!(x.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-4), "{x:?} → {back:?}");
    }

    /// A whitened half-sweep solves each row's own normal equations: exactly
    /// in n + 1 steps for a row with n interactions (the preconditioner is
    /// the shared part), and every row once the steps are many.
    #[test]
    fn a_whitened_half_sweep_solves_each_rows_normal_equations() {
        let (k, items) = (6, 40);
        let other = matrix(items, k, 11);
        // Row r rates items r, r + 7, r + 14, … (r + 1 of them, the last rows many).
        let triples: Vec<(u32, u32, f32)> = (0..12u32)
            .flat_map(|r| (0..=r).map(move |j| (r, (r + 7 * j) % items as u32, 1.0 + (j % 5) as f32)))
            .collect();
        let data = crate::ratings::RatingMatrix::new(12, items as u32, &triples);
        let confidence = Confidence::new(&defaults::ials(), SCALE);
        let g = gram(&other);
        let fixed = other.as_slice().unwrap();
        for steps in [3, 2 * k as u32] {
            let mut p = defaults::ials();
            (p.cg_steps, p.reg) = (steps, 4.0);
            let whitening = Whitening::new(&g, k, p.reg);
            let mut whitened = vec![0.0; fixed.len()];
            for (y, out) in fixed.chunks(k).zip(whitened.chunks_mut(k)) {
                whitening.whiten(y, out);
            }
            let half =
                HalfSweep { whitened: &whitened, whitening: &whitening, by_row: &data.by_user, params: &p, confidence };
            let mut rows = matrix(12, k, 5);
            half.solve_rows(&mut rows, 0..12, &mut Scratch::default());
            for r in 0..12 {
                let (cols, values) = data.by_user.row(r);
                let extra: Vec<f32> = values.iter().map(|&v| confidence.extra(v)).collect();
                let exact = RowSystem { shared: Some((&g, p.reg)), other: fixed, k, cols, extra: &extra };
                let mut b = Vec::new();
                exact.rhs(&mut b);
                let want = exact.solve_exactly(&b);
                let solved = cols.len() < steps as usize || steps as usize > k;
                let close = rows.row(r).iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-3 * b.abs().max(1.0));
                assert!(
                    !solved || close,
                    "row {r} ({} ratings, {steps} steps): {:?} vs {want:?}",
                    cols.len(),
                    rows.row(r)
                );
            }
        }
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
