//! The terminal app's state: what is on screen and the data the views show.
//! Every engine call goes through the [`Recommender`] held here, on its
//! engine thread: the app asks, keeps drawing and answering keys, and
//! takes the answer when it comes as an event. A failed call becomes a
//! toast and the app stays up.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cinema_protocol::Scored;

use super::context::{Jobs, Then};
use super::cursor::Cursor;
use super::insight::Insight;
use super::jobs::{JobId, Sink};
use super::keys::Context;
use super::lab::LabPanel;
use super::query::{self, BrowseQuery, Columns};
use super::shelf::Shelf;
use super::theme::Theme;
pub use super::toast::{Level, Toast};
use super::work::{Job, Stage};
use crate::recommender::{Recommender, View};
use cinema_store::ratings_log::Change;

/// How many recommendations are fetched (the views show as many as fit).
pub const RECOMMENDATIONS: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Browse,
    Recommendations,
    Ratings,
    /// What you mean to watch, in your order.
    Watchlist,
    /// Import or download a dataset.
    Data,
    /// Train a model with live metrics, tune it.
    Lab,
    /// The saved model versions: activate, delete, compare.
    Versions,
}

impl Tab {
    pub const ALL: [Tab; 7] =
        [Tab::Browse, Tab::Recommendations, Tab::Ratings, Tab::Watchlist, Tab::Data, Tab::Lab, Tab::Versions];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Browse => "Browse",
            Tab::Recommendations => "For you",
            Tab::Ratings => "Ratings",
            Tab::Watchlist => "Watchlist",
            Tab::Data => "Data",
            Tab::Lab => "Lab",
            Tab::Versions => "Versions",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

/// Whose eyes the app looks through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    You,
    /// A dataset user (dense index), read-only.
    User(u32),
}

/// The Data view: importing or downloading a dataset to switch to, or
/// importing your ratings from Letterboxd or IMDb.
#[derive(Default)]
pub struct DataPanel {
    /// The path being typed, while the input is open.
    pub input: Option<String>,
    /// The path typed is of your ratings export, not of a dataset.
    pub input_history: bool,
    /// Your ratings export, read and matched, waiting for a yes.
    pub history: Option<HistoryPreview>,
    pub running: Option<Running>,
    /// Why the last import or download failed (for an import: file:line: reason).
    pub error: Option<String>,
    /// The path of the import that failed and whether it was of your
    /// ratings: `i` (or `I`) offers it again for editing, not an empty box.
    pub retry: Option<(bool, String)>,
    /// Datasets opened before, newest first, read when the path box opens.
    pub recent: Vec<PathBuf>,
    /// Which of `recent` the box shows (↑/↓); `None`: what was typed.
    pub recalled: Option<usize>,
    /// What was typed before ↑ replaced it, for ↓ to bring back.
    pub typed: String,
    /// The names Tab found when more than one matches.
    pub completions: Vec<String>,
}

/// What importing your history would do, shown before anything is written.
pub struct HistoryPreview {
    pub path: PathBuf,
    pub preview: cinema_store::history::Preview,
    /// First line of the list of rows that did not match.
    pub scroll: usize,
}

/// An import or download under way.
pub struct Running {
    /// Its reports' id (see `jobs`).
    pub id: JobId,
    pub job: Job,
    /// `None` until the worker's first report.
    pub stage: Option<Stage>,
    pub started: Instant,
    /// Time since `started`, as of the last tick (views do not read the clock).
    pub elapsed: Duration,
}

/// How the app works in the background, kept across a switch of datasets:
/// its jobs, and where the engine thread sends the lists and the panels'
/// answers.
pub struct Worker {
    pub jobs: Jobs,
    pub views: Sink<Viewed>,
    pub answers: Sink<super::insight::Answer>,
    pub compared: Sink<super::shelf::Compared>,
}

