//! `cinema rate` and `cinema ratings`: your ratings from the command line.

use std::path::PathBuf;

use anyhow::{Result, bail};
use cinema_store::history::titles::display;
use serde::Serialize;

use super::{Env, load_dataset, print_json};
use crate::recommender::{Edit, said, save};
use cinema_protocol::Mark;
use cinema_store::dataset::Dataset;
use cinema_store::ratings_log::{Change, RatingsLog, What};

#[derive(Debug, clap::Args)]
pub struct RateArgs {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Movie id, or words of its title (not with --undo).
    #[arg(required_unless_present = "undo")]
    movie: Option<String>,
    /// Your rating on the dataset's scale; omit with --remove.
    #[arg(required_unless_present_any = ["remove", "undo"], conflicts_with = "remove")]
    rating: Option<f32>,
    /// Remove your rating of the movie instead.
    #[arg(long)]
    remove: bool,
    /// Undo your last change (a whole import of your ratings, if that was it); it says which it took back.
    #[arg(long, conflicts_with_all = ["movie", "rating", "remove"])]
    undo: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
}

#[derive(Serialize)]
struct Rated {
    movie_id: u32,
    /// MovieLens's form, e.g. `Godfather, The`.
    title: String,
    /// As people write it, e.g. `The Godfather`.
    display_title: String,
    year: Option<u16>,
    /// `null` for a movie you marked or listed without rating it.
    rating: Option<f32>,
    timestamp: Option<i64>,
    /// `seen` (watched, not rated), `hidden` (not interested) or `null`.
    mark: Option<&'static str>,
    /// Its place on your watchlist, 1 the top; `null` when not on it.
    watchlist: Option<u32>,
}

/// A movie id, or the single movie whose title contains every given word.
pub fn find_movie(dataset: &Dataset, query: &str) -> Result<u32> {
    if let Ok(id) = query.parse::<u32>()
        && let Some(i) = dataset.movie_index(id)
    {
        return Ok(i);
    }
    // A title is matched in every form people write it: MovieLens's
    // (`Godfather, The`), as shown (`The Godfather`), each with its year as
    // the app prints it (`The Godfather (1972)`). A title given whole wins
    // over the titles that merely contain its words.
    let forms = |m: &cinema_store::Movie| -> [String; 4] {
        let shown = cinema_store::history::titles::display(&m.title);
        let year = m.year.map(|y| format!(" ({y})")).unwrap_or_default();
        [format!("{}{year}", m.title), format!("{shown}{year}"), m.title.clone(), shown].map(|f| f.to_lowercase())
    };
    let query_lower = query.trim().to_lowercase();
    let words: Vec<&str> = query_lower.split_whitespace().collect();
    let all = 0..dataset.movies.len() as u32;
    let exact: Vec<u32> = all.clone().filter(|&i| forms(&dataset.movies[i as usize]).contains(&query_lower)).collect();
    let hits: Vec<u32> = if exact.is_empty() {
        all.filter(|&i| {
            let forms = forms(&dataset.movies[i as usize]);
            words.iter().all(|w| forms[..2].iter().any(|f| f.contains(w)))
        })
        .collect()
    } else {
        exact
    };
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no movie in {} matches `{query}`", dataset.name),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(8)
                .map(|&i| {
                    let m = &dataset.movies[i as usize];
                    format!("{} {} ({})", m.id, m.title, m.year.map(|y| y.to_string()).unwrap_or_default())
                })
                .collect();
            bail!("`{query}` matches {} movies; give the id: {}", many.len(), names.join("; "))
        }
    }
}

/// What `cinema rate --json` (and `hide`, `seen`, `watchlist`) prints: the
/// change made (or taken back).
#[derive(Serialize)]
pub struct Saved {
    /// `false`: there was nothing to change (no rating to remove, nothing to undo).
    changed: bool,
    undo: bool,
    /// What changed: `rating`, `mark` or `watchlist`.
    what: Option<&'static str>,
    movie_id: Option<u32>,
    display_title: Option<String>,
    /// Stars (`null`: unrated), a mark (`seen`, `hidden`, `null`) or a
    /// place on the watchlist (1 is the top; `null`: not on it).
    before: serde_json::Value,
    after: serde_json::Value,
    /// For an undone import: how many ratings it held (all taken back); else 0.
    batch: u32,
    /// The log record of the change (for an undo: of the change taken back).
    record: Option<u64>,
    /// The change in words, as the text output says it.
    said: Option<String>,
}

/// Saves the change straight to your ratings log: no engine is started, so
/// a rating is on disk in milliseconds whatever the model's state (the
/// next `recommend` or the app learns it).
pub fn rate(env: &Env, args: RateArgs) -> Result<()> {
    let dataset = load_dataset(env, args.dataset.as_deref())?;
    let edit = if args.undo {
        Edit::Undo
    } else {
        let movie = find_movie(&dataset, args.movie.as_deref().unwrap_or_default())?;
        match (args.remove, args.rating) {
            (true, _) => Edit::Remove(movie),
            (false, Some(value)) => Edit::Rate(movie, value),
            (false, None) => bail!("give a rating, or --remove"),
        }
    };
    change(env, &dataset, edit)
}

