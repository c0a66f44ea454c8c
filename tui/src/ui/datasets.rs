//! The Data view's state changes: starting an import or a download, following
//! its progress, and switching the whole app to the new dataset when it is
//! open — or keeping the current one and showing why not.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::complete;
use super::state::{App, HistoryPreview, Level, Running, with_panel};
use super::work::{self, DataReport, Job, Report};
use crate::modules::DEFAULT_MODULE;
use crate::recommender::{ModelOrigin, Opened, Recommender};
use cinema_host::ModuleSource;
use cinema_store::Dataset;

impl App {
    /// Enter in the path input: import what it names.
    pub(super) fn accept_path(&mut self) {
        let Some(text) = self.data.input.take() else { return };
        match expand(&text) {
            Some(path) if self.data.input_history => self.preview_history(path),
            Some(path) => self.start(Job::Import(path)),
            None => {
                self.data.input = Some(text);
                self.notify(Level::Error, "type the path of a MovieLens folder or .zip first");
            }
        }
    }

    /// Opens the path box, holding the path that failed last (of the same
    /// kind) so a typo is fixed rather than typed again.
    pub(super) fn open_path_input(&mut self, history: bool) {
        let retry = self.data.retry.take().filter(|(kind, _)| *kind == history).map(|(_, path)| path);
        self.data.input = Some(retry.unwrap_or_default());
        self.data.input_history = history;
        // Only datasets are remembered; an export is imported once.
        self.data.recent = match (&self.worker, history) {
            (Some(worker), false) => worker.jobs.launcher.home.recent_datasets(),
            _ => Vec::new(),
        };
        self.data.recalled = None;
        self.data.completions.clear();
    }

    /// ↑ (`by` 1) and ↓ (-1) in the path box: the datasets opened before,
    /// newest first; ↓ past the newest brings back what was typed.
    pub(super) fn recall_path(&mut self, by: isize) {
        let Some(input) = self.data.input.as_mut() else { return };
        let last = self.data.recent.len() as isize - 1;
        let now = self.data.recalled.map_or(-1, |i| i as isize);
        let next = (now + by).clamp(-1, last);
        if next == now {
            return;
        }
        if now == -1 {
            self.data.typed = input.clone();
        }
        self.data.recalled = usize::try_from(next).ok();
        *input = match self.data.recalled {
            Some(i) => self.data.recent[i].display().to_string(),
            None => std::mem::take(&mut self.data.typed),
        };
        self.data.completions.clear();
    }

    /// Tab in the path box: the path completed as far as the file system
    /// allows; with several matches, they are listed under the box.
    pub(super) fn complete_path(&mut self) {
        let Some(input) = self.data.input.as_mut() else { return };
        let done = complete::complete(input, expand);
        *input = done.text;
        self.data.completions = done.choices;
        self.data.recalled = None;
    }

    /// Reads and matches your ratings export; the preview waits for a yes.
    fn preview_history(&mut self, path: PathBuf) {
        match cinema_store::history::export::read(&path) {
            Ok(export) => {
                let preview = self.rec.preview_history(&export);
                self.data.error = None;
                self.data.history = Some(HistoryPreview { path, preview, scroll: 0 });
            }
            Err(e) => {
                let message = format!("{e:#}");
                self.notify(Level::Error, message.clone());
                self.data.error = Some(message);
                self.data.retry = Some((true, path.display().to_string()));
            }
        }
    }

    /// Enter on the preview: one batch into your log, learned at once.
    pub(super) fn import_history(&mut self) {
        let Some(h) = self.data.history.take() else { return };
        let started = Instant::now();
        match self.rec.import_history(&h.preview) {
            Ok(0) => self.notify(Level::Info, "nothing to change: your ratings already say this"),
            Ok(n) => {
                self.notify(
                    Level::Info,
                    format!(
                        "imported {n} of your ratings as one batch (u undoes it) in {:.0} ms",
                        started.elapsed().as_secs_f64() * 1e3
                    ),
                );
                self.refresh(true, None);
            }
            Err(e) => self.notify(Level::Error, format!("could not import: {e:#}")),
        }
    }

