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

/// What a list is beside accurate, over the same top lists as [`Ranking`]:
/// how unfamiliar its movies are, how unlike each other, how close its
/// genre mix is to the viewer's, and how evenly the lists spread over the
/// catalogue. Genres are bit sets (bit g: genre g), as datasets store them.
#[derive(Debug)]
pub struct BeyondAccuracy {
    lists: usize,
    novelty: f64,
    diversity: f64,
    calibrated: usize,
    miscalibration: f64,
    /// Times each movie was recommended.
    shown: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BeyondMetrics {
    /// Mean self-information of a recommended movie, −log₂ of the share of
    /// training users who rated it (bits; higher is less familiar).
    pub novelty: f64,
    /// Mean over lists of the mean pairwise genre distance, 1 − cosine of
    /// the movies' genre sets (0: all alike; a movie without genres is
    /// unlike every other).
    pub intra_list_diversity: f64,
    /// Mean over viewers with a genre mix of KL(p ‖ q̃) (Steck 2018): p the
    /// mix of the movies they liked, q the list's, q̃ = 0.99·q + 0.01·p
    /// (nats; 0 is a list with the viewer's own mix).
    pub miscalibration: f64,
    /// Gini index of how often each movie of the catalogue is recommended
    /// (0: all equally often; towards 1: a few movies in every list).
    pub gini: f64,
}

/// Steck's α: how much of the viewer's own mix the list's is blended with,
/// so a genre the list lacks costs a finite amount.
const CALIBRATION_ALPHA: f64 = 0.01;

/// A list's or a history's genre mix (Steck 2018): each movie spreads one
/// unit evenly over its genres, normalised; `None` if no movie has a genre.
pub fn genre_mix(movies: impl IntoIterator<Item = u32>, genres: &[u32]) -> Option<[f64; 32]> {
    let mut mix = [0f64; 32];
    for i in movies {
        let set = genres[i as usize];
        let share = 1.0 / f64::from(set.count_ones().max(1));
        (0..32).filter(|g| set >> g & 1 == 1).for_each(|g| mix[g] += share);
    }
    let total: f64 = mix.iter().sum();
    (total > 0.0).then(|| mix.map(|m| m / total))
}

impl BeyondAccuracy {
    pub fn new(catalogue: usize) -> BeyondAccuracy {
        BeyondAccuracy {
            lists: 0,
            novelty: 0.0,
            diversity: 0.0,
            calibrated: 0,
            miscalibration: 0.0,
            shown: vec![0; catalogue],
        }
    }

    /// Adds one viewer's top list. `popularity[i]` is the share of training
    /// users who rated movie `i`, `genres[i]` its genres, `taste` the
    /// viewer's [`genre_mix`] (`None`: not counted in miscalibration).
    pub fn add(&mut self, top: &[u32], popularity: &[f64], genres: &[u32], taste: Option<&[f64; 32]>) {
        if top.is_empty() {
            return;
        }
        self.lists += 1;
        let floor = popularity.iter().copied().filter(|&p| p > 0.0).fold(1.0, f64::min);
        let bits: f64 = top.iter().map(|&i| -popularity[i as usize].max(floor).log2()).sum();
        self.novelty += bits / top.len() as f64;
        let (mut distance, mut pairs) = (0.0, 0usize);
        for (a, &i) in top.iter().enumerate() {
            for &j in &top[a + 1..] {
                let (x, y) = (genres[i as usize], genres[j as usize]);
                let norm = f64::from(x.count_ones() * y.count_ones()).sqrt();
                distance += if norm > 0.0 { 1.0 - f64::from((x & y).count_ones()) / norm } else { 1.0 };
                pairs += 1;
            }
        }
        if pairs > 0 {
            self.diversity += distance / pairs as f64;
        }
        if let Some(p) = taste {
            let q = genre_mix(top.iter().copied(), genres).unwrap_or([0.0; 32]);
            let kl: f64 = (0..32)
                .filter(|&g| p[g] > 0.0)
                .map(|g| p[g] * (p[g] / ((1.0 - CALIBRATION_ALPHA) * q[g] + CALIBRATION_ALPHA * p[g])).ln())
                .sum();
            self.miscalibration += kl;
            self.calibrated += 1;
        }
        top.iter().for_each(|&i| self.shown[i as usize] += 1);
    }

    pub fn finish(&self) -> BeyondMetrics {
        let lists = self.lists.max(1) as f64;
        let mut counts = self.shown.clone();
        counts.sort_unstable();
        let (n, total) = (counts.len() as f64, counts.iter().sum::<u64>() as f64);
        let weighted: f64 = counts.iter().enumerate().map(|(k, &c)| (2.0 * (k + 1) as f64 - n - 1.0) * c as f64).sum();
        BeyondMetrics {
            novelty: self.novelty / lists,
            intra_list_diversity: self.diversity / lists,
            miscalibration: self.miscalibration / self.calibrated.max(1) as f64,
            gini: if total > 0.0 { weighted / (n * total) } else { 0.0 },
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

    #[test]
    fn beyond_accuracy_by_hand() {
        // Four movies: 0 and 1 Action (bit 0), 2 Comedy (bit 1), 3 both.
        let genres = [0b01, 0b01, 0b10, 0b11];
        let popularity = [0.5, 0.25, 0.125, 0.0];
        let mut b = BeyondAccuracy::new(4);
        // An Action fan gets [0, 2]: 1 and 3 bits (mean 2); genres disjoint (distance 1).
        let taste = genre_mix([0, 1], &genres).unwrap();
        assert_eq!(taste[..2], [1.0, 0.0]);
        b.add(&[0, 2], &popularity, &genres, Some(&taste));
        // [0, 1]: the same genre (distance 0), 1 and 2 bits; no taste given.
        b.add(&[0, 1], &popularity, &genres, None);
        let m = b.finish();
        assert!((m.novelty - (2.0 + 1.5) / 2.0).abs() < 1e-12, "{m:?}");
        assert!((m.intra_list_diversity - 0.5).abs() < 1e-12, "{m:?}");
        // p = (1, 0), q = (½, ½): KL = ln(1 / (0.99·½ + 0.01)).
        assert!((m.miscalibration - (1.0 / 0.505f64).ln()).abs() < 1e-12, "{m:?}");
        // Shown counts sorted [0, 1, 1, 2] over 4 movies: (−3·0 − 1·1 + 1·1 + 3·2) / (4·4).
        assert!((m.gini - 6.0 / 16.0).abs() < 1e-12, "{m:?}");
        // A movie no one rated counts as the rarest rated one; one with no genres is unlike all.
        let mut c = BeyondAccuracy::new(4);
        c.add(&[3, 2], &popularity, &[0, 0, 0, 0], None);
        assert_eq!(c.finish().novelty, 3.0);
        assert_eq!(c.finish().intra_list_diversity, 1.0);
    }
}
