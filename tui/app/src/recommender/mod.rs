//! The running recommender for one dataset and one person: the dataset, an
//! engine instance holding the model, and your ratings log. The terminal UI
//! and the CLI's `rate`/`ratings`/`recommend --me` both work through it, so
//! both give the same list — including the [`cold_start`] list for someone
//! who has rated nothing yet.
//!
//! You are one extra user of the dataset (dense index = number of dataset
//! users). Your ratings go to the log first (synced), then into the engine by
//! fold-in, so the model learns at once without retraining.
//!
//! The engine runs on its own thread ([`engine`]): the CLI waits for each
//! answer, the terminal app asks with the `*_async` methods and gets the
//! answer as an event.

pub mod cold_start;
pub mod engine;
pub mod features;
pub mod why;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use cinema_protocol::{Explanation, Features, HybridScored, Mark, ModelSpec, Progress, Role, Scored, Triple, call};

use crate::eval::score::{scale, triples};
use crate::lab::{self, train::Plan};
use cinema_host::{EngineClient, EngineModule, Limits, Runtime};
use cinema_store::dataset::Dataset;
use cinema_store::history::{self, Preview, export::Export};
use cinema_store::home::Home;
use cinema_store::last_view::{self, LastView, ModelKey};
use cinema_store::models::ModelMeta;
use cinema_store::prefs::Prefs;
use cinema_store::ratings_log::{Change, Entry, RatingsLog, What};
use cinema_store::stats::MovieStats;
use cinema_store::versions::Versions;
pub use engine::Ask;
use engine::EngineThread;

/// Content neighbours kept per movie: more than any list shows, few enough
/// that a 62,000-movie catalogue's model stays near 25 MB.
pub const CONTENT_NEIGHBOURS: u32 = 50;
pub use cinema_store::prefs::DEFAULT_WEIGHT;

/// The algorithm that serves while a first start's models train (see
/// [`Recommender::open_behind`]).
pub const STAND_IN: &str = "baseline";
/// A stand-in needs rough biases only: two of the baseline's sweeps (each a
/// pass over every rating, 0.7 s at 25 million inside wasm), not its ten.
pub const STAND_IN_EPOCHS: i64 = 2;

/// How "similar" is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarBy {
    /// Genres, title words and tags (the content model).
    Content,
    /// Who watched what: the collaborative model's movie vectors.
    Cf,
}

/// An explanation, and the models the rating model is made of with their
/// weights (a blend's members; empty for a model of one piece).
#[derive(Debug, Clone)]
pub struct Explained {
    pub explanation: Explanation,
    pub parts: Vec<(String, f32)>,
}

/// Movies like one movie, both ways.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alike {
    pub content: Vec<(u32, f32)>,
    pub cf: Vec<(u32, f32)>,
}

/// Where the model in the engine came from at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOrigin {
    Loaded,
    Trained,
    /// Nothing saved could serve, so a quick baseline does while the
    /// module's default models train behind the app ([`Recommender::open_behind`]).
    StandIn,
}

pub struct Recommender {
    pub dataset: Arc<Dataset>,
    /// Per-movie counts, means and rating distributions, computed on first
    /// use: a one-shot CLI command such as `cinema rate` never needs them.
    stats: OnceCell<MovieStats>,
    /// The dataset's fingerprint, which versions are checked against (a
    /// pass over every rating: computed once).
    fingerprint: OnceCell<String>,
    engine: EngineThread,
    /// Every movie's content terms, sent again whenever a training resets the engine.
    features: Arc<Vec<Features>>,
    /// Where the list last shown to you is kept for the next start.
    last_view: PathBuf,
    /// Where files you export from the app are written.
    exports: PathBuf,
    log: RatingsLog,
    /// Every trained model of this dataset; the active one serves.
    versions: Versions,
    you: u32,
    pub origin: ModelOrigin,
    /// The serving model; while [`Self::loading`], the one expected to.
    pub meta: ModelMeta,
    loading: bool,
    /// Problems found and repaired while opening (shown to the user).
    pub warnings: Vec<String>,
    /// What the person chose that every Cinema keeps (the hybrid weight).
    pub prefs: Prefs,
}

impl Recommender {
    /// Opens `dataset` for you: replays your ratings, restores the saved
    /// model (or trains the module's default once, reporting progress, and
    /// saves it), then folds your ratings in; returns once all is done.
    pub fn open(
        home: &Home,
        runtime: &Runtime,
        module: &EngineModule,
        limits: Limits,
        dataset: Dataset,
        on_progress: impl FnMut(&ModelSpec, Role, &Progress) + Send + 'static,
    ) -> Result<Recommender> {
        let (mut r, load) = Self::prepare(home, runtime, module, limits, dataset, false)?;
        r.wait_for(load, on_progress)?;
        Ok(r)
    }

