//! Ratings in compressed sparse row form, indexed both by user and by item.
//!
//! Training walks ratings by user; ALS and explanations walk them by item.
//! Both views are built once by counting sort — O(ratings), no hashing.

use cinema_protocol::Triple;

/// One row-compressed view: the entries of row `r` are
/// `cols[offsets[r]..offsets[r + 1]]` with values in `values`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    pub offsets: Vec<u32>,
    pub cols: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    /// Builds rows from `(row, col, value)` entries; rows keep their entries
    /// in column order so membership tests can binary-search.
    fn build(rows: usize, entries: impl Iterator<Item = (u32, u32, f32)> + Clone) -> Csr {
        let mut counts = vec![0u32; rows + 1];
        for (r, _, _) in entries.clone() {
            counts[r as usize + 1] += 1;
        }
        for r in 0..rows {
            counts[r + 1] += counts[r];
        }
        let offsets = counts.clone();
        let n = offsets[rows] as usize;
        let mut cols = vec![0u32; n];
        let mut values = vec![0f32; n];
        let mut next = counts;
        for (r, c, v) in entries {
            let at = next[r as usize] as usize;
            cols[at] = c;
            values[at] = v;
            next[r as usize] += 1;
        }
        let mut csr = Csr { offsets, cols, values };
        csr.sort_rows();
        csr
    }

    fn sort_rows(&mut self) {
        let mut pairs: Vec<(u32, f32)> = Vec::new();
        for r in 0..self.rows() {
            let range = self.range(r);
            let cols = &self.cols[range.clone()];
            if cols.windows(2).all(|w| w[0] <= w[1]) {
                continue;
            }
            pairs.clear();
            pairs.extend(cols.iter().copied().zip(self.values[range.clone()].iter().copied()));
            pairs.sort_unstable_by_key(|p| p.0);
            for (k, (c, v)) in pairs.iter().enumerate() {
                self.cols[range.start + k] = *c;
                self.values[range.start + k] = *v;
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn range(&self, row: usize) -> std::ops::Range<usize> {
        self.offsets[row] as usize..self.offsets[row + 1] as usize
    }

    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let r = self.range(row);
        (&self.cols[r.clone()], &self.values[r])
    }

    pub fn row_len(&self, row: usize) -> usize {
        self.range(row).len()
    }

    pub fn contains(&self, row: usize, col: u32) -> bool {
        self.row(row).0.binary_search(&col).is_ok()
    }
}

/// The training ratings of one dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingMatrix {
    pub users: u32,
    pub items: u32,
    pub by_user: Csr,
    pub by_item: Csr,
    pub global_mean: f32,
}

impl RatingMatrix {
    /// Indexes `triples`; every index must already be in range.
    pub fn new(users: u32, items: u32, triples: &[Triple]) -> RatingMatrix {
        let by_user = Csr::build(users as usize, triples.iter().copied());
        let by_item = Csr::build(items as usize, triples.iter().map(|&(u, i, r)| (i, u, r)));
        let sum: f64 = triples.iter().map(|t| t.2 as f64).sum();
        let global_mean = if triples.is_empty() { 0.0 } else { (sum / triples.len() as f64) as f32 };
        RatingMatrix { users, items, by_user, by_item, global_mean }
    }

    pub fn len(&self) -> usize {
        self.by_user.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What a pass comparing movie `i` with every movie its raters rated
    /// visits: Σ over i's raters of their ratings. A neighbourhood model's
    /// steps count this, not i's ratings, so a step's time follows its budget
    /// whether i's raters rated ten movies or ten thousand.
    pub fn co_ratings(&self, i: u32) -> u64 {
        self.by_item.row(i as usize).0.iter().map(|&u| self.by_user.row_len(u as usize) as u64).sum()
    }

    /// [`RatingMatrix::co_ratings`] of every movie: Σ over users of their
    /// ratings squared.
    pub fn co_ratings_total(&self) -> u64 {
        (0..self.by_user.rows()).map(|u| (self.by_user.row_len(u) as u64).pow(2)).sum()
    }

    /// `(user, item, rating)` in user order.
    pub fn iter(&self) -> impl Iterator<Item = Triple> + '_ {
        (0..self.by_user.rows()).flat_map(move |u| {
            let (items, values) = self.by_user.row(u);
            items.iter().zip(values).map(move |(&i, &r)| (u as u32, i, r))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_views_hold_every_rating() {
        let t = [(1, 2, 5.0), (0, 1, 3.0), (1, 0, 4.0), (0, 2, 1.0)];
        let m = RatingMatrix::new(2, 3, &t);
        assert_eq!(m.by_user.row(0), (&[1, 2][..], &[3.0, 1.0][..]));
        assert_eq!(m.by_user.row(1), (&[0, 2][..], &[4.0, 5.0][..]));
        assert_eq!(m.by_item.row(2), (&[0, 1][..], &[1.0, 5.0][..]));
        assert_eq!(m.by_item.row_len(0), 1);
        assert!(m.by_user.contains(1, 2) && !m.by_user.contains(0, 0));
        assert_eq!(m.global_mean, 13.0 / 4.0);
        assert_eq!(m.iter().count(), 4);
    }
}
