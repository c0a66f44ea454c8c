//! Co-clustering (George & Merugu 2005, Surprise's `CoClustering`): users
//! and movies are each put in a few clusters, and
//! `r̂_ui = C̄_uv + (μ_u − C̄^U_u) + (μ_i − C̄^I_i)`, where C̄_uv is the mean
//! rating between u's cluster and i's, C̄^U and C̄^I the clusters' means and
//! μ_u, μ_i the user's and the movie's means.
//!
//! Each epoch reassigns every user to the cluster that predicts their
//! ratings best, then every movie (each half with the other's latest
//! clusters and the means recomputed between them; Surprise moves both at
//! once). A new rating moves your mean and may move your cluster at once.
//! Given your cluster, a prediction is linear in your ratings (μ_u is their
//! mean), so explanations are exact.

use cinema_engine::EngineError;
use cinema_engine::algorithms::extension::External;
use cinema_engine::algorithms::{Algo, Algorithm, MAX_SEED};
use cinema_engine::door::{Fit, RatingModel, Step};
use cinema_engine::explain::{Viewer, decomposition};
use cinema_engine::protocol::{Decomposition, Role, Scale};
use cinema_engine::ratings::{Csr, RatingMatrix};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

cinema_engine::params! {
    /// Defaults from validation only (ML-100K u1–u5.base, 10 % held out,
    /// seed 7): 4 user and 2 movie clusters, 40 epochs 0.9589; Surprise's
    /// 3, 3 and 20: 0.9710; 3, 3, 40: 0.9687; 5, 2, 40: 0.9593.
    pub struct CoClusteringParams {
        user_clusters: u32 = 4, 1..=64, "clusters of users";
        item_clusters: u32 = 2, 1..=64, "clusters of movies";
        epochs: u32 = 40, 1..=1000, "passes that reassign every user, then every movie";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the first clusters";
    }
}

impl Algo for CoClusteringParams {
    const NAME: &'static str = "coclustering";
    const ROLE: Role = Role::Rating;
    const DESCRIPTION: &'static str = "co-clustering of users and movies (George & Merugu 2005)";

    fn epochs(&self) -> u32 {
        self.epochs
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let (cu, ci) = (self.user_clusters, self.item_clusters);
        let mut model = CoClustering {
            spec: External::of(self),
            scale,
            global_mean: data.global_mean,
            user_clusters: cu,
            item_clusters: ci,
            user_of: (0..data.users).map(|_| rng.random_range(0..cu)).collect(),
            item_of: (0..data.items).map(|_| rng.random_range(0..ci)).collect(),
            user_mean: means(&data.by_user),
            item_mean: means(&data.by_item),
            cocluster_mean: Vec::new(),
            user_cluster_mean: Vec::new(),
            item_cluster_mean: Vec::new(),
        };
        model.update_means(data);
        Ok(Box::new(Fitting { model, next: 0 }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: CoClustering = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.validate()?;
        Ok(Box::new(model))
    }
}

/// Each row's mean; `None` for a row without ratings.
fn means(rows: &Csr) -> Vec<Option<f32>> {
    (0..rows.rows())
        .map(|r| {
            let values = rows.row(r).1;
            (!values.is_empty()).then(|| values.iter().sum::<f32>() / values.len() as f32)
        })
        .collect()
}

/// A trained co-clustering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoClustering {
    spec: Algorithm,
    scale: Scale,
    global_mean: f32,
    user_clusters: u32,
    item_clusters: u32,
    user_of: Vec<u32>,
    item_of: Vec<u32>,
    /// `None` for a user or movie without ratings.
    user_mean: Vec<Option<f32>>,
    item_mean: Vec<Option<f32>>,
    /// `cocluster_mean[c * item_clusters + d]`.
    cocluster_mean: Vec<f32>,
    user_cluster_mean: Vec<f32>,
    item_cluster_mean: Vec<f32>,
}

impl CoClustering {
    /// What `u`'s ratings add to a prediction once their mean is taken
    /// apart, given `u` in cluster `c`: everything but μ_u.
    fn rest(&self, c: u32, i: u32) -> f32 {
        let d = self.item_of[i as usize];
        let co = self.cocluster_mean[(c * self.item_clusters + d) as usize];
        let item = self.item_mean[i as usize].unwrap_or(self.global_mean);
        co - self.user_cluster_mean[c as usize] + item - self.item_cluster_mean[d as usize]
    }

    fn estimate(&self, c: u32, user_mean: f32, i: u32) -> f32 {
        user_mean + self.rest(c, i)
    }

    /// The cluster among `clusters` whose estimates `estimate(cluster, j)`
    /// of a row's ratings have the least squared error.
    fn best(clusters: u32, row: (&[u32], &[f32]), estimate: impl Fn(u32, u32) -> f32) -> u32 {
        let error = |c: u32| row.0.iter().zip(row.1).map(|(&j, &r)| (r - estimate(c, j)).powi(2)).sum::<f32>();
        (0..clusters).min_by(|&a, &b| error(a).total_cmp(&error(b))).unwrap_or(0)
    }