    /// [`Self::open`] for the app, which draws before the engine is ready:
    /// returns as soon as what is on disk is read (your ratings, which
    /// version will serve) and leaves loading the ratings and the model to
    /// the engine thread, whose outcome goes to `done` there; until then
    /// [`Self::loading`] holds, and every request waits behind the load.
    /// `done` also gets the dataset, to tell this opening from a later one.
    ///
    /// When no saved version can serve, the module's `baseline` (one pass
    /// per epoch over the ratings: seconds even at 25 million) is trained
    /// there as a stand-in, with the origin [`ModelOrigin::StandIn`], and the
    /// caller trains the real models (the app does so behind the screen). A
    /// module without a baseline trains its defaults before this returns,
    /// reporting to `on_progress`, and `done` is not called.
    pub fn open_behind(
        home: &Home,
        runtime: &Runtime,
        module: &EngineModule,
        limits: Limits,
        dataset: Dataset,
        on_progress: impl FnMut(&ModelSpec, Role, &Progress) + Send + 'static,
        done: impl FnOnce(Arc<Dataset>, Result<Opened>) + Send + 'static,
    ) -> Result<Recommender> {
        let (mut r, load) = Self::prepare(home, runtime, module, limits, dataset, true)?;
        if load.candidates.fits.is_empty() && load.stand_in.is_none() {
            r.wait_for(load, on_progress)?;
        } else {
            let dataset = r.dataset.clone();
            r.engine.submit(move |client| done(dataset, load.run(client, &mut |_, _, _| {})));
        }
        Ok(r)
    }

    /// What opening needs from disk, read on the calling thread, with the
    /// engine module started on its thread (from the compile cache:
    /// milliseconds); the rest is the returned [`Load`]. `meta` and `origin`
    /// are what the load is expected to give: the first version that fits
    /// by its metadata, else a stand-in (`at_once`) when the module has one.
    fn prepare(
        home: &Home,
        runtime: &Runtime,
        module: &EngineModule,
        limits: Limits,
        dataset: Dataset,
        at_once: bool,
    ) -> Result<(Recommender, Load)> {
        let place = cinema_store::place::place(home, &dataset);
        let (log, mut warnings) = RatingsLog::open(&place.ratings_path(home))?;
        warnings.extend(place.warning.clone());
        let client = EngineClient::start(runtime, module, limits)?;
        let (versions, migrated) = Versions::open(&place.models_dir(home))?;
        warnings.extend(migrated);
        let dataset = Arc::new(dataset);
        let fingerprint = OnceCell::from(dataset.fingerprint());
        let candidates = candidates(&client, &versions, fingerprint.get().expect("just set"), &mut warnings)?;
        let hello = client.hello();
        let stand_in = hello
            .algorithm(STAND_IN)
            .map(stand_in_spec)
            .filter(|s| at_once && Some(s) != hello.default_rating().as_ref());
        let (meta, origin) = match (candidates.fits.first(), &stand_in) {
            (Some((_, meta)), _) => (meta.clone(), ModelOrigin::Loaded),
            (None, Some(spec)) => (lab::train::pending(&client, &dataset, spec.clone()), ModelOrigin::StandIn),
            // Trained by the load, which is then waited for.
            (None, None) => {
                let spec = hello.default_rating().context("the engine offers no rating model")?;
                (lab::train::pending(&client, &dataset, spec), ModelOrigin::Trained)
            }
        };
        let features = Arc::new(features::features(&dataset));
        let r = Recommender {
            dataset: dataset.clone(),
            stats: OnceCell::new(),
            fingerprint,
            engine: EngineThread::spawn(client),
            features: features.clone(),
            last_view: place.last_view_path(home),
            exports: home.exports_dir(),
            log,
            versions: versions.clone(),
            you: dataset.user_ids.len() as u32,
            origin,
            meta,
            // Until the load is settled.
            loading: true,
            warnings,
            prefs: Prefs::of(home),
        };
        let load = Load { dataset, versions, features, yours: r.your_fold_in(), candidates, stand_in };
        Ok((r, load))
    }

    /// Runs `load` on the engine thread and waits for it.
    fn wait_for(
        &mut self,
        load: Load,
        mut on_progress: impl FnMut(&ModelSpec, Role, &Progress) + Send + 'static,
    ) -> Result<()> {
        let opened = self.engine.call(move |client| load.run(client, &mut on_progress));
        self.settle(opened).map(drop)
    }

    /// Takes the outcome of the load [`Self::open_behind`] left to the
    /// engine thread: the model that serves and the warnings to show. A
    /// model activated since (which ran after the load) is kept.
    pub fn settle(&mut self, opened: Result<Opened>) -> Result<Vec<String>> {
        let was_loading = std::mem::replace(&mut self.loading, false);
        let opened = opened?;
        if was_loading {
            (self.meta, self.origin) = (opened.meta, opened.origin);
        }
        self.warnings.extend(opened.warnings.iter().cloned());
        Ok(opened.warnings)
    }