/// Hands `$panel` of `$app` and a [`Cx`] of the app's shared parts to
/// `$act`, then does what the panel asked for after.
macro_rules! with_panel {
    ($app:expr, $panel:ident, |$p:ident, $cx:ident| $act:expr) => {{
        let app = &mut *$app;
        let mut cx = $crate::ui::context::Cx {
            rec: &mut app.rec,
            toast: &mut app.toast,
            jobs: app.worker.as_ref().map(|w| &w.jobs),
            then: Vec::new(),
        };
        let ($p, $cx) = (&mut app.$panel, &mut cx);
        let result = $act;
        let then = std::mem::take(&mut cx.then);
        app.follow(then);
        result
    }};
}
pub(super) use with_panel;

/// One row of the ratings history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rated {
    pub movie: u32,
    pub value: f32,
    pub timestamp: i64,
}

pub struct App {
    pub rec: Recommender,
    /// The folder or zip the dataset came from (`None`: the built-in demo).
    pub source: Option<PathBuf>,
    pub theme: Theme,
    pub tab: Tab,
    /// The movie detail and the explanation and weight-impact panels.
    pub insight: Insight,
    /// The hybrid's weight on the collaborative part, in tenths from 0 to 1.
    pub weight: f32,
    /// How far the list spreads over the catalogue, in tenths from 0 to 1.
    pub diversity: f32,
    /// The help overlay's scroll position, when it is open.
    pub help: Option<usize>,
    /// The "browse as user" input, when it is open.
    pub prompt: Option<String>,
    /// Keys go to the search box.
    pub typing: bool,
    pub query: BrowseQuery,
    haystacks: Vec<String>,
    /// Browse table: dense movie indices, filtered and sorted.
    pub rows: Vec<u32>,
    pub browse: Cursor,
    pub recs_cursor: Cursor,
    pub ratings_cursor: Cursor,
    pub watch_cursor: Cursor,
    pub viewer: Viewer,
    /// The viewer's ratings by dense movie index.
    pub viewer_ratings: HashMap<u32, f32>,
    /// The viewer's ratings, most recent first.
    pub rated: Vec<Rated>,
    /// The model's prediction for the viewer, per dense movie index (NaN if unknown).
    pub predicted: Vec<f32>,
    pub recs: Vec<Scored>,
    /// Each recommendation's `(cf, content)` parts, in list order (empty
    /// for a list that is not a hybrid, e.g. a cold start).
    pub parts: Vec<(f32, f32)>,
    /// Recommendations that were not in the list before the last change.
    pub fresh: HashSet<u32>,
    pub toast: Option<Toast>,
    pub data: DataPanel,
    pub lab: LabPanel,
    pub shelf: Shelf,
    pub(super) worker: Option<Worker>,
    pub(super) pending: Option<char>,
    /// The engine is working out the lists after a change (shown as "learning").
    pub learning: bool,
    /// The latest view request; an answer to an older one is stale and dropped.
    viewing: JobId,
    pub quit: bool,
}

/// A change to your ratings, saved and waiting for the engine to learn it.
#[derive(Debug, Clone, Copy)]
pub struct Changed {
    pub change: Change,
    pub started: Instant,
}

/// The engine thread's answer to [`App::refresh`].
pub struct Viewed {
    asked: JobId,
    after: Option<Changed>,
    result: Result<View, String>,
    /// The failure ended the module's instance (see `cinema_host::is_fault`).
    fault: bool,
}

impl Viewed {
    fn new(asked: JobId, after: Option<Changed>, result: anyhow::Result<View>) -> Viewed {
        let fault = result.as_ref().err().is_some_and(cinema_host::is_fault);
        Viewed { asked, after, result: result.map_err(|e| format!("{e:#}")), fault }
    }
}

