//! The typed client: what the rest of the app calls instead of speaking
//! bytes. One generic [`EngineClient::ask`] sends any request
//! (`cinema_protocol::call`) and hands back its answer typed and checked;
//! the few methods beside it are what takes more than one request: data
//! sent in chunks, and training driven step by step with a budget sized to
//! stay far inside the sandbox's CPU deadline.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use cinema_protocol::*;

use super::checks::{self, Checked, MIN_BUDGET, Rule, Sent};
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
/// The budget of a training's first step. Units are the algorithm's own
/// (ratings for SGD, rows of a matrix for EASE), so every training starts
/// here rather than from where the last one's budget ended.
const FIRST_BUDGET: u64 = 16 * 1024;

/// The module answered a request with an error reply; it stays usable.
/// Callers that can do without the answer look for this (`downcast_ref`).
#[derive(Debug, thiserror::Error)]
#[error("engine module {module} refused the request ({kind}): {message}")]
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
    /// More instances of the module, sent the same training ratings, that
    /// train beside this one on other cores when the algorithm shares its
    /// rounds (`Request::TrainShard`): members 1, 2, … of the team.
    helpers: Vec<EngineClient>,
    /// Each member's handoff of the round under way, once it has made it;
    /// `Some` while the team trains.
    round: Option<Vec<Option<Handoff>>>,
}

impl EngineClient {
    /// One instance: it trains alone.
    pub fn start(runtime: &Runtime, module: &EngineModule, limits: Limits) -> Result<EngineClient> {
        EngineClient::start_team(runtime, module, limits, 1)
    }

    /// An instance with `members − 1` helpers: models whose rounds can be
    /// shared (iALS) train on `members` cores, the same model to the bit;
    /// the others train alone. Each helper holds the training ratings too.
    pub fn start_team(
        runtime: &Runtime,
        module: &EngineModule,
        limits: Limits,
        members: usize,
    ) -> Result<EngineClient> {
        let mut client = EngineClient::instance(runtime, module, limits)?;
        for _ in 1..members {
            client.helpers.push(EngineClient::instance(runtime, module, limits)?);
        }
        Ok(client)
    }

    fn instance(runtime: &Runtime, module: &EngineModule, limits: Limits) -> Result<EngineClient> {
        let hello = call::Hello {};
        let mut sandbox = Sandbox::new(runtime, &module.name, &module.module, limits)?;
        let answer = match call::Hello::answer(sandbox.call(&hello)?) {
            Ok(answer) => answer,
            Err(other) => bail!("engine module {} answered Hello with {}", module.name, other.name()),
        };
        let mut client = EngineClient {
            sandbox,
            hello: answer,
            module_sha256: module.sha256.clone(),
            budget: FIRST_BUDGET,
            sent: Sent::default(),
            training: None,
            helpers: Vec::new(),
            round: None,
        };
        let rule = hello.check(&client.hello, &client.sent);
        client.holds(call::Hello::NAME, rule)?;
        Ok(client)
    }

