//! The inner loops. Natively they are written so LLVM vectorizes them:
//! eight independent accumulators break the sum's dependency chain, which
//! float semantics would otherwise forbid the compiler to reorder. LLVM does
//! not vectorize them for wasm, so there they use `simd128` intrinsics with
//! the same lane layout — the two builds compute bit-identical results.

/// The dot products' lane layout, shared by both builds so they agree to
/// the bit: eight running sums over chunks of eight; a last half chunk of
/// four adds into lanes 0–3; fewer than four left over are summed in order.
const LANES: usize = 8;
const HALF: usize = 4;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use wasm::{
    axpy, axpy4, dot, dot_codes, dot_codes_rows, dot4, encode_i8, gram_tile, max_abs, sgd_pair, sgd_pair_dot,
};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use portable::{
    axpy, axpy4, dot, dot_codes, dot_codes_rows, dot4, encode_i8, gram_tile, max_abs, sgd_pair, sgd_pair_dot,
};

/// `y += a·x` one float at a time: element-wise, so any grouping of the
/// floats into vectors gives the same bits.
#[inline]
fn axpy_scalar(y: &mut [f32], a: f32, x: &[f32]) {
    for (yf, &xf) in y.iter_mut().zip(x) {
        *yf += a * xf;
    }
}

/// `y += a₀·x₀ + a₁·x₁ + a₂·x₂ + a₃·x₃` one float at a time, added in
/// that order: four `axpy` calls in a row give the same bits.
#[inline]
fn axpy4_scalar(y: &mut [f32], a: [f32; 4], x: [&[f32]; 4]) {
    let x = x.map(|r| &r[..y.len()]);
    for (f, yf) in y.iter_mut().enumerate() {
        *yf = (((*yf + a[0] * x[0][f]) + a[1] * x[1][f]) + a[2] * x[2][f]) + a[3] * x[3][f];
    }
}

/// A tile of a Gram matrix: four of its rows by eight of its columns.
pub type Tile = [[f32; 8]; 4];

/// Rows of the factor matrix per [`gram_tile`] call at most, for its
/// straight-line path inside wasm.
pub const TILE_ROWS: usize = 32;

/// The SGD step's two coefficients: `x ← decay·x + gain·other`.
#[inline]
fn coefficients(err: f32, lr: f32, reg: f32) -> (f32, f32) {
    (1.0 - lr * reg, lr * err)
}

/// The SGD step, one float at a time (the floats past the last vector).
#[inline]
fn sgd_scalar(p: &mut [f32], q: &mut [f32], decay: f32, gain: f32) {
    for (pf, qf) in p.iter_mut().zip(q.iter_mut()) {
        let (po, qo) = (*pf, *qf);
        *pf = decay * po + gain * qo;
        *qf = decay * qo + gain * po;
    }
}

/// The products past the last half chunk, summed in order.
#[inline]
fn tail_dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `m.max(x)` for a running maximum that starts at a number: in wasm
/// `f32::max` is a call (its NaN rule is not the instruction's), a compare
/// is not, and it is what `f32x4_pmax` computes lane by lane.
#[inline]
fn larger(m: f32, x: f32) -> f32 {
    if x > m { x } else { m }
}

/// What writing a row as `scale · code` cost (see `retrieval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encoded {
    /// The largest |value − scale·code|.
    pub max_error: f32,
    /// Σ |scale·code|.
    pub code_l1: f32,
}

/// An encoding pass's running error and L1, in four lanes: element `t` goes
/// to lane `t % 4`, as in a vector pass, so both builds sum in one order.
#[derive(Clone, Copy, Default)]
struct EncodeLanes {
    max_error: [f32; 4],
    code_l1: [f32; 4],
}

impl EncodeLanes {
    fn finish(self) -> Encoded {
        let [e0, e1, e2, e3] = self.max_error;
        let [l0, l1, l2, l3] = self.code_l1;
        Encoded { max_error: larger(larger(e0, e1), larger(e2, e3)), code_l1: (l0 + l2) + (l1 + l3) }
    }
}

/// Writes `row · inverse` rounded (ties to even, one wasm instruction where
/// `round` is a call) and clamped to ±`code_max` into `codes`, one float at
/// a time, continuing `lanes` from a vector pass over the floats before.
#[inline]
fn encode_scalar<C>(
    row: &[f32],
    scale: f32,
    inverse: f32,
    code_max: f32,
    codes: &mut [C],
    cast: impl Fn(f32) -> C,
    mut lanes: EncodeLanes,
) -> Encoded {
    for (t, (c, &x)) in codes.iter_mut().zip(row).enumerate() {
        let code = (x * inverse).round_ties_even().clamp(-code_max, code_max);
        *c = cast(code);
        lanes.max_error[t % 4] = larger(lanes.max_error[t % 4], (x - scale * code).abs());
        lanes.code_l1[t % 4] += (scale * code).abs();
    }
    lanes.finish()
}

