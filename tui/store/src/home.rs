//! The app's own data directory: where datasets, plugins, model versions,
//! caches and the log live, and which dataset the app opens by default.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Overrides the platform data directory when set (and non-empty).
pub const HOME_ENV: &str = "CINEMA_HOME";

/// How many datasets opened before are remembered.
pub const RECENT: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `--home DIR` wins, then `$CINEMA_HOME`, then the platform's data
    /// directory (XDG on Linux). The directory is created if missing.
    pub fn resolve(flag: Option<PathBuf>) -> anyhow::Result<Home> {
        let platform = || directories::ProjectDirs::from("org", "cinema", "cinema").map(|d| d.data_dir().to_owned());
        let Some(root) = choose(flag, std::env::var_os(HOME_ENV), platform) else {
            bail!("cannot find a data directory for Cinema; pass --home DIR or set {HOME_ENV}");
        };
        // Absolute, so a later change of working directory cannot move it.
        let root = std::path::absolute(&root).with_context(|| format!("cannot resolve {}", root.display()))?;
        fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
        Ok(Home { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Datasets downloaded or unpacked by the app; created on first use.
    pub fn datasets_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = self.root.join("datasets");
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.root.join("plugins")
    }

    /// Saved model versions.
    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    /// Rebuildable data only: anything here may be deleted at any time.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// Your ratings log for one dataset.
    pub fn ratings_path(&self, dataset: &str) -> PathBuf {
        self.root.join("ratings").join(format!("{}.log", file_safe(dataset)))
    }

    /// Saved models for one dataset.
    pub fn models_dir(&self, dataset: &str) -> PathBuf {
        self.versions_dir().join(file_safe(dataset))
    }

    /// Files exported from the app (your watchlist as a CSV).
    pub fn exports_dir(&self) -> PathBuf {
        self.root.join("exports")
    }

    pub fn log_path(&self) -> PathBuf {
        self.root.join("cinema.log")
    }

    /// The dataset the terminal app opens when no `--dataset` is given: the
    /// one last opened there. `None`: none yet (the demo catalogue).
    pub fn active_dataset(&self) -> Option<PathBuf> {
        self.recent_datasets().into_iter().next()
    }

    /// The datasets opened before, the last one (the active one) first, at
    /// most [`RECENT`]: the Data view offers them instead of retyping.
    pub fn recent_datasets(&self) -> Vec<PathBuf> {
        let text = fs::read_to_string(self.active_dataset_path()).unwrap_or_default();
        text.lines().map(str::trim_end).filter(|l| !l.is_empty()).take(RECENT).map(PathBuf::from).collect()
    }

    /// Makes `path` (absolute) the default for the next start, ahead of the
    /// ones opened before. Written atomically: a crash leaves the old list
    /// or the new one, never half.
    pub fn set_active_dataset(&self, path: &Path) -> anyhow::Result<()> {
        let path = std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
        // One line of text; a path that is not UTF-8 (or spans lines) cannot be kept in it.
        let Some(text) = path.to_str().filter(|t| !t.contains('\n')) else {
            bail!("cannot remember {} as the active dataset: the path is not plain text", path.display());
        };
        let before = self.recent_datasets();
        if before.first() == Some(&path) {
            return Ok(());
        }
        let mut lines = vec![text.to_owned()];
        lines.extend(before.iter().filter(|p| **p != path).filter_map(|p| p.to_str().map(str::to_owned)));
        lines.truncate(RECENT);
        crate::atomic::write(&self.active_dataset_path(), format!("{}\n", lines.join("\n")).as_bytes())
    }

    fn active_dataset_path(&self) -> PathBuf {
        self.root.join("active-dataset")
    }
}

/// Dataset names come from folder names; keep them to portable characters.
pub fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// The precedence rule, kept apart from the process environment so it can be tested.
fn choose(flag: Option<PathBuf>, env: Option<OsString>, platform: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from)).or_else(platform)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_platform() {
        let platform = || Some(PathBuf::from("/p"));
        assert_eq!(choose(Some("/f".into()), Some("/e".into()), platform), Some("/f".into()));
        assert_eq!(choose(None, Some("/e".into()), platform), Some("/e".into()));
        assert_eq!(choose(None, Some("".into()), platform), Some("/p".into()));
        assert_eq!(choose(None, None, || None), None);
    }

    #[test]
    fn resolve_creates_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(tmp.path().join("a/b"))).unwrap();
        assert!(home.root().is_dir());
        assert_eq!(home.cache_dir(), tmp.path().join("a/b/cache"));
        assert!(home.datasets_dir().unwrap().is_dir());
        assert!(!home.cache_dir().exists());
    }

    #[test]
    fn the_active_dataset_is_remembered_as_an_absolute_path() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(tmp.path().to_path_buf())).unwrap();
        assert_eq!(home.active_dataset(), None);
        home.set_active_dataset(&tmp.path().join("ml-100k")).unwrap();
        assert_eq!(home.active_dataset(), Some(tmp.path().join("ml-100k")));
        home.set_active_dataset(Path::new("relative/ml-1m")).unwrap();
        let active = home.active_dataset().unwrap();
        assert!(active.is_absolute() && active.ends_with("relative/ml-1m"), "{}", active.display());
        let again = Home::resolve(Some(tmp.path().to_path_buf())).unwrap();
        assert_eq!(again.active_dataset(), Some(active.clone()), "kept on disk");
        assert_eq!(again.recent_datasets(), vec![active.clone(), tmp.path().join("ml-100k")]);
        // Opening one again moves it to the front, once.
        home.set_active_dataset(&tmp.path().join("ml-100k")).unwrap();
        assert_eq!(home.recent_datasets(), vec![tmp.path().join("ml-100k"), active]);
        for i in 0..RECENT + 3 {
            home.set_active_dataset(&tmp.path().join(format!("d{i}"))).unwrap();
        }
        let recent = home.recent_datasets();
        assert_eq!(recent.len(), RECENT);
        assert_eq!(recent[0], tmp.path().join(format!("d{}", RECENT + 2)));
    }
}
