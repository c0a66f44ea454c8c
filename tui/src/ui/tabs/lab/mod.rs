//! The Lab view's state and what its keys do: a form built from the engine
//! module's own description of its algorithms (ABI 2), a training run on a
//! worker thread with its own engine instance (the app keeps serving the
//! active version meanwhile) whose every epoch is charted, a graceful stop
//! or a cancel, and at the end the held-out scores beside the version that
//! was active before. Tuning runs the same way, filling a table.

use std::time::{Duration, Instant};

use cinema_protocol::{AlgorithmInfo, Hello, ModelSpec, ParamInfo, ParamKind, Role};
use cinema_store::models::{Metrics, ModelMeta};

mod quality;
mod view;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::Tab;
use crate::eval::score::Diverse;
use crate::lab::quality::Quality;
use crate::lab::train::{Halt, Plan, first_plans};
use crate::lab::tune::Candidate;
use crate::ui::context::{Cx, Then};
use crate::ui::jobs::{Handle, JobId};
use crate::ui::keys::{Action, Context, edit_text};
use crate::ui::shared::Shared;
use crate::ui::toast::Level;
use crate::ui::work::{self, LabReport};

/// One parameter of the form: its description and the text typed for it.
#[derive(Debug, Clone)]
pub struct Field {
    pub info: ParamInfo,
    pub text: String,
}

/// The training form: a rating algorithm and an optional ranking model,
/// each with its parameters.
#[derive(Debug, Clone)]
pub struct Form {
    pub ratings: Vec<AlgorithmInfo>,
    pub rankings: Vec<AlgorithmInfo>,
    pub rating: usize,
    pub rating_fields: Vec<Field>,
    /// Index into `rankings`; `None` orders lists by predicted stars.
    pub ranking: Option<usize>,
    pub ranking_fields: Vec<Field>,
    /// The selected row (see [`Row`]).
    pub selected: usize,
    /// The text being typed into the selected field.
    pub editing: Option<String>,
    /// Why the form cannot train, naming the field.
    pub error: Option<String>,
}

/// A row of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Rating,
    RatingParam(usize),
    Ranking,
    RankingParam(usize),
}

fn fields(info: &AlgorithmInfo) -> Vec<Field> {
    info.params.iter().map(|p| Field { info: p.clone(), text: p.kind.default_value().to_string() }).collect()
}

impl Form {
    /// The module's algorithms at their defaults.
    pub fn new(hello: &Hello) -> Form {
        let of = |role| hello.algorithms.iter().filter(|a| a.role == role).cloned().collect::<Vec<_>>();
        let (ratings, rankings) = (of(Role::Rating), of(Role::Ranking));
        let rating_fields = ratings.first().map(fields).unwrap_or_default();
        let ranking = (!rankings.is_empty()).then_some(0);
        let ranking_fields = rankings.first().map(fields).unwrap_or_default();
        Form {
            ratings,
            rankings,
            rating: 0,
            rating_fields,
            ranking,
            ranking_fields,
            selected: 0,
            editing: None,
            error: None,
        }
    }

