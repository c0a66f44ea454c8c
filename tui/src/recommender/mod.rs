//! The running recommender for one dataset and one person: the dataset, an
//! engine instance holding the model, and your ratings log. The terminal UI
//! and the CLI's `rate`/`ratings`/`recommend --me` both work through it, so
//! both give the same list — including the [`cold_start`] list for someone
//! who has rated nothing yet.
//!
//! You are one extra user of the dataset (dense index = number of dataset
//! users). Your ratings go to the log first (synced), then into the engine by
//! fold-in, so the model learns at once without retraining.

pub mod cold_start;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cinema_protocol::{ModelSpec, Progress, Scored, Triple};

use crate::eval::score::{scale, triples};
use cinema_host::{EngineClient, EngineModule, Limits, Runtime};
use cinema_store::dataset::Dataset;
use cinema_store::home::Home;
use cinema_store::models::{self, ModelMeta};
use cinema_store::ratings_log::{Change, Entry, RatingsLog};
use cinema_store::stats::MovieStats;

/// Where the model in the engine came from at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOrigin {
    Loaded,
    Trained,
}

pub struct Recommender {
    pub dataset: Dataset,
    /// Per-movie counts, means and rating distributions, computed on first
    /// use: a one-shot CLI command such as `cinema rate` never needs them.
    stats: OnceCell<MovieStats>,
    client: EngineClient,
    log: RatingsLog,
    you: u32,
    pub origin: ModelOrigin,
    pub meta: ModelMeta,
    /// Problems found and repaired while opening (shown to the user).
    pub warnings: Vec<String>,
}

impl Recommender {
    /// Opens `dataset` for you: replays your ratings, restores the saved
    /// model (or trains the module's default once, reporting progress, and
    /// saves it), then folds your ratings in.
    pub fn open(
        home: &Home,
        runtime: &Runtime,
        module: &EngineModule,
        limits: Limits,
        dataset: Dataset,
        on_progress: impl FnMut(&ModelSpec, &Progress),
    ) -> Result<Recommender> {
        let (log, mut warnings) = RatingsLog::open(&home.ratings_path(&dataset.name))?;
        let mut client = EngineClient::start(runtime, module, limits)?;
        let you = dataset.user_ids.len() as u32;
        let mut train = triples(&dataset.ratings);
        train.extend(your_triples(&dataset, &log, you));
        client.load(you + 1, dataset.movies.len() as u32, scale(&dataset), &train, &[])?;

        let path = models::active_path(&home.models_dir(&dataset.name));
        let ranking = client.hello().default_ranking();
        let restored = match models::load(&path) {
            // Saved before ranking models existed: retrain, so the list is ranked for watching.
            Ok((meta, _)) if meta.ranking.is_none() && ranking.is_some() => {
                warnings.push("the saved model has no ranking model; retraining both".into());
                None
            }
            Ok((meta, bytes)) => match client.import_model(bytes) {
                Ok(()) => Some(meta),
                Err(e) => {
                    warnings.push(format!("the saved model no longer fits ({e:#}); retraining"));
                    None
                }
            },
            Err(e) if path.exists() => {
                warnings.push(format!("{e:#}; retraining"));
                None
            }
            Err(_) => None,
        };
        let (meta, origin) = match restored {
            Some(meta) => (meta, ModelOrigin::Loaded),
            None => {
                let spec = client.hello().default_rating().context("engine offers no rating model")?;
                let specs = (spec, ranking);
                let meta = train_and_save(&mut client, module, &dataset, train.len(), specs, &path, on_progress)?;
                (meta, ModelOrigin::Trained)
            }
        };
        let mut r = Recommender { dataset, stats: OnceCell::new(), client, log, you, origin, meta, warnings };
        r.fold_in_you()?;
        Ok(r)
    }

    /// Per-movie counts, means and rating distributions of the dataset.
    pub fn stats(&self) -> &MovieStats {
        self.stats.get_or_init(|| MovieStats::compute(&self.dataset))
    }

    /// Your dense user index.
    pub fn you(&self) -> u32 {
        self.you
    }

    /// Your ratings by the dataset's movie id.
    pub fn your_ratings(&self) -> &BTreeMap<u32, Entry> {
        self.log.ratings()
    }

