//! A trained model: `r̂(u, i) = μ + b_u + b_i + p_u · q_i`, and what it answers.
//!
//! The baseline is the same formula with zero-width factor matrices, and a
//! ranking model the same with zero mean and biases, so this one type is
//! the trained form of all three; other models show their vectors through
//! it when they have them (`RatingModel::vectors`).

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::EngineError;
use crate::algorithms::Algorithm;
use crate::door::RatingModel;
use crate::explain::Viewer;
use crate::kernels::dot;
use crate::topn::TopN;
use cinema_protocol::{Decomposition, Scale, Scored};

/// Bumped whenever the layout of exported models changes. Format 1 was a
/// rating model alone; format 2 adds the optional ranking model; format 3
/// names the rating model's algorithm, so that it can be any model of the
/// registry, not only vectors; format 4 names the ranking model's too.
pub const MODEL_FORMAT_VERSION: u32 = 4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub spec: Algorithm,
    pub scale: Scale,
    pub global_mean: f32,
    pub user_bias: Vec<f32>,
    pub item_bias: Vec<f32>,
    /// One row of factors per user (`users × k`).
    pub user_factors: Array2<f32>,
    /// One row of factors per movie (`items × k`).
    pub item_factors: Array2<f32>,
}

impl Model {
    /// A model that predicts the global mean for everyone.
    pub fn empty(spec: Algorithm, scale: Scale, users: u32, items: u32, k: usize, mean: f32) -> Model {
        Model {
            spec,
            scale,
            global_mean: mean,
            user_bias: vec![0.0; users as usize],
            item_bias: vec![0.0; items as usize],
            user_factors: Array2::zeros((users as usize, k)),
            item_factors: Array2::zeros((items as usize, k)),
        }
    }

    pub fn users(&self) -> u32 {
        self.user_bias.len() as u32
    }

    pub fn items(&self) -> u32 {
        self.item_bias.len() as u32
    }

    pub fn factors(&self) -> usize {
        self.user_factors.ncols()
    }

    pub fn user_row_mut(&mut self, u: u32) -> &mut [f32] {
        let k = self.factors();
        let all = self.user_factors.as_slice_mut().expect("factor rows are contiguous");
        &mut all[u as usize * k..(u as usize + 1) * k]
    }

    pub fn user_row(&self, u: u32) -> &[f32] {
        let k = self.factors();
        let all = self.user_factors.as_slice().expect("factor rows are contiguous");
        &all[u as usize * k..(u as usize + 1) * k]
    }

    pub fn item_row(&self, i: u32) -> &[f32] {
        let k = self.factors();
        let all = self.item_factors.as_slice().expect("factor rows are contiguous");
        &all[i as usize * k..(i as usize + 1) * k]
    }

    /// The raw estimate, unclipped.
    #[inline]
    pub fn score(&self, u: u32, i: u32) -> f32 {
        self.score_with(self.global_mean + self.user_bias[u as usize], self.user_row(u), i)
    }

    /// The estimate clipped to the rating scale.
    #[inline]
    pub fn predict(&self, u: u32, i: u32) -> f32 {
        self.score(u, i).clamp(self.scale.min, self.scale.max)
    }

    /// The `n` best-scored items for `u` among those `candidate` accepts, by
    /// a full scan. [`crate::retrieval::ItemIndex`] gives the same answer
    /// faster on large catalogues.
    pub fn recommend(&self, u: u32, n: usize, candidate: impl Fn(u32) -> bool) -> Vec<Scored> {
        let base = self.global_mean + self.user_bias[u as usize];
        let pu = self.user_row(u);
        let mut top = TopN::new(n);
        for i in 0..self.items() {
            if candidate(i) {
                top.push(i, self.score_with(base, pu, i));
            }
        }
        self.scored(top)
    }

    /// The `n` items whose vectors point most nearly the way `item`'s does
    /// (cosine similarity), among those `candidate` accepts, best first.
    /// Empty for a model without vectors.
    pub fn similar_items(&self, item: u32, n: usize, candidate: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let q = self.item_row(item);
        let q_norm = dot(q, q).sqrt();
        let mut top = TopN::new(n);
        if self.factors() == 0 || q_norm == 0.0 {
            return Vec::new();
        }
        for i in (0..self.items()).filter(|&i| i != item && candidate(i)) {
            let v = self.item_row(i);
            let norm = dot(v, v).sqrt();
            if norm > 0.0 {
                top.push(i, dot(q, v) / (q_norm * norm));
            }
        }
        top.into_sorted()
    }

    /// The unclipped score of item `i` for a user with factors `pu` and
    /// `base` = global mean + user bias.
    #[inline]
    pub fn score_with(&self, base: f32, pu: &[f32], i: u32) -> f32 {
        base + self.item_bias[i as usize] + dot(pu, self.item_row(i))
    }