    /// Loads `meta`'s models and parameter values into the form.
    pub fn set(&mut self, rating: &ModelSpec, ranking: Option<&ModelSpec>) {
        if let Some(i) = self.ratings.iter().position(|a| a.name == rating.algorithm) {
            self.rating = i;
            self.rating_fields = fields(&self.ratings[i]);
            fill(&mut self.rating_fields, rating);
        }
        self.ranking = ranking.and_then(|r| self.rankings.iter().position(|a| a.name == r.algorithm));
        if let (Some(i), Some(spec)) = (self.ranking, ranking) {
            self.ranking_fields = fields(&self.rankings[i]);
            fill(&mut self.ranking_fields, spec);
        }
        self.error = None;
    }

    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Rating];
        rows.extend((0..self.rating_fields.len()).map(Row::RatingParam));
        if !self.rankings.is_empty() {
            rows.push(Row::Ranking);
            if self.ranking.is_some() {
                rows.extend((0..self.ranking_fields.len()).map(Row::RankingParam));
            }
        }
        rows
    }

    pub fn row(&self) -> Option<Row> {
        self.rows().get(self.selected).copied()
    }

    pub fn step(&mut self, delta: isize) {
        let last = self.rows().len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    fn field_mut(&mut self, row: Row) -> Option<&mut Field> {
        match row {
            Row::RatingParam(i) => self.rating_fields.get_mut(i),
            Row::RankingParam(i) => self.ranking_fields.get_mut(i),
            _ => None,
        }
    }

    pub fn field(&self, row: Row) -> Option<&Field> {
        match row {
            Row::RatingParam(i) => self.rating_fields.get(i),
            Row::RankingParam(i) => self.ranking_fields.get(i),
            _ => None,
        }
    }

    /// ← / →: the next algorithm, ranking model (or none) or choice.
    pub fn cycle(&mut self, by: isize) {
        let Some(row) = self.row() else { return };
        let wrap = |i: usize, n: usize| (i as isize + by).rem_euclid(n.max(1) as isize) as usize;
        match row {
            Row::Rating if !self.ratings.is_empty() => {
                self.rating = wrap(self.rating, self.ratings.len());
                self.rating_fields = fields(&self.ratings[self.rating]);
            }
            Row::Ranking => {
                // Positions: 0 = none, then each ranking model.
                let at = self.ranking.map_or(0, |i| i + 1);
                self.ranking = wrap(at, self.rankings.len() + 1).checked_sub(1);
                if let Some(i) = self.ranking {
                    self.ranking_fields = fields(&self.rankings[i]);
                }
            }
            _ => {
                if let Some(field) = self.field_mut(row)
                    && let ParamKind::Choice { choices, .. } = &field.info.kind
                {
                    let at = choices.iter().position(|c| *c == field.text).unwrap_or(0);
                    field.text = choices[wrap(at, choices.len())].clone();
                }
            }
        }
        self.error = None;
    }

    /// `e`: start typing a new value for the selected parameter. The box
    /// starts empty, so what is typed replaces the value (shown beside it).
    pub fn edit(&mut self) {
        if let Some(row) = self.row()
            && self.field(row).is_some()
        {
            self.editing = Some(String::new());
        }
    }

    /// Enter while typing: keep the text if the parameter reads it; nothing
    /// typed keeps the value as it was.
    pub fn accept(&mut self) {
        let (Some(text), Some(row)) = (self.editing.take(), self.row()) else { return };
        if text.trim().is_empty() {
            return;
        }
        let info = match row {
            Row::RatingParam(_) => self.ratings.get(self.rating),
            _ => self.ranking.and_then(|i| self.rankings.get(i)),
        };
        let Some(info) = info.cloned() else { return };
        let Some(field) = self.field_mut(row) else { return };
        let name = field.info.name.clone();
        match info.value(&name, &text).map(|v| info.check(&ModelSpec::new(&info.name).with(&name, v))) {
            Ok(Ok(_)) => {
                field.text = text.trim().to_owned();
                self.error = None;
            }
            Ok(Err(e)) | Err(e) => {
                self.error = Some(e.to_string());
                self.editing = Some(text);
            }
        }
    }

    /// The models the form describes, checked; the error names the field.
    pub fn specs(&self) -> Result<(ModelSpec, Option<ModelSpec>), String> {
        let build = |info: &AlgorithmInfo, fields: &[Field]| -> Result<ModelSpec, String> {
            let mut spec = ModelSpec::new(&info.name);
            for f in fields {
                spec.set(&f.info.name, info.value(&f.info.name, &f.text).map_err(|e| e.to_string())?);
            }
            info.check(&spec).map_err(|e| e.to_string())
        };
        let rating = self.ratings.get(self.rating).ok_or("the engine module offers no rating model")?;
        let ranking = match self.ranking.and_then(|i| self.rankings.get(i)) {
            Some(info) => Some(build(info, &self.ranking_fields)?),
            None => None,
        };
        Ok((build(rating, &self.rating_fields)?, ranking))
    }
}

fn fill(fields: &mut [Field], spec: &ModelSpec) {
    for f in fields {
        if let Some(v) = spec.get(&f.info.name) {
            f.text = v.to_string();
        }
    }
}

/// One point of the chart: after epoch `epoch`, the RMSEs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub epoch: f64,
    pub train: Option<f64>,
    pub validation: Option<f64>,
}

