//! Top-N selection: a partial selection (`select_nth_unstable`) over the
//! candidates, then a sort of only the `n` winners — O(items + n log n).

use std::cmp::Ordering;

/// Best first; equal scores fall back to the lower index so results are stable.
fn better(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// The `n` highest `scores` among indices that `candidate` accepts.
pub fn top_n(scores: &[f32], n: usize, candidate: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
    let mut pool: Vec<(u32, f32)> =
        (0..scores.len() as u32).filter(|&i| candidate(i)).map(|i| (i, scores[i as usize])).collect();
    if n == 0 {
        return Vec::new();
    }
    if pool.len() > n {
        pool.select_nth_unstable_by(n - 1, better);
        pool.truncate(n);
    }
    pool.sort_unstable_by(better);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_best_in_order() {
        let s = [0.1, 0.9, 0.5, 0.9, -1.0, 0.7];
        assert_eq!(top_n(&s, 3, |_| true), vec![(1, 0.9), (3, 0.9), (5, 0.7)]);
        assert_eq!(top_n(&s, 2, |i| i != 1), vec![(3, 0.9), (5, 0.7)]);
        assert_eq!(top_n(&s, 10, |i| i % 2 == 0).len(), 3);
        assert!(top_n(&s, 0, |_| true).is_empty());
    }

    #[test]
    fn agrees_with_a_full_sort() {
        let s: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 1009) as f32).collect();
        let mut full: Vec<(u32, f32)> = s.iter().enumerate().map(|(i, &v)| (i as u32, v)).collect();
        full.sort_by(better);
        assert_eq!(top_n(&s, 25, |_| true), full[..25].to_vec());
    }
}
