//! Finding an export row's movie in the dataset. IMDb rows match by id
//! through MovieLens `links.csv` where the dataset has it; every other row
//! by title and year: any form of the title (main or alternative, article
//! first, folded to a key), the same year, or a year off by one when only
//! one movie has that title. Never a guess: two candidates equally good
//! are *ambiguous* — unless one has at least twice the other's ratings,
//! which is how a remake and an obscure namesake of the same year differ.

use std::collections::HashMap;

use super::export::ExportRow;
use super::titles::{forms, key};
use crate::dataset::Dataset;

/// What became of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Movie(u32),
    /// Equally good candidates (dense movie indices), best supported first.
    Ambiguous(Vec<u32>),
    Unmatched,
}

pub struct Matcher<'d> {
    dataset: &'d Dataset,
    by_key: HashMap<String, Vec<u32>>,
    by_imdb: HashMap<u32, u32>,
    /// Ratings per movie, for telling namesakes apart.
    support: Vec<u32>,
}

impl<'d> Matcher<'d> {
    pub fn new(dataset: &'d Dataset) -> Matcher<'d> {
        let mut by_key: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, movie) in dataset.movies.iter().enumerate() {
            let mut keys: Vec<String> = forms(&movie.title).iter().map(|f| key(f)).filter(|k| !k.is_empty()).collect();
            keys.dedup();
            for k in keys {
                by_key.entry(k).or_default().push(i as u32);
            }
        }
        let by_imdb =
            dataset.movies.iter().enumerate().filter_map(|(i, m)| m.imdb_id.map(|id| (id, i as u32))).collect();
        let mut support = vec![0u32; dataset.movies.len()];
        for r in &dataset.ratings {
            support[r.item as usize] += 1;
        }
        Matcher { dataset, by_key, by_imdb, support }
    }

    /// Whether IMDb ids can be matched exactly (the dataset has `links.csv`).
    pub fn has_imdb_ids(&self) -> bool {
        !self.by_imdb.is_empty()
    }

    pub fn find(&self, row: &ExportRow) -> Found {
        if let Some(id) = row.imdb
            && self.has_imdb_ids()
        {
            return self.by_imdb.get(&id).map_or(Found::Unmatched, |&m| Found::Movie(m));
        }
        let mut candidates: Vec<u32> =
            forms(&row.title).iter().flat_map(|f| self.by_key.get(&key(f))).flatten().copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        let year = |m: u32| self.dataset.movies[m as usize].year;
        let same_year: Vec<u32> =
            candidates.iter().copied().filter(|&m| row.year.is_none() || year(m) == row.year).collect();
        let chosen = if !same_year.is_empty() {
            same_year
        } else if candidates.len() == 1 && near(year(candidates[0]), row.year) {
            candidates
        } else {
            Vec::new()
        };
        self.decide(chosen)
    }

    fn decide(&self, mut candidates: Vec<u32>) -> Found {
        candidates.sort_by_key(|&m| std::cmp::Reverse(self.support[m as usize]));
        match candidates.as_slice() {
            [] => Found::Unmatched,
            [one] => Found::Movie(*one),
            [best, next, ..] if self.support[*best as usize] >= 2 * self.support[*next as usize].max(1) => {
                Found::Movie(*best)
            }
            _ => Found::Ambiguous(candidates),
        }
    }
}

fn near(a: Option<u16>, b: Option<u16>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.abs_diff(b) <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Format, Movie, Rating, RatingScale};

    fn movie(id: u32, title: &str, year: u16, imdb: Option<u32>) -> Movie {
        Movie { id, title: title.into(), year: Some(year), genres: 0, imdb_id: imdb, tmdb_id: None, tags: Vec::new() }
    }

    fn dataset() -> Dataset {
        let movies = vec![
            movie(1, "Godfather, The", 1972, Some(68_646)),
            movie(2, "City of Lost Children, The (Cité des enfants perdus, La)", 1995, None),
            movie(3, "Seven (a.k.a. Se7en)", 1995, None),
            movie(4, "Hamlet", 1990, None),
            movie(5, "Hamlet", 1996, None),
            movie(6, "Crash", 1996, None),
            movie(7, "Crash", 1996, None),
            movie(8, "Solaris", 1972, None),
            movie(9, "Solaris", 1972, None),
        ];
        // Movie 9 is rated far more than its namesake 8.
        let ratings = (0..5).map(|u| Rating { user: u, item: 8, value: 4.0, timestamp: 0 }).collect();
        Dataset {
            name: "t".into(),
            format: Format::Ml100k,
            scale: RatingScale::WHOLE_STARS,
            genres: vec![],
            movies,
            user_ids: (0..5).collect(),
            ratings,
        }
    }

    fn row(title: &str, year: u16) -> ExportRow {
        ExportRow { line: 2, title: title.into(), year: Some(year), imdb: None, rating: 4.0 }
    }

    #[test]
    fn titles_match_in_any_form_and_never_by_a_guess() {
        let d = dataset();
        let m = Matcher::new(&d);
        assert_eq!(m.find(&row("The Godfather", 1972)), Found::Movie(0));
        assert_eq!(m.find(&row("the godfather", 1973)), Found::Movie(0), "a year off by one, the title unique");
        assert_eq!(m.find(&row("The Godfather", 1975)), Found::Unmatched);
        assert_eq!(m.find(&row("The City of Lost Children", 1995)), Found::Movie(1));
        assert_eq!(m.find(&row("La Cité des enfants perdus", 1995)), Found::Movie(1));
        assert_eq!(m.find(&row("Se7en", 1995)), Found::Movie(2));
        assert_eq!(m.find(&row("Hamlet", 1996)), Found::Movie(4), "the year tells namesakes apart");
        assert_eq!(m.find(&row("Hamlet", 1997)), Found::Unmatched, "no year-off-by-one among namesakes");
        assert_eq!(m.find(&row("Crash", 1996)), Found::Ambiguous(vec![5, 6]));
        assert_eq!(m.find(&row("Solaris", 1972)), Found::Movie(8), "the far better supported namesake");
        assert_eq!(m.find(&row("Invented Film Nobody Made", 2001)), Found::Unmatched);
    }

    #[test]
    fn imdb_ids_match_exactly_where_the_dataset_has_links() {
        let d = dataset();
        let m = Matcher::new(&d);
        let mut r = row("Some Other Title", 1900);
        r.imdb = Some(68_646);
        assert_eq!(m.find(&r), Found::Movie(0));
        r.imdb = Some(1);
        assert_eq!(m.find(&r), Found::Unmatched, "an id not in links.csv is not matched by title");
    }
}
