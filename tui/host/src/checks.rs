//! What a reply must mean, not only how it must be encoded. An engine module
//! is untrusted code that can speak the wire format perfectly and still lie:
//! name a movie past the catalogue, send NaN for a rating, list one movie
//! ten times, report progress that never ends. The typed client runs every
//! reply through one of these rules before anyone uses it; a broken rule
//! ends the instance like a trap does. Each rule returns what was wrong, in
//! words that finish "engine module X answered Request with …".

use cinema_protocol::{
    Call, ContentStats, Decomposition, Explanation, Hello, HybridScored, Indexed, ParamKind, Progress, Readiness,
    Scale, Scored, Stepped, call,
};

/// The longest module name or version a module may give.
pub const MAX_NAME: usize = 256;
/// The longest description or parameter help.
pub const MAX_TEXT: usize = 1024;
pub const MAX_ALGORITHMS: usize = 32;
pub const MAX_PARAMS: usize = 64;
pub const MAX_CHOICES: usize = 64;
/// An exported model may be this large whatever the data …
pub const MODEL_BASE_BYTES: u64 = 64 << 20;
/// … plus this many times the bytes of data the host sent (ratings, and
/// the model last imported) …
pub const MODEL_PER_SENT_BYTE: u64 = 4;
/// … plus this much per user and movie of the shape sent: a rating and a
/// ranking model of 1,024 `f32` factors each (the most an algorithm of the
/// built-in modules takes), with biases. A catalogue of 62,000 movies rated
/// by few users holds few ratings but wide models.
pub const MODEL_PER_ROW_BYTES: u64 = 2 * 1024 * 4 + 64;

/// What the host has sent the module since its last `Reset`: the bounds a
/// reply must stay inside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sent {
    pub users: u32,
    pub items: u32,
    pub scale: Scale,
    pub train: u64,
    pub validation: u64,
    pub bytes: u64,
}

impl Default for Sent {
    /// Nothing sent: every index is out of range.
    fn default() -> Sent {
        Sent { users: 0, items: 0, scale: Scale { min: 0.0, max: 0.0 }, train: 0, validation: 0, bytes: 0 }
    }
}

/// `Err` says what was wrong with a reply.
pub type Rule = Result<(), String>;

/// A request whose answer the client checks before anyone uses it: the
/// rule its answer must hold, given the request and what was sent. Every
/// request has one (the client asks only `Checked` calls).
pub trait Checked: Call {
    fn check(&self, answer: &Self::Answer, sent: &Sent) -> Rule;

    /// The bytes of data this request hands the module: an exported model
    /// may grow with them (see [`model`]).
    fn sends(&self) -> u64 {
        0
    }
}

/// Requests answered by `Ok`, which carries nothing to check.
macro_rules! answered_by_ok {
    ($($call:ident $(sends |$it:ident| $bytes:expr)?;)*) => {$(
        impl Checked for call::$call {
            fn check(&self, (): &(), _: &Sent) -> Rule {
                Ok(())
            }
            $(fn sends(&self) -> u64 {
                let $it = self;
                $bytes as u64
            })?
        }
    )*};
}

answered_by_ok! {
    Reset;
    AddRatings sends |it| std::mem::size_of_val(it.ratings.as_slice());
    ImportModel sends |it| it.bytes.len();
    FoldIn;
    AddFeatures sends |it| it.items.iter().map(|f| 4 + std::mem::size_of_val(f.terms.as_slice())).sum::<usize>();
}

impl Checked for call::Hello {
    fn check(&self, h: &Hello, _: &Sent) -> Rule {
        hello(h)
    }
}

impl Checked for call::Index {
    fn check(&self, i: &Indexed, sent: &Sent) -> Rule {
        indexed(i, sent)
    }
}

impl Checked for call::TrainStart {
    fn check(&self, p: &Progress, _: &Sent) -> Rule {
        progress_start(p)
    }
}

impl Checked for call::TrainShard {
    fn check(&self, p: &Progress, _: &Sent) -> Rule {
        progress_start(p)
    }
}

/// The progress is checked as a `TrainStep`'s; a handoff is a part of a
/// model, so it may be no larger than a model may be.
impl Checked for call::ShardStep {
    fn check(&self, s: &Stepped, sent: &Sent) -> Rule {
        s.handoff.as_ref().map_or(Ok(()), |h| handoff(h.0.len(), sent))
    }
}

