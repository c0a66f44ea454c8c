//! Exact top-N over a large catalogue, fast. Ranking reads every item's
//! factor row, so on 62,000 movies × 200 factors a plain f32 scan moves
//! 50 MB per request and waits on memory. [`ItemIndex`] keeps the item
//! factors a second time as 8-bit codes (a quarter of the bytes: it stays in
//! cache) and scans them with integer dot products. Every approximate score
//! comes with a proven error bound, and only the items whose upper bound
//! reaches the n-th best lower bound are rescored in f32 — so the result is
//! exactly what [`Model::recommend`] returns, at a fraction of the cost.

#[cfg(test)]
use crate::kernels::dot_codes;
use crate::kernels::{Encoded, dot_codes_rows, encode_i8, encode_i16, max_abs};
use crate::model::Model;
use crate::topn::TopN;
use cinema_protocol::Scored;

/// Codes are padded to a multiple of this, so the kernel has no tail.
pub const CODE_BLOCK: usize = 16;
/// Largest user code: with item codes in ±127 and at most 1024 factors,
/// 1024 · 127 · 16383 < 2³¹, so the integer dot product cannot overflow.
const USER_CODE_MAX: f32 = 16383.0;
const ITEM_CODE_MAX: f32 = 127.0;
/// Covers the f32 rounding in adding up the scores and bounds (scores live
/// on a rating scale, where this is far below any difference that matters).
const SLACK: f32 = 1e-4;

/// The item factors as `scale · code`, with what the rounding cost.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemIndex {
    factors: usize,
    stride: usize,
    codes: Vec<i8>,
    scale: Vec<f32>,
    /// Per item: the largest |q − scale·code| over its factors.
    max_error: Vec<f32>,
    /// Per item: Σ |scale·code|.
    code_l1: Vec<f32>,
}

impl ItemIndex {
    pub fn build(model: &Model) -> ItemIndex {
        let k = model.factors();
        let stride = k.div_ceil(CODE_BLOCK) * CODE_BLOCK;
        let items = model.items() as usize;
        let mut index = ItemIndex {
            factors: k,
            stride,
            codes: vec![0; items * stride],
            scale: vec![0.0; items],
            max_error: vec![0.0; items],
            code_l1: vec![0.0; items],
        };
        for i in 0..items {
            let codes = &mut index.codes[i * stride..i * stride + k];
            let q = quantize(model.item_row(i as u32), ITEM_CODE_MAX, codes, encode_i8);
            (index.scale[i], index.max_error[i], index.code_l1[i]) = (q.scale, q.max_error, q.code_l1);
        }
        index
    }

    /// Whether this index was built for `model`'s shape.
    pub fn fits(&self, model: &Model) -> bool {
        self.factors == model.factors() && self.scale.len() == model.items() as usize
    }

    /// The same as `model.recommend(u, n, |i| !excluded.contains(&i))`, bit
    /// for bit. `excluded` may come in any order and hold repeats.
    ///
    /// Every pass but the rescoring is a straight sweep over arrays with no
    /// per-item call or branch, so it vectorizes; the excluded movies (the
    /// user's few hundred) are struck out afterwards by index.
    pub fn recommend(&self, model: &Model, u: u32, n: usize, excluded: &[u32]) -> Vec<Scored> {
        debug_assert!(self.fits(model));
        let base = model.global_mean + model.user_bias[u as usize];
        let pu = model.user_row(u);
        let mut user_codes = vec![0i16; self.stride];
        let user = quantize(pu, USER_CODE_MAX, &mut user_codes[..self.factors], encode_i16);
        let (user_scale, user_error, user_max) = (user.scale, user.max_error, user.largest);
        let user_l1: f32 = pu.iter().map(|x| x.abs()).sum();
        // |p·q − approx| ≤ ‖p‖₁·max|q − q̂| + max|p − p̂|·‖q̂‖₁, and the f32 dot
        // product being matched is itself off by at most
        // rounding·Σ|p_f q_f| ≤ rounding·max|p|·(‖q̂‖₁ + k·max|q − q̂|).
        let rounding = 2.0 * (self.factors as f32 + 2.0) * f32::EPSILON;
        let per_max_error = user_l1 + rounding * user_max * self.factors as f32;
        let per_code_l1 = user_error + rounding * user_max;

        // Pass 1: every item's integer dot product with the user's codes…
        let mut sums = vec![0i32; self.scale.len()];
        dot_codes_rows(&self.codes, &user_codes, &mut sums);
        // …then its score's interval [lower, upper]…
        let items = sums.len();
        let (mut lower, mut upper) = (vec![0f32; items], vec![0f32; items]);
        let terms = sums.iter().zip(&model.item_bias[..items]).zip(&self.scale);
        let errors = self.max_error.iter().zip(&self.code_l1);
        for (((lo, up), ((&sum, &bias), &scale)), (&err, &l1)) in
            lower.iter_mut().zip(upper.iter_mut()).zip(terms).zip(errors)
        {
            let approx = base + bias + user_scale * scale * sum as f32;
            let bound = per_max_error * err + per_code_l1 * l1 + SLACK;
            (*lo, *up) = (approx - bound, approx + bound);
        }
        for &i in excluded {
            if let Some((lo, up)) = lower.get_mut(i as usize).zip(upper.get_mut(i as usize)) {
                (*lo, *up) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
            }
        }
        // …and the n-th best lower bound. Items come in increasing order, so
        // one that merely ties the current n-th best never displaces it and
        // `lower > worst` is the whole test (struck-out items never pass).
        let mut lowest = TopN::new(n);
        let mut worst = f32::NEG_INFINITY;
        for (i, &lo) in (0u32..).zip(&lower) {
            if lo > worst {
                lowest.push(i, lo);
                if lowest.is_full() {
                    worst = lowest.worst().unwrap_or(f32::NEG_INFINITY);
                }
            }
        }
        let threshold = if lowest.is_full() { worst } else { f32::NEG_INFINITY };

        // Pass 2: only items that could still make the top n, in f32.
        let mut top = TopN::new(n);
        for (i, &up) in (0u32..).zip(&upper) {
            if up >= threshold && up > f32::NEG_INFINITY {
                top.push(i, model.score_with(base, pu, i));
            }
        }
        model.scored(top)
    }
}

