//! Fold-in: a user's bias and factors re-solved from their ratings with the
//! movie side held fixed — instant learning without retraining.
//!
//! With z_i = [1, q_i] and target y_i = r_ui − μ − b_i, the user's
//! x = [b_u, p_u] minimises Σ (y_i − x·z_i)² + λ_b b_u² + λ_p ‖p_u‖², the SGD
//! objective restricted to one user. That is a (k+1)-dimensional ridge
//! regression: (ZᵀZ + Λ) x = Zᵀy, solved by Cholesky.

use crate::model::Model;
use crate::protocol::ModelSpec;

/// Extra shrinkage so one or two ratings move a user decisively but not wildly.
const PRIOR: f32 = 1.0;

/// Sets user `u`'s bias and factors from `ratings` (`(item, value)` pairs).
/// No ratings: a neutral user (bias and factors zero), whose list is then the
/// items' own biases — popular-and-well-rated.
pub fn fold_in(model: &mut Model, u: u32, ratings: &[(u32, f32)]) {
    let k = model.factors();
    let n = ratings.len() as f32;
    // Diagonal shrinkage of [b_u, p_u]: the per-rating regularization of
    // SGD summed over the user's ratings, or the baseline's own shrinkage.
    let (shrink_bias, shrink_factors) = match model.spec {
        ModelSpec::Svd(p) => (p.reg_bias * n + PRIOR, p.reg * n + PRIOR),
        ModelSpec::Baseline(p) => (p.reg_user, PRIOR),
    };
    let d = k + 1;
    let mut a = vec![0f64; d * d];
    let mut b = vec![0f64; d];
    let mut z = vec![0f64; d];
    for &(i, r) in ratings {
        z[0] = 1.0;
        for (zf, &qf) in z[1..].iter_mut().zip(model.item_row(i)) {
            *zf = qf as f64;
        }
        let y = (r - model.global_mean - model.item_bias[i as usize]) as f64;
        for row in 0..d {
            let zr = z[row];
            b[row] += zr * y;
            for col in 0..=row {
                a[row * d + col] += zr * z[col];
            }
        }
    }
    a[0] += shrink_bias as f64;
    for f in 1..d {
        a[f * d + f] += shrink_factors as f64;
    }
    let x = solve_spd(&mut a, b, d);
    model.user_bias[u as usize] = x[0] as f32;
    for (pf, &xf) in model.user_row_mut(u).iter_mut().zip(&x[1..]) {
        *pf = xf as f32;
    }
}

/// Solves A x = b for symmetric positive-definite A (lower triangle given),
/// in place by Cholesky. The diagonal shrinkage keeps A well conditioned.
fn solve_spd(a: &mut [f64], mut b: Vec<f64>, d: usize) -> Vec<f64> {
    for j in 0..d {
        let mut diag = a[j * d + j];
        for k in 0..j {
            diag -= a[j * d + k] * a[j * d + k];
        }
        let l_jj = diag.max(1e-12).sqrt();
        a[j * d + j] = l_jj;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = s / l_jj;
        }
    }
    // L y = b, then Lᵀ x = y.
    for i in 0..d {
        let s: f64 = (0..i).map(|k| a[i * d + k] * b[k]).sum();
        b[i] = (b[i] - s) / a[i * d + i];
    }
    for i in (0..d).rev() {
        let s: f64 = (i + 1..d).map(|k| a[k * d + i] * b[k]).sum();
        b[i] = (b[i] - s) / a[i * d + i];
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;
    use crate::protocol::Scale;
    use ndarray::Array2;

    #[test]
    fn cholesky_solves_a_small_system() {
        // A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0].
        let mut a = vec![4.0, 0.0, 2.0, 3.0];
        let x = solve_spd(&mut a, vec![2.0, 1.0], 2);
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }

    fn model() -> Model {
        let mut m = Model::empty(ModelSpec::Svd(defaults::svd()), Scale { min: 1.0, max: 5.0 }, 2, 4, 2, 3.0);
        m.item_factors = Array2::from_shape_vec((4, 2), vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.9, 0.1]).unwrap();
        m
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