/// Writes `edit` to your log and says what it changed (JSON with `--json`).
pub fn change(env: &Env, dataset: &Dataset, edit: Edit) -> Result<()> {
    let (mut log, warnings) = RatingsLog::open(&super::place(env, dataset).ratings_path(&env.home))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let undo = edit == Edit::Undo;
    let change = save(dataset, &mut log, edit)?;
    let saved = describe(dataset, change, undo);
    if env.json {
        return print_json(&saved);
    }
    let title = saved.display_title.unwrap_or_default();
    let said = saved.said.unwrap_or_default();
    match (saved.changed, undo, saved.batch) {
        (false, true, _) => println!("nothing to undo"),
        (false, false, _) => println!("nothing to change"),
        (true, true, n) if n > 0 => println!(
            "saved: undid the import of {n} ratings (change #{}, which began with {title})",
            saved.record.unwrap_or(0)
        ),
        (true, true, _) => println!("saved: undid change #{}: {title} {said}", saved.record.unwrap_or(0)),
        (true, false, _) => println!("saved: {title} {said}"),
    }
    Ok(())
}

fn describe(dataset: &Dataset, change: Option<Change>, undo: bool) -> Saved {
    use serde_json::{Value, json};
    let title = |id: u32| dataset.movie_index(id).map(|i| display(&dataset.movies[i as usize].title));
    let mark = |m: Option<Mark>| m.map_or(Value::Null, |m| json!(mark_name(m)));
    let place = |p: Option<u32>| p.map_or(Value::Null, |p| json!(p + 1));
    let (what, before, after) = match change.map(|c| c.what) {
        Some(What::Rating(b, a)) => (Some("rating"), json!(b), json!(a)),
        Some(What::Mark(b, a)) => (Some("mark"), mark(b), mark(a)),
        Some(What::Watch(b, a)) => (Some("watchlist"), place(b), place(a)),
        None => (None, Value::Null, Value::Null),
    };
    Saved {
        changed: change.is_some(),
        undo,
        what,
        movie_id: change.map(|c| c.movie),
        display_title: change.and_then(|c| title(c.movie)),
        before,
        after,
        batch: change.map_or(0, |c| c.batch),
        record: change.map(|c| c.record),
        said: change.map(|c| said(c.what, &|v| v.to_string())),
    }
}

pub fn list(env: &Env, args: ListArgs) -> Result<()> {
    let dataset = load_dataset(env, args.dataset.as_deref())?;
    let (log, warnings) = RatingsLog::open(&super::place(env, &dataset).ratings_path(&env.home))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let mut ids: Vec<u32> = log.ratings().keys().chain(log.marks().keys()).chain(log.watchlist()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut yours: Vec<Rated> = ids
        .into_iter()
        .map(|id| {
            let m = dataset.movie_index(id).map(|i| &dataset.movies[i as usize]);
            let entry = log.ratings().get(&id);
            Rated {
                movie_id: id,
                title: m.map(|m| m.title.clone()).unwrap_or_else(|| format!("movie {id} (not in this dataset)")),
                display_title: m.map(|m| display(&m.title)).unwrap_or_else(|| format!("movie {id}")),
                year: m.and_then(|m| m.year),
                rating: entry.map(|e| e.value),
                timestamp: entry.map(|e| e.timestamp),
                mark: log.marks().get(&id).map(|&m| mark_name(m)),
                watchlist: log.watchlist().iter().position(|&w| w == id).map(|p| p as u32 + 1),
            }
        })
        .collect();
    // The newest rating first, then what is marked or listed without stars.
    yours.sort_by_key(|r| (r.rating.is_none(), std::cmp::Reverse(r.timestamp), r.watchlist));
    if env.json {
        return print_json(&yours);
    }
    if yours.iter().all(|r| r.rating.is_none()) {
        println!("you have not rated anything in {} yet: cinema rate --dataset PATH MOVIE RATING", dataset.name);
    }
    for r in &yours {
        let stars = match (r.rating, r.mark) {
            (Some(v), _) => v.to_string(),
            (None, Some("hidden")) => "✗".into(),
            (None, Some(_)) => "seen".into(),
            (None, None) => "·".into(),
        };
        let notes = [
            (r.rating.is_some() && r.mark.is_some()).then(|| format!("marked {}", r.mark.unwrap_or_default())),
            (r.mark == Some("hidden") && r.rating.is_none()).then(|| "not interested".to_owned()),
            r.watchlist.map(|p| format!("watchlist #{p}")),
        ];
        let notes: Vec<String> = notes.into_iter().flatten().collect();
        let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join(", ")) };
        let year = r.year.map(|y| format!(" ({y})")).unwrap_or_default();
        println!("{stars:>4}  {}{year}{notes}", r.display_title);
    }
    Ok(())
}

/// A mark as `ratings --json` writes it.
pub fn mark_name(mark: Mark) -> &'static str {
    match mark {
        Mark::Seen => "seen",
        Mark::Hidden => "hidden",
    }
}
