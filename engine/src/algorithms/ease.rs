//! EASE, a ranking model (Steck 2019): one item-to-item weight matrix in
//! closed form, `B = I − P · diag(1 / diag P)` with `P = (XᵀX + λI)⁻¹`, so
//! that `x_u · B` rebuilds each user's row from the others. A movie's score
//! for you is the sum of the weights from the movies you rated, so a rating
//! you add counts at once and every score is exactly its parts.
//!
//! `X` weighs a rating by where it sits on the scale (`floor` for the
//! lowest, 1 for the highest), not 1 for every rating: on validation data
//! carved from the training files this ranks better than the binary
//! matrix. (A rating at the floor's 0 still keeps its movie off your list.) Only movies with at least `min_ratings` ratings are weighed
//! (the rest rank after them): the inverse costs the cube of their number
//! and its weights the square, so a catalogue above [`MAX_MOVIES`] of them
//! is refused at the start with a message that says so.
//!
//! The fit is stepped like every other: the Gram matrix a few users at a
//! time, then its inversion by sweeping (Gauss–Jordan on the upper
//! triangle of a symmetric matrix) a few rows of one pivot at a time,
//! counted in rows' worth of multiply-adds.

use std::collections::HashMap;

use cinema_protocol::{Decomposition, Mark, Role, Scale};
use serde::{Deserialize, Serialize};

use super::{Algo, Algorithm};
use crate::EngineError;
use crate::door::{Fit, RatingModel, Step};
use crate::explain::{Viewer, decomposition, with_marks};
use crate::kernels::axpy;
use crate::ratings::RatingMatrix;
use crate::topn::TopN;

/// The most movies EASE weighs: its `f32` weights take 64 MiB, the inverse
/// 4,096³ multiply-adds (seconds in the module).
pub const MAX_MOVIES: usize = 4096;

params! {
    /// λ = 150 and a floor of 0 rank best on 10 % held out of each of
    /// ML-100K u1–u5.base (NDCG@10 0.2283, against 0.2041 for the binary
    /// matrix at λ = 200) and of the latest-small seed-42 training split
    /// (0.2107 against 0.1923; the README has the commands); movies with
    /// fewer than 5 ratings score the same there weighed or not.
    pub struct EaseParams {
        reg: f32 = 150.0, 0.001..=1e7, "L2 regularization λ of the item weights";
        floor: f32 = 0.0, 0.0..=1.0, "weight of the lowest rating (the highest weighs 1; 1 = every rating alike)";
        min_ratings: u32 = 5, 1..=1_000_000, "ratings a movie needs to be weighed (the rest rank after)";
    }
}

impl Algo for EaseParams {
    const NAME: &'static str = "ease";
    const ROLE: Role = Role::Ranking;
    const DESCRIPTION: &'static str = "ranking model: item-to-item weights in closed form (EASE), orders the lists";

    fn epochs(&self) -> u32 {
        1
    }

    fn start(self, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        let kept = self.weighed(data);
        if kept.len() > MAX_MOVIES {
            return Err(EngineError::BadArgument(format!(
                "ease weighs {MAX_MOVIES} movies at most (a {MAX_MOVIES} × {MAX_MOVIES} matrix); {} movies here \
                 have {} ratings or more: raise min_ratings or rank with ials",
                kept.len(),
                self.min_ratings
            )));
        }
        let mut slot = vec![NONE; data.items as usize];
        for (k, &i) in kept.iter().enumerate() {
            slot[i as usize] = k as u32;
        }
        let model = Ease {
            spec: Algorithm::Ease(self),
            scale,
            items: data.items,
            rows: (0..data.users as usize)
                .map(|u| {
                    let (items, values) = data.by_user.row(u);
                    items.iter().zip(values).map(|(&i, &r)| (i, r)).collect()
                })
                .collect(),
            popularity: (0..data.items as usize).map(|i| data.by_item.row_len(i) as f32).collect(),
            kept,
            slot,
            weights: Vec::new(),
            marks: HashMap::new(),
        };
        let n = model.kept.len();
        let mut gram = vec![0.0; n * n];
        (0..n).for_each(|j| gram[j * n + j] = self.reg);
        Ok(Box::new(Fitting { gram, model, user: 0, block: 0, row: 0, before: Vec::new(), scaled: Vec::new(), inverse: Vec::new(), columns: Vec::new(), carry: 0 }))
    }

