//! Recommendations: the top N for the viewer, excluding what they rated,
//! with predicted stars and the hybrid's two parts under the weight that
//! `[` and `]` move.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::movie_table::{self, Spec, col, fill, num, right};
use super::{for_you, line};
use crate::ui::format::{self, fit, genres};
use crate::ui::state::App;
use crate::ui::theme::NEW_SYMBOL;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let excluded = match app.rated.len() {
        0 => String::new(),
        n => format!(" · without the {n} rated"),
    };
    let fresh = if app.fresh.is_empty() { "" } else { " · + = new since the last change" };
    // At CF 1.0 the list is CF's own, without parts, but the weight shows.
    let hybrid = !app.parts.is_empty();
    // Without a ranking model a cold list is the damped means; with one it
    // is that model's list for someone who rated nothing, blended as usual.
    // The order is the Score, never Pred: say so, as many Pred read 5.00.
    let how = match app.cold_start() && app.rec.meta.ranking.is_none() {
        true => " · by damped mean rating".into(),
        false => {
            let note = if hybrid { no_content(app) } else { "" };
            let diverse = match app.diversity {
                0.0 => String::new(),
                d => format!(" · diversity {d:.1} ({{ }})"),
            };
            format!(" · by {:.1}·CF + {:.1}·content ([ ]){note}{diverse}", app.weight, 1.0 - app.weight)
        }
    };
    line(
        Line::from(vec![
            Span::styled(format!(" {}", for_you::heading(app)), t.title()),
            Span::styled(format!(" · top {}{how}{excluded}{fresh}", app.recs.len()), t.dim()),
        ]),
        head,
        buf,
    );
    let ds = &app.rec.dataset;
    let genre_width = if area.width >= 100 { 28 } else { 16 };
    let mut columns = vec![num("#", 3), fill("Title"), col("Year", 4), col("Genres", genre_width), num("Pred", 4)];
    columns.extend(if hybrid { vec![num("CF", 4), num("Cont", 4)] } else { vec![num("Score", 5)] });
    let spec = Spec { columns: &columns, len: app.recs.len(), empty: "nothing left to recommend", focused: true };
    movie_table::render(t, spec, &app.recs_cursor, table, buf, |i, title_width| {
        let Some((s, movie)) = app.recs.get(i).and_then(|s| ds.movies.get(s.item as usize).map(|m| (s, m))) else {
            return Row::default();
        };
        let fresh = app.fresh.contains(&s.item);
        let rank = format!("{}{}", if fresh { NEW_SYMBOL } else { "" }, i + 1);
        let style = if fresh { t.fresh() } else { ratatui::style::Style::new() };
        let mut cells = vec![
            right(rank),
            Cell::from(fit(&format::title(movie), title_width)),
            Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
            Cell::from(fit(&genres(ds, movie), genre_width as usize)),
            right(format!("{:.2}", s.prediction)),
        ];
        match app.parts.get(i) {
            Some((cf, content)) => cells.extend([right(format!("{cf:.2}")), right(format!("{content:.2}"))]),
            None => cells.push(right(format!("{:.2}", s.score))),
        }
        Row::new(cells).style(style)
    });
}

/// Why every content part is 0, when it is: the list is then CF's alone
/// whatever the weight, and the viewer should know why `[` does nothing.
fn no_content(app: &App) -> &'static str {
    if app.parts.iter().any(|p| p.1 > 0.0) {
        return "";
    }
    let rated: Vec<(u32, f32)> = app.viewer_ratings.iter().map(|(&movie, &value)| (movie, value)).collect();
    if !app.rec.liked(&rated).is_empty() {
        " · no content near what you liked"
    } else {
        " · content 0: nothing liked yet"
    }
}
