//! iALS, the ranking model: implicit-feedback matrix factorisation (Hu,
//! Koren & Volinsky 2008) fitted by alternating least squares with
//! conjugate-gradient row solves; the kernels are in `crate::implicit`.

use cinema_protocol::{Decomposition, Mark, Role, Scale};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Algo, Algorithm, MAX_SEED};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step, Team};
use crate::explain::Viewer;
use crate::implicit::{self, Confidence, Costs, FixedSide, HalfSweep, Plan, Scratch};
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::train::init_factors;

params! {
    /// Implicit-feedback matrix factorisation for ranking (see
    /// `implicit.rs`); the defaults were chosen on validation data carved
    /// from the training files (`examples/rank_tune.rs`, the README).
    pub struct IalsParams {
        factors: u32 = 128, 1..=1024, "length of each user's and movie's vector";
        /// Alternating sweeps (users, then movies).
        iterations: u32 = 15, 1..=10_000, "alternating sweeps (users, then movies)";
        /// L2 regularization λ of both factor matrices.
        reg: f32 = 30.0, 0.0..=1e6, "L2 regularization of both factor matrices";
        /// Confidence of a rated pair: 1 + alpha·w(rating).
        alpha: f32 = 5.0, 0.0..=1e4, "confidence of a rated pair: 1 + alpha·w(rating)";
        /// How much the confidence grows with the rating, in [0, 1]: 0 treats
        /// every rating as the same evidence, 1 makes the lowest rating count 1.
        rating_weight: f32 = 1.0, 0.0..=1.0, "how much confidence grows with the rating";
        /// Conjugate-gradient steps per row and sweep (warm-started).
        cg_steps: u32 = 3, 1..=1024, "conjugate-gradient steps per row and sweep";
        /// Factors start as N(0, init_std²).
        init_std: f32 = 0.01, 0.0..=10.0, "vectors start as N(0, init_std²)";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the random start";
    }
}

impl Algo for IalsParams {
    const NAME: &'static str = "ials";
    const ROLE: Role = Role::Ranking;
    const DESCRIPTION: &'static str = "ranking model: implicit-feedback matrix factorization (ALS), orders the lists";

    fn epochs(&self) -> u32 {
        self.iterations
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        self.start_in(data, scale, Team::ALONE)
    }

