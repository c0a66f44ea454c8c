//! The help overlay: every key, grouped by where it works, generated from
//! the key table that drives the key handling.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::{Outcome, Overlay, scrolled, scrolling};
use crate::ui::context::Cx;
use crate::ui::keys::{Action, BINDINGS, Context};
use crate::ui::shared::Shared;
use crate::ui::theme::Theme;
use crate::ui::widgets::centered;

/// The help over everything, scrolled this many lines.
#[derive(Default)]
pub struct Help {
    pub scroll: usize,
}

impl Overlay for Help {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Help, Context::Always]
    }

    fn act(&mut self, _cx: &mut Cx, action: Action, _key: &KeyEvent) -> Outcome {
        scrolling(&mut self.scroll, action, &[Action::Help, Action::CloseHelp])
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(shared.theme, self.scroll, area, buf);
    }

    fn scroll(&mut self, rows: isize) -> bool {
        self.scroll = scrolled(self.scroll, rows);
        true
    }
}

const WIDTH: u16 = 72;
const KEYS_WIDTH: usize = 18;

/// Every line of the help, unscrolled.
pub fn lines(t: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for context in Context::ALL {
        let bindings: Vec<_> = BINDINGS.iter().filter(|b| b.context == context).collect();
        if bindings.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(context.title().to_owned(), t.header()));
        for b in bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<KEYS_WIDTH$}", b.keys_label()), t.key()),
                Span::raw(b.description),
            ]));
        }
    }
    // Not a key, so not in the key table; the event loop turns the wheel into scrolling.
    lines.push(Line::default());
    lines.push(Line::styled("Mouse", t.header()));
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<KEYS_WIDTH$}", "wheel"), t.key()),
        Span::raw("scroll the list or this help (--no-mouse: off)"),
    ]));
    lines
}

fn render(t: Theme, scroll: usize, area: Rect, buf: &mut Buffer) {
    let popup = centered(area, WIDTH, area.height.saturating_sub(2));
    let lines = lines(t);
    let visible = popup.height.saturating_sub(2) as usize;
    let scroll = scroll.min(lines.len().saturating_sub(visible));
    let more = if scroll + visible < lines.len() { " ↓ j/k scroll " } else { " " };
    let block = Block::bordered()
        .title(Span::styled(" Help · every key · Esc closes ", t.title()))
        .title_bottom(Line::from(more).right_aligned());
    Clear.render(popup, buf);
    Paragraph::new(lines).block(block).scroll((scroll as u16, 0)).render(popup, buf);
}
