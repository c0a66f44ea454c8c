//! A ranking blend: iALS and EASE, each member's scores standardized per
//! viewer, mixed by one weight chosen by NDCG@10 on a slice carved from the
//! training ratings (the two rounds of fitting are `crate::stack`'s).
//!
//! The members err differently — iALS through vectors of who watches what,
//! EASE through item-to-item weights — so their mix ranks better than
//! either on ML-100K u1–u5 (the README has the figures). Their scores are on
//! unrelated scales, hence the standardization: for each member, the z-score
//! over the movies the viewer could be recommended (those EASE weighs and
//! they have not rated). The weight is chosen, not fixed, because the best
//! mix differs between datasets (about half and half on ML-100K, EASE
//! alone on latest-small). A catalogue with more movies than EASE can weigh
//! ranks by iALS alone.

use cinema_protocol::{Decomposition, Mark, ModelSpec, Role, Scale, Triple, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

use super::ease::{EaseParams, MAX_MOVIES};
use super::{Algo, Algorithm, IalsParams, MAX_SEED, describe};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Team};
use crate::explain::{Viewer, decomposition};
use crate::metrics::Ranking;
use crate::model::Model;
use crate::ratings::RatingMatrix;
use crate::stack::{self, Choice, Recipe};
use crate::topn::TopN;

/// What the blend mixes, each with its defaults (but iALS's sweeps, which
/// the blend's `iterations` sets, so a quick first model can be asked of it
/// as of iALS): the first alone when the catalogue is too large for the second.
pub const MEMBERS: [&str; 2] = ["ials", "ease"];

/// EASE's weight is tried in steps of 1/`STEPS` from 0 to 1.
const STEPS: u32 = 10;

/// Users whose slice judges the weight, at most: bounds the step that
/// judges it at any size.
const MAX_JUDGED: usize = 2000;

/// The list length judged (NDCG@10, as `cinema eval` reports).
const JUDGED_LIST: usize = 10;

params! {
    pub struct RankBlendParams {
        iterations: u32 = 15, 1..=10_000, "iALS's alternating sweeps (users, then movies)";
        holdout: f32 = 0.1, 0.01..=0.5, "share of the training ratings the mix is chosen on";
        seed: u64 = 42, 0..=MAX_SEED, "seed of the slice";
    }
}

impl Algo for RankBlendParams {
    const NAME: &'static str = "rankblend";
    const ROLE: Role = Role::Ranking;
    const DESCRIPTION: &'static str =
        "ranking model: iALS and EASE mixed, the mix chosen on held-out training ratings, orders the lists";

    fn epochs(&self) -> u32 {
        stack::epochs(&self.members())
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        self.start_in(data, scale, Team::ALONE)
    }

    /// iALS shares its rounds with the team; EASE is fitted whole in each.
    fn start_in(self, data: &RatingMatrix, scale: Scale, team: Team) -> Result<Box<dyn Fit>, EngineError> {
        let mut members = self.members();
        let ease = EaseParams::default().weighed(data);
        let weighed = if ease.len() > MAX_MOVIES {
            members.truncate(1);
            vec![true; data.items as usize]
        } else {
            mask(&ease, data.items)
        };
        let recipe = Mix { p: self, scale, weighed, rows: rows(data), judging: None };
        stack::start(recipe, members, data, scale, (self.holdout, self.seed), team)
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let saved: Saved = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        let members = stack::decode_members(&saved.members)?;
        let (users, items) = (members[0].users(), members[0].items());
        let bad = |why: &str| Err(EngineError::BadModel(format!("rankblend: {why}")));
        if saved.weights.len() != members.len() || !saved.weights.iter().all(|w| w.is_finite()) {
            return bad("the weights do not fit the members");
        }
        let in_range = saved.rows.iter().flatten().all(|&i| i < items);
        if saved.weighed.len() != items as usize || saved.rows.len() != users as usize || !in_range {
            return bad("the movie lists do not fit the members");
        }
        let Saved { spec, weights, weighed, rows, .. } = saved;
        Ok(Box::new(RankBlend { spec, weights, members, weighed, rows }))
    }
}

impl RankBlendParams {
    fn members(&self) -> Vec<Algorithm> {
        let iterations = Value::Integer(self.iterations.into());
        let specs = [ModelSpec::new(MEMBERS[0]).with("iterations", iterations), ModelSpec::new(MEMBERS[1])];
        specs.iter().map(|s| Algorithm::from_spec(s, &describe()).expect("members are registered")).collect()
    }
}

