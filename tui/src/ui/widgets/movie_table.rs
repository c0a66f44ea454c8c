//! A scrolling table of rows, drawn one window at a time (a catalogue can
//! have 60,000 movies; only the visible rows are built).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, HighlightSpacing, Row, StatefulWidget, Table, TableState, Widget};

use crate::ui::cursor::Cursor;
use crate::ui::theme::{SELECTED_SYMBOL, Theme};

/// A column: its header and its width; `None` = takes the room left over.
pub struct Column {
    pub title: &'static str,
    pub width: Option<u16>,
    pub right: bool,
}

pub const fn col(title: &'static str, width: u16) -> Column {
    Column { title, width: Some(width), right: false }
}

pub const fn num(title: &'static str, width: u16) -> Column {
    Column { title, width: Some(width), right: true }
}

pub const fn fill(title: &'static str) -> Column {
    Column { title, width: None, right: false }
}

/// A right-aligned cell.
pub fn right<'a>(text: impl Into<String>) -> Cell<'a> {
    Cell::from(Line::from(text.into()).right_aligned())
}

pub struct Spec<'c> {
    pub columns: &'c [Column],
    pub len: usize,
    /// Shown under the header when there are no rows.
    pub empty: &'c str,
    /// Whether the selection is shown (a list without focus shows none).
    pub focused: bool,
}

/// Draws rows `row(i, fill_width)` of the window that keeps `cursor` visible.
pub fn render<'a>(
    theme: Theme,
    spec: Spec,
    cursor: &Cursor,
    area: Rect,
    buf: &mut Buffer,
    row: impl Fn(usize, usize) -> Row<'a>,
) {
    if area.height == 0 {
        return;
    }
    let fixed: u16 = spec.columns.iter().filter_map(|c| c.width).sum();
    let spacing = spec.columns.len().saturating_sub(1) as u16;
    let symbol = SELECTED_SYMBOL.chars().count() as u16;
    let fill = area.width.saturating_sub(fixed + spacing + symbol).max(1);
    let widths: Vec<Constraint> = spec.columns.iter().map(|c| Constraint::Length(c.width.unwrap_or(fill))).collect();
    let header = Row::new(spec.columns.iter().map(|c| if c.right { right(c.title) } else { Cell::from(c.title) }))
        .style(theme.header());
    let height = area.height.saturating_sub(1) as usize;
    let offset = cursor.window(height, spec.len);
    let end = (offset + height).min(spec.len);
    let rows: Vec<Row> = (offset..end).map(|i| row(i, fill as usize)).collect();
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .highlight_symbol(SELECTED_SYMBOL)
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.selected());
    let selected = (spec.focused && spec.len > 0).then(|| cursor.selected.saturating_sub(offset));
    let mut state = TableState::default().with_selected(selected);
    StatefulWidget::render(table, area, buf, &mut state);
    if spec.len == 0 && area.height > 1 {
        let message = Rect { y: area.y + 1, height: 1, x: area.x + symbol, width: area.width.saturating_sub(symbol) };
        Line::styled(spec.empty, theme.dim()).render(message, buf);
    }
}
