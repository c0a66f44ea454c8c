//! Models made of models (the blends), fitted the same way whatever they
//! mix: each member is fitted through the door on the training ratings
//! less a slice held out of them, the weights are chosen on that slice
//! (never on a test split), then each member is fitted again on every
//! training rating, and those are the members the blend keeps. A blend
//! says how it chooses its weights and what it builds of them
//! ([`Recipe`]); the sequencing, the progress, stopping early and saving
//! members are here, once.

use cinema_protocol::{Decomposition, Mark, Scale, Triple};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::EngineError;
use crate::algorithms::Algorithm;
use crate::door::{Fit, RatingModel, Step, Team};
use crate::explain::{decomposition, with_marks};
use crate::ratings::RatingMatrix;

/// What a blend does that others do not: choose its weights, and be built.
pub trait Recipe: Send + 'static {
    /// Judges the members fitted on the training ratings less `slice`
    /// (`part`) on `slice`, about `budget` multiply-adds at a call, until
    /// it has chosen the weights.
    fn choose(
        &mut self,
        members: &[Box<dyn RatingModel>],
        part: &RatingMatrix,
        slice: &[Triple],
        budget: u64,
    ) -> Choice;

    /// The weights of `n` members when none were chosen: a fit stopped
    /// before its slice was judged, or a blend of one member.
    fn even(&self, n: usize) -> Vec<f32>;

    /// The blend of `members` with `weights` (from [`Recipe::choose`] when
    /// they fit the members, otherwise [`Recipe::even`]).
    fn build(&self, weights: Vec<f32>, members: Vec<Box<dyn RatingModel>>) -> Box<dyn RatingModel>;
}

/// How far a [`Recipe`] is in choosing the weights.
pub enum Choice {
    /// Still judging; the work done in this call.
    Judging(u64),
    Chosen(Vec<f32>),
}

/// The slice's size at most: a few weights need no more, and judging it
/// stays a small part of a step on any dataset.
const MAX_SLICE: usize = 100_000;

/// Epochs of a blend of `members`: every member's, twice (without the
/// slice, then on everything) — once when a single member leaves nothing
/// to choose.
pub fn epochs(members: &[Algorithm]) -> u32 {
    let each: u32 = members.iter().map(Algorithm::epochs).sum();
    if members.len() > 1 { 2 * each } else { each }
}

/// Starts fitting a blend of `members` (never empty) on `data`, its slice
/// `holdout` of the ratings drawn with `seed`, as one member of `team`:
/// the blend's members that train in teams share their rounds with the
/// other instances, the rest are fitted whole in each (the same way in
/// each), so a team needs one member that shares.
pub fn start<R: Recipe>(
    recipe: R,
    members: Vec<Algorithm>,
    data: &RatingMatrix,
    scale: Scale,
    (holdout, seed): (f32, u64),
    team: Team,
) -> Result<Box<dyn Fit>, EngineError> {
    let (part, slice) = if members.len() > 1 {
        let mut triples: Vec<Triple> = data.iter().collect();
        triples.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
        let size = ((triples.len() as f64 * f64::from(holdout)) as usize).clamp(1, MAX_SLICE);
        let slice = triples.split_off(triples.len() - size.min(triples.len() - 1));
        (Some(RatingMatrix::new(data.users, data.items, &triples)), slice)
    } else {
        (None, Vec::new())
    };
    // A blend's epoch is one member's, so it counts in what the costliest
    // member epoch costs: every step then reports at least its budget, as
    // the host's bound on steps expects, and each member's epoch ends with
    // a jump to the next.
    let (mut per_epoch, mut shared) = (1, team.is_alone());
    for member in &members {
        let fit = match member.start_in(data, scale, team) {
            Ok(fit) => {
                shared = true;
                fit
            }
            Err(_) if !team.is_alone() => member.start(data, scale)?,
            Err(e) => return Err(e),
        };
        per_epoch = per_epoch.max(fit.per_epoch(data).saturating_mul(fit.unit_cost().max(1)));
    }
    if !shared {
        return Err(EngineError::BadState("none of the blend's members trains in a team".into()));
    }
    let first = start_member(&members[0], part.as_ref().unwrap_or(data), scale, team)?;
    Ok(Box::new(Stack {
        team,
        recipe,
        epochs: epochs(&members),
        per_epoch,
        members,
        scale,
        part,
        slice,
        first: Vec::new(),
        weights: None,
        fitted: Vec::new(),
        built: None,
        member: 0,
        epoch: 0,
        fit: Some(first),
        reported: 0,
    }))
}

