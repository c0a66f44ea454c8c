//! A fitted blend: `r̂ = w_0 + Σ_m w_m r̂_m` over rating models of the
//! registry (each with its defaults), the weights fitted by ridge least
//! squares on a slice carved from the *training* ratings (never a test
//! split).
//!
//! Fitting goes through the door like any host: each member is fitted on
//! the training ratings less the slice and scored on the slice; the weights
//! are solved; then each member is fitted again on every training rating,
//! and those are the members the blend keeps. Fold-in folds into every
//! member; the explanation is the members' explanations weighted, exact
//! when each member's is and none was clipped.

use cinema_protocol::{Decomposition, ModelSpec, Role, Scale, Triple};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::{Algo, Algorithm, MAX_SEED, describe};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::{Viewer, decomposition};
use crate::ratings::RatingMatrix;

/// What the blend stacks, each with its defaults.
pub const MEMBERS: [&str; 3] = ["svdpp", "knn", "svd"];

/// The slice's size at most: a handful of weights needs no more, and
/// scoring it stays a small part of a step on any dataset.
const MAX_SLICE: usize = 100_000;

params! {
    pub struct BlendParams {
        holdout: f32 = 0.1, 0.01..=0.5, "share of the training ratings the weights are fitted on";
        ridge: f32 = 1.0, 0.0..=1e6, "ridge penalty on the weights";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the slice";
    }
}

impl Algo for BlendParams {
    const NAME: &'static str = "blend";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "a least-squares blend of svdpp, knn and svd, weights fitted on held-out training ratings";