/// A training under way (or just ended).
#[derive(Debug)]
pub struct LabRun {
    pub rating: ModelSpec,
    pub ranking: Option<ModelSpec>,
    /// Which model trains now.
    pub role: Role,
    pub algorithm: String,
    pub epoch: u32,
    pub epochs: u32,
    /// Of the model training now, 0–1.
    pub fraction: f64,
    /// The rating model's epochs, charted.
    pub points: Vec<Point>,
    /// Scoring on the held-out ratings.
    pub evaluating: bool,
    /// Fitting again on every rating, after the scoring.
    pub refitting: bool,
    /// Engine instances training the model now (a team: one core each).
    pub cores: usize,
    pub started: Instant,
    /// As of the last tick (views do not read the clock).
    pub elapsed: Duration,
    /// When the current model began, and its ratings per epoch, for the rate.
    pub model_started: Duration,
    pub per_epoch: u64,
    /// `s` was pressed: the run keeps what it learned.
    pub stopping: bool,
    /// The job training it.
    pub job: Handle,
}

impl LabRun {
    /// Ratings per second of the model training now.
    pub fn rate(&self) -> Option<f64> {
        let seconds = (self.elapsed - self.model_started).as_secs_f64();
        let done = (f64::from(self.epoch) + self.fraction_of_epoch()) * self.per_epoch as f64;
        (seconds > 0.2 && done > 0.0).then(|| done / seconds)
    }

    fn fraction_of_epoch(&self) -> f64 {
        (self.fraction * f64::from(self.epochs.max(1)) - f64::from(self.epoch)).clamp(0.0, 1.0)
    }

    /// Time left for the model training now, once two epochs give a steady rate.
    pub fn eta(&self) -> Option<Duration> {
        if self.epoch < 2 || self.fraction <= 0.0 {
            return None;
        }
        let spent = (self.elapsed - self.model_started).as_secs_f64();
        Some(Duration::from_secs_f64(spent * (1.0 - self.fraction) / self.fraction))
    }
}

/// A finished run: its version, the version active before it, and what
/// the prediction-quality view draws.
#[derive(Debug, Clone)]
pub struct Finished {
    pub meta: ModelMeta,
    pub before: Option<ModelMeta>,
    pub points: Vec<Point>,
    pub quality: Quality,
}

/// A tuning search under way or done.
#[derive(Debug)]
pub struct Tuning {
    pub total: usize,
    pub folds: usize,
    pub jobs: usize,
    pub done: Vec<Candidate>,
    pub running: bool,
    /// Sorted by CV RMSE (else in the order they finished).
    pub by_rmse: bool,
    /// The job searching (kept once it ended: its reports are still its own).
    pub job: Handle,
    pub error: Option<String>,
}

impl Tuning {
    /// The finished candidates in display order.
    pub fn rows(&self) -> Vec<&Candidate> {
        let mut rows: Vec<&Candidate> = self.done.iter().collect();
        if self.by_rmse {
            rows.sort_by(|a, b| a.cv_rmse.total_cmp(&b.cv_rmse));
        }
        rows
    }
}

/// A diversity sweep under way or done: NDCG@10 against coverage.
#[derive(Debug)]
pub struct Sweep {
    /// The models swept, as the form named them.
    pub models: String,
    pub points: Vec<Diverse>,
    pub running: bool,
    /// The job sweeping.
    pub job: Handle,
    pub error: Option<String>,
}

/// Everything the Lab view shows.
#[derive(Debug)]
pub struct LabPanel {
    pub form: Form,
    pub run: Option<LabRun>,
    pub finished: Option<Finished>,
    /// The prediction-quality view is open over the results.
    pub quality: bool,
    pub tuning: Option<Tuning>,
    pub sweep: Option<Sweep>,
    /// Why the last run failed.
    pub error: Option<String>,
    /// The run that starts when this one ends: a first start's full models
    /// after its quick ones.
    pub queued: Option<Plan>,
}

impl LabPanel {
    pub fn new(hello: &Hello, active: &ModelMeta) -> LabPanel {
        let mut form = Form::new(hello);
        form.set(&active.params, active.ranking.as_ref());
        LabPanel {
            form,
            run: None,
            finished: None,
            quality: false,
            tuning: None,
            sweep: None,
            error: None,
            queued: None,
        }
    }

