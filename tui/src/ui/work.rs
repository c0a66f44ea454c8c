//! What the app's jobs do (they run through [`super::jobs`]): importing a
//! MovieLens folder or zip, or downloading latest-small, then opening it
//! (the engine then loads it behind the app's next frame; see
//! [`Recommender::open_behind`]), training again, and the Lab's training,
//! tuning and sweeps. Progress and the outcome come back as events on the
//! app's one channel, tagged with the job's id, so the screen keeps drawing
//! and the current dataset stays usable until the new one is ready.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::jobs::{self, Handle, JobId, Reports, Sink};
use crate::eval::score::Diverse;
use crate::lab::{
    self,
    train::{Phase, Plan, Trained},
    tune::{Candidate, Search},
};
use crate::recommender::{Opened, Recommender};
use cinema_host::EngineClient;
use cinema_host::{EngineModule, Limits, Runtime};
use cinema_protocol::{ModelSpec, Progress, Role};
use cinema_store::models::ModelMeta;
use cinema_store::{Dataset, Home, demo, download, load_or_import};

/// Progress events closer together than this are dropped (the last one always
/// goes): a 250 MB download arrives in thousands of chunks.
const THROTTLE: Duration = Duration::from_millis(50);

/// What opening a dataset needs, shareable with a worker thread.
#[derive(Clone)]
pub struct Launcher {
    pub home: Home,
    pub runtime: Arc<Runtime>,
    pub module: Arc<EngineModule>,
    pub limits: Limits,
    /// Where `Job::Download` fetches MovieLens latest-small from.
    pub download_url: String,
}