    fn decode(bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        let model: Ease = postcard::from_bytes(bytes).map_err(|e| EngineError::BadModel(format!("{e}")))?;
        model.validate()?;
        Ok(Box::new(model))
    }
}

impl EaseParams {
    /// The movies EASE weighs on `data`, ascending: those with at least
    /// `min_ratings` ratings.
    pub fn weighed(&self, data: &RatingMatrix) -> Vec<u32> {
        (0..data.items).filter(|&i| data.by_item.row_len(i as usize) >= self.min_ratings as usize).collect()
    }
}

/// `slot` of a movie that is not weighed.
const NONE: u32 = u32::MAX;

/// A trained EASE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ease {
    spec: Algorithm,
    scale: Scale,
    items: u32,
    /// Each user's ratings by movie (their fold-in once folded).
    rows: Vec<Vec<(u32, f32)>>,
    /// Raters per movie: how a viewer with no ratings is ranked (what most
    /// people watch).
    popularity: Vec<f32>,
    /// The weighed movies, ascending, and each movie's place among them.
    kept: Vec<u32>,
    slot: Vec<u32>,
    /// `B` over the weighed movies, row-major: row j holds what rating j
    /// adds to every other movie's score; zero diagonal.
    weights: Vec<f32>,
    /// The marks of users folded in with them: fold-in state, not saved.
    #[serde(skip)]
    marks: HashMap<u32, Vec<(u32, Mark)>>,
}

impl Ease {
    fn params(&self) -> EaseParams {
        match self.spec {
            Algorithm::Ease(p) => p,
            _ => unreachable!("an Ease model is made and decoded with its own parameters"),
        }
    }

    /// What a rating of `r` stars puts in `X`.
    fn evidence(&self, r: f32) -> f32 {
        let floor = self.params().floor;
        let position = ((r - self.scale.min) / (self.scale.max - self.scale.min)).clamp(0.0, 1.0);
        floor + (1.0 - floor) * position
    }

    /// What a mark puts in `X`: a movie seen, a middle rating's evidence; a
    /// hidden one, the opposite of a top rating's.
    fn mark_evidence(&self, mark: Mark) -> f32 {
        match mark {
            Mark::Seen => self.evidence((self.scale.min + self.scale.max) / 2.0),
            Mark::Hidden => -self.evidence(self.scale.max),
        }
    }

    /// The viewer's row of `X` over the weighed movies, `(place, value)`,
    /// and whether anything in it is positive (a rating or a movie seen).
    fn inputs(&self, u: u32) -> (Vec<(usize, f32)>, bool) {
        let ratings = self.rows[u as usize].iter().map(|&(i, r)| (i, self.evidence(r), true));
        let marks = self.marks.get(&u).into_iter().flatten();
        let marks = marks.map(|&(i, m)| (i, self.mark_evidence(m), m == Mark::Seen));
        let (mut row, mut positive) = (Vec::new(), false);
        for (i, value, counts) in ratings.chain(marks) {
            if let Some(k) = self.place(i) {
                row.push((k, value));
                positive |= counts;
            }
        }
        (row, positive)
    }

    /// A movie's place among the weighed, if it is weighed.
    fn place(&self, i: u32) -> Option<usize> {
        Some(self.slot[i as usize]).filter(|&k| k != NONE).map(|k| k as usize)
    }

    /// Whether the weights are whole (a model mid-fit has none yet).
    fn weighs(&self) -> bool {
        self.weights.len() == self.kept.len() * self.kept.len()
    }

