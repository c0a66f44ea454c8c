//! The terminal app's state: the tab line's views ([`tabs`]), the
//! overlays over them ([`overlays`](super::overlays)) and what they share
//! ([`Shared`]), and the one thing the app does itself: asking the engine
//! for the viewer's lists. Every engine call goes through the
//! [`Recommender`] on its engine thread: the app asks, keeps drawing and
//! answering keys, and takes the answer when it comes as an event. A
//! failed call becomes a toast and the app stays up.

use std::any::Any;
use std::collections::HashSet;
use std::time::Instant;

use super::context::{Cx, Jobs, Then};
use super::jobs::{JobId, Sink};
use super::keys::Context;
use super::overlays::Overlay;
pub use super::shared::{Rated, Shared, Viewer};
use super::tabs::{self, Tab};
pub use super::toast::{Level, Toast};
use crate::recommender::{Recommender, View};
use cinema_store::ratings_log::Change;

/// How many recommendations are fetched (the views show as many as fit).
pub const RECOMMENDATIONS: u32 = 50;

/// The app: the tab line's views, the overlays over them (the movie
/// detail, explanations, the "browse as" prompt, help: the top one has the
/// keys), and what they all share.
pub struct App {
    pub shared: Shared,
    /// The views of the tab line, in order (see [`tabs::table`]).
    pub tabs: Vec<Box<dyn Tab>>,
    /// Which of them is shown.
    pub tab: usize,
    /// What lies over the tab, bottom first (see [`overlays`](super::overlays)).
    pub overlays: Vec<Box<dyn Overlay>>,
    pub(super) worker: Option<Worker>,
    pub(super) pending: Option<char>,
    /// The latest view request; an answer to an older one is stale and dropped.
    viewing: JobId,
    pub quit: bool,
}

/// How the app works in the background, kept across a switch of datasets:
/// its jobs, and where the engine thread sends the lists and the panels'
/// answers.
pub struct Worker {
    pub jobs: Jobs,
    pub views: Sink<Viewed>,
    pub compared: Sink<super::tabs::versions::Compared>,
}

/// A change to your ratings, saved and waiting for the engine to learn it.
#[derive(Debug, Clone, Copy)]
pub struct Changed {
    pub change: Change,
    pub started: Instant,
}

