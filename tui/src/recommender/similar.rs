//! "Similar movies" for the detail view: movies the dataset's users rated
//! alike, by adjusted cosine similarity over their own ratings (each rating
//! minus that user's mean, so a harsh and a generous rater agree when both
//! like a film more than usual).
//!
//! Norms run over all of a movie's ratings, not just the shared ones, so two
//! films that share three raters cannot look like twins; the score is also
//! damped by `shared / (shared + DAMPING)`. Built from the dataset alone, so
//! it is the same for every viewer and does not move as you rate.

use cinema_store::dataset::Dataset;

/// Shared raters at which the damping halves a similarity.
const DAMPING: f32 = 10.0;
/// Fewer shared raters than this is no evidence at all.
const MIN_SHARED: u32 = 3;

pub struct Similar {
    /// Indices into `Dataset::ratings`, grouped by user; `None` when the
    /// ratings already are (as MovieLens CSV files are), which saves a copy.
    order: Option<Vec<u32>>,
    /// Where each user's ratings start in the grouped order; one past the end last.
    starts: Vec<usize>,
    user_mean: Vec<f32>,
    /// Per movie: the length of its vector of mean-centred ratings.
    norm: Vec<f32>,
}

impl Similar {
    /// One pass to count, one to group (skipped when already grouped), one for the norms.
    pub fn build(dataset: &Dataset) -> Similar {
        let users = dataset.user_ids.len();
        let ratings = &dataset.ratings;
        let mut count = vec![0usize; users];
        let mut sum = vec![0f64; users];
        for r in ratings {
            count[r.user as usize] += 1;
            sum[r.user as usize] += f64::from(r.value);
        }
        let user_mean: Vec<f32> =
            sum.iter().zip(&count).map(|(&s, &n)| if n == 0 { 0.0 } else { (s / n as f64) as f32 }).collect();
        let mut starts = Vec::with_capacity(users + 1);
        let mut at = 0;
        for &n in &count {
            starts.push(at);
            at += n;
        }
        starts.push(at);
        let grouped = ratings.windows(2).all(|w| w[0].user <= w[1].user);
        let order = (!grouped).then(|| {
            let mut next = starts.clone();
            let mut order = vec![0u32; ratings.len()];
            for (i, r) in ratings.iter().enumerate() {
                order[next[r.user as usize]] = i as u32;
                next[r.user as usize] += 1;
            }
            order
        });
        let mut squares = vec![0f32; dataset.movies.len()];
        for r in ratings {
            let d = r.value - user_mean[r.user as usize];
            squares[r.item as usize] += d * d;
        }
        let norm = squares.into_iter().map(f32::sqrt).collect();
        Similar { order, starts, user_mean, norm }
    }

    /// The `n` movies most like `movie`, best first, with similarities in (0, 1].
    pub fn top(&self, dataset: &Dataset, movie: u32, n: usize) -> Vec<(u32, f32)> {
        let movies = dataset.movies.len();
        let Some(&own_norm) = self.norm.get(movie as usize).filter(|&&v| v > 0.0) else { return Vec::new() };
        let mut dot = vec![0f32; movies];
        let mut shared = vec![0u32; movies];
        for r in dataset.ratings.iter().filter(|r| r.item == movie) {
            let u = r.user as usize;
            let d = r.value - self.user_mean[u];
            for i in self.starts[u]..self.starts[u + 1] {
                let other = &dataset.ratings[self.order.as_ref().map_or(i, |o| o[i] as usize)];
                dot[other.item as usize] += d * (other.value - self.user_mean[u]);
                shared[other.item as usize] += 1;
            }
        }
        let mut scored: Vec<(u32, f32)> = (0..movies)
            .filter(|&m| m != movie as usize && shared[m] >= MIN_SHARED && self.norm[m] > 0.0)
            .map(|m| {
                let n = shared[m] as f32;
                (m as u32, dot[m] / (own_norm * self.norm[m]) * n / (n + DAMPING))
            })
            .filter(|&(_, s)| s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(n);
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_store::dataset::Rating;

    fn rating(user: u32, item: u32, value: f32) -> Rating {
        Rating { user, item, value, timestamp: 0 }
    }

    /// Movies 0 and 1 are loved and hated together, 2 goes the other way.
    #[test]
    fn movies_rated_alike_are_similar_and_opposites_are_not() {
        let mut ds = cinema_store::demo::catalogue();
        ds.movies.truncate(4);
        ds.user_ids.truncate(4);
        let mut ratings = Vec::new();
        for (user, (a, c)) in [(5.0, 1.0), (1.0, 5.0), (5.0, 1.0), (1.0, 5.0)].into_iter().enumerate() {
            let user = user as u32;
            // Out of user order on purpose: the index must group them itself.
            ratings.insert(0, rating(user, 0, a));
            ratings.push(rating(user, 1, a));
            ratings.push(rating(user, 2, c));
            ratings.push(rating(user, 3, 3.0));
        }
        ds.ratings = ratings;
        let similar = Similar::build(&ds);
        assert!(similar.order.is_some());
        let top = similar.top(&ds, 0, 5);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), [1], "{top:?}");
        assert!(top[0].1 > 0.2 && top[0].1 <= 1.0, "{top:?}");
        // 3 is rated a little below a user's mean exactly when 2 is rated far below it.
        assert_eq!(similar.top(&ds, 2, 5).iter().map(|t| t.0).collect::<Vec<_>>(), [3]);
    }
}
