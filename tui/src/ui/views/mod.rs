//! The whole frame, a function of the [`App`]: the tab line, the tab on
//! screen (or the movie detail in its place), the status line and the key
//! bar, then the overlays bottom first. Each tab and overlay draws itself;
//! what is drawn changes nothing (beyond settling scroll positions).

mod chrome;

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
    match app.overlays.iter().rev().find(|o| o.in_body()) {
        Some(overlay) => overlay.render(&app.shared, body, buf),
        None => app.current().render(&app.shared, body, buf),
    }
    chrome::status(app, status, buf);
    chrome::context_bar(app, bar, buf);
    for overlay in app.overlays.iter().filter(|o| !o.in_body()) {
        overlay.render(&app.shared, area, buf);
    }
}
