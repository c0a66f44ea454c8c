//! The tabs along the top of the screen, in [`table`]'s order. Each is a
//! component: it owns its state, names the key contexts it answers (from
//! the one key table, [`keys`](super::keys)), acts on their actions and
//! the reports of its own jobs, and draws itself from its state and the
//! [`Shared`] one. A new view is one file here and one line in [`table`].
//!
//! What a tab does not handle falls to the app: the keys of every view
//! (quit, help, switching tabs), the editing keys on the selected movie
//! (rate, watchlist, hide — [`Tab::selected`] says which movie), and the
//! overlays over a tab (the movie detail, explanations, help).

pub mod browse;
pub mod data;
pub mod for_you;
pub mod lab;
pub mod marked;
pub mod ratings;
pub mod versions;
pub mod watchlist;

use std::any::Any;
use std::time::Instant;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::context::Cx;
use super::keys::{Action, Context};
use super::shared::Shared;

/// The views, in the order of the tab line (and of Tab / Shift-Tab).
pub fn table(shared: &Shared) -> Vec<Box<dyn Tab>> {
    vec![
        Box::new(browse::Browse::new(shared)),
        Box::new(for_you::ForYou::default()),
        Box::new(ratings::Ratings::default()),
        Box::new(watchlist::Watchlist::default()),
        Box::new(data::DataPanel::default()),
        Box::new(lab::LabPanel::new(shared.rec.hello(), &shared.rec.meta)),
        Box::new(versions::Shelf::default()),
        Box::new(marked::Marked::default()),
    ]
}

pub trait Tab: Any {
    /// Its name in the tab line.
    fn title(&self) -> &'static str;

    /// The key contexts it answers now, most specific first, ending with
    /// `Global` and `Always` unless it is taking typed text.
    fn contexts(&self) -> Vec<Context>;

    /// Acts on `action` from one of its contexts; false when the action is
    /// not one it handles (the app's, then).
    fn act(&mut self, cx: &mut Cx, action: Action, key: &KeyEvent) -> bool;

    /// Draws the tab into `area` (settling nothing but scroll positions).
    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer);

    /// The movie the editing keys act on (rate, watchlist, hide…).
    fn selected(&self, _shared: &Shared) -> Option<u32> {
        None
    }

    /// Moves its selection or scroll `delta` rows (list keys, the wheel).
    fn step(&mut self, _shared: &Shared, _delta: isize) {}

    /// Rows a page key moves.
    fn page(&self) -> isize {
        1
    }

    /// It is shown.
    fn enter(&mut self, _cx: &mut Cx) {}

    /// Another tab is shown.
    fn leave(&mut self) {}

    /// The viewer's ratings or lists changed; `new_viewer`: they are
    /// someone else's now.
    fn lists_changed(&mut self, _shared: &Shared, _new_viewer: bool) {}

    /// The clock moved; true when what it shows changed.
    fn tick(&mut self, _now: Instant) -> bool {
        false
    }
}
