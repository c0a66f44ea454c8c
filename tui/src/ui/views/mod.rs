//! Views are functions of the state: each draws part of an [`App`] into a
//! buffer and changes nothing (beyond settling scroll positions).

mod chrome;
mod detail;
mod explain;
mod help;
mod impact;
mod prompt;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Widget;

use super::state::App;

/// Smallest area the app lays out; below it, it says so instead.
const MIN_WIDTH: u16 = 40;
const MIN_HEIGHT: u16 = 10;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    render(app, area, frame.buffer_mut());
}

/// Draws the whole screen into `buf`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text =
            format!("Cinema needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}.", area.width, area.height);
        ratatui::widgets::Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }).render(area, buf);
        return;
    }
    let [top, body, status, bar] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    chrome::tabs(app, top, buf);
    match app.insight.detail {
        Some(movie) => detail::render(app, movie, body, buf),
        None => app.current().render(&app.shared, body, buf),
    }
    chrome::status(app, status, buf);
    chrome::context_bar(app, bar, buf);
    if let Some(explaining) = &app.insight.explaining {
        explain::render(app, explaining, area, buf);
    }
    if let Some(impact) = &app.insight.impact {
        impact::render(app, impact, area, buf);
    }
    if let Some(text) = &app.prompt {
        prompt::render(app, text, area, buf);
    }
    if let Some(scroll) = app.help {
        help::render(app, scroll, area, buf);
    }
}
