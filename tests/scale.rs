//! Cinema at MovieLens 25M's size, in a real terminal: a first start on 25
//! million ratings draws at once, takes a rating while the first models
//! train behind it, and swaps them in when they are ready.
//!
//! Its own test binary, so it never runs beside the other end-to-end tests:
//! it holds about 3.5 GB and both cores for a few minutes, which would be
//! timed as their slowness. The dataset is written by the test in
//! MovieLens's CSV layout (GroupLens data is never committed). Times are
//! printed, not asserted: speed is measured by `cinema bench`.

#[path = "common/tmux.rs"]
mod tmux;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tmux::{Tmux, have_tmux};

/// MovieLens 25M's shape: 162,541 users and 62,423 movies in the real one.
const USERS: u32 = 162_000;
const MOVIES: u32 = 62_000;
const RATINGS: u64 = 25_000_000;
/// Quick models at this size take about a minute and a half on two idle
/// cores; allow for a machine many times slower.
const TRAINED_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const GENRES: [&str; 8] = ["Action", "Comedy", "Drama", "Romance", "Thriller", "Sci-Fi", "Documentary", "Animation"];

/// Writes `movies.csv` and `ratings.csv` as MovieLens 25M lays them out.
/// Each user rates a stride through the catalogue (distinct movies), half
/// stars, higher where the user's and the movie's taste group agree, so the
/// models have something to learn.
fn write_movielens(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut movies = BufWriter::new(std::fs::File::create(dir.join("movies.csv")).unwrap());
    writeln!(movies, "movieId,title,genres").unwrap();
    for m in 1..=MOVIES {
        let genres = [GENRES[m as usize % 8], GENRES[(m as usize / 8) % 8]];
        writeln!(movies, "{m},Synthetic Movie {m} ({}),{}", 1950 + m % 70, genres.join("|")).unwrap();
    }
    movies.flush().unwrap();
    let mut ratings = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("ratings.csv")).unwrap());
    writeln!(ratings, "userId,movieId,rating,timestamp").unwrap();
    let (per_user, extra) = (RATINGS / u64::from(USERS), RATINGS % u64::from(USERS));
    for u in 0..USERS {
        let n = per_user + u64::from(u64::from(u) < extra);
        // Odd and prime to 5 and 31, so prime to 62,000: n < 62,000 distinct movies.
        let stride = [1u64, 3, 7, 9, 11, 13, 17, 19][u as usize % 8];
        let start = u64::from(u).wrapping_mul(7919) % u64::from(MOVIES);
        for j in 0..n {
            let m = (start + j * stride) % u64::from(MOVIES);
            let agree = (u64::from(u) % 7 == m % 7) as u64;
            let noise = (u64::from(u) * 31 + m * 17) % 5;
            let half_stars = (4 + 4 * agree + noise).min(10);
            let rating = half_stars as f64 / 2.0;
            writeln!(ratings, "{},{},{rating:.1},{}", u + 1, m + 1, 1_500_000_000 + j).unwrap();
        }
    }
    ratings.flush().unwrap();
}

fn cinema(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cinema"));
    command.arg("--home").arg(home);
    command
}

#[test]
fn a_first_start_on_25_million_ratings_draws_at_once_learns_a_rating_and_swaps_in_its_first_models() {
    if !have_tmux() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let (folder, home) = (dir.path().join("ml-synthetic-25m"), dir.path().join("home"));
    let started = Instant::now();
    write_movielens(&folder);
    eprintln!("wrote {RATINGS} ratings in {:.1} s", started.elapsed().as_secs_f64());

    // The import writes the dataset's cache, as a first `cinema import` or Data-view import does.
    let started = Instant::now();
    let out = cinema(&home).arg("import").arg(&folder).output().unwrap();
    assert!(out.status.success(), "cinema import: {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("imported in {:.1} s", started.elapsed().as_secs_f64());

    let command = format!(
        "env NO_COLOR=1 CINEMA_LOG=info '{}' --home '{}' --dataset '{}'",
        env!("CARGO_BIN_EXE_cinema"),
        home.display(),
        folder.display()
    );
    let tmux = Tmux::new();
    let started = Instant::now();
    tmux.start(&command);
    let first = tmux.wait("the first frame", TRAINED_TIMEOUT, |s| s.contains("[Browse]") && s.contains("▶ "));
    eprintln!("first frame after {:.2} s", started.elapsed().as_secs_f64());
    // Drawn before any model: the engine still loads the ratings, or a stand-in serves the popular list.
    assert!(first.contains("opening ml-synthetic-25m") || first.contains("for now"), "{first}");

    // The selected row (the most votes): rate it while the models train.
    tmux.keys(&["5"]);
    let rated = tmux.wait("the rating", TRAINED_TIMEOUT, |s| s.contains("saved and learned"));
    assert!(rated.contains("1 rated"), "{rated}");
    let movie = rated.lines().find(|l| l.contains("saved and learned")).unwrap().to_owned();

    let swapped = tmux.wait("the first models", TRAINED_TIMEOUT, |s| {
        s.contains("quick first models are trained") || s.contains("model: svd + ials ranking on")
    });
    eprintln!("first models serving after {:.1} s", started.elapsed().as_secs_f64());
    assert!(swapped.contains(" For you ") && !swapped.contains("for now"), "{swapped}");
    tmux.keys(&["q"]);
    tmux.wait_exit();

    // The rating and the quick models are kept.
    let out = cinema(&home).args(["ratings", "--json", "--dataset"]).arg(&folder).output().unwrap();
    let ratings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ratings.as_array().map(Vec::len), Some(1), "{movie}: {ratings}");
    let out = cinema(&home).args(["versions", "list", "--json", "--dataset"]).arg(&folder).output().unwrap();
    let versions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &versions.as_array().expect("a list of versions")[0];
    assert_eq!((first["quick"].as_bool(), first["epochs"].as_u64()), (Some(true), Some(3)), "{versions}");
}