    /// The engine is still loading the ratings and the model (see
    /// [`Self::open_behind`]): requests wait behind it.
    pub fn loading(&self) -> bool {
        self.loading
    }

    /// The list last shown to you with the model that serves, kept from an
    /// earlier run (see [`cinema_store::last_view`]).
    pub fn last_view(&self) -> Option<LastView> {
        last_view::load(&self.last_view, &self.model_key()?, self.dataset.movies.len())
    }

    /// The serving version, as a key for the lists it made (`None` for a stand-in).
    fn model_key(&self) -> Option<ModelKey> {
        (self.meta.id != 0).then_some(ModelKey { id: self.meta.id, created: self.meta.created })
    }

    /// Per-movie counts, means and rating distributions of the dataset.
    pub fn stats(&self) -> &MovieStats {
        self.stats.get_or_init(|| MovieStats::compute(&self.dataset))
    }

    /// The dataset's fingerprint (see `Dataset::fingerprint`).
    pub fn fingerprint(&self) -> &str {
        self.fingerprint.get_or_init(|| self.dataset.fingerprint())
    }

    /// The `n` movies most like `movie` by `by`, with their cosine.
    pub fn similar(&self, movie: u32, by: SimilarBy, n: u32) -> Ask<Vec<(u32, f32)>> {
        self.engine.ask(move |c| match by {
            SimilarBy::Content => c.ask(call::SimilarContent { item: movie, n }),
            SimilarBy::Cf => c.ask(call::Similar { item: movie, n }),
        })
    }

    /// Movies like `movie` both ways. A way the model cannot answer (no
    /// vectors, no content) is left empty.
    pub fn alike(&self, movie: u32, n: u32) -> Ask<Alike> {
        self.engine.ask(move |c| {
            let answer = |r: Result<Vec<(u32, f32)>>| match r {
                Err(e) if !cinema_host::is_fault(&e) => Ok(Vec::new()),
                other => other,
            };
            let content = answer(c.ask(call::SimilarContent { item: movie, n }))?;
            Ok(Alike { content, cf: answer(c.ask(call::Similar { item: movie, n }))? })
        })
    }

    /// Why `movie` is on `user`'s list, with the hybrid parts under `weight`
    /// and its place under `diversity`, and what the rating model is made of.
    pub fn explain(&self, user: u32, movie: u32, weight: f32, diversity: f32) -> Ask<Explained> {
        self.engine.ask(move |c| {
            if diversity > 0.0 {
                c.prepare_diversity()?;
            }
            let explanation = c.ask(call::Explain { user, item: movie, weight, diversity })?;
            Ok(Explained { explanation, parts: c.parts()? })
        })
    }

    /// The top `n` at each `(weight, diversity)` of `settings`.
    pub fn impact(&self, user: u32, n: u32, settings: Vec<(f32, f32)>) -> Ask<Vec<Vec<HybridScored>>> {
        self.engine.ask(move |c| {
            if settings.iter().any(|s| s.1 > 0.0) {
                c.prepare_diversity()?;
            }
            settings
                .iter()
                .map(|&(weight, diversity)| c.ask(call::RecommendHybrid { user, n, weight, diversity }))
                .collect()
        })
    }

    /// Which of `ratings` (`(movie, value)`) count as liked, by the rule the
    /// engine counts them with ([`cinema_protocol::Scale::liked`]; its
    /// half-star leniency on a scale of half stars).
    pub fn liked(&self, ratings: &[(u32, f32)]) -> Vec<u32> {
        let half_stars = self.dataset.scale.step < 1.0;
        crate::eval::score::scale(&self.dataset).liked(ratings, half_stars)
    }

    /// Your dense user index.
    pub fn you(&self) -> u32 {
        self.you
    }

    /// Your ratings by the dataset's movie id.
    pub fn your_ratings(&self) -> &BTreeMap<u32, Entry> {
        self.log.ratings()
    }

