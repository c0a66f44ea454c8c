//! Ratings: the viewer's rating history, newest first; yours can be
//! changed (1–5, `.`/`,`) and removed (`x`) here.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use crossterm::event::KeyEvent;

use super::Tab;
use crate::ui::context::Cx;
use crate::ui::cursor::Cursor;
use crate::ui::format::{self, date, fit, genres, stars};
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::widgets::line;
use crate::ui::widgets::movie_table::{self, Spec, col, fill, num, right};

#[derive(Default)]
pub struct Ratings {
    pub cursor: Cursor,
}

impl Tab for Ratings {
    fn title(&self) -> &'static str {
        "Ratings"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        vec![C::Ratings, C::List, C::Movie, C::Global, C::Always]
    }

    /// Its keys (remove) are the shared's editing keys on the selected movie.
    fn act(&mut self, _cx: &mut Cx, _action: Action, _key: &KeyEvent) -> bool {
        false
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(self, shared, area, buf);
    }

    fn selected(&self, shared: &Shared) -> Option<u32> {
        shared.rated.get(self.cursor.selected).map(|r| r.movie)
    }

    fn step(&mut self, shared: &Shared, delta: isize) {
        self.cursor.step(delta, shared.rated.len());
    }

    fn page(&self) -> isize {
        self.cursor.page()
    }

    fn lists_changed(&mut self, shared: &Shared, new_viewer: bool) {
        if new_viewer {
            self.cursor.reset();
        }
        self.cursor.clamp(shared.rated.len());
    }
}

fn render(tab: &Ratings, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let title = if shared.read_only() {
        format!(" Ratings of {} · {} · read-only", shared.viewer_name(), shared.rated.len())
    } else {
        format!(" Your ratings · {}", shared.rated.len())
    };
    let hint = if shared.read_only() { "" } else { " · 1–5 change · x remove · u undo" };
    line(Line::from(vec![Span::styled(title, t.title()), Span::styled(hint, t.dim())]), head, buf);
    let ds = &shared.rec.dataset;
    let genre_width = if area.width >= 100 { 28 } else { 14 };
    let columns = [
        num("Yours", 5),
        fill("Title"),
        col("Year", 4),
        col("Genres", genre_width),
        num("Pred", 4),
        col("Rated on", 10),
    ];
    let empty = if shared.read_only() {
        "this user rated nothing"
    } else {
        "nothing rated yet: pick a movie in Browse (b) and press 1–5"
    };
    let spec = Spec { columns: &columns, len: shared.rated.len(), empty, focused: true };
    movie_table::render(t, spec, &tab.cursor, table, buf, |i, title_width| {
        let Some((r, movie)) = shared.rated.get(i).and_then(|r| ds.movies.get(r.movie as usize).map(|m| (r, m))) else {
            return Row::default();
        };
        let predicted = shared.predicted.get(r.movie as usize).copied().filter(|v| v.is_finite());
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
