//! The in-memory form of an imported MovieLens dataset.
//!
//! Raw MovieLens ids are mapped to dense indices (`0..n`) once, at import:
//! the engine only ever sees dense indices, so its arrays need no hashing.

use serde::{Deserialize, Serialize};

/// Which MovieLens layout a dataset was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// MovieLens 100K: `u.data` (tab-separated) and `u.item` (`|`, latin-1).
    Ml100k,
    /// MovieLens 1M: `ratings.dat` and `movies.dat` (`::`, latin-1).
    Ml1m,
    /// The CSV family: latest-small, 20M, 25M (`ratings.csv`, `movies.csv`, ...).
    MlCsv,
    /// Cinema's built-in offline demo catalogue.
    Demo,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Ml100k => "movielens-100k",
            Format::Ml1m => "movielens-1m",
            Format::MlCsv => "movielens-csv",
            Format::Demo => "demo",
        }
    }
}

/// The values a rating may take: `min..=max` in steps of `step`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatingScale {
    pub min: f32,
    pub max: f32,
    pub step: f32,
}

impl RatingScale {
    pub const WHOLE_STARS: RatingScale = RatingScale { min: 1.0, max: 5.0, step: 1.0 };
    pub const HALF_STARS: RatingScale = RatingScale { min: 0.5, max: 5.0, step: 0.5 };

    /// True when `value` is on the scale (within float tolerance of a step).
    pub fn contains(&self, value: f32) -> bool {
        if !(self.min - 1e-4..=self.max + 1e-4).contains(&value) {
            return false;
        }
        let steps = (value - self.min) / self.step;
        (steps - steps.round()).abs() < 1e-3
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movie {
    /// The dataset's own movie id.
    pub id: u32,
    /// Title without the trailing year, e.g. `Star Wars`.
    pub title: String,
    pub year: Option<u16>,
    /// Bit `g` set = the movie has genre `Dataset::genres[g]`.
    pub genres: u32,
    pub imdb_id: Option<u32>,
    pub tmdb_id: Option<u32>,
    /// Distinct user tags, most frequent first (CSV family only).
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// Dense user index into `Dataset::user_ids`.
    pub user: u32,
    /// Dense movie index into `Dataset::movies`.
    pub item: u32,
    pub value: f32,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Short name, e.g. `ml-100k` (the folder or zip stem).
    pub name: String,
    pub format: Format,
    pub scale: RatingScale,
    /// Genre names; `Movie::genres` is a bit set over this list.
    pub genres: Vec<String>,
    /// The catalogue, sorted by `Movie::id`; index = dense movie index.
    pub movies: Vec<Movie>,
    /// Raw user ids, sorted; index = dense user index.
    pub user_ids: Vec<u32>,
    /// Every rating, in file order.
    pub ratings: Vec<Rating>,
}

impl Dataset {
    /// Dense index of the movie with raw id `id`.
    pub fn movie_index(&self, id: u32) -> Option<u32> {
        self.movies.binary_search_by_key(&id, |m| m.id).ok().map(|i| i as u32)
    }

    /// Dense index of the user with raw id `id`.
    pub fn user_index(&self, id: u32) -> Option<u32> {
        self.user_ids.binary_search(&id).ok().map(|i| i as u32)
    }

    /// Genre names of a movie, in table order.
    pub fn genre_names(&self, movie: &Movie) -> Vec<&str> {
        self.genres
            .iter()
            .enumerate()
            .filter(|(g, _)| movie.genres & (1 << g) != 0)
            .map(|(_, name)| name.as_str())
            .collect()
    }

    /// What this dataset's content is, cheaply: its sizes and a hash of
    /// every rating. A model trained on it is valid only where this matches.
    pub fn fingerprint(&self) -> String {
        // FNV-1a over the ratings' fields: one pass, fast at 25M ratings.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for r in &self.ratings {
            for word in [r.user, r.item, r.value.to_bits()] {
                hash = (hash ^ u64::from(word)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{}u-{}m-{}r-{hash:016x}", self.user_ids.len(), self.movies.len(), self.ratings.len())
    }

    /// Number of distinct movies that have at least one rating.
    pub fn rated_movie_count(&self) -> usize {
        let mut seen = vec![false; self.movies.len()];
        for r in &self.ratings {
            seen[r.item as usize] = true;
        }
        seen.iter().filter(|s| **s).count()
    }
}