    /// The winners of a ranking, with their predictions on the rating scale.
    pub fn scored(&self, top: TopN) -> Vec<Scored> {
        top.into_sorted()
            .into_iter()
            .map(|(item, score)| Scored { item, score, prediction: score.clamp(self.scale.min, self.scale.max) })
            .collect()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        Models::export(self, None)
    }

    /// Decodes exported bytes and checks they describe a usable model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, EngineError> {
        Models::from_bytes(bytes)?
            .rating
            .into_vectors()
            .ok_or_else(|| EngineError::BadModel("not a vector model".into()))
    }

    /// What [`RatingModel::encode`] wrote, checked: the registry's decoder
    /// for every algorithm whose trained form is this one.
    pub fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: Model = postcard::from_bytes(bytes).map_err(broken)?;
        model.validate()?;
        Ok(Box::new(model))
    }

    /// Whether the shapes agree and every number is finite.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |why: &str| Err(EngineError::BadModel(why.to_string()));
        if self.user_factors.nrows() != self.user_bias.len() || self.item_factors.nrows() != self.item_bias.len() {
            return bad("factor and bias shapes disagree");
        }
        if self.user_factors.ncols() != self.item_factors.ncols() {
            return bad("user and item factors differ in width");
        }
        if !self.user_factors.is_standard_layout() || !self.item_factors.is_standard_layout() {
            return bad("factor matrices are not row-major");
        }
        let all_finite = self
            .user_bias
            .iter()
            .chain(&self.item_bias)
            .chain(self.user_factors.iter())
            .chain(self.item_factors.iter())
            .all(|x| x.is_finite());
        if !self.global_mean.is_finite() || !all_finite {
            return bad("contains a non-finite number");
        }
        if !(self.scale.min.is_finite() && self.scale.max.is_finite() && self.scale.min < self.scale.max) {
            return bad("rating scale is invalid");
        }
        Ok(())
    }
}

impl RatingModel for Model {
    fn algorithm(&self) -> Algorithm {
        self.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.scale
    }

    fn users(&self) -> u32 {
        Model::users(self)
    }

