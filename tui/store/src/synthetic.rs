//! Deterministic synthetic datasets with latent structure, for measuring
//! how speed grows with scale (1M, 5M ratings; 62,000 movies) where no real
//! dataset of that size is at hand.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::dataset::{Dataset, Format, Movie, Rating, RatingScale};

const RATINGS_PER_USER: usize = 100;
const LATENT: usize = 8;

/// `ratings` whole-star ratings of `movies` movies by `ratings / 100` users:
/// rating = round(3.5 + b_u + b_i + u·v + noise), clipped to 1–5, with a
/// skewed movie popularity like real catalogues.
pub fn generate(ratings: usize, movies: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let users = ratings.div_ceil(RATINGS_PER_USER).max(1);
    let latent = Normal::new(0.0f32, 0.45).expect("valid normal");
    let bias = Normal::new(0.0f32, 0.35).expect("valid normal");
    let noise = Normal::new(0.0f32, 0.6).expect("valid normal");
    let item_vecs: Vec<[f32; LATENT]> = (0..movies).map(|_| std::array::from_fn(|_| latent.sample(&mut rng))).collect();
    let item_bias: Vec<f32> = (0..movies).map(|_| bias.sample(&mut rng)).collect();
    let mut out = Vec::with_capacity(ratings);
    let mut seen = HashSet::new();
    for user in 0..users {
        let want = RATINGS_PER_USER.min(ratings - out.len()).min(movies);
        let u: [f32; LATENT] = std::array::from_fn(|_| latent.sample(&mut rng));
        let bu = bias.sample(&mut rng);
        seen.clear();
        while seen.len() < want {
            // x² skews towards low ids: a few popular movies, a long tail.
            let x: f64 = rng.random();
            let item = ((x * x) * movies as f64) as usize % movies;
            if !seen.insert(item) {
                continue;
            }
            let dot: f32 = u.iter().zip(&item_vecs[item]).map(|(a, b)| a * b).sum();
            let value = (3.5 + bu + item_bias[item] + dot + noise.sample(&mut rng)).round().clamp(1.0, 5.0);
            out.push(Rating { user: user as u32, item: item as u32, value, timestamp: 0 });
        }
    }
    Dataset {
        name: format!("synthetic-{ratings}x{movies}"),
        format: Format::Demo,
        scale: RatingScale::WHOLE_STARS,
        genres: Vec::new(),
        movies: (0..movies as u32)
            .map(|id| Movie {
                id,
                title: format!("Synthetic movie {id}"),
                year: None,
                genres: 0,
                imdb_id: None,
                tmdb_id: None,
                tags: Vec::new(),
            })
            .collect(),
        user_ids: (0..users as u32).collect(),
        ratings: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_sized_and_on_scale() {
        let a = generate(5_000, 300, 1);
        assert_eq!(a, generate(5_000, 300, 1));
        assert_eq!(a.ratings.len(), 5_000);
        assert_eq!(a.user_ids.len(), 50);
        assert!(a.ratings.iter().all(|r| a.scale.contains(r.value) && (r.item as usize) < 300));
        let mut pairs: Vec<(u32, u32)> = a.ratings.iter().map(|r| (r.user, r.item)).collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), 5_000, "no user rates a movie twice");
    }
}
