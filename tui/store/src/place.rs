//! Where a dataset's own things live in the data directory — your ratings
//! log and its model versions — chosen by what the dataset holds, not only
//! by its folder's name: movie ids mean nothing across datasets, so an
//! ML-100K folder renamed `ml-latest-small` must never show your
//! latest-small ratings against its own movie 50.
//!
//! The first dataset opened under a name claims it (`ratings/NAME.dataset`
//! records its catalogue); another catalogue under that name gets a place
//! of its own, `NAME-<catalogue hash>`, and a warning saying so.

use std::path::PathBuf;

use crate::dataset::Dataset;
use crate::home::Home;

/// A dataset's place in the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The name its ratings log and models folder are filed under.
    pub key: String,
    /// Set when the dataset's own name was taken by another catalogue.
    pub warning: Option<String>,
}

impl Place {
    pub fn ratings_path(&self, home: &Home) -> PathBuf {
        home.ratings_path(&self.key)
    }

    pub fn models_dir(&self, home: &Home) -> PathBuf {
        home.models_dir(&self.key)
    }

    /// The last list shown to you here (see [`crate::last_view`]).
    pub fn last_view_path(&self, home: &Home) -> PathBuf {
        home.ratings_path(&self.key).with_extension("view")
    }
}

/// The place of `dataset`, claiming its name if nobody has. A data
/// directory that cannot be written gets the name as it is (nothing can be
/// filed there anyway, and reading must still work).
pub fn place(home: &Home, dataset: &Dataset) -> Place {
    let catalogue = catalogue(dataset);
    let claim = |key: &str| home.ratings_path(key).with_extension("dataset");
    let name = &dataset.name;
    let Ok(text) = std::fs::read_to_string(claim(name)) else {
        // Unclaimed (or unreadable): claim it; best effort, as on a read-only disk.
        let line = format!("{catalogue}\n");
        if let Err(e) = std::fs::create_dir_all(home.root().join("ratings"))
            .map_err(anyhow::Error::from)
            .and_then(|()| crate::atomic::write(&claim(name), line.as_bytes()))
        {
            tracing::debug!("could not claim the name {name}: {e:#}");
        }
        return Place { key: name.clone(), warning: None };
    };
    if text.trim() == catalogue {
        return Place { key: name.clone(), warning: None };
    }
    let key = format!("{name}-{}", &catalogue[catalogue.len() - 8..]);
    let warning = format!(
        "another dataset called {name} (a different catalogue of movies) was opened before and keeps its own ratings and models; this one's are kept apart under {key}"
    );
    Place { key, warning: Some(warning) }
}

/// Movie ids with their titles: what makes your ratings mean the same movies.
/// FNV-1a, like the ratings fingerprint: one pass, no dependency.
fn catalogue(dataset: &Dataset) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for m in &dataset.movies {
        for byte in m.id.to_le_bytes().iter().chain(m.title.as_bytes()).chain([&0xff]) {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{}m-{hash:016x}", dataset.movies.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_catalogue_under_a_claimed_name_gets_its_own_place() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(tmp.path().to_path_buf())).unwrap();
        let mut first = crate::demo::catalogue();
        first.name = "ml-latest-small".into();
        let mine = place(&home, &first);
        assert_eq!(mine, Place { key: "ml-latest-small".into(), warning: None });
        assert_eq!(place(&home, &first), mine, "the same catalogue again");
        let mut other = first.clone();
        other.movies[0].title = "Something Else (1999)".into();
        let theirs = place(&home, &other);
        assert!(theirs.key.starts_with("ml-latest-small-") && theirs.key != mine.key, "{theirs:?}");
        assert!(theirs.warning.as_deref().unwrap_or("").contains("kept apart"), "{theirs:?}");
        assert_eq!(place(&home, &other), theirs, "stable from one start to the next");
        assert_ne!(theirs.ratings_path(&home), mine.ratings_path(&home));
        assert_ne!(theirs.models_dir(&home), mine.models_dir(&home));
    }
}
