//! Scores one model on one split, entirely through an engine module: the
//! module trains and predicts; the host only counts.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::Result;
use cinema_metrics::{
    BeyondAccuracy, BeyondMetrics, Ranking, RankingMetrics, genre_mix, rated_precision_recall, rmse_mae,
};
use cinema_protocol::{ModelSpec, Scale, Triple, call};
use serde::Serialize;

use super::splits::Split;
use cinema_host::EngineClient;
use cinema_store::dataset::{Dataset, Rating};
use cinema_store::models::Metrics;

/// Top-N size of every ranking metric.
pub const K: usize = 10;
/// Relevance threshold of the catalogue-ranking metrics.
pub const RELEVANT: f32 = 4.0;
/// Relevance threshold of the rated-movies metrics.
pub const RATED_RELEVANT: f32 = 3.5;

#[derive(Debug, Clone, Serialize)]
pub struct SplitReport {
    pub split: String,
    /// The list metrics are of the list people see: ordered by the ranking
    /// model when there is one.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// The list people see beside its accuracy.
    pub beyond: Beyond,
    /// The same list ordered by the rating model's predicted stars alone.
    pub by_predicted_stars: ListMetrics,
    /// Training the rating model.
    pub fit_seconds: f64,
    /// Training the ranking model (0 without one).
    pub ranking_fit_seconds: f64,
    pub predict_seconds: f64,
    pub train_ratings: usize,
    pub test_ratings: usize,
    /// The list blended with content (`cinema eval --hybrid W`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hybrid: Option<ListMetrics>,
    /// The list at each diversity setting asked for (`cinema eval
    /// --diversity X`, `--diversity-sweep`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diversity: Vec<Diverse>,
}

pub fn triples(ratings: &[Rating]) -> Vec<Triple> {
    ratings.iter().map(|r| (r.user, r.item, r.value)).collect()
}

pub fn scale(dataset: &Dataset) -> Scale {
    Scale { min: dataset.scale.min, max: dataset.scale.max }
}

/// Full-ranking figures of one ordering of the top 10.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ListMetrics {
    pub precision_at_10: f64,
    pub recall_at_10: f64,
    pub ndcg_at_10: f64,
    pub coverage: f64,
}

/// What the list is beside accurate (see [`BeyondMetrics`] for each figure).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Beyond {
    pub novelty: f64,
    pub intra_list_diversity: f64,
    pub miscalibration: f64,
    pub gini: f64,
}

/// The mean of `f` over `all` (NaN for none).
fn mean_of<T>(all: &[T], f: impl Fn(&T) -> f64) -> f64 {
    all.iter().map(f).sum::<f64>() / all.len() as f64
}

impl ListMetrics {
    /// Each figure's mean over `all` (several splits).
    pub fn mean(all: &[ListMetrics]) -> ListMetrics {
        ListMetrics {
            precision_at_10: mean_of(all, |m| m.precision_at_10),
            recall_at_10: mean_of(all, |m| m.recall_at_10),
            ndcg_at_10: mean_of(all, |m| m.ndcg_at_10),
            coverage: mean_of(all, |m| m.coverage),
        }
    }
}

impl Beyond {
    /// Each figure's mean over `all` (several splits).
    pub fn mean(all: &[Beyond]) -> Beyond {
        Beyond {
            novelty: mean_of(all, |b| b.novelty),
            intra_list_diversity: mean_of(all, |b| b.intra_list_diversity),
            miscalibration: mean_of(all, |b| b.miscalibration),
            gini: mean_of(all, |b| b.gini),
        }
    }
}

impl From<BeyondMetrics> for Beyond {
    fn from(m: BeyondMetrics) -> Beyond {
        Beyond {
            novelty: m.novelty,
            intra_list_diversity: m.intra_list_diversity,
            miscalibration: m.miscalibration,
            gini: m.gini,
        }
    }
}

impl From<Metrics> for ListMetrics {
    fn from(m: Metrics) -> ListMetrics {
        ListMetrics {
            precision_at_10: m.precision_at_10,
            recall_at_10: m.recall_at_10,
            ndcg_at_10: m.ndcg_at_10,
            coverage: m.coverage,
        }
    }
}

impl From<RankingMetrics> for ListMetrics {
    fn from(m: RankingMetrics) -> ListMetrics {
        ListMetrics { precision_at_10: m.precision, recall_at_10: m.recall, ndcg_at_10: m.ndcg, coverage: m.coverage }
    }
}

