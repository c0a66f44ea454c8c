//! Switching the whole app to another dataset: when the engine has loaded
//! the one opened behind the first frame, when the Data view's job has
//! opened a new one, and when a module broke its limits and the same
//! dataset opens again with the built-in module.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::state::{App, Level};
use super::tabs::data::DataPanel;
use super::tabs::lab::LabPanel;
use super::work::{Job, Report};
use crate::modules::DEFAULT_MODULE;
use crate::recommender::{ModelOrigin, Opened, Recommender};
use cinema_host::ModuleSource;
use cinema_store::Dataset;

impl App {
    /// Hands a report of background work to the panel whose job it is.
    pub(super) fn on_work(&mut self, report: Report) {
        match report {
            Report::Data(id, report) => self.with_tab::<DataPanel, _>(|data, cx| data.on_report(cx, id, report)),
            Report::Lab(id, report) => self.with_tab::<LabPanel, _>(|lab, cx| lab.on_report(cx, id, report)),
            Report::Opened(dataset, opened) => {
                self.on_opened(&dataset, *opened);
            }
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
        let rec = &mut self.shared.rec;
        if !rec.loading() || !Arc::ptr_eq(dataset, &rec.dataset) {
            // Superseded: another dataset, or a model activated since.
            return false;
        }
        let expected = rec.origin;
        match rec.settle(opened) {
            Ok(warnings) => {
                if !warnings.is_empty() {
                    self.notify(Level::Error, warnings.join("; "));
                }
                if self.shared.rec.origin != expected {
                    self.refresh(false, None);
                }
                if self.shared.rec.stand_in() || self.shared.rec.meta.quick {
                    self.with_tab::<LabPanel, _>(|lab, cx| lab.first_training(cx));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                if !(cinema_host::is_fault(&e) && self.fall_back(&why)) {
                    let name = self.shared.rec.dataset.name.clone();
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
        let busy = self.tab::<DataPanel>().running.is_some();
        let Some(worker) = self.worker.as_mut() else { return false };
        if busy || worker.jobs.launcher.module.source == ModuleSource::Builtin(DEFAULT_MODULE) {
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
        let job = Job::Reopen { source: self.shared.source.clone(), why: why.to_owned() };
        self.with_tab::<DataPanel, _>(|data, cx| data.start(cx, job));
        true
    }

    /// Everything on screen now comes from `rec`, opened from `path` in
    /// `took`: a fresh state, keeping only the theme and the means to
    /// switch again. `fell_back`: why the module before it was replaced.
    pub(super) fn switch(
        &mut self,
        rec: Recommender,
        path: Option<PathBuf>,
        took: Duration,
        fell_back: Option<String>,
    ) {
        self.tab_mut::<LabPanel>().abandon();
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
        next.shared.source = path;
        next.shared.theme = self.shared.theme;
        if let Some(worker) = self.worker.take() {
            next.attach_worker(worker);
        }
        // A warning from opening (shown by `new`) matters more than the summary.
        if next.shared.toast.is_none() {
            next.notify(Level::Info, summary);
        }
        if let Some(why) = fell_back {
            let module = &next.shared.rec.meta.engine;
            next.notify(Level::Error, format!("{why} — switched to the built-in engine module {module}"));
        }
        *self = next;
    }
}
