//! Drawing pieces more than one view uses: the scrolling movie table, the
//! line chart, the short "for you" list, and two layout helpers. They draw
//! what they are given and know nothing of the app.

pub mod chart;
pub mod for_you;
pub mod movie_table;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;

/// From this width on, the "for you" list sits beside the catalogue or the
/// movie detail.
pub const SIDE_BY_SIDE: u16 = 110;

/// A centred rectangle of at most `width`×`height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Writes one line into the first row of `area`.
pub fn line(text: Line, area: Rect, buf: &mut Buffer) {
    if area.height > 0 {
        text.render(Rect { height: 1, ..area }, buf);
    }
}