    fn items(&self) -> u32 {
        Model::items(self)
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        Model::score(self, u, i)
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        crate::foldin::fold_in(self, u, ratings);
    }

    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        crate::explain::stars(self, viewer, item)
    }

    fn vectors(&self) -> Option<&Model> {
        Some(self)
    }

    fn into_vectors(self: Box<Self>) -> Option<Model> {
        Some(*self)
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

fn broken(e: postcard::Error) -> EngineError {
    EngineError::BadModel(format!("does not decode: {e}"))
}

/// What `ExportModel` carries: the rating model that predicts stars and, once
/// trained, the ranking model that orders the list.
pub struct Models {
    pub rating: Box<dyn RatingModel>,
    pub ranking: Option<Box<dyn RatingModel>>,
}

/// A ranking part as format 4 carries it: its algorithm's name and bytes
/// (read in place on import, not copied out first).
type NamedPart<'a> = Option<(&'a str, &'a [u8])>;

impl Models {
    /// Encodes in the latest format: both models' algorithm names, the
    /// ranking model's bytes, then the rating model's own bytes to the end
    /// (so that any model of the registry is carried without a second copy).
    pub fn export(rating: &dyn RatingModel, ranking: Option<&dyn RatingModel>) -> Vec<u8> {
        let encoded = ranking.map(|r| (r.algorithm().name(), r.encode()));
        let ranking: NamedPart = encoded.as_ref().map(|(name, bytes)| (*name, bytes.as_slice()));
        let head = (MODEL_FORMAT_VERSION, rating.algorithm().name(), ranking);
        let mut bytes = postcard::to_stdvec(&head).expect("models always encode");
        bytes.extend(rating.encode());
        bytes
    }

    /// Decodes formats 1 to 4 and checks both parts are usable and fit each other.
    pub fn from_bytes(bytes: &[u8]) -> Result<Models, EngineError> {
        let (version, rest): (u32, &[u8]) = postcard::take_from_bytes(bytes).map_err(broken)?;
        // Before format 4 the ranking model could only be iALS's vectors.
        let vectors = |ranking: Option<Model>| -> Result<Option<Box<dyn RatingModel>>, EngineError> {
            let Some(model) = ranking else { return Ok(None) };
            model.validate()?;
            Ok(Some(Box::new(crate::algorithms::ials::Trained::new(model)?)))
        };
        let (rating, ranking): (Box<dyn RatingModel>, Option<Box<dyn RatingModel>>) = match version {
            1 => (Model::decode(rest)?, None),
            2 => {
                let (rating, ranking): (Model, Option<Model>) = postcard::from_bytes(rest).map_err(broken)?;
                rating.validate()?;
                (Box::new(rating), vectors(ranking)?)
            }
            3 => {
                let (name, rest): (String, &[u8]) = postcard::take_from_bytes(rest).map_err(broken)?;
                let (ranking, rest): (Option<Model>, &[u8]) = postcard::take_from_bytes(rest).map_err(broken)?;
                (Algorithm::decode(&name, rest)?, vectors(ranking)?)
            }
            MODEL_FORMAT_VERSION => {
                let (name, rest): (String, &[u8]) = postcard::take_from_bytes(rest).map_err(broken)?;
                let (ranking, rest): (NamedPart, &[u8]) = postcard::take_from_bytes(rest).map_err(broken)?;
                let ranking = ranking.map(|(name, bytes)| Algorithm::decode(name, bytes)).transpose()?;
                (Algorithm::decode(&name, rest)?, ranking)
            }
            _ => {
                return Err(EngineError::BadModel(format!(
                    "model format {version}, this engine reads formats 1 to {MODEL_FORMAT_VERSION}"
                )));
            }
        };
        if rating.algorithm().is_ranking() {
            return Err(EngineError::BadModel("the rating part is a ranking model".into()));
        }
        if let Some(ranking) = &ranking {
            if !ranking.algorithm().is_ranking() {
                return Err(EngineError::BadModel("the ranking part is not a ranking model".into()));
            }
            if (ranking.users(), ranking.items()) != (rating.users(), rating.items()) {
                return Err(EngineError::BadModel("the ranking and rating parts differ in shape".into()));
            }
        }
        Ok(Models { rating, ranking })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::BaselineParams;

    fn tiny() -> Model {
        let spec = Algorithm::Baseline(BaselineParams { epochs: 1, reg_user: 0.0, reg_item: 0.0 });
        let mut m = Model::empty(spec, Scale { min: 1.0, max: 5.0 }, 2, 3, 2, 3.0);
        m.user_bias = vec![0.5, -0.5];
        m.item_bias = vec![1.0, 0.0, -1.0];
        m.user_factors = Array2::from_shape_vec((2, 2), vec![1.0, 0.0, 0.0, 1.0]).unwrap();
        m.item_factors = Array2::from_shape_vec((3, 2), vec![1.0, 1.0, 2.0, 0.0, 0.0, -2.0]).unwrap();
        m
    }

    #[test]
    fn predicts_the_formula_and_clips() {
        let m = tiny();
        assert_eq!(m.score(0, 0), 3.0 + 0.5 + 1.0 + 1.0);
        assert_eq!(m.predict(0, 0), 5.0);
        assert_eq!(m.predict(1, 2), 1.0); // 3 − 0.5 − 1 − 2 = −0.5, clipped
    }

    #[test]
    fn recommends_by_raw_score_and_skips_excluded() {
        let m = tiny();
        let top = m.recommend(0, 2, |i| i != 0);
        assert_eq!(top.iter().map(|s| s.item).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(top[0].score, 3.0 + 0.5 + 0.0 + 2.0);
    }

    #[test]
    fn bytes_round_trip_and_garbage_is_refused() {
        let m = tiny();
        assert_eq!(Model::from_bytes(&m.to_bytes()).unwrap(), m);
        assert!(Model::from_bytes(&[1, 2, 3]).is_err());
        let mut nan = tiny();
        nan.item_bias[1] = f32::NAN;
        assert!(Model::from_bytes(&nan.to_bytes()).is_err());
    }

    /// Versions saved before format 3 (a vector model, then the optional
    /// ranking model) still load.
    #[test]
    fn format_2_files_still_load() {
        let m = tiny();
        let old = postcard::to_stdvec(&(2u32, &m, None::<Model>)).unwrap();
        let models = Models::from_bytes(&old).unwrap();
        assert_eq!(models.rating.into_vectors().unwrap(), m);
        let mut unknown = postcard::to_stdvec(&(3u32, "nope", None::<Model>)).unwrap();
        unknown.extend(m.encode());
        let Err(EngineError::BadModel(why)) = Models::from_bytes(&unknown) else { panic!() };
        assert!(why.contains("made by `nope`"), "{why}");
    }

    /// Format 3 carried the ranking model as bare iALS vectors: they load as
    /// a ranking model and are written back named, in format 4; vectors of
    /// another algorithm in that place are refused.
    #[test]
    fn format_3_ranking_vectors_load_and_are_rewritten_named() {
        let rating = tiny();
        let ranking = Model { spec: Algorithm::Ials(crate::defaults::ials()), ..tiny() };
        let mut old = postcard::to_stdvec(&(3u32, "baseline", Some(&ranking))).unwrap();
        old.extend(rating.encode());
        let models = Models::from_bytes(&old).unwrap();
        let loaded = models.ranking.expect("a ranking part");
        assert_eq!(loaded.vectors(), Some(&ranking));
        let again = Models::from_bytes(&Models::export(&*models.rating, Some(&*loaded))).unwrap();
        assert_eq!(again.ranking.unwrap().vectors(), Some(&ranking));
        let mut wrong = postcard::to_stdvec(&(3u32, "baseline", Some(&rating))).unwrap();
        wrong.extend(rating.encode());
        let Err(EngineError::BadModel(why)) = Models::from_bytes(&wrong) else { panic!() };
        assert!(why.contains("made by baseline"), "{why}");
    }
}
