//! The impact panel (`w` in For you): the top 5 at weights 0, 0.2 … 1 side
//! by side, or (`d`) at diversity 0, 0.2 … 1, and how many of them change
//! between neighbouring columns — the notebook's analysis of the hybrid, live.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::ui::format::{fit, title};
use crate::ui::insight::{Axis, IMPACT_TOP, IMPACT_WEIGHTS, Impact};
use crate::ui::state::App;
use crate::ui::widgets::centered;
use cinema_protocol::HybridScored;

const WIDTH: u16 = 120;
/// Title, header, top N, a rule and the changes line, plus the border.
const HEIGHT: u16 = IMPACT_TOP as u16 + 7;

pub fn render(app: &App, impact: &Impact, area: Rect, buf: &mut Buffer) {
    let t = app.shared.theme;
    let popup = centered(area, WIDTH, HEIGHT);
    let whose = if app.shared.read_only() { format!("{}'s", app.shared.viewer_name()) } else { "your".into() };
    let (what, letter, now, legend) = match impact.axis {
        Axis::Weight => {
            ("the weight", "w", app.shared.weight, " w = weight on CF; 1 − w on content · d: diversity · Esc closes ")
        }
        Axis::Diversity => {
            ("diversity", "d", app.shared.diversity, " d = diversity, at the weight chosen · d: weights · Esc closes ")
        }
    };
    let block = Block::bordered()
        .title(Span::styled(format!(" How {what} changes {whose} top {IMPACT_TOP} "), t.title()))
        .title_bottom(Line::from(legend).right_aligned());
    let inner = block.inner(popup);
    Clear.render(popup, buf);
    block.render(popup, buf);
    let lists = match &impact.lists {
        None => return Line::styled(" Working it out…", t.dim()).render(inner, buf),
        Some(Err(e)) => return Line::styled(format!(" The engine failed: {e}"), t.error()).render(inner, buf),
        Some(Ok(lists)) => lists,
    };
    let columns = Layout::horizontal(lists.iter().map(|_| Constraint::Fill(1))).spacing(1).split(inner);
    for (at, (list, &area)) in lists.iter().zip(columns.iter()).enumerate() {
        let width = area.width as usize;
        let setting = IMPACT_WEIGHTS[at];
        let current = (setting - now).abs() < 0.05;
        let head = format!("{letter} = {setting:.1}{}", if current { " ◀" } else { "" });
        let mut lines = vec![Line::styled(fit(&head, width), t.header()), Line::default()];
        for (rank, s) in list.iter().enumerate() {
            let name = app.shared.rec.dataset.movies.get(s.item as usize).map(title).unwrap_or_default();
            lines.push(Line::raw(fit(&format!("{} {name}", rank + 1), width)));
        }
        lines.resize(IMPACT_TOP as usize + 2, Line::default());
        lines.push(Line::styled("─".repeat(width), t.dim()));
        let changed = match at {
            0 => "—".to_owned(),
            _ => format!("{} new vs {:.1}", changes(&lists[at - 1], list), IMPACT_WEIGHTS[at - 1]),
        };
        lines.push(Line::styled(fit(&changed, width), t.dim()));
        Paragraph::new(lines).render(area, buf);
    }
}

/// Movies in `now` that were not in `before`.
pub fn changes(before: &[HybridScored], now: &[HybridScored]) -> usize {
    now.iter().filter(|s| !before.iter().any(|b| b.item == s.item)).count()
}
