//! The app's own data directory: where datasets, plugins, model versions,
//! caches and the log live.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Overrides the platform data directory when set (and non-empty).
pub const HOME_ENV: &str = "CINEMA_HOME";

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

    pub fn log_path(&self) -> PathBuf {
        self.root.join("cinema.log")
    }
}

/// The precedence rule, kept apart from the process environment so it can be tested.
/// Dataset names come from folder names; keep them to portable characters.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

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
}