    pub fn busy(&self) -> bool {
        self.run.is_some()
            || self.tuning.as_ref().is_some_and(|t| t.running)
            || self.sweep.as_ref().is_some_and(|s| s.running)
    }

    /// Cancels whatever runs, keeping nothing: the app is leaving this
    /// dataset, and a model of it must not follow to the next.
    pub fn abandon(&mut self) {
        self.queued = None;
        // Their reports stay unheard: no panel holds these jobs any more.
        for job in self.jobs() {
            job.cancel();
        }
        (self.run, self.tuning, self.sweep) = (None, None, None);
    }

    fn jobs(&self) -> impl Iterator<Item = &Handle> {
        let run = self.run.as_ref().map(|r| &r.job);
        run.into_iter().chain(self.tuning.as_ref().map(|t| &t.job)).chain(self.sweep.as_ref().map(|s| &s.job))
    }
}

impl Tab for LabPanel {
    fn title(&self) -> &'static str {
        "Lab"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        match self.form.editing {
            Some(_) => vec![C::LabInput, C::Always],
            None => vec![C::Lab, C::Global, C::Always],
        }
    }

    fn act(&mut self, cx: &mut Cx, action: Action, key: &KeyEvent) -> bool {
        match action {
            Action::PrevChoice => self.form.cycle(-1),
            Action::NextChoice => self.form.cycle(1),
            Action::EditField => self.form.edit(),
            Action::Train => self.train(cx),
            Action::StopTraining => self.halt(cx, Halt::Stop),
            Action::CancelTraining if self.busy() => self.halt(cx, Halt::Cancel),
            Action::CancelTraining => self.quality = false,
            Action::Quality if self.finished.is_some() => self.quality = !self.quality,
            Action::Quality => cx.notify(
                Level::Info,
                "p draws the held-out ratings of a run made here: train one (Enter); \
                 every version's scores are in Versions (v)",
            ),
            Action::Tune => self.tune(cx),
            Action::SortTune => {
                if let Some(t) = self.tuning.as_mut() {
                    t.by_rmse = !t.by_rmse;
                }
            }
            Action::TrainBest => self.train_best(cx),
            Action::Sweep => self.sweep(cx),
            Action::Accept => self.form.accept(),
            Action::Cancel => {
                self.form.editing = None;
                self.form.error = None;
            }
            _ => return self.form.editing.as_mut().is_some_and(|text| edit_text(text, action, key)),
        }
        true
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        view::render(self, shared, area, buf);
    }

    fn step(&mut self, _shared: &Shared, delta: isize) {
        self.form.step(delta.clamp(-1000, 1000));
    }

    fn tick(&mut self, now: Instant) -> bool {
        LabPanel::tick(self, now)
    }
}

/// The reference grid of the issue that asked for tuning (Surprise's usual
/// SVD grid); other algorithms get a random search around their defaults.
pub const REFERENCE_GRID: &str = "factors=50,100,150;epochs=20,30;lr=0.002,0.005,0.01;reg=0.02,0.05,0.1";
pub const RANDOM_CANDIDATES: usize = 20;
pub const TUNE_FOLDS: usize = 3;

impl LabPanel {
    /// Enter in the Lab: train what the form says, on a worker.
    pub fn train(&mut self, cx: &mut Cx) {
        let Some((rating, ranking)) = self.ready(cx) else { return };
        // Your own run replaces the full models a quick first start had queued.
        self.queued = None;
        self.start(cx, Plan { rating, ranking, evaluate: true, quick: false });
    }

    /// Starts `plan` on a worker, with the form showing its models.
    fn start(&mut self, cx: &mut Cx, plan: Plan) {
        self.form.set(&plan.rating, plan.ranking.as_ref());
        let (rating, ranking) = (plan.rating.clone(), plan.ranking.clone());
        let Some(jobs) = cx.jobs else {
            cx.notify(Level::Error, "training is not available here; use `cinema train`");
            return;
        };
        // A finished search or sweep gives way: this run's chart and scores are what follows.
        (self.tuning, self.sweep) = (None, None);
        let job = work::lab_train(&cx.shared.rec, plan, jobs.launcher.clone(), &jobs.reports);
        self.error = None;
        self.quality = false;
        self.run = Some(LabRun {
            rating: rating.clone(),
            ranking,
            role: Role::Rating,
            algorithm: rating.algorithm.clone(),
            epoch: 0,
            epochs: rating.integer("epochs").unwrap_or(0) as u32,
            fraction: 0.0,
            points: Vec::new(),
            evaluating: false,
            refitting: false,
            cores: 1,
            started: Instant::now(),
            elapsed: Duration::ZERO,
            model_started: Duration::ZERO,
            per_epoch: 0,
            stopping: false,
            job,
        });
    }