struct Stack<R> {
    team: Team,
    recipe: R,
    members: Vec<Algorithm>,
    epochs: u32,
    /// Work units of each epoch: about the multiply-adds of the costliest
    /// member's (see [`Fit::unit_cost`]).
    per_epoch: u64,
    scale: Scale,
    /// The training ratings less the slice, while the first round lasts.
    part: Option<RatingMatrix>,
    slice: Vec<Triple>,
    /// The first round's members (kept to show until the second round has one).
    first: Vec<Box<dyn RatingModel>>,
    weights: Option<Vec<f32>>,
    /// The second round's members, fitted on every training rating.
    fitted: Vec<Box<dyn RatingModel>>,
    built: Option<Box<dyn RatingModel>>,
    /// The member being fitted (in the round `part` tells), and its epochs done.
    member: usize,
    epoch: u32,
    fit: Option<Box<dyn Fit>>,
    /// The work reported in the epoch under way.
    reported: u64,
}

impl<R: Recipe> Fit for Stack<R> {
    /// Asks the member under way for `budget` multiply-adds' worth of
    /// its own units, and reports them as such; between the rounds, the
    /// recipe judges the first round's members in steps of the same size.
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        if let (None, Some(part)) = (&self.fit, &self.part) {
            match self.recipe.choose(&self.first, part, &self.slice, budget) {
                Choice::Judging(work) => {
                    return Step { work: self.report(work), epoch_done: false, squared_error: None };
                }
                Choice::Chosen(weights) => self.second_round(weights, data),
            }
        }
        let on = self.part.as_ref().unwrap_or(data);
        let fit = self.fit.as_mut().expect("a member is fitted until the blend is built");
        let cost = fit.unit_cost().max(1);
        let inner = fit.step(on, budget.div_ceil(cost).max(1));
        self.account(inner, cost, data)
    }

    fn handoff(&mut self) -> Option<Vec<u8>> {
        self.fit.as_mut().and_then(|fit| fit.handoff())
    }

    fn take(&mut self, data: &RatingMatrix, handoffs: &[&[u8]]) -> Result<Step, EngineError> {
        let on = self.part.as_ref().unwrap_or(data);
        let no_member = || EngineError::BadState("the blend has no member under way to take handoffs".into());
        let fit = self.fit.as_mut().ok_or_else(no_member)?;
        let cost = fit.unit_cost().max(1);
        let inner = fit.take(on, handoffs)?;
        Ok(self.account(inner, cost, data))
    }

    fn per_epoch(&self, _data: &RatingMatrix) -> u64 {
        self.per_epoch
    }

    fn epochs(&self) -> Option<u32> {
        Some(self.epochs)
    }

    /// The blend once built; before, the member finished last (a member
    /// just started has learned nothing yet).
    fn model(&self) -> &dyn RatingModel {
        let done = self.built.as_ref().or(self.fitted.last()).or(self.first.last());
        match (done, &self.fit) {
            (Some(done), _) => done.as_ref(),
            (None, Some(fit)) => fit.model(),
            (None, None) => unreachable!("a blend has a member under way until it is built"),
        }
    }

    fn model_mut(&mut self) -> &mut dyn RatingModel {
        let done = self.built.as_mut().or(self.fitted.last_mut()).or(self.first.last_mut());
        match (done, &mut self.fit) {
            (Some(done), _) => done.as_mut(),
            (None, Some(fit)) => fit.model_mut(),
            (None, None) => unreachable!("a blend has a member under way until it is built"),
        }
    }

    /// Stopped early, the blend is made of what is fitted: in the second
    /// round, the first round's members with the weights chosen; in the
    /// first, its members and the one under way with what it learned,
    /// weighed evenly.
    fn finish(self: Box<Self>) -> Box<dyn RatingModel> {
        if let Some(built) = self.built {
            return built;
        }
        if let Some(weights) = self.weights {
            return self.recipe.build(weights, self.first);
        }
        let mut members = self.first;
        members.extend(self.fit.map(|fit| fit.finish()));
        let weights = self.recipe.even(members.len());
        self.recipe.build(weights, members)
    }
}

impl<R: Recipe> Stack<R> {
    /// Reports what the member under way did (`inner`, in its units of
    /// `cost` multiply-adds) in the blend's units, and moves on to the next
    /// member when it has run its epochs.
    fn account(&mut self, inner: Step, cost: u64, data: &RatingMatrix) -> Step {
        let work = if inner.epoch_done {
            self.epoch += 1;
            self.per_epoch - std::mem::take(&mut self.reported)
        } else {
            self.report(inner.work.saturating_mul(cost))
        };
        if self.epoch == self.members[self.member].epochs() {
            self.next_member(data);
        }
        Step { work, epoch_done: inner.epoch_done, squared_error: None }
    }

