//! Choices a person makes once and expects every Cinema to keep: today the
//! hybrid's weight, set with `[` and `]` in the app and used by the CLI's
//! `recommend` and `explain` when `--hybrid` is not given, so both show the
//! same list. One small JSON file in the home folder, written atomically;
//! a missing or unreadable file means the defaults.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::home::Home;

/// The hybrid's weight on the collaborative part until the viewer moves it:
/// the best of 0.5–1.0 by NDCG@10 on validation data (10 % of ML-100K's
/// u1.base and of latest-small's seed-42 train.tsv; see the README), where
/// the original notebook's 0.6 loses a fifth of the list's quality.
pub const DEFAULT_WEIGHT: f32 = 0.8;

/// Diversity until the viewer moves it (`{` and `}` in the app): on
/// ML-100K u1–u5 and latest-small seed-42 (`cinema eval --diversity-sweep`,
/// README) 0.2 spreads the top 10 over 1.6–1.9 times the movies, with
/// lower miscalibration and higher genre diversity and novelty, for at
/// most 1 % of NDCG@10.
pub const DEFAULT_DIVERSITY: f32 = 0.2;

#[derive(Debug, Clone)]
pub struct Prefs {
    path: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hybrid_weight: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    diversity: Option<f32>,
}

impl Prefs {
    pub fn of(home: &Home) -> Prefs {
        Prefs { path: home.root().join("prefs.json") }
    }

    /// The weight last chosen, or [`DEFAULT_WEIGHT`]; a value that is not a
    /// weight (a hand-edited file) counts as not chosen.
    pub fn weight(&self) -> f32 {
        self.read().hybrid_weight.filter(|w| (0.0..=1.0).contains(w)).unwrap_or(DEFAULT_WEIGHT)
    }

    pub fn set_weight(&self, weight: f32) -> Result<()> {
        let mut saved = self.read();
        saved.hybrid_weight = Some(weight);
        self.write(&saved).with_context(|| format!("could not save the hybrid weight in {}", self.path.display()))
    }

    /// The diversity last chosen, or [`DEFAULT_DIVERSITY`]; a value out of
    /// 0–1 counts as not chosen.
    pub fn diversity(&self) -> f32 {
        self.read().diversity.filter(|d| (0.0..=1.0).contains(d)).unwrap_or(DEFAULT_DIVERSITY)
    }

    pub fn set_diversity(&self, diversity: f32) -> Result<()> {
        let mut saved = self.read();
        saved.diversity = Some(diversity);
        self.write(&saved).with_context(|| format!("could not save the diversity in {}", self.path.display()))
    }

    fn write(&self, saved: &Saved) -> Result<()> {
        let text = serde_json::to_string_pretty(saved).expect("plain data serialises");
        crate::atomic::write(&self.path, format!("{text}\n").as_bytes())
    }

    fn read(&self) -> Saved {
        std::fs::read(&self.path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_is_kept_and_a_bad_file_means_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().to_owned())).unwrap();
        let prefs = Prefs::of(&home);
        assert_eq!(prefs.weight(), DEFAULT_WEIGHT);
        prefs.set_weight(0.3).unwrap();
        assert_eq!(Prefs::of(&home).weight(), 0.3);
        std::fs::write(dir.path().join("prefs.json"), "{\"hybrid_weight\": 7}").unwrap();
        assert_eq!(prefs.weight(), DEFAULT_WEIGHT);
        std::fs::write(dir.path().join("prefs.json"), "not json").unwrap();
        assert_eq!(prefs.weight(), DEFAULT_WEIGHT);
        prefs.set_weight(0.6).unwrap();
        prefs.set_diversity(0.4).unwrap();
        assert_eq!((prefs.weight(), prefs.diversity()), (0.6, 0.4), "each setting keeps the other");
        std::fs::write(dir.path().join("prefs.json"), "{\"diversity\": -1}").unwrap();
        assert_eq!(prefs.diversity(), DEFAULT_DIVERSITY);
    }
}