    /// The co-cluster, user-cluster and movie-cluster means from every
    /// rating and the current clusters; an empty cluster takes the global
    /// mean.
    fn update_means(&mut self, data: &RatingMatrix) {
        let (cu, ci) = (self.user_clusters as usize, self.item_clusters as usize);
        let mut co = vec![(0f64, 0u64); cu * ci];
        for u in 0..data.users as usize {
            let c = self.user_of[u] as usize;
            let (items, values) = data.by_user.row(u);
            for (&i, &r) in items.iter().zip(values) {
                let cell = &mut co[c * ci + self.item_of[i as usize] as usize];
                *cell = (cell.0 + f64::from(r), cell.1 + 1);
            }
        }
        let mean = |(sum, n): (f64, u64)| if n > 0 { (sum / n as f64) as f32 } else { self.global_mean };
        let add = |a: (f64, u64), b: &(f64, u64)| (a.0 + b.0, a.1 + b.1);
        self.user_cluster_mean = (0..cu).map(|c| mean(co[c * ci..(c + 1) * ci].iter().fold((0.0, 0), add))).collect();
        self.item_cluster_mean =
            (0..ci).map(|d| mean((0..cu).map(|c| co[c * ci + d]).fold((0.0, 0), |a, b| add(a, &b)))).collect();
        self.cocluster_mean = co.into_iter().map(mean).collect();
    }

    fn validate(&self) -> Result<(), EngineError> {
        let bad = |why: &str| Err(EngineError::BadModel(format!("coclustering: {why}")));
        let (cu, ci) = (self.user_clusters, self.item_clusters);
        if cu == 0
            || ci == 0
            || self.cocluster_mean.len() != (cu * ci) as usize
            || self.user_cluster_mean.len() != cu as usize
            || self.item_cluster_mean.len() != ci as usize
            || self.user_of.len() != self.user_mean.len()
            || self.item_of.len() != self.item_mean.len()
        {
            return bad("the clusters do not fit together");
        }
        if self.user_of.iter().any(|&c| c >= cu) || self.item_of.iter().any(|&d| d >= ci) {
            return bad("a cluster is out of range");
        }
        let means = self.cocluster_mean.iter().chain(&self.user_cluster_mean).chain(&self.item_cluster_mean);
        let rows = self.user_mean.iter().chain(&self.item_mean).flatten();
        if !means.chain(rows).chain([&self.global_mean]).all(|m| m.is_finite()) {
            return bad("a mean is not a number");
        }
        Ok(())
    }
}

impl RatingModel for CoClustering {
    fn algorithm(&self) -> Algorithm {
        self.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.scale
    }

    fn users(&self) -> u32 {
        self.user_of.len() as u32
    }

    fn items(&self) -> u32 {
        self.item_of.len() as u32
    }

    /// Surprise's fallbacks: a movie nobody rated gets your mean, a user
    /// without ratings the movie's.
    fn score(&self, u: u32, i: u32) -> f32 {
        match (self.user_mean[u as usize], self.item_mean[i as usize]) {
            (Some(m), Some(_)) => self.estimate(self.user_of[u as usize], m, i),
            (Some(m), None) => m,
            (None, Some(item)) => item,
            (None, None) => self.global_mean,
        }
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        let u = u as usize;
        if ratings.is_empty() {
            self.user_mean[u] = None;
            return;
        }
        let mean = ratings.iter().map(|r| r.1).sum::<f32>() / ratings.len() as f32;
        let (items, values): (Vec<u32>, Vec<f32>) = ratings.iter().copied().unzip();
        self.user_of[u] = Self::best(self.user_clusters, (&items, &values), |c, j| self.estimate(c, mean, j));
        self.user_mean[u] = Some(mean);
    }