    /// Counts `work` in the epoch under way, never the whole of it before it ends.
    fn report(&mut self, work: u64) -> u64 {
        let work = work.min(self.per_epoch - 1 - self.reported);
        self.reported += work;
        work
    }

    /// The member under way is done: keep it in its round, then start the
    /// next one (after the first round, the recipe judges first).
    fn next_member(&mut self, data: &RatingMatrix) {
        let done = self.fit.take().expect("a member was under way").finish();
        let round = if self.part.is_some() { &mut self.first } else { &mut self.fitted };
        round.push(done);
        (self.member, self.epoch) = (self.member + 1, 0);
        if self.member < self.members.len() {
            let on = self.part.as_ref().unwrap_or(data);
            self.fit = Some(self.start_member(on));
        } else if self.part.is_none() {
            let fitted = std::mem::take(&mut self.fitted);
            let weights = self.weights.take().unwrap_or_else(|| self.recipe.even(fitted.len()));
            self.built = Some(self.recipe.build(weights, fitted));
            self.first.clear();
        }
    }

    fn second_round(&mut self, weights: Vec<f32>, data: &RatingMatrix) {
        (self.weights, self.part, self.member) = (Some(weights), None, 0);
        self.fit = Some(self.start_member(data));
    }

    fn start_member(&self, on: &RatingMatrix) -> Box<dyn Fit> {
        let started = start_member(&self.members[self.member], on, self.scale, self.team);
        started.expect("a member starts on the ratings its blend started on")
    }
}

/// A member's fit as one of `team`, or whole when it trains alone.
fn start_member(member: &Algorithm, on: &RatingMatrix, scale: Scale, team: Team) -> Result<Box<dyn Fit>, EngineError> {
    member.start_in(on, scale, team).or_else(|e| if team.is_alone() { Err(e) } else { member.start(on, scale) })
}

/// The part of `RatingModel` every blend answers alike, from its `spec`
/// and its `members` (who share one shape and scale).
macro_rules! blend_shape {
    () => {
        fn algorithm(&self) -> crate::algorithms::Algorithm {
            self.spec.clone()
        }

        fn scale(&self) -> cinema_protocol::Scale {
            self.members[0].scale()
        }

        fn users(&self) -> u32 {
            self.members[0].users()
        }

        fn items(&self) -> u32 {
            self.members[0].items()
        }
    };
}
pub(crate) use blend_shape;

/// Members as a saved blend keeps them: each by its algorithm's name and bytes.
pub fn encode_members(members: &[Box<dyn RatingModel>]) -> Vec<(String, Vec<u8>)> {
    members.iter().map(|m| (m.algorithm().name().to_owned(), m.encode())).collect()
}

/// Saved members, each checked by its own decoder; refused unless there is
/// at least one and all have the same users and movies.
pub fn decode_members(saved: &[(String, Vec<u8>)]) -> Result<Vec<Box<dyn RatingModel>>, EngineError> {
    let members = saved.iter().map(|(name, bytes)| Algorithm::decode(name, bytes)).collect::<Result<Vec<_>, _>>()?;
    let shapes_agree = members.windows(2).all(|w| (w[0].users(), w[0].items()) == (w[1].users(), w[1].items()));
    if members.is_empty() || !shapes_agree {
        return Err(EngineError::BadModel("blend: the members do not fit together".into()));
    }
    Ok(members)
}

/// The members' explanations of one score, each mapped onto the blend's
/// scale by `(factor, offset)` (its part is `factor · score + offset`):
/// the baseline and every rated or marked movie's part summed over
/// members, exact when every member's is; `model` is the blend's own score.
pub fn merge(explained: impl IntoIterator<Item = (f32, f32, Decomposition)>, model: f32) -> Decomposition {
    let (mut baseline, mut exact) = (0.0, true);
    let mut parts: Vec<(u32, f32, f32)> = Vec::new();
    let mut marks: Vec<(u32, Mark, f32)> = Vec::new();
    for (factor, offset, d) in explained {
        exact &= d.exact;
        baseline += factor * d.baseline + offset;
        for (movie, rating, part) in d.contributions {
            match parts.iter_mut().find(|p| p.0 == movie) {
                Some(p) => p.2 += factor * part,
                None => parts.push((movie, rating, factor * part)),
            }
        }
        for (movie, mark, part) in d.marks {
            match marks.iter_mut().find(|p| p.0 == movie) {
                Some(p) => p.2 += factor * part,
                None => marks.push((movie, mark, factor * part)),
            }
        }
    }
    with_marks(decomposition(baseline, parts, model, exact), marks)
}
