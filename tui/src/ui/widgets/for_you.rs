//! The short "for you" list shown next to browse and detail: the top
//! recommendations, with `+` on those that arrived with your last rating.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

use crate::ui::format::{fit, title_year};
use crate::ui::shared::Shared;
use crate::ui::theme::NEW_SYMBOL;

/// `tall`: a bordered side pane; else a strip with a rule on top.
pub fn render(shared: &Shared, area: Rect, buf: &mut Buffer, tall: bool) {
    let t = shared.theme;
    let block = if tall { Block::bordered() } else { Block::new().borders(Borders::TOP) };
    let hint = if shared.cold_start() && !shared.read_only() && !shared.rec.stand_in() {
        " · rate movies to personalise"
    } else {
        ""
    };
    let block = block.title(Span::styled(format!(" {}{hint} ", heading(shared)), t.title()));
    let block = if shared.fresh.is_empty() { block } else { block.title(Line::from(" + new ").right_aligned()) };
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    if shared.recs.is_empty() {
        Line::styled(" nothing to recommend: everything is rated", t.dim()).render(inner, buf);
        return;
    }
    for (rank, (s, y)) in shared.recs.iter().zip(inner.y..inner.bottom()).enumerate() {
        let fresh = shared.fresh.contains(&s.item);
        let marker = if fresh { NEW_SYMBOL } else { " " };
        let title = shared.rec.dataset.movies.get(s.item as usize).map(title_year).unwrap_or_default();
        let prediction = format!(" {:.2}", s.prediction);
        let lead = format!("{marker}{:>2}. ", rank + 1);
        let room = width.saturating_sub(lead.chars().count() + prediction.chars().count());
        let title = fit(&title, room);
        let pad = " ".repeat(room.saturating_sub(title.chars().count()));
        let style = if fresh { t.fresh() } else { ratatui::style::Style::new() };
        let row = Line::from(vec![
            Span::styled(lead, style),
            Span::styled(title, style),
            Span::raw(pad),
            Span::raw(prediction),
        ]);
        row.render(Rect { y, height: 1, ..inner }, buf);
    }
}

/// What the list is: yours, a cold start, or another user's.
pub fn heading(shared: &Shared) -> String {
    if shared.read_only() {
        format!("For {}", shared.viewer_name())
    } else if shared.rec.stand_in() {
        // Ratings are kept and learned once the first models are in.
        "Popular and well rated, for now".into()
    } else if shared.cold_start() && shared.rec.meta.ranking.is_some() {
        // The ranking model's list for someone who has rated nothing: what
        // people watch most, not the best mean rating.
        "Most watched".into()
    } else if shared.cold_start() {
        "Popular and well rated".into()
    } else {
        "For you".into()
    }
}