    fn weight_row(&self, k: usize) -> &[f32] {
        let n = self.kept.len();
        &self.weights[k * n..(k + 1) * n]
    }

    fn validate(&self) -> Result<(), EngineError> {
        let bad = |why: &str| Err(EngineError::BadModel(format!("ease: {why}")));
        let n = self.kept.len();
        if !matches!(self.spec, Algorithm::Ease(_)) {
            return bad("the parameters are another algorithm's");
        }
        if n > MAX_MOVIES || self.weights.len() != n * n || self.slot.len() != self.items as usize {
            return bad("the weights do not fit the movies");
        }
        if self.popularity.len() != self.items as usize || !self.kept.windows(2).all(|w| w[0] < w[1]) {
            return bad("the movie lists are malformed");
        }
        let placed = self.kept.iter().enumerate().all(|(k, &i)| self.slot.get(i as usize) == Some(&(k as u32)));
        if !placed || self.slot.iter().filter(|&&s| s != NONE).count() != n {
            return bad("the movie places disagree");
        }
        let row_ok = |row: &Vec<(u32, f32)>| row.iter().all(|&(i, r)| i < self.items && r.is_finite());
        let finite = self.weights.iter().chain(&self.popularity).all(|x| x.is_finite());
        if !finite || !self.rows.iter().all(row_ok) {
            return bad("a weight or rating is out of range or not a number");
        }
        Ok(())
    }
}

impl RatingModel for Ease {
    fn algorithm(&self) -> Algorithm {
        self.spec.clone()
    }

    fn scale(&self) -> Scale {
        self.scale
    }

    fn users(&self) -> u32 {
        self.rows.len() as u32
    }

    fn items(&self) -> u32 {
        self.items
    }

    fn score(&self, u: u32, i: u32) -> f32 {
        self.scores(u)[i as usize]
    }

    /// The weighed movies by `x_u · B`, then the others below every one of
    /// them; by popularity for a viewer with no weighed rating or movie seen.
    fn scores(&self, u: u32) -> Vec<f32> {
        let (row, positive) = self.inputs(u);
        if !self.weighs() || !positive {
            return self.popularity.clone();
        }
        let mut weighed = vec![0f32; self.kept.len()];
        for (k, value) in row {
            axpy(&mut weighed, value, self.weight_row(k));
        }
        let below = weighed.iter().copied().fold(f32::INFINITY, f32::min).min(0.0) - 1.0;
        let mut scores = vec![below; self.items as usize];
        for (&i, s) in self.kept.iter().zip(weighed) {
            scores[i as usize] = s;
        }
        scores
    }

    fn fold_in(&mut self, u: u32, ratings: &[(u32, f32)]) {
        self.fold_in_marked(u, ratings, &[]);
    }

    fn fold_in_marked(&mut self, u: u32, ratings: &[(u32, f32)], marks: &[(u32, Mark)]) {
        self.rows[u as usize] = ratings.to_vec();
        match marks.is_empty() {
            true => self.marks.remove(&u),
            false => self.marks.insert(u, marks.to_vec()),
        };
    }

    /// Exact for a weighed movie: each rated or marked movie's evidence
    /// times its weight.
    fn explain(&self, viewer: &Viewer, item: u32) -> Decomposition {
        let model = self.score(viewer.user, item);
        let Some(j) = self.place(item).filter(|_| self.weighs() && self.inputs(viewer.user).1) else {
            // With nothing positive weighed the list is by popularity: no parts make it.
            return decomposition(0.0, Vec::new(), model, false);
        };
        let weight = |i: u32| Some(self.weight_row(self.place(i)?)[j]);
        let parts = viewer.ratings.iter().filter_map(|&(i, r)| Some((i, r, self.evidence(r) * weight(i)?)));
        let marks = viewer.marks.iter().filter_map(|&(i, m)| Some((i, m, self.mark_evidence(m) * weight(i)?)));
        with_marks(decomposition(0.0, parts.collect(), model, true), marks.collect())
    }