/// Checked against the progress before it, as a `TrainStep`'s.
impl Checked for call::ShardTake {
    fn check(&self, _: &Progress, _: &Sent) -> Rule {
        Ok(())
    }
}

/// A step's progress is checked against the progress before it, which the
/// client keeps ([`progress_step`], [`steps`]).
impl Checked for call::TrainStep {
    fn check(&self, _: &Progress, _: &Sent) -> Rule {
        Ok(())
    }
}

/// Checked against the progress before it, which the client keeps ([`progress_stop`]).
impl Checked for call::TrainStop {
    fn check(&self, _: &Progress, _: &Sent) -> Rule {
        Ok(())
    }
}

impl Checked for call::Predict {
    fn check(&self, p: &Vec<f32>, sent: &Sent) -> Rule {
        predictions(p, self.pairs.len(), sent.scale)
    }
}

impl Checked for call::Recommend {
    fn check(&self, r: &Vec<Scored>, sent: &Sent) -> Rule {
        recommendations(r, self.n, sent)
    }
}

impl Checked for call::ExportModel {
    fn check(&self, bytes: &Vec<u8>, sent: &Sent) -> Rule {
        model(bytes.len(), sent)
    }
}

impl Checked for call::Parts {
    fn check(&self, parts: &Vec<(String, f32)>, _: &Sent) -> Rule {
        self::parts(parts)
    }
}

impl Checked for call::PrepareDiversity {
    fn check(&self, r: &Readiness, sent: &Sent) -> Rule {
        rule(r.done <= r.total && r.total <= sent.users.saturating_add(Readiness::MAX_EXTRA), || {
            format!("{} of {} steps done, for {} users sent", r.done, r.total, sent.users)
        })
    }
}

impl Checked for call::Similar {
    fn check(&self, r: &Vec<(u32, f32)>, sent: &Sent) -> Rule {
        neighbours(r, self.item, self.n, sent)
    }
}

impl Checked for call::SimilarContent {
    fn check(&self, r: &Vec<(u32, f32)>, sent: &Sent) -> Rule {
        neighbours(r, self.item, self.n, sent)
    }
}

impl Checked for call::BuildContent {
    fn check(&self, c: &ContentStats, sent: &Sent) -> Rule {
        content_built(c, self.neighbours, sent)
    }
}

impl Checked for call::RecommendHybrid {
    fn check(&self, r: &Vec<HybridScored>, sent: &Sent) -> Rule {
        // Diversity orders a list by more than each movie's own score.
        hybrid(r, self.n, self.diversity == 0.0, sent)
    }
}

impl Checked for call::Explain {
    fn check(&self, e: &Explanation, sent: &Sent) -> Rule {
        explanation(e, self.item, sent)
    }
}

fn rule(holds: bool, broken: impl FnOnce() -> String) -> Rule {
    if holds { Ok(()) } else { Err(broken()) }
}

pub fn hello(h: &Hello) -> Rule {
    rule(h.engine.len() <= MAX_NAME, || format!("a name of {} bytes (at most {MAX_NAME})", h.engine.len()))?;
    rule(h.engine_version.len() <= MAX_NAME, || format!("a version of {} bytes", h.engine_version.len()))?;
    rule(h.algorithms.len() <= MAX_ALGORITHMS, || {
        format!("{} algorithms (at most {MAX_ALGORITHMS})", h.algorithms.len())
    })?;
    for (i, a) in h.algorithms.iter().enumerate() {
        let name = &a.name;
        rule(!name.is_empty() && name.len() <= MAX_NAME, || format!("an algorithm name of {} bytes", name.len()))?;
        rule(h.algorithms[..i].iter().all(|b| b.name != *name), || format!("algorithm `{name}` twice"))?;
        rule(a.description.len() <= MAX_TEXT, || format!("a description of {} bytes for {name}", a.description.len()))?;
        rule(a.params.len() <= MAX_PARAMS, || {
            format!("{} parameters for {name} (at most {MAX_PARAMS})", a.params.len())
        })?;
        for (j, p) in a.params.iter().enumerate() {
            let param = &p.name;
            rule(!param.is_empty() && param.len() <= MAX_NAME, || {
                format!("a parameter name of {} bytes", param.len())
            })?;
            rule(a.params[..j].iter().all(|q| q.name != *param), || format!("parameter `{param}` of {name} twice"))?;
            rule(p.help.len() <= MAX_TEXT, || format!("help of {} bytes for `{param}`", p.help.len()))?;
            let sane = match &p.kind {
                ParamKind::Integer { default, min, max } => min <= default && default <= max,
                ParamKind::Real { default, min, max } => {
                    [default, min, max].iter().all(|x| x.is_finite()) && min <= default && default <= max
                }
                ParamKind::Choice { default, choices } => {
                    choices.len() <= MAX_CHOICES
                        && choices.iter().all(|c| c.len() <= MAX_NAME)
                        && choices.contains(default)
                }
            };
            rule(sane, || format!("parameter `{param}` of {name} whose default is outside its own range"))?;
        }
    }
    Ok(())
}