    /// Exact: everything but your mean is the baseline, and each of your n
    /// ratings adds r/n (your cluster is taken as it is).
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let u = viewer.user;
        let model = self.score(u, item);
        match (self.user_mean[u as usize], self.item_mean[item as usize], viewer.ratings.len()) {
            (Some(_), Some(_), n) if n > 0 => {
                let parts = viewer.ratings.iter().map(|&(j, r)| (j, r, r / n as f32)).collect();
                decomposition(self.rest(self.user_of[u as usize], item), parts, model, true)
            }
            _ => decomposition(model, Vec::new(), model, true),
        }
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

/// Each epoch is every user's row, then every movie's: `next` counts rows
/// done in the epoch (users first).
struct Fitting {
    model: CoClustering,
    next: usize,
}

impl Fit for Fitting {
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        let (users, rows) = (data.users as usize, (data.users + data.items) as usize);
        let mut work = 0u64;
        while self.next < rows && (work == 0 || work < budget) {
            let m = &self.model;
            if self.next < users {
                let u = self.next;
                if let Some(mean) = m.user_mean[u] {
                    let best = CoClustering::best(m.user_clusters, data.by_user.row(u), |c, j| m.estimate(c, mean, j));
                    self.model.user_of[u] = best;
                }
                work += data.by_user.row_len(u) as u64;
            } else {
                let i = self.next - users;
                let row = data.by_item.row(i);
                if let Some(mean) = m.item_mean[i] {
                    // The movie in cluster d, every rater's cluster as it is.
                    let estimate = |d: u32, v: u32| {
                        let c = m.user_of[v as usize];
                        let co = m.cocluster_mean[(c * m.item_clusters + d) as usize];
                        let user = m.user_mean[v as usize].unwrap_or(m.global_mean);
                        co - m.user_cluster_mean[c as usize] + user + mean - m.item_cluster_mean[d as usize]
                    };
                    let best = CoClustering::best(m.item_clusters, row, estimate);
                    self.model.item_of[i] = best;
                }
                work += row.0.len() as u64;
            }
            self.next += 1;
            if self.next == users || self.next == rows {
                self.model.update_means(data);
            }
        }
        let epoch_done = self.next == rows;
        if epoch_done {
            self.next = 0;
        }
        Step { work, epoch_done, squared_error: None }
    }

    /// Every rating twice: once in its user's row, once in its movie's.
    fn per_epoch(&self, data: &RatingMatrix) -> u64 {
        2 * data.len() as u64
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

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_engine::protocol::{ModelSpec, Triple};
    use cinema_engine::train::Training;

    const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    /// Two kinds of people and two kinds of movies, each kind loving its own
    /// (5) and not the other (1), every fourth pair unrated.
    fn planted() -> (RatingMatrix, Vec<Triple>) {
        let triples: Vec<Triple> = (0..40u32)
            .flat_map(|u| {
                (0..20u32)
                    .filter(move |i| (u + 3 * i) % 4 != 0)
                    .map(move |i| (u, i, if u % 2 == i % 2 { 5.0 } else { 1.0 }))
            })
            .collect();
        (RatingMatrix::new(40, 20, &triples), triples)
    }

    fn trained(data: &RatingMatrix, spec: ModelSpec) -> Box<dyn RatingModel> {
        crate::algorithms();
        let spec = Algorithm::from_spec(&spec, &crate::algorithms()).unwrap();
        let mut t = Training::start(spec, data, SCALE).unwrap();
        while !t.step(data, &[], 100).finished {}
        t.finish().unwrap()
    }

    /// Through the engine's own door, as the module does: the clusters are
    /// found, unseen pairs predicted, a new viewer placed by their ratings
    /// at once, explanations exact, and the model comes back from its bytes.
    #[test]
    fn finds_planted_clusters_folds_in_explains_exactly_and_round_trips() {
        let (data, _) = planted();
        let spec = ModelSpec::new("coclustering").with("user_clusters", cinema_engine::protocol::Value::Integer(2));
        let spec = spec.with("item_clusters", cinema_engine::protocol::Value::Integer(2));
        let mut model = trained(&data, spec);
        assert_eq!(model.algorithm().name(), "coclustering");
        let unseen: Vec<(u32, u32)> =
            (0..40u32).flat_map(|u| (0..20u32).map(move |i| (u, i))).filter(|&(u, i)| (u + 3 * i) % 4 == 0).collect();
        for &(u, i) in &unseen {
            let truth = if u % 2 == i % 2 { 5.0 } else { 1.0 };
            assert!((model.predict(u, i) - truth).abs() < 0.5, "({u}, {i}): {}", model.predict(u, i));
        }
        // Viewer 0 (a lover of even movies) now rates like an odd one.
        let ratings = vec![(1, 5.0), (3, 5.0), (0, 1.0)];
        model.fold_in(0, &ratings);
        assert!(
            model.predict(0, 5) > 4.5 && model.predict(0, 4) < 2.5,
            "{} {}",
            model.predict(0, 5),
            model.predict(0, 4)
        );
        let d = model.explain(&Viewer { user: 0, ratings: &ratings, marks: &[], folded: true }, 7);
        assert!(d.exact && (d.total - d.model).abs() < 1e-4 && d.contributions.len() == 3, "{d:?}");
        let back = CoClusteringParams::decode(&model.encode()).unwrap();
        assert_eq!(back.scores(0), model.scores(0));
        assert!(CoClusteringParams::decode(&[1, 2, 3]).is_err());
    }

    #[test]
    fn a_model_with_a_cluster_out_of_range_is_refused() {
        let (data, _) = planted();
        let model = trained(&data, ModelSpec::new("coclustering"));
        let mut bytes = model.encode();
        let good: CoClustering = postcard::from_bytes(&bytes).unwrap();
        let mut bad = good.clone();
        bad.user_of[0] = 99;
        bytes = postcard::to_stdvec(&bad).unwrap();
        let Err(EngineError::BadModel(m)) = CoClusteringParams::decode(&bytes) else { panic!() };
        assert!(m.contains("cluster is out of range"), "{m}");
    }
}