    /// The movies a rating of `item` raises most, each weight as a share
    /// of the largest (a similarity in (0, 1], as the wire wants).
    fn neighbours(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        let k = self.place(item).filter(|_| self.weighs())?;
        let mut top = TopN::new(n);
        for (w, &j) in self.weight_row(k).iter().zip(&self.kept) {
            if j != item && *w > 0.0 {
                top.push(j, *w);
            }
        }
        let top = top.into_sorted();
        let largest = top.first().map_or(1.0, |t| t.1);
        Some(top.into_iter().map(|(j, w)| (j, w / largest)).collect())
    }

    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model always encodes")
    }
}

/// Pivots swept together, in one pass over the matrix: the pass is what
/// costs (the matrix is far larger than the caches), so a block of them
/// reads it once where single pivots would read it once each.
const BLOCK: usize = 8;

struct Fitting {
    model: Ease,
    /// `XᵀX + λI` over the weighed movies, swept in place. Only the upper
    /// triangle (column ≥ row) is kept up to date: the matrix is
    /// symmetric, so the sweep reads nothing else and does half the work
    /// of a full Gauss–Jordan inversion.
    gram: Vec<f32>,
    /// The next user to add to the Gram matrix, then the first pivot of
    /// the block being swept and the next row of its pass.
    user: usize,
    block: usize,
    row: usize,
    /// The block's pivot rows as they were (`b × n`), `D` times them, and
    /// `D`, the inverse of the block's `b × b` corner.
    before: Vec<f32>,
    scaled: Vec<f32>,
    inverse: Vec<f32>,
    /// The next block's columns above their diagonal (`BLOCK × n`),
    /// gathered as this block's pass goes by them: reading them at the
    /// block's start would stride through the matrix a page a value.
    columns: Vec<f32>,
    /// Multiply-adds done short of a whole unit (a row's n), for the next step.
    carry: u64,
}

impl Fitting {
    /// A user's multiply-adds in the Gram matrix's upper triangle.
    fn gram_work(&self, u: usize) -> u64 {
        let k = self.weighed(u).count() as u64;
        k * (k + 1) / 2
    }

    /// The sweep's multiply-adds: per block of b pivots, gathering and
    /// scaling their rows (b·n + b²·n), then b for each entry of every
    /// other row's upper part.
    fn sweep_work(&self) -> u64 {
        let n = self.model.kept.len() as u64;
        let mut work = 0;
        let mut k0 = 0;
        while k0 < n {
            let b = (BLOCK as u64).min(n - k0);
            let block_rows: u64 = (k0..k0 + b).map(|k| n - k).sum();
            work += b * n + b * b * n + b * (n * (n + 1) / 2 - block_rows);
            k0 += b;
        }
        work
    }

    /// A user's weighed ratings: (place, evidence).
    fn weighed(&self, u: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let m = &self.model;
        m.rows[u].iter().filter_map(|&(i, r)| Some((m.place(i)?, m.evidence(r))))
    }

    fn add_user(&mut self, u: usize) {
        let n = self.model.kept.len();
        let mut row: Vec<(usize, f32)> = self.weighed(u).collect();
        row.sort_unstable_by_key(|w| w.0);
        for (at, &(a, x)) in row.iter().enumerate() {
            let g = &mut self.gram[a * n..(a + 1) * n];
            for &(b, y) in &row[at..] {
                g[b] += x * y;
            }
        }
    }