pub fn indexed(i: &Indexed, sent: &Sent) -> Rule {
    let counts = (i.users, i.items, i.train, i.validation);
    rule(counts == (sent.users, sent.items, sent.train, sent.validation), || {
        format!(
            "{} users, {} movies, {} + {} ratings where {} users, {} movies, {} + {} ratings were sent",
            i.users, i.items, i.train, i.validation, sent.users, sent.items, sent.train, sent.validation
        )
    })?;
    rule(i.train == 0 || in_scale(i.global_mean, sent.scale), || format!("a global mean of {}", i.global_mean))
}

/// One prediction per pair, each a rating on the scale (they are clipped to it).
pub fn predictions(p: &[f32], pairs: usize, scale: Scale) -> Rule {
    rule(p.len() == pairs, || format!("{} predictions for {pairs} pairs", p.len()))?;
    match p.iter().position(|&x| !in_scale(x, scale)) {
        Some(k) => Err(format!("prediction {} for pair {k}, outside the scale {}–{}", p[k], scale.min, scale.max)),
        None => Ok(()),
    }
}

/// At most `n`, each a movie sent once, best first, with a finite score and
/// a prediction on the scale.
pub fn recommendations(r: &[Scored], n: u32, sent: &Sent) -> Rule {
    rule(r.len() <= n as usize, || format!("{} movies for a top {n}", r.len()))?;
    movies(r.iter().map(|s| s.item), sent.items)?;
    for s in r {
        rule(s.score.is_finite(), || format!("score {} for movie index {}", s.score, s.item))?;
        rule(in_scale(s.prediction, sent.scale), || {
            format!("prediction {} for movie index {}, outside the scale", s.prediction, s.item)
        })?;
    }
    rule(r.windows(2).all(|w| w[0].score >= w[1].score), || "a list that is not best first".into())
}

/// At most `n` other movies, each once, most similar first, each with a cosine.
pub fn neighbours(r: &[(u32, f32)], item: u32, n: u32, sent: &Sent) -> Rule {
    rule(r.len() <= n as usize, || format!("{} movies for {n} similar ones", r.len()))?;
    movies(r.iter().map(|s| s.0), sent.items)?;
    rule(r.iter().all(|s| s.0 != item), || format!("movie index {item} as similar to itself"))?;
    match r.iter().find(|s| !(-1.001..=1.001).contains(&s.1)) {
        Some(s) => Err(format!("similarity {} for movie index {}, not a cosine", s.1, s.0)),
        None => rule(r.windows(2).all(|w| w[0].1 >= w[1].1), || "a list that is not most similar first".into()),
    }
}

/// Named parts of a model: a handful, each name a short line of text (it is
/// shown), each weight a number.
pub fn parts(parts: &[(String, f32)]) -> Rule {
    rule(parts.len() <= MAX_ALGORITHMS, || format!("{} parts (at most {MAX_ALGORITHMS})", parts.len()))?;
    for (name, weight) in parts {
        let plain = !name.is_empty() && name.len() <= MAX_NAME && !name.chars().any(char::is_control);
        rule(plain, || format!("a part named {name:?}"))?;
        rule(weight.is_finite(), || format!("weight {weight} for part `{name}`"))?;
    }
    Ok(())
}

