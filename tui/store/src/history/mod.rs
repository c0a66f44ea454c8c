//! Your rating history from elsewhere: a Letterboxd or IMDb export read
//! ([`export`]), each row matched to a movie of the dataset ([`matching`],
//! by the title forms of [`titles`]) and put on the dataset's scale, and the
//! result compared with your ratings log — a preview. Nothing is written
//! here; the caller appends [`Preview::ratings`] to the log as one batch.

pub mod export;
pub mod matching;
pub mod titles;
pub mod watchlist;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dataset::{Dataset, RatingScale};
use crate::ratings_log::Entry;
use export::{Export, Service};
use matching::{Found, Matcher};

#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub line: usize,
    pub title: String,
    pub year: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub movie_id: u32,
    /// MovieLens's form, e.g. `Godfather, The`.
    pub title: String,
    /// As people write it, e.g. `The Godfather`.
    pub display_title: String,
    pub year: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ambiguous {
    pub line: usize,
    pub title: String,
    pub year: Option<u16>,
    pub candidates: Vec<Candidate>,
}

/// One rating the import would write.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Planned {
    pub movie_id: u32,
    pub rating: f32,
    /// Your rating of it now, if any.
    pub before: Option<f32>,
}

/// What importing an export would do, before anything is written.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub format: Service,
    /// Data rows read (the header not counted).
    pub rows: usize,
    pub matched: usize,
    pub ambiguous: Vec<Ambiguous>,
    pub unmatched: Vec<Unmatched>,
    /// TV rows, rows without a rating, diary rewatches replaced by a later
    /// entry, and malformed rows (listed in `malformed`).
    pub skipped: usize,
    pub malformed: Vec<(usize, String)>,
    /// Ratings moved onto a whole-star scale by rounding half up (4.5 → 5).
    pub rounded: usize,
    /// The ratings to write: new ones and changed ones (`new` + `changed`).
    pub ratings: Vec<Planned>,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Ratings written (0 for a dry run; set by the caller).
    pub imported: usize,
}

/// A 0.5–5 half-star rating on `scale`: as it is on half stars, rounded
/// half up on whole stars, kept within the scale.
pub fn on_scale(rating: f32, scale: RatingScale) -> f32 {
    let r = if scale.step >= 1.0 { (rating + 0.5).floor() } else { (rating / scale.step).round() * scale.step };
    r.clamp(scale.min, scale.max)
}

/// Matches every row of `export` in `dataset` and compares the result with
/// `yours` (your current ratings by movie id).
pub fn preview(export: &Export, dataset: &Dataset, yours: &BTreeMap<u32, Entry>) -> Preview {
    let matcher = Matcher::new(dataset);
    let movie = |m: u32| &dataset.movies[m as usize];
    let (mut ambiguous, mut unmatched) = (Vec::new(), Vec::new());
    // Movie id → rating; a later row of the same film wins.
    let mut wanted: BTreeMap<u32, f32> = BTreeMap::new();
    let (mut matched, mut rounded) = (0, 0);
    for row in &export.rows {
        match matcher.find(row) {
            Found::Movie(m) => {
                matched += 1;
                let rating = on_scale(row.rating, dataset.scale);
                rounded += usize::from(rating != row.rating && dataset.scale.step >= 1.0);
                wanted.insert(movie(m).id, rating);
            }
            Found::Ambiguous(candidates) => ambiguous.push(Ambiguous {
                line: row.line,
                title: row.title.clone(),
                year: row.year,
                candidates: candidates
                    .iter()
                    .map(|&m| Candidate {
                        movie_id: movie(m).id,
                        title: movie(m).title.clone(),
                        display_title: titles::display(&movie(m).title),
                        year: movie(m).year,
                    })
                    .collect(),
            }),
            Found::Unmatched => unmatched.push(Unmatched { line: row.line, title: row.title.clone(), year: row.year }),
        }
    }
    let (mut new, mut changed, mut unchanged) = (0, 0, 0);
    let mut ratings = Vec::new();
    for (&movie_id, &rating) in &wanted {
        let before = yours.get(&movie_id).map(|e| e.value);
        match before {
            Some(b) if b == rating => unchanged += 1,
            Some(_) => changed += 1,
            None => new += 1,
        }
        if before != Some(rating) {
            ratings.push(Planned { movie_id, rating, before });
        }
    }
    Preview {
        format: export.service.unwrap_or(Service::LetterboxdRatings),
        rows: export.rows.len() + export.tv + export.unrated + export.rewatched + export.malformed.len(),
        matched,
        ambiguous,
        unmatched,
        skipped: export.tv + export.unrated + export.rewatched + export.malformed.len(),
        malformed: export.malformed.clone(),
        rounded,
        ratings,
        new,
        changed,
        unchanged,
        imported: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_go_onto_the_scale() {
        let whole = RatingScale::WHOLE_STARS;
        assert_eq!([0.5, 1.0, 2.5, 4.5, 5.0].map(|r| on_scale(r, whole)), [1.0, 1.0, 3.0, 5.0, 5.0]);
        let half = RatingScale::HALF_STARS;
        assert_eq!([0.5, 3.5, 5.0].map(|r| on_scale(r, half)), [0.5, 3.5, 5.0]);
    }
}
