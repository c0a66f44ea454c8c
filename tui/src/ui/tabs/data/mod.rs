//! The Data view: importing or downloading a dataset to switch to (the
//! switch itself is the app's: everything on screen changes), retraining
//! the models, and importing your ratings from Letterboxd or IMDb after a
//! preview. One job at a time, its progress shown as it reports.

mod view;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::Tab;
use crate::recommender::ModelOrigin;
use crate::ui::complete;
use crate::ui::context::{Cx, Then};
use crate::ui::jobs::JobId;
use crate::ui::keys::{Action, Context, edit_text};
use crate::ui::shared::Shared;
use crate::ui::toast::Level;
use crate::ui::work::{self, DataReport, Job, Stage};

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

impl Tab for DataPanel {
    fn title(&self) -> &'static str {
        "Data"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        match (&self.input, &self.history) {
            (Some(_), _) => vec![C::PathInput, C::Always],
            (None, Some(_)) => vec![C::HistoryPreview, C::Always],
            (None, None) => vec![C::Data, C::Global, C::Always],
        }
    }

    fn act(&mut self, cx: &mut Cx, action: Action, key: &KeyEvent) -> bool {
        match action {
            Action::ImportPath => self.open_path_input(cx, false),
            Action::ImportHistory => self.open_path_input(cx, true),
            Action::DismissError => self.error = None,
            Action::ConfirmHistory => self.import_history(cx),
            Action::OlderPath => self.recall_path(1),
            Action::NewerPath => self.recall_path(-1),
            Action::CompletePath => self.complete_path(),
            Action::Download => self.start(cx, Job::Download),
            Action::Retrain => self.start(cx, Job::Retrain),
            Action::Accept if self.input.is_some() => self.accept_path(cx),
            Action::Cancel if self.input.is_some() => self.input = None,
            Action::Cancel if self.history.is_some() => {
                self.history = None;
                cx.notify(Level::Info, "nothing imported");
            }
            _ => {
                let typed = self.input.as_mut().is_some_and(|text| edit_text(text, action, key));
                if !typed {
                    return false;
                }
                self.completions.clear();
            }
        }
        true
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        view::render(self, shared, area, buf);
    }

    fn step(&mut self, _shared: &Shared, delta: isize) {
        if let Some(h) = self.history.as_mut() {
            h.scroll = h.scroll.saturating_add_signed(delta.clamp(-1000, 1000));
        }
    }

    /// A failure is news once: leaving the view puts it away.
    fn leave(&mut self) {
        self.error = None;
    }

    fn tick(&mut self, now: Instant) -> bool {
        let Some(running) = self.running.as_mut() else { return false };
        running.elapsed = now.saturating_duration_since(running.started);
        true
    }
}

impl DataPanel {
    /// Enter in the path input: import what it names.
    fn accept_path(&mut self, cx: &mut Cx) {
        let Some(text) = self.input.take() else { return };
        match expand(&text) {
            Some(path) if self.input_history => self.preview_history(cx, path),
            Some(path) => self.start(cx, Job::Import(path)),
            None => {
                self.input = Some(text);
                cx.notify(Level::Error, "type the path of a MovieLens folder or .zip first");
            }
        }
    }

    /// Opens the path box, holding the path that failed last (of the same
    /// kind) so a typo is fixed rather than typed again.
    fn open_path_input(&mut self, cx: &Cx, history: bool) {
        let retry = self.retry.take().filter(|(kind, _)| *kind == history).map(|(_, path)| path);
        self.input = Some(retry.unwrap_or_default());
        self.input_history = history;
        // Only datasets are remembered; an export is imported once.
        self.recent = match (cx.jobs, history) {
            (Some(jobs), false) => jobs.launcher.home.recent_datasets(),
            _ => Vec::new(),
        };
        self.recalled = None;
        self.completions.clear();
    }

    /// ↑ (`by` 1) and ↓ (-1) in the path box: the datasets opened before,
    /// newest first; ↓ past the newest brings back what was typed.
    fn recall_path(&mut self, by: isize) {
        let Some(input) = self.input.as_mut() else { return };
        let last = self.recent.len() as isize - 1;
        let now = self.recalled.map_or(-1, |i| i as isize);
        let next = (now + by).clamp(-1, last);
        if next == now {
            return;
        }
        if now == -1 {
            self.typed = input.clone();
        }
        self.recalled = usize::try_from(next).ok();
        *input = match self.recalled {
            Some(i) => self.recent[i].display().to_string(),
            None => std::mem::take(&mut self.typed),
        };
        self.completions.clear();
    }

    /// Tab in the path box: the path completed as far as the file system
    /// allows; with several matches, they are listed under the box.
    fn complete_path(&mut self) {
        let Some(input) = self.input.as_mut() else { return };
        let done = complete::complete(input, expand);
        *input = done.text;
        self.completions = done.choices;
        self.recalled = None;
    }