fn mask(movies: &[u32], items: u32) -> Vec<bool> {
    let mut mask = vec![false; items as usize];
    movies.iter().for_each(|&i| mask[i as usize] = true);
    mask
}

/// Each user's rated movies.
fn rows(data: &RatingMatrix) -> Vec<Vec<u32>> {
    (0..data.users as usize).map(|u| data.by_user.row(u).0.to_vec()).collect()
}

/// The movies `rated` could be recommended among: weighed and not rated.
fn candidates(weighed: &[bool], rated: &[u32]) -> Vec<bool> {
    let mut among = weighed.to_vec();
    rated.iter().for_each(|&i| among[i as usize] = false);
    among
}

/// A member's scores for `u`, with the mean and standard deviation over
/// `among`: its part of the blend is `(score − mean) / sd`.
fn standardized(member: &dyn RatingModel, u: u32, among: &[bool]) -> (Vec<f32>, f32, f32) {
    let scores = member.scores(u);
    let (mut n, mut sum, mut squares) = (0f64, 0f64, 0f64);
    for (&s, _) in scores.iter().zip(among).filter(|(_, a)| **a) {
        (n, sum, squares) = (n + 1.0, sum + f64::from(s), squares + f64::from(s) * f64::from(s));
    }
    let mean = if n > 0.0 { sum / n } else { 0.0 };
    let sd = (squares / n.max(1.0) - mean * mean).max(0.0).sqrt();
    (scores, mean as f32, if sd > 1e-12 { sd as f32 } else { 1.0 })
}

/// The blend's scores for `u`: the weighed movies by the members' weighted
/// z-scores, the others below every one of them.
fn mixed(members: &[Box<dyn RatingModel>], weights: &[f32], u: u32, weighed: &[bool], rated: &[u32]) -> Vec<f32> {
    let among = candidates(weighed, rated);
    let mut out = vec![0f32; weighed.len()];
    for (m, &w) in members.iter().zip(weights) {
        let (scores, mean, sd) = standardized(m.as_ref(), u, &among);
        for ((o, s), _) in out.iter_mut().zip(scores).zip(weighed).filter(|(_, k)| **k) {
            *o += w * (s - mean) / sd;
        }
    }
    let lowest = out.iter().zip(weighed).filter(|(_, k)| **k).map(|(o, _)| *o).fold(0f32, f32::min);
    for (o, _) in out.iter_mut().zip(weighed).filter(|(_, k)| !**k) {
        *o = lowest - 1.0;
    }
    out
}

/// What a fitting blend knows of the training ratings, to choose and build.
struct Mix {
    p: RankBlendParams,
    scale: Scale,
    weighed: Vec<bool>,
    rows: Vec<Vec<u32>>,
    judging: Option<Judging>,
}

/// The slice's judging under way: NDCG@10 at every step of EASE's weight.
struct Judging {
    /// Each judged user with their relevant movies in the slice.
    users: Vec<(u32, HashSet<u32>)>,
    next: usize,
    /// The movies EASE weighed without the slice.
    weighed: Vec<bool>,
    /// One per weight step.
    judged: Vec<Ranking>,
}

impl Judging {
    /// Judged users: those with a movie they like in the slice (at most
    /// [`MAX_JUDGED`], evenly spread).
    fn new(part: &RatingMatrix, slice: &[Triple], like: f32) -> Judging {
        let mut relevant: BTreeMap<u32, HashSet<u32>> = BTreeMap::new();
        for &(u, i, _) in slice.iter().filter(|t| t.2 >= like) {
            relevant.entry(u).or_default().insert(i);
        }
        let stride = relevant.len().div_ceil(MAX_JUDGED).max(1);
        Judging {
            users: relevant.into_iter().step_by(stride).collect(),
            next: 0,
            weighed: mask(&EaseParams::default().weighed(part), part.items),
            judged: (0..=STEPS).map(|_| Ranking::new(JUDGED_LIST)).collect(),
        }
    }

    /// The next user's list at every weight step, each from the movies
    /// EASE weighed that they had not rated.
    fn judge_next(&mut self, members: &[Box<dyn RatingModel>], part: &RatingMatrix) {
        let (u, relevant) = &self.users[self.next];
        self.next += 1;
        let among = candidates(&self.weighed, part.by_user.row(*u as usize).0);
        let z: Vec<Vec<f32>> = members
            .iter()
            .map(|m| {
                let (scores, mean, sd) = standardized(m.as_ref(), *u, &among);
                scores.into_iter().map(|s| (s - mean) / sd).collect()
            })
            .collect();
        for (step, judge) in self.judged.iter_mut().enumerate() {
            let w = step as f32 / STEPS as f32;
            let mut top = TopN::new(JUDGED_LIST);
            for i in (0..part.items as usize).filter(|&i| among[i]) {
                top.push(i as u32, (1.0 - w) * z[0][i] + w * z[1][i]);
            }
            let list: Vec<u32> = top.into_sorted().into_iter().map(|(i, _)| i).collect();
            judge.add(&list, relevant);
        }
    }

