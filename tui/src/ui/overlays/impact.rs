//! The impact panel (`w` in For you): the top 5 at weights 0, 0.2 … 1 side
//! by side, or (`d`) at diversity 0, 0.2 … 1, and how many of them change
//! between neighbouring columns — the notebook's analysis of the hybrid, live.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::{Outcome, Overlay, ask};
use crate::ui::answers::Answer;
use crate::ui::context::Cx;
use crate::ui::format::{fit, title};
use crate::ui::jobs::JobId;
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::widgets::centered;
use cinema_protocol::HybridScored;

/// The settings the panel compares, and how many movies of each list.
pub const IMPACT_WEIGHTS: [f32; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
pub const IMPACT_TOP: u32 = 5;
const WIDTH: u16 = 120;
/// Title, header, top N, a rule and the changes line, plus the border.
const HEIGHT: u16 = IMPACT_TOP as u16 + 7;

/// The top 5 at each of [`IMPACT_WEIGHTS`] of the hybrid weight (at no
/// diversity), or of diversity (at the weight chosen).
pub struct Impact {
    /// The request whose answer it waits for.
    asked: JobId,
    pub axis: Axis,
    pub lists: Option<Result<Vec<Vec<HybridScored>>, String>>,
}

/// What changes across the panel's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Weight,
    Diversity,
}

impl Impact {
    /// Asks for the viewer's lists along `axis`.
    pub fn open(cx: &mut Cx, axis: Axis) -> Impact {
        let mut impact = Impact { asked: JobId::next(), axis, lists: None };
        impact.ask(cx, axis);
        impact
    }

    fn ask(&mut self, cx: &mut Cx, axis: Axis) {
        let asked = JobId::next();
        (self.asked, self.axis, self.lists) = (asked, axis, None);
        let shared = &cx.shared;
        let settings = IMPACT_WEIGHTS.iter().map(|&x| match axis {
            Axis::Weight => (x, 0.0),
            Axis::Diversity => (shared.weight, x),
        });
        let lists = shared.rec.impact(shared.viewer_user(), IMPACT_TOP, settings.collect());
        if let Some(answer) = ask(cx, lists, move |r| Answer::Impact(asked, r)) {
            self.on_answer(cx, answer);
        }
    }
}

impl Overlay for Impact {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Impact, Context::Always]
    }

    fn act(&mut self, cx: &mut Cx, action: Action, _key: &KeyEvent) -> Outcome {
        match action {
            Action::ImpactAxis => {
                let other = if self.axis == Axis::Weight { Axis::Diversity } else { Axis::Weight };
                self.ask(cx, other);
            }
            Action::CloseOverlay => return Outcome::Close,
            _ => return Outcome::Pass,
        }
        Outcome::Stay
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(shared, self, area, buf);
    }

    fn on_answer(&mut self, _cx: &mut Cx, answer: Answer) -> Option<Answer> {
        match answer {
            Answer::Impact(asked, result) if asked == self.asked => self.lists = Some(result),
            other => return Some(other),
        }
        None
    }
}

fn render(shared: &Shared, impact: &Impact, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let popup = centered(area, WIDTH, HEIGHT);
    let whose = if shared.read_only() { format!("{}'s", shared.viewer_name()) } else { "your".into() };
    let (what, letter, now, legend) = match impact.axis {
        Axis::Weight => {
            ("the weight", "w", shared.weight, " w = weight on CF; 1 − w on content · d: diversity · Esc closes ")
        }
        Axis::Diversity => {
            ("diversity", "d", shared.diversity, " d = diversity, at the weight chosen · d: weights · Esc closes ")
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
            let name = shared.rec.dataset.movies.get(s.item as usize).map(title).unwrap_or_default();
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