/// A row written as `scale · code`, and what that cost.
struct Quantized {
    scale: f32,
    /// The largest |value|, which maps to the largest code.
    largest: f32,
    /// The largest |value − scale·code|, measured (not assumed to be scale/2).
    max_error: f32,
    /// Σ |scale·code|.
    code_l1: f32,
}

/// Writes `row / scale` rounded into `codes` (by `encode`, a kernel), with
/// `scale` chosen so the largest |value| maps to `code_max`.
fn quantize<C: Default>(
    row: &[f32],
    code_max: f32,
    codes: &mut [C],
    encode: impl Fn(&[f32], f32, f32, f32, &mut [C]) -> Encoded,
) -> Quantized {
    let largest = max_abs(row);
    let mut q = Quantized { scale: largest / code_max, largest, max_error: 0.0, code_l1: 0.0 };
    if largest == 0.0 {
        codes.iter_mut().for_each(|c| *c = C::default());
        return q;
    }
    let e = encode(row, q.scale, code_max / largest, code_max, codes);
    (q.max_error, q.code_l1) = (e.max_error, e.code_l1);
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::Algorithm;
    use cinema_protocol::Scale;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn random_model(users: u32, items: u32, k: usize, seed: u64) -> Model {
        let mut rng = StdRng::seed_from_u64(seed);
        let spec = Algorithm::Svd(crate::defaults::svd());
        let mut m = Model::empty(spec, Scale { min: 1.0, max: 5.0 }, users, items, k, 3.5);
        m.user_factors.iter_mut().for_each(|x| *x = rng.random_range(-0.6..0.6));
        m.item_factors.iter_mut().for_each(|x| *x = rng.random_range(-0.6..0.6));
        m.user_bias.iter_mut().for_each(|x| *x = rng.random_range(-0.5..0.5));
        m.item_bias.iter_mut().for_each(|x| *x = rng.random_range(-0.8..0.8));
        m
    }

    /// The items `keep` refuses, shuffled and with a repeat: order must not matter.
    fn excluded_by(m: &Model, keep: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut excluded: Vec<u32> = (0..m.items()).rev().filter(|&i| !keep(i)).collect();
        excluded.extend(excluded.first().copied());
        excluded
    }

    #[test]
    fn the_index_returns_exactly_the_full_scan() {
        for (k, seed) in [(1, 1), (7, 2), (16, 3), (100, 4), (200, 5), (33, 6)] {
            let m = random_model(20, 3000, k, seed);
            let index = ItemIndex::build(&m);
            for u in 0..20 {
                for n in [1, 10, 50] {
                    let keep = |i: u32| !(i + u).is_multiple_of(7);
                    let excluded = excluded_by(&m, keep);
                    assert_eq!(index.recommend(&m, u, n, &excluded), m.recommend(u, n, keep), "k={k} u={u} n={n}");
                }
            }
        }
    }

    #[test]
    fn ties_zero_vectors_and_few_candidates_agree_too() {
        let mut m = random_model(3, 500, 24, 9);
        // Identical rows give exactly tied scores: order falls back to the index.
        for i in 100..140 {
            let row = m.item_factors.row(7).to_owned();
            m.item_factors.row_mut(i).assign(&row);
            m.item_bias[i] = m.item_bias[7];
        }
        m.user_factors.row_mut(2).fill(0.0);
        let index = ItemIndex::build(&m);
        for u in 0..3 {
            for keep in [|_| true, |i| i < 4, |_| false] as [fn(u32) -> bool; 3] {
                assert_eq!(index.recommend(&m, u, 10, &excluded_by(&m, keep)), m.recommend(u, 10, keep));
            }
        }
    }

    #[test]
    fn approximate_scores_are_close_to_the_exact_ones() {
        let m = random_model(1, 20_000, 100, 11);
        let index = ItemIndex::build(&m);
        let base = m.global_mean + m.user_bias[0];
        let mut user_codes = vec![0i16; index.stride];
        let user_scale = quantize(m.user_row(0), USER_CODE_MAX, &mut user_codes[..100], encode_i16).scale;
        for i in (0..20_000u32).step_by(97) {
            let at = i as usize;
            let codes = &index.codes[at * index.stride..(at + 1) * index.stride];
            let approx = base + m.item_bias[at] + user_scale * index.scale[at] * dot_codes(codes, &user_codes) as f32;
            let exact = m.score_with(base, m.user_row(0), i);
            assert!((approx - exact).abs() < 0.05, "item {i}: {approx} vs {exact}");
        }
    }
}