    /// EASE's weight with the best NDCG@10 (the smallest of equals), and
    /// iALS's the rest.
    fn weights(&self, items: u32) -> Vec<f32> {
        let ndcg: Vec<f64> = self.judged.iter().map(|j| j.finish(items as usize).ndcg).collect();
        let best = (0..ndcg.len()).fold(0, |best, s| if ndcg[s] > ndcg[best] { s } else { best });
        let w = best as f32 / STEPS as f32;
        vec![1.0 - w, w]
    }
}

impl Recipe for Mix {
    /// A few users at a time: each costs both members' scores of every
    /// movie (about the movies times iALS's factors) and a list per step.
    fn choose(&mut self, members: &[Box<dyn RatingModel>], part: &RatingMatrix, slice: &[Triple], budget: u64) -> Choice {
        if members.len() != 2 {
            return Choice::Chosen(self.even(members.len()));
        }
        let like = self.scale.like_value();
        let judging = self.judging.get_or_insert_with(|| Judging::new(part, slice, like));
        let per_user = u64::from(part.items) * (u64::from(IalsParams::default().factors) + 2 * u64::from(STEPS + 1));
        let mut work = 0;
        while work < budget && judging.next < judging.users.len() {
            judging.judge_next(members, part);
            work += per_user;
        }
        if judging.next < judging.users.len() {
            return Choice::Judging(work.max(1));
        }
        let weights = judging.weights(part.items);
        self.judging = None;
        Choice::Chosen(weights)
    }

    fn even(&self, n: usize) -> Vec<f32> {
        vec![1.0 / n as f32; n]
    }

    fn build(&self, weights: Vec<f32>, members: Vec<Box<dyn RatingModel>>) -> Box<dyn RatingModel> {
        let spec = Algorithm::RankBlend(self.p);
        Box::new(RankBlend { spec, weights, members, weighed: self.weighed.clone(), rows: self.rows.clone() })
    }
}

/// A trained ranking blend.
pub struct RankBlend {
    spec: Algorithm,
    /// One weight per member.
    weights: Vec<f32>,
    members: Vec<Box<dyn RatingModel>>,
    /// The movies the blend ranks by its members (the rest rank after).
    weighed: Vec<bool>,
    /// Each user's rated movies (their fold-in once folded): left out of
    /// the movies their scores are standardized over.
    rows: Vec<Vec<u32>>,
}

/// How a ranking blend is saved: each member by its algorithm's name and bytes.
#[derive(Serialize, Deserialize)]
struct Saved {
    spec: Algorithm,
    weights: Vec<f32>,
    members: Vec<(String, Vec<u8>)>,
    weighed: Vec<bool>,
    rows: Vec<Vec<u32>>,
}

impl RatingModel for RankBlend {
    stack::blend_shape!();

    fn score(&self, u: u32, i: u32) -> f32 {
        self.scores(u)[i as usize]
    }

    fn scores(&self, u: u32) -> Vec<f32> {
        mixed(&self.members, &self.weights, u, &self.weighed, &self.rows[u as usize])
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        self.fold_in_marked(u, ratings, &[]);
    }

    /// Marked movies leave the movies the viewer's scores are standardized
    /// over, as rated ones do: none of them is a candidate.
    fn fold_in_marked(&mut self, u: u32, ratings: &[(u32, f32)], marks: &[(u32, Mark)]) {
        for m in &mut self.members {
            m.fold_in_marked(u, ratings, marks);
        }
        self.rows[u as usize] = ratings.iter().map(|r| r.0).chain(marks.iter().map(|m| m.0)).collect();
    }

