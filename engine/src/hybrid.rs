//! The hybrid list: score = w · CF part + (1 − w) · content part.
//!
//! The two parts live on unrelated scales (a ranking score or predicted
//! stars against a mean cosine), so each is brought to [0, 1] over the
//! candidates before they are blended:
//!
//! - CF part: min–max scaling of the list's own score. When every candidate
//!   scores the same, CF cannot tell them apart and its part is 0 for all.
//! - content part: the mean cosine between the movie and the viewer's liked
//!   movies (each liked movie counts once; computed exactly from the
//!   vectors, not looked up in the kept neighbours, so a movie sharing only
//!   a genre still counts), divided by its largest value over the
//!   candidates. No liked movies, or no movie with features near them: 0
//!   for all, so the list is CF's alone whatever the weight.
//!
//! Only candidates (movies the viewer has not rated that have training
//! ratings) take part in either scaling, so a rated blockbuster cannot
//! squash everyone else's CF part.

use crate::content::Content;
use crate::topn::TopN;

/// Both parts of every movie, in [0, 1]; non-candidates are `None`.
pub struct Parts {
    cf: Vec<Option<f32>>,
    content: Vec<f32>,
}

impl Parts {
    /// `cf` is the list's raw score of every movie; `candidate` says which
    /// movies may be listed; `liked` are the viewer's liked movies.
    pub fn new(cf: &[f32], candidate: &[bool], content: Option<&Content>, liked: &[u32]) -> Parts {
        // In f64, so the range of two extreme f32 scores cannot overflow;
        // a score that is not a number counts as the lowest.
        let (lo, hi) = cf
            .iter()
            .zip(candidate)
            .filter(|(s, c)| **c && s.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (&s, _)| (lo.min(s.into()), hi.max(s.into())));
        let scaled = |s: f32| match f64::from(s) {
            s if s.is_nan() || s == f64::NEG_INFINITY => 0.0,
            f64::INFINITY => 1.0,
            s if hi > lo => ((s - lo) / (hi - lo)) as f32,
            _ => 0.0,
        };
        let cf = cf.iter().zip(candidate).map(|(&s, &c)| c.then(|| scaled(s))).collect();
        let near = match content {
            Some(content) if !liked.is_empty() => content.cosine_sums(liked),
            _ => vec![0f32; candidate.len()],
        };
        let top = near.iter().zip(candidate).filter(|(_, c)| **c).map(|(&s, _)| s).fold(0f32, f32::max);
        // Dividing the sum by its maximum is the mean divided by its maximum.
        let content = near.iter().map(|&s| if top > 0.0 { s / top } else { 0.0 }).collect();
        Parts { cf, content }
    }

    /// `(cf, content)` of a movie; `None` if it is not a candidate.
    pub fn of(&self, item: u32) -> Option<(f32, f32)> {
        self.cf[item as usize].map(|cf| (cf, self.content[item as usize]))
    }

    /// The `n` best candidates under `weight`, best first.
    pub fn top(&self, weight: f32, n: usize) -> Vec<(u32, f32)> {
        let mut top = TopN::new(n);
        for (i, score) in self.scored(weight) {
            top.push(i, score);
        }
        top.into_sorted()
    }

    /// Every candidate with its score under `weight`.
    pub fn scored(&self, weight: f32) -> Vec<(u32, f32)> {
        let parts = self.cf.iter().zip(&self.content).enumerate();
        parts.filter_map(|(i, (cf, &content))| cf.map(|cf| (i as u32, blend(weight, cf, content)))).collect()
    }
}

pub fn blend(weight: f32, cf: f32, content: f32) -> f32 {
    weight * cf + (1.0 - weight) * content
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_protocol::{Features, Field};

    fn content() -> Content {
        // Movies 0 and 1 share a genre and a word; 2 shares the genre only; 3 has nothing.
        let features = vec![
            Features { item: 0, terms: vec![(0, Field::Genre), (7, Field::Title)] },
            Features { item: 1, terms: vec![(0, Field::Genre), (7, Field::Title)] },
            Features { item: 2, terms: vec![(0, Field::Genre), (8, Field::Title)] },
        ];
        Content::build(4, &features, 5)
    }

    #[test]
    fn both_parts_span_zero_to_one_over_the_candidates() {
        let candidate = [false, true, true, true];
        let parts = Parts::new(&[9.0, 2.0, 4.0, 3.0], &candidate, Some(&content()), &[0]);
        assert_eq!(parts.of(0), None);
        let (cf1, c1) = parts.of(1).unwrap();
        let (cf2, c2) = parts.of(2).unwrap();
        let (cf3, c3) = parts.of(3).unwrap();
        assert_eq!((cf1, cf2, cf3), (0.0, 1.0, 0.5));
        assert_eq!(c1, 1.0);
        assert!(c2 > 0.0 && c2 < 1.0);
        assert_eq!(c3, 0.0);
        // CF alone puts 2 first; content alone puts 1 first.
        assert_eq!(parts.top(1.0, 1)[0].0, 2);
        assert_eq!(parts.top(0.0, 1)[0].0, 1);
    }

    #[test]
    fn scores_that_are_not_numbers_stay_inside_zero_to_one() {
        let candidate = [true; 4];
        let parts = Parts::new(&[f32::NAN, f32::INFINITY, f32::MAX, -f32::MAX], &candidate, None, &[]);
        assert_eq!((0..4).map(|i| parts.of(i).unwrap().0).collect::<Vec<_>>(), vec![0.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn no_liked_movies_and_a_flat_cf_give_zero_parts() {
        let candidate = [true, true, true, true];
        let parts = Parts::new(&[1.0; 4], &candidate, Some(&content()), &[]);
        assert!((0..4).all(|i| parts.of(i) == Some((0.0, 0.0))));
        let parts = Parts::new(&[1.0, 2.0, 3.0, 4.0], &candidate, None, &[0]);
        assert_eq!(parts.of(3), Some((1.0, 0.0)));
    }
}
