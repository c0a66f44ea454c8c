//! The one event channel: key presses, mouse-wheel turns and resizes from an
//! input thread, reports from long work (import, download, training) and
//! the engine thread's answers, and a tick (toasts expire and progress
//! timers advance on it).

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::thread;
use std::time::Duration;

use crossterm::event::{self as term, KeyEvent, KeyEventKind, MouseEventKind};

use super::answers::Answer;
use super::state::Viewed;
use super::tabs::versions::Compared;
use super::work::Report;
use crate::recommender::Opened;
use cinema_store::Dataset;

const TICK: Duration = Duration::from_millis(250);
/// Rows one notch of the mouse wheel moves.
pub const WHEEL_ROWS: isize = 3;

pub enum Event {
    Key(KeyEvent),
    /// Rows to move: positive is down.
    Scroll(isize),
    Resize,
    Tick,
    Work(Report),
    /// The engine thread's answer to a view request.
    Viewed(Box<Viewed>),
    /// The engine thread's answer about similar movies, an explanation or the weight's impact.
    Answer(Box<Answer>),
    /// The engine thread's comparison of two versions.
    Compared(Box<Compared>),
    /// The engine has loaded this dataset, which the app opened before it was ready.
    Opened(Arc<Dataset>, Box<anyhow::Result<Opened>>),
    InputFailed(String),
}

/// Reads the terminal; only key presses count (some platforms also report
/// releases), and of the mouse only the wheel.
pub fn spawn_input(tx: Sender<Event>) {
    thread::spawn(move || {
        loop {
            let event = match term::read() {
                Ok(term::Event::Key(key)) if key.kind == KeyEventKind::Press => Event::Key(key),
                Ok(term::Event::Mouse(m)) if m.kind == MouseEventKind::ScrollDown => Event::Scroll(WHEEL_ROWS),
                Ok(term::Event::Mouse(m)) if m.kind == MouseEventKind::ScrollUp => Event::Scroll(-WHEEL_ROWS),
                Ok(term::Event::Resize(..)) => Event::Resize,
                Ok(_) => continue,
                Err(e) => Event::InputFailed(e.to_string()),
            };
            let failed = matches!(event, Event::InputFailed(_));
            if tx.send(event).is_err() || failed {
                return;
            }
        }
    });
}

pub fn spawn_ticker(tx: Sender<Event>) {
    thread::spawn(move || {
        while tx.send(Event::Tick).is_ok() {
            thread::sleep(TICK);
        }
    });
}
