//! What every panel reads: the recommender, whose eyes the app looks
//! through, that viewer's ratings and lists, the hybrid's settings and the
//! status line. The app keeps one; a tab draws from it and changes it only
//! through a [`Cx`](super::context::Cx).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use cinema_protocol::Scored;

use super::theme::Theme;
use super::toast::{Level, Toast};
use crate::recommender::Recommender;

/// Whose eyes the app looks through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    You,
    /// A dataset user (dense index), read-only.
    User(u32),
}

/// One row of the ratings history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rated {
    pub movie: u32,
    pub value: f32,
    pub timestamp: i64,
}

pub struct Shared {
    pub rec: Recommender,
    /// The folder or zip the dataset came from (`None`: the built-in demo).
    pub source: Option<PathBuf>,
    pub theme: Theme,
    pub viewer: Viewer,
    /// The viewer's ratings by dense movie index.
    pub viewer_ratings: HashMap<u32, f32>,
    /// The viewer's ratings, most recent first.
    pub rated: Vec<Rated>,
    /// The model's prediction for the viewer, per dense movie index (NaN if unknown).
    pub predicted: Vec<f32>,
    pub recs: Vec<Scored>,
    /// Each recommendation's `(cf, content)` parts, in list order (empty
    /// for a list that is not a hybrid, e.g. a cold start).
    pub parts: Vec<(f32, f32)>,
    /// Recommendations that were not in the list before the last change.
    pub fresh: HashSet<u32>,
    /// The hybrid's weight on the collaborative part, in tenths from 0 to 1.
    pub weight: f32,
    /// How far the list spreads over the catalogue, in tenths from 0 to 1.
    pub diversity: f32,
    /// The engine is working out the lists after a change (shown as "learning").
    pub learning: bool,
    pub toast: Option<Toast>,
}

impl Shared {
    pub fn new(rec: Recommender) -> Shared {
        let movies = rec.dataset.movies.len();
        let (weight, diversity) = (rec.prefs.weight(), rec.prefs.diversity());
        Shared {
            rec,
            source: None,
            theme: Theme::from_env(),
            viewer: Viewer::You,
            viewer_ratings: HashMap::new(),
            rated: Vec::new(),
            predicted: vec![f32::NAN; movies],
            recs: Vec::new(),
            parts: Vec::new(),
            fresh: HashSet::new(),
            weight,
            diversity,
            learning: false,
            toast: None,
        }
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.toast = Some(Toast::new(level, text.into()));
    }

    /// The built-in demo catalogue is on screen.
    pub fn on_demo(&self) -> bool {
        self.rec.dataset.format == cinema_store::Format::Demo
    }

    /// The viewer's dense user index.
    pub fn viewer_user(&self) -> u32 {
        match self.viewer {
            Viewer::You => self.rec.you(),
            Viewer::User(u) => u,
        }
    }

    pub fn read_only(&self) -> bool {
        self.viewer != Viewer::You
    }

    /// No ratings yet: the recommendations are the popular-and-well-rated list.
    pub fn cold_start(&self) -> bool {
        self.rec.is_cold(self.viewer_user())
    }

    /// `you` or `user 42`.
    pub fn viewer_name(&self) -> String {
        match self.viewer {
            Viewer::You => "you".into(),
            Viewer::User(u) => format!("user {}", self.rec.dataset.user_ids.get(u as usize).copied().unwrap_or(u)),
        }
    }

    /// What the "You" column says of `movie`: the viewer's stars, else (for
    /// you) `✗` not interested, `seen`, or `+` on your watchlist.
    pub fn yours_label(&self, movie: u32) -> String {
        if let Some(&v) = self.viewer_ratings.get(&movie) {
            return format!("★{}", super::format::stars(v, self.rec.dataset.scale));
        }
        if self.read_only() {
            return String::new();
        }
        let id = self.rec.dataset.movies[movie as usize].id;
        match self.rec.your_marks().get(&id) {
            Some(cinema_protocol::Mark::Hidden) => "✗".into(),
            Some(cinema_protocol::Mark::Seen) => "seen".into(),
            None if self.rec.your_watchlist().contains(&id) => "+".into(),
            None => String::new(),
        }
    }

    /// Your watchlist by dense movie index, in your order (a movie no longer
    /// in the dataset is left out).
    pub fn watchlist(&self) -> Vec<u32> {
        self.rec.your_watchlist().iter().filter_map(|&id| self.rec.dataset.movie_index(id)).collect()
    }

    /// False (with a toast) when browsing as someone else.
    pub fn may_change(&mut self) -> bool {
        if self.read_only() {
            let name = self.viewer_name();
            self.notify(Level::Error, format!("read-only: browsing as {name}; press a then Enter to be you again"));
            return false;
        }
        true
    }

    /// Reads the viewer's ratings again (yours from your log, a dataset
    /// user's from the dataset).
    pub fn load_viewer_ratings(&mut self) {
        let dataset = &self.rec.dataset;
        self.rated = match self.viewer {
            Viewer::You => self
                .rec
                .your_ratings()
                .iter()
                .filter_map(|(&id, e)| {
                    dataset.movie_index(id).map(|movie| Rated { movie, value: e.value, timestamp: e.timestamp })
                })
                .collect(),
            Viewer::User(u) => dataset
                .ratings
                .iter()
                .filter(|r| r.user == u)
                .map(|r| Rated { movie: r.item, value: r.value, timestamp: r.timestamp })
                .collect(),
        };
        self.rated.sort_by_key(|r| std::cmp::Reverse(r.timestamp));
        self.viewer_ratings = self.rated.iter().map(|r| (r.movie, r.value)).collect();
    }
}