    /// Every member's epochs, twice: on the training ratings less the
    /// slice, then on all of them.
    fn epochs(&self) -> u32 {
        2 * members().iter().map(Algorithm::epochs).sum::<u32>()
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let mut triples: Vec<Triple> = data.iter().collect();
        triples.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(self.seed));
        let size = ((triples.len() as f64 * f64::from(self.holdout)) as usize).clamp(1, MAX_SLICE);
        let slice = triples.split_off(triples.len() - size.min(triples.len() - 1));
        let part = RatingMatrix::new(data.users, data.items, &triples);
        let first = members()[0].start(&part, scale)?;
        Ok(Box::new(Fitting {
            p: self,
            scale,
            part: Some(part),
            slice,
            columns: Vec::new(),
            weights: Vec::new(),
            fitted: Vec::new(),
            shown: None,
            member: 0,
            epoch: 0,
            fit: Some(first),
            inner_done: 0,
            reported: 0,
        }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let saved: Saved = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        let members = saved
            .members
            .iter()
            .map(|(name, bytes)| Algorithm::decode(name, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let shapes_agree = members.windows(2).all(|w| (w[0].users(), w[0].items()) == (w[1].users(), w[1].items()));
        if members.is_empty() || saved.weights.len() != members.len() + 1 || !shapes_agree {
            return Err(EngineError::BadModel("blend: members and weights do not fit together".into()));
        }
        if !saved.weights.iter().all(|w| w.is_finite()) {
            return Err(EngineError::BadModel("blend: a weight is not a number".into()));
        }
        Ok(Box::new(Blend { spec: saved.spec, weights: saved.weights, members }))
    }
}

fn members() -> Vec<Algorithm> {
    MEMBERS
        .iter()
        .map(|name| Algorithm::from_spec(&ModelSpec::new(name), &describe()).expect("members are registered"))
        .collect()
}

/// A trained blend.
pub struct Blend {
    spec: Algorithm,
    /// `[w_0, w_1, …]`: the intercept, then one weight per member.
    weights: Vec<f32>,
    members: Vec<Box<dyn RatingModel>>,
}

/// How a blend is saved: each member by its algorithm's name and bytes.
#[derive(Serialize, Deserialize)]
struct Saved {
    spec: Algorithm,
    weights: Vec<f32>,
    members: Vec<(String, Vec<u8>)>,
}

impl RatingModel for Blend {
    fn algorithm(&self) -> Algorithm {
        self.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.members[0].scale()
    }

    fn users(&self) -> u32 {
        self.members[0].users()
    }

    fn items(&self) -> u32 {
        self.members[0].items()
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        self.members.iter().zip(&self.weights[1..]).map(|(m, w)| w * m.predict(u, i)).sum::<f32>() + self.weights[0]
    }

    fn scores(&self, u: u32) -> Vec<f32> {
        let mut out = vec![self.weights[0]; self.items() as usize];
        let scale = self.scale();
        for (m, w) in self.members.iter().zip(&self.weights[1..]) {
            for (o, s) in out.iter_mut().zip(m.scores(u)) {
                *o += w * s.clamp(scale.min, scale.max);
            }
        }
        out
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        for m in &mut self.members {
            m.fold_in(u, ratings);
        }
    }

    /// The members' parts, weighted: exact when every member's is and no
    /// member's score was clipped to the scale.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let scale = self.scale();
        let (mut baseline, mut exact) = (self.weights[0], true);
        let mut parts: Vec<(u32, f32, f32)> = Vec::new();
        for (m, &w) in self.members.iter().zip(&self.weights[1..]) {
            let d = m.explain(viewer, item);
            exact &= d.exact && (scale.min..=scale.max).contains(&d.model);
            baseline += w * d.baseline;
            for (movie, rating, part) in d.contributions {
                match parts.iter_mut().find(|p| p.0 == movie) {
                    Some(p) => p.2 += w * part,
                    None => parts.push((movie, rating, w * part)),
                }
            }
        }
        decomposition(baseline, parts, self.score(viewer.user, item), exact)
    }

    fn parts(&self) -> Vec<(String, f32)> {
        self.members.iter().zip(&self.weights[1..]).map(|(m, &w)| (m.algorithm().name().to_owned(), w)).collect()
    }

    /// A member's own neighbours, when one has them.
    fn neighbours(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        self.members.iter().find_map(|m| m.neighbours(item, n))
    }

    fn encode(&self) -> Vec<u8> {
        let members = self.members.iter().map(|m| (m.algorithm().name().to_owned(), m.encode())).collect();
        postcard::to_stdvec(&Saved { spec: self.spec.clone(), weights: self.weights.clone(), members })
            .expect("a model always encodes")
    }
}

struct Fitting {
    p: BlendParams,
    scale: Scale,
    /// The training ratings less the slice, while the first round lasts.
    part: Option<RatingMatrix>,
    slice: Vec<Triple>,
    /// Each first-round member's predictions of the slice.
    columns: Vec<Vec<f32>>,
    weights: Vec<f32>,
    /// Second-round members, fitted on every training rating.
    fitted: Vec<Box<dyn RatingModel>>,
    /// The member finished last, then the blend once built: what the
    /// fitting predicts with between steps (a member just started has
    /// learned nothing yet).
    shown: Option<Box<dyn RatingModel>>,
    /// The member being fitted (in the round `part` tells), and its epochs done.
    member: usize,
    epoch: u32,
    fit: Option<Box<dyn Fit>>,
    /// The member's work in its epoch under way, and how much of the
    /// blend's epoch (in ratings) has been reported for it.
    inner_done: u64,
    reported: u64,
}

impl Fit for Fitting {
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        let spec = &members()[self.member];
        let on = self.part.as_ref().unwrap_or(data);
        let fit = self.fit.as_mut().expect("a member is fitted until the blend finishes");
        // In the blend's units (ratings) a member's epoch is one of the
        // blend's; a member step is asked at least one blend unit's worth of
        // its own, so every step moves the blend on.
        let (len, inner_epoch) = (data.len() as u64, fit.per_epoch(on).max(1));
        let inner = fit.step(on, budget.max(inner_epoch.div_ceil(len.max(1))));
        self.inner_done += inner.work;
        let work = if inner.epoch_done {
            self.epoch += 1;
            let rest = len - self.reported;
            (self.inner_done, self.reported) = (0, 0);
            rest
        } else {
            let reached = (u128::from(self.inner_done) * u128::from(len) / u128::from(inner_epoch)) as u64;
            let moved = reached - self.reported;
            self.reported = reached;
            moved
        };
        if self.epoch == spec.epochs() {
            self.next_member(data);
        }
        Step { work, epoch_done: inner.epoch_done, squared_error: None }
    }

    fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        data.len() as u64
    }

    fn model(&self) -> &dyn RatingModel {
        match (&self.shown, &self.fit) {
            (Some(shown), _) => shown.as_ref(),
            (None, Some(fit)) => fit.model(),
            (None, None) => unreachable!("a blend shows a member once none is under way"),
        }
    }

    fn model_mut(&mut self) -> &mut dyn RatingModel {
        match (&mut self.shown, &mut self.fit) {
            (Some(shown), _) => shown.as_mut(),
            (None, Some(fit)) => fit.model_mut(),
            (None, None) => unreachable!("a blend shows a member once none is under way"),
        }
    }

    fn finish(self: Box<Self>) -> Box<dyn RatingModel> {
        if self.fit.is_none()
            && let Some(built) = self.shown.filter(|s| s.algorithm() == Algorithm::Blend(self.p))
        {
            return built;
        }
        let mut members = self.fitted;
        if let Some(fit) = self.fit {
            // Stopped early: the member under way serves with what it learned.
            members.push(fit.finish());
        }
        let mut weights = self.weights;
        if weights.len() != members.len() + 1 {
            // Stopped before the weights were fitted: an even mean.
            weights = std::iter::once(0.0).chain(std::iter::repeat_n(1.0 / members.len() as f32, members.len())).collect();
        }
        Box::new(Blend { spec: Algorithm::Blend(self.p), weights, members })
    }
}

