//! The inner loops. Natively they are written so LLVM vectorizes them:
//! eight independent accumulators break the sum's dependency chain, which
//! float semantics would otherwise forbid the compiler to reorder. LLVM does
//! not vectorize them for wasm, so there they use `simd128` intrinsics with
//! the same lane layout — the two builds compute bit-identical results.

const LANES: usize = 8;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use wasm::{dot, sgd_pair};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use portable::{dot, sgd_pair};

/// Sums eight lanes in a fixed order shared by both implementations.
#[inline]
fn reduce(acc: [f32; LANES], tail: f32) -> f32 {
    let pairs = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
mod portable {
    use super::{LANES, reduce};

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
        let tail = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
        reduce(acc, tail)
    }

    /// One SGD step on a pair of factor vectors, both from their old values:
    /// `p += lr (err q − reg p)`, `q += lr (err p − reg q)`.
    #[inline]
    pub fn sgd_pair(p: &mut [f32], q: &mut [f32], err: f32, lr: f32, reg: f32) {
        debug_assert_eq!(p.len(), q.len());
        let decay = 1.0 - lr * reg;
        let gain = lr * err;
        for (pf, qf) in p.iter_mut().zip(q.iter_mut()) {
            let (po, qo) = (*pf, *qf);
            *pf = decay * po + gain * qo;
            *qf = decay * qo + gain * po;
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::{LANES, reduce};

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

    /// Four chunks of eight per iteration: wasmtime checks its CPU deadline
    /// on every loop back-edge, so fewer, fatter iterations run faster.
    #[inline]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len());
        let (mut lo, mut hi) = (f32x4_splat(0.0), f32x4_splat(0.0));
        let mut step = |x: &[[f32; 4]], y: &[[f32; 4]]| {
            for pair in 0..x.len() / 2 {
                lo = f32x4_add(lo, f32x4_mul(load(&x[2 * pair]), load(&y[2 * pair])));
                hi = f32x4_add(hi, f32x4_mul(load(&x[2 * pair + 1]), load(&y[2 * pair + 1])));
            }
        };
        let (ca, ra) = a.as_chunks::<{ 4 * LANES }>();
        let (cb, rb) = b.as_chunks::<{ 4 * LANES }>();
        for (x, y) in ca.iter().zip(cb) {
            step(x.as_chunks::<4>().0, y.as_chunks::<4>().0);
        }
        let (ca, ra) = ra.as_chunks::<LANES>();
        let (cb, rb) = rb.as_chunks::<LANES>();
        for (x, y) in ca.iter().zip(cb) {
            step(x.as_chunks::<4>().0, y.as_chunks::<4>().0);
        }
        let lane = |v: v128, l: usize| match l {
            0 => f32x4_extract_lane::<0>(v),
            1 => f32x4_extract_lane::<1>(v),
            2 => f32x4_extract_lane::<2>(v),
            _ => f32x4_extract_lane::<3>(v),
        };
        let acc: [f32; LANES] = std::array::from_fn(|l| if l < 4 { lane(lo, l) } else { lane(hi, l - 4) });
        let tail = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
        reduce(acc, tail)
    }

    #[inline]
    pub fn sgd_pair(p: &mut [f32], q: &mut [f32], err: f32, lr: f32, reg: f32) {
        debug_assert_eq!(p.len(), q.len());
        let decay = 1.0 - lr * reg;
        let gain = lr * err;
        let (d, g) = (f32x4_splat(decay), f32x4_splat(gain));
        let update = |x: &mut [f32; 4], y: &mut [f32; 4]| {
            let (po, qo) = (load(x), load(y));
            store(x, f32x4_add(f32x4_mul(d, po), f32x4_mul(g, qo)));
            store(y, f32x4_add(f32x4_mul(d, qo), f32x4_mul(g, po)));
        };
        // Sixteen floats per iteration, for the same reason as in `dot`.
        let (cp, rp) = p.as_chunks_mut::<16>();
        let (cq, rq) = q.as_chunks_mut::<16>();
        for (x, y) in cp.iter_mut().zip(cq.iter_mut()) {
            for (x, y) in x.as_chunks_mut::<4>().0.iter_mut().zip(y.as_chunks_mut::<4>().0) {
                update(x, y);
            }
        }
        let (cp, rp) = rp.as_chunks_mut::<4>();
        let (cq, rq) = rq.as_chunks_mut::<4>();
        for (x, y) in cp.iter_mut().zip(cq.iter_mut()) {
            update(x, y);
        }
        for (pf, qf) in rp.iter_mut().zip(rq.iter_mut()) {
            let (po, qo) = (*pf, *qf);
            *pf = decay * po + gain * qo;
            *qf = decay * qo + gain * po;
        }
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
