//! The frame around every view: the tab line at the top, the status line
//! (toasts) and the context bar of keys at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::line;
use crate::ui::format::fit;
use crate::ui::keys;
use crate::ui::state::{App, Level, Tab};

/// ` Cinema  [Browse]  For you  Ratings          ml-100k · you · 3 rated`
pub fn tabs(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let mut spans = vec![Span::styled(" Cinema ", t.title()), Span::raw(" ")];
    for tab in Tab::ALL {
        if tab == app.tab && app.detail.is_none() {
            spans.push(Span::styled(format!("[{}]", tab.title()), t.tab_active()));
        } else {
            spans.push(Span::raw(format!(" {} ", tab.title())));
        }
        spans.push(Span::raw(" "));
    }
    let who = if app.read_only() { format!("{} (read-only)", app.viewer_name()) } else { app.viewer_name() };
    let right = format!("{} · {} · {} rated ", app.rec.dataset.name, who, app.rated.len());
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = (area.width as usize).saturating_sub(used);
    let right = fit(&right, room);
    spans.push(Span::raw(" ".repeat(room.saturating_sub(right.chars().count()))));
    spans.push(Span::styled(right, if app.read_only() { t.error() } else { t.dim() }));
    line(Line::from(spans), area, buf);
}

/// The latest toast (✓ info, ✗ error), else what the model is (or, on the
/// demo, the way to real data).
pub fn status(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let width = area.width as usize;
    let text = match &app.toast {
        // The engine thread is learning a change: the lists follow in a moment.
        _ if app.learning => Line::styled(fit(" … learning your ratings", width), t.dim()),
        Some(toast) if toast.level == Level::Error => {
            Line::styled(fit(&format!(" ✗ {}", toast.text), width), t.error())
        }
        Some(toast) => Line::styled(fit(&format!(" ✓ {}", toast.text), width), t.info()),
        None if app.on_demo() => Line::styled(
            fit(" DEMO catalogue (invented titles) · press d to import or download real MovieLens", width),
            t.key(),
        ),
        None => {
            let meta = &app.rec.meta;
            // Which model predicts the stars, and which (if any) orders the lists.
            let ranked = meta.ranking.as_ref().map_or(String::new(), |r| format!(" + {} ranking", r.name()));
            let text = format!(
                " model: {}{ranked} on {} ratings, engine {} · your ratings learn at once",
                meta.algorithm, meta.train_ratings, meta.engine
            );
            Line::styled(fit(&text, width), t.dim())
        }
    };
    line(text, area, buf);
}

/// `q quit  ? help  / search  …`: the keys that work here, from the key table.
pub fn context_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let mut contexts = app.contexts();
    contexts.reverse();
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (key, label) in keys::bar(&contexts) {
        let width = key.chars().count() + label.chars().count() + 3;
        if used + width > area.width as usize {
            break;
        }
        used += width;
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    line(Line::from(spans), area, buf);
}