    /// Every member starts from the same seeded vectors; each solves its
    /// shards of a side and takes the others' (see [`AlsSweep`]).
    fn start_in(self, data: &RatingMatrix, scale: Scale, team: Team) -> Result<Box<dyn Fit>, EngineError> {
        // Scores are likelihoods of watching: no mean, no biases.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let k = self.factors as usize;
        let mut model = Model::empty(Algorithm::Ials(self), scale, data.users, data.items, k, 0.0);
        init_factors(&mut model.item_factors, self.init_std, &mut rng, |i| data.by_item.row_len(i) > 0);
        let sweep = AlsSweep::new(&self, data, &model, team)?;
        Ok(Box::new(Ials { model, sweep, p: self }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: Model = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.validate()?;
        Ok(Box::new(Trained::new(model)?))
    }

    /// Only a sane fallback: a ranking model is folded in by `implicit::fold_in`.
    fn fold_in_shrinkage(&self, _n: f32) -> (f32, f32) {
        (crate::foldin::PRIOR, self.reg + crate::foldin::PRIOR)
    }
}

struct Ials {
    model: Model,
    sweep: AlsSweep,
    p: IalsParams,
}

impl Fit for Ials {
    fn step(&mut self, data: &RatingMatrix, budget: u64) -> Step {
        let (work, epoch_done) = self.sweep.step(&mut self.model, data, &self.p, budget.max(1));
        Step { work, epoch_done, squared_error: None }
    }

    /// An iteration's work in [`Costs`]' units: both half-sweeps'
    /// multiply-adds over k, so that every step does a budget's worth of it
    /// whether it prepares rows or solves them.
    fn per_epoch(&self, _data: &RatingMatrix) -> u64 {
        self.sweep.per_epoch()
    }

    fn unit_cost(&self) -> u64 {
        u64::from(self.p.factors)
    }

    fn handoff(&mut self) -> Option<Vec<u8>> {
        self.sweep.handoff.take()
    }

    fn take(&mut self, _data: &RatingMatrix, handoffs: &[&[u8]]) -> Result<Step, EngineError> {
        let (work, epoch_done) = self.sweep.take(&mut self.model, handoffs)?;
        Ok(Step { work, epoch_done, squared_error: None })
    }

    fn model(&self) -> &dyn RatingModel {
        &self.model
    }

    fn model_mut(&mut self) -> &mut dyn RatingModel {
        &mut self.model
    }

    fn finish(self: Box<Self>) -> Box<dyn RatingModel> {
        Box::new(Trained::new(self.model).expect("a fit keeps its own parameters"))
    }
}

/// A trained iALS: its vectors, with what every fold-in and explanation
/// shares, built once and dropped with it.
pub struct Trained {
    model: Model,
    p: IalsParams,
    /// YᵀY of the movie vectors.
    gram: Vec<f32>,
    /// The mean user vector: how a viewer with no ratings yet is ranked, so
    /// their list is what most people watch, not an arbitrary order of zeros.
    mean_user: Vec<f32>,
}

impl Trained {
    /// `model` must be an iALS model (saved files before format 4 carried
    /// the ranking model as bare vectors).
    pub fn new(model: Model) -> Result<Trained, EngineError> {
        let Algorithm::Ials(p) = model.spec else {
            return Err(EngineError::BadModel(format!("the ranking part was made by {}", model.spec.name())));
        };
        let gram = implicit::gram(&model.item_factors);
        let mut mean_user = vec![0f32; model.factors()];
        for row in model.user_factors.rows() {
            for (m, x) in mean_user.iter_mut().zip(row) {
                *m += x / model.users().max(1) as f32;
            }
        }
        Ok(Trained { model, p, gram, mean_user })
    }
}

impl RatingModel for Trained {
    fn algorithm(&self) -> Algorithm {
        self.model.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.model.scale
    }

    fn users(&self) -> u32 {
        self.model.users()
    }

    fn items(&self) -> u32 {
        self.model.items()
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        self.model.score(u, i)
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        self.fold_in_marked(u, ratings, &[]);
    }

    fn fold_in_marked(&mut self, u: u32, ratings: &[(u32, f32)], marks: &[(u32, Mark)]) {
        let scale = self.model.scale;
        implicit::fold_in(&mut self.model, &self.gram, &self.p, scale, u, ratings, marks);
        if ratings.is_empty() && !marks.iter().any(|m| m.1 == Mark::Seen) {
            self.model.user_row_mut(u).copy_from_slice(&self.mean_user);
        }
    }

    /// Exact: the viewer's solve taken apart by rated movie (`explain::rank`).
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        crate::explain::rank(&self.model, &self.gram, &self.p, self.model.scale, viewer, item)
    }

    fn vectors(&self) -> Option<&Model> {
        Some(&self.model)
    }

    fn into_vectors(self: Box<Self>) -> Option<Model> {
        Some(self.model)
    }

    fn encode(&self) -> Vec<u8> {
        self.model.encode()
    }
}

/// Each side's rows are cut into this many runs of about equal work
/// ("shards"). A side's Gram matrix is the sum of its shards' in shard
/// order, whoever solved them, so a team of one, two or four instances
/// makes the same floats.
pub const SHARDS: usize = 4;

/// The state of an iALS iteration between steps: users first, then movies.
/// In a team each member solves its shards of a side, then hands them and
/// their Gram matrices to the others ([`Share`]) before the next side.
struct AlsSweep {
    confidence: Confidence,
    costs: Costs,
    /// The users' half and the movies' half: each chosen once, from how
    /// many ratings each row has.
    plans: [Plan; 2],
    /// Where each side's shards start, then its number of rows.
    cuts: [[usize; SHARDS + 1]; 2],
    /// The work of solving each shard's rows and summing their Gram matrix, by side.
    shard_work: [[u64; SHARDS]; 2],
    team: Team,
    /// The side solved now: 0 the users, 1 the movies.
    phase: usize,
    /// Whether the current phase has started (its fixed side is whitened).
    started: bool,
    /// The next row of the current phase.
    row: usize,
    /// The side held fixed in this phase.
    side: FixedSide,
    scratch: Scratch,
    /// The Gram matrix of each shard of the side solved last, which the
    /// next phase holds fixed; empty before the first step, which makes
    /// the movies' from their random start (in every member at once, not
    /// in turn as `TrainShard` is sent).
    grams: [Vec<f32>; SHARDS],
    /// This member's share of the phase, solved and not yet handed on.
    handoff: Option<Vec<u8>>,
    /// Whether this member waits for the others' shares of the phase.
    waiting: bool,
}

/// What a team member hands the others at the end of its share of a
/// phase: the rows it solved and their shards' Gram matrices, as the
/// floats' bytes (they copy at memory speed; postcard would write each
/// float on its own).
#[derive(Serialize, Deserialize)]
struct Share<'a> {
    phase: u32,
    member: u32,
    #[serde(with = "serde_bytes")]
    grams: &'a [u8],
    #[serde(with = "serde_bytes")]
    rows: &'a [u8],
}