impl App {
    /// Builds the state and asks the engine for the first predictions and
    /// recommendations; warnings from opening show as a toast.
    pub fn new(rec: Recommender) -> App {
        let haystacks = query::haystacks(&rec.dataset);
        let movies = rec.dataset.movies.len();
        let warnings = rec.warnings.join("; ");
        let lab = LabPanel::new(rec.hello(), &rec.meta);
        let (weight, diversity) = (rec.prefs.weight(), rec.prefs.diversity());
        let mut app = App {
            rec,
            source: None,
            theme: Theme::from_env(),
            tab: Tab::Browse,
            insight: Insight::default(),
            weight,
            diversity,
            help: None,
            prompt: None,
            typing: false,
            query: BrowseQuery::default(),
            haystacks,
            rows: Vec::new(),
            browse: Cursor::default(),
            recs_cursor: Cursor::default(),
            ratings_cursor: Cursor::default(),
            watch_cursor: Cursor::default(),
            viewer: Viewer::You,
            viewer_ratings: HashMap::new(),
            rated: Vec::new(),
            predicted: vec![f32::NAN; movies],
            recs: Vec::new(),
            parts: Vec::new(),
            fresh: HashSet::new(),
            toast: None,
            data: DataPanel::default(),
            lab,
            shelf: Shelf::default(),
            worker: None,
            pending: None,
            learning: false,
            viewing: JobId::next(),
            quit: false,
        };
        if app.rec.loading() {
            // The engine is loading behind the first frame: it shows what
            // was kept, and the engine's answer follows (see `attach`).
            app.show_kept();
        } else {
            // Nothing is attached yet, so this first answer is waited for:
            // the first frame shows the lists.
            app.refresh(false, None);
        }
        if !warnings.is_empty() {
            app.notify(Level::Error, warnings);
        }
        app
    }

    /// Gives the app its worker (imports, training, answers off the UI
    /// thread); a stand-in model starts the first training, once the
    /// engine has loaded the dataset.
    pub fn attach_worker(&mut self, worker: Worker) {
        self.insight.answers = Some(worker.answers.clone());
        self.shelf.answers = Some(worker.compared.clone());
        self.worker = Some(worker);
        if self.rec.loading() {
            self.refresh(false, None);
        }
        // While the engine loads, the first training waits for it to prove
        // the module can open the dataset (see `on_opened`).
        if (self.rec.stand_in() || self.rec.meta.quick) && !self.rec.loading() {
            with_panel!(self, lab, |lab, cx| lab.first_training(cx));
        }
    }

    /// Does what a panel asked for once it is done.
    pub(super) fn follow(&mut self, then: Vec<Then>) {
        for then in then {
            match then {
                Then::Refresh => self.refresh(false, None),
                Then::ReloadVersions => with_panel!(self, shelf, |shelf, cx| shelf.reload(cx)),
            }
        }
    }

    /// The built-in demo catalogue is on screen.
    pub fn on_demo(&self) -> bool {
        self.rec.dataset.format == cinema_store::Format::Demo
    }

    /// The viewer's dense user index.
    pub fn viewer_user(&self) -> u32 {
        match self.viewer {
            Viewer::You => self.rec.you(),
            Viewer::User(u) => u,
        }
    }

    pub fn read_only(&self) -> bool {
        self.viewer != Viewer::You
    }

    /// No ratings yet: the recommendations are the popular-and-well-rated list.
    pub fn cold_start(&self) -> bool {
        self.rec.is_cold(self.viewer_user())
    }

    /// `you` or `user 42`.
    pub fn viewer_name(&self) -> String {
        match self.viewer {
            Viewer::You => "you".into(),
            Viewer::User(u) => format!("user {}", self.rec.dataset.user_ids.get(u as usize).copied().unwrap_or(u)),
        }
    }

    /// What the "You" column says of `movie`: the viewer's stars, else (for
    /// you) `✗` not interested, `seen`, or `+` on your watchlist.
    pub fn yours_label(&self, movie: u32) -> String {
        if let Some(&v) = self.viewer_ratings.get(&movie) {
            return format!("★{}", super::format::stars(v, self.rec.dataset.scale));
        }
        if self.read_only() {
            return String::new();
        }
        let id = self.rec.dataset.movies[movie as usize].id;
        match self.rec.your_marks().get(&id) {
            Some(cinema_protocol::Mark::Hidden) => "✗".into(),
            Some(cinema_protocol::Mark::Seen) => "seen".into(),
            None if self.rec.your_watchlist().contains(&id) => "+".into(),
            None => String::new(),
        }
    }