    /// A first start's models: the module's defaults, trained as a Lab run
    /// (scored on the held-out tenth, then refitted on every rating) while
    /// the stand-in serves; the run's end swaps them in. On a large dataset
    /// quick models come first and the full ones follow them
    /// ([`crate::lab::train::first_plans`]); quick models found serving (the
    /// app was closed before the full ones were ready) start the full ones.
    pub fn first_training(&mut self, cx: &mut Cx) {
        if self.busy() || self.queued.is_some() {
            return;
        }
        let hello = cx.shared.rec.hello();
        let Some(rating) = hello.default_rating() else { return };
        let (quick, full) = first_plans(rating, hello.default_ranking(), cx.shared.rec.dataset.ratings.len());
        match quick {
            Some(quick) if cx.shared.rec.stand_in() => {
                self.queued = Some(full);
                self.start(cx, quick);
            }
            _ => self.start(cx, full),
        }
    }

    /// The form's models, if the Lab is free and the form is valid; else
    /// says why not.
    fn ready(&mut self, cx: &mut Cx) -> Option<(ModelSpec, Option<ModelSpec>)> {
        if self.busy() {
            cx.notify(Level::Error, "the lab is busy: stop it (s) or cancel it (c) first");
            return None;
        }
        match self.form.specs() {
            Ok(specs) => Some(specs),
            Err(e) => {
                self.form.error = Some(e.clone());
                cx.notify(Level::Error, e);
                None
            }
        }
    }

    /// `s`: keep what the run learned so far; `c`/Esc: keep nothing.
    /// Either way no queued run follows (a quick first start's full models).
    pub fn halt(&mut self, cx: &mut Cx, halt: Halt) {
        if let Some(run) = self.run.as_mut() {
            self.queued = None;
            match halt {
                Halt::Stop => run.job.stop(),
                Halt::Cancel => run.job.cancel(),
            }
            run.stopping = true;
            let text = match (halt, run.role) {
                (Halt::Cancel, _) => "cancelling: nothing will be kept",
                (Halt::Stop, Role::Rating) if run.ranking.is_some() => {
                    "stopping the rating model; the ranking model trains next (s again stops it too)"
                }
                (Halt::Stop, _) => "stopping: what was learned so far becomes a version",
            };
            cx.notify(Level::Info, text);
        } else if let Some(t) = self.tuning.as_mut().filter(|t| t.running) {
            t.job.cancel();
            cx.notify(Level::Info, "stopping the search after the candidates under way");
        } else if let Some(s) = self.sweep.as_mut().filter(|s| s.running) {
            s.job.cancel();
            cx.notify(Level::Info, "stopping the sweep after the setting under way");
        }
    }

    /// `D`: sweep the diversity knob for the form's models on the held-out
    /// tenth, charting NDCG@10 against coverage as the settings come in.
    pub fn sweep(&mut self, cx: &mut Cx) {
        let Some(models) = self.ready(cx) else { return };
        let Some(runner) = cx.jobs else { return };
        let named = match &models.1 {
            Some(ranking) => format!("{} + {}", models.0.name(), ranking.name()),
            None => models.0.name().to_owned(),
        };
        let job = work::lab_sweep(&cx.shared.rec, models, runner.launcher.clone(), &runner.reports);
        self.sweep = Some(Sweep { models: named, points: Vec::new(), running: true, job, error: None });
        (self.tuning, self.quality) = (None, false);
    }

