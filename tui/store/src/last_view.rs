//! The last list shown to you on a dataset, with the predicted stars beside
//! every movie, kept so that the next start draws them in its first frame
//! while the engine loads the model behind it (at 25 million ratings that
//! load takes seconds).
//!
//! A cache, never the truth: it is written without syncing (a crash may
//! lose it, and the checksum then says so), it counts only for the model
//! version it was computed with, and the engine's own answer replaces it as
//! soon as it comes.

use std::path::Path;

use anyhow::Result;
use cinema_protocol::Scored;
use serde::{Deserialize, Serialize};

/// Which model a list came from: a version's id and its creation time
/// (an id alone can be given again after its version is deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelKey {
    pub id: u32,
    /// Its creation time, seconds since the Unix epoch.
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastView {
    pub model: ModelKey,
    /// The list, by dense movie index.
    pub recs: Vec<Scored>,
    /// Each listed movie's `(cf, content)` parts when the list was a hybrid.
    pub parts: Vec<(f32, f32)>,
    /// Predicted stars for every movie, by dense index.
    pub predicted: Vec<f32>,
}

/// Writes `view` to `path`: a temporary file renamed over the old one, not
/// synced (a lost cache costs one start a moment of "–").
pub fn save(path: &Path, view: &LastView) -> Result<()> {
    let mut bytes = postcard::to_stdvec(view).expect("plain data serialises");
    bytes.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
    // A cache: a crash may lose it (the engine's answer follows anyway), but never leave it half written.
    crate::atomic::replace(path, &bytes, crate::atomic::Durable::WholeOnly)
}

/// The view kept at `path`, if it is whole, came from `model` and covers
/// a catalogue of `movies`; else `None` (missing, damaged or stale alike:
/// the engine's answer follows anyway).
pub fn load(path: &Path, model: &ModelKey, movies: usize) -> Option<LastView> {
    let bytes = std::fs::read(path).ok()?;
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if crc32fast::hash(body).to_le_bytes() != sum {
        tracing::debug!("the last view at {} is damaged; not used", path.display());
        return None;
    }
    let view: LastView = postcard::from_bytes(body).ok()?;
    let fits = view.model == *model
        && view.predicted.len() == movies
        && view.recs.iter().all(|s| (s.item as usize) < movies)
        && view.parts.len() <= view.recs.len();
    fits.then_some(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> LastView {
        LastView {
            model: ModelKey { id: 3, created: 1_796_288_400 },
            recs: vec![
                Scored { item: 2, score: 0.9, prediction: 4.5 },
                Scored { item: 0, score: 0.5, prediction: 4.0 },
            ],
            parts: vec![(1.0, 0.2), (0.5, 0.4)],
            predicted: vec![4.0, 3.1, 4.5],
        }
    }

    #[test]
    fn a_view_comes_back_only_whole_for_its_model_and_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ratings").join("ml.view");
        let v = view();
        assert_eq!(load(&path, &v.model, 3), None, "nothing kept yet");
        save(&path, &v).unwrap();
        assert_eq!(load(&path, &v.model, 3), Some(v.clone()));
        // Another version, or the same id given again later: not this list.
        assert_eq!(load(&path, &ModelKey { id: 4, ..v.model.clone() }, 3), None);
        assert_eq!(load(&path, &ModelKey { created: 1_796_288_401, ..v.model.clone() }, 3), None);
        assert_eq!(load(&path, &v.model, 4), None, "another catalogue size");
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x04;
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(load(&path, &v.model, 3), None, "flip at byte {i} went unnoticed");
        }
        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert_eq!(load(&path, &v.model, 3), None);
    }
}