    /// Where the app writes an exported file named `file` (the data
    /// directory's `exports/`, created here).
    pub fn export_path(&self, file: &str) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.exports)
            .with_context(|| format!("could not create {}", self.exports.display()))?;
        Ok(self.exports.join(file))
    }

    /// Your marks (seen it, not interested) by the dataset's movie id.
    pub fn your_marks(&self) -> &BTreeMap<u32, Mark> {
        self.log.marks()
    }

    /// Your watchlist by the dataset's movie id, in your order.
    pub fn your_watchlist(&self) -> &[u32] {
        self.log.watchlist()
    }

    /// Rates the movie at dense index `movie`; saved to disk, then learned.
    pub fn rate(&mut self, movie: u32, value: f32) -> Result<Change> {
        let change = self.save(Edit::Rate(movie, value))?;
        self.fold_in_you()?;
        Ok(change.expect("a rating always changes the log"))
    }

    /// What importing `export` (your Letterboxd or IMDb history) would
    /// change, against your ratings now.
    pub fn preview_history(&self, export: &Export) -> Preview {
        history::preview(export, &self.dataset, self.log.ratings())
    }

    /// Writes a preview's ratings to your log as one batch (undone whole)
    /// without telling the engine: the next view with `learn` does.
    pub fn import_history(&mut self, preview: &Preview) -> Result<usize> {
        let batch: Vec<(u32, f32)> = preview.ratings.iter().map(|p| (p.movie_id, p.rating)).collect();
        self.log.rate_batch(&batch)
    }

    pub fn remove(&mut self, movie: u32) -> Result<Option<Change>> {
        let change = self.save(Edit::Remove(movie))?;
        self.fold_in_you()?;
        Ok(change)
    }

    pub fn undo(&mut self) -> Result<Option<Change>> {
        let change = self.save(Edit::Undo)?;
        self.fold_in_you()?;
        Ok(change)
    }

    /// Writes `edit` to your ratings log (synced) without telling the
    /// engine: the next [`Self::view`] with `learn` does.
    pub fn save(&mut self, edit: Edit) -> Result<Option<Change>> {
        save(&self.dataset, &mut self.log, edit)
    }

    /// Whether another Cinema changed your ratings since this one last
    /// read them; if so they are read in (the next view with `learn`
    /// teaches the engine). Cheap when nothing changed: one `stat`.
    pub fn pick_up_changes(&mut self) -> Result<bool> {
        if !self.log.changed_elsewhere() {
            return Ok(false);
        }
        self.log.refresh()
    }

    /// Top `n` for `user` (you or any dataset user), excluding what they rated.
    pub fn recommendations(&mut self, user: u32, n: u32) -> Result<Vec<Scored>> {
        self.engine.call(move |c| c.ask(call::Recommend { user, n }))
    }

    /// What the app shows for `user`, computed on the engine thread after
    /// any work handed over before — folding your ratings in first when
    /// `learn`.
    ///
    /// `weight` blends the list with content (`None`: the list alone) and
    /// `diversity` (0 to 1) prices movies by how often lists show them.
    pub fn view(&self, user: u32, n: u32, learn: bool, weight: Option<f32>, diversity: f32) -> Ask<View> {
        let ask = self.view_request(user, n, learn, weight, diversity);
        self.engine.ask(move |client| ask.run(client))
    }

    fn view_request(&self, user: u32, n: u32, learn: bool, weight: Option<f32>, diversity: f32) -> ViewRequest {
        // Without a ranking model a cold viewer's list would be ranked by
        // movie biases, which favour films a handful of people rated.
        let cold = self.is_cold(user) && self.meta.ranking.is_none();
        let mut marked: Vec<u32> = match user == self.you {
            true => self.log.marks().keys().filter_map(|&id| self.dataset.movie_index(id)).collect(),
            false => Vec::new(),
        };
        marked.sort_unstable();
        ViewRequest {
            user,
            n,
            movies: self.dataset.movies.len() as u32,
            fold_in: learn.then(|| self.your_fold_in()),
            cold: cold.then(|| cold_start::popular_and_well_rated(self.stats(), n as usize + marked.len())),
            // All on CF is CF's own list: asked for as such, with no parts.
            weight: weight.filter(|&w| w < 1.0),
            // "Most watched" for someone who rated nothing is that list.
            diversity: if self.is_cold(user) { 0.0 } else { diversity },
            marked,
            keep: (user == self.you && !cold)
                .then(|| self.model_key().map(|key| (self.last_view.clone(), key)))
                .flatten(),
        }
    }

    /// Trains the module's default models again on the engine thread (on
    /// every rating, nothing held out), with `on_progress` called there
    /// after every step, saves them as a new active version, folds your
    /// ratings back in, and hands the new version to `done`.
    pub fn retrain(
        &self,
        on_progress: impl FnMut(&ModelSpec, Role, &Progress) + Send + 'static,
        done: impl FnOnce(Result<ModelMeta>) + Send + 'static,
    ) -> Result<()> {
        let hello = self.engine.hello();
        let plan = Plan {
            rating: hello.default_rating().context("the engine offers no rating model")?,
            ranking: hello.default_ranking(),
            evaluate: false,
            quick: false,
        };
        let (dataset, versions, fold) = (self.dataset.clone(), self.versions.clone(), self.your_fold_in());
        let features = self.features.clone();
        self.engine.submit(move |client| {
            let trained = lab::train::run(client, &dataset, &fold.ratings, plan, &versions, reporting(on_progress))
                .and_then(|trained| {
                    let trained = trained.context("the training was cancelled")?;
                    if let Some(why) = trained.unsaved {
                        tracing::warn!("the retrained model serves this session but could not be saved: {why}");
                    }
                    Ok(trained.meta)
                });
            // The training reset the engine's data, and the content model with it.
            let content = |meta| build_content(client, &features, &mut Vec::new()).map(|()| meta);
            done(trained.and_then(content).and_then(|meta| client.ask(fold).map(|()| meta)));
        });
        Ok(())
    }

    /// The engine module's handshake: its name and its algorithms.
    pub fn hello(&self) -> &cinema_protocol::Hello {
        self.engine.hello()
    }

    /// The sha256 of the engine module serving.
    pub fn module_sha256(&self) -> &str {
        self.engine.module_sha256()
    }

    /// The dataset's model versions.
    pub fn versions(&self) -> &Versions {
        &self.versions
    }

    /// Serves version `id` from now on: loads it into the engine, folds
    /// your ratings in, and makes it the active version on disk. Refused,
    /// with the reason, for a version this module or dataset cannot use.
    pub fn activate(&mut self, id: u32) -> Result<ModelMeta> {
        let (meta, bytes) = self.versions.load(id)?;
        if let Some(why) = lab::unusable(&meta, self.engine.module_sha256(), self.fingerprint()) {
            bail!("v{id} cannot serve here: it was {why}");
        }
        let fold = self.your_fold_in();
        self.engine.call(move |c| {
            c.ask(call::ImportModel { bytes })?;
            c.ask(fold)
        })?;
        self.versions.set_active(id)?;
        // The engine works in order: any load it had was done before this.
        self.loading = false;
        self.meta = meta.clone();
        if self.stand_in() {
            // The first real model: what the views say of it is "trained".
            self.origin = ModelOrigin::Trained;
        }
        Ok(meta)
    }

    /// `user`'s top `n` under version `id`, without making it active (the
    /// active model is put back), after the work handed over before.
    pub fn top_under(&self, id: u32, user: u32, n: u32) -> Ask<Vec<Scored>> {
        // Read on the engine thread: a model can be hundreds of megabytes.
        let (versions, dataset) = (self.versions.clone(), self.dataset.clone());
        let fold = self.your_fold_in();
        self.engine.ask(move |c| {
            let (meta, bytes) = versions.load(id)?;
            if let Some(why) = lab::unusable(&meta, c.module_sha256(), &dataset.fingerprint()) {
                bail!("v{id} cannot serve here: it was {why}");
            }
            let active = c.ask(call::ExportModel {})?;
            let serve = |c: &mut EngineClient, bytes| {
                c.ask(call::ImportModel { bytes })?;
                c.ask(fold.clone())
            };
            serve(c, bytes)?;
            let top = c.ask(call::Recommend { user, n });
            serve(c, active)?;
            top
        })
    }

    /// Nothing personal to go on: `user` is you, and you have rated nothing
    /// (the list is then what the ranking model's average viewer watches, or
    /// without one the popular-and-well-rated statistic); or only a
    /// stand-in serves.
    pub fn is_cold(&self, user: u32) -> bool {
        let seen = self.log.marks().values().any(|&m| m == Mark::Seen);
        self.stand_in() || (user == self.you && self.log.ratings().is_empty() && !seen)
    }

    /// A quick baseline serves while the first models train: lists are
    /// then the cold list, for everyone.
    pub fn stand_in(&self) -> bool {
        self.origin == ModelOrigin::StandIn
    }

    pub fn predict(&mut self, user: u32, movies: &[u32]) -> Result<Vec<f32>> {
        let pairs: Vec<(u32, u32)> = movies.iter().map(|&m| (user, m)).collect();
        self.engine.call(move |c| c.predict(&pairs))
    }

    /// Your ratings and marks as the engine learns them: by dense movie index.
    pub fn your_fold_in(&self) -> call::FoldIn {
        let ratings = your_triples(&self.dataset, &self.log, self.you).map(|(_, i, r)| (i, r)).collect();
        let marks = self.log.marks().iter().filter_map(|(&id, &m)| Some((self.dataset.movie_index(id)?, m)));
        call::FoldIn { user: self.you, ratings, marks: marks.collect() }
    }

    fn fold_in_you(&mut self) -> Result<()> {
        let fold = self.your_fold_in();
        self.engine.call(move |c| c.ask(fold))
    }
}