/// `encode_i8` for user codes: one row per request, so no vector path.
pub fn encode_i16(row: &[f32], scale: f32, inverse: f32, code_max: f32, codes: &mut [i16]) -> Encoded {
    encode_scalar(row, scale, inverse, code_max, codes, |c| c as i16, EncodeLanes::default())
}

#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
mod portable {
    use super::{EncodeLanes, Encoded, HALF, LANES, Tile, coefficients, encode_scalar, larger, sgd_scalar, tail_dot};

    /// The largest |x| of a row (0 for an empty one).
    #[inline]
    pub fn max_abs(row: &[f32]) -> f32 {
        row.iter().fold(0.0, |m, x| larger(m, x.abs()))
    }

    /// Item codes: `row · inverse` rounded and clamped to ±`code_max`, and
    /// what that cost given `scale = 1 / inverse`.
    #[inline]
    pub fn encode_i8(row: &[f32], scale: f32, inverse: f32, code_max: f32, codes: &mut [i8]) -> Encoded {
        encode_scalar(row, scale, inverse, code_max, codes, |c| c as i8, EncodeLanes::default())
    }

    /// Adds `a`'s and `b`'s chunks past the whole chunks of eight (at most
    /// one half chunk) into `acc`, then sums it all in the shared order:
    /// lanes l and l+4, then 0+2 and 1+3, then the tail.
    #[inline]
    fn finish(mut acc: [f32; LANES], a: &[f32], b: &[f32]) -> f32 {
        let (ha, ra) = a.as_chunks::<HALF>();
        let (hb, rb) = b.as_chunks::<HALF>();
        for (x, y) in ha.iter().zip(hb) {
            for l in 0..HALF {
                acc[l] += x[l] * y[l];
            }
        }
        let pairs = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
        (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail_dot(ra, rb)
    }

    /// `y += a·x`; LLVM vectorizes it natively.
    #[inline]
    pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
        super::axpy_scalar(y, a, x);
    }

    /// `dot(row, v)` of four rows at once, each summed exactly as `dot`
    /// sums it: `v` is read once for the four.
    #[inline]
    pub fn dot4(rows: [&[f32]; 4], v: &[f32]) -> [f32; 4] {
        let (cv, rv) = v.as_chunks::<LANES>();
        let whole = cv.len() * LANES;
        let chunks = rows.map(|r| &r.as_chunks::<LANES>().0[..cv.len()]);
        let mut acc = [[0f32; LANES]; 4];
        for (c, x) in cv.iter().enumerate() {
            for (a, row) in acc.iter_mut().zip(&chunks) {
                for l in 0..LANES {
                    a[l] += row[c][l] * x[l];
                }
            }
        }
        std::array::from_fn(|r| finish(acc[r], &rows[r][whole..], rv))
    }

    /// Four `axpy` calls in a row, `y` read and written once.
    #[inline]
    pub fn axpy4(y: &mut [f32], a: [f32; 4], x: [&[f32]; 4]) {
        super::axpy4_scalar(y, a, x);
    }

    /// `tile[i][l] += row[f + i]·row[c + l]` for each `stride`-long row of
    /// `rows` in order: each entry sums its products in the order of the
    /// rows, as the whole product would. LLVM vectorizes it natively.
    #[inline]
    pub fn gram_tile(tile: &mut Tile, rows: &[f32], stride: usize, f: usize, c: usize) {
        for row in rows.chunks_exact(stride) {
            let b = &row[c..c + 8];
            for (i, t) in tile.iter_mut().enumerate() {
                let a = row[f + i];
                for (tl, &bl) in t.iter_mut().zip(b) {
                    *tl += a * bl;
                }
            }
        }
    }