impl Launcher {
    pub fn new(home: Home, runtime: Arc<Runtime>, module: Arc<EngineModule>, limits: Limits) -> Launcher {
        Launcher { home, runtime, module, limits, download_url: download::LATEST_SMALL_URL.to_owned() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// A MovieLens folder or zip on this machine.
    Import(PathBuf),
    /// MovieLens latest-small from the web, into the data directory.
    Download,
    /// Train the current dataset's models again, on the engine thread.
    Retrain,
    /// Open the current dataset (`None`: the demo) again with the
    /// launcher's module, because the module in use broke a rule (`why`).
    Reopen { source: Option<PathBuf>, why: String },
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Downloading {
        done: u64,
        total: Option<u64>,
    },
    /// Reading the files (or the binary cache of an earlier import).
    Importing,
    /// Starting the engine and restoring (or training) the model.
    Opening,
    /// Training one of the default models (the rating model, then the
    /// ranking model); `fraction` is of that model's training.
    Training {
        model: String,
        ranking: bool,
        epoch: u32,
        epochs: u32,
        fraction: f64,
    },
}

pub enum Report {
    /// From the Data view's job (an import, a download, a retraining).
    Data(JobId, DataReport),
    /// From one of the Lab's jobs (training, tuning, a sweep).
    Lab(JobId, LabReport),
    /// The engine has loaded this dataset, which the app opened before it was ready.
    Opened(Arc<Dataset>, Box<anyhow::Result<Opened>>),
}

pub enum DataReport {
    Stage(Stage),
    /// The new dataset, open, with the path it came from (`None`: the demo); or why not.
    Done(Result<(Box<Recommender>, Option<PathBuf>), String>),
    /// The current dataset's models, trained again and saved; or why not.
    Retrained(Result<Box<ModelMeta>, String>),
}

pub enum LabReport {
    Phase(Phase),
    /// The run's version (`None`: cancelled), or why it failed.
    Done(Result<Option<Box<Trained>>, String>),
    /// A tuning candidate scored on every fold.
    Candidate(Box<Candidate>),
    /// The search ended (all done or cancelled), or why it failed.
    Tuned(Result<(), String>),
    /// One setting of a diversity sweep, scored.
    SweepPoint(Diverse),
    /// The sweep ended (all done or cancelled), or why it failed.
    Swept(Result<(), String>),
}

/// Trains `plan` into a new version as a job with its own engine
/// instances (a team, one per core), so the app's engine keeps serving the
/// active version; reports every epoch and reads its control after every step.
pub fn lab_train(rec: &Recommender, plan: Plan, l: Launcher, tx: &Sink<Report>) -> Handle {
    let (dataset, versions, you) = (rec.dataset.clone(), rec.versions().clone(), rec.your_fold_in().ratings);
    let failed = |why| LabReport::Done(Err(why));
    jobs::start("training", lab_sink(tx), failed, move |control, reports| {
        let mut last: Option<Instant> = None;
        let members = lab::tune::team_size(lab::tune::default_jobs(), dataset.ratings.len() + you.len());
        let outcome = EngineClient::start_team(&l.runtime, &l.module, l.limits, members).and_then(|mut client| {
            lab::train::run(&mut client, &dataset, &you, plan, &versions, |phase| {
                let epoch_end = matches!(phase, Phase::Training { progress: p, .. } if p.visited == 0 || p.finished);
                let now = Instant::now();
                if epoch_end || !matches!(phase, Phase::Training { .. }) || last.is_none_or(|t| now - t >= THROTTLE) {
                    last = Some(now);
                    reports.send(LabReport::Phase(phase.clone()));
                }
                control.checkpoint()
            })
        });
        let outcome = outcome.and_then(|t| match t {
            Some(Trained { unsaved: Some(why), .. }) => {
                anyhow::bail!("the model was trained but could not be saved as a version: {why}")
            }
            t => Ok(t.map(Box::new)),
        });
        reports.send(LabReport::Done(outcome.map_err(|e| format!("{e:#}"))));
    })
}

/// Scores `candidates` by cross-validation on `jobs` engine instances,
/// reporting each as it finishes.
pub fn lab_tune(
    rec: &Recommender,
    candidates: Vec<ModelSpec>,
    folds: usize,
    jobs: usize,
    l: Launcher,
    tx: &Sink<Report>,
) -> Handle {
    let dataset = rec.dataset.clone();
    let failed = |why| LabReport::Tuned(Err(why));
    jobs::start("search", lab_sink(tx), failed, move |control, reports| {
        let cancel = control.cancelled();
        let search = Search { runtime: &l.runtime, module: &l.module, limits: l.limits, folds, jobs, cancel };
        let outcome = search.run(&dataset, &candidates, |c| reports.send(LabReport::Candidate(Box::new(c.clone()))));
        reports.send(LabReport::Tuned(outcome.map(|_| ()).map_err(|e| format!("{e:#}"))));
    })
}

/// Sweeps the diversity knob for `models` as a job with its own engine
/// instance ([`lab::sweep`]), reporting each setting as it is scored and
/// reading its control between them.
pub fn lab_sweep(rec: &Recommender, models: (ModelSpec, Option<ModelSpec>), l: Launcher, tx: &Sink<Report>) -> Handle {
    let dataset = rec.dataset.clone();
    let failed = |why| LabReport::Swept(Err(why));
    jobs::start("sweep", lab_sink(tx), failed, move |control, reports| {
        let outcome = EngineClient::start(&l.runtime, &l.module, l.limits).and_then(|mut client| {
            lab::sweep::run(&mut client, &dataset, models, &lab::sweep::settings(), |point| {
                reports.send(LabReport::SweepPoint(point));
                match control.is_cancelled() {
                    true => ControlFlow::Break(()),
                    false => ControlFlow::Continue(()),
                }
            })
        });
        reports.send(LabReport::Swept(outcome.map(|_| ()).map_err(|e| format!("{e:#}"))));
    })
}

/// The Lab's jobs' reports, as the app's.
fn lab_sink(tx: &Sink<Report>) -> Sink<(JobId, LabReport)> {
    let tx = tx.clone();
    Sink::new(move |(id, report)| tx.send(Report::Lab(id, report)))
}

/// The Data view's jobs' reports, as the app's.
fn data_sink(tx: &Sink<Report>) -> Sink<(JobId, DataReport)> {
    let tx = tx.clone();
    Sink::new(move |(id, report)| tx.send(Report::Data(id, report)))
}

/// Trains the current dataset's models again on the engine thread (the
/// screen keeps drawing; ratings made meanwhile are learned after it).
/// Its reports carry an id of their own, as a job's do.
pub fn retrain(rec: &Recommender, tx: &Sink<Report>) -> Result<JobId> {
    let reports = Reports::new(data_sink(tx));
    let (id, done) = (reports.id(), reports.clone());
    let mut progress = Reporter { reports, last: None };
    rec.retrain(
        move |spec, role, p| {
            let (stage, last) = training(spec, role, p);
            progress.send(stage, last);
        },
        move |outcome| done.send(DataReport::Retrained(outcome.map(Box::new).map_err(|e| format!("{e:#}")))),
    )?;
    Ok(id)
}

/// Where a training is, as a stage; true for its last step.
fn training(spec: &ModelSpec, role: Role, p: &Progress) -> (Stage, bool) {
    let fraction = if p.per_epoch == 0 { 0.0 } else { p.visited as f64 / p.per_epoch as f64 };
    let done = (f64::from(p.epoch) + fraction) / f64::from(p.epochs.max(1));
    let (model, ranking) = (spec.algorithm.clone(), role == Role::Ranking);
    (Stage::Training { model, ranking, epoch: p.epoch, epochs: p.epochs, fraction: done }, p.finished)
}

/// Runs `job` (an import, a download, a reopening) as a job of its own.
pub fn spawn(job: Job, launcher: Launcher, tx: &Sink<Report>) -> JobId {
    let failed = |why| DataReport::Done(Err(why));
    let opened = tx.clone();
    let handle = jobs::start("import", data_sink(tx), failed, move |_, reports| {
        let mut progress = Reporter { reports: reports.clone(), last: None };
        let outcome = run(job, &launcher, &mut progress, opened).map_err(|e| format!("{e:#}"));
        reports.send(DataReport::Done(outcome.map(|(rec, path)| (Box::new(rec), path))));
    });
    handle.id()
}

/// A job's stages, at most one per [`THROTTLE`].
#[derive(Clone)]
struct Reporter {
    reports: Reports<DataReport>,
    last: Option<Instant>,
}

impl Reporter {
    /// Sends `stage`, unless one went out very recently and this one is not final.
    fn send(&mut self, stage: Stage, last_of_its_kind: bool) {
        let now = Instant::now();
        if !last_of_its_kind && self.last.is_some_and(|t| now.duration_since(t) < THROTTLE) {
            return;
        }
        self.last = Some(now);
        self.reports.send(DataReport::Stage(stage));
    }
}

/// `tell`: where the engine says it has loaded the dataset, after the job.
fn run(job: Job, l: &Launcher, progress: &mut Reporter, tell: Sink<Report>) -> Result<(Recommender, Option<PathBuf>)> {
    let path = match job {
        Job::Import(path) => Some(path),
        Job::Reopen { source, .. } => source,
        Job::Retrain => anyhow::bail!("retraining runs on the engine thread, not here"),
        Job::Download => {
            let dir = l.home.datasets_dir()?;
            Some(download::download(&l.download_url, &dir, |done, total| {
                progress.send(Stage::Downloading { done, total }, total == Some(done))
            })?)
        }
    };
    let dataset = match &path {
        Some(path) => {
            progress.send(Stage::Importing, true);
            load_or_import(&l.home, path).with_context(|| format!("could not import {}", path.display()))?.0
        }
        None => demo::catalogue(),
    };
    progress.send(Stage::Opening, true);
    // The app switches once the files are read: a saved model, or a
    // stand-in while the first models train, loads behind its first frame.
    let mut training_progress = progress.clone();
    let report = move |spec: &ModelSpec, role, p: &Progress| {
        let (stage, last) = training(spec, role, p);
        training_progress.send(stage, last);
    };
    let mut rec = Recommender::open_behind(&l.home, &l.runtime, &l.module, l.limits, dataset, report, move |d, o| {
        tell.send(Report::Opened(d, Box::new(o)));
    })?;
    if let Some(path) = &path {
        remember(&l.home, path, &mut rec);
    }
    Ok((rec, path))
}

/// Makes `path` the dataset of the next start; failing to is worth a warning, not the import.
pub fn remember(home: &Home, path: &Path, rec: &mut Recommender) {
    if let Err(e) = home.set_active_dataset(path) {
        tracing::warn!("{e:#}");
        rec.warnings.push(format!("{e:#}"));
    }
}
