//! What a panel is handed when it acts: the parts of the app every panel
//! shares ([`Shared`]: the recommender, the viewer's lists, the toast
//! line), the job runner, and where it says what the app should do once it
//! is done (refresh the lists, re-read the versions). A panel never sees
//! the `App`, so imports in `ui/` go one way: the app knows its panels, the
//! panels know this.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::answers::Answer;
use super::jobs::Sink;
use super::shared::Shared;
use super::toast::Level;
use super::work::{Launcher, Report};
use crate::recommender::{Ask, Recommender};
use cinema_store::ratings_log::Change;

/// How the app runs work off the UI thread: what opening a dataset or
/// training needs, and where the work reports.
pub struct Jobs {
    pub launcher: Launcher,
    pub reports: Sink<Report>,
    /// Where the engine thread sends the overlays' answers.
    pub answers: Sink<Answer>,
}

/// What the app does after a panel acted, in order: what reaches past the
/// panel (the lists every tab shows, the other panels, the whole app).
pub enum Then {
    /// Ask the engine for the lists again (the model serving changed).
    Refresh,
    /// Learn your ratings and ask for the lists (they changed in bulk: an
    /// import of your history).
    Learn,
    /// Your ratings changed (on disk already, at `Instant`): learn them and
    /// say what changed and how long it took once the lists are in.
    Changed(anyhow::Result<Option<Change>>, Instant),
    /// Read the saved versions again (one was added, activated or deleted).
    ReloadVersions,
    /// The viewer changed (the "browse as" prompt): every list is theirs now.
    NewViewer,
    /// A dataset is open (from `PathBuf`, after `Duration`): everything on
    /// screen now comes from it. The `String` says why, when it replaced a
    /// module that failed.
    Switch(Box<Recommender>, Option<PathBuf>, Duration, Option<String>),
}

pub struct Cx<'a> {
    pub shared: &'a mut Shared,
    /// `None` where nothing runs in the background (snapshot tests).
    pub jobs: Option<&'a Jobs>,
    pub then: Vec<Then>,
}

impl Cx<'_> {
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.shared.notify(level, text);
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
