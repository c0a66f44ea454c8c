//! Weighted Slope One (Lemire & Maclachlan 2005): how much more movie i is
//! rated than movie j, on average over the people who rated both (dev_ij,
//! over c_ij of them), predicts i from your rating of j;
//! `r̂_ui = Σ_j c_ij (dev_ij + r_uj) / Σ_j c_ij` over the movies you rated.
//!
//! Sparse: each movie keeps the `keep` movies it shares most raters with,
//! and a pair kept by either movie is kept by both, so a prediction reads
//! the same pairs from either side. One pass over the movies fits it, each
//! step a few movies: a movie's list is the pairs it kept (laid out as it
//! is visited) and those kept by others (appended as they are visited), so
//! no step lays out every pair at the end. Your ratings are the model's row
//! for you, so a rating you add counts at once, and a prediction is exactly
//! your mean plus each movie's part.

use cinema_protocol::{Decomposition, Role, Scale};
use serde::{Deserialize, Serialize};

use super::{Algo, Algorithm};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::{Viewer, decomposition};
use crate::ratings::RatingMatrix;
use crate::topn::TopN;

params! {
    /// Keeping 500 pairs per movie scores nearly as keeping them all on
    /// validation data (ML-100K u1–u5.base, 10 % held out: 0.9357 against
    /// 0.9353; 200 kept: 0.9380), at 12 bytes a pair, each kept both ways.
    pub struct SlopeOneParams {
        keep: u32 = 500, 1..=100_000, "movies kept per movie, those with the most raters in common";
    }
}

impl Algo for SlopeOneParams {
    const NAME: &'static str = "slopeone";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "weighted Slope One: average rating differences between movies";

    fn epochs(&self) -> u32 {
        1
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let ratings: Vec<Vec<(u32, f32)>> = (0..data.users as usize)
            .map(|u| {
                let (items, values) = data.by_user.row(u);
                items.iter().copied().zip(values.iter().copied()).collect()
            })
            .collect();
        let items = data.items as usize;
        let model = SlopeOne {
            spec: Algorithm::SlopeOne(self),
            scale,
            items: data.items,
            global_mean: data.global_mean,
            means: ratings.iter().map(|row| mean(row, data.global_mean)).collect(),
            ratings,
            offsets: vec![0],
            own: Vec::new(),
            others: vec![Vec::new(); items],
        };
        Ok(Box::new(Fitting { model, keep: self.keep, sums: vec![(0.0, 0); items] }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: SlopeOne = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.validate()?;
        Ok(Box::new(model))
    }
}

/// One kept pair seen from movie i: the other movie j, dev_ij and c_ij.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Pair {
    other: u32,
    deviation: f32,
    common: u32,
}

/// A trained Slope One.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopeOne {
    spec: Algorithm,
    scale: Scale,
    items: u32,
    global_mean: f32,
    /// Each user's ratings by movie, and their mean (the global mean for none).
    ratings: Vec<Vec<(u32, f32)>>,
    means: Vec<f32>,
    /// The pairs movie i kept are `own[offsets[i]..offsets[i + 1]]`, by
    /// other movie (movies not yet visited have none) …
    offsets: Vec<u32>,
    own: Vec<Pair>,
    /// … and `others[i]` those other movies kept and i did not, by other
    /// movie (they are visited in order): together, i's pairs, each once.
    others: Vec<Vec<Pair>>,
}

fn mean(row: &[(u32, f32)], otherwise: f32) -> f32 {
    if row.is_empty() { otherwise } else { row.iter().map(|r| r.1).sum::<f32>() / row.len() as f32 }
}

impl SlopeOne {
    /// The pairs movie i kept (empty until it is visited).
    fn own_of(&self, i: u32) -> &[Pair] {
        match (self.offsets.get(i as usize), self.offsets.get(i as usize + 1)) {
            (Some(&from), Some(&to)) => &self.own[from as usize..to as usize],
            _ => &[],
        }
    }

    /// Every pair of movie i, each once: those it kept, then those others kept.
    fn pairs_of(&self, i: u32) -> impl Iterator<Item = &Pair> {
        self.own_of(i).iter().chain(&self.others[i as usize])
    }

    fn pair(&self, i: u32, j: u32) -> Option<&Pair> {
        let find = |pairs: &[Pair]| pairs.binary_search_by_key(&j, |p| p.other).ok();
        let (own, others) = (self.own_of(i), &self.others[i as usize]);
        find(own).map(|at| &own[at]).or_else(|| find(others).map(|at| &others[at]))
    }

