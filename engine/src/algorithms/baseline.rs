//! The baseline: `r̂ = μ + b_u + b_i`, biases fitted by alternating least
//! squares with shrinkage (Surprise's `BaselineOnly` with `method: als`).

use cinema_protocol::{Role, Scale};

use super::{Algo, Algorithm};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::model::Model;
use crate::ratings::RatingMatrix;

params! {
    /// Surprise's `BaselineOnly()` ALS settings by default.
    pub struct BaselineParams {
        /// Alternating least squares sweeps.
        epochs: u32 = 10, 1..=10_000, "alternating least squares sweeps";
        /// Shrinkage of user biases towards zero.
        reg_user: f32 = 15.0, 0.0..=10_000.0, "shrinkage of user biases towards zero";
        /// Shrinkage of item biases towards zero.
        reg_item: f32 = 10.0, 0.0..=10_000.0, "shrinkage of movie biases towards zero";
    }
}

impl Algo for BaselineParams {
    const NAME: &'static str = "baseline";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "global mean + user and item biases (ALS)";

    fn epochs(&self) -> u32 {
        self.epochs
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let model = Model::empty(Algorithm::Baseline(self), scale, data.users, data.items, 0, data.global_mean);
        Ok(Box::new(Baseline { model, p: self }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        Model::decode(bytes)
    }

    fn fold_in_shrinkage(&self, _n: f32) -> (f32, f32) {
        (self.reg_user, crate::foldin::PRIOR)
    }
}

struct Baseline {
    model: Model,
    p: BaselineParams,
}

impl Fit for Baseline {
    /// A whole sweep per step: it is one pass over the ratings.
    fn step(&mut self, data: &RatingMatrix, _budget: u64) -> Step {
        let squared_error = als_sweep(&mut self.model, data, self.p.reg_user, self.p.reg_item);
        Step { work: data.len() as u64, epoch_done: true, squared_error: Some(squared_error) }
    }

    fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        data.len() as u64
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

/// One alternating-least-squares sweep of the biases (items, then users,
/// each shrunk by its `reg`); returns the squared training error after the
/// sweep. Other models fit their baseline with it (`knn`).
pub fn als_sweep(model: &mut Model, data: &RatingMatrix, reg_user: f32, reg_item: f32) -> f64 {
    let mu = model.global_mean;
    for i in 0..data.items as usize {
        let (users, values) = data.by_item.row(i);
        let dev: f32 = users.iter().zip(values).map(|(&u, &r)| r - mu - model.user_bias[u as usize]).sum();
        model.item_bias[i] = dev / (reg_item + users.len() as f32);
    }
    let mut squared_error = 0f64;
    for u in 0..data.users as usize {
        let (items, values) = data.by_user.row(u);
        let dev: f32 = items.iter().zip(values).map(|(&i, &r)| r - mu - model.item_bias[i as usize]).sum();
        model.user_bias[u] = dev / (reg_user + items.len() as f32);
        for (&i, &r) in items.iter().zip(values) {
            let e = r - (mu + model.user_bias[u] + model.item_bias[i as usize]);
            squared_error += (e * e) as f64;
        }
    }
    squared_error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::{SCALE, three_by_three};

    #[test]
    fn without_shrinkage_matches_hand_computed_biases() {
        let data = three_by_three();
        assert_eq!(data.global_mean, 3.0);
        let spec = Algorithm::Baseline(BaselineParams { epochs: 1, reg_user: 0.0, reg_item: 0.0 });
        let mut t = Training::start(spec, &data, SCALE).unwrap();
        assert!(t.step(&data, &[], 1).finished);
        let m = t.model().unwrap().vectors().unwrap();
        // Items first, with b_u = 0: b_0 = ((5−3)+(4−3))/2 = 1.5, b_1 = ((3−3)+(2−3))/2 = −0.5, b_2 = ((1−3)+(3−3))/2 = −1.
        assert_eq!(m.item_bias, vec![1.5, -0.5, -1.0]);
        // Then users: b_u0 = ((5−3−1.5)+(3−3+0.5))/2 = 0.5, b_u1 = ((4−3−1.5)+(1−3+1))/2 = −0.75, b_u2 = ((2−3+0.5)+(3−3+1))/2 = 0.25.
        assert_eq!(m.user_bias, vec![0.5, -0.75, 0.25]);
    }

    #[test]
    fn shrinkage_pulls_biases_towards_zero() {
        let data = three_by_three();
        let spec = Algorithm::Baseline(BaselineParams { epochs: 1, reg_user: 0.0, reg_item: 2.0 });
        let mut t = Training::start(spec, &data, SCALE).unwrap();
        t.step(&data, &[], 1);
        assert_eq!(t.model().unwrap().vectors().unwrap().item_bias[0], 3.0 / 4.0);
    }
}
