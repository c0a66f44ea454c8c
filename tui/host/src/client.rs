//! The typed client: what the rest of the app calls instead of speaking
//! bytes. Large data crosses in chunks; training is driven step by step with
//! a budget sized to stay far inside the sandbox's CPU deadline.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use cinema_protocol::*;

use super::checks::{self, MIN_BUDGET, Sent};
use super::modules::EngineModule;
use super::runtime::Runtime;
use super::sandbox::{Limits, Sandbox};

/// Ratings per `AddRatings` message (12 bytes each).
const RATING_CHUNK: usize = 64 * 1024;
/// Movies per `AddFeatures` message.
const FEATURE_CHUNK: usize = 8 * 1024;
/// Pairs per `Predict` message.
const PREDICT_CHUNK: usize = 128 * 1024;
/// A training step aims at this much wall time: responsive progress and
/// cancellation, and a wide margin under the deadline.
const STEP_TARGET: Duration = Duration::from_millis(100);

/// The module answered a request with an error reply; it stays usable.
/// Callers that can do without the answer look for this (`downcast_ref`).
#[derive(Debug, thiserror::Error)]
#[error("engine module {module} refused the request ({kind:?}): {message}")]
pub struct Refused {
    pub module: String,
    pub kind: ErrorKind,
    pub message: String,
}

/// The module answered with a well-formed reply that breaks a rule of
/// [`checks`]; the instance was ended, as after a trap.
#[derive(Debug, thiserror::Error)]
#[error("engine module {module} answered {request} with {what}; it was stopped")]
pub struct Broken {
    pub module: String,
    pub request: &'static str,
    pub what: String,
}

pub struct EngineClient {
    sandbox: Sandbox,
    hello: Hello,
    module_sha256: String,
    budget: u64,
    /// What the replies must fit: the shape and data sent since `Reset`.
    sent: Sent,
    /// The training under way: its last progress, and steps taken.
    training: Option<(Progress, u64)>,
}

impl EngineClient {
    pub fn start(runtime: &Runtime, module: &EngineModule, limits: Limits) -> Result<EngineClient> {
        let mut sandbox = Sandbox::new(runtime, &module.name, &module.module, limits)?;
        let hello = match sandbox.call(&Request::Hello)? {
            Reply::Hello(h) => h,
            other => bail!("engine module {} answered Hello with {}", module.name, other.name()),
        };
        let mut client = EngineClient {
            sandbox,
            hello,
            module_sha256: module.sha256.clone(),
            budget: 16 * 1024,
            sent: Sent::default(),
            training: None,
        };
        let rule = checks::hello(&client.hello);
        client.holds("Hello", rule)?;
        Ok(client)
    }

    /// Passes a rule that held; ends the instance on one that broke.
    fn holds(&mut self, request: &'static str, rule: Result<(), String>) -> Result<()> {
        let Err(what) = rule else { return Ok(()) };
        let broken = Broken { module: self.sandbox.name().to_owned(), request, what };
        self.sandbox.stop(broken.to_string());
        Err(broken.into())
    }

    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    pub fn module_sha256(&self) -> &str {
        &self.module_sha256
    }

    /// The largest the module's memory has grown to, in bytes.
    pub fn memory_peak(&self) -> usize {
        self.sandbox.memory_peak()
    }

    fn call(&mut self, request: Request) -> Result<Reply> {
        match self.sandbox.call(&request)? {
            Reply::Error { kind, message } => {
                Err(Refused { module: self.sandbox.name().to_owned(), kind, message }.into())
            }
            reply => Ok(reply),
        }
    }

    fn expect_ok(&mut self, request: Request) -> Result<()> {
        match self.call(request)? {
            Reply::Ok => Ok(()),
            other => self.unexpected("Ok", &other),
        }
    }

    fn unexpected<T>(&self, wanted: &str, got: &Reply) -> Result<T> {
        bail!("engine module {} sent {} where {wanted} was expected", self.sandbox.name(), got.name())
    }

