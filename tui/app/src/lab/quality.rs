//! How good a model's predictions are, beyond one RMSE: the actual-vs-
//! predicted grid, the distribution of errors, the predicted and true
//! rating distributions, and the MAE for each true rating. Computed once
//! from the held-out `(true, predicted)` pairs; the Lab draws it.

use cinema_store::dataset::RatingScale;

/// Edges of the error histogram's middle bins (prediction − truth, in
/// stars); the first and last bins are open-ended.
pub const ERROR_EDGES: [f64; 6] = [-1.25, -0.75, -0.25, 0.25, 0.75, 1.25];

#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// The scale's values, low to high.
    pub values: Vec<f32>,
    /// `grid[t][p]`: ratings whose true value is `values[t]` and whose
    /// prediction rounds to `values[p]`.
    pub grid: Vec<Vec<u64>>,
    /// Counts per error bin (see [`ERROR_EDGES`]): 7 bins.
    pub errors: Vec<u64>,
    /// Per value: how many true ratings, how many rounded predictions.
    pub true_counts: Vec<u64>,
    pub predicted_counts: Vec<u64>,
    /// Per true value: the mean absolute error (NaN when none).
    pub mae: Vec<f64>,
    pub total: u64,
}

impl Quality {
    pub fn new(pairs: &[(f32, f32)], scale: RatingScale) -> Quality {
        let steps = ((scale.max - scale.min) / scale.step).round() as usize + 1;
        let values: Vec<f32> = (0..steps).map(|i| scale.min + i as f32 * scale.step).collect();
        let slot = |x: f32| (((x - scale.min) / scale.step).round().max(0.0) as usize).min(steps - 1);
        let mut q = Quality {
            grid: vec![vec![0; steps]; steps],
            errors: vec![0; ERROR_EDGES.len() + 1],
            true_counts: vec![0; steps],
            predicted_counts: vec![0; steps],
            mae: vec![0.0; steps],
            total: 0,
            values,
        };
        for &(truth, predicted) in pairs.iter().filter(|(t, p)| t.is_finite() && p.is_finite()) {
            let (t, p) = (slot(truth), slot(predicted));
            q.grid[t][p] += 1;
            q.true_counts[t] += 1;
            q.predicted_counts[p] += 1;
            let error = f64::from(predicted - truth);
            q.mae[t] += error.abs();
            q.errors[ERROR_EDGES.iter().take_while(|&&edge| error >= edge).count()] += 1;
            q.total += 1;
        }
        for (sum, &n) in q.mae.iter_mut().zip(&q.true_counts) {
            *sum = if n == 0 { f64::NAN } else { *sum / n as f64 };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_where_they_belong() {
        let pairs = [(5.0, 4.6), (5.0, 3.2), (1.0, 1.1), (3.0, 3.0), (4.0, f32::NAN)];
        let q = Quality::new(&pairs, RatingScale::WHOLE_STARS);
        assert_eq!(q.values, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(q.total, 4);
        assert_eq!(q.grid[4][4], 1, "4.6 rounds to 5");
        assert_eq!(q.grid[4][2], 1, "3.2 rounds to 3");
        assert_eq!(q.true_counts, vec![1, 0, 1, 0, 2]);
        assert_eq!(q.predicted_counts, vec![1, 0, 2, 0, 1]);
        assert!((q.mae[4] - (0.4 + 1.8) / 2.0).abs() < 1e-6);
        assert!(q.mae[1].is_nan());
        // Errors: -0.4 → bin 2, -1.8 → bin 0, +0.1 and 0 → bin 3.
        assert_eq!(q.errors, vec![1, 0, 1, 2, 0, 0, 0]);
        let half = Quality::new(&[(4.5, 4.4)], RatingScale::HALF_STARS);
        assert_eq!(half.values.len(), 10);
        assert_eq!(half.grid[8][8], 1);
    }
}