    /// The engine has loaded the dataset opened behind the first frame:
    /// its warnings are shown, when the model is not the one expected (the
    /// saved version did not load after all) the lists are asked for again,
    /// and under a stand-in the first training starts (only now: a module
    /// that cannot even open the dataset trains nothing, and a big dataset
    /// is not loaded by two engines at once). A load that failed is said;
    /// one that broke the module's limits falls back to the built-in module.
    pub(super) fn on_opened(&mut self, dataset: &Arc<Dataset>, opened: anyhow::Result<Opened>) -> bool {
        if !self.rec.loading() || !Arc::ptr_eq(dataset, &self.rec.dataset) {
            // Superseded: another dataset, or a model activated since.
            return false;
        }
        let expected = self.rec.origin;
        match self.rec.settle(opened) {
            Ok(warnings) => {
                if !warnings.is_empty() {
                    self.notify(Level::Error, warnings.join("; "));
                }
                if self.rec.origin != expected {
                    self.refresh(false, None);
                }
                if self.rec.stand_in() || self.rec.meta.quick {
                    with_panel!(self, lab, |lab, cx| lab.first_training(cx));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                if !(cinema_host::is_fault(&e) && self.fall_back(&why)) {
                    let name = self.rec.dataset.name.clone();
                    self.notify(
                        Level::Error,
                        format!("the engine could not open {name}: {why} (d opens another dataset)"),
                    );
                }
            }
        }
        true
    }

    /// The module in use broke a limit or a rule and its instance is gone:
    /// open the same dataset again with the built-in module. False when
    /// there is nothing to fall back to (no worker, a job under way, or the
    /// built-in module is the one that failed).
    pub(super) fn fall_back(&mut self, why: &str) -> bool {
        let Some(worker) = self.worker.as_mut() else { return false };
        if self.data.running.is_some() || worker.jobs.launcher.module.source == ModuleSource::Builtin(DEFAULT_MODULE) {
            return false;
        }
        match crate::modules::builtin(&worker.jobs.launcher.runtime, DEFAULT_MODULE) {
            Ok(module) => worker.jobs.launcher.module = Arc::new(module),
            Err(e) => {
                tracing::error!("no built-in module to fall back to: {e:#}");
                return false;
            }
        }
        tracing::warn!("falling back to the built-in engine module: {why}");
        self.start(Job::Reopen { source: self.source.clone(), why: why.to_owned() });
        true
    }

    /// Starts `job` on a worker thread; one at a time.
    pub(super) fn start(&mut self, job: Job) {
        if self.data.running.is_some() {
            self.notify(Level::Error, "one job at a time: wait for this one to finish");
            return;
        }
        let Some(worker) = &self.worker else {
            self.notify(Level::Error, "importing is not available here; use `cinema import PATH`");
            return;
        };
        tracing::info!("starting {job:?}");
        let id = if job == Job::Retrain {
            match work::retrain(&self.rec, &worker.jobs.reports) {
                Ok(id) => id,
                Err(e) => {
                    self.notify(Level::Error, format!("could not train: {e:#}"));
                    return;
                }
            }
        } else {
            work::spawn(job.clone(), worker.jobs.launcher.clone(), &worker.jobs.reports)
        };
        self.data.error = None;
        self.data.running = Some(Running { id, job, stage: None, started: Instant::now(), elapsed: Duration::ZERO });
    }

    pub(super) fn on_work(&mut self, report: Report) {
        match report {
            Report::Data(id, report) if self.data.running.as_ref().is_some_and(|r| r.id == id) => self.on_data(report),
            Report::Data(id, _) => tracing::debug!("dropped a report of {id}, a job the Data view no longer holds"),
            Report::Lab(id, report) => with_panel!(self, lab, |lab, cx| lab.on_report(cx, id, report)),
            Report::Opened(dataset, opened) => {
                self.on_opened(&dataset, *opened);
            }
        }
    }

    /// A report of the Data view's job under way.
    fn on_data(&mut self, report: DataReport) {
        match report {
            DataReport::Stage(stage) => {
                if let Some(running) = self.data.running.as_mut() {
                    running.stage = Some(stage);
                }
            }
            DataReport::Done(Ok((rec, path))) => {
                let fell_back = match self.data.running.as_ref().map(|r| &r.job) {
                    Some(Job::Reopen { why, .. }) => Some(why.clone()),
                    _ => None,
                };
                self.switch(*rec, path);
                if let Some(why) = fell_back {
                    let module = &self.rec.meta.engine;
                    self.notify(Level::Error, format!("{why} — switched to the built-in engine module {module}"));
                }
            }
            DataReport::Done(Err(message)) => {
                if let Some(Running { job: Job::Import(path), .. }) = self.data.running.take() {
                    self.data.retry = Some((false, path.display().to_string()));
                }
                self.notify(Level::Error, format!("{message} — still on {}", self.rec.dataset.name));
                self.data.error = Some(message);
            }
            DataReport::Retrained(Ok(meta)) => {
                self.data.running = None;
                let text = format!("{} trained again in {:.1} s and saved", meta.algorithm, meta.training_seconds);
                self.rec.meta = *meta;
                self.rec.origin = ModelOrigin::Trained;
                self.notify(Level::Info, text);
                with_panel!(self, shelf, |shelf, cx| shelf.reload(cx));
                self.refresh(false, None);
            }
            DataReport::Retrained(Err(message)) => {
                self.data.running = None;
                self.notify(Level::Error, format!("training failed: {message} — the previous model stays"));
                self.data.error = Some(message);
            }
        }
    }

    /// Everything on screen now comes from `rec`: a fresh state, keeping only
    /// the theme and the means to switch again.
    fn switch(&mut self, rec: Recommender, path: Option<PathBuf>) {
        self.lab.abandon();
        let took = self.data.running.take().map_or(Duration::ZERO, |r| r.started.elapsed());
        let ds = &rec.dataset;
        let model = match rec.origin {
            ModelOrigin::Trained => format!("model trained in {:.1} s and saved", rec.meta.training_seconds),
            ModelOrigin::Loaded => "saved model loaded".to_owned(),
            ModelOrigin::StandIn => "its first models train now".to_owned(),
        };
        let summary = format!(
            "now on {}: {} movies · {} users · {} ratings · {model} · {:.1} s in all",
            ds.name,
            ds.movies.len(),
            ds.user_ids.len(),
            ds.ratings.len(),
            took.as_secs_f64()
        );
        tracing::info!("switched to {} from {:?}", ds.name, path);
        let mut next = App::new(rec);
        next.source = path;
        next.theme = self.theme;
        if let Some(worker) = self.worker.take() {
            next.attach_worker(worker);
        }
        // A warning from opening (shown by `new`) matters more than the summary.
        if next.toast.is_none() {
            next.notify(Level::Info, summary);
        }
        *self = next;
    }
}

/// What the user typed as a path: quotes from pasting dropped, `~` expanded.
pub(super) fn expand(text: &str) -> Option<PathBuf> {
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
