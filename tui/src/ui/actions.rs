//! What events do: a key is looked up in the key table for the active
//! contexts, and the action it names changes the state; the wheel scrolls;
//! reports from long work update the Data view.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};

use super::event::Event;
use super::format::{stars, title_year};
use super::insight::Axis;
use super::keys::{self, Action, Context, Lookup};
use super::query;
use super::state::Changed;
use super::state::{App, Level, Tab, Viewer, with_panel};
use crate::lab::train::Halt;
use crate::recommender::{Edit, said};
use cinema_store::ratings_log::Change;

/// One press of `[` or `]`.
const WEIGHT_STEP: f32 = 0.1;

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
            Event::Answer(answer) => with_panel!(self, insight, |insight, cx| insight.on_answer(cx, *answer)),
            Event::Compared(compared) => with_panel!(self, shelf, |shelf, cx| shelf.on_compared(cx, *compared)),
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

    fn apply(&mut self, action: Action, key: &KeyEvent) {
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = if self.help.is_some() { None } else { Some(0) },
            Action::CloseHelp => self.help = None,
            Action::Explain => self.explain(),
            Action::Impact => self.show_impact(Axis::Weight),
            Action::ImpactAxis => {
                let other = match self.insight.impact.as_ref().map(|i| i.axis) {
                    Some(Axis::Weight) => Axis::Diversity,
                    _ => Axis::Weight,
                };
                self.show_impact(other);
            }
            Action::MoreCf => self.nudge_weight(1.0),
            Action::MoreContent => self.nudge_weight(-1.0),
            Action::MoreDiversity => self.nudge_diversity(1.0),
            Action::LessDiversity => self.nudge_diversity(-1.0),
            Action::CloseOverlay => {
                self.insight.explaining = None;
                self.insight.impact = None;
            }
            Action::NextTab => self.show(self.tab.next()),
            Action::PrevTab => self.show(self.tab.prev()),
            Action::ShowBrowse => self.show(Tab::Browse),
            Action::ShowRecommendations => self.show(Tab::Recommendations),
            Action::ShowRatings => self.show(Tab::Ratings),
            Action::ShowWatchlist => self.show(Tab::Watchlist),
            Action::ShowData => self.show(Tab::Data),
            Action::ShowLab => self.show(Tab::Lab),
            Action::ShowVersions => self.show(Tab::Versions),
            Action::PrevChoice => self.lab.form.cycle(-1),
            Action::NextChoice => self.lab.form.cycle(1),
            Action::EditField => self.lab.form.edit(),
            Action::Train => with_panel!(self, lab, |lab, cx| lab.train(cx)),
            Action::StopTraining => with_panel!(self, lab, |lab, cx| lab.halt(cx, Halt::Stop)),
            Action::CancelTraining if self.lab.busy() => with_panel!(self, lab, |lab, cx| lab.halt(cx, Halt::Cancel)),
            Action::CancelTraining => self.lab.quality = false,
            Action::Quality if self.lab.finished.is_some() => self.lab.quality = !self.lab.quality,
            Action::Quality => self.notify(
                Level::Info,
                "p draws the held-out ratings of a run made here: train one (Enter); \
                 every version's scores are in Versions (v)",
            ),
            Action::Tune => with_panel!(self, lab, |lab, cx| lab.tune(cx)),
            Action::SortTune => {
                if let Some(t) = self.lab.tuning.as_mut() {
                    t.by_rmse = !t.by_rmse;
                }
            }
            Action::TrainBest => with_panel!(self, lab, |lab, cx| lab.train_best(cx)),
            Action::Sweep => with_panel!(self, lab, |lab, cx| lab.sweep(cx)),
            Action::Activate => {
                let lab_busy = self.lab.run.is_some();
                with_panel!(self, shelf, |shelf, cx| shelf.activate(cx, lab_busy));
            }
            Action::DeleteVersion => with_panel!(self, shelf, |shelf, cx| shelf.delete(cx)),
            Action::Compare => {
                let user = self.viewer_user();
                with_panel!(self, shelf, |shelf, cx| shelf.compare(cx, user));
            }
            Action::NextMetric => self.shelf.next_metric(),
            Action::Search => {
                self.show(Tab::Browse);
                self.typing = true;
            }
            Action::AsUser => self.prompt = Some(String::new()),
            Action::Undo => self.undo(),
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::Top => self.step(isize::MIN / 2),
            Action::Bottom => self.step(isize::MAX / 2),
            Action::PageUp => self.step(-self.cursor_page()),
            Action::PageDown => self.step(self.cursor_page()),
            Action::HalfPageUp => self.step(-(self.cursor_page() / 2).max(1)),
            Action::HalfPageDown => self.step((self.cursor_page() / 2).max(1)),
            Action::Open => {
                if let Some(movie) = self.selected_movie() {
                    self.open(movie);
                }
            }
            Action::Back => with_panel!(self, insight, |insight, cx| insight.back(cx)),
            Action::NextAlike => self.insight.step_alike(1),
            Action::PrevAlike => self.insight.step_alike(-1),
            Action::OpenAlike => with_panel!(self, insight, |insight, cx| insight.open_alike(cx)),
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
            Action::WatchEarlier => self.move_watched(-1),
            Action::WatchLater => self.move_watched(1),
            Action::ExportWatchlist => self.export_watchlist(),
            Action::Sort => {
                self.query.sort = if self.query.by_relevance && !self.query.text.is_empty() {
                    self.query.sort
                } else {
                    self.query.sort.next()
                };
                self.query.descending = self.query.sort.descending_by_default();
                self.query.by_relevance = false;
                self.reshape_rows();
            }
            Action::Reverse => {
                self.query.descending = !self.query.descending;
                self.query.by_relevance = false;
                self.reshape_rows();
            }
            Action::NextGenre => self.cycle_genre(1),
            Action::PrevGenre => self.cycle_genre(-1),
            Action::OlderDecade => self.cycle_decade(1),
            Action::NewerDecade => self.cycle_decade(-1),
            Action::ClearSearch => {
                self.query.text.clear();
                self.query.genre = None;
                self.query.decade = None;
                self.query.by_relevance = true;
                self.reshape_rows();
            }
            Action::ImportPath => self.open_path_input(false),
            Action::ImportHistory => self.open_path_input(true),
            Action::DismissError => self.data.error = None,
            Action::ConfirmHistory => self.import_history(),
            Action::OlderPath => self.recall_path(1),
            Action::NewerPath => self.recall_path(-1),
            Action::CompletePath => self.complete_path(),
            Action::Download => self.start(super::work::Job::Download),
            Action::Retrain => self.start(super::work::Job::Retrain),
            Action::Accept => self.answer_input(true),
            Action::Cancel => self.answer_input(false),
            Action::DeleteChar => self.edit(|text| {
                text.pop();
            }),
            Action::ClearInput => self.edit(String::clear),
            Action::Type => {
                if let KeyCode::Char(c) = key.code {
                    self.edit(|text| text.push(c));
                }
            }
        }
    }

    /// Enter (`accept`) or Esc in whatever has the keys: the input on top,
    /// as [`App::contexts`] names it, so which popup answers is said once.
    fn answer_input(&mut self, accept: bool) {
        match (self.contexts()[0], accept) {
            (Context::Prompt, true) => self.accept_prompt(),
            (Context::Prompt, false) => self.prompt = None,
            (Context::PathInput, true) => self.accept_path(),
            (Context::PathInput, false) => self.data.input = None,
            (Context::HistoryPreview, false) => {
                self.data.history = None;
                self.notify(Level::Info, "nothing imported");
            }
            (Context::LabInput, true) => self.lab.form.accept(),
            (Context::LabInput, false) => {
                self.lab.form.editing = None;
                self.lab.form.error = None;
            }
            (_, true) => self.typing = false,
            (_, false) => {
                self.typing = false;
                self.query.text.clear();
                self.query.by_relevance = true;
                self.refresh_rows();
            }
        }
    }

    /// Opens the detail view of `movie` over the current tab.
    pub fn open(&mut self, movie: u32) {
        with_panel!(self, insight, |insight, cx| insight.open(cx, movie));
    }

    /// Opens the impact panel along `axis` for the viewer.
    fn show_impact(&mut self, axis: Axis) {
        let (user, weight) = (self.viewer_user(), self.weight);
        with_panel!(self, insight, |insight, cx| insight.show_impact(cx, user, axis, weight));
    }

    /// Opens the explanation of the selected movie for the viewer.
    fn explain(&mut self) {
        let Some(movie) = self.selected_movie() else { return };
        let (user, weight, diversity) = (self.viewer_user(), self.weight, self.diversity);
        with_panel!(self, insight, |insight, cx| insight.explain(cx, movie, user, weight, diversity));
    }

    /// Moves the hybrid weight one step (`sign` > 0: towards CF) and asks for the list again.
    fn nudge_weight(&mut self, sign: f32) {
        let weight = ((self.weight + sign * WEIGHT_STEP) * 10.0).round() / 10.0;
        let weight = weight.clamp(0.0, 1.0);
        if weight != self.weight {
            self.weight = weight;
            // Kept for the next start and for the CLI, which shows the same list.
            if let Err(e) = self.rec.prefs.set_weight(weight) {
                tracing::warn!("{e:#}");
            }
            self.refresh(false, None);
        }
    }

    /// Moves the diversity one step (`sign` > 0: more spread) and asks for the list again.
    fn nudge_diversity(&mut self, sign: f32) {
        let diversity = (((self.diversity + sign * WEIGHT_STEP) * 10.0).round() / 10.0).clamp(0.0, 1.0);
        if diversity != self.diversity {
            self.diversity = diversity;
            if let Err(e) = self.rec.prefs.set_diversity(diversity) {
                tracing::warn!("{e:#}");
            }
            self.refresh(false, None);
        }
    }

    /// Switches the view, closing the movie detail.
    fn show(&mut self, tab: Tab) {
        self.insight.close();
        if tab != self.tab {
            // A failure is news once: leaving the view puts it away.
            self.data.error = None;
        }
        if tab == Tab::Versions {
            // Read when looked at: each version's checksum is a pass over
            // its file (tens of ms apiece), too much for every start.
            with_panel!(self, shelf, |shelf, cx| shelf.reload(cx));
        }
        self.tab = tab;
    }

    fn cursor_page(&self) -> isize {
        match self.tab {
            Tab::Browse => self.browse.page(),
            Tab::Recommendations => self.recs_cursor.page(),
            Tab::Ratings => self.ratings_cursor.page(),
            Tab::Watchlist => self.watch_cursor.page(),
            Tab::Versions => self.shelf.cursor.page(),
            Tab::Data | Tab::Lab => 1,
        }
    }

    fn step(&mut self, delta: isize) {
        if let Some(top) = self.help.as_mut().or(self.insight.explaining.as_mut().map(|e| &mut e.scroll)) {
            *top = top.saturating_add_signed(delta.clamp(-1000, 1000));
            return;
        }
        match self.tab {
            Tab::Browse => self.browse.step(delta, self.rows.len()),
            Tab::Recommendations => self.recs_cursor.step(delta, self.recs.len()),
            Tab::Ratings => self.ratings_cursor.step(delta, self.rated.len()),
            Tab::Watchlist => self.watch_cursor.step(delta, self.watchlist().len()),
            Tab::Data => {
                if let Some(h) = self.data.history.as_mut() {
                    h.scroll = h.scroll.saturating_add_signed(delta.clamp(-1000, 1000));
                }
            }
            Tab::Lab => self.lab.form.step(delta.clamp(-1000, 1000)),
            Tab::Versions => self.shelf.cursor.step(delta, self.shelf.listed.len()),
        }
    }

    /// The mouse wheel: scrolls the help or the list on screen (not the detail view).
    fn scroll(&mut self, rows: isize) -> bool {
        if self.help.is_none() && self.insight.detail.is_some() {
            return false;
        }
        self.step(rows);
        true
    }

    /// Edits the text of the open prompt, the path input or the search box.
    fn edit(&mut self, change: impl FnOnce(&mut String)) {
        if let Some(text) = self.prompt.as_mut().or(self.data.input.as_mut()).or(self.lab.form.editing.as_mut()) {
            change(text);
            self.data.completions.clear();
            return;
        }
        change(&mut self.query.text);
        self.query.by_relevance = true;
        self.reshape_rows();
    }

    /// The user changed what the table shows: recompute it and go to the top.
    fn reshape_rows(&mut self) {
        self.refresh_rows();
        self.browse.reset();
    }

    fn cycle_genre(&mut self, by: isize) {
        let n = self.rec.dataset.genres.len() as isize;
        // Positions: -1 = all genres, then 0..n.
        let now = self.query.genre.map_or(-1, |g| g as isize);
        let next = (now + 1 + by).rem_euclid(n + 1) - 1;
        self.query.genre = usize::try_from(next).ok();
        self.reshape_rows();
    }

    /// Steps through "all years", then each decade present, newest first.
    fn cycle_decade(&mut self, by: isize) {
        let decades = query::decades(&self.rec.dataset);
        let n = decades.len() as isize;
        let now = self.query.decade.and_then(|d| decades.iter().position(|&x| x == d)).map_or(-1, |i| i as isize);
        let next = (now + 1 + by).rem_euclid(n + 1) - 1;
        self.query.decade = usize::try_from(next).ok().map(|i| decades[i]);
        self.reshape_rows();
    }

    fn accept_prompt(&mut self) {
        let Some(text) = self.prompt.take() else { return };
        let text = text.trim();
        let viewer = if text.is_empty() || text.eq_ignore_ascii_case("me") {
            Viewer::You
        } else {
            match text.parse::<u32>().ok().and_then(|id| self.rec.dataset.user_index(id)) {
                Some(u) => Viewer::User(u),
                None => {
                    let users = self.rec.dataset.user_ids.len();
                    self.notify(Level::Error, format!("no user `{text}` in {} ({users} users)", self.rec.dataset.name));
                    return;
                }
            }
        };
        self.viewer = viewer;
        self.ratings_cursor.reset();
        self.recs_cursor.reset();
        self.refresh(false, None);
        let name = self.viewer_name();
        let note = if self.read_only() { " (read-only; a then Enter to be you again)" } else { "" };
        self.notify(Level::Info, format!("browsing as {name}{note}"));
    }

    /// False (with a toast) when browsing as someone else.
    fn may_change(&mut self) -> bool {
        if self.read_only() {
            let name = self.viewer_name();
            self.notify(Level::Error, format!("read-only: browsing as {name}; press a then Enter to be you again"));
            return false;
        }
        true
    }

    fn rate(&mut self, value: f32) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.rec.save(Edit::Rate(movie, value));
        self.after_change(result, started);
    }

    fn half_step(&mut self, by: f32) {
        let Some(movie) = self.selected_movie() else { return };
        let scale = self.rec.dataset.scale;
        if scale.step >= 1.0 {
            let name = self.rec.dataset.name.clone();
            self.notify(Level::Error, format!("{name} rates in whole stars: use 1–5"));
            return;
        }
        let Some(&now) = self.viewer_ratings.get(&movie) else {
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
        if !self.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.rec.save(Edit::Remove(movie));
        self.after_change(result, started);
    }

    /// Marks the selected movie (`mark`), or takes the mark off if it has it.
    fn toggle_mark(&mut self, mark: cinema_protocol::Mark) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.may_change() {
            return;
        }
        let id = self.rec.dataset.movies[movie as usize].id;
        let now = self.rec.your_marks().get(&id).copied();
        let started = Instant::now();
        let result = self.rec.save(Edit::Mark(movie, (now != Some(mark)).then_some(mark)));
        self.after_change(result, started);
    }

    /// Puts the selected movie at the end of your watchlist, or takes it off.
    fn toggle_watch(&mut self) {
        let Some(movie) = self.selected_movie() else { return };
        if !self.may_change() {
            return;
        }
        let on = self.watchlist().contains(&movie);
        let started = Instant::now();
        let result = self.rec.save(Edit::Watch(movie, (!on).then_some(u32::MAX)));
        self.after_change(result, started);
        self.watch_cursor.clamp(self.watchlist().len());
    }

    /// Moves the selected movie of the watchlist `by` places, the cursor with it.
    fn move_watched(&mut self, by: isize) {
        let Some(movie) = self.selected_movie() else { return };
        let at = self.watch_cursor.selected;
        let Some(to) = at.checked_add_signed(by).filter(|&to| to < self.watchlist().len()) else { return };
        if !self.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.rec.save(Edit::Watch(movie, Some(to as u32)));
        if result.is_ok() {
            self.watch_cursor.step(by, self.watchlist().len());
        }
        self.after_change(result, started);
    }

    /// Writes the watchlist where the data directory keeps exports, as the
    /// CSV Letterboxd imports, and says where.
    fn export_watchlist(&mut self) {
        let ds = &self.rec.dataset;
        let movies: Vec<_> = self.watchlist().iter().map(|&m| &ds.movies[m as usize]).collect();
        let file = format!("watchlist-{}.csv", cinema_store::home::file_safe(&ds.name));
        let written = self.rec.export_path(&file).and_then(|path| {
            let bytes = cinema_store::history::watchlist::write(&movies)?;
            cinema_store::atomic::write(&path, &bytes).map(|()| path)
        });
        match written {
            Ok(path) => self.notify(
                Level::Info,
                format!("wrote {} films to {} (Letterboxd: Import → watchlist)", movies.len(), path.display()),
            ),
            Err(e) => self.notify(Level::Error, format!("could not export the watchlist: {e:#}")),
        }
    }

    fn undo(&mut self) {
        if !self.may_change() {
            return;
        }
        let started = Instant::now();
        let result = self.rec.save(Edit::Undo);
        if matches!(result, Ok(None)) {
            self.notify(Level::Info, "nothing to undo");
            return;
        }
        self.after_change(result, started);
    }

    /// Your ratings changed (on disk already): the engine learns them and
    /// the lists follow; the toast comes with its answer.
    fn after_change(&mut self, result: anyhow::Result<Option<Change>>, started: Instant) {
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
        let scale = self.rec.dataset.scale;
        let title =
            self.rec.dataset.movie_index(change.movie).map_or_else(String::new, |i| {
                self.rec.dataset.movies.get(i as usize).map(title_year).unwrap_or_default()
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