    /// Replaces the engine's data with these ratings and indexes them.
    pub fn load(
        &mut self,
        users: u32,
        items: u32,
        scale: Scale,
        train: &[Triple],
        validation: &[Triple],
    ) -> Result<Indexed> {
        self.sent = Sent { users, items, scale, ..Sent::default() };
        self.expect_ok(Request::Reset { users, items, scale })?;
        for (set, ratings) in [(RatingSet::Train, train), (RatingSet::Validation, validation)] {
            for chunk in ratings.chunks(RATING_CHUNK) {
                let request = Request::AddRatings { set, ratings: chunk.to_vec() };
                self.sent.bytes += request.encode().len() as u64;
                self.expect_ok(request)?;
            }
        }
        (self.sent.train, self.sent.validation) = (train.len() as u64, validation.len() as u64);
        match self.call(Request::Index)? {
            Reply::Indexed(i) => {
                let rule = checks::indexed(&i, &self.sent);
                self.holds("Index", rule).map(|()| i)
            }
            other => self.unexpected("Indexed", &other),
        }
    }

    /// Starts training `spec`, checked first against the module's own
    /// description so a bad value is named here, before the module sees it.
    pub fn train_start(&mut self, spec: ModelSpec) -> Result<Progress> {
        let spec = self.hello.check(&spec).map_err(|e| anyhow::anyhow!("engine module {}: {e}", self.hello.engine))?;
        match self.call(Request::TrainStart { spec })? {
            Reply::Progress(p) => {
                self.holds("TrainStart", checks::progress_start(&p))?;
                self.training = Some((p, 0));
                Ok(p)
            }
            other => self.unexpected("Progress", &other),
        }
    }

    /// One step; the budget adapts so each step takes about [`STEP_TARGET`].
    pub fn train_step(&mut self) -> Result<Progress> {
        let started = Instant::now();
        let progress = match self.call(Request::TrainStep { budget: self.budget })? {
            Reply::Progress(p) => p,
            other => return self.unexpected("Progress", &other),
        };
        if let Some((before, steps)) = self.training {
            let rule = checks::progress_step(&before, &progress)
                .and_then(|()| checks::steps(steps + 1, checks::max_steps(&before, MIN_BUDGET)));
            self.holds("TrainStep", rule)?;
            self.training = Some((progress, steps + 1));
        }
        let took = started.elapsed().as_secs_f64().max(1e-4);
        let scaled = self.budget as f64 * (STEP_TARGET.as_secs_f64() / took).clamp(0.5, 2.0);
        self.budget = (scaled as u64).clamp(MIN_BUDGET, 1 << 28);
        Ok(progress)
    }

    /// Ends the training under way now, keeping what it learned (see
    /// `Request::TrainStop`).
    pub fn train_stop(&mut self) -> Result<Progress> {
        let progress = match self.call(Request::TrainStop)? {
            Reply::Progress(p) => p,
            other => return self.unexpected("Progress", &other),
        };
        if let Some((before, _)) = self.training.take() {
            self.holds("TrainStop", checks::progress_stop(&before, &progress))?;
        }
        Ok(progress)
    }

