//! What lies over the tabs: the movie detail (in place of the tab's body),
//! and over the whole screen the explanation, the weight impact, the
//! "browse as" prompt and help. The app keeps them as a stack and the top
//! one has the keys; each owns its state, names its key contexts, acts on
//! them, takes the engine's answers to its own requests and draws itself.

pub mod detail;
pub mod explain;
pub mod help;
pub mod impact;
pub mod prompt;

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::answers::Answer;
use super::context::{Cx, deliver};
use super::keys::{Action, Context};
use super::shared::Shared;
use crate::recommender::Ask;

/// What became of an overlay after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It acted and stays.
    Stay,
    /// It is done: off the stack.
    Close,
    /// Not its action: the app's (quit, the editing keys on its movie…).
    Pass,
}

pub trait Overlay: Any {
    /// The key contexts it answers, most specific first.
    fn contexts(&self) -> Vec<Context>;

    fn act(&mut self, cx: &mut Cx, action: Action, key: &KeyEvent) -> Outcome;

    /// Draws it into `area`: the tab's body when [`Overlay::in_body`], else
    /// the whole screen.
    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer);

    /// It takes the place of the tab's body (the movie detail) rather than
    /// floating over the whole screen.
    fn in_body(&self) -> bool {
        false
    }

    /// The movie the editing keys act on while it is on top.
    fn selected(&self) -> Option<u32> {
        None
    }

    /// The mouse wheel, `rows` down; false when it does not scroll.
    fn scroll(&mut self, _rows: isize) -> bool {
        false
    }

    /// Takes `answer` if it is to a request this overlay still holds; else
    /// hands it back.
    fn on_answer(&mut self, _cx: &mut Cx, answer: Answer) -> Option<Answer> {
        Some(answer)
    }
}

/// Sends `ask`, its answer to come back as an [`Answer`] made by `wrap`;
/// with nothing in the background (snapshot tests) the answer is waited
/// for and returned, for the asking overlay to take at once.
fn ask<T: Send + 'static>(
    cx: &Cx,
    ask: Ask<T>,
    wrap: impl FnOnce(Result<T, String>) -> Answer + Send + 'static,
) -> Option<Answer> {
    deliver(ask, cx.jobs.map(|jobs| &jobs.answers), wrap)
}

/// Moves a scroll position `rows`, at most a thousand at a time (a page key
/// asks for "the end" as a huge number).
fn scrolled(at: usize, rows: isize) -> usize {
    at.saturating_add_signed(rows.clamp(-1000, 1000))
}

/// The keys of a panel of text that scrolls: ↑↓ move `scroll` a line, the
/// `closing` actions close it, the rest pass.
fn scrolling(scroll: &mut usize, action: Action, closing: &[Action]) -> Outcome {
    match action {
        Action::Up => *scroll = scrolled(*scroll, -1),
        Action::Down => *scroll = scrolled(*scroll, 1),
        _ if closing.contains(&action) => return Outcome::Close,
        _ => return Outcome::Pass,
    }
    Outcome::Stay
}