    /// `(movie, rating, weight, dev + rating)` for each movie `u` rated that
    /// shares raters with `i`.
    fn terms(&self, u: u32, i: u32) -> Vec<(u32, f32, f32, f32)> {
        let row = &self.ratings[u as usize];
        row.iter()
            .filter_map(|&(j, r)| {
                let p = self.pair(i, j)?;
                Some((j, r, p.common as f32, p.deviation + r))
            })
            .collect()
    }

    fn validate(&self) -> Result<(), EngineError> {
        let bad = |why: &str| Err(EngineError::BadModel(format!("slopeone: {why}")));
        let n = self.items as usize;
        if self.offsets.len() != n + 1
            || self.offsets[0] != 0
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || self.offsets[n] as usize != self.own.len()
            || self.others.len() != n
        {
            return bad("the pair lists are malformed");
        }
        let sorted = |pairs: &[Pair]| pairs.windows(2).all(|w| w[0].other < w[1].other);
        let sound = |p: &Pair| p.other < self.items && p.deviation.is_finite() && p.common > 0;
        let lists = (0..self.items).flat_map(|i| [self.own_of(i), &self.others[i as usize][..]]);
        if !lists.clone().all(sorted) || !lists.flatten().all(sound) {
            return bad("a pair is out of range or not a number");
        }
        let row_ok = |row: &Vec<(u32, f32)>| {
            row.windows(2).all(|w| w[0].0 < w[1].0) && row.iter().all(|&(j, r)| j < self.items && r.is_finite())
        };
        if self.ratings.len() != self.means.len() || !self.ratings.iter().all(row_ok) {
            return bad("the ratings are malformed");
        }
        if !self.means.iter().all(|m| m.is_finite()) || !self.global_mean.is_finite() {
            return bad("a mean is not a number");
        }
        Ok(())
    }
}

impl RatingModel for SlopeOne {
    fn algorithm(&self) -> Algorithm {
        self.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.scale
    }

    fn users(&self) -> u32 {
        self.ratings.len() as u32
    }

    fn items(&self) -> u32 {
        self.items
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        let terms = self.terms(u, i);
        let weight: f32 = terms.iter().map(|t| t.2).sum();
        if weight > 0.0 { terms.iter().map(|t| t.2 * t.3).sum::<f32>() / weight } else { self.means[u as usize] }
    }

    /// Each movie you rated spreads its part over its pairs (pairs are kept
    /// both ways, so this is the sum [`RatingModel::score`] makes).
    fn scores(&self, u: u32) -> Vec<f32> {
        let (mut num, mut weight) = (vec![0f32; self.items as usize], vec![0f32; self.items as usize]);
        for &(j, r) in &self.ratings[u as usize] {
            for p in self.pairs_of(j) {
                let c = p.common as f32;
                // dev_ij = −dev_ji.
                num[p.other as usize] += c * (r - p.deviation);
                weight[p.other as usize] += c;
            }
        }
        let mean = self.means[u as usize];
        num.iter().zip(&weight).map(|(&n, &w)| if w > 0.0 { n / w } else { mean }).collect()
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        let mut row = ratings.to_vec();
        row.sort_unstable_by_key(|r| r.0);
        row.dedup_by_key(|r| r.0);
        self.means[u as usize] = mean(&row, self.global_mean);
        self.ratings[u as usize] = row;
    }

    /// Exact: your mean, then each rated movie's weighted part.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let (u, mean) = (viewer.user, self.means[viewer.user as usize]);
        let terms = self.terms(u, item);
        let weight: f32 = terms.iter().map(|t| t.2).sum();
        let parts = terms.iter().map(|&(j, r, c, term)| (j, r, c / weight * (term - mean))).collect();
        decomposition(mean, parts, self.score(u, item), true)
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

struct Fitting {
    model: SlopeOne,
    keep: u32,
    /// Per other movie: Σ (r_ui − r_uj) and the raters in common, for the
    /// movie being visited.
    sums: Vec<(f32, u32)>,
}

impl Fit for Fitting {
    /// Movies in order (the next is the one past those laid out), until
    /// their co-ratings add up to the budget.
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        let mut work = 0u64;
        let next = |f: &Fitting| f.model.offsets.len() as u32 - 1;
        while work < budget.max(1) && next(self) < data.items {
            let i = next(self);
            work += data.co_ratings(i);
            self.visit(data, i);
        }
        Step { work, epoch_done: next(self) == data.items, squared_error: None }
    }