    /// One row of the current block's sweep; its multiply-adds. Sweeping
    /// (Goodnight's operator; no pivoting is needed, `XᵀX + λI` is
    /// positive definite) a block K with `D = A_KK⁻¹` sets `A_KK ← −D`,
    /// `A_KR ← D·A_KR`, `A_RK ← A_RK·D` and `A_RR ← A_RR − A_RK·D·A_KR`;
    /// every block swept leaves `−(XᵀX + λI)⁻¹`.
    fn sweep(&mut self) -> u64 {
        let n = self.model.kept.len();
        let (k0, r) = (self.block, self.row);
        let b = BLOCK.min(n - k0);
        let mut work = 0;
        if r == 0 {
            work += self.start_block(n, k0, b);
        }
        if !(k0..k0 + b).contains(&r) {
            let c: Vec<f32> = (0..b).map(|t| self.before[t * n + r]).collect();
            let segment = &mut self.gram[r * n + r..(r + 1) * n];
            for (t, &c) in c.iter().enumerate() {
                axpy(segment, -c, &self.scaled[t * n + r..(t + 1) * n]);
            }
            if r < k0 {
                for s in 0..b {
                    self.gram[r * n + k0 + s] = (0..b).map(|t| c[t] * self.inverse[t * b + s]).sum();
                }
            }
            for (t, k) in (k0 + b..(k0 + b + BLOCK).min(n)).enumerate() {
                if r < k {
                    self.columns[t * n + r] = self.gram[r * n + k];
                }
            }
            work += (b * (n - r)) as u64;
        }
        self.row += 1;
        if self.row == n {
            (self.row, self.block) = (0, k0 + b);
        }
        work
    }

    /// Gathers the block's pivot rows, inverts its corner, scales the rows
    /// by it and writes them back; its multiply-adds.
    fn start_block(&mut self, n: usize, k0: usize, b: usize) -> u64 {
        let columns = std::mem::replace(&mut self.columns, vec![0.0; BLOCK * n]);
        self.before = vec![0.0; b * n];
        for t in 0..b {
            let k = k0 + t;
            let row = &mut self.before[t * n..(t + 1) * n];
            if k0 > 0 {
                row[..k0].copy_from_slice(&columns[t * n..t * n + k0]);
            }
            (k0..k).for_each(|j| row[j] = self.gram[j * n + k]);
            row[k..].copy_from_slice(&self.gram[k * n + k..(k + 1) * n]);
        }
        let corner: Vec<f64> =
            (0..b * b).map(|x| f64::from(self.before[(x / b) * n + k0 + x % b])).collect();
        self.inverse = invert(corner, b).into_iter().map(|x| x as f32).collect();
        self.scaled = vec![0.0; b * n];
        for t in 0..b {
            for s in 0..b {
                let d = self.inverse[t * b + s];
                axpy(&mut self.scaled[t * n..(t + 1) * n], d, &self.before[s * n..(s + 1) * n]);
            }
        }
        for t in 0..b {
            let k = k0 + t;
            for j in k..n {
                let swept = if j < k0 + b { -self.inverse[t * b + j - k0] } else { self.scaled[t * n + j] };
                self.gram[k * n + j] = swept;
            }
            for (t2, k2) in (k0 + b..(k0 + b + BLOCK).min(n)).enumerate() {
                self.columns[t2 * n + k] = self.gram[k * n + k2];
            }
        }
        (b * n + b * b * n) as u64
    }

    /// `B = −P / diag P` by column, zero diagonal, from the swept matrix
    /// (`−P`, upper triangle).
    fn weights(&mut self) -> Vec<f32> {
        let n = self.model.kept.len();
        let mut b = std::mem::take(&mut self.gram);
        for r in 0..n {
            for j in 0..r {
                b[r * n + j] = b[j * n + r];
            }
        }
        let diagonal: Vec<f32> = (0..n).map(|j| b[j * n + j]).collect();
        for (r, row) in b.chunks_mut(n.max(1)).enumerate() {
            for (j, w) in row.iter_mut().enumerate() {
                *w = if r == j { 0.0 } else { -*w / diagonal[j] };
            }
        }
        b
    }
}

impl Fit for Fitting {
    fn step(&mut self, _data: &RatingMatrix, budget: u64) -> Step {
        let n = self.model.kept.len();
        let users = self.model.rows.len();
        let unit = n.max(1) as u64;
        let mut done_work = self.carry;
        let wanted = budget.max(1).saturating_mul(unit);
        while done_work < wanted && self.user < users {
            done_work += self.gram_work(self.user);
            self.add_user(self.user);
            self.user += 1;
        }
        while done_work < wanted && self.block < n {
            done_work += self.sweep();
        }
        let done = self.user == users && self.block == n;
        if done && self.model.weights.len() != n * n {
            self.model.weights = self.weights();
        }
        self.carry = done_work % unit;
        Step { work: done_work / unit, epoch_done: done, squared_error: None }
    }

