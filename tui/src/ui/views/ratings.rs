//! Ratings: the viewer's rating history, newest first; yours can be
//! changed (1–5, `.`/`,`) and removed (`x`) here.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::line;
use super::movie_table::{self, Spec, col, fill, num, right};
use crate::ui::format::{self, date, fit, genres, stars};
use crate::ui::state::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.theme;
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let title = if app.read_only() {
        format!(" Ratings of {} · {} · read-only", app.viewer_name(), app.rated.len())
    } else {
        format!(" Your ratings · {}", app.rated.len())
    };
    let hint = if app.read_only() { "" } else { " · 1–5 change · x remove · u undo" };
    line(Line::from(vec![Span::styled(title, t.title()), Span::styled(hint, t.dim())]), head, buf);
    let ds = &app.rec.dataset;
    let genre_width = if area.width >= 100 { 28 } else { 14 };
    let columns = [
        num("Yours", 5),
        fill("Title"),
        col("Year", 4),
        col("Genres", genre_width),
        num("Pred", 4),
        col("Rated on", 10),
    ];
    let empty = if app.read_only() {
        "this user rated nothing"
    } else {
        "nothing rated yet: pick a movie in Browse (b) and press 1–5"
    };
    let spec = Spec { columns: &columns, len: app.rated.len(), empty, focused: true };
    movie_table::render(t, spec, &app.ratings_cursor, table, buf, |i, title_width| {
        let Some((r, movie)) = app.rated.get(i).and_then(|r| ds.movies.get(r.movie as usize).map(|m| (r, m))) else {
            return Row::default();
        };
        let predicted = app.predicted.get(r.movie as usize).copied().filter(|v| v.is_finite());
        Row::new([
            Cell::from(Line::styled(format!("★{}", stars(r.value, ds.scale)), t.yours()).right_aligned()),
            Cell::from(fit(&format::title(movie), title_width)),
            Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
            Cell::from(fit(&genres(ds, movie), genre_width as usize)),
            right(predicted.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
            Cell::from(date(r.timestamp)),
        ])
    });
}
