//! What a panel is handed when it acts: the parts of the app every panel
//! shares (the recommender, the toast line, the worker), and where it says
//! what the app should do once it is done (refresh the lists, re-read the
//! versions). A panel never sees the `App`, so imports in `ui/` go one way:
//! the app knows its panels, the panels know this.

use super::jobs::Sink;
use super::toast::{Level, Toast};
use super::work::{Launcher, Report};
use crate::recommender::{Ask, Recommender};

/// How the app runs work off the UI thread: what opening a dataset or
/// training needs, and where the work reports.
pub struct Jobs {
    pub launcher: Launcher,
    pub reports: Sink<Report>,
}

/// What the app does after a panel acted, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Ask the engine for the lists again (the model serving changed).
    Refresh,
    /// Read the saved versions again (one was added, activated or deleted).
    ReloadVersions,
}

pub struct Cx<'a> {
    pub rec: &'a mut Recommender,
    pub toast: &'a mut Option<Toast>,
    /// `None` where nothing runs in the background (snapshot tests).
    pub jobs: Option<&'a Jobs>,
    pub then: Vec<Then>,
}

impl Cx<'_> {
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        *self.toast = Some(Toast::new(level, text.into()));
    }
}

/// Hands the answer of `ask`, made a message by `wrap`, to `sink` on the
/// engine thread; without a sink (snapshot tests, nothing in the background)
/// waits for it and returns the message for the panel to take at once.
pub fn deliver<T: Send + 'static, M: 'static>(
    ask: Ask<T>,
    sink: Option<&Sink<M>>,
    wrap: impl FnOnce(Result<T, String>) -> M + Send + 'static,
) -> Option<M> {
    let message = move |r: anyhow::Result<T>| wrap(r.map_err(|e| format!("{e:#}")));
    match sink.cloned() {
        Some(sink) => {
            ask.then(move |r| sink.send(message(r)));
            None
        }
        None => Some(message(ask.wait())),
    }
}