/// A content model of the movies sent, no larger than its neighbour lists allow.
pub fn content_built(c: &ContentStats, neighbours: u32, sent: &Sent) -> Rule {
    rule(c.items <= sent.items, || format!("a content model of {} movies for the {} sent", c.items, sent.items))?;
    let most = u64::from(c.items) * u64::from(neighbours);
    rule(c.pairs <= most, || format!("{} neighbour pairs (at most {most})", c.pairs))
}

/// A top `n` like [`recommendations`], each part and the blend in [0, 1];
/// best first `by_score` (diversity orders a list by more than that).
pub fn hybrid(r: &[HybridScored], n: u32, by_score: bool, sent: &Sent) -> Rule {
    rule(r.len() <= n as usize, || format!("{} movies for a top {n}", r.len()))?;
    movies(r.iter().map(|s| s.item), sent.items)?;
    for s in r {
        let unit = [s.score, s.cf, s.content].iter().all(|x| (0.0..=1.0001).contains(x));
        rule(unit, || {
            format!("hybrid parts {} / {} / {} for movie index {}, not in 0–1", s.score, s.cf, s.content, s.item)
        })?;
        rule(in_scale(s.prediction, sent.scale), || {
            format!("prediction {} for movie index {}, outside the scale", s.prediction, s.item)
        })?;
    }
    rule(!by_score || r.windows(2).all(|w| w[0].score >= w[1].score), || "a list that is not best first".into())
}

/// An explanation of the movie asked about, every index and share in range.
pub fn explanation(e: &Explanation, item: u32, sent: &Sent) -> Rule {
    rule(e.item == item, || format!("an explanation of movie index {} for {item}", e.item))?;
    rule(in_scale(e.prediction, sent.scale), || format!("prediction {}, outside the scale", e.prediction))?;
    decomposition(&e.stars, sent)?;
    if let Some(rank) = &e.rank {
        decomposition(rank, sent)?;
    }
    let unit = |x: f32| (0.0..=1.0001).contains(&x);
    let shares = [e.genre_match, e.cf, e.content, e.confidence];
    rule(shares.iter().all(|&x| unit(x)), || format!("shares {shares:?}, not in 0–1"))?;
    rule(e.genres.len() <= 64 && e.genres.iter().all(|g| unit(g.1)), || format!("{} genre shares", e.genres.len()))?;
    rule(e.similar_users.len() <= 100, || format!("{} similar users", e.similar_users.len()))?;
    if let Some(l) = e.lift {
        let place = |p: u32| (1..=sent.items).contains(&p);
        rule(place(l.before) && place(l.after) && l.price.is_finite() && l.price >= 0.0, || {
            format!("a diversity lift from place {} to {} at price {}", l.before, l.after, l.price)
        })?;
    }
    for &(user, rating, cosine) in &e.similar_users {
        let fine = user < sent.users && in_scale(rating, sent.scale) && (-1.001..=1.001).contains(&cosine);
        rule(fine, || format!("similar user index {user} with rating {rating} and cosine {cosine}"))?;
    }
    Ok(())
}

fn decomposition(d: &Decomposition, sent: &Sent) -> Rule {
    movies(d.contributions.iter().map(|c| c.0), sent.items)?;
    movies(d.marks.iter().map(|c| c.0), sent.items)?;
    let parts = d.contributions.iter().map(|c| &c.2).chain(d.marks.iter().map(|m| &m.2));
    let finite = [d.baseline, d.total, d.model].iter().chain(parts).all(|x| x.is_finite());
    rule(finite, || "a contribution that is not a number".into())
}

/// A `PrepareDiversity` call after `before`: it moves on or finishes, so a
/// host asking until done is never asked forever.
pub fn readiness_step(before: &Readiness, next: &Readiness) -> Rule {
    rule(next.done > before.done || next.done == next.total, || format!("no step past {} of {}", next.done, next.total))
}

/// Progress as `TrainStart` reports it: nothing done yet, counts that add up.
pub fn progress_start(p: &Progress) -> Rule {
    rule(p.epochs >= 1 && p.epoch <= p.epochs && p.visited <= p.per_epoch, || progress(p))?;
    rmse(p)
}

