//! Watchlist: what you mean to watch, in your order; moved with `K`/`J`,
//! taken off with `x`, exported for Letterboxd with `E` (the context bar
//! says so).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::line;
use super::movie_table::{self, Spec, col, fill, num, right};
use crate::ui::format::{self, fit, genres};
use crate::ui::state::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let listed = app.watchlist();
    let title = format!(" Your watchlist · {}", listed.len());
    let hint = " · in your order · + on any movie adds it";
    line(Line::from(vec![Span::styled(title, t.title()), Span::styled(hint, t.dim())]), head, buf);
    let ds = &app.rec.dataset;
    let genre_width = if area.width >= 100 { 28 } else { 14 };
    let columns =
        [num("#", 3), fill("Title"), col("Year", 4), col("Genres", genre_width), num("Mean", 4), num("Pred", 4)];
    let empty = "nothing on your watchlist yet: press + on a movie in Browse (b) or For you (r)";
    let spec = Spec { columns: &columns, len: listed.len(), empty, focused: true };
    movie_table::render(t, spec, &app.watch_cursor, table, buf, |i, title_width| {
        let Some((&m, movie)) = listed.get(i).and_then(|m| ds.movies.get(*m as usize).map(|movie| (m, movie))) else {
            return Row::default();
        };
        let mean = app.rec.stats().mean.get(m as usize).copied().filter(|v| v.is_finite());
        let predicted = app.predicted.get(m as usize).copied().filter(|v| v.is_finite());
        Row::new([
            right(format!("{}", i + 1)),
            Cell::from(fit(&format::title(movie), title_width)),
            Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
            Cell::from(fit(&genres(ds, movie), genre_width as usize)),
            right(mean.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
            right(predicted.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
        ])
    });
}
