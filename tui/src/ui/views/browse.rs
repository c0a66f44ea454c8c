//! Browse: the catalogue as a table, searched as you type, filtered by
//! genre and decade, sorted by any column; the "for you" list beside or below it, so a
//! rating visibly changes it at once.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::movie_table::{self, Spec, col, fill, num, right};
use super::{for_you, line};
use crate::ui::format::{self, count, fit, genres};
use crate::ui::state::App;

/// From this width on, the "for you" list sits beside the table.
pub const SIDE_BY_SIDE: u16 = 110;
const SIDE_WIDTH: u16 = 44;
/// Rows of the "for you" strip under the table (narrow screens).
const STRIP_HEIGHT: u16 = 5;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let (main, side) = if area.width >= SIDE_BY_SIDE {
        let [main, side] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(SIDE_WIDTH)]).areas(area);
        (main, Some(side))
    } else {
        (area, None)
    };
    let strip = side.is_none() && main.height >= 12;
    let [search, table, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(if strip { STRIP_HEIGHT } else { 0 }),
    ])
    .areas(main);
    search_line(app, search, buf);
    catalogue(app, table, buf);
    if let Some(side) = side {
        for_you::render(app, side, buf, true);
    } else if strip {
        for_you::render(app, bottom, buf, false);
    }
}

/// `Search: star wars▌   genre: all · years: 1970s · sort: best match · 3 of 1682`
fn search_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let q = &app.query;
    let mut spans = Vec::new();
    if app.typing {
        spans.push(Span::styled(" Search: ", t.key()));
        spans.push(Span::raw(q.text.clone()));
        spans.push(Span::styled("▌", t.key()));
    } else if !q.text.is_empty() {
        spans.push(Span::styled(" Search: ", t.key()));
        spans.push(Span::raw(q.text.clone()));
    } else {
        spans.push(Span::styled(" / ", t.key()));
        spans.push(Span::styled("search", t.dim()));
    }
    let genre = q.genre.and_then(|g| app.rec.dataset.genres.get(g)).map_or("all", String::as_str);
    let years = q.decade.map_or_else(|| "all".to_owned(), |d| format!("{d}s"));
    let sort = if q.by_relevance && !q.text.trim().is_empty() {
        "best match".to_owned()
    } else {
        format!("{} {}", q.sort.label(), if q.descending { "↓" } else { "↑" })
    };
    let (shown, all) = (app.rows.len(), app.rec.dataset.movies.len());
    let right = format!("genre: {genre} · years: {years} · sort: {sort} · {shown} of {all} ");
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = (area.width as usize).saturating_sub(used + 2);
    let right = fit(&right, room);
    spans.push(Span::raw(" ".repeat((area.width as usize).saturating_sub(used + right.chars().count()))));
    spans.push(Span::styled(right, t.dim()));
    line(Line::from(spans), area, buf);
}

fn catalogue(app: &App, area: Rect, buf: &mut Buffer) {
    let ds = &app.rec.dataset;
    let genre_width = if area.width >= 100 { 24 } else { 14 };
    let columns = [
        fill("Title"),
        col("Year", 4),
        col("Genres", genre_width),
        num("Mean", 4),
        num("Votes", 5),
        num("You", 4),
        num("Pred", 4),
    ];
    let empty = if app.query.text.is_empty() {
        "no movies pass the filters; Esc clears"
    } else {
        "no title matches; Esc clears"
    };
    let spec = Spec { columns: &columns, len: app.rows.len(), empty, focused: true };
    movie_table::render(app.theme, spec, &app.browse, area, buf, |i, title_width| {
        let Some(movie) = app.rows.get(i).and_then(|&m| ds.movies.get(m as usize).map(|movie| (m, movie))) else {
            return Row::default();
        };
        let (m, movie) = movie;
        let mean = app.rec.stats().mean.get(m as usize).copied().filter(|v| v.is_finite());
        let yours = app.yours_label(m);
        let predicted = app.predicted.get(m as usize).copied().filter(|v| v.is_finite());
        Row::new([
            Cell::from(fit(&format::title(movie), title_width)),
            Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
            Cell::from(fit(&genres(ds, movie), genre_width as usize)),
            right(mean.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
            right(count(app.rec.stats().count.get(m as usize).copied().unwrap_or(0))),
            Cell::from(Line::styled(yours, app.theme.yours()).right_aligned()),
            right(predicted.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
        ])
    });
}
