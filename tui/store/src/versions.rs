//! Model versions of one dataset: every finished or stopped training is kept
//! as `v<N>.cmodel` (the [`crate::models`] format: metadata, model bytes,
//! checksum, written atomically), and the file `active` names the one that
//! serves recommendations.
//!
//! A crash can leave a version without the pointer moved to it, or a
//! temporary file; never a half-written `v<N>.cmodel`, because each is
//! renamed into place whole. A damaged or missing pointer falls back to the
//! newest version.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::models::{self, ModelMeta};

const POINTER: &str = "active";

#[derive(Debug, Clone)]
pub struct Versions {
    dir: PathBuf,
}

/// One version as found on disk: its metadata, or why it cannot be read.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: u32,
    pub meta: Result<ModelMeta, String>,
}

impl Versions {
    /// The versions in `dir` (one dataset's models folder). A model saved
    /// before versions (`active.cmodel`) becomes v1, active; the message
    /// saying so is returned.
    pub fn open(dir: &Path) -> Result<(Versions, Option<String>)> {
        let versions = Versions { dir: dir.to_owned() };
        let legacy = models::legacy_active_path(dir);
        if !legacy.exists() || !versions.ids()?.is_empty() {
            return Ok((versions, None));
        }
        let _guard = versions.lock("making the saved model version v1")?;
        if !legacy.exists() {
            return Ok((versions, None));
        }
        let note = match models::load(&legacy) {
            Ok((mut meta, bytes)) => {
                meta.id = 1;
                models::save(&versions.path(1), &meta, &bytes)?;
                versions.point_to(1)?;
                format!("the saved model {} is now version v1", legacy.display())
            }
            Err(e) => format!("{e:#}; it was not kept as a version"),
        };
        std::fs::remove_file(&legacy).with_context(|| format!("could not remove {}", legacy.display()))?;
        Ok((versions, Some(note)))
    }

    pub fn path(&self, id: u32) -> PathBuf {
        self.dir.join(format!("v{id}.cmodel"))
    }