impl AlsSweep {
    fn new(p: &IalsParams, data: &RatingMatrix, model: &Model, team: Team) -> Result<AlsSweep, EngineError> {
        if team.members == 0 || !SHARDS.is_multiple_of(team.members as usize) || team.member >= team.members {
            let why = format!("iALS trains in teams of 1, 2 or 4; not as member {} of {}", team.member, team.members);
            return Err(EngineError::BadArgument(why));
        }
        let costs = Costs::new(p.factors as usize, p.cg_steps);
        let by_row = [&data.by_user, &data.by_item];
        let plans = [
            Plan::choose(by_row[0], data.items as usize, costs),
            Plan::choose(by_row[1], data.users as usize, costs),
        ];
        let (mut cuts, mut shard_work) = ([[0; SHARDS + 1]; 2], [[0; SHARDS]; 2]);
        for side in 0..2 {
            // A row's solve, and its part of the side's Gram matrix.
            let each: Vec<u64> = (0..by_row[side].rows())
                .map(|r| costs.row_cost(plans[side].prepared, by_row[side].row_len(r) as u64) + costs.gram_row())
                .collect();
            (cuts[side], shard_work[side]) = cut(&each);
        }
        Ok(AlsSweep {
            confidence: Confidence::new(p, model.scale),
            costs,
            plans,
            cuts,
            shard_work,
            team,
            phase: 0,
            started: false,
            row: 0,
            side: FixedSide::default(),
            scratch: Scratch::default(),
            grams: Default::default(),
            handoff: None,
            waiting: false,
        })
    }

    /// The shards a member solves: a run of `SHARDS / members`.
    fn shards_of(&self, member: u32) -> std::ops::Range<usize> {
        let each = SHARDS / self.team.members as usize;
        member as usize * each..(member as usize + 1) * each
    }

    /// The rows of `phase`'s side a member solves.
    fn rows_of(&self, phase: usize, member: u32) -> std::ops::Range<usize> {
        let shards = self.shards_of(member);
        self.cuts[phase][shards.start]..self.cuts[phase][shards.end]
    }

    /// An iteration's work for this member in [`Costs`]' units: preparing
    /// each fixed side, solving its rows and summing their Gram matrices,
    /// and in a team handing them on and taking in the others' rows (a
    /// unit a row, and one for each exchange, so that every step counts
    /// work even when a member's shards are empty).
    fn per_epoch(&self) -> u64 {
        (0..2)
            .map(|phase| {
                let fixed = self.cuts[1 - phase][SHARDS] as u64;
                let mine = self.rows_of(phase, self.team.member);
                let solve: u64 = self.shard_work[phase][self.shards_of(self.team.member)].iter().sum();
                let taken = self.cuts[phase][SHARDS] - mine.len();
                fixed * self.costs.prepare(self.plans[phase].prepared)
                    + solve
                    + if self.team.is_alone() { 0 } else { taken as u64 + 2 }
            })
            .sum()
    }

    /// Prepares the side held fixed, then re-solves this member's rows,
    /// until about `budget` units of work are done; returns the units of
    /// work done and whether the iteration ended. In a team, the step that
    /// solves the member's last row of a side leaves its [`Share`] in
    /// `handoff` and stops.
    fn step(&mut self, model: &mut Model, data: &RatingMatrix, p: &IalsParams, budget: u64) -> (u64, bool) {
        let mut spent = 0u64;
        let k = model.factors();
        loop {
            if self.waiting {
                return (spent, false);
            }
            let mine = self.rows_of(self.phase, self.team.member);
            let (rows, other, by_row) = match self.phase {
                0 => (&mut model.user_factors, &model.item_factors, &data.by_user),
                _ => (&mut model.item_factors, &model.user_factors, &data.by_item),
            };
            if !self.started {
                if self.grams[0].is_empty() {
                    let all = other.as_slice().expect("factor rows are contiguous");
                    let cuts = self.cuts[1];
                    self.grams = std::array::from_fn(|s| implicit::gram_of(&all[cuts[s] * k..cuts[s + 1] * k], k));
                }
                self.side.start(other, &summed(&self.grams, k), p.reg, self.plans[self.phase]);
                (self.row, self.started) = (mine.start, true);
            }
            while spent < budget {
                match self.side.prepare_next(other, self.costs) {
                    Some(cost) => spent += cost,
                    None => break,
                }
            }
            if spent >= budget {
                return (spent, false);
            }
            let from = self.row;
            let mut to = from;
            let mut planned = 0;
            while to < mine.end && spent + planned < budget {
                planned += self.costs.row_cost(self.side.prepared(), by_row.row_len(to) as u64);
                to += 1;
            }
            let half = HalfSweep {
                fixed: other.as_slice().expect("factor rows are contiguous"),
                side: &self.side,
                by_row,
                params: p,
                confidence: self.confidence,
                costs: self.costs,
            };
            half.solve_rows(rows, from..to, &mut self.scratch);
            spent += planned;
            self.row = to;
            if to == mine.end {
                let all = rows.as_slice().expect("factor rows are contiguous");
                let cuts = self.cuts[self.phase];
                for s in self.shards_of(self.team.member) {
                    self.grams[s] = implicit::gram_of(&all[cuts[s] * k..cuts[s + 1] * k], k);
                }
                spent += mine.len() as u64 * self.costs.gram_row();
                if !self.team.is_alone() {
                    let grams: Vec<f32> = self.shards_of(self.team.member).flat_map(|s| self.grams[s].clone()).collect();
                    let share = Share {
                        phase: self.phase as u32,
                        member: self.team.member,
                        grams: bytemuck::cast_slice(&grams),
                        rows: bytemuck::cast_slice(&all[mine.start * k..mine.end * k]),
                    };
                    self.handoff = Some(postcard::to_stdvec(&share).expect("a share always encodes"));
                    self.waiting = true;
                    return (spent + 1, false);
                }
                if self.next_phase() {
                    return (spent, true);
                }
            }
            if spent >= budget {
                return (spent, false);
            }
        }
    }

