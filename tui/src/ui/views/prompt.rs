//! The "browse as a dataset user" input.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::ui::state::App;
use crate::ui::widgets::centered;

pub fn render(app: &App, text: &str, area: Rect, buf: &mut Buffer) {
    let t = app.shared.theme;
    let ids = &app.shared.rec.dataset.user_ids;
    let range = match (ids.first(), ids.last()) {
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "none".into(),
    };
    let popup = centered(area, 60, 5);
    let block = Block::bordered().title(Span::styled(" Browse as a dataset user (read-only) ", t.title()));
    let lines = vec![
        Line::styled(format!("User id ({range}); empty for you. Enter ok · Esc cancel"), t.dim()),
        Line::from(vec![Span::styled("> ", t.key()), Span::raw(text.to_owned()), Span::styled("▌", t.key())]),
    ];
    Clear.render(popup, buf);
    Paragraph::new(lines).block(block).render(popup, buf);
}
