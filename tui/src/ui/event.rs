//! The one event channel: key presses and resizes from an input thread,
//! and a tick (toasts expire on it).

use std::sync::mpsc::Sender;
use std::thread;
use std::time::Duration;

use crossterm::event::{self as term, KeyEvent, KeyEventKind};

const TICK: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Resize,
    Tick,
    InputFailed(String),
}

/// Reads the terminal; only key presses count (some platforms also report releases).
pub fn spawn_input(tx: Sender<Event>) {
    thread::spawn(move || {
        loop {
            let event = match term::read() {
                Ok(term::Event::Key(key)) if key.kind == KeyEventKind::Press => Event::Key(key),
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
