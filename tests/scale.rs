//! Cinema at MovieLens 25M's size, in a real terminal: a first start on 25
//! million ratings draws at once, takes a rating while the first models
//! train behind it, and swaps them in when they are ready.
//!
//! Its own test binary, so it never runs beside the other end-to-end tests:
//! it holds about 3.5 GB and both cores for a few minutes, which would be
//! timed as their slowness. The dataset is written by the test in
//! MovieLens's CSV layout (GroupLens data is never committed). Times are
//! printed, not asserted: speed is measured by `cinema bench`.

#[path = "common/synthetic.rs"]
mod synthetic;
#[path = "common/tmux.rs"]
mod tmux;

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
    synthetic::write_movielens(&folder, USERS, MOVIES, RATINGS);
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
        s.contains("quick first models are trained") || s.contains("model: svd + rankblend ranking on")
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
