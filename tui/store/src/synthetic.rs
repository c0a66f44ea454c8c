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
/// Genres and the share of movies with each, as in MovieLens 25M.
const GENRES: [(&str, f64); 19] = [
    ("Drama", 0.40),
    ("Comedy", 0.27),
    ("Thriller", 0.14),
    ("Romance", 0.12),
    ("Action", 0.12),
    ("Horror", 0.10),
    ("Documentary", 0.09),
    ("Crime", 0.09),
    ("Adventure", 0.07),
    ("Sci-Fi", 0.06),
    ("Animation", 0.05),
    ("Mystery", 0.05),
    ("Fantasy", 0.05),
    ("Children", 0.04),
    ("War", 0.03),
    ("Musical", 0.02),
    ("Western", 0.02),
    ("Film-Noir", 0.01),
    ("IMAX", 0.003),
];
/// Distinct title words and tags the catalogue draws from.
const WORDS: usize = 20_000;
const TAGS: usize = 1_000;
/// Share of movies with tags (MovieLens tags a minority of its catalogue).
const TAGGED: f64 = 0.2;

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
    // Content from a stream of its own, so the ratings stay what they were.
    let mut rng = StdRng::seed_from_u64(seed ^ 0xc0de);
    Dataset {
        name: format!("synthetic-{ratings}x{movies}"),
        format: Format::Demo,
        scale: RatingScale::WHOLE_STARS,
        genres: GENRES.iter().map(|g| g.0.to_owned()).collect(),
        movies: (0..movies as u32).map(|id| movie(id, &mut rng)).collect(),
        user_ids: (0..users as u32).collect(),
        ratings: out,
    }
}

/// A movie with genres at MovieLens's rates, a title of one to four words
/// and, for some, tags; words and tags are skewed towards a common few.
fn movie(id: u32, rng: &mut StdRng) -> Movie {
    let genres = GENRES.iter().enumerate().filter(|(_, g)| rng.random_bool(g.1)).fold(0, |bits, (g, _)| bits | 1 << g);
    let tagged = rng.random_bool(TAGGED);
    let mut pick = |n: usize, skew: i32| (rng.random::<f64>().powi(skew) * n as f64) as usize;
    let words: Vec<String> = (0..1 + pick(4, 1)).map(|_| word(pick(WORDS, 3))).collect();
    let mut tags: Vec<String> = match tagged {
        true => (0..1 + pick(5, 2)).map(|_| format!("tag {}", word(pick(TAGS, 2)))).collect(),
        false => Vec::new(),
    };
    tags.sort();
    tags.dedup();
    Movie { id, title: words.join(" "), year: None, genres, imdb_id: None, tmdb_id: None, tags }
}

/// A pronounceable word for `n`, one syllable per decimal digit.
fn word(n: usize) -> String {
    const SYLLABLES: [&str; 10] = ["ka", "lo", "mi", "ra", "ten", "vo", "sha", "dun", "el", "bri"];
    let digits = n.to_string();
    let mut word: String = digits.bytes().map(|d| SYLLABLES[(d - b'0') as usize]).collect();
    word[..1].make_ascii_uppercase();
    word
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

    #[test]
    fn movies_have_genres_titles_and_some_tags_at_realistic_rates() {
        let a = generate(1_000, 5_000, 1);
        let drama = a.movies.iter().filter(|m| m.genres & 1 != 0).count() as f64 / 5_000.0;
        assert!((0.35..0.45).contains(&drama), "{drama}");
        let tagged = a.movies.iter().filter(|m| !m.tags.is_empty()).count() as f64 / 5_000.0;
        assert!((0.15..0.25).contains(&tagged), "{tagged}");
        assert!(a.movies.iter().all(|m| !m.title.is_empty()));
        let distinct: HashSet<&str> = a.movies.iter().map(|m| m.title.as_str()).collect();
        assert!(distinct.len() > 4_000, "titles are varied: {}", distinct.len());
    }
}
