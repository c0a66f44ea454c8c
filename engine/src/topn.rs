//! Top-N selection in one pass: a small sorted buffer of the best `n` seen
//! so far; most candidates lose to the current n-th best with a single
//! comparison — O(items), no allocation proportional to the catalogue.

use std::cmp::Ordering;

/// Best first; equal scores fall back to the lower index so results are stable.
fn better(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

pub struct TopN {
    n: usize,
    best: Vec<(u32, f32)>,
}

impl TopN {
    pub fn new(n: usize) -> TopN {
        TopN { n, best: Vec::with_capacity(n + 1) }
    }

    #[inline]
    pub fn push(&mut self, item: u32, score: f32) {
        let entry = (item, score);
        if self.best.len() == self.n {
            match self.best.last() {
                Some(worst) if better(&entry, worst) == Ordering::Less => {}
                _ => return,
            }
        }
        let at = self.best.partition_point(|b| better(b, &entry) == Ordering::Less);
        self.best.insert(at, entry);
        self.best.truncate(self.n);
    }

    /// Whether `n` entries are held (so `worst` is the n-th best).
    pub fn is_full(&self) -> bool {
        self.best.len() == self.n
    }

    /// The lowest score held.
    pub fn worst(&self) -> Option<f32> {
        self.best.last().map(|b| b.1)
    }

    /// The winners, best first.
    pub fn into_sorted(self) -> Vec<(u32, f32)> {
        self.best
    }
}

/// The `n` highest `scores` among indices that `candidate` accepts.
pub fn top_n(scores: &[f32], n: usize, candidate: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
    let mut top = TopN::new(n);
    for (i, &s) in scores.iter().enumerate() {
        if candidate(i as u32) {
            top.push(i as u32, s);
        }
    }
    top.into_sorted()
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