    /// Reads and matches your ratings export; the preview waits for a yes.
    fn preview_history(&mut self, cx: &mut Cx, path: PathBuf) {
        match cinema_store::history::export::read(&path) {
            Ok(export) => {
                let preview = cx.shared.rec.preview_history(&export);
                self.error = None;
                self.history = Some(HistoryPreview { path, preview, scroll: 0 });
            }
            Err(e) => {
                let message = format!("{e:#}");
                cx.notify(Level::Error, message.clone());
                self.error = Some(message);
                self.retry = Some((true, path.display().to_string()));
            }
        }
    }

    /// Enter on the preview: one batch into your log, learned at once.
    fn import_history(&mut self, cx: &mut Cx) {
        let Some(h) = self.history.take() else { return };
        let started = Instant::now();
        match cx.shared.rec.import_history(&h.preview) {
            Ok(0) => cx.notify(Level::Info, "nothing to change: your ratings already say this"),
            Ok(n) => {
                let ms = started.elapsed().as_secs_f64() * 1e3;
                cx.notify(
                    Level::Info,
                    format!("imported {n} of your ratings as one batch (u undoes it) in {ms:.0} ms"),
                );
                cx.then.push(Then::Learn);
            }
            Err(e) => cx.notify(Level::Error, format!("could not import: {e:#}")),
        }
    }

    /// Starts `job` on a worker thread; one at a time.
    pub fn start(&mut self, cx: &mut Cx, job: Job) {
        if self.running.is_some() {
            cx.notify(Level::Error, "one job at a time: wait for this one to finish");
            return;
        }
        let Some(jobs) = cx.jobs else {
            cx.notify(Level::Error, "importing is not available here; use `cinema import PATH`");
            return;
        };
        tracing::info!("starting {job:?}");
        let id = if job == Job::Retrain {
            match work::retrain(&cx.shared.rec, &jobs.reports) {
                Ok(id) => id,
                Err(e) => {
                    cx.notify(Level::Error, format!("could not train: {e:#}"));
                    return;
                }
            }
        } else {
            work::spawn(job.clone(), jobs.launcher.clone(), &jobs.reports)
        };
        self.error = None;
        self.running = Some(Running { id, job, stage: None, started: Instant::now(), elapsed: Duration::ZERO });
    }

    /// A report of a job; one this view no longer holds is dropped.
    pub fn on_report(&mut self, cx: &mut Cx, id: JobId, report: DataReport) {
        if self.running.as_ref().is_none_or(|r| r.id != id) {
            tracing::debug!("dropped a report of {id}, a job the Data view no longer holds");
            return;
        }
        match report {
            DataReport::Stage(stage) => {
                if let Some(running) = self.running.as_mut() {
                    running.stage = Some(stage);
                }
            }
            DataReport::Done(Ok((rec, path))) => {
                let Some(running) = self.running.take() else { return };
                let fell_back = match running.job {
                    Job::Reopen { why, .. } => Some(why),
                    _ => None,
                };
                cx.then.push(Then::Switch(rec, path, running.started.elapsed(), fell_back));
            }
            DataReport::Done(Err(message)) => {
                if let Some(Running { job: Job::Import(path), .. }) = self.running.take() {
                    self.retry = Some((false, path.display().to_string()));
                }
                cx.notify(Level::Error, format!("{message} — still on {}", cx.shared.rec.dataset.name));
                self.error = Some(message);
            }
            DataReport::Retrained(Ok(meta)) => {
                self.running = None;
                let text = format!("{} trained again in {:.1} s and saved", meta.algorithm, meta.training_seconds);
                cx.shared.rec.meta = *meta;
                cx.shared.rec.origin = ModelOrigin::Trained;
                cx.notify(Level::Info, text);
                cx.then.extend([Then::ReloadVersions, Then::Refresh]);
            }
            DataReport::Retrained(Err(message)) => {
                self.running = None;
                cx.notify(Level::Error, format!("training failed: {message} — the previous model stays"));
                self.error = Some(message);
            }
        }
    }
}

/// What the user typed as a path: quotes from pasting dropped, `~` expanded.
pub fn expand(text: &str) -> Option<PathBuf> {
    let text = text.trim();
    let text = ['"', '\''].iter().find_map(|&q| text.strip_prefix(q)?.strip_suffix(q)).unwrap_or(text).trim();
    if text.is_empty() {
        return None;
    }
    let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_owned());
    match text.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            home().map(|h| h.join(rest.trim_start_matches('/'))).or_else(|| Some(PathBuf::from(text)))
        }
        _ => Some(PathBuf::from(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_paths_lose_quotes_and_gain_the_home_folder() {
        assert_eq!(expand("  '/data/ml-100k' "), Some(PathBuf::from("/data/ml-100k")));
        assert_eq!(expand("\"/a b/ml.zip\""), Some(PathBuf::from("/a b/ml.zip")));
        assert_eq!(expand("   "), None);
        assert_eq!(expand("''"), None);
        assert_eq!(expand("~user/x"), Some(PathBuf::from("~user/x")));
        if let Some(home) = directories::BaseDirs::new().map(|d| d.home_dir().to_owned()) {
            assert_eq!(expand("~/ml-100k"), Some(home.join("ml-100k")));
        }
    }
}