    /// Takes in the other members' shares of the phase (in member order)
    /// and moves on to the next phase; returns the units of work done (a
    /// row copied is one) and whether the iteration ended. Every share is
    /// checked before any is taken, so one that does not fit changes nothing.
    fn take(&mut self, model: &mut Model, handoffs: &[&[u8]]) -> Result<(u64, bool), EngineError> {
        if !self.waiting {
            return Err(EngineError::BadState("this member's share of the round is not done: nothing to take".into()));
        }
        let others: Vec<u32> = (0..self.team.members).filter(|&m| m != self.team.member).collect();
        if handoffs.len() != others.len() {
            let why = format!("{} handoffs for a team of {}", handoffs.len(), self.team.members);
            return Err(EngineError::BadArgument(why));
        }
        let k = model.factors();
        let mut shares = Vec::with_capacity(others.len());
        for (&bytes, &member) in handoffs.iter().zip(&others) {
            let bad = |why: String| EngineError::BadArgument(format!("member {member}'s handoff: {why}"));
            let share: Share = postcard::from_bytes(bytes).map_err(|e| bad(e.to_string()))?;
            let (rows, shards) = (self.rows_of(self.phase, member), self.shards_of(member));
            if share.phase as usize != self.phase || share.member != member {
                return Err(bad(format!("of member {} in phase {}", share.member, share.phase)));
            }
            if share.rows.len() != rows.len() * k * 4 || share.grams.len() != shards.len() * k * k * 4 {
                return Err(bad(format!("{} bytes of rows and {} of Gram matrices", share.rows.len(), share.grams.len())));
            }
            shares.push((rows, shards, share));
        }
        let solved = match self.phase {
            0 => &mut model.user_factors,
            _ => &mut model.item_factors,
        };
        let all = solved.as_slice_mut().expect("factor rows are contiguous");
        let mut copied = 0;
        for (rows, shards, share) in shares {
            from_bytes(share.rows, &mut all[rows.start * k..rows.end * k]);
            for (s, gram) in shards.zip(share.grams.chunks_exact(k * k * 4)) {
                self.grams[s].resize(k * k, 0.0);
                from_bytes(gram, &mut self.grams[s]);
            }
            copied += rows.len() as u64;
        }
        self.waiting = false;
        Ok((copied + 1, self.next_phase()))
    }

    /// Moves to the other side; true when that ends an iteration.
    fn next_phase(&mut self) -> bool {
        self.started = false;
        self.phase = 1 - self.phase;
        self.phase == 0
    }
}

/// Where `SHARDS` runs of rows of about equal work start (then the row
/// count), from each row's work; and each run's work.
fn cut(each: &[u64]) -> ([usize; SHARDS + 1], [u64; SHARDS]) {
    let total: u64 = each.iter().sum();
    let mut cuts = [each.len(); SHARDS + 1];
    cuts[0] = 0;
    let (mut sum, mut shard) = (0u64, 1);
    for (r, &w) in each.iter().enumerate() {
        while shard < SHARDS && sum * SHARDS as u64 >= total * shard as u64 {
            cuts[shard] = r;
            shard += 1;
        }
        sum += w;
    }
    let work = std::array::from_fn(|s| each[cuts[s]..cuts[s + 1]].iter().sum());
    (cuts, work)
}

/// The Gram matrices of a side's shards, added in shard order.
fn summed(grams: &[Vec<f32>], k: usize) -> Vec<f32> {
    let mut sum = vec![0f32; k * k];
    for g in grams {
        sum.iter_mut().zip(g).for_each(|(s, x)| *s += x);
    }
    sum
}

/// `out` from the bytes of as many floats, in the machine's order: the
/// members of a team are the same module on the same host.
fn from_bytes(bytes: &[u8], out: &mut [f32]) {
    bytemuck::cast_slice_mut(out).copy_from_slice(bytes);
}
