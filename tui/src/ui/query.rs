//! Which movies the browse table shows, in which order: fuzzy title search
//! (nucleo), genre and decade filters, and a sort column.

use std::cmp::Ordering;
use std::collections::HashMap;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use cinema_store::dataset::Dataset;
use cinema_store::stats::MovieStats;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Ratings,
    Mean,
    Title,
    Year,
    Yours,
    Predicted,
}

impl SortKey {
    pub const ALL: [SortKey; 6] =
        [SortKey::Ratings, SortKey::Mean, SortKey::Predicted, SortKey::Yours, SortKey::Title, SortKey::Year];

    pub fn label(self) -> &'static str {
        match self {
            // The table's column names, so the sort is easy to find on screen.
            SortKey::Ratings => "votes",
            SortKey::Mean => "mean",
            SortKey::Title => "title",
            SortKey::Year => "year",
            SortKey::Yours => "yours",
            SortKey::Predicted => "predicted",
        }
    }

    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|&k| k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }

    /// The natural direction: numbers high first, words A first.
    pub fn descending_by_default(self) -> bool {
        !matches!(self, SortKey::Title)
    }
}

/// What the user asked the browse table for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseQuery {
    pub text: String,
    /// Index into `Dataset::genres`.
    pub genre: Option<usize>,
    /// First year of a decade (1990 = the 1990s); movies without a year never match one.
    pub decade: Option<u16>,
    pub sort: SortKey,
    pub descending: bool,
    /// Order search hits by match quality (until a sort key is chosen).
    pub by_relevance: bool,
}

impl Default for BrowseQuery {
    fn default() -> Self {
        BrowseQuery {
            text: String::new(),
            genre: None,
            decade: None,
            sort: SortKey::Ratings,
            descending: true,
            by_relevance: true,
        }
    }
}

/// The per-movie values a sort may use besides the dataset's own.
pub struct Columns<'a> {
    pub stats: &'a MovieStats,
    pub yours: &'a HashMap<u32, f32>,
    pub predicted: &'a [f32],
}

/// Searchable text per movie: `Title (year)`.
/// What a search matches each movie against: its title as people write it,
/// with its year (MovieLens's own form is tried too, see [`rows`]).
pub fn haystacks(dataset: &Dataset) -> Vec<String> {
    dataset.movies.iter().map(super::format::title_year).collect()
}

/// The decades the catalogue's movies come from, newest first.
pub fn decades(dataset: &Dataset) -> Vec<u16> {
    let mut decades: Vec<u16> = dataset.movies.iter().filter_map(|m| m.year).map(decade_of).collect();
    decades.sort_unstable_by(|a, b| b.cmp(a));
    decades.dedup();
    decades
}

pub fn decade_of(year: u16) -> u16 {
    year - year % 10
}

/// Dense movie indices to show, in order.
pub fn rows(dataset: &Dataset, haystacks: &[String], query: &BrowseQuery, columns: &Columns) -> Vec<u32> {
    let genre_ok = |m: u32| {
        let movie = &dataset.movies[m as usize];
        query.genre.is_none_or(|g| movie.genres & (1 << g) != 0)
            && query.decade.is_none_or(|d| movie.year.is_some_and(|y| decade_of(y) == d))
    };
    let pattern = Pattern::new(&query.text, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut hits: Vec<(u32, u32)> = (0..dataset.movies.len() as u32)
        .filter(|&m| genre_ok(m))
        .filter_map(|m| {
            let shown = haystacks.get(m as usize)?;
            // `Godfather, The` is found as typed by someone who knows MovieLens, too.
            let own = &dataset.movies[m as usize].title;
            let mut score = |text: &str| pattern.score(Utf32Str::new(text, &mut buf), &mut matcher);
            let best = match score(shown) {
                Some(s) if shown.starts_with(own.as_str()) => Some(s),
                s => s.max(score(own)),
            };
            best.map(|s| (m, s))
        })
        .collect();
    let searching = !query.text.trim().is_empty();
    if searching && query.by_relevance {
        // Best match first; among equals, the better-known movie.
        hits.sort_by(|a, b| {
            b.1.cmp(&a.1).then(columns.stats.count[b.0 as usize].cmp(&columns.stats.count[a.0 as usize]))
        });
        return hits.into_iter().map(|(m, _)| m).collect();
    }
    let mut rows: Vec<u32> = hits.into_iter().map(|(m, _)| m).collect();
    rows.sort_by(|&a, &b| {
        let order = compare(dataset, columns, query.sort, a, b);
        let order = if query.descending { order.reverse() } else { order };
        // Ties: more ratings first, then by title, so the order is stable.
        order
            .then(columns.stats.count[b as usize].cmp(&columns.stats.count[a as usize]))
            .then_with(|| dataset.movies[a as usize].title.cmp(&dataset.movies[b as usize].title))
    });
    rows
}

fn compare(dataset: &Dataset, c: &Columns, key: SortKey, a: u32, b: u32) -> Ordering {
    let (ma, mb) = (&dataset.movies[a as usize], &dataset.movies[b as usize]);
    match key {
        SortKey::Ratings => c.stats.count[a as usize].cmp(&c.stats.count[b as usize]),
        SortKey::Mean => by_value(c.stats.mean.get(a as usize).copied(), c.stats.mean.get(b as usize).copied()),
        SortKey::Title => ma.title.to_lowercase().cmp(&mb.title.to_lowercase()),
        SortKey::Year => ma.year.cmp(&mb.year),
        SortKey::Yours => by_value(c.yours.get(&a).copied(), c.yours.get(&b).copied()),
        SortKey::Predicted => by_value(c.predicted.get(a as usize).copied(), c.predicted.get(b as usize).copied()),
    }
}

/// Missing (or NaN) values sort below every number.
fn by_value(a: Option<f32>, b: Option<f32>) -> Ordering {
    let a = a.filter(|v| v.is_finite());
    let b = b.filter(|v| v.is_finite());
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_cycle_through_all_and_missing_values_sort_last() {
        let mut k = SortKey::Ratings;
        for _ in 0..SortKey::ALL.len() {
            k = k.next();
        }
        assert_eq!(k, SortKey::Ratings);
        assert_eq!(by_value(None, Some(1.0)), Ordering::Less);
        assert_eq!(by_value(Some(f32::NAN), Some(1.0)), Ordering::Less);
        assert_eq!(by_value(Some(2.0), Some(1.0)), Ordering::Greater);
    }

    #[test]
    fn decades_are_distinct_and_newest_first() {
        let mut ds = cinema_store::demo::catalogue();
        for (m, year) in ds.movies.iter_mut().zip([Some(1977), None, Some(2009), Some(1970), Some(2000)]) {
            m.year = year;
        }
        ds.movies.truncate(5);
        assert_eq!(decades(&ds), [2000, 1970]);
        assert_eq!(decade_of(1999), 1990);
    }
}