/// Writes `edit` to `log` (synced), checked against `dataset`: the movie
/// must exist and the rating be on its scale. Needs no engine, so a
/// one-shot `cinema rate` is saved before any model is loaded or trained.
pub fn save(dataset: &Dataset, log: &mut RatingsLog, edit: Edit) -> Result<Option<Change>> {
    let id = |movie: u32| dataset.movies.get(movie as usize).map(|m| m.id).context("no such movie");
    match edit {
        Edit::Rate(movie, value) => {
            let id = id(movie)?;
            if !dataset.scale.contains(value) {
                let s = dataset.scale;
                bail!("{value} is not a rating on this dataset's scale ({}–{} in steps of {})", s.min, s.max, s.step);
            }
            log.rate(id, value).map(Some)
        }
        Edit::Remove(movie) => log.remove(id(movie)?),
        Edit::Mark(movie, mark) => log.mark(id(movie)?, mark),
        Edit::Watch(movie, place) => log.watch(id(movie)?, place),
        Edit::Undo => log.undo(),
    }
}

/// A change said in words, e.g. `★4 → unrated`, `not interested`,
/// `watchlist #3 → #1`, with stars written by `stars`.
pub fn said(what: What, stars: &dyn Fn(f32) -> String) -> String {
    let stars = |v: Option<f32>| v.map_or_else(|| "unrated".to_owned(), stars);
    match what {
        What::Rating(before, after) => format!("{} → {}", stars(before), stars(after)),
        What::Mark(_, Some(Mark::Seen)) => "seen it (counts as watched)".into(),
        What::Mark(_, Some(Mark::Hidden)) => "not interested: it leaves your lists".into(),
        What::Mark(Some(Mark::Hidden), None) => "interested again: it may be listed".into(),
        What::Mark(_, None) => "no longer marked seen".into(),
        What::Watch(None, Some(at)) => format!("on your watchlist at #{}", at + 1),
        What::Watch(Some(from), Some(to)) => format!("watchlist #{} → #{}", from + 1, to + 1),
        What::Watch(_, None) => "off your watchlist".into(),
    }
}