    /// `g`: tune the form's rating algorithm by cross-validation.
    pub fn tune(&mut self, cx: &mut Cx) {
        let Some((base, _)) = self.ready(cx) else { return };
        let Some(runner) = cx.jobs else { return };
        let info = self.form.ratings[self.form.rating].clone();
        let candidates = if info.name == "svd" {
            crate::lab::tune::grid(&info, &base, REFERENCE_GRID)
        } else {
            crate::lab::tune::random(&info, &base, RANDOM_CANDIDATES, 1)
        };
        let candidates = match candidates {
            Ok(c) => c,
            Err(e) => {
                cx.notify(Level::Error, format!("{e:#}"));
                return;
            }
        };
        let jobs = crate::lab::tune::default_jobs();
        let (launcher, reports, total) = (runner.launcher.clone(), &runner.reports, candidates.len());
        let job = work::lab_tune(&cx.shared.rec, candidates, TUNE_FOLDS, jobs, launcher, reports);
        self.sweep = None;
        self.tuning = Some(Tuning {
            total,
            folds: TUNE_FOLDS,
            jobs,
            done: Vec::new(),
            running: true,
            by_rmse: true,
            job,
            error: None,
        });
        self.quality = false;
    }

    /// `B`: put the best candidate in the form and train it.
    pub fn train_best(&mut self, cx: &mut Cx) {
        let best = self.tuning.as_ref().and_then(|t| crate::lab::tune::best(&t.done)).map(|c| c.params.clone());
        match best {
            Some(spec) => {
                let ranking = self.form.specs().ok().and_then(|(_, r)| r);
                self.form.set(&spec, ranking.as_ref());
                self.train(cx);
            }
            None => cx.notify(Level::Error, "no tuned candidate yet: g starts a search"),
        }
    }

    /// A report of job `id`: heard only when this panel holds that job
    /// (the one rule for stale reports: a run, search or sweep the panel
    /// left — abandoned when the app switched datasets — may still report).
    pub fn on_report(&mut self, cx: &mut Cx, id: JobId, report: LabReport) {
        let holder = match report {
            LabReport::Phase(_) | LabReport::Done(_) => self.run.as_ref().map(|r| &r.job),
            LabReport::Candidate(_) | LabReport::Tuned(_) => self.tuning.as_ref().map(|t| &t.job),
            LabReport::SweepPoint(_) | LabReport::Swept(_) => self.sweep.as_ref().map(|s| &s.job),
        };
        if !holder.is_some_and(|job| job.owns(id)) {
            tracing::debug!("dropped a report of {id}, a job the Lab no longer holds");
            return;
        }
        match report {
            LabReport::Phase(phase) => self.on_phase(phase),
            LabReport::Done(Ok(Some(trained))) => {
                let Some(run) = self.run.take() else { return };
                let before = cx.shared.rec.meta.clone();
                let (id, first) = (trained.meta.id, cx.shared.rec.stand_in());
                match cx.shared.rec.activate(id) {
                    Ok(meta) if meta.quick => {
                        let ranked = meta.ranking.as_ref().map_or(String::new(), |r| format!(" + {}", passes(r)));
                        let text = format!(
                            "quick first models are trained (v{id}: {}{ranked}): the list is yours now; \
                             the full ones train next (t shows them)",
                            passes(&meta.params)
                        );
                        cx.notify(Level::Info, text);
                    }
                    Ok(meta) if first => {
                        let ranked = meta.ranking.as_ref().map_or(String::new(), |r| format!(" + {}", r.name()));
                        let text = format!(
                            "the first models are trained (v{id}: {}{ranked}): the list is yours now",
                            meta.algorithm
                        );
                        cx.notify(Level::Info, text);
                    }
                    Ok(meta) => {
                        let stopped = if meta.stopped { " (stopped early)" } else { "" };
                        cx.notify(Level::Info, format!("v{id}{stopped} saved and active: {}", meta.params));
                    }
                    Err(e) => cx.notify(Level::Error, format!("v{id} was saved but could not serve: {e:#}")),
                }
                self.finished = Some(Finished {
                    meta: trained.meta,
                    before: Some(before),
                    points: run.points,
                    quality: Quality::new(&trained.held_out, cx.shared.rec.dataset.scale),
                });
                cx.then.push(Then::ReloadVersions);
                cx.then.push(Then::Refresh);
                if let Some(full) = self.queued.take() {
                    self.start(cx, full);
                }
            }
            LabReport::Done(Ok(None)) => {
                self.run = None;
                self.queued = None;
                cx.notify(Level::Info, "training cancelled: nothing was kept");
            }
            LabReport::Done(Err(e)) => {
                self.run = None;
                self.queued = None;
                self.error = Some(e.clone());
                cx.notify(Level::Error, format!("training failed: {e} — the active version stays"));
            }
            LabReport::Candidate(c) => {
                if let Some(t) = self.tuning.as_mut() {
                    t.done.push(*c);
                }
            }
            LabReport::Tuned(result) => {
                if let Some(t) = self.tuning.as_mut() {
                    t.running = false;
                    t.error = result.err();
                }
            }
            LabReport::SweepPoint(point) => {
                if let Some(s) = self.sweep.as_mut() {
                    s.points.push(point);
                }
            }
            LabReport::Swept(result) => {
                if let Some(s) = self.sweep.as_mut() {
                    s.running = false;
                    s.error = result.err();
                }
            }
        }
    }