    /// Each member's parts on the blend's scale (its weight over the
    /// viewer's standard deviation), exact when every member's is.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let model = self.score(viewer.user, item);
        if !self.weighed[item as usize] {
            return decomposition(0.0, Vec::new(), model, false);
        }
        let among = candidates(&self.weighed, &self.rows[viewer.user as usize]);
        let explained = self.members.iter().zip(&self.weights).map(|(m, &w)| {
            let (_, mean, sd) = standardized(m.as_ref(), viewer.user, &among);
            (w / sd, -w * mean / sd, m.explain(viewer, item))
        });
        stack::merge(explained, model)
    }

    /// A blend of iALS alone ranks by its vectors (and the fast index).
    fn vectors(&self) -> Option<&Model> {
        match self.members.as_slice() {
            [only] => only.vectors(),
            _ => None,
        }
    }

    /// The first member's notion of alike: iALS's vectors.
    fn neighbours(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        self.members.iter().find_map(|m| {
            m.neighbours(item, n).or_else(|| m.vectors().map(|v| v.similar_items(item, n, |_| true)))
        })
    }

    fn parts(&self) -> Vec<(String, f32)> {
        self.members.iter().zip(&self.weights).map(|(m, &w)| (m.algorithm().name().to_owned(), w)).collect()
    }

    fn encode(&self) -> Vec<u8> {
        let saved = Saved {
            spec: self.spec.clone(),
            weights: self.weights.clone(),
            members: stack::encode_members(&self.members),
            weighed: self.weighed.clone(),
            rows: self.rows.clone(),
        };
        postcard::to_stdvec(&saved).expect("a model always encodes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::SCALE;

    /// Two groups of 20 users, each watching (most of) its own six movies.
    fn groups() -> RatingMatrix {
        let triples: Vec<Triple> = (0..40u32)
            .flat_map(|u| {
                let own = if u < 20 { 0..6u32 } else { 6..12 };
                own.filter(move |i| (u + i) % 4 != 0).map(move |i| (u, i, 1.0 + ((u * 7 + i * 3) % 5) as f32))
            })
            .collect();
        RatingMatrix::new(40, 12, &triples)
    }

    fn fit(data: &RatingMatrix, until: impl Fn(u32) -> bool) -> (Box<dyn RatingModel>, u32) {
        let mut t = Training::start(Algorithm::RankBlend(RankBlendParams::default()), data, SCALE).unwrap();
        let mut last = t.progress();
        while !last.finished && !until(last.epoch) {
            last = t.step(data, &[], 5_000);
        }
        (t.finish().unwrap(), t.progress().epochs)
    }

    /// Both members' epochs twice; weights that are a mix; a list that
    /// keeps each group to its own movies; scores that are their parts;
    /// bytes that load to the same scores.
    #[test]
    fn mixes_both_members_and_comes_back_from_its_bytes() {
        let data = groups();
        let (model, epochs) = fit(&data, |_| false);
        assert_eq!(epochs, 2 * (15 + 1));
        let parts = model.parts();
        assert_eq!(parts.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), MEMBERS);
        assert!(parts.iter().all(|p| (0.0..=1.0).contains(&p.1)) && (parts[0].1 + parts[1].1 - 1.0).abs() < 1e-6);
        let row = model.scores(1);
        let unrated = |i: &u32| !data.by_user.row(1).0.contains(i);
        let own = (0..6).filter(unrated).map(|i| row[i as usize]).fold(f32::INFINITY, f32::min);
        assert!((6..12).all(|i| row[i] < own), "{row:?}");
        let mut model = model;
        model.fold_in(1, &[(0, 5.0), (2, 4.0)]);
        let d = model.explain(&Viewer { user: 1, ratings: &[(0, 5.0), (2, 4.0)], marks: &[], folded: true }, 3);
        assert!(d.exact && (d.total - model.score(1, 3)).abs() < 1e-4, "{d:?}");
        let back = RankBlendParams::decode(&model.encode()).unwrap();
        assert_eq!(back.scores(1), model.scores(1));
        assert!(RankBlendParams::decode(&model.encode()[..20]).is_err());
    }

    /// Stopped in the second round, the blend is the first round's members
    /// with the weight chosen on the slice.
    #[test]
    fn stopped_in_the_second_round_it_keeps_the_first_rounds_mix() {
        let data = groups();
        let (done, _) = fit(&data, |_| false);
        let (stopped, _) = fit(&data, |epoch| epoch > 16);
        assert_eq!(stopped.parts(), done.parts());
    }

    /// More movies than EASE weighs: iALS alone, once, ranking by its vectors.
    #[test]
    fn a_catalogue_too_large_for_ease_ranks_by_ials_alone() {
        let items = MAX_MOVIES as u32 + 1;
        let triples: Vec<Triple> = (0..5u32).flat_map(|u| (0..items).map(move |i| (u, i, 4.0))).collect();
        let data = RatingMatrix::new(5, items, &triples);
        let (model, epochs) = fit(&data, |_| false);
        assert_eq!(epochs, 15);
        assert_eq!(model.parts(), vec![("ials".to_owned(), 1.0)]);
        assert!(model.vectors().is_some());
    }
}
