//! cinema-metrics: the evaluation metrics, defined exactly as in the
//! project README (and in the peer benchmark they are compared with). A
//! crate of its own, with no dependency, so the engine (the Lab's live
//! validation RMSE) and the app (held-out scoring) share one definition
//! without the app linking the engine.

use std::collections::{BTreeMap, HashSet};

/// Root mean squared and mean absolute error over `(prediction, truth)` pairs.
pub fn rmse_mae(pairs: impl IntoIterator<Item = (f32, f32)>) -> (f64, f64) {
    let (mut se, mut ae, mut n) = (0f64, 0f64, 0usize);
    for (p, t) in pairs {
        let e = (p - t) as f64;
        se += e * e;
        ae += e.abs();
        n += 1;
    }
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    ((se / n as f64).sqrt(), ae / n as f64)
}

/// Precision and recall at `k` over each user's own test movies: rank them
/// by prediction; relevant = truth ≥ `threshold`; recommended = the top `k`
/// with prediction ≥ `threshold`. Users count equally; a user with nothing
/// recommended (or nothing relevant) scores 0 on that measure.
pub fn rated_precision_recall(rows: impl IntoIterator<Item = (u32, f32, f32)>, k: usize, threshold: f32) -> (f64, f64) {
    let mut by_user: BTreeMap<u32, Vec<(f32, f32)>> = BTreeMap::new();
    for (u, p, t) in rows {
        by_user.entry(u).or_default().push((p, t));
    }
    let (mut precision, mut recall) = (0f64, 0f64);
    for rows in by_user.values_mut() {
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
        let relevant = rows.iter().filter(|r| r.1 >= threshold).count();
        let top = &rows[..k.min(rows.len())];
        let recommended = top.iter().filter(|r| r.0 >= threshold).count();
        let hits = top.iter().filter(|r| r.0 >= threshold && r.1 >= threshold).count();
        if recommended > 0 {
            precision += hits as f64 / recommended as f64;
        }
        if relevant > 0 {
            recall += hits as f64 / relevant as f64;
        }
    }
    let users = by_user.len().max(1) as f64;
    (precision / users, recall / users)
}

/// Top-`k` ranking quality over the whole catalogue, accumulated user by user.
#[derive(Debug, Default)]
pub struct Ranking {
    k: usize,
    precision: f64,
    recall: f64,
    ndcg: f64,
    judged_users: usize,
    shown: HashSet<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankingMetrics {
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    /// Share of the catalogue in at least one user's top `k`.
    pub coverage: f64,
}

impl Ranking {
    pub fn new(k: usize) -> Ranking {
        Ranking { k, ..Ranking::default() }
    }

    /// Adds one user's top list and the set of their relevant test movies.
    /// Users with no relevant movie count only towards coverage.
    pub fn add(&mut self, top: &[u32], relevant: &HashSet<u32>) {
        let top = &top[..self.k.min(top.len())];
        self.shown.extend(top.iter().copied());
        if relevant.is_empty() {
            return;
        }
        let hits: Vec<bool> = top.iter().map(|i| relevant.contains(i)).collect();
        let n_hits = hits.iter().filter(|h| **h).count() as f64;
        let gain = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
        let dcg: f64 = hits.iter().enumerate().filter(|(_, h)| **h).map(|(r, _)| gain(r)).sum();
        let idcg: f64 = (0..self.k.min(relevant.len())).map(gain).sum();
        self.precision += n_hits / self.k as f64;
        self.recall += n_hits / relevant.len() as f64;
        self.ndcg += dcg / idcg;
        self.judged_users += 1;
    }

    pub fn finish(&self, catalogue: usize) -> RankingMetrics {
        let n = self.judged_users.max(1) as f64;
        RankingMetrics {
            precision: self.precision / n,
            recall: self.recall / n,
            ndcg: self.ndcg / n,
            coverage: self.shown.len() as f64 / catalogue.max(1) as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmse_and_mae_by_hand() {
        let (rmse, mae) = rmse_mae([(3.0, 4.0), (5.0, 2.0)]);
        assert!((rmse - 5f64.sqrt()).abs() < 1e-12);
        assert_eq!(mae, 2.0);
    }

    #[test]
    fn rated_precision_recall_by_hand() {
        // User 0: predictions 4.5 (true 5), 4.0 (true 2), 3.0 (true 4), k = 2.
        // Recommended = {4.5, 4.0}; hits = 1 → P = 1/2; relevant = {5, 4} → R = 1/2.
        // User 1: one movie predicted 2.0 (true 1): nothing recommended, nothing relevant → 0, 0.
        let rows = [(0, 4.5, 5.0), (0, 4.0, 2.0), (0, 3.0, 4.0), (1, 2.0, 1.0)];
        assert_eq!(rated_precision_recall(rows, 2, 3.5), (0.25, 0.25));
    }

    #[test]
    fn ranking_by_hand() {
        let mut r = Ranking::new(3);
        // Hits at ranks 0 and 2 of 3; 2 relevant movies.
        r.add(&[10, 11, 12], &HashSet::from([10, 12]));
        r.add(&[13, 10, 14], &HashSet::new());
        let m = r.finish(10);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.recall, 1.0);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!((m.ndcg - dcg / idcg).abs() < 1e-12);
        assert_eq!(m.coverage, 5.0 / 10.0);
    }
}