    fn on_phase(&mut self, phase: crate::lab::train::Phase) {
        let Some(run) = self.run.as_mut() else { return };
        match phase {
            crate::lab::train::Phase::Training { role, algorithm, progress: p, refit, cores } => {
                run.cores = cores;
                if role != run.role || algorithm != run.algorithm || refit != run.refitting {
                    run.model_started = run.elapsed;
                    (run.role, run.algorithm, run.refitting) = (role, algorithm, refit);
                    run.evaluating = false;
                }
                run.epoch = p.epoch;
                run.epochs = p.epochs;
                run.per_epoch = p.per_epoch;
                let within = if p.per_epoch == 0 { 0.0 } else { p.visited as f64 / p.per_epoch as f64 };
                run.fraction = ((f64::from(p.epoch) + within) / f64::from(p.epochs.max(1))).min(1.0);
                let at_epoch_end = p.visited == 0 && p.epoch > 0;
                // The chart is the scored fit's: the refit has nothing held out.
                if role == Role::Rating
                    && !refit
                    && at_epoch_end
                    && run.points.last().is_none_or(|pt| pt.epoch < f64::from(p.epoch))
                {
                    run.points.push(Point {
                        epoch: f64::from(p.epoch),
                        train: p.train_rmse.map(f64::from),
                        validation: p.validation_rmse.map(f64::from),
                    });
                }
            }
            crate::lab::train::Phase::Evaluating => run.evaluating = true,
        }
    }

    /// Advances the run's clock; true when it is on screen and moved.
    pub fn tick(&mut self, now: Instant) -> bool {
        match self.run.as_mut() {
            Some(run) => {
                run.elapsed = now.saturating_duration_since(run.started);
                true
            }
            None => false,
        }
    }
}

/// `svd, 3 epochs`: a model and how many passes it makes.
fn passes(spec: &ModelSpec) -> String {
    match (spec.integer("epochs"), spec.integer("iterations")) {
        (Some(n), _) => format!("{}, {n} epochs", spec.name()),
        (None, Some(n)) => format!("{}, {n} iterations", spec.name()),
        (None, None) => spec.name().to_owned(),
    }
}

/// A metric's target from the project's first brief, if it set one:
/// `(bound, lower is better)`.
pub fn target(metric: &str) -> Option<(f64, bool)> {
    match metric {
        "rmse" => Some((0.90, true)),
        "rated_precision_at_10" => Some((0.60, false)),
        "rated_recall_at_10" => Some((0.40, false)),
        "coverage" => Some((0.70, false)),
        _ => None,
    }
}

/// How the views name a metric of `Metrics::named` (at most 16 columns).
pub fn metric_label(name: &str) -> &'static str {
    match name {
        "rmse" => "RMSE",
        "mae" => "MAE",
        "precision_at_10" => "P@10 (catalogue)",
        "recall_at_10" => "R@10 (catalogue)",
        "ndcg_at_10" => "NDCG@10",
        "coverage" => "Coverage",
        "rated_precision_at_10" => "P@10 (rated)",
        "rated_recall_at_10" => "R@10 (rated)",
        "novelty" => "Novelty (bits)",
        "intra_list_diversity" => "Genre diversity",
        "miscalibration" => "Miscalibration",
        "gini" => "Gini",
        _ => "?",
    }
}

/// The metrics a view lists, with labels.
pub fn metric_rows(m: &Metrics) -> Vec<(&'static str, &'static str, f64, bool)> {
    m.every().into_iter().map(|(name, value, lower)| (name, metric_label(name), value, lower)).collect()
}