    /// In rows of the matrix (n multiply-adds): the Gram matrix's, then the sweep's.
    fn per_epoch(&self, _data: &RatingMatrix) -> u64 {
        let macs = (0..self.model.rows.len()).map(|u| self.gram_work(u)).sum::<u64>() + self.sweep_work();
        macs / self.model.kept.len().max(1) as u64
    }

    fn unit_cost(&self) -> u64 {
        self.model.kept.len().max(1) as u64
    }

    fn model(&self) -> &dyn RatingModel {
        &self.model
    }

    fn model_mut(&mut self) -> &mut dyn RatingModel {
        &mut self.model
    }

    fn finish(self: Box<Self>) -> Box<dyn RatingModel> {
        let mut model = self.model;
        if model.weights.len() != model.kept.len() * model.kept.len() {
            // Stopped before the inverse was whole: there are no weights to
            // rank by, so every list is the most watched.
            model.kept.clear();
            model.slot.fill(NONE);
        }
        Box::new(model)
    }
}

/// The inverse of a small positive definite `b × b` matrix, by
/// Gauss–Jordan in `f64`.
fn invert(mut a: Vec<f64>, b: usize) -> Vec<f64> {
    let mut inverse: Vec<f64> = (0..b * b).map(|x| f64::from(u8::from(x / b == x % b))).collect();
    for k in 0..b {
        let p = a[k * b + k];
        for j in 0..b {
            a[k * b + j] /= p;
            inverse[k * b + j] /= p;
        }
        for r in (0..b).filter(|&r| r != k) {
            let f = a[r * b + k];
            for j in 0..b {
                a[r * b + j] -= f * a[k * b + j];
                inverse[r * b + j] -= f * inverse[k * b + j];
            }
        }
    }
    inverse
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Training;
    use crate::train::tests::{SCALE, three_by_three};

    fn trained(p: EaseParams) -> Box<dyn RatingModel> {
        trained_on(&three_by_three(), p, 1)
    }

    fn trained_on(data: &RatingMatrix, p: EaseParams, budget: u64) -> Box<dyn RatingModel> {
        let mut t = Training::start(Algorithm::Ease(p), data, SCALE).unwrap();
        while !t.step(data, &[], budget).finished {}
        t.finish().unwrap()
    }

    fn params() -> EaseParams {
        EaseParams { reg: 1.0, floor: 1.0, min_ratings: 1 }
    }

    /// The stepped sweep's weights satisfy the closed form: with
    /// `G = XᵀX + λI` and `B = I − P·diag(1/diag P)`, `G(I − B)` is
    /// diagonal (`G P D⁻¹ = D⁻¹`), and B's diagonal is zero — on 3 movies,
    /// and on 24 (one in three pairs rated) swept in steps of any size.
    #[test]
    fn the_weights_solve_the_closed_form() {
        let some: Vec<(u32, u32, f32)> =
            (0..40u32).flat_map(|u| (0..24u32).filter(move |i| (u * 7 + i * 5) % 3 == 0).map(move |i| (u, i, 3.0))).collect();
        for (data, budget) in [(three_by_three(), 1), (RatingMatrix::new(40, 24, &some), 1), (RatingMatrix::new(40, 24, &some), 7)] {
            let model = trained_on(&data, params(), budget);
            let m: Ease = postcard::from_bytes(&model.encode()).unwrap();
            let n = m.kept.len();
            assert_eq!(n, data.items as usize);
            let mut g = vec![0f32; n * n];
            for u in 0..data.users as usize {
                let (items, _) = data.by_user.row(u);
                for &a in items {
                    for &b in items {
                        g[a as usize * n + b as usize] += 1.0;
                    }
                }
            }
            (0..n).for_each(|j| g[j * n + j] += 1.0);
            for r in 0..n {
                for c in 0..n {
                    let i_minus_b: Vec<f32> = (0..n).map(|k| f32::from(k == c) - m.weights[k * n + c]).collect();
                    let value: f32 = (0..n).map(|k| g[r * n + k] * i_minus_b[k]).sum();
                    if r != c {
                        assert!(value.abs() < 1e-4, "G(I − B) at ({r}, {c}) = {value} of {n}");
                    }
                }
                assert_eq!(m.weights[r * n + r], 0.0);
            }
        }
    }

    /// A score is the sum of the parts the explanation lists; a fold-in
    /// counts at once; bytes round-trip and a broken shape is refused.
    #[test]
    fn scores_are_their_parts_and_fold_in_counts_at_once() {
        let mut model = trained(EaseParams { floor: 0.2, ..params() });
        model.fold_in(1, &[(0, 5.0), (1, 1.0)]);
        let ratings = [(0, 5.0), (1, 1.0)];
        let d = model.explain(&Viewer { user: 1, ratings: &ratings, marks: &[], folded: true }, 2);
        assert!(d.exact && (d.total - model.score(1, 2)).abs() < 1e-6, "{d:?}");
        let back = EaseParams::decode(&model.encode()).unwrap();
        assert_eq!(back.scores(1), model.scores(1));
        let mut broken: Ease = postcard::from_bytes(&model.encode()).unwrap();
        broken.weights.pop();
        assert!(EaseParams::decode(&postcard::to_stdvec(&broken).unwrap()).is_err());
    }

    /// Movies under `min_ratings` rank after every weighed one; a viewer
    /// with no ratings gets the most-rated first.
    #[test]
    fn unweighed_movies_rank_last_and_no_ratings_rank_by_popularity() {
        let data = three_by_three();
        let most = (0..3).max_by_key(|&i| data.by_item.row_len(i)).unwrap();
        let mut model = trained(params());
        model.fold_in(0, &[]);
        let row = model.scores(0);
        assert!((0..3).all(|i| row[most] >= row[i]), "{row:?}");
        let fewest = (0..3).map(|i| data.by_item.row_len(i)).min().unwrap() as u32;
        let model = trained(EaseParams { min_ratings: fewest + 1, ..params() });
        let row = model.scores(0);
        let (weighed, not): (Vec<usize>, Vec<usize>) =
            (0..3).partition(|&i| data.by_item.row_len(i) as u32 > fewest);
        assert!(weighed.iter().all(|&w| not.iter().all(|&o| row[w] > row[o])), "{row:?}");
    }

    /// A fit stopped before its inverse is whole ranks by popularity, and
    /// what it saves loads.
    #[test]
    fn a_fit_stopped_early_ranks_by_popularity_and_saves() {
        let data = three_by_three();
        let mut t = Training::start(Algorithm::Ease(params()), &data, SCALE).unwrap();
        t.step(&data, &[], 1);
        let model = t.finish().unwrap();
        let popularity: Vec<f32> = (0..3).map(|i| data.by_item.row_len(i) as f32).collect();
        assert_eq!(model.scores(0), popularity);
        assert!(model.neighbours(0, 2).is_none());
        assert_eq!(EaseParams::decode(&model.encode()).unwrap().scores(1), popularity);
    }

    #[test]
    fn a_catalogue_above_the_bound_is_refused_naming_it() {
        let many: Vec<(u32, u32, f32)> = (0..MAX_MOVIES as u32 + 1).map(|i| (0, i, 4.0)).collect();
        let data = RatingMatrix::new(1, MAX_MOVIES as u32 + 1, &many);
        let Err(EngineError::BadArgument(m)) = Training::start(Algorithm::Ease(params()), &data, SCALE) else {
            panic!("refused")
        };
        assert!(m.contains("4096 movies at most") && m.contains("min_ratings"), "{m}");
    }
}