    /// Rates the movie at dense index `movie`; saved to disk, then learned.
    pub fn rate(&mut self, movie: u32, value: f32) -> Result<Change> {
        let m = self.dataset.movies.get(movie as usize).context("no such movie")?;
        if !self.dataset.scale.contains(value) {
            let s = self.dataset.scale;
            bail!("{value} is not a rating on this dataset's scale ({}–{} in steps of {})", s.min, s.max, s.step);
        }
        let change = self.log.rate(m.id, value)?;
        self.fold_in_you()?;
        Ok(change)
    }

    pub fn remove(&mut self, movie: u32) -> Result<Option<Change>> {
        let id = self.dataset.movies.get(movie as usize).context("no such movie")?.id;
        let change = self.log.remove(id)?;
        self.fold_in_you()?;
        Ok(change)
    }

    pub fn undo(&mut self) -> Result<Option<Change>> {
        let change = self.log.undo()?;
        self.fold_in_you()?;
        Ok(change)
    }

    /// Top `n` for `user` (you or any dataset user), excluding what they rated.
    pub fn recommendations(&mut self, user: u32, n: u32) -> Result<Vec<Scored>> {
        self.client.recommend(user, n)
    }

    /// Nothing personal to go on: `user` is you, and you have rated nothing.
    pub fn is_cold(&self, user: u32) -> bool {
        user == self.you && self.log.ratings().is_empty()
    }

    /// What to show `user`: their personal top `n`, or while they are cold
    /// ([`Self::is_cold`]) the popular-and-well-rated list, each with the
    /// model's prediction for them.
    pub fn for_user(&mut self, user: u32, n: u32) -> Result<Vec<Scored>> {
        if !self.is_cold(user) {
            return self.recommendations(user, n);
        }
        let mut list = cold_start::popular_and_well_rated(self.stats(), n as usize);
        let movies: Vec<u32> = list.iter().map(|s| s.item).collect();
        for (scored, predicted) in list.iter_mut().zip(self.predict(user, &movies)?) {
            scored.prediction = predicted;
        }
        Ok(list)
    }

    pub fn predict(&mut self, user: u32, movies: &[u32]) -> Result<Vec<f32>> {
        let pairs: Vec<(u32, u32)> = movies.iter().map(|&m| (user, m)).collect();
        self.client.predict(&pairs)
    }

    fn fold_in_you(&mut self) -> Result<()> {
        let ratings: Vec<(u32, f32)> =
            your_triples(&self.dataset, &self.log, self.you).map(|(_, i, r)| (i, r)).collect();
        self.client.fold_in(self.you, ratings)
    }
}

/// Prints a first start's training progress on stderr, one line per model
/// (stdout stays clean for `--json`; the terminal UI is not up yet).
pub fn print_progress(spec: &ModelSpec, p: &Progress) {
    if p.visited == 0 && p.epoch > 0 {
        let role = if spec.is_ranking() { "ranking" } else { "rating" };
        eprint!("\rtraining the default {role} model ({}) once: epoch {}/{}", spec.name(), p.epoch, p.epochs);
        if p.finished {
            eprintln!();
        }
    }
}

/// Your logged ratings as engine triples; movies no longer in the dataset are skipped.
fn your_triples<'a>(dataset: &'a Dataset, log: &'a RatingsLog, you: u32) -> impl Iterator<Item = Triple> + 'a {
    log.ratings().iter().filter_map(move |(&id, e)| dataset.movie_index(id).map(|i| (you, i, e.value)))
}

/// Trains the rating model `spec`, then the ranking model if any, and saves both.
fn train_and_save(
    client: &mut EngineClient,
    module: &EngineModule,
    dataset: &Dataset,
    train_ratings: usize,
    (spec, ranking): (ModelSpec, Option<ModelSpec>),
    path: &std::path::Path,
    mut on_progress: impl FnMut(&ModelSpec, &Progress),
) -> Result<ModelMeta> {
    let started = Instant::now();
    let mut train = |spec| {
        client.train(spec, |p| {
            on_progress(&spec, p);
            ControlFlow::Continue(())
        })
    };
    let last = train(spec)?;
    if let Some(ranking) = ranking {
        train(ranking)?;
    }
    let meta = ModelMeta {
        algorithm: spec.name().into(),
        params: spec,
        ranking,
        dataset: dataset.name.clone(),
        engine: client.hello().engine.clone(),
        engine_sha256: module.sha256.clone(),
        train_ratings,
        train_rmse: last.train_rmse,
        training_seconds: started.elapsed().as_secs_f64(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    models::save(path, &meta, &client.export_model()?)?;
    Ok(meta)
}
