//! The Versions view's state and what its keys do: every saved version of
//! the dataset with its scores, which one serves, rolling back (activate),
//! deleting, and comparing two — metric deltas, the parameters that
//! differ, and how the viewer's top 10 changes.

use cinema_store::versions::Listed;

use super::cursor::Cursor;
use super::state::{App, Level};
use crate::lab::compare::{Comparison, compare};

/// Everything the Versions view shows.
#[derive(Debug, Default)]
pub struct Shelf {
    /// Newest first.
    pub listed: Vec<Listed>,
    pub active: Option<u32>,
    /// Why each version cannot serve here, by id.
    pub unusable: Vec<(u32, String)>,
    pub cursor: Cursor,
    /// The version chosen first for a comparison (`c` on another compares).
    pub mark: Option<u32>,
    pub comparison: Option<Comparison>,
    /// Which metric the chart follows across versions (index into `Metrics::named`).
    pub metric: usize,
    pub error: Option<String>,
}

impl Shelf {
    pub fn selected(&self) -> Option<u32> {
        self.listed.get(self.cursor.selected).map(|l| l.id)
    }

    pub fn why_unusable(&self, id: u32) -> Option<&str> {
        self.unusable.iter().find(|(i, _)| *i == id).map(|(_, why)| why.as_str())
    }
}

impl App {
    /// Reads the versions from disk again.
    pub(super) fn shelf_reload(&mut self) {
        let versions = self.rec.versions();
        let listed = versions.list().and_then(|l| Ok((l, versions.active()?)));
        match listed {
            Ok((mut listed, active)) => {
                listed.reverse();
                // The first look starts on the version that serves.
                if self.shelf.listed.is_empty() {
                    self.shelf.cursor.selected = listed.iter().position(|l| Some(l.id) == active).unwrap_or(0);
                }
                let (sha, fingerprint) = (self.rec.module_sha256().to_owned(), self.rec.dataset.fingerprint());
                self.shelf.unusable = listed
                    .iter()
                    .filter_map(|l| {
                        let why = match &l.meta {
                            Ok(meta) => crate::lab::unusable(meta, &sha, &fingerprint).map(|w| format!("was {w}")),
                            Err(e) => Some(e.clone()),
                        };
                        why.map(|w| (l.id, w))
                    })
                    .collect();
                self.shelf.listed = listed;
                self.shelf.active = active;
                self.shelf.error = None;
            }
            Err(e) => self.shelf.error = Some(format!("{e:#}")),
        }
        self.shelf.cursor.clamp(self.shelf.listed.len());
    }

    /// Enter: serve the selected version (roll back or forward).
    pub(super) fn shelf_activate(&mut self) {
        let Some(id) = self.shelf.selected() else { return };
        if self.lab.run.is_some() {
            self.notify(Level::Error, "a training is under way; activate when it ends");
            return;
        }
        match self.rec.activate(id) {
            Ok(meta) => {
                self.notify(Level::Info, format!("v{id} now serves: {}", meta.params));
                self.shelf_reload();
                self.refresh(false, None);
            }
            Err(e) => self.notify(Level::Error, format!("{e:#}")),
        }
    }

    /// `x`: delete the selected version (not the active one).
    pub(super) fn shelf_delete(&mut self) {
        let Some(id) = self.shelf.selected() else { return };
        match self.rec.versions().delete(id) {
            Ok(()) => {
                self.notify(Level::Info, format!("deleted v{id}"));
                if self.shelf.mark == Some(id) {
                    self.shelf.mark = None;
                }
                self.shelf.comparison = None;
                self.shelf_reload();
            }
            Err(e) => self.notify(Level::Error, format!("{e:#}")),
        }
    }

    /// `c`: mark the selected version; on a second version, compare them.
    pub(super) fn shelf_compare(&mut self) {
        let Some(id) = self.shelf.selected() else { return };
        let Some(first) = self.shelf.mark.filter(|&m| m != id) else {
            self.shelf.mark = Some(id);
            self.shelf.comparison = None;
            self.notify(Level::Info, format!("v{id} marked: press c on another version to compare"));
            return;
        };
        let (a, b) = (first.min(id), first.max(id));
        let user = self.viewer_user();
        let result = (|| -> anyhow::Result<Comparison> {
            let (meta_a, _) = self.rec.versions().load(a)?;
            let (meta_b, _) = self.rec.versions().load(b)?;
            let top = |rec: &mut crate::recommender::Recommender, id| -> anyhow::Result<Vec<u32>> {
                Ok(rec.top_under(id, user, 10)?.iter().map(|s| s.item).collect())
            };
            let (top_a, top_b) = (top(&mut self.rec, a)?, top(&mut self.rec, b)?);
            Ok(compare(&meta_a, &meta_b, &top_a, &top_b))
        })();
        self.shelf.mark = None;
        match result {
            Ok(c) => {
                self.shelf.comparison = Some(c);
                // "press c on another version" is done with.
                self.toast = None;
            }
            Err(e) => self.notify(Level::Error, format!("could not compare: {e:#}")),
        }
    }

    /// `n`: chart the next metric across versions.
    pub(super) fn shelf_next_metric(&mut self) {
        self.shelf.metric = (self.shelf.metric + 1) % 8;
    }
}