/// Loads `split.train` into the engine, trains `spec` (then `ranking`, when
/// given, to order the lists), and scores `split.test`.
pub fn evaluate(
    client: &mut EngineClient,
    dataset: &Dataset,
    split: &Split,
    spec: ModelSpec,
    ranking: Option<ModelSpec>,
) -> Result<SplitReport> {
    let users = dataset.user_ids.len() as u32;
    let items = dataset.movies.len() as u32;
    client.load(users, items, scale(dataset), &triples(&split.train), &[])?;

    let started = Instant::now();
    client.train(spec, |_| std::ops::ControlFlow::Continue(()))?;
    let fit_seconds = started.elapsed().as_secs_f64();

    let HeldOut { metrics: held, beyond, predict_seconds, .. } = held_out(client, dataset, split)?;
    let by_predicted_stars = ListMetrics::from(held);
    let (list, beyond, ranking_fit_seconds) = match ranking {
        Some(ranking) => {
            let started = Instant::now();
            client.train(ranking, |_| std::ops::ControlFlow::Continue(()))?;
            let seconds = started.elapsed().as_secs_f64();
            let (list, beyond, _) = rank_catalogue(client, dataset, split, None)?;
            (ListMetrics::from(list), beyond, seconds)
        }
        None => (by_predicted_stars, beyond, 0.0),
    };
    let metrics = Metrics {
        precision_at_10: list.precision_at_10,
        recall_at_10: list.recall_at_10,
        ndcg_at_10: list.ndcg_at_10,
        coverage: list.coverage,
        // The report carries the list beside accuracy itself.
        beyond: None,
        ..held
    };
    Ok(SplitReport {
        split: split.name.clone(),
        metrics,
        beyond: Beyond::from(beyond),
        by_predicted_stars,
        fit_seconds,
        ranking_fit_seconds,
        predict_seconds,
        train_ratings: split.train.len(),
        test_ratings: split.test.len(),
        hybrid: None,
        diversity: Vec::new(),
    })
}

/// Scores the models now in the engine on `split.test` (whose training
/// ratings are loaded): the rating model's errors and rated-movie lists, and
/// the full-ranking list; with the seconds the predictions took.
pub fn held_out(client: &mut EngineClient, dataset: &Dataset, split: &Split) -> Result<HeldOut> {
    let started = Instant::now();
    let pairs: Vec<(u32, u32)> = split.test.iter().map(|r| (r.user, r.item)).collect();
    let predictions = client.predict(&pairs)?;
    let predict_seconds = started.elapsed().as_secs_f64();
    let (rmse, mae) = rmse_mae(predictions.iter().zip(&split.test).map(|(&p, r)| (p, r.value)));
    let (rated_precision_at_10, rated_recall_at_10) = rated_precision_recall(
        predictions.iter().zip(&split.test).map(|(&p, r)| (r.user, p, r.value)),
        K,
        RATED_RELEVANT,
    );
    let (list, beyond, reachable_coverage) = rank_catalogue(client, dataset, split, None)?;
    let metrics = Metrics {
        rmse,
        mae,
        precision_at_10: list.precision,
        recall_at_10: list.recall,
        ndcg_at_10: list.ndcg,
        coverage: list.coverage,
        rated_precision_at_10,
        rated_recall_at_10,
        beyond: Some(cinema_store::models::Beyond {
            novelty: beyond.novelty,
            intra_list_diversity: beyond.intra_list_diversity,
            miscalibration: beyond.miscalibration,
            gini: beyond.gini,
            reachable_coverage,
            diversity: 0.0,
        }),
    };
    Ok(HeldOut { metrics, beyond, predictions, predict_seconds })
}

/// The scores of [`held_out`], with the predictions they came from (one per
/// test rating, in order).
pub struct HeldOut {
    pub metrics: Metrics,
    pub beyond: BeyondMetrics,
    pub predictions: Vec<f32>,
    pub predict_seconds: f64,
}

/// The list blended with content under `weight`, scored like the list
/// people see, with the models [`evaluate`] left in the engine.
pub fn hybrid(client: &mut EngineClient, dataset: &Dataset, split: &Split, weight: f32) -> Result<ListMetrics> {
    Ok(ListMetrics::from(rank_catalogue(client, dataset, split, Some((weight, 0.0)))?.0))
}

/// The list at one diversity setting.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Diverse {
    pub diversity: f32,
    #[serde(flatten)]
    pub list: ListMetrics,
    pub beyond: Beyond,
}

/// The list blended under `weight` at each of `settings` of diversity,
/// scored like the list people see, with the models [`evaluate`] left in
/// the engine (which first measures how often lists show each movie, from
/// the training ratings alone).
pub fn diverse(
    client: &mut EngineClient,
    dataset: &Dataset,
    split: &Split,
    weight: f32,
    settings: &[f32],
) -> Result<Vec<Diverse>> {
    client.prepare_diversity()?;
    settings
        .iter()
        .map(|&diversity| {
            let (list, beyond, _) = rank_catalogue(client, dataset, split, Some((weight, diversity)))?;
            Ok(Diverse { diversity, list: ListMetrics::from(list), beyond: Beyond::from(beyond) })
        })
        .collect()
}

