//! The terminal itself: set up and restored (also on panic), the event
//! loop that feeds the app one event at a time and redraws what changed,
//! and the first frame that start-up timing waits for.

use std::io::{self, IsTerminal as _};
use std::sync::mpsc;

use anyhow::{Context as _, Result};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Terminal, TerminalOptions, Viewport};

use super::event::{self, Event};
use super::state::App;
use super::views::draw;

/// How the app runs, from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Scroll lists with the mouse wheel (the terminal's own text selection then needs Shift).
    pub mouse: bool,
    /// Start up exactly as usual, draw the first frame, say so on stderr and
    /// exit: what `cinema bench` times. Changes nothing in the data directory
    /// beyond what any start does, and does not change the active dataset.
    pub exit_after_first_frame: bool,
}

/// What `--exit-after-first-frame` prints on stderr once the first frame is
/// drawn; `cinema bench` times a start-up to it.
pub const FIRST_FRAME: &str = "cinema: first frame drawn";

/// The screen drawn when stdout is not a terminal (start-up timing only).
const SINK_SIZE: Rect = Rect { x: 0, y: 0, width: 100, height: 30 };

/// Runs the app on this terminal until the user quits. The terminal is
/// restored on return and on panic.
pub fn run(mut app: App, events: (mpsc::Sender<Event>, mpsc::Receiver<Event>), options: &Options) -> Result<()> {
    if options.exit_after_first_frame {
        return first_frame(&app);
    }
    let mut terminal = ratatui::try_init().context("could not set up the terminal")?;
    if options.mouse {
        mouse_capture()?;
    }
    tracing::info!("terminal app started on {}", app.shared.rec.dataset.name);
    let result = event_loop(&mut terminal, &mut app, events);
    if options.mouse {
        let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
    }
    ratatui::restore();
    tracing::info!("terminal app stopped");
    result
}

/// Turns on mouse reporting (for the wheel), and off again on a panic before
/// ratatui's own hook restores the rest of the terminal.
fn mouse_capture() -> Result<()> {
    let restore = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
        restore(info);
    }));
    crossterm::execute!(io::stdout(), EnableMouseCapture).context("could not turn on the mouse wheel")
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    (tx, rx): (mpsc::Sender<Event>, mpsc::Receiver<Event>),
) -> Result<()> {
    event::spawn_input(tx.clone());
    event::spawn_ticker(tx);
    terminal.draw(|frame| draw(frame, app))?;
    while let Ok(event) = rx.recv() {
        if let Event::InputFailed(e) = event {
            return Err(anyhow::anyhow!("could not read the terminal: {e}"));
        }
        let changed = app.handle(event);
        if app.quit {
            return Ok(());
        }
        if changed {
            terminal.draw(|frame| draw(frame, app))?;
        }
    }
    Ok(())
}

/// Draws one full frame the way the app does — on the terminal when stdout is
/// one, else through the same backend into a sink — and says so on stderr.
fn first_frame(app: &App) -> Result<()> {
    if io::stdout().is_terminal() {
        let mut terminal = ratatui::try_init().context("could not set up the terminal")?;
        let drawn = terminal.draw(|frame| draw(frame, app)).map(|_| ());
        ratatui::restore();
        drawn?;
    } else {
        let backend = CrosstermBackend::new(io::sink());
        let mut terminal = Terminal::with_options(backend, TerminalOptions { viewport: Viewport::Fixed(SINK_SIZE) })?;
        terminal.draw(|frame| draw(frame, app))?;
    }
    let origin = match app.shared.rec.origin {
        crate::recommender::ModelOrigin::Loaded => "loaded",
        crate::recommender::ModelOrigin::Trained => "trained",
        crate::recommender::ModelOrigin::StandIn => "stand-in; the first models train behind the app",
    };
    eprintln!("{FIRST_FRAME} (model {origin})");
    Ok(())
}
