//! `cinema import-ratings`: your rating history from a Letterboxd or IMDb
//! export, matched to the dataset's movies and previewed; without
//! `--dry-run` the matched ratings are appended to your ratings log as one
//! batch, which `cinema rate --undo` (or `u` in the app) takes back whole.

use std::path::PathBuf;

use anyhow::Result;
use cinema_store::history::{self, export};
use cinema_store::ratings_log::RatingsLog;

use super::{Env, load_dataset, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Letterboxd's export (.zip, ratings.csv or diary.csv) or IMDb's ratings CSV.
    file: PathBuf,
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Show what would change, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// List every left-out, ambiguous and unmatched row (text shows the first 10 of each).
    #[arg(long)]
    verbose: bool,
}

/// Rows of each kind the text output lists without `--verbose`: a whole
/// export that did not match would otherwise bury the summary.
const LISTED: usize = 10;

pub fn run(env: &Env, args: Args) -> Result<()> {
    let path = super::dataset_path(env, args.dataset.as_deref())?;
    let dataset = load_dataset(env, Some(&path))?;
    let export = export::read(&args.file)?;
    let (mut log, warnings) = RatingsLog::open(&super::place(env, &dataset).ratings_path(&env.home))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let mut preview = history::preview(&export, &dataset, log.ratings());
    if !args.dry_run {
        let batch: Vec<(u32, f32)> = preview.ratings.iter().map(|p| (p.movie_id, p.rating)).collect();
        preview.imported = log.rate_batch(&batch)?;
    }
    if env.json {
        return print_json(&preview);
    }
    let p = &preview;
    println!(
        "{} ({} rows) against {}: {} matched, {} ambiguous, {} unmatched, {} skipped",
        p.format.label(),
        p.rows,
        dataset.name,
        p.matched,
        p.ambiguous.len(),
        p.unmatched.len(),
        p.skipped
    );
    println!("ratings: {} new, {} changed, {} unchanged", p.new, p.changed, p.unchanged);
    if p.rounded > 0 {
        println!(
            "{} half-star ratings were rounded half up to whole stars ({} rates in whole stars)",
            p.rounded, dataset.name
        );
    }
    let limit = if args.verbose { usize::MAX } else { LISTED };
    listed(&p.malformed, limit, |(line, why)| format!("line {line}: left out: {why}"));
    let year = |y: &Option<u16>| y.map(|y| format!(" ({y})")).unwrap_or_default();
    listed(&p.ambiguous, limit, |a| {
        let names: Vec<String> =
            a.candidates.iter().map(|c| format!("{} {}{}", c.movie_id, c.title, year(&c.year))).collect();
        format!("line {}: {}{} is ambiguous: {}", a.line, a.title, year(&a.year), names.join(" or "))
    });
    listed(&p.unmatched, limit, |u| {
        format!("line {}: {}{} is not in {}", u.line, u.title, year(&u.year), dataset.name)
    });
    if args.dry_run {
        println!("dry run: nothing written; run again without --dry-run to import {} ratings", p.ratings.len());
    } else if p.imported > 0 {
        println!(
            "imported {} ratings as one batch; `cinema rate --dataset {} --undo` takes them all back",
            p.imported,
            path.display()
        );
    } else {
        println!("nothing to change: your ratings already say this");
    }
    Ok(())
}

/// The first `limit` rows, then how many more there are.
fn listed<T>(rows: &[T], limit: usize, line: impl Fn(&T) -> String) {
    for row in rows.iter().take(limit) {
        println!("  {}", line(row));
    }
    if rows.len() > limit {
        println!("  … and {} more (--json or --verbose lists all)", rows.len() - limit);
    }
}
