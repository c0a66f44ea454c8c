//! The Versions view's state and what its keys do: every saved version of
//! the dataset with its scores, which one serves, rolling back (activate),
//! deleting, and comparing two — metric deltas, the parameters that
//! differ, and how the viewer's top 10 changes.

mod view;

use cinema_store::versions::Listed;
use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::Tab;
use crate::lab::compare::{Comparison, compare};
use crate::ui::context::{Cx, Then, deliver};
use crate::ui::cursor::Cursor;
use crate::ui::jobs::{JobId, Sink};
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::toast::Level;
use cinema_protocol::Scored;

/// Everything the Versions view shows.
#[derive(Default)]
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
    /// The two versions being compared while the engine works out their
    /// lists; an answer for another pair is stale.
    pub comparing: Option<Comparing>,
    /// Where the engine thread sends comparisons (`None`: they are waited for).
    pub answers: Option<Sink<Compared>>,
}

/// Two versions being compared, and the request working it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparing {
    pub pair: (u32, u32),
    pub asked: JobId,
}

/// A comparison of two versions, worked out on the engine thread.
pub struct Compared {
    pub asked: JobId,
    pub result: Result<Comparison, String>,
}

impl Tab for Shelf {
    fn title(&self) -> &'static str {
        "Versions"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        vec![C::Versions, C::Global, C::Always]
    }

    /// Activating is the app's: it asks the Lab first whether a training runs.
    fn act(&mut self, cx: &mut Cx, action: Action, _key: &KeyEvent) -> bool {
        match action {
            Action::DeleteVersion => self.delete(cx),
            Action::Compare => {
                let user = cx.shared.viewer_user();
                self.compare(cx, user);
            }
            Action::NextMetric => self.next_metric(),
            _ => return false,
        }
        true
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        view::render(self, shared, area, buf);
    }

    fn step(&mut self, _shared: &Shared, delta: isize) {
        self.cursor.step(delta, self.listed.len());
    }

    fn page(&self) -> isize {
        self.cursor.page()
    }

    /// Read when looked at: each version's checksum is a pass over its
    /// file (tens of ms apiece), too much for every start.
    fn enter(&mut self, cx: &mut Cx) {
        self.reload(cx);
    }
}

impl Shelf {
    pub fn chosen(&self) -> Option<u32> {
        self.listed.get(self.cursor.selected).map(|l| l.id)
    }

    pub fn why_unusable(&self, id: u32) -> Option<&str> {
        self.unusable.iter().find(|(i, _)| *i == id).map(|(_, why)| why.as_str())
    }
}

impl Shelf {
    /// Reads the versions from disk again.
    pub fn reload(&mut self, cx: &mut Cx) {
        let versions = cx.shared.rec.versions();
        let listed = versions.list().and_then(|l| Ok((l, versions.active()?)));
        match listed {
            Ok((mut listed, active)) => {
                listed.reverse();
                // The first look starts on the version that serves.
                if self.listed.is_empty() {
                    self.cursor.selected = listed.iter().position(|l| Some(l.id) == active).unwrap_or(0);
                }
                let (sha, fingerprint) =
                    (cx.shared.rec.module_sha256().to_owned(), cx.shared.rec.fingerprint().to_owned());
                self.unusable = listed
                    .iter()
                    .filter_map(|l| {
                        let why = match &l.meta {
                            Ok(meta) => crate::lab::unusable(meta, &sha, &fingerprint).map(|w| format!("was {w}")),
                            Err(e) => Some(e.clone()),
                        };
                        why.map(|w| (l.id, w))
                    })
                    .collect();
                self.listed = listed;
                self.active = active;
                self.error = None;
            }
            Err(e) => self.error = Some(format!("{e:#}")),
        }
        self.cursor.clamp(self.listed.len());
    }

    /// Enter: serve the selected version (roll back or forward).
    pub fn activate(&mut self, cx: &mut Cx, lab_busy: bool) {
        let Some(id) = self.chosen() else { return };
        if lab_busy {
            cx.notify(Level::Error, "a training is under way; activate when it ends");
            return;
        }
        match cx.shared.rec.activate(id) {
            Ok(meta) => {
                cx.notify(Level::Info, format!("v{id} now serves: {}", meta.params));
                self.reload(cx);
                cx.then.push(Then::Refresh);
            }
            Err(e) => cx.notify(Level::Error, format!("{e:#}")),
        }
    }

    /// `x`: delete the selected version (not the active one).
    pub fn delete(&mut self, cx: &mut Cx) {
        let Some(id) = self.chosen() else { return };
        match cx.shared.rec.versions().delete(id) {
            Ok(()) => {
                cx.notify(Level::Info, format!("deleted v{id}"));
                if self.mark == Some(id) {
                    self.mark = None;
                }
                self.comparison = None;
                self.reload(cx);
            }
            Err(e) => cx.notify(Level::Error, format!("{e:#}")),
        }
    }

    /// `c`: mark the selected version; on a second version, compare them.
    pub fn compare(&mut self, cx: &mut Cx, user: u32) {
        let Some(id) = self.chosen() else { return };
        let Some(first) = self.mark.filter(|&m| m != id) else {
            self.mark = Some(id);
            self.comparison = None;
            cx.notify(Level::Info, format!("v{id} marked: press c on another version to compare"));
            return;
        };
        let (a, b) = (first.min(id), first.max(id));
        self.mark = None;
        let metas = cx.shared.rec.versions().peek(a).and_then(|meta_a| Ok((meta_a, cx.shared.rec.versions().peek(b)?)));
        let (meta_a, meta_b) = match metas {
            Ok(metas) => metas,
            Err(e) => return cx.notify(Level::Error, format!("could not compare: {e:#}")),
        };
        let items = |top: Vec<Scored>| -> Vec<u32> { top.iter().map(|s| s.item).collect() };
        let ask = cx.shared.rec.top_under(a, user, 10).and(cx.shared.rec.top_under(b, user, 10));
        let ask = ask.map(move |(top_a, top_b)| compare(&meta_a, &meta_b, &items(top_a), &items(top_b)));
        let asked = JobId::next();
        self.comparing = Some(Comparing { pair: (a, b), asked });
        cx.notify(Level::Info, format!("comparing v{a} and v{b}: their lists are worked out"));
        if let Some(compared) = deliver(ask, self.answers.as_ref(), move |result| Compared { asked, result }) {
            self.on_compared(cx, compared);
        }
    }

    /// Takes a comparison, unless another was asked for since.
    pub fn on_compared(&mut self, cx: &mut Cx, compared: Compared) -> bool {
        if self.comparing.is_none_or(|c| c.asked != compared.asked) {
            return false;
        }
        self.comparing = None;
        match compared.result {
            Ok(c) => {
                self.comparison = Some(c);
                // "comparing …" is done with.
                cx.shared.toast = None;
            }
            Err(e) => cx.notify(Level::Error, format!("could not compare: {e:#}")),
        }
        true
    }

    /// `n`: chart the next metric across versions.
    pub fn next_metric(&mut self) {
        self.metric = (self.metric + 1) % cinema_store::models::Metrics::NAMES.len();
    }
}