    /// In co-ratings (see [`RatingMatrix::co_ratings`]).
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

impl Fitting {
    /// Movie i's `keep` pairs with the most raters in common.
    fn visit(&mut self, data: &RatingMatrix, i: u32) {
        let mut touched = Vec::new();
        let (raters, values) = data.by_item.row(i as usize);
        for (&u, &r_i) in raters.iter().zip(values) {
            let (items, values) = data.by_user.row(u as usize);
            for (&j, &r_j) in items.iter().zip(values) {
                let s = &mut self.sums[j as usize];
                if j != i {
                    if s.1 == 0 {
                        touched.push(j);
                    }
                    *s = (s.0 + r_i - r_j, s.1 + 1);
                }
            }
        }
        let mut top = TopN::new(self.keep as usize);
        for &j in &touched {
            // Most raters in common first; ties by the lower movie number.
            top.push(j, self.sums[j as usize].1 as f32 - j as f32 / (data.items as f32 + 1.0));
        }
        let mut kept: Vec<u32> = top.into_sorted().into_iter().map(|(j, _)| j).collect();
        kept.sort_unstable();
        let model = &mut self.model;
        for j in kept {
            // A movie visited before that kept i holds the pair already (and
            // i has it among its others).
            if j < i && model.own_of(j).binary_search_by_key(&i, |p| p.other).is_ok() {
                continue;
            }
            let (sum, common) = self.sums[j as usize];
            let deviation = sum / common as f32;
            model.own.push(Pair { other: j, deviation, common });
            // dev_ji = −dev_ij; i grows, so j's others stay in order.
            model.others[j as usize].push(Pair { other: i, deviation: -deviation, common });
        }
        model.offsets.push(model.own.len() as u32);
        for j in touched {
            self.sums[j as usize] = (0.0, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::{SCALE, three_by_three};

    fn trained(keep: u32) -> Box<dyn RatingModel> {
        let data = three_by_three();
        let mut t = Training::start(Algorithm::SlopeOne(SlopeOneParams { keep }), &data, SCALE).unwrap();
        while !t.step(&data, &[], 1).finished {}
        t.finish().unwrap()
    }

    /// 3 × 3 by hand: user 0 rated 0 (5) and 1 (3); movie 2 shares user 1
    /// with movie 0 (dev_20 = 1 − 4 = −3) and user 2 with movie 1
    /// (dev_21 = 3 − 2 = 1), one rater each: r̂ = ((−3 + 5) + (1 + 3)) / 2 = 3.
    #[test]
    fn predicts_the_hand_computed_weighted_average() {
        let model = trained(10);
        assert_eq!(model.score(0, 2), 3.0);
        let row = model.scores(0);
        assert_eq!(row[2], 3.0);
        let d = model.explain(&Viewer { user: 0, ratings: &[(0, 5.0), (1, 3.0)], marks: &[], folded: false }, 2);
        assert!(d.exact && (d.total - 3.0).abs() < 1e-6 && d.baseline == 4.0, "{d:?}");
    }

    /// With one pair kept per movie, a pair kept by either movie still
    /// reads the same from both sides, so the row and the single score agree.
    #[test]
    fn a_pair_kept_by_either_movie_is_kept_by_both() {
        let mut model = trained(1);
        model.fold_in(1, &[(1, 4.0)]);
        let row = model.scores(1);
        for i in 0..3 {
            assert!((row[i as usize] - model.score(1, i)).abs() < 1e-6, "{row:?}");
        }
        let back = SlopeOneParams::decode(&model.encode()).unwrap();
        assert_eq!(back.scores(1), row);
        let mut broken: SlopeOne = postcard::from_bytes(&model.encode()).unwrap();
        broken.own[0].other = 7;
        assert!(SlopeOneParams::decode(&postcard::to_stdvec(&broken).unwrap()).is_err());
        // An inverted scale (what the fuzzer found) is refused at the door.
        let mut inverted: SlopeOne = postcard::from_bytes(&model.encode()).unwrap();
        inverted.scale = Scale { min: -1e-14, max: -2e30 };
        let Err(EngineError::BadModel(m)) = Algorithm::decode("slopeone", &postcard::to_stdvec(&inverted).unwrap())
        else {
            panic!("an inverted scale is refused")
        };
        assert!(m.contains("rating scale"), "{m}");
    }
}