    /// Passes a rule that held; ends the instance on one that broke.
    fn holds(&mut self, request: &'static str, rule: Rule) -> Result<()> {
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

    /// Sends one request and hands back its answer once the answer has
    /// passed the request's rule ([`Checked`]). An error reply is
    /// [`Refused`] (the module stays usable); a reply of the wrong kind or
    /// one that breaks the rule is [`Broken`] (the instance is ended).
    pub fn ask<C: Checked>(&mut self, request: C) -> Result<C::Answer> {
        self.sent.bytes += request.sends();
        let answer = match C::answer(self.sandbox.call(&request)?) {
            Ok(answer) => answer,
            Err(Reply::Error { kind, message }) => {
                return Err(Refused { module: self.sandbox.name().to_owned(), kind, message }.into());
            }
            Err(other) => {
                let what = format!("{} where {} was expected", other.name(), C::REPLY);
                return self.holds(C::NAME, Err(what)).map(|()| unreachable!("a broken rule is an error"));
            }
        };
        let rule = request.check(&answer, &self.sent);
        self.holds(C::NAME, rule)?;
        Ok(answer)
    }

    /// How many instances train a model whose rounds can be shared.
    pub fn members(&self) -> usize {
        1 + self.helpers.len()
    }

    /// Whether the training under way is shared by a team.
    pub fn in_team(&self) -> bool {
        self.round.is_some()
    }

    /// Replaces the engine's data with these ratings and indexes them (the
    /// helpers' with the training ratings, at the same time).
    pub fn load(
        &mut self,
        users: u32,
        items: u32,
        scale: Scale,
        train: &[Triple],
        validation: &[Triple],
    ) -> Result<Indexed> {
        let mut indexed = vec![None; self.members()];
        self.all_members(&mut indexed, |member, m, indexed| {
            // Helpers only train: the held-out ratings are the first's.
            let validation = if m == 0 { validation } else { &[] };
            *indexed = Some(member.load_one((users, items, scale), train, validation)?);
            Ok(())
        })?;
        Ok(indexed[0].expect("the first member loaded"))
    }

    /// One instance's [`EngineClient::load`].
    fn load_one(&mut self, shape: (u32, u32, Scale), train: &[Triple], validation: &[Triple]) -> Result<Indexed> {
        let (users, items, scale) = shape;
        self.round = None;
        self.sent = Sent { users, items, scale, ..Sent::default() };
        self.ask(call::Reset { users, items, scale })?;
        for (set, ratings) in [(RatingSet::Train, train), (RatingSet::Validation, validation)] {
            for chunk in ratings.chunks(RATING_CHUNK) {
                self.ask(call::AddRatings { set, ratings: chunk.to_vec() })?;
            }
        }
        (self.sent.train, self.sent.validation) = (train.len() as u64, validation.len() as u64);
        self.ask(call::Index {})
    }

    /// Starts training `spec`, checked first against the module's own
    /// description so a bad value is named here, before the module sees it.
    /// With helpers, as a team when the module shares the algorithm's
    /// rounds, else alone.
    pub fn train_start(&mut self, spec: ModelSpec) -> Result<Progress> {
        let spec = self.hello.check(&spec).map_err(|e| anyhow::anyhow!("engine module {}: {e}", self.hello.engine))?;
        self.budget = FIRST_BUDGET;
        self.round = None;
        if let Some(progress) = self.team_start(&spec)? {
            return Ok(progress);
        }
        self.started(call::TrainStart { spec })
    }

    /// Starts `spec` in a team when there are helpers and the module
    /// shares its rounds; `None` when it trains alone.
    fn team_start(&mut self, spec: &ModelSpec) -> Result<Option<Progress>> {
        let members = self.members() as u32;
        if members == 1 {
            return Ok(None);
        }
        let shard = |member| call::TrainShard { spec: spec.clone(), member, members };
        let progress = match self.started(shard(0)) {
            Err(e) if !crate::is_fault(&e) => return Ok(None),
            started => started?,
        };
        for (member, helper) in (1..).zip(&mut self.helpers) {
            helper.started(shard(member))?;
        }
        self.round = Some(vec![None; members as usize]);
        Ok(Some(progress))
    }

    /// Sends a request that starts a training, and keeps its progress.
    fn started<C: Checked<Answer = Progress>>(&mut self, request: C) -> Result<Progress> {
        let progress = self.ask(request)?;
        self.training = Some((progress, 0));
        Ok(progress)
    }

    /// One step; the budget adapts so each step takes about [`STEP_TARGET`].
    /// A team steps every member that has not finished its share of the
    /// round, on as many threads, and when all have, hands each the
    /// others' shares.
    pub fn train_step(&mut self) -> Result<Progress> {
        let started = Instant::now();
        let progress = match self.round.is_some() {
            true => self.team_step()?,
            false => {
                self.ask(call::TrainStep { budget: self.budget }).and_then(|p| self.moved(call::TrainStep::NAME, p))?
            }
        };
        let took = started.elapsed().as_secs_f64().max(1e-4);
        let scaled = self.budget as f64 * (STEP_TARGET.as_secs_f64() / took).clamp(0.5, 2.0);
        self.budget = (scaled as u64).clamp(MIN_BUDGET, 1 << 28);
        Ok(progress)
    }

    fn team_step(&mut self) -> Result<Progress> {
        let budget = self.budget;
        let mut round = self.round.take().expect("a team is training");
        self.all_members(&mut round, |member, _, handoff| {
            if handoff.is_none() {
                let stepped = member.ask(call::ShardStep { budget })?;
                member.moved(call::ShardStep::NAME, stepped.progress)?;
                *handoff = stepped.handoff;
            }
            Ok(())
        })?;
        if round.iter().all(Option::is_some) {
            let mut inboxes = inboxes(round.iter_mut().filter_map(Option::take).collect());
            self.all_members(&mut inboxes, |member, _, inbox| {
                let progress = member.ask(call::ShardTake { handoffs: std::mem::take(inbox) })?;
                member.moved(call::ShardTake::NAME, progress).map(drop)
            })?;
        }
        let progress = self.training.map(|(progress, _)| progress).expect("a team is training");
        self.round = (!progress.finished).then_some(round);
        Ok(progress)
    }

    /// Runs `work` on every member of the team with that member's own
    /// `state`: the helpers each on a thread of its own, this instance on
    /// the caller's. The first error, once all are done.
    fn all_members<T: Send>(
        &mut self,
        states: &mut [T],
        work: impl Fn(&mut EngineClient, usize, &mut T) -> Result<()> + Sync,
    ) -> Result<()> {
        let mut helpers = std::mem::take(&mut self.helpers);
        let (own, theirs) = states.split_first_mut().expect("a state for every member");
        let result = std::thread::scope(|scope| {
            let work = &work;
            let threads: Vec<_> = (1..)
                .zip(helpers.iter_mut().zip(theirs))
                .map(|(m, (helper, state))| scope.spawn(move || work(helper, m, state)))
                .collect();
            let own = work(self, 0, own);
            let theirs = threads.into_iter().map(|t| t.join().expect("a helper's thread does not panic"));
            theirs.chain([own]).collect::<Result<()>>()
        });
        self.helpers = helpers;
        result
    }

    /// Checks a step's progress against the one before it, and keeps it.
    fn moved(&mut self, request: &'static str, progress: Progress) -> Result<Progress> {
        if let Some((before, steps)) = self.training {
            let rule = checks::progress_step(&before, &progress)
                .and_then(|()| checks::steps(steps + 1, checks::max_steps(&before, MIN_BUDGET)));
            self.holds(request, rule)?;
            self.training = Some((progress, steps + 1));
        }
        Ok(progress)
    }

    /// Ends the training under way now, keeping what it learned (see
    /// `Request::TrainStop`). A team's helpers are left as they are: only
    /// the first member's model is used, and the next start replaces theirs.
    pub fn train_stop(&mut self) -> Result<Progress> {
        self.round = None;
        let progress = self.ask(call::TrainStop {})?;
        if let Some((before, _)) = self.training.take() {
            self.holds(call::TrainStop::NAME, checks::progress_stop(&before, &progress))?;
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

    /// Measures how often lists show each movie (for lists with a diversity
    /// above 0), a few sampled users a call, sized like training steps.
    pub fn prepare_diversity(&mut self) -> Result<Readiness> {
        let mut users = 4u32;
        let mut ready = Readiness { done: 0, total: 1 };
        while ready.done < ready.total {
            let started = Instant::now();
            let next = self.ask(call::PrepareDiversity { users })?;
            self.holds(call::PrepareDiversity::NAME, checks::readiness_step(&ready, &next))?;
            ready = next;
            let took = started.elapsed().max(Duration::from_micros(100));
            users = (f64::from(users) * STEP_TARGET.as_secs_f64() / took.as_secs_f64()).clamp(1.0, 1024.0) as u32;
        }
        Ok(ready)
    }

    /// Predicted ratings for `pairs`, asked in chunks.
    pub fn predict(&mut self, pairs: &[(u32, u32)]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(PREDICT_CHUNK) {
            out.extend(self.ask(call::Predict { pairs: chunk.to_vec() })?);
        }
        Ok(out)
    }

    /// Builds the content model from every movie's terms, sent in chunks.
    pub fn build_content(&mut self, features: &[Features], neighbours: u32) -> Result<ContentStats> {
        for chunk in features.chunks(FEATURE_CHUNK) {
            self.ask(call::AddFeatures { items: chunk.to_vec() })?;
        }
        self.ask(call::BuildContent { neighbours })
    }

    /// The models the current rating model is made of, with their weights.
    /// A module written before `Parts` refuses the call (an error that is not
    /// a fault): its models are of one piece, so that is an empty list.
    pub fn parts(&mut self) -> Result<Vec<(String, f32)>> {
        match self.ask(call::Parts {}) {
            Err(e) if !crate::is_fault(&e) => Ok(Vec::new()),
            other => other,
        }
    }
}

/// What each member of a team takes at the end of a round: every other
/// member's handoff, in member order. The last member to get a handoff
/// gets it moved, not copied (in a team of two, no handoff is copied).
fn inboxes(handoffs: Vec<Handoff>) -> Vec<Vec<Handoff>> {
    let n = handoffs.len();
    let mut inboxes: Vec<Vec<Handoff>> = vec![Vec::with_capacity(n.saturating_sub(1)); n];
    for (from, handoff) in handoffs.into_iter().enumerate() {
        let to: Vec<usize> = (0..n).filter(|&m| m != from).collect();
        if let Some((&last, rest)) = to.split_last() {
            for &m in rest {
                inboxes[m].push(handoff.clone());
            }
            inboxes[last].push(handoff);
        }
    }
    inboxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_member_takes_every_other_handoff_in_member_order() {
        let handoffs = |ids: &[u8]| ids.iter().map(|&i| Handoff(vec![i])).collect::<Vec<_>>();
        assert_eq!(inboxes(handoffs(&[0, 1])), vec![handoffs(&[1]), handoffs(&[0])]);
        let four = inboxes(handoffs(&[0, 1, 2, 3]));
        assert_eq!(four, vec![handoffs(&[1, 2, 3]), handoffs(&[0, 2, 3]), handoffs(&[0, 1, 3]), handoffs(&[0, 1, 2])]);
    }
}
