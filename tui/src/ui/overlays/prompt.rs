//! The "browse as a dataset user" input: a user id makes every list theirs
//! (read-only); empty (or "me") makes them yours again.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::{Outcome, Overlay};
use crate::ui::context::{Cx, Then};
use crate::ui::keys::{Action, Context, edit_text};
use crate::ui::shared::{Shared, Viewer};
use crate::ui::toast::Level;
use crate::ui::widgets::centered;

/// What is typed so far.
#[derive(Default)]
pub struct Prompt {
    pub text: String,
}

impl Prompt {
    /// Enter: browse as the user typed, or as you; an unknown id is said.
    fn accept(&self, cx: &mut Cx) {
        let text = self.text.trim();
        let dataset = &cx.shared.rec.dataset;
        let viewer = if text.is_empty() || text.eq_ignore_ascii_case("me") {
            Viewer::You
        } else {
            match text.parse::<u32>().ok().and_then(|id| dataset.user_index(id)) {
                Some(u) => Viewer::User(u),
                None => {
                    let why = format!("no user `{text}` in {} ({} users)", dataset.name, dataset.user_ids.len());
                    return cx.notify(Level::Error, why);
                }
            }
        };
        cx.shared.viewer = viewer;
        let name = cx.shared.viewer_name();
        let note = if cx.shared.read_only() { " (read-only; a then Enter to be you again)" } else { "" };
        cx.notify(Level::Info, format!("browsing as {name}{note}"));
        cx.then.push(Then::NewViewer);
    }
}

impl Overlay for Prompt {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Prompt, Context::Always]
    }

    fn act(&mut self, cx: &mut Cx, action: Action, key: &KeyEvent) -> Outcome {
        match action {
            Action::Accept => {
                self.accept(cx);
                Outcome::Close
            }
            Action::Cancel => Outcome::Close,
            _ if edit_text(&mut self.text, action, key) => Outcome::Stay,
            _ => Outcome::Pass,
        }
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(shared, &self.text, area, buf);
    }
}

fn render(shared: &Shared, text: &str, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let ids = &shared.rec.dataset.user_ids;
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
