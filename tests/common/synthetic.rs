//! A MovieLens-shaped catalogue written by the tests (GroupLens data is
//! never committed): `movies.csv` and `ratings.csv` in the CSV layout of
//! MovieLens 25M, of any size.

use std::io::{BufWriter, Write};
use std::path::Path;

const GENRES: [&str; 8] = ["Action", "Comedy", "Drama", "Romance", "Thriller", "Sci-Fi", "Documentary", "Animation"];

/// Writes `movies.csv` and `ratings.csv` as MovieLens 25M lays them out.
/// Each user rates a stride through the catalogue (distinct movies), half
/// stars, higher where the user's and the movie's taste group agree, so the
/// models have something to learn.
pub fn write_movielens(dir: &Path, users: u32, movies: u32, ratings: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let mut movie_file = BufWriter::new(std::fs::File::create(dir.join("movies.csv")).unwrap());
    writeln!(movie_file, "movieId,title,genres").unwrap();
    for m in 1..=movies {
        let genres = [GENRES[m as usize % 8], GENRES[(m as usize / 8) % 8]];
        writeln!(movie_file, "{m},Synthetic Movie {m} ({}),{}", 1950 + m % 70, genres.join("|")).unwrap();
    }
    movie_file.flush().unwrap();
    let mut rating_file = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("ratings.csv")).unwrap());
    writeln!(rating_file, "userId,movieId,rating,timestamp").unwrap();
    let (per_user, extra) = (ratings / u64::from(users), ratings % u64::from(users));
    for u in 0..users {
        let n = per_user + u64::from(u64::from(u) < extra);
        // Odd and prime to 5 and 31, so prime to 62,000: with that many
        // movies a user's n < 62,000 are distinct.
        let stride = [1u64, 3, 7, 9, 11, 13, 17, 19][u as usize % 8];
        let start = u64::from(u).wrapping_mul(7919) % u64::from(movies);
        for j in 0..n {
            let m = (start + j * stride) % u64::from(movies);
            let agree = (u64::from(u) % 7 == m % 7) as u64;
            let noise = (u64::from(u) * 31 + m * 17) % 5;
            let half_stars = (4 + 4 * agree + noise).min(10);
            let rating = half_stars as f64 / 2.0;
            writeln!(rating_file, "{},{},{rating:.1},{}", u + 1, m + 1, 1_500_000_000 + j).unwrap();
        }
    }
    rating_file.flush().unwrap();
}