    /// Trains to the end, reporting progress after every step; `Break` from
    /// `on_progress` cancels (the partially trained model stays loaded).
    pub fn train(
        &mut self,
        spec: ModelSpec,
        mut on_progress: impl FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<Progress> {
        let mut progress = self.train_start(spec)?;
        while !progress.finished {
            progress = self.train_step()?;
            if on_progress(&progress).is_break() {
                break;
            }
        }
        Ok(progress)
    }

    pub fn predict(&mut self, pairs: &[(u32, u32)]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(PREDICT_CHUNK) {
            match self.call(Request::Predict { pairs: chunk.to_vec() })? {
                Reply::Predictions(p) => {
                    let rule = checks::predictions(&p, chunk.len(), self.sent.scale);
                    self.holds("Predict", rule)?;
                    out.extend(p);
                }
                other => return self.unexpected("Predictions", &other),
            }
        }
        Ok(out)
    }

    pub fn recommend(&mut self, user: u32, n: u32) -> Result<Vec<Scored>> {
        match self.call(Request::Recommend { user, n })? {
            Reply::Recommendations(r) => {
                let rule = checks::recommendations(&r, n, &self.sent);
                self.holds("Recommend", rule).map(|()| r)
            }
            other => self.unexpected("Recommendations", &other),
        }
    }

    pub fn export_model(&mut self) -> Result<Vec<u8>> {
        match self.call(Request::ExportModel)? {
            Reply::Model(bytes) => {
                let rule = checks::model(bytes.len(), &self.sent);
                self.holds("ExportModel", rule).map(|()| bytes)
            }
            other => self.unexpected("Model", &other),
        }
    }

    pub fn import_model(&mut self, bytes: Vec<u8>) -> Result<()> {
        // A model the host hands over may come back as large.
        self.sent.bytes += bytes.len() as u64;
        self.expect_ok(Request::ImportModel { bytes })
    }

    /// The `n` movies most like `item` by the model's vectors, as `(item, cosine)`.
    pub fn similar(&mut self, item: u32, n: u32) -> Result<Vec<(u32, f32)>> {
        match self.call(Request::Similar { item, n })? {
            Reply::Neighbours(r) => {
                let rule = checks::neighbours(&r, item, n, &self.sent);
                self.holds("Similar", rule).map(|()| r)
            }
            other => self.unexpected("Neighbours", &other),
        }
    }

    /// Builds the content model from every movie's terms.
    pub fn build_content(&mut self, features: &[Features], neighbours: u32) -> Result<ContentStats> {
        for chunk in features.chunks(FEATURE_CHUNK) {
            let request = Request::AddFeatures { items: chunk.to_vec() };
            self.sent.bytes += request.encode().len() as u64;
            self.expect_ok(request)?;
        }
        match self.call(Request::BuildContent { neighbours })? {
            Reply::ContentBuilt(c) => {
                let rule = checks::content_built(&c, neighbours, &self.sent);
                self.holds("BuildContent", rule).map(|()| c)
            }
            other => self.unexpected("ContentBuilt", &other),
        }
    }

    /// The `n` movies whose content is most like `item`'s, as `(item, cosine)`.
    pub fn similar_content(&mut self, item: u32, n: u32) -> Result<Vec<(u32, f32)>> {
        match self.call(Request::SimilarContent { item, n })? {
            Reply::Neighbours(r) => {
                let rule = checks::neighbours(&r, item, n, &self.sent);
                self.holds("SimilarContent", rule).map(|()| r)
            }
            other => self.unexpected("Neighbours", &other),
        }
    }

    /// The list blended with content under `weight` (see `Request::RecommendHybrid`).
    pub fn recommend_hybrid(&mut self, user: u32, n: u32, weight: f32) -> Result<Vec<HybridScored>> {
        match self.call(Request::RecommendHybrid { user, n, weight })? {
            Reply::Hybrid(r) => {
                let rule = checks::hybrid(&r, n, &self.sent);
                self.holds("RecommendHybrid", rule).map(|()| r)
            }
            other => self.unexpected("Hybrid", &other),
        }
    }

    /// Why `item` is on `user`'s list (see `Request::Explain`).
    pub fn explain(&mut self, user: u32, item: u32, weight: f32) -> Result<Explanation> {
        match self.call(Request::Explain { user, item, weight })? {
            Reply::Explanation(e) => {
                let rule = checks::explanation(&e, item, &self.sent);
                self.holds("Explain", rule).map(|()| e)
            }
            other => self.unexpected("Explanation", &other),
        }
    }

    /// Instant learning: `ratings` are now all of `user`'s ratings.
    pub fn fold_in(&mut self, user: u32, ratings: Vec<(u32, f32)>) -> Result<()> {
        self.expect_ok(Request::FoldIn { user, ratings })
    }
}
