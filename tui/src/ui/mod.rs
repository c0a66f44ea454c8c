//! The terminal app (ratatui + crossterm): browse, search, rate with
//! instant learning, recommendations, your ratings.
//!
//! gitui/ratatui-demo style: one [`event::Event`] channel feeds the loop;
//! a key is looked up in the one key table ([`keys`]), the action changes
//! the [`App`] state, and the views (functions of that state) redraw.

mod actions;
pub mod cold_start;
pub mod cursor;
pub mod event;
pub mod format;
pub mod keys;
pub mod launch;
pub mod query;
pub mod state;
pub mod stats;
pub mod theme;
pub mod views;

use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context as _, Result};
use ratatui::DefaultTerminal;

pub use launch::launch;
pub use state::App;
pub use views::{draw, render};

use crate::recommender::Recommender;
use event::Event;

/// Runs the app on this terminal until the user quits. The terminal is
/// restored on return and on panic.
pub fn run(rec: Recommender) -> Result<()> {
    let mut app = App::new(rec);
    let mut terminal = ratatui::try_init().context("could not set up the terminal")?;
    tracing::info!("terminal app started on {}", app.rec.dataset.name);
    let result = event_loop(&mut terminal, &mut app);
    ratatui::restore();
    tracing::info!("terminal app stopped");
    result
}

fn event_loop(terminal: &mut DefaultTerminal, app: &mut App) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    event::spawn_input(tx.clone());
    event::spawn_ticker(tx);
    terminal.draw(|frame| draw(frame, app))?;
    while let Ok(event) = rx.recv() {
        let changed = match event {
            Event::Key(key) => {
                app.handle_key(key);
                true
            }
            Event::Resize => true,
            Event::Tick => app.tick(Instant::now()),
            Event::InputFailed(e) => return Err(anyhow::anyhow!("could not read the terminal: {e}")),
        };
        if app.quit {
            return Ok(());
        }
        if changed {
            terminal.draw(|frame| draw(frame, app))?;
        }
    }
    Ok(())
}