    /// Your watchlist by dense movie index, in your order (a movie no longer
    /// in the dataset is left out).
    pub fn watchlist(&self) -> Vec<u32> {
        self.rec.your_watchlist().iter().filter_map(|&id| self.rec.dataset.movie_index(id)).collect()
    }

    /// The movie keys like "rate" and "open" act on.
    pub fn selected_movie(&self) -> Option<u32> {
        if let Some(m) = self.insight.detail {
            return Some(m);
        }
        match self.tab {
            Tab::Browse => self.rows.get(self.browse.selected).copied(),
            Tab::Recommendations => self.recs.get(self.recs_cursor.selected).map(|s| s.item),
            Tab::Ratings => self.rated.get(self.ratings_cursor.selected).map(|r| r.movie),
            Tab::Watchlist => self.watchlist().get(self.watch_cursor.selected).copied(),
            Tab::Data | Tab::Lab | Tab::Versions => None,
        }
    }

    /// Key contexts active now, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        use Context as C;
        if self.help.is_some() {
            return vec![C::Help, C::Always];
        }
        if self.insight.explaining.is_some() {
            return vec![C::Explain, C::Always];
        }
        if self.insight.impact.is_some() {
            return vec![C::Impact, C::Always];
        }
        if self.prompt.is_some() {
            return vec![C::Prompt, C::Always];
        }
        if self.data.input.is_some() {
            return vec![C::PathInput, C::Always];
        }
        if self.data.history.is_some() && self.tab == Tab::Data {
            return vec![C::HistoryPreview, C::Always];
        }
        if self.typing {
            return vec![C::Search, C::Always];
        }
        if self.insight.detail.is_some() {
            return vec![C::Detail, C::Movie, C::Global, C::Always];
        }
        match self.tab {
            Tab::Browse => vec![C::Browse, C::List, C::Movie, C::Global, C::Always],
            Tab::Recommendations => vec![C::ForYou, C::List, C::Movie, C::Global, C::Always],
            Tab::Ratings => vec![C::Ratings, C::List, C::Movie, C::Global, C::Always],
            Tab::Watchlist => vec![C::Watchlist, C::List, C::Movie, C::Global, C::Always],
            Tab::Data => vec![C::Data, C::Global, C::Always],
            Tab::Lab if self.lab.form.editing.is_some() => vec![C::LabInput, C::Always],
            Tab::Lab => vec![C::Lab, C::Global, C::Always],
            Tab::Versions => vec![C::Versions, C::Global, C::Always],
        }
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.toast = Some(Toast::new(level, text.into()));
    }

    /// Drops an expired toast and advances the work timer; true when the screen changed.
    pub fn tick(&mut self, now: Instant) -> bool {
        let mut changed = false;
        if self.toast.as_ref().is_some_and(|t| t.expired(now)) {
            self.toast = None;
            changed = true;
        }
        if let Some(running) = self.data.running.as_mut() {
            running.elapsed = now.saturating_duration_since(running.started);
            changed = true;
        }
        changed | self.lab.tick(now) | self.pick_up_changes()
    }

    /// Ratings another Cinema saved (the CLI, a second app) come in on the
    /// next tick, and the lists learn them.
    fn pick_up_changes(&mut self) -> bool {
        match self.rec.pick_up_changes() {
            Ok(false) => false,
            Ok(true) => {
                self.notify(Level::Info, "your ratings changed in another Cinema: learned them");
                self.refresh(true, None);
                true
            }
            Err(e) => {
                tracing::warn!("could not read the ratings another Cinema saved: {e:#}");
                false
            }
        }
    }

    /// Re-reads the viewer's ratings and asks the engine for their lists
    /// again — learning your ratings first when `learn` or after a
    /// `changed`, whose toast then comes with the answer. With the event channel attached
    /// the answer arrives as [`Event::Viewed`]; without it (snapshot tests)
    /// it is waited for.
    pub fn refresh(&mut self, learn: bool, changed: Option<Changed>) {
        self.load_viewer_ratings();
        self.refresh_rows();
        self.viewing = JobId::next();
        let (asked, user, weight, diversity) = (self.viewing, self.viewer_user(), Some(self.weight), self.diversity);
        let learn = learn || changed.is_some();
        match self.worker.as_ref().map(|w| w.views.clone()) {
            Some(views) => {
                self.learning = true;
                self.rec.view(user, RECOMMENDATIONS, learn, weight, diversity).then(move |result| {
                    views.send(Viewed::new(asked, changed, result));
                });
            }
            None => {
                let result = self.rec.view(user, RECOMMENDATIONS, learn, weight, diversity).wait();
                self.on_view(Viewed::new(asked, changed, result));
            }
        }
    }

    /// Takes the engine's answer, unless a newer request superseded it.
    pub(super) fn on_view(&mut self, viewed: Viewed) -> bool {
        if viewed.asked != self.viewing {
            return false;
        }
        self.learning = false;
        let view = match viewed.result {
            Ok(view) => view,
            Err(e) => {
                if viewed.fault && self.fall_back(&e) {
                    return true;
                }
                let what = if viewed.after.is_some() { "saved, but the engine failed" } else { "the engine failed" };
                self.notify(Level::Error, format!("{what}: {e}"));
                return true;
            }
        };
        let before: HashSet<u32> = self.recs.iter().map(|s| s.item).collect();
        self.fresh = match viewed.after {
            Some(_) => view.recs.iter().map(|s| s.item).filter(|i| !before.contains(i)).collect(),
            None => HashSet::new(),
        };
        self.predicted = view.predicted;
        self.recs = view.recs;
        self.parts = view.parts;
        self.recs_cursor.clamp(self.recs.len());
        self.refresh_rows();
        if let Some(changed) = &viewed.after {
            self.report_change(changed);
        }
        true
    }

    /// What the first frame shows while the engine loads: the list and
    /// predictions last shown with the model that will serve, else (a first
    /// start, or the list was not kept) the popular-and-well-rated list.
    fn show_kept(&mut self) {
        self.load_viewer_ratings();
        match self.rec.last_view() {
            Some(kept) => (self.recs, self.parts, self.predicted) = (kept.recs, kept.parts, kept.predicted),
            None if self.cold_start() => {
                self.recs =
                    crate::recommender::cold_start::popular_and_well_rated(self.rec.stats(), RECOMMENDATIONS as usize)
            }
            None => {}
        }
        self.refresh_rows();
    }

    /// Recomputes the browse rows, keeping the selected movie selected when it is still shown.
    pub fn refresh_rows(&mut self) {
        let keep = self.rows.get(self.browse.selected).copied();
        let columns = Columns { stats: self.rec.stats(), yours: &self.viewer_ratings, predicted: &self.predicted };
        self.rows = query::rows(&self.rec.dataset, &self.haystacks, &self.query, &columns);
        match keep.and_then(|m| self.rows.iter().position(|&r| r == m)) {
            Some(i) => self.browse.selected = i,
            None => self.browse.clamp(self.rows.len()),
        }
    }

    fn load_viewer_ratings(&mut self) {
        let dataset = &self.rec.dataset;
        self.rated = match self.viewer {
            Viewer::You => self
                .rec
                .your_ratings()
                .iter()
                .filter_map(|(&id, e)| {
                    dataset.movie_index(id).map(|movie| Rated { movie, value: e.value, timestamp: e.timestamp })
                })
                .collect(),
            Viewer::User(u) => dataset
                .ratings
                .iter()
                .filter(|r| r.user == u)
                .map(|r| Rated { movie: r.item, value: r.value, timestamp: r.timestamp })
                .collect(),
        };
        self.rated.sort_by_key(|r| std::cmp::Reverse(r.timestamp));
        self.viewer_ratings = self.rated.iter().map(|r| (r.movie, r.value)).collect();
        self.ratings_cursor.clamp(self.rated.len());
    }
}