/// Each `TrainStep` moves training on: the same shape, the epoch never
/// going back, something visited or finished. With the host's budget of at
/// least [`MIN_BUDGET`] ratings a step, that also bounds the steps.
pub fn progress_step(before: &Progress, after: &Progress) -> Rule {
    progress_start(after)?;
    rule(after.epochs == before.epochs && after.per_epoch == before.per_epoch, || {
        format!("{} where training had been {} epochs of {} ratings", progress(after), before.epochs, before.per_epoch)
    })?;
    let moved =
        after.finished || after.epoch > before.epoch || (after.epoch == before.epoch && after.visited > before.visited);
    rule(moved, || format!("{} after {}: the step did not move training on", progress(after), progress(before)))
}

/// `TrainStop` ends the training it was sent to: the same shape, finished.
pub fn progress_stop(before: &Progress, after: &Progress) -> Rule {
    progress_start(after)?;
    rule(after.finished && after.epochs == before.epochs && after.epoch >= before.epoch, || {
        format!("{} in answer to TrainStop after {}", progress(after), progress(before))
    })
}

/// The steps an honest training of `p`'s shape can take with budgets of at
/// least `min_budget` ratings, plus slack; a training still going past it is stopped.
pub fn max_steps(p: &Progress, min_budget: u64) -> u64 {
    let per_epoch = p.per_epoch.div_ceil(min_budget.max(1)) + 1;
    u64::from(p.epochs).saturating_mul(per_epoch).saturating_add(16)
}

/// A training may take at most `most` steps (see [`max_steps`]).
pub fn steps(taken: u64, most: u64) -> Rule {
    rule(taken <= most, || {
        format!("training still unfinished after {taken} steps (an honest one needs at most {most})")
    })
}

pub fn model(len: usize, sent: &Sent) -> Rule {
    model_or("a model", len, sent)
}

/// A team member's handoff: a part of a model, no larger than a model may be.
pub fn handoff(len: usize, sent: &Sent) -> Rule {
    model_or("a handoff", len, sent)
}

fn model_or(what: &str, len: usize, sent: &Sent) -> Rule {
    let rows = u64::from(sent.users) + u64::from(sent.items);
    let cap = MODEL_BASE_BYTES
        .saturating_add(MODEL_PER_SENT_BYTE.saturating_mul(sent.bytes))
        .saturating_add(MODEL_PER_ROW_BYTES.saturating_mul(rows));
    rule(len as u64 <= cap, || {
        format!(
            "{what} of {len} bytes, over the {cap} allowed for {rows} users and movies and {} bytes of data sent",
            sent.bytes
        )
    })
}

/// Every movie index inside the catalogue sent, none twice.
fn movies(items: impl Iterator<Item = u32>, catalogue: u32) -> Rule {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        rule(item < catalogue, || format!("movie index {item}, outside the {catalogue} movies sent"))?;
        rule(seen.insert(item), || format!("movie index {item} twice"))?;
    }
    Ok(())
}

fn rmse(p: &Progress) -> Rule {
    match [p.train_rmse, p.validation_rmse].into_iter().flatten().find(|x| !(x.is_finite() && *x >= 0.0)) {
        Some(x) => Err(format!("an RMSE of {x}")),
        None => Ok(()),
    }
}

fn progress(p: &Progress) -> String {
    format!("progress epoch {} of {}, {} of {} ratings", p.epoch, p.epochs, p.visited, p.per_epoch)
}

fn in_scale(x: f32, scale: Scale) -> bool {
    x.is_finite() && x >= scale.min && x <= scale.max
}