/// A change to your ratings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    /// Rate the movie at this dense index.
    Rate(u32, f32),
    Remove(u32),
    /// Mark it seen or not interested (`None`: clear the mark).
    Mark(u32, Option<Mark>),
    /// Put it at this place on the watchlist (0 is the top; past the end is
    /// the end), or with `None` take it off.
    Watch(u32, Option<u32>),
    Undo,
}

/// What the app shows for one viewer: the model's prediction for every
/// movie (by dense index) and their list.
#[derive(Debug, Clone)]
pub struct View {
    pub user: u32,
    pub predicted: Vec<f32>,
    pub recs: Vec<Scored>,
    /// Each listed movie's `(cf, content)` parts when the list is a hybrid
    /// (in list order); empty otherwise.
    pub parts: Vec<(f32, f32)>,
}

/// Everything a view needs from this thread, so the engine thread needs
/// nothing of the recommender's.
struct ViewRequest {
    user: u32,
    n: u32,
    movies: u32,
    fold_in: Option<call::FoldIn>,
    /// The cold-start list, when the viewer has nothing personal yet.
    cold: Option<Vec<Scored>>,
    /// Movies the viewer marked, ascending: never listed, whatever the
    /// module answers.
    marked: Vec<u32>,
    weight: Option<f32>,
    diversity: f32,
    /// Where to keep the answer for the next start, and the model it comes from.
    keep: Option<(PathBuf, ModelKey)>,
}

impl ViewRequest {
    fn run(self, client: &mut EngineClient) -> Result<View> {
        if let Some(fold) = self.fold_in {
            client.ask(fold)?;
        }
        let pairs: Vec<(u32, u32)> = (0..self.movies).map(|m| (self.user, m)).collect();
        let predicted = client.predict(&pairs)?;
        let mut parts = Vec::new();
        let recs = match (self.cold, self.weight) {
            (Some(mut list), _) => {
                for s in &mut list {
                    s.prediction = predicted.get(s.item as usize).copied().unwrap_or(f32::NAN);
                }
                list
            }
            (None, None) if self.diversity == 0.0 => client.ask(call::Recommend { user: self.user, n: self.n })?,
            (None, weight) => {
                if self.diversity > 0.0 {
                    client.prepare_diversity()?;
                }
                let (user, n, diversity) = (self.user, self.n, self.diversity);
                let list = client.ask(call::RecommendHybrid { user, n, weight: weight.unwrap_or(1.0), diversity })?;
                if weight.is_some() {
                    parts = list.iter().map(|h| (h.cf, h.content)).collect();
                }
                list.iter().map(|h| Scored { item: h.item, score: h.score, prediction: h.prediction }).collect()
            }
        };
        let listed = |s: &Scored| self.marked.binary_search(&s.item).is_err();
        let mut parts: Vec<(f32, f32)> = match parts.is_empty() {
            true => parts,
            false => recs.iter().zip(parts).filter(|(s, _)| listed(s)).map(|(_, p)| p).collect(),
        };
        let mut recs: Vec<Scored> = recs.into_iter().filter(listed).collect();
        recs.truncate(self.n as usize);
        parts.truncate(self.n as usize);
        let view = View { user: self.user, predicted, recs, parts };
        if let Some((path, model)) = self.keep {
            let kept = LastView {
                model,
                recs: view.recs.clone(),
                parts: view.parts.clone(),
                predicted: view.predicted.clone(),
            };
            if let Err(e) = last_view::save(&path, &kept) {
                tracing::debug!("could not keep the list for the next start: {e:#}");
            }
        }
        Ok(view)
    }
}

