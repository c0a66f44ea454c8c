//! Conjugate gradients for the small symmetric positive-definite systems of
//! fold-in and ALS (k + 1 unknowns at most), applied through a closure so
//! the matrix is never formed: each caller's `A·v` is a pass over one
//! user's or movie's ratings.

use crate::kernels::{axpy, dot};

/// Buffers reused across solves so a sweep allocates nothing per row.
#[derive(Debug, Default)]
pub struct Scratch {
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
}

impl Scratch {
    /// The residual buffer for [`iterate`], `n` long (its contents are the caller's to fill).
    pub fn residual(&mut self, n: usize) -> &mut [f32] {
        for v in [&mut self.r, &mut self.p, &mut self.ap] {
            v.resize(n, 0.0);
        }
        &mut self.r
    }
}

/// Improves `x` towards the solution of `A x = b` by at most `steps`
/// iterations, warm-started from `x`; stops once ‖b − Ax‖ ≤ `tolerance`·‖b‖.
pub fn solve(
    mut apply: impl FnMut(&[f32], &mut [f32]),
    b: &[f32],
    x: &mut [f32],
    steps: usize,
    tolerance: f32,
    scratch: &mut Scratch,
) {
    scratch.residual(b.len());
    apply(x, &mut scratch.ap);
    for ((r, b), ap) in scratch.r.iter_mut().zip(b).zip(&scratch.ap) {
        *r = b - ap;
    }
    iterate(apply, x, steps, tolerance * tolerance * dot(b, b).max(1e-12), scratch);
}

/// At most `steps` iterations from `x`, whose residual `b − Ax` the caller
/// has written into [`Scratch::residual`] (a caller that can form it in
/// one pass with the right-hand side saves a product with A); stops once
/// ‖b − Ax‖² ≤ `stop`.
pub fn iterate(
    mut apply: impl FnMut(&[f32], &mut [f32]),
    x: &mut [f32],
    steps: usize,
    stop: f32,
    scratch: &mut Scratch,
) {
    let Scratch { r, p, ap } = scratch;
    p.copy_from_slice(r);
    let mut rs = dot(r, r);
    for _ in 0..steps {
        if rs <= stop {
            break;
        }
        apply(p, ap);
        let curvature = dot(p, ap);
        if curvature <= 0.0 || !curvature.is_finite() {
            break;
        }
        let alpha = rs / curvature;
        axpy(x, alpha, p);
        axpy(r, -alpha, ap);
        let rs_next = dot(r, r);
        let beta = rs_next / rs;
        for (pf, &rf) in p.iter_mut().zip(r.iter()) {
            *pf = rf + beta * *pf;
        }
        rs = rs_next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system_exactly() {
        // A = [[4, 1], [1, 3]], b = [1, 2] → x = [1/11, 7/11].
        let apply = |v: &[f32], out: &mut [f32]| {
            out[0] = 4.0 * v[0] + v[1];
            out[1] = v[0] + 3.0 * v[1];
        };
        let mut x = [0.0, 0.0];
        solve(apply, &[1.0, 2.0], &mut x, 10, 1e-6, &mut Scratch::default());
        assert!((x[0] - 1.0 / 11.0).abs() < 1e-6 && (x[1] - 7.0 / 11.0).abs() < 1e-6, "{x:?}");
    }
}