    /// `a · b` for equal-length slices.
    #[inline]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len());
        let (ca, ra) = a.as_chunks::<LANES>();
        let (cb, rb) = b.as_chunks::<LANES>();
        let mut acc = [0f32; LANES];
        for (x, y) in ca.iter().zip(cb) {
            for l in 0..LANES {
                acc[l] += x[l] * y[l];
            }
        }
        finish(acc, ra, rb)
    }

    /// `items · user` on integer codes (see `retrieval`); lengths are equal
    /// multiples of 16 and the sum cannot overflow. LLVM turns this into
    /// multiply-add-pairs instructions.
    #[inline]
    pub fn dot_codes(items: &[i8], user: &[i16]) -> i32 {
        debug_assert!(items.len() == user.len() && items.len().is_multiple_of(16));
        items.iter().zip(user).map(|(&c, &x)| i32::from(c) * i32::from(x)).sum()
    }

    /// `dot_codes` of every `stride`-long row of `codes` with `user`, into `out`.
    #[inline]
    pub fn dot_codes_rows(codes: &[i8], user: &[i16], out: &mut [i32]) {
        let stride = user.len();
        debug_assert_eq!(codes.len(), out.len() * stride);
        for (o, row) in out.iter_mut().zip(codes.chunks_exact(stride.max(1))) {
            *o = dot_codes(row, user);
        }
    }

    /// One SGD step on a pair of factor vectors, both from their old values:
    /// `p += lr (err q − reg p)`, `q += lr (err p − reg q)`.
    #[inline]
    pub fn sgd_pair(p: &mut [f32], q: &mut [f32], err: f32, lr: f32, reg: f32) {
        debug_assert_eq!(p.len(), q.len());
        let (decay, gain) = coefficients(err, lr, reg);
        sgd_scalar(p, q, decay, gain);
    }

    /// `sgd_pair`, then `p · next` from the updated `p`, in one pass: the
    /// user's next rating needs exactly that dot product, and reading `next`
    /// during this update overlaps its cache misses with useful work.
    #[inline]
    pub fn sgd_pair_dot(p: &mut [f32], q: &mut [f32], next: &[f32], err: f32, lr: f32, reg: f32) -> f32 {
        debug_assert!(p.len() == q.len() && p.len() == next.len());
        let (decay, gain) = coefficients(err, lr, reg);
        let (cp, rp) = p.as_chunks_mut::<LANES>();
        let (cq, rq) = q.as_chunks_mut::<LANES>();
        let (cn, rn) = next.as_chunks::<LANES>();
        let mut acc = [0f32; LANES];
        for ((x, y), n) in cp.iter_mut().zip(cq.iter_mut()).zip(cn) {
            let (po, qo) = (*x, *y);
            *x = std::array::from_fn(|l| decay * po[l] + gain * qo[l]);
            *y = std::array::from_fn(|l| decay * qo[l] + gain * po[l]);
            for l in 0..LANES {
                acc[l] += x[l] * n[l];
            }
        }
        sgd_scalar(rp, rq, decay, gain);
        finish(acc, rp, rn)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    //! Wasmtime checks its CPU deadline on every loop back-edge, so the main
    //! loops take sixteen floats per iteration; the at most three vectors
    //! left over are handled without a loop. The training step goes further
    //! and has no loop at all for rows of up to `STRAIGHT_PAIRS` vector pairs
    //! (see `sgd_pair_dot`).

    use core::arch::wasm32::*;

    use super::{
        EncodeLanes, Encoded, TILE_ROWS, Tile, axpy_scalar, axpy4_scalar, coefficients, encode_scalar, larger,
        sgd_scalar, tail_dot,
    };

    /// `step(j)` for every listed `j` below `n`, without a loop.
    macro_rules! straight_line {
        ($n:expr, $step:expr; $($j:literal)*) => { $( if $j < $n { $step($j) } )* };
    }

    /// Rows of up to this many blocks of sixteen floats (256: the ranking
    /// model's 128 factors and the rating model's 200) take the products'
    /// straight-line paths: no back-edge, so no deadline check and no
    /// accumulators kept in memory across one (see `sgd_pair_dot`).
    const STRAIGHT_BLOCKS: usize = 16;

    /// `body` for `j` in `0..n`, straight-line when `n` ≤ [`STRAIGHT_BLOCKS`],
    /// written out in place: a body too big for LLVM to inline sixteen
    /// times as a closure would become a call, its sums kept in memory.
    macro_rules! each_block {
        ($n:expr, |$j:ident| $body:block) => {
            if $n <= STRAIGHT_BLOCKS {
                each_block!(@ $n, $j, $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
            } else {
                for $j in 0..$n $body
            }
        };
        (@ $n:expr, $j:ident, $body:block; $($at:literal)*) => { $( if $at < $n { let $j: usize = $at; $body } )* };
    }

    /// `step(j)` for `j` in `0..n`: straight-line when `n` ≤ [`STRAIGHT_BLOCKS`].
    #[inline(always)]
    fn blocks(n: usize, mut step: impl FnMut(usize)) {
        if n <= STRAIGHT_BLOCKS {
            straight_line!(n, step; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
        } else {
            (0..n).for_each(step);
        }
    }

    #[inline]
    fn load(x: &[f32; 4]) -> v128 {
        // SAFETY: a [f32; 4] is 16 readable bytes; wasm loads need no alignment.
        unsafe { v128_load(x.as_ptr() as *const v128) }
    }

    #[inline]
    fn store(x: &mut [f32; 4], v: v128) {
        // SAFETY: a [f32; 4] is 16 writable bytes; wasm stores need no alignment.
        unsafe { v128_store(x.as_mut_ptr() as *mut v128, v) }
    }

    /// The eight lanes as two vectors: `lo` is lanes 0–3, `hi` lanes 4–7.
    struct Acc {
        lo: v128,
        hi: v128,
    }

    impl Acc {
        #[inline]
        fn zero() -> Acc {
            Acc { lo: f32x4_splat(0.0), hi: f32x4_splat(0.0) }
        }

        /// Adds one chunk of eight products, each side given as two vectors.
        #[inline]
        fn add(&mut self, a: [v128; 2], b: [v128; 2]) {
            self.lo = f32x4_add(self.lo, f32x4_mul(a[0], b[0]));
            self.hi = f32x4_add(self.hi, f32x4_mul(a[1], b[1]));
        }

        /// Adds the zero to three vectors past the sixteen-float blocks —
        /// a whole chunk of eight into both halves, a last half into `lo` —
        /// then sums it all in the portable order, in registers (a lane
        /// extraction loop would go through memory and cost more than the
        /// products).
        #[inline]
        fn finish(mut self, a: &[[f32; 4]], b: &[[f32; 4]], tail: f32) -> f32 {
            if let ([x0, x1, ..], [y0, y1, ..]) = (a, b) {
                self.add([load(x0), load(x1)], [load(y0), load(y1)]);
            }
            if let (Some(x), Some(y)) = (a.get(a.len() & !1), b.get(b.len() & !1)) {
                self.add_half(load(x), load(y));
            }
            self.sum() + tail
        }

        /// Adds a last half chunk (four products) into lanes 0–3.
        #[inline]
        fn add_half(&mut self, a: v128, b: v128) {
            self.lo = f32x4_add(self.lo, f32x4_mul(a, b));
        }

        /// The eight lanes summed in the portable order.
        #[inline]
        fn sum(self) -> f32 {
            let pairs = f32x4_add(self.lo, self.hi);
            let halves = f32x4_add(pairs, i32x4_shuffle::<2, 3, 2, 3>(pairs, pairs));
            f32x4_extract_lane::<0>(halves) + f32x4_extract_lane::<1>(halves)
        }
    }

    /// The SGD step on one vector of each; returns the updated `p`.
    #[inline]
    fn update(x: &mut [f32; 4], y: &mut [f32; 4], d: v128, g: v128) -> v128 {
        let (po, qo) = (load(x), load(y));
        let pn = f32x4_add(f32x4_mul(d, po), f32x4_mul(g, qo));
        store(x, pn);
        store(y, f32x4_add(f32x4_mul(d, qo), f32x4_mul(g, po)));
        pn
    }

    #[inline]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len());
        let mut acc = Acc::zero();
        let ((ca, ra), (cb, rb)) = (a.as_chunks::<4>(), b.as_chunks::<4>());
        let ((a4, a4r), (b4, b4r)) = (ca.as_chunks::<4>(), cb.as_chunks::<4>());
        let b4 = &b4[..a4.len()];
        blocks(a4.len(), |j| {
            let ([x0, x1, x2, x3], [y0, y1, y2, y3]) = (&a4[j], &b4[j]);
            acc.add([load(x0), load(x1)], [load(y0), load(y1)]);
            acc.add([load(x2), load(x3)], [load(y2), load(y3)]);
        });
        acc.finish(a4r, b4r, tail_dot(ra, rb))
    }

    /// Sixteen codes times the user's matching sixteen, as four partial sums.
    #[inline]
    fn code_block(c: &[i8; 16], x_lo: v128, x_hi: v128) -> v128 {
        // SAFETY: a [i8; 16] is 16 readable bytes; wasm loads need no alignment.
        let codes = unsafe { v128_load(c.as_ptr() as *const v128) };
        let (lo, hi) = (i16x8_extend_low_i8x16(codes), i16x8_extend_high_i8x16(codes));
        i32x4_add(i32x4_dot_i16x8(lo, x_lo), i32x4_dot_i16x8(hi, x_hi))
    }

    /// The user's sixteen codes of one block as two vectors.
    #[inline]
    fn user_block(x: &[i16; 16]) -> (v128, v128) {
        // SAFETY: a [i16; 16] is 32 readable bytes; wasm loads need no alignment.
        unsafe { (v128_load(x.as_ptr() as *const v128), v128_load(x.as_ptr().add(8) as *const v128)) }
    }

    /// Integer sums are exact, so any order agrees with the portable build.
    /// Thirty-two codes per iteration, then at most one block of sixteen.
    #[inline]
    pub fn dot_codes(items: &[i8], user: &[i16]) -> i32 {
        debug_assert!(items.len() == user.len() && items.len().is_multiple_of(16));
        let block = |c: &[i8; 16], x: &[i16; 16]| {
            let (x_lo, x_hi) = user_block(x);
            code_block(c, x_lo, x_hi)
        };
        let (ci, ri) = items.as_chunks::<16>();
        let (cu, ru) = user.as_chunks::<16>();
        debug_assert!(ri.is_empty() && ru.is_empty());
        let ((c2, c2r), (u2, u2r)) = (ci.as_chunks::<2>(), cu.as_chunks::<2>());
        let mut acc = i32x4_splat(0);
        for ([c0, c1], [x0, x1]) in c2.iter().zip(u2) {
            acc = i32x4_add(acc, i32x4_add(block(c0, x0), block(c1, x1)));
        }
        if let (Some(c), Some(x)) = (c2r.first(), u2r.first()) {
            acc = i32x4_add(acc, block(c, x));
        }
        let pairs = i32x4_add(acc, i32x4_shuffle::<2, 3, 2, 3>(acc, acc));
        i32x4_extract_lane::<0>(pairs) + i32x4_extract_lane::<1>(pairs)
    }

    /// Four rows at a time: each block of the user's codes is loaded once
    /// for four items, and the four sums are reduced together by a
    /// transpose (two rounds of shuffles) instead of four lane extractions.
    pub fn dot_codes_rows(codes: &[i8], user: &[i16], out: &mut [i32]) {
        let stride = user.len();
        debug_assert!(stride.is_multiple_of(16) && codes.len() == out.len() * stride);
        let (user_blocks, _) = user.as_chunks::<16>();
        let (groups, rest) = out.as_chunks_mut::<4>();
        let (group_codes, rest_codes) = codes.split_at(groups.len() * 4 * stride);
        for (sums, rows) in groups.iter_mut().zip(group_codes.chunks_exact(4 * stride.max(1))) {
            let (r0, r1, r2, r3) =
                (&rows[..stride], &rows[stride..2 * stride], &rows[2 * stride..3 * stride], &rows[3 * stride..]);
            let mut acc = [i32x4_splat(0); 4];
            let blocks = r0
                .as_chunks::<16>()
                .0
                .iter()
                .zip(r1.as_chunks::<16>().0)
                .zip(r2.as_chunks::<16>().0)
                .zip(r3.as_chunks::<16>().0);
            for ((((c0, c1), c2), c3), x) in blocks.zip(user_blocks) {
                let (x_lo, x_hi) = user_block(x);
                acc[0] = i32x4_add(acc[0], code_block(c0, x_lo, x_hi));
                acc[1] = i32x4_add(acc[1], code_block(c1, x_lo, x_hi));
                acc[2] = i32x4_add(acc[2], code_block(c2, x_lo, x_hi));
                acc[3] = i32x4_add(acc[3], code_block(c3, x_lo, x_hi));
            }
            // [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, d; then [a, b, c, d].
            let ab =
                i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(acc[0], acc[1]), i32x4_shuffle::<2, 6, 3, 7>(acc[0], acc[1]));
            let cd =
                i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(acc[2], acc[3]), i32x4_shuffle::<2, 6, 3, 7>(acc[2], acc[3]));
            let total = i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd));
            // SAFETY: `sums` is four i32s, 16 writable bytes; wasm stores need no alignment.
            unsafe { v128_store(sums.as_mut_ptr() as *mut v128, total) };
        }
        for (o, row) in rest.iter_mut().zip(rest_codes.chunks_exact(stride.max(1))) {
            *o = dot_codes(row, user);
        }
    }

    /// `y += a·x`, sixteen floats per block (see [`blocks`]): the plain loop
    /// measured twice as slow inside wasm (ALS spends most of its time here).
    #[inline]
    pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
        debug_assert_eq!(y.len(), x.len());
        let av = f32x4_splat(a);
        let step = |y: &mut [f32; 4], x: &[f32; 4]| store(y, f32x4_add(load(y), f32x4_mul(av, load(x))));
        let ((cy, ry), (cx, rx)) = (y.as_chunks_mut::<4>(), x.as_chunks::<4>());
        let ((y4, y4r), (x4, x4r)) = (cy.as_chunks_mut::<4>(), cx.as_chunks::<4>());
        let x4 = &x4[..y4.len()];
        blocks(y4.len(), |j| {
            let ([y0, y1, y2, y3], [x0, x1, x2, x3]) = (&mut y4[j], &x4[j]);
            step(y0, x0);
            step(y1, x1);
            step(y2, x2);
            step(y3, x3);
        });
        for (y, x) in y4r.iter_mut().zip(x4r) {
            step(y, x);
        }
        axpy_scalar(ry, a, rx);
    }

    /// `dot(row, v)` of four rows at once, in `dot`'s lane order: each
    /// eight floats of `v` are loaded once for the four rows (their sums,
    /// eight vectors, stay in registers).
    #[inline]
    pub fn dot4(rows: [&[f32]; 4], v: &[f32]) -> [f32; 4] {
        let (cv, rv) = v.as_chunks::<4>();
        let (v4, v4r) = cv.as_chunks::<4>();
        let whole = cv.len() * 4;
        let split = rows.map(|r| {
            let (c4, c4r) = r[..whole].as_chunks::<4>().0.as_chunks::<4>();
            (&c4[..v4.len()], c4r)
        });
        let mut acc = [Acc::zero(), Acc::zero(), Acc::zero(), Acc::zero()];
        each_block!(v4.len(), |j| {
            let [x0, x1, x2, x3] = &v4[j];
            let x = [load(x0), load(x1)];
            for (a, (row, _)) in acc.iter_mut().zip(&split) {
                a.add([load(&row[j][0]), load(&row[j][1])], x);
            }
            let x = [load(x2), load(x3)];
            for (a, (row, _)) in acc.iter_mut().zip(&split) {
                a.add([load(&row[j][2]), load(&row[j][3])], x);
            }
        });
        let mut sums = [0f32; 4];
        for (r, (a, (_, rest))) in acc.into_iter().zip(&split).enumerate() {
            sums[r] = a.finish(rest, v4r, tail_dot(&rows[r][whole..], rv));
        }
        sums
    }

    /// Four `axpy` calls in a row, to the bit: each vector of `y` is
    /// loaded and stored once for the four rows.
    #[inline]
    pub fn axpy4(y: &mut [f32], a: [f32; 4], x: [&[f32]; 4]) {
        let av = a.map(|x| f32x4_splat(x));
        let whole = y.len() / 4 * 4;
        let (cy, ry) = y.as_chunks_mut::<4>();
        let (y4, y4r) = cy.as_chunks_mut::<4>();
        let split = x.map(|r| {
            let (c4, c4r) = r[..whole].as_chunks::<4>().0.as_chunks::<4>();
            (&c4[..y4.len()], c4r)
        });
        let step = |y: &mut [f32; 4], x: [&[f32; 4]; 4]| {
            let mut s = load(y);
            for (a, x) in av.iter().zip(x) {
                s = f32x4_add(s, f32x4_mul(*a, load(x)));
            }
            store(y, s);
        };
        each_block!(y4.len(), |j| {
            for (t, yv) in y4[j].iter_mut().enumerate() {
                step(yv, split.map(|(c4, _)| &c4[j][t]));
            }
        });
        for (t, yv) in y4r.iter_mut().enumerate() {
            step(yv, split.map(|(_, c4r)| &c4r[t]));
        }
        axpy4_scalar(ry, a, x.map(|r| &r[whole..]));
    }

    /// The portable `gram_tile`, its 32 sums in eight vectors: each row
    /// adds eight products of a splatted `row[f + i]` with `row[c..c + 8]`.
    /// Straight-line for up to [`TILE_ROWS`] rows, so the sums stay in
    /// registers (a Gram matrix was k²/8 `axpy` passes per block of rows,
    /// each loading and storing its row of the matrix).
    pub fn gram_tile(tile: &mut Tile, rows: &[f32], stride: usize, f: usize, c: usize) {
        let half = |t: &[f32; 8], at: usize| load(t[at..at + 4].try_into().expect("four floats"));
        let mut acc = tile.map(|t| [half(&t, 0), half(&t, 4)]);
        let n = rows.len() / stride;
        let mut add = |r: usize| {
            let row = &rows[r * stride..(r + 1) * stride];
            let b: &[f32; 8] = row[c..c + 8].try_into().expect("eight floats");
            let (b0, b1) = (half(b, 0), half(b, 4));
            for (i, a) in acc.iter_mut().enumerate() {
                let s = f32x4_splat(row[f + i]);
                a[0] = f32x4_add(a[0], f32x4_mul(s, b0));
                a[1] = f32x4_add(a[1], f32x4_mul(s, b1));
            }
        };
        if n <= TILE_ROWS {
            straight_line!(n, add; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
        } else {
            (0..n).for_each(add);
        }
        for (t, a) in tile.iter_mut().zip(acc) {
            let (lo, hi) = t.split_at_mut(4);
            store(lo.try_into().expect("four floats"), a[0]);
            store(hi.try_into().expect("four floats"), a[1]);
        }
    }

    #[inline]
    pub fn sgd_pair(p: &mut [f32], q: &mut [f32], err: f32, lr: f32, reg: f32) {
        debug_assert_eq!(p.len(), q.len());
        let (decay, gain) = coefficients(err, lr, reg);
        let (d, g) = (f32x4_splat(decay), f32x4_splat(gain));
        let ((cp, rp), (cq, rq)) = (p.as_chunks_mut::<4>(), q.as_chunks_mut::<4>());
        let ((p4, p4r), (q4, q4r)) = (cp.as_chunks_mut::<4>(), cq.as_chunks_mut::<4>());
        for ([x0, x1, x2, x3], [y0, y1, y2, y3]) in p4.iter_mut().zip(q4.iter_mut()) {
            update(x0, y0, d, g);
            update(x1, y1, d, g);
            update(x2, y2, d, g);
            update(x3, y3, d, g);
        }
        for (x, y) in p4r.iter_mut().zip(q4r.iter_mut()) {
            update(x, y, d, g);
        }
        sgd_scalar(rp, rq, decay, gain);
    }

    #[inline]
    fn lanes(v: v128) -> [f32; 4] {
        [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
    }

    /// Building the top-N index reads every factor of every movie twice:
    /// once here, once in `encode_i8`.
    pub fn max_abs(row: &[f32]) -> f32 {
        let (blocks, rest) = row.as_chunks::<16>();
        let mut m = f32x4_splat(0.0);
        for block in blocks {
            // One running maximum per lane, in order: `larger` passes over a
            // NaN, and a pairwise tree of `pmax` would not.
            for x in block.as_chunks::<4>().0 {
                m = f32x4_pmax(m, f32x4_abs(load(x)));
            }
        }
        lanes(m).into_iter().chain(rest.iter().map(|x| x.abs())).fold(0.0, larger)
    }

    /// Sixteen codes per iteration, saturated down to bytes in two
    /// narrowing steps; the lanes' sums run in the portable order.
    pub fn encode_i8(row: &[f32], scale: f32, inverse: f32, code_max: f32, codes: &mut [i8]) -> Encoded {
        debug_assert_eq!(row.len(), codes.len());
        let (blocks, rest) = row.as_chunks::<16>();
        let (code_blocks, code_rest) = codes.as_chunks_mut::<16>();
        let (s, inv, hi, lo) =
            (f32x4_splat(scale), f32x4_splat(inverse), f32x4_splat(code_max), f32x4_splat(-code_max));
        let (mut max_error, mut code_l1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for (block, out) in blocks.iter().zip(code_blocks) {
            let (v, _) = block.as_chunks::<4>();
            let mut ints = [i32x4_splat(0); 4];
            for (x, int) in v.iter().zip(&mut ints) {
                let x = load(x);
                // As `f32::clamp`: below the minimum, then above the maximum.
                let code = f32x4_pmin(f32x4_pmax(f32x4_nearest(f32x4_mul(x, inv)), lo), hi);
                max_error = f32x4_pmax(max_error, f32x4_abs(f32x4_sub(x, f32x4_mul(s, code))));
                code_l1 = f32x4_add(code_l1, f32x4_abs(f32x4_mul(s, code)));
                *int = i32x4_trunc_sat_f32x4(code);
            }
            let bytes = i8x16_narrow_i16x8(i16x8_narrow_i32x4(ints[0], ints[1]), i16x8_narrow_i32x4(ints[2], ints[3]));
            // SAFETY: a [i8; 16] is 16 writable bytes; wasm stores need no alignment.
            unsafe { v128_store(out.as_mut_ptr() as *mut v128, bytes) };
        }
        let done = EncodeLanes { max_error: lanes(max_error), code_l1: lanes(code_l1) };
        encode_scalar(rest, scale, inverse, code_max, code_rest, |c| c as i8, done)
    }

    /// Rows of up to this many pairs of vectors (256 floats: the reference
    /// 100 factors and the defaults' 200) take `sgd_pair_dot`'s straight-line path.
    const STRAIGHT_PAIRS: usize = 32;

    /// The hot loop of training, so it has none: each pair of vectors is a
    /// guarded block of straight-line code. Inside a loop Cranelift keeps the
    /// accumulators and coefficients in memory across every back-edge (where
    /// wasmtime checks the deadline), and each vector's address costs an
    /// instruction of its own; straight-line code keeps them in registers and
    /// folds the constant offsets into the loads. About 15 % off a fit (medians
    /// of 24 alternating latest-small fits, 100 factors). Same lane order, so
    /// the same bits, as the portable build.
    #[inline]
    pub fn sgd_pair_dot(p: &mut [f32], q: &mut [f32], next: &[f32], err: f32, lr: f32, reg: f32) -> f32 {
        debug_assert!(p.len() == q.len() && p.len() == next.len());
        let (decay, gain) = coefficients(err, lr, reg);
        let (d, g) = (f32x4_splat(decay), f32x4_splat(gain));
        let ((cp, rp), (cq, rq), (cn, rn)) = (p.as_chunks_mut::<4>(), q.as_chunks_mut::<4>(), next.as_chunks::<4>());
        let ((p2, p2r), (q2, q2r), (n2, n2r)) = (cp.as_chunks_mut::<2>(), cq.as_chunks_mut::<2>(), cn.as_chunks::<2>());
        let pairs = p2.len();
        // One length for all three, so indexing by a guarded `j` needs no further check.
        let (q2, n2) = (&mut q2[..pairs], &n2[..pairs]);
        let mut acc = Acc::zero();
        let mut pair = |j: usize| {
            let ([x0, x1], [y0, y1], [m0, m1]) = (&mut p2[j], &mut q2[j], &n2[j]);
            acc.add([update(x0, y0, d, g), update(x1, y1, d, g)], [load(m0), load(m1)]);
        };
        if pairs <= STRAIGHT_PAIRS {
            straight_line!(pairs, pair; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
        } else {
            (0..pairs).for_each(pair);
        }
        if let ([x], [y], [m]) = (p2r, q2r, n2r) {
            acc.add_half(update(x, y, d, g), load(m));
        }
        sgd_scalar(rp, rq, decay, gain);
        acc.sum() + tail_dot(rp, rn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_naive_sum_at_every_length() {
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.25).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-3, "n={n}");
        }
    }

    /// The wasm build's vector form is checked against this one through
    /// the engine (`tests/engine_wasm.rs`, 13 and 64 factors).
    #[test]
    fn a_tile_sums_each_entrys_products_in_row_order() {
        let (rows, stride) = (11, 13);
        let table: Vec<f32> = (0..rows * stride).map(|i| (i as f32 * 0.31).sin()).collect();
        for (f, c) in [(0, 0), (3, 5), (9, 5)] {
            let start: Tile = std::array::from_fn(|i| std::array::from_fn(|l| (i * 8 + l) as f32 * 0.1));
            let mut tile = start;
            gram_tile(&mut tile, &table, stride, f, c);
            for (i, l) in (0..4).flat_map(|i| (0..8).map(move |l| (i, l))) {
                let mut want = start[i][l];
                for row in table.chunks(stride) {
                    want += row[f + i] * row[c + l];
                }
                assert_eq!(tile[i][l].to_bits(), want.to_bits(), "f={f} c={c} i={i} l={l}");
            }
        }
    }

    #[test]
    fn the_fused_step_equals_the_step_then_the_dot_bit_for_bit() {
        for n in 0..40 {
            let p: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let q: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let next: Vec<f32> = (0..n).map(|i| 0.5 - i as f32 * 0.01).collect();
            let (mut p1, mut q1, mut p2, mut q2) = (p.clone(), q.clone(), p, q);
            sgd_pair(&mut p1, &mut q1, 0.7, 0.01, 0.05);
            let separate = dot(&p1, &next);
            let fused = sgd_pair_dot(&mut p2, &mut q2, &next, 0.7, 0.01, 0.05);
            assert_eq!((p1, q1, separate.to_bits()), (p2, q2, fused.to_bits()), "n={n}");
        }
    }

    /// The row groups implicit.rs visits interactions in give the bits of one row at a time.
    #[test]
    fn four_rows_at_once_equal_four_dots_and_four_axpys_bit_for_bit() {
        for n in 0..70 {
            let rows: Vec<Vec<f32>> =
                (0..4).map(|r| (0..n).map(|i| ((i * 7 + r * 13) as f32 * 0.37).sin()).collect()).collect();
            let v: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let rows = [&rows[0][..], &rows[1][..], &rows[2][..], &rows[3][..]];
            let want = rows.map(|r| dot(r, &v).to_bits());
            assert_eq!(dot4(rows, &v).map(f32::to_bits), want, "n={n}");
            let a = [0.5, -1.25, 3.0, 0.1];
            let (mut one, mut four) = (v.clone(), v.clone());
            for (r, &ar) in rows.iter().zip(&a) {
                axpy(&mut one, ar, r);
            }
            axpy4(&mut four, a, rows);
            assert_eq!(
                one.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                four.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "n={n}"
            );
        }
    }

    #[test]
    fn row_sums_equal_one_dot_per_row() {
        for (rows, stride) in [(0, 16), (1, 16), (3, 32), (4, 112), (9, 48), (13, 16)] {
            let codes: Vec<i8> = (0..rows * stride).map(|i| ((i * 37 + 11) % 255) as i8).collect();
            let user: Vec<i16> = (0..stride).map(|f| ((f as i32 * 523) % 16383 - 8000) as i16).collect();
            let mut out = vec![0; rows];
            dot_codes_rows(&codes, &user, &mut out);
            let naive: Vec<i32> = codes
                .chunks_exact(stride)
                .map(|row| row.iter().zip(&user).map(|(&c, &x)| i32::from(c) * i32::from(x)).sum())
                .collect();
            assert_eq!(out, naive, "rows={rows} stride={stride}");
        }
    }

    #[test]
    fn encoding_matches_its_definition_at_every_length() {
        for n in 0..40 {
            let row: Vec<f32> = (1..=n).map(|i| (i as f32 * 0.61).sin() * 0.4).collect();
            let largest = max_abs(&row);
            assert_eq!(largest, row.iter().fold(0.0, |m: f32, x| m.max(x.abs())), "n={n}");
            // `retrieval::quantize` never encodes an all-zero row.
            let (scale, inverse) = (largest / 127.0, if n == 0 { 1.0 } else { 127.0 / largest });
            let mut codes = vec![0i8; n];
            let e = encode_i8(&row, scale, inverse, 127.0, &mut codes);
            let want: Vec<i8> = row.iter().map(|x| (x * inverse).round_ties_even() as i8).collect();
            assert_eq!(codes, want, "n={n}");
            let errors = row.iter().zip(&codes).map(|(x, &c)| (x - scale * f32::from(c)).abs());
            assert_eq!(e.max_error, errors.fold(0.0, f32::max), "n={n}");
            let l1: f32 = codes.iter().map(|&c| (scale * f32::from(c)).abs()).sum();
            assert!((e.code_l1 - l1).abs() <= 1e-5 * l1.max(1.0), "n={n}");
        }
    }

    #[test]
    fn sgd_pair_uses_old_values_for_both_updates() {
        let (mut p, mut q) = (vec![1.0, 2.0], vec![3.0, -1.0]);
        sgd_pair(&mut p, &mut q, 0.5, 0.1, 0.2);
        // p0 = 1 + 0.1 (0.5·3 − 0.2·1) = 1.13 ; q0 = 3 + 0.1 (0.5·1 − 0.2·3) = 2.99
        assert!((p[0] - 1.13).abs() < 1e-6 && (q[0] - 2.99).abs() < 1e-6);
        // p1 = 2 + 0.1 (−0.5 − 0.4) = 1.91 ; q1 = −1 + 0.1 (1.0 + 0.2) = −0.88
        assert!((p[1] - 1.91).abs() < 1e-6 && (q[1] + 0.88).abs() < 1e-6);
    }
}