/// The app's panels and a [`Cx`] of everything else, borrowed apart.
pub(super) struct Parts<'a> {
    pub tabs: &'a mut [Box<dyn Tab>],
    pub overlays: &'a mut Vec<Box<dyn Overlay>>,
    pub cx: Cx<'a>,
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
        let warnings = rec.warnings.join("; ");
        let shared = Shared::new(rec);
        let tabs = tabs::table(&shared);
        let mut app = App {
            shared,
            tabs,
            tab: 0,
            overlays: Vec::new(),
            worker: None,
            pending: None,
            viewing: JobId::next(),
            quit: false,
        };
        if app.shared.rec.loading() {
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
        self.tab_mut::<tabs::versions::Shelf>().answers = Some(worker.compared.clone());
        self.worker = Some(worker);
        let rec = &self.shared.rec;
        if rec.loading() {
            self.refresh(false, None);
        }
        // While the engine loads, the first training waits for it to prove
        // the module can open the dataset (see `on_opened`).
        let rec = &self.shared.rec;
        if (rec.stand_in() || rec.meta.quick) && !rec.loading() {
            self.with_tab::<tabs::lab::LabPanel, _>(|lab, cx| lab.first_training(cx));
        }
    }

    /// Does what a panel asked for once it is done.
    pub(super) fn follow(&mut self, then: Vec<Then>) {
        for then in then {
            match then {
                Then::Refresh => self.refresh(false, None),
                Then::Learn => self.refresh(true, None),
                Then::Changed(result, started) => self.after_change(result, started),
                Then::ReloadVersions => self.with_tab::<tabs::versions::Shelf, _>(|shelf, cx| shelf.reload(cx)),
                Then::NewViewer => {
                    self.lists_changed(true);
                    self.refresh(false, None);
                }
                Then::Switch(rec, path, took, fell_back) => self.switch(*rec, path, took, fell_back),
            }
        }
    }

    /// The tabs, the overlays and a [`Cx`] of the rest, borrowed apart: a
    /// panel acts with the shared parts while the app holds its panels.
    pub(super) fn parts(&mut self) -> Parts<'_> {
        let cx = Cx { shared: &mut self.shared, jobs: self.worker.as_ref().map(|w| &w.jobs), then: Vec::new() };
        Parts { tabs: &mut self.tabs, overlays: &mut self.overlays, cx }
    }

    /// Where the tab of type `T` is in the tab line.
    fn position<T: Tab>(&self) -> usize {
        let at = self.tabs.iter().position(|tab| (&**tab as &dyn Any).is::<T>());
        at.unwrap_or_else(|| panic!("no {} in the tab table", std::any::type_name::<T>()))
    }

    /// The tab of type `T`.
    pub fn tab<T: Tab>(&self) -> &T {
        let tab: &dyn Any = &*self.tabs[self.position::<T>()];
        tab.downcast_ref().expect("the position of its type")
    }

    pub fn tab_mut<T: Tab>(&mut self) -> &mut T {
        let at = self.position::<T>();
        let tab: &mut dyn Any = &mut *self.tabs[at];
        tab.downcast_mut().expect("the position of its type")
    }

    /// Hands the tab of type `T` and a [`Cx`] to `act`, then does what it asked for.
    pub fn with_tab<T: Tab, R>(&mut self, act: impl FnOnce(&mut T, &mut Cx) -> R) -> R {
        let at = self.position::<T>();
        self.with_tab_at(at, |tab, cx| {
            let tab: &mut dyn Any = tab;
            act(tab.downcast_mut().expect("the position of its type"), cx)
        })
    }

    /// Hands the tab at `at` and a [`Cx`] to `act`, then does what it asked for.
    pub(super) fn with_tab_at<R>(&mut self, at: usize, act: impl FnOnce(&mut dyn Tab, &mut Cx) -> R) -> R {
        let Parts { tabs, mut cx, .. } = self.parts();
        let result = act(&mut *tabs[at], &mut cx);
        let then = cx.then;
        self.follow(then);
        result
    }

    /// The tab on screen.
    pub fn current(&self) -> &dyn Tab {
        &*self.tabs[self.tab]
    }

    /// The title of the tab on screen.
    pub fn tab_title(&self) -> &'static str {
        self.current().title()
    }

    /// Shows the tab at `at`, closing what lay over the one before.
    pub fn show(&mut self, at: usize) {
        self.overlays.clear();
        if at != self.tab {
            self.tabs[self.tab].leave();
        }
        self.tab = at;
        self.with_tab_at(at, |tab, cx| tab.enter(cx));
    }

    /// Shows the tab of type `T`.
    pub fn show_tab<T: Tab>(&mut self) {
        self.show(self.position::<T>());
    }

    /// The movie keys like "rate" and "open" act on.
    pub fn selected_movie(&self) -> Option<u32> {
        match self.overlays.iter().rev().find_map(|o| o.selected()) {
            Some(movie) => Some(movie),
            None => self.current().selected(&self.shared),
        }
    }

    /// The overlay of type `T`, if one is open.
    pub fn overlay<T: Overlay>(&self) -> Option<&T> {
        self.overlays.iter().rev().find_map(|o| (&**o as &dyn Any).downcast_ref())
    }

    /// Puts `open(cx)` over everything; the new overlay has the keys.
    pub(super) fn push<T: Overlay>(&mut self, open: impl FnOnce(&mut Cx) -> T) {
        let Parts { overlays, mut cx, .. } = self.parts();
        overlays.push(Box::new(open(&mut cx)));
        let then = cx.then;
        self.follow(then);
    }

    /// Hands the top overlay and a [`Cx`] to `act`, then does what it asked for.
    pub(super) fn with_top<R>(&mut self, act: impl FnOnce(&mut dyn Overlay, &mut Cx) -> R) -> Option<R> {
        let Parts { overlays, mut cx, .. } = self.parts();
        let result = act(&mut **overlays.last_mut()?, &mut cx);
        let then = cx.then;
        self.follow(then);
        Some(result)
    }

    /// Key contexts active now, most specific first: the top overlay's,
    /// else the tab's.
    pub fn contexts(&self) -> Vec<Context> {
        match self.overlays.last() {
            Some(top) => top.contexts(),
            None => self.current().contexts(),
        }
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.shared.notify(level, text);
    }

    /// Drops an expired toast and advances the work timers; true when the screen changed.
    pub fn tick(&mut self, now: Instant) -> bool {
        let mut changed = false;
        if self.shared.toast.as_ref().is_some_and(|t| t.expired(now)) {
            self.shared.toast = None;
            changed = true;
        }
        for tab in &mut self.tabs {
            changed |= tab.tick(now);
        }
        changed | self.pick_up_changes()
    }

    /// Ratings another Cinema saved (the CLI, a second app) come in on the
    /// next tick, and the lists learn them.
    fn pick_up_changes(&mut self) -> bool {
        match self.shared.rec.pick_up_changes() {
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

    /// Tells every tab that the viewer's ratings or lists changed.
    pub(super) fn lists_changed(&mut self, new_viewer: bool) {
        for tab in &mut self.tabs {
            tab.lists_changed(&self.shared, new_viewer);
        }
    }

    /// Re-reads the viewer's ratings and asks the engine for their lists
    /// again — learning your ratings first when `learn` or after a
    /// `changed`, whose toast then comes with the answer. With the event channel attached
    /// the answer arrives as [`Event::Viewed`]; without it (snapshot tests)
    /// it is waited for.
    pub fn refresh(&mut self, learn: bool, changed: Option<Changed>) {
        self.shared.load_viewer_ratings();
        self.lists_changed(false);
        self.viewing = JobId::next();
        let shared = &mut self.shared;
        let (asked, user, weight, diversity) =
            (self.viewing, shared.viewer_user(), Some(shared.weight), shared.diversity);
        let learn = learn || changed.is_some();
        match self.worker.as_ref().map(|w| w.views.clone()) {
            Some(views) => {
                shared.learning = true;
                shared.rec.view(user, RECOMMENDATIONS, learn, weight, diversity).then(move |result| {
                    views.send(Viewed::new(asked, changed, result));
                });
            }
            None => {
                let result = shared.rec.view(user, RECOMMENDATIONS, learn, weight, diversity).wait();
                self.on_view(Viewed::new(asked, changed, result));
            }
        }
    }

    /// Takes the engine's answer, unless a newer request superseded it.
    pub(super) fn on_view(&mut self, viewed: Viewed) -> bool {
        if viewed.asked != self.viewing {
            return false;
        }
        self.shared.learning = false;
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
        let shared = &mut self.shared;
        let before: HashSet<u32> = shared.recs.iter().map(|s| s.item).collect();
        shared.fresh = match viewed.after {
            Some(_) => view.recs.iter().map(|s| s.item).filter(|i| !before.contains(i)).collect(),
            None => HashSet::new(),
        };
        (shared.predicted, shared.recs, shared.parts) = (view.predicted, view.recs, view.parts);
        self.lists_changed(false);
        if let Some(changed) = &viewed.after {
            self.report_change(changed);
        }
        true
    }

    /// What the first frame shows while the engine loads: the list and
    /// predictions last shown with the model that will serve, else (a first
    /// start, or the list was not kept) the popular-and-well-rated list.
    fn show_kept(&mut self) {
        let shared = &mut self.shared;
        shared.load_viewer_ratings();
        match shared.rec.last_view() {
            Some(kept) => (shared.recs, shared.parts, shared.predicted) = (kept.recs, kept.parts, kept.predicted),
            None if shared.cold_start() => {
                shared.recs =
                    crate::recommender::cold_start::popular_and_well_rated(shared.rec.stats(), RECOMMENDATIONS as usize)
            }
            None => {}
        }
        self.lists_changed(false);
    }
}