/// The stand-in's settings: its defaults, with [`STAND_IN_EPOCHS`] sweeps
/// when it has an `epochs` parameter.
fn stand_in_spec(info: &cinema_protocol::AlgorithmInfo) -> ModelSpec {
    let spec = info.defaults();
    match info.params.iter().any(|p| p.name == "epochs") {
        true => spec.with("epochs", cinema_protocol::Value::Integer(STAND_IN_EPOCHS)),
        false => spec,
    }
}

/// Builds the content model in `client`; a module that does not offer one
/// is noted in `warnings` (similar-by-content and the hybrid's content part
/// are then empty), any other failure is an error.
fn build_content(client: &mut EngineClient, features: &[Features], warnings: &mut Vec<String>) -> Result<()> {
    match client.build_content(features, CONTENT_NEIGHBOURS) {
        Ok(_) => Ok(()),
        Err(e) if e.downcast_ref::<cinema_host::Refused>().is_some() => {
            warnings.push(format!("no content model: {e:#}"));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Prints a first start's training progress on stderr, one line per model
/// (stdout stays clean for `--json`; the terminal UI is not up yet). On a
/// terminal the line counts up in place; into a pipe or a log, where `\r`
/// would pile up, each model gets one line when it finishes.
pub fn print_progress(spec: &ModelSpec, role: Role, p: &Progress) {
    use std::io::IsTerminal;
    if p.visited != 0 || p.epoch == 0 {
        return;
    }
    let role = if role == Role::Ranking { "ranking" } else { "rating" };
    let line = format!("training the default {role} model ({}) once: epoch {}/{}", spec.name(), p.epoch, p.epochs);
    if std::io::stderr().is_terminal() {
        eprint!("\r{line}");
        if p.finished {
            eprintln!();
        }
    } else if p.finished {
        eprintln!("{line}");
    }
}

/// Your logged ratings as engine triples; movies no longer in the dataset are skipped.
fn your_triples<'a>(dataset: &'a Dataset, log: &'a RatingsLog, you: u32) -> impl Iterator<Item = Triple> + 'a {
    log.ratings().iter().filter_map(move |(&id, e)| dataset.movie_index(id).map(|i| (you, i, e.value)))
}

/// Adapts a first start's progress callback to the lab's phases (a first
/// start is never stopped).
fn reporting(
    mut on_progress: impl FnMut(&ModelSpec, Role, &Progress),
) -> impl FnMut(&lab::train::Phase) -> ControlFlow<lab::train::Halt> {
    move |phase| {
        if let lab::train::Phase::Training { role, algorithm, progress, .. } = phase {
            on_progress(&ModelSpec::new(algorithm), *role, progress);
        }
        ControlFlow::Continue(())
    }
}

/// What the engine has found opening a dataset (see [`Recommender::open_behind`]).
#[derive(Debug)]
pub struct Opened {
    pub meta: ModelMeta,
    pub origin: ModelOrigin,
    /// Problems found on the way, to be shown.
    pub warnings: Vec<String>,
}

/// The engine thread's part of opening a dataset: every rating into the
/// engine, a saved version restored (else a stand-in or the first
/// training), the content model and your fold-in.
struct Load {
    dataset: Arc<Dataset>,
    versions: Versions,
    features: Arc<Vec<Features>>,
    /// Your ratings and marks when the dataset was opened.
    yours: call::FoldIn,
    candidates: Candidates,
    /// What serves when no candidate does, if not the first training.
    stand_in: Option<ModelSpec>,
}

impl Load {
    fn run(
        self,
        client: &mut EngineClient,
        on_progress: &mut dyn FnMut(&ModelSpec, Role, &Progress),
    ) -> Result<Opened> {
        let started = std::time::Instant::now();
        let mut took = Vec::new();
        let mut lap = |what: &'static str| took.push((what, started.elapsed()));
        let dataset = &self.dataset;
        let mut train = triples(&dataset.ratings);
        let you = self.yours.user;
        train.extend(self.yours.ratings.iter().map(|&(i, r)| (you, i, r)));
        client.load(you + 1, dataset.movies.len() as u32, scale(dataset), &train, &[])?;
        lap("ratings");
        let mut warnings = Vec::new();
        let restored = restore(client, &self.versions, self.candidates, &mut warnings)?;
        let (meta, origin) = match (restored, self.stand_in) {
            (Some(meta), _) => (meta, ModelOrigin::Loaded),
            (None, Some(spec)) => (lab::train::stand_in(client, dataset, train.len(), spec)?, ModelOrigin::StandIn),
            (None, None) => {
                let hello = client.hello();
                let plan = Plan {
                    rating: hello.default_rating().context("engine offers no rating model")?,
                    ranking: hello.default_ranking(),
                    evaluate: false,
                    quick: false,
                };
                let trained = lab::train::run(
                    client,
                    dataset,
                    &self.yours.ratings,
                    plan,
                    &self.versions,
                    reporting(on_progress),
                )?
                .context("the first training was cancelled")?;
                if let Some(why) = trained.unsaved {
                    warnings.push(format!("the trained model serves this session but could not be saved: {why}"));
                }
                (trained.meta, ModelOrigin::Trained)
            }
        };
        lap("model");
        build_content(client, &self.features, &mut warnings)?;
        lap("content");
        client.ask(self.yours)?;
        lap("fold-in");
        tracing::info!("opened {} in {took:.1?} (time at the end of each step)", dataset.name);
        Ok(Opened { meta, origin, warnings })
    }
}

/// The versions that may serve here, best first: the active one, then the
/// newest first, each judged by its metadata alone (the model itself is
/// checked when it is loaded). A pointer naming no version, and versions
/// of which none fits, are said in `warnings`.
fn candidates(
    client: &EngineClient,
    versions: &Versions,
    fingerprint: &str,
    warnings: &mut Vec<String>,
) -> Result<Candidates> {
    let (active, pointer) = versions.active_and_why()?;
    warnings.extend(pointer);
    let Some(active) = active else { return Ok(Candidates::default()) };
    let wants_ranking = client.hello().default_ranking().is_some();
    let sha = client.module_sha256();
    let (mut fits, mut passed_over) = (Vec::new(), None);
    let others = versions.ids()?.into_iter().rev().filter(|&id| id != active);
    for id in std::iter::once(active).chain(others) {
        let why = match versions.peek(id) {
            Err(e) => format!("{e:#}"),
            // Saved before ranking models existed: retrain, so the list is ranked for watching.
            Ok(meta) if meta.ranking.is_none() && wants_ranking && !meta.ranking_chosen => {
                "has no ranking model".into()
            }
            Ok(meta) => match lab::unusable(&meta, sha, fingerprint) {
                Some(why) => format!("was {why}"),
                None => {
                    fits.push((id, meta));
                    continue;
                }
            },
        };
        if id == active {
            passed_over = Some(format!("the active model v{id} {why}"));
        }
    }
    if fits.is_empty() {
        warnings.push(retraining(client, passed_over.take()));
    }
    Ok(Candidates { active: Some(active), fits, passed_over })
}

/// Says that nothing saved serves (`problem`: why the active version does not).
fn retraining(client: &EngineClient, problem: Option<String>) -> String {
    let (engine, sha) = (&client.hello().engine, client.module_sha256());
    format!("{}; retraining with {engine} ({})", problem.unwrap_or_default(), lab::short(sha))
}

#[derive(Default)]
struct Candidates {
    /// The version the pointer names (else the newest), if any.
    active: Option<u32>,
    /// The versions that may serve, best first.
    fits: Vec<(u32, ModelMeta)>,
    /// Why the active version is not the first that fits, if it is not.
    passed_over: Option<String>,
}

/// Loads the first of `candidates` whose model is whole and fits the
/// engine; `None`: none is, and why goes to `warnings`.
fn restore(
    client: &mut EngineClient,
    versions: &Versions,
    candidates: Candidates,
    warnings: &mut Vec<String>,
) -> Result<Option<ModelMeta>> {
    let Candidates { active, fits, mut passed_over } = candidates;
    let tried = !fits.is_empty();
    for (id, _) in fits {
        let why = match versions.load(id) {
            Err(e) => format!("{e:#}"),
            Ok((meta, bytes)) => match client.ask(call::ImportModel { bytes }) {
                Ok(()) => {
                    // Said, not repaired: a read never moves the pointer.
                    if let Some(problem) = passed_over {
                        warnings.push(format!(
                            "{problem}; serving v{id} instead (`cinema versions activate {id}` makes that lasting)"
                        ));
                    }
                    return Ok(Some(meta));
                }
                Err(e) => format!("no longer fits ({e:#})"),
            },
        };
        if Some(id) == active {
            passed_over = Some(format!("the active model v{id} {why}"));
        }
    }
    // (With nothing to try, `candidates` has said so.)
    if tried {
        warnings.push(retraining(client, passed_over));
    }
    Ok(None)
}
