//! What events do: a key is looked up in the key table for the active
//! contexts and its action goes to what has the keys (an overlay, else the
//! tab, else the app); the wheel scrolls; reports from long work and the
//! engine's answers go to the panel that asked.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};

use super::answers::Answer;
use super::event::Event;
use super::format::{stars, title_year};
use super::keys::{self, Action, Lookup};
use super::overlays::Outcome;
use super::overlays::detail::Detail;
use super::overlays::explain::Explaining;
use super::overlays::help::Help;
use super::overlays::impact::{Axis, Impact};
use super::overlays::prompt::Prompt;
use super::state::Changed;
use super::state::{App, Level, Parts};
use super::tabs::browse::Browse;
use super::tabs::data::DataPanel;
use super::tabs::for_you::ForYou;
use super::tabs::lab::LabPanel;
use super::tabs::marked::Marked;
use super::tabs::ratings::Ratings;
use super::tabs::versions::Shelf;
use super::tabs::watchlist::Watchlist;
use crate::recommender::{Edit, said};
use cinema_store::ratings_log::Change;

impl App {
    /// Handles one event; true when the screen may have changed.
    pub fn handle(&mut self, event: Event) -> bool {
        match event {
            Event::Key(key) => {
                self.handle_key(key);
                true
            }
            Event::Scroll(rows) => self.scroll(rows),
            Event::Resize => true,
            Event::Tick => self.tick(Instant::now()),
            Event::Work(report) => {
                self.on_work(report);
                true
            }
            Event::Viewed(viewed) => self.on_view(*viewed),
            Event::Answer(answer) => self.on_answer(*answer),
            Event::Compared(compared) => self.with_tab::<Shelf, _>(|shelf, cx| shelf.on_compared(cx, *compared)),
            Event::Opened(dataset, opened) => self.on_opened(&dataset, *opened),
            // The event loop owns this one: it ends the app.
            Event::InputFailed(_) => false,
        }
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: KeyEvent) {
        let contexts = self.contexts();
        let pending = self.pending.take();
        match keys::lookup(&contexts, pending, &key) {
            Lookup::Action(action) => self.apply(action, &key),
            Lookup::Pending(c) => self.pending = Some(c),
            Lookup::None => {}
        }
    }

    /// An action goes to what has the keys: the top overlay, else the tab
    /// on screen; what they pass (the keys of every view, the editing keys
    /// on the selected movie) falls to the app.
    fn apply(&mut self, action: Action, key: &KeyEvent) {
        let outcome = match self.with_top(|top, cx| top.act(cx, action, key)) {
            Some(outcome) => outcome,
            None if self.with_tab_at(self.tab, |tab, cx| tab.act(cx, action, key)) => Outcome::Stay,
            None => Outcome::Pass,
        };
        match outcome {
            Outcome::Stay => return,
            Outcome::Close => {
                self.overlays.pop();
                return;
            }
            Outcome::Pass => {}
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.push(|_| Help::default()),
            Action::Explain => {
                if let Some(movie) = self.selected_movie() {
                    self.push(|cx| Explaining::open(cx, movie));
                }
            }
            Action::Impact => self.push(|cx| Impact::open(cx, Axis::Weight)),
            Action::NextTab => self.show((self.tab + 1) % self.tabs.len()),
            Action::PrevTab => self.show((self.tab + self.tabs.len() - 1) % self.tabs.len()),
            Action::ShowBrowse => self.show_tab::<Browse>(),
            Action::ShowRecommendations => self.show_tab::<ForYou>(),
            Action::ShowRatings => self.show_tab::<Ratings>(),
            Action::ShowWatchlist => self.show_tab::<Watchlist>(),
            Action::ShowData => self.show_tab::<DataPanel>(),
            Action::ShowLab => self.show_tab::<LabPanel>(),
            Action::ShowVersions => self.show_tab::<Shelf>(),
            Action::ShowMarked => self.show_tab::<Marked>(),
            // The Versions view's, asked here: the Lab knows whether a training runs.
            Action::Activate => {
                let lab_busy = self.tab::<LabPanel>().run.is_some();
                self.with_tab::<Shelf, _>(|shelf, cx| shelf.activate(cx, lab_busy));
            }
            Action::Search => {
                self.show_tab::<Browse>();
                self.tab_mut::<Browse>().typing = true;
            }
            Action::AsUser => self.push(|_| Prompt::default()),
            Action::Undo => self.undo(),
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::Top => self.step(isize::MIN / 2),
            Action::Bottom => self.step(isize::MAX / 2),
            Action::PageUp => self.step(-self.current().page()),
            Action::PageDown => self.step(self.current().page()),
            Action::HalfPageUp => self.step(-(self.current().page() / 2).max(1)),
            Action::HalfPageDown => self.step((self.current().page() / 2).max(1)),
            Action::Open => {
                if let Some(movie) = self.selected_movie() {
                    self.open(movie);
                }
            }
            Action::Rate => {
                if let KeyCode::Char(c) = key.code
                    && let Some(d) = c.to_digit(10)
                {
                    self.rate(d as f32);
                }
            }
            Action::AddHalf => self.half_step(0.5),
            Action::TakeHalf => self.half_step(-0.5),
            Action::Remove => self.remove(),
            Action::Hide => self.toggle_mark(cinema_protocol::Mark::Hidden),
            Action::Seen => self.toggle_mark(cinema_protocol::Mark::Seen),
            Action::Watch => self.toggle_watch(),
            // A panel's own, passed: nothing to act on.
            _ => {}
        }
    }