impl Fitting {
    /// The member under way is done: score the slice with it (first round)
    /// or keep it (second round), then start the next one.
    fn next_member(&mut self, data: &RatingMatrix) {
        let done = self.fit.take().expect("a member was under way").finish();
        if self.part.is_some() {
            self.columns.push(self.slice.iter().map(|&(u, i, _)| done.predict(u, i)).collect());
            self.shown = Some(done);
        } else {
            self.fitted.push(done);
        }
        let all = members();
        self.member += 1;
        self.epoch = 0;
        if self.member == all.len() {
            if self.part.is_none() {
                let members = std::mem::take(&mut self.fitted);
                let weights = self.weights.clone();
                self.shown = Some(Box::new(Blend { spec: Algorithm::Blend(self.p), weights, members }));
                return;
            }
            self.weights = solve_weights(&self.columns, &self.slice, self.p.ridge);
            (self.part, self.member) = (None, 0);
        }
        let on = self.part.as_ref().unwrap_or(data);
        self.fit = Some(all[self.member].start(on, self.scale).expect("a member starts on ratings its blend started on"));
    }
}

/// Ridge least squares for `[w_0, w_1, …]` (the intercept unpenalised) on
/// the slice, by Gaussian elimination on the small normal equations.
fn solve_weights(columns: &[Vec<f32>], slice: &[Triple], ridge: f32) -> Vec<f32> {
    let n = columns.len() + 1;
    let mut a = vec![vec![0f64; n + 1]; n];
    for (t, &(_, _, r)) in slice.iter().enumerate() {
        let x: Vec<f64> = std::iter::once(1.0).chain(columns.iter().map(|c| f64::from(c[t]))).collect();
        for row in 0..n {
            for col in 0..n {
                a[row][col] += x[row] * x[col];
            }
            a[row][n] += x[row] * f64::from(r);
        }
    }
    for (d, row) in a.iter_mut().enumerate().skip(1) {
        row[d] += f64::from(ridge);
    }
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).expect("rows");
        a.swap(col, pivot);
        if a[col][col].abs() < 1e-12 {
            continue;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    (0..n).map(|d| if a[d][d].abs() < 1e-12 { 0.0 } else { (a[d][n] / a[d][d]) as f32 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two noisy views of the truth, one better than the other: the weights
    /// find the truth's mix, with the intercept taking the offset.
    #[test]
    fn least_squares_recovers_the_mix() {
        let truth: Vec<f32> = (0..200).map(|t| 1.0 + (t % 9) as f32 * 0.5).collect();
        let slice: Vec<Triple> = truth.iter().enumerate().map(|(t, &r)| (t as u32, 0, r)).collect();
        let good: Vec<f32> = truth.iter().map(|r| r - 0.5).collect();
        let noise: Vec<f32> = (0..200).map(|t| if t % 2 == 0 { 3.0 } else { 1.0 }).collect();
        let w = solve_weights(&[good, noise], &slice, 0.0);
        assert!((w[0] - 0.5).abs() < 1e-3 && (w[1] - 1.0).abs() < 1e-3 && w[2].abs() < 1e-3, "{w:?}");
    }

    /// The whole fit on a small matrix: every member's epochs twice, a
    /// blend that saves and loads to the same scores, and an explanation
    /// whose parts are the members' weighted.
    #[test]
    fn fits_every_member_twice_and_comes_back_from_its_bytes() {
        use crate::train::Training;
        use crate::train::tests::SCALE;
        let triples: Vec<Triple> =
            (0..30u32).flat_map(|u| (0..12u32).filter(move |i| (u + i) % 3 != 0).map(move |i| (u, i, 1.0 + ((u * 7 + i * 3) % 5) as f32))).collect();
        let data = RatingMatrix::new(30, 12, &triples);
        let spec = Algorithm::Blend(BlendParams::default());
        let mut t = Training::start(spec.clone(), &data, SCALE).unwrap();
        let mut last = t.progress();
        let mut steps = 0;
        while !last.finished {
            last = t.step(&data, &triples[..5], 500);
            steps += 1;
        }
        assert_eq!(last.epochs, 2 * (40 + 11 + 60));
        assert!(steps >= last.epochs as usize && last.validation_rmse.is_some(), "{last:?}");
        let blend = t.finish().unwrap();
        assert_eq!(blend.algorithm(), spec);
        let back = BlendParams::decode(&blend.encode()).unwrap();
        assert_eq!(back.scores(3), blend.scores(3));
        let ratings: Vec<(u32, f32)> = triples.iter().filter(|r| r.0 == 3).map(|r| (r.1, r.2)).collect();
        let d = blend.explain(&Viewer { user: 3, ratings: &ratings, folded: false }, 0);
        let parts: f32 = d.baseline + d.contributions.iter().map(|c| c.2).sum::<f32>();
        assert!((parts - d.total).abs() < 1e-4, "{d:?}");
        assert!(BlendParams::decode(&[1, 2, 3]).is_err());
    }
}