    /// The version numbers on disk, ascending.
    pub fn ids(&self) -> Result<Vec<u32>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("could not list {}", self.dir.display())),
        };
        let mut ids: Vec<u32> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                name.to_str()?.strip_prefix('v')?.strip_suffix(".cmodel")?.parse().ok()
            })
            .filter(|&id| id > 0)
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Every version, oldest first, each checked against its checksum.
    ///
    /// Each version's metadata is read from the head of its file ([`Self::peek`]):
    /// a listing stays instant with models of hundreds of megabytes, and the
    /// model bytes and their checksum are checked when a version is loaded.
    pub fn list(&self) -> Result<Vec<Listed>> {
        Ok(self.ids()?.into_iter().map(|id| Listed { id, meta: self.peek(id).map_err(|e| format!("{e:#}")) }).collect())
    }

    /// Version `id`'s metadata without loading or checking its model (see
    /// [`models::peek`]).
    pub fn peek(&self, id: u32) -> Result<ModelMeta> {
        models::peek(&self.path(id))
    }

    pub fn load(&self, id: u32) -> Result<(ModelMeta, Vec<u8>)> {
        let path = self.path(id);
        if !path.exists() {
            bail!("there is no version v{id} (`cinema versions list` shows them)");
        }
        models::load(&path)
    }

    /// The version the pointer names, if it names one that exists; else
    /// the newest.
    pub fn active(&self) -> Result<Option<u32>> {
        Ok(self.active_and_why()?.0)
    }

    /// [`Self::active`], with a warning when the pointer exists but names
    /// no version (damaged, or its version deleted by hand): the fallback
    /// to the newest is then said, never silent. Reading never repairs the
    /// pointer; `cinema versions activate` does.
    pub fn active_and_why(&self) -> Result<(Option<u32>, Option<String>)> {
        let ids = self.ids()?;
        let pointer = self.dir.join(POINTER);
        let text = match std::fs::read(&pointer) {
            Ok(bytes) => bytes,
            Err(_) => return Ok((ids.last().copied(), None)),
        };
        let named = std::str::from_utf8(&text).ok().and_then(|t| t.trim().strip_prefix('v')?.parse::<u32>().ok());
        if let Some(id) = named.filter(|id| ids.contains(id)) {
            return Ok((Some(id), None));
        }
        let fallback = ids.last().copied();
        let what = match named {
            Some(id) => format!("names v{id}, which does not exist"),
            None => "is damaged".into(),
        };
        let serving = fallback.map_or("there is no version to serve".into(), |id| format!("serving the newest, v{id}"));
        let warning = format!(
            "the active-version pointer {} {what}; {serving} (`cinema versions activate ID` sets it)",
            pointer.display()
        );
        Ok((fallback, Some(warning)))
    }

    pub fn set_active(&self, id: u32) -> Result<()> {
        let _guard = self.lock("activating a model version")?;
        self.point_to(id)
    }

    fn point_to(&self, id: u32) -> Result<()> {
        if !self.path(id).exists() {
            bail!("there is no version v{id} (`cinema versions list` shows them)");
        }
        crate::atomic::write(&self.dir.join(POINTER), format!("v{id}\n").as_bytes())
    }

    /// Saves a new version (numbered after the newest) and returns its
    /// metadata; the pointer does not move.
    pub fn add(&self, meta: ModelMeta, model: &[u8]) -> Result<ModelMeta> {
        let _guard = self.lock("saving a model version")?;
        self.add_locked(meta, model)
    }

    /// Saves a new version and makes it the active one, with no other
    /// Cinema able to take its number or move the pointer in between.
    pub fn add_active(&self, meta: ModelMeta, model: &[u8]) -> Result<ModelMeta> {
        let _guard = self.lock("saving a model version")?;
        let meta = self.add_locked(meta, model)?;
        self.point_to(meta.id)?;
        Ok(meta)
    }

    fn add_locked(&self, mut meta: ModelMeta, model: &[u8]) -> Result<ModelMeta> {
        meta.id = self.ids()?.last().map_or(1, |last| last + 1);
        models::save(&self.path(meta.id), &meta, model)?;
        Ok(meta)
    }

    /// The lock every change of this folder is made under (see [`crate::lock`]).
    fn lock(&self, doing: &str) -> Result<Option<crate::lock::Guard>> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("could not create {}", self.dir.display()))?;
        crate::lock::acquire(&self.dir.join(".lock"), doing)
    }

    /// Deletes a version; the active one is refused.
    pub fn delete(&self, id: u32) -> Result<()> {
        let _guard = self.lock("deleting a model version")?;
        if self.active()? == Some(id) {
            bail!("v{id} is the active version; activate another first (`cinema versions activate ID`)");
        }
        let path = self.path(id);
        if !path.exists() {
            bail!("there is no version v{id} (`cinema versions list` shows them)");
        }
        std::fs::remove_file(&path).with_context(|| format!("could not delete {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_protocol::ModelSpec;

    fn meta(algorithm: &str) -> ModelMeta {
        ModelMeta {
            algorithm: algorithm.into(),
            params: ModelSpec::new(algorithm),
            ranking: None,
            dataset: "d".into(),
            engine: "e".into(),
            engine_sha256: "00".into(),
            train_ratings: 1,
            train_rmse: None,
            training_seconds: 0.0,
            created: 0,
            id: 0,
            dataset_fingerprint: String::new(),
            metrics: None,
            protocol: None,
            scored_on: None,
            stopped: false,
            epochs: 0,
            quick: false,
            ranking_chosen: true,
            parts: Vec::new(),
        }
    }

    #[test]
    fn versions_number_up_and_the_active_one_is_kept_from_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let (v, note) = Versions::open(dir.path()).unwrap();
        assert_eq!(note, None);
        assert_eq!(v.active().unwrap(), None);
        assert_eq!(v.add(meta("a"), &[1]).unwrap().id, 1);
        assert_eq!(v.add(meta("b"), &[2]).unwrap().id, 2);
        // No pointer yet: the newest serves.
        assert_eq!(v.active().unwrap(), Some(2));
        v.set_active(1).unwrap();
        assert_eq!(v.active().unwrap(), Some(1));
        assert!(v.delete(1).unwrap_err().to_string().contains("active version"));
        v.delete(2).unwrap();
        assert_eq!(v.add(meta("c"), &[3]).unwrap().id, 2, "numbers follow the newest on disk");
        assert_eq!(v.load(2).unwrap().1, vec![3]);
        assert!(v.set_active(9).is_err());
        // A damaged version is listed with why, and never chosen by the pointer's fallback.
        std::fs::write(v.path(2), b"junk").unwrap();
        let listed = v.list().unwrap();
        assert!(listed[0].meta.is_ok() && listed[1].meta.as_ref().unwrap_err().contains("not a Cinema model"));
        // A pointer to nothing falls back to the newest file.
        std::fs::write(dir.path().join(POINTER), "v77\n").unwrap();
        assert_eq!(v.active().unwrap(), Some(2));
        let (_, why) = v.active_and_why().unwrap();
        assert!(why.unwrap().contains("names v77, which does not exist; serving the newest, v2"));
        std::fs::write(dir.path().join(POINTER), [0xff, 0x00, 0x1b]).unwrap();
        let (active, why) = v.active_and_why().unwrap();
        assert!(active == Some(2) && why.unwrap().contains("is damaged"));
        assert_eq!(std::fs::read(dir.path().join(POINTER)).unwrap(), [0xff, 0x00, 0x1b], "reading never rewrites it");
    }

    #[test]
    fn a_model_saved_before_versions_becomes_v1_active() {
        let dir = tempfile::tempdir().unwrap();
        models::save(&models::legacy_active_path(dir.path()), &meta("svd"), &[9, 9]).unwrap();
        let (v, note) = Versions::open(dir.path()).unwrap();
        assert!(note.unwrap().contains("is now version v1"));
        assert_eq!(v.active().unwrap(), Some(1));
        let (m, bytes) = v.load(1).unwrap();
        assert_eq!((m.id, m.algorithm.as_str(), bytes), (1, "svd", vec![9, 9]));
        assert!(!models::legacy_active_path(dir.path()).exists());
        assert_eq!(Versions::open(dir.path()).unwrap().1, None, "migrated once");
    }
}