    /// Opens the detail view of `movie` over the current tab.
    pub fn open(&mut self, movie: u32) {
        self.push(|cx| Detail::open(cx, movie));
    }

    /// The list keys and the wheel move the tab's selection.
    fn step(&mut self, delta: isize) {
        self.tabs[self.tab].step(&self.shared, delta);
    }

    /// The mouse wheel: scrolls the top overlay if it scrolls (the help, an
    /// explanation; not the movie detail), else the list on screen.
    fn scroll(&mut self, rows: isize) -> bool {
        match self.overlays.last_mut() {
            Some(top) => top.scroll(rows),
            None => {
                self.step(rows);
                true
            }
        }
    }

    /// Hands an engine answer to the overlay that asked for it, if it is
    /// still open.
    fn on_answer(&mut self, answer: Answer) -> bool {
        let mut answer = Some(answer);
        let Parts { overlays, mut cx, .. } = self.parts();
        for overlay in overlays.iter_mut().rev() {
            answer = answer.and_then(|a| overlay.on_answer(&mut cx, a));
        }
        let then = cx.then;
        self.follow(then);
        answer.is_none()
    }

    fn rate(&mut self, value: f32) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.shared.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.shared.rec.save(Edit::Rate(movie, value));
        self.after_change(result, started);
    }

    fn half_step(&mut self, by: f32) {
        let Some(movie) = self.selected_movie() else { return };
        let scale = self.shared.rec.dataset.scale;
        if scale.step >= 1.0 {
            let name = self.shared.rec.dataset.name.clone();
            self.notify(Level::Error, format!("{name} rates in whole stars: use 1–5"));
            return;
        }
        let Some(&now) = self.shared.viewer_ratings.get(&movie) else {
            self.notify(Level::Error, "rate it first (1–5); then . adds half a star and , takes one off");
            return;
        };
        let value = (now + by).clamp(scale.min, scale.max);
        if value != now {
            self.rate(value);
        }
    }

    fn remove(&mut self) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.shared.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.shared.rec.save(Edit::Remove(movie));
        self.after_change(result, started);
    }

    /// Marks the selected movie (`mark`), or takes the mark off if it has it.
    fn toggle_mark(&mut self, mark: cinema_protocol::Mark) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.shared.may_change() {
            return;
        }
        let id = self.shared.rec.dataset.movies[movie as usize].id;
        let now = self.shared.rec.your_marks().get(&id).copied();
        let started = Instant::now();
        let result = self.shared.rec.save(Edit::Mark(movie, (now != Some(mark)).then_some(mark)));
        self.after_change(result, started);
    }

    /// Puts the selected movie at the end of your watchlist, or takes it off.
    fn toggle_watch(&mut self) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.shared.may_change() {
            return;
        }
        let on = self.shared.watchlist().contains(&movie);
        let started = Instant::now();
        let result = self.shared.rec.save(Edit::Watch(movie, (!on).then_some(u32::MAX)));
        self.after_change(result, started);
    }

    fn undo(&mut self) {
        if !self.shared.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.shared.rec.save(Edit::Undo);
        if matches!(result, Ok(None)) {
            self.notify(Level::Info, "nothing to undo");
            return;
        }
        self.after_change(result, started);
    }

    /// Your ratings changed (on disk already): the engine learns them and
    /// the lists follow; the toast comes with its answer.
    pub(super) fn after_change(&mut self, result: anyhow::Result<Option<Change>>, started: Instant) {
        match result {
            Ok(Some(change)) => self.refresh(true, Some(Changed { change, started })),
            Ok(None) => {}
            // The log read in the other Cinema's changes: show them with the refusal.
            Err(e) if e.is::<cinema_store::ratings_log::Moved>() => {
                self.refresh(true, None);
                self.notify(Level::Error, format!("{e}"));
            }
            Err(e) => self.notify(Level::Error, format!("could not save that: {e:#}")),
        }
    }

    /// Says what a change did, once the engine has learned it.
    pub(super) fn report_change(&mut self, changed: &Changed) {
        let Changed { change, started } = changed;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let scale = self.shared.rec.dataset.scale;
        let title = self.shared.rec.dataset.movie_index(change.movie).map_or_else(String::new, |i| {
            self.shared.rec.dataset.movies.get(i as usize).map(title_year).unwrap_or_default()
        });
        // Only an undo reports a batch: it took back a whole import.
        let text = if change.batch > 0 {
            format!("undid the import of {} ratings · saved and learned in {ms:.0} ms", change.batch)
        } else {
            let what = said(change.what, &|v| format!("★{}", stars(v, scale)));
            format!("{title}: {what} · saved and learned in {ms:.0} ms")
        };
        tracing::info!(movie = change.movie, "your ratings changed: {text}");
        self.notify(Level::Info, text);
    }
}