/// The most test users whose lists are scored: a top-10 over the whole
/// catalogue costs about half a millisecond at 62,000 movies, so 25
/// million ratings' 162,000 users would take minutes where a seeded sample
/// takes seconds. Every MovieLens set up to 1M (6,040 users) is scored whole.
pub const RANKED_USERS: usize = 10_000;
/// The seed of that sample, fixed so a dataset's versions are scored on the same users.
const RANKED_USERS_SEED: u64 = 42;

/// `users` (ascending), or a seeded sample of [`RANKED_USERS`] of them (ascending).
fn ranked_users(users: Vec<u32>) -> Vec<u32> {
    use rand::SeedableRng;
    if users.len() <= RANKED_USERS {
        return users;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(RANKED_USERS_SEED);
    let mut chosen: Vec<u32> =
        rand::seq::index::sample(&mut rng, users.len(), RANKED_USERS).into_iter().map(|i| users[i]).collect();
    chosen.sort_unstable();
    chosen
}

/// Every test user who has training ratings (above [`RANKED_USERS`] of
/// them, a seeded sample) gets a top-10 over all movies they did not rate
/// in training (blended with content under `order`'s weight, at its
/// diversity; `None`: the plain list); relevant = their test
/// movies rated ≥ 4. Beside accuracy: popularity and each viewer's taste
/// (the genre mix of the training movies they rated ≥ 4) are the training
/// ratings'. Also the most coverage those lists could reach (see
/// `cinema_store::models::Beyond::reachable_coverage`).
fn rank_catalogue(
    client: &mut EngineClient,
    dataset: &Dataset,
    split: &Split,
    order: Option<(f32, f32)>,
) -> Result<(RankingMetrics, BeyondMetrics, f64)> {
    let catalogue = dataset.movies.len();
    let genres: Vec<u32> = dataset.movies.iter().map(|m| m.genres).collect();
    let mut raters = vec![0f64; catalogue];
    let mut liked: HashMap<u32, Vec<u32>> = HashMap::new();
    for r in &split.train {
        raters[r.item as usize] += 1.0;
        if r.value >= RELEVANT {
            liked.entry(r.user).or_default().push(r.item);
        }
    }
    let trained: HashSet<u32> = split.train.iter().map(|r| r.user).collect();
    let mut relevant: HashMap<u32, HashSet<u32>> = HashMap::new();
    for r in &split.test {
        let set = relevant.entry(r.user).or_default();
        if r.value >= RELEVANT {
            set.insert(r.item);
        }
    }
    let mut users: Vec<u32> = relevant.keys().copied().filter(|u| trained.contains(u)).collect();
    users.sort_unstable();
    let users = ranked_users(users);
    let listable = raters.iter().filter(|&&n| n > 0.0).count();
    let reachable = (users.len() * K).min(listable) as f64 / catalogue.max(1) as f64;
    let popularity: Vec<f64> = raters.iter().map(|n| n / trained.len().max(1) as f64).collect();
    let (mut ranking, mut beyond) = (Ranking::new(K), BeyondAccuracy::new(catalogue));
    for user in users {
        let top: Vec<u32> = match order {
            Some((weight, diversity)) => {
                let list = client.ask(call::RecommendHybrid { user, n: K as u32, weight, diversity })?;
                list.iter().map(|s| s.item).collect()
            }
            None => client.ask(call::Recommend { user, n: K as u32 })?.iter().map(|s| s.item).collect(),
        };
        ranking.add(&top, &relevant[&user]);
        let taste = liked.get(&user).and_then(|l| genre_mix(l.iter().copied(), &genres));
        beyond.add(&top, &popularity, &genres, taste.as_ref());
    }
    Ok((ranking.finish(catalogue), beyond.finish(), reachable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_scored_for_every_user_up_to_the_cap_then_for_the_same_sample() {
        let few: Vec<u32> = (0..RANKED_USERS as u32).collect();
        assert_eq!(ranked_users(few.clone()), few);
        let many: Vec<u32> = (0..3 * RANKED_USERS as u32).map(|u| u * 2).collect();
        let sample = ranked_users(many.clone());
        assert_eq!(sample.len(), RANKED_USERS);
        assert!(sample.windows(2).all(|w| w[0] < w[1]) && sample.iter().all(|u| u % 2 == 0));
        assert_eq!(sample, ranked_users(many), "the same users every time");
    }
}
