//! A fitted blend: `r̂ = w_0 + Σ_m w_m r̂_m` over rating models of the
//! registry (each with its defaults), the weights fitted by ridge least
//! squares on a slice carved from the *training* ratings (never a test
//! split); the two rounds of fitting are `crate::stack`'s.
//!
//! Fold-in folds into every member; the explanation is the members'
//! explanations weighted, exact when each member's is and none was clipped.

use cinema_protocol::{Decomposition, ModelSpec, Role, Scale, Triple};
use serde::{Deserialize, Serialize};

use super::{Algo, Algorithm, MAX_SEED, describe};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Team};
use crate::explain::Viewer;
use crate::ratings::RatingMatrix;
use crate::stack::{self, Choice, Recipe};

/// What the blend stacks, each with its defaults.
pub const MEMBERS: [&str; 3] = ["svdpp", "knn", "svd"];

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

    fn epochs(&self) -> u32 {
        stack::epochs(&members())
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        stack::start(self, members(), data, scale, (self.holdout, self.seed), Team::ALONE)
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let saved: Saved = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        let members = stack::decode_members(&saved.members)?;
        if saved.weights.len() != members.len() + 1 {
            return Err(EngineError::BadModel("blend: members and weights do not fit together".into()));
        }
        if !saved.weights.iter().all(|w| w.is_finite()) {
            return Err(EngineError::BadModel("blend: a weight is not a number".into()));
        }
        Ok(Box::new(Blend { spec: saved.spec, weights: saved.weights, members }))
    }
}

impl Recipe for BlendParams {
    /// At once: predicting the slice costs less than a member's epoch.
    fn choose(&mut self, members: &[Box<dyn RatingModel>], _: &RatingMatrix, slice: &[Triple], _: u64) -> Choice {
        let columns: Vec<Vec<f32>> =
            members.iter().map(|m| slice.iter().map(|&(u, i, _)| m.predict(u, i)).collect()).collect();
        Choice::Chosen(solve_weights(&columns, slice, self.ridge))
    }

    /// No intercept and an even mean.
    fn even(&self, n: usize) -> Vec<f32> {
        std::iter::once(0.0).chain(std::iter::repeat_n(1.0 / n as f32, n)).collect()
    }

    fn build(&self, weights: Vec<f32>, members: Vec<Box<dyn RatingModel>>) -> Box<dyn RatingModel> {
        Box::new(Blend { spec: Algorithm::Blend(*self), weights, members })
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
    stack::blend_shape!();

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
        let mut clipped = false;
        let explained = self.members.iter().zip(&self.weights[1..]).map(|(m, &w)| {
            let d = m.explain(viewer, item);
            clipped |= !(scale.min..=scale.max).contains(&d.model);
            (w, 0.0, d)
        });
        let mut d = stack::merge(explained, self.score(viewer.user, item));
        (d.baseline, d.total) = (d.baseline + self.weights[0], d.total + self.weights[0]);
        d.exact &= !clipped;
        d
    }

    fn parts(&self) -> Vec<(String, f32)> {
        self.members.iter().zip(&self.weights[1..]).map(|(m, &w)| (m.algorithm().name().to_owned(), w)).collect()
    }

    /// A member's own neighbours, when one has them.
    fn neighbours(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        self.members.iter().find_map(|m| m.neighbours(item, n))
    }

    fn encode(&self) -> Vec<u8> {
        let members = stack::encode_members(&self.members);
        postcard::to_stdvec(&Saved { spec: self.spec.clone(), weights: self.weights.clone(), members })
            .expect("a model always encodes")
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
        let d = blend.explain(&Viewer { user: 3, ratings: &ratings, marks: &[], folded: false }, 0);
        let parts: f32 = d.baseline + d.contributions.iter().map(|c| c.2).sum::<f32>();
        assert!((parts - d.total).abs() < 1e-4, "{d:?}");
        assert!(BlendParams::decode(&[1, 2, 3]).is_err());
    }
}
