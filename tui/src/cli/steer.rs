//! `cinema hide`, `cinema seen` and `cinema watchlist`: steering your lists
//! from the command line. Each change goes to your ratings log like a
//! rating (synced before it is acknowledged, undone by `cinema rate --undo`)
//! and needs no engine: the next list learns it.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cinema_protocol::Mark;
use cinema_store::dataset::Dataset;
use cinema_store::history::matching::{Found, Matcher};
use cinema_store::history::titles::display;
use cinema_store::history::watchlist;
use cinema_store::ratings_log::RatingsLog;
use serde::Serialize;

use super::rate::{change, find_movie};
use super::{Env, load_dataset, print_json};
use crate::recommender::{Edit, save};

#[derive(Debug, clap::Args)]
pub struct On {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct MarkArgs {
    #[command(flatten)]
    on: On,
    /// Movie id, or words of its title.
    movie: String,
    /// Take the mark off instead.
    #[arg(long)]
    remove: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Watchlist {
    /// Put a movie on your watchlist: at the end, or at place --at N (1 is the top).
    Add {
        #[command(flatten)]
        on: On,
        movie: String,
        #[arg(long, value_name = "N")]
        at: Option<u32>,
    },
    /// Move a movie on your watchlist to place N (1 is the top).
    Move {
        #[command(flatten)]
        on: On,
        movie: String,
        to: u32,
    },
    /// Take a movie off your watchlist.
    Remove {
        #[command(flatten)]
        on: On,
        movie: String,
    },
    /// Your watchlist in your order.
    List {
        #[command(flatten)]
        on: On,
    },
    /// Write your watchlist as the CSV Letterboxd imports (default) or as JSON.
    Export {
        #[command(flatten)]
        on: On,
        #[arg(long, value_enum, default_value = "letterboxd")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Add the films of a watchlist file (Letterboxd's watchlist.csv, its export .zip, or what `export`
    /// wrote) to the end of your watchlist, in the file's order.
    Import {
        #[command(flatten)]
        on: On,
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Letterboxd,
    Json,
}

/// `cinema hide` (`mark` = hidden) and `cinema seen`.
pub fn mark(env: &Env, args: MarkArgs, mark: Mark) -> Result<()> {
    let dataset = load_dataset(env, args.on.dataset.as_deref())?;
    let movie = find_movie(&dataset, &args.movie)?;
    change(env, &dataset, Edit::Mark(movie, (!args.remove).then_some(mark)))
}

pub fn watchlist(env: &Env, command: Watchlist) -> Result<()> {
    let load = |on: &On| load_dataset(env, on.dataset.as_deref());
    match command {
        Watchlist::Add { on, movie, at } => {
            let dataset = load(&on)?;
            let movie = find_movie(&dataset, &movie)?;
            change(env, &dataset, Edit::Watch(movie, Some(place(at)?.unwrap_or(u32::MAX))))
        }
        Watchlist::Move { on, movie, to } => {
            let dataset = load(&on)?;
            let movie = find_movie(&dataset, &movie)?;
            change(env, &dataset, Edit::Watch(movie, place(Some(to))?))
        }
        Watchlist::Remove { on, movie } => {
            let dataset = load(&on)?;
            let movie = find_movie(&dataset, &movie)?;
            change(env, &dataset, Edit::Watch(movie, None))
        }
        Watchlist::List { on } => list(env, &load(&on)?),
        Watchlist::Export { on, format, output } => export(env, &load(&on)?, format, output),
        Watchlist::Import { on, file } => import(env, &load(&on)?, &file),
    }
}

/// A place as people count (1 is the top) as the log keeps it (0 is).
fn place(at: Option<u32>) -> Result<Option<u32>> {
    match at {
        Some(0) => bail!("places on the watchlist count from 1 (the top)"),
        at => Ok(at.map(|p| p - 1)),
    }
}

/// One film of the watchlist, as `list --json` and `export --format json` write it.
#[derive(Serialize)]
struct Listed {
    /// 1 is the top.
    place: u32,
    movie_id: u32,
    title: String,
    display_title: String,
    year: Option<u16>,
    imdb_id: Option<u32>,
    tmdb_id: Option<u32>,
}

fn open_log(env: &Env, dataset: &Dataset) -> Result<RatingsLog> {
    let (log, warnings) = RatingsLog::open(&super::place(env, dataset).ratings_path(&env.home))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(log)
}

/// The watchlist's films in the dataset, in order (a film no longer in it is skipped).
fn listed(dataset: &Dataset, log: &RatingsLog) -> Vec<Listed> {
    let movies = log.watchlist().iter().filter_map(|&id| Some(&dataset.movies[dataset.movie_index(id)? as usize]));
    movies
        .enumerate()
        .map(|(k, m)| Listed {
            place: k as u32 + 1,
            movie_id: m.id,
            title: m.title.clone(),
            display_title: display(&m.title),
            year: m.year,
            imdb_id: m.imdb_id,
            tmdb_id: m.tmdb_id,
        })
        .collect()
}

fn list(env: &Env, dataset: &Dataset) -> Result<()> {
    let listed = listed(dataset, &open_log(env, dataset)?);
    if env.json {
        return print_json(&listed);
    }
    if listed.is_empty() {
        println!("your watchlist in {} is empty: cinema watchlist add MOVIE (or + in the app)", dataset.name);
    }
    for l in &listed {
        println!("{:>3}. {}{}", l.place, l.display_title, l.year.map(|y| format!(" ({y})")).unwrap_or_default());
    }
    Ok(())
}

fn export(env: &Env, dataset: &Dataset, format: Format, output: Option<PathBuf>) -> Result<()> {
    let log = open_log(env, dataset)?;
    let bytes = match format {
        Format::Json => {
            let mut json = serde_json::to_vec_pretty(&listed(dataset, &log))?;
            json.push(b'\n');
            json
        }
        Format::Letterboxd => {
            let ids = log.watchlist().iter().filter_map(|&id| dataset.movie_index(id));
            watchlist::write(&ids.map(|i| &dataset.movies[i as usize]).collect::<Vec<_>>())?
        }
    };
    match output {
        Some(path) => {
            cinema_store::atomic::write(&path, &bytes)
                .with_context(|| format!("could not write {}", path.display()))?;
            eprintln!("wrote {} films to {}", log.watchlist().len(), path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}

/// What `watchlist import --json` prints.
#[derive(Serialize)]
struct Imported {
    added: usize,
    /// Already on the watchlist: left where they are.
    already: usize,
    /// `(line, title)` of films not in the dataset, or not told apart from a namesake.
    unmatched: Vec<(usize, String)>,
    /// `(line, why)` of rows left out as malformed.
    malformed: Vec<(usize, String)>,
}

fn import(env: &Env, dataset: &Dataset, file: &std::path::Path) -> Result<()> {
    let export = watchlist::read(file)?;
    let mut log = open_log(env, dataset)?;
    let matcher = Matcher::new(dataset);
    let mut done = Imported { added: 0, already: 0, unmatched: Vec::new(), malformed: export.malformed.clone() };
    for row in &export.rows {
        match matcher.find(row) {
            Found::Movie(i) if log.watchlist().contains(&dataset.movies[i as usize].id) => done.already += 1,
            Found::Movie(i) => {
                save(dataset, &mut log, Edit::Watch(i, Some(u32::MAX)))?;
                done.added += 1;
            }
            Found::Ambiguous(_) | Found::Unmatched => done.unmatched.push((row.line, row.title.clone())),
        }
    }
    if env.json {
        return print_json(&done);
    }
    println!(
        "added {} films to your watchlist ({} already on it); {} not found in {}, {} malformed",
        done.added,
        done.already,
        done.unmatched.len(),
        dataset.name,
        done.malformed.len()
    );
    for (line, title) in &done.unmatched {
        println!("  line {line}: {title} is not in {} (or has a namesake there)", dataset.name);
    }
    for (line, why) in &done.malformed {
        println!("  line {line}: {why}");
    }
    Ok(())
}