/// The smallest `TrainStep` budget the client sends (see `client.rs`).
pub const MIN_BUDGET: u64 = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

    fn sent() -> Sent {
        Sent { users: 10, items: 20, scale: SCALE, train: 100, validation: 0, bytes: 1200 }
    }

    fn scored(item: u32, score: f32) -> Scored {
        Scored { item, score, prediction: 4.0 }
    }

    #[test]
    fn lists_name_the_movie_that_breaks_a_rule() {
        assert!(recommendations(&[scored(3, 2.0), scored(1, 1.0)], 10, &sent()).is_ok());
        let err = |r: &[Scored], n| recommendations(r, n, &sent()).unwrap_err();
        assert_eq!(err(&[scored(u32::MAX, 1.0)], 10), "movie index 4294967295, outside the 20 movies sent");
        assert_eq!(err(&[scored(3, 1.0), scored(3, 0.5)], 10), "movie index 3 twice");
        assert_eq!(err(&[scored(1, 1.0), scored(2, 0.5)], 1), "2 movies for a top 1");
        assert!(err(&[scored(1, f32::NAN)], 10).starts_with("score NaN"));
        assert!(err(&[Scored { item: 1, score: 1.0, prediction: 9.0 }], 10).contains("outside the scale"));
        assert_eq!(err(&[scored(1, 1.0), scored(2, 3.0)], 10), "a list that is not best first");
        assert!(neighbours(&[(4, 0.9), (5, 0.2)], 3, 5, &sent()).is_ok());
        assert!(neighbours(&[(3, 0.9)], 3, 5, &sent()).unwrap_err().contains("similar to itself"));
        assert!(neighbours(&[(4, 7.0)], 3, 5, &sent()).unwrap_err().contains("not a cosine"));
    }

    /// A blend's members are shown by name: no escape sequence, no NaN.
    #[test]
    fn parts_are_plain_names_with_numbers() {
        assert!(parts(&[("svdpp".into(), 0.5), ("knn".into(), 0.3)]).is_ok());
        assert!(parts(&[("\u{1b}[2Jsvd".into(), 0.5)]).unwrap_err().starts_with("a part named"));
        assert!(parts(&[(String::new(), 0.5)]).is_err());
        assert_eq!(parts(&[("svd".into(), f32::NAN)]).unwrap_err(), "weight NaN for part `svd`");
        assert!(parts(&vec![("svd".into(), 1.0); MAX_ALGORITHMS + 1]).is_err());
    }

    #[test]
    fn predictions_are_one_per_pair_and_on_the_scale() {
        assert!(predictions(&[1.0, 5.0], 2, SCALE).is_ok());
        assert_eq!(predictions(&[1.0], 2, SCALE).unwrap_err(), "1 predictions for 2 pairs");
        assert!(predictions(&[1.0, f32::INFINITY], 2, SCALE).unwrap_err().contains("for pair 1"));
    }

    fn at(epoch: u32, visited: u64) -> Progress {
        Progress {
            epoch,
            epochs: 3,
            visited,
            per_epoch: 5000,
            train_rmse: Some(0.9),
            validation_rmse: None,
            finished: false,
        }
    }

    #[test]
    fn training_must_move_on_and_stay_in_shape() {
        assert!(progress_step(&at(0, 0), &at(0, 1024)).is_ok());
        assert!(progress_step(&at(0, 4096), &at(1, 0)).is_ok());
        assert!(progress_step(&at(0, 1024), &at(0, 1024)).unwrap_err().contains("did not move training on"));
        assert!(progress_step(&at(1, 0), &at(0, 2048)).is_err(), "an epoch going back");
        let mut wild = at(1_000_000, 0);
        assert!(progress_step(&at(0, 0), &wild).is_err());
        wild = Progress { train_rmse: Some(f32::NAN), ..at(1, 0) };
        assert_eq!(progress_step(&at(0, 0), &wild).unwrap_err(), "an RMSE of NaN");
        assert_eq!(max_steps(&at(0, 0), 1024), 3 * (5 + 1) + 16);
    }

    #[test]
    fn a_hello_stays_small_and_consistent() {
        let mut h = Hello { abi_version: 2, engine: "m".into(), engine_version: "1".into(), algorithms: Vec::new() };
        assert!(hello(&h).is_ok());
        h.engine = "x".repeat(MAX_NAME + 1);
        assert!(hello(&h).unwrap_err().contains("a name of 257 bytes"));
        let model = |len: usize| model(len, &sent());
        assert!(model(1 << 20).is_ok());
        assert!(model(200 << 20).unwrap_err().contains("over the"));
        // 62,000 movies rated 200,000 times by 20,000 users: two 512-factor
        // models are 168 MB, far more than the ratings, and fit; a gigabyte does not.
        let wide = Sent { users: 20_000, items: 62_000, bytes: 2_400_000, ..sent() };
        assert!(super::model(168_266_121, &wide).is_ok());
        assert!(super::model(1 << 30, &wide).is_err());
    }
}
