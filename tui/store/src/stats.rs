//! Per-movie numbers from the dataset's own ratings, computed once at start:
//! how often each rating value was given, and from that the count and mean.

use crate::dataset::{Dataset, RatingScale};

pub struct MovieStats {
    scale: RatingScale,
    bins: usize,
    /// `bins` counts per movie: bin `b` is the rating `min + b·step`.
    histogram: Vec<u32>,
    pub count: Vec<u32>,
    /// `NaN` for a movie nobody rated.
    pub mean: Vec<f32>,
}

impl MovieStats {
    pub fn compute(dataset: &Dataset) -> MovieStats {
        let scale = dataset.scale;
        let bins = bins(scale);
        let movies = dataset.movies.len();
        let mut histogram = vec![0u32; movies * bins];
        let mut sum = vec![0f64; movies];
        let mut count = vec![0u32; movies];
        for r in &dataset.ratings {
            let m = r.item as usize;
            if m >= movies {
                continue;
            }
            histogram[m * bins + bin(scale, bins, r.value)] += 1;
            sum[m] += f64::from(r.value);
            count[m] += 1;
        }
        let mean =
            sum.iter().zip(&count).map(|(&s, &n)| if n == 0 { f32::NAN } else { (s / f64::from(n)) as f32 }).collect();
        MovieStats { scale, bins, histogram, count, mean }
    }

    /// `(rating value, how many gave it)`, lowest value first.
    pub fn distribution(&self, movie: u32) -> Vec<(f32, u32)> {
        let start = movie as usize * self.bins;
        let counts = self.histogram.get(start..start + self.bins).unwrap_or(&[]);
        counts.iter().enumerate().map(|(b, &n)| (self.scale.min + b as f32 * self.scale.step, n)).collect()
    }
}

fn bins(scale: RatingScale) -> usize {
    (((scale.max - scale.min) / scale.step).round() as usize + 1).max(1)
}

fn bin(scale: RatingScale, bins: usize, value: f32) -> usize {
    (((value - scale.min) / scale.step).round().max(0.0) as usize).min(bins - 1)
}
