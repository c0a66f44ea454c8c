//! Marked (`M`): the movies you said you have seen without stars (`0`) or
//! do not want to see (`x`), which no list shows any more — the one place
//! to find them and take a mark back (the same key again).

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::Tab;
use crate::ui::context::Cx;
use crate::ui::cursor::Cursor;
use crate::ui::format::{self, fit, genres};
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::widgets::line;
use crate::ui::widgets::movie_table::{self, Spec, col, fill, num, right};
use cinema_protocol::Mark;

#[derive(Default)]
pub struct Marked {
    pub cursor: Cursor,
}

/// Your marked movies (dense index and mark), not-interested first, then by title.
fn marked(shared: &Shared) -> Vec<(u32, Mark)> {
    let ds = &shared.rec.dataset;
    let mut marked: Vec<(u32, Mark)> =
        shared.rec.your_marks().iter().filter_map(|(&id, &mark)| Some((ds.movie_index(id)?, mark))).collect();
    marked.sort_by_cached_key(|&(m, mark)| (mark != Mark::Hidden, format::title(&ds.movies[m as usize])));
    marked
}

impl Tab for Marked {
    fn title(&self) -> &'static str {
        "Marked"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        vec![C::List, C::Movie, C::Global, C::Always]
    }

    /// Its keys are the app's editing keys (`x`, `0`) on the selected movie.
    fn act(&mut self, _cx: &mut Cx, _action: Action, _key: &KeyEvent) -> bool {
        false
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        let t = shared.theme;
        let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        let listed = marked(shared);
        let title = format!(" Marked · {}", listed.len());
        let hint = " · off every list · x or 0 again takes the mark off";
        line(Line::from(vec![Span::styled(title, t.title()), Span::styled(hint, t.dim())]), head, buf);
        let ds = &shared.rec.dataset;
        let genre_width = if area.width >= 100 { 28 } else { 14 };
        let columns = [col("Mark", 14), fill("Title"), col("Year", 4), col("Genres", genre_width), num("Mean", 4)];
        let empty = "nothing marked: x on a movie you never want to see, 0 on one you saw";
        let spec = Spec { columns: &columns, len: listed.len(), empty, focused: true };
        movie_table::render(t, spec, &self.cursor, table, buf, |i, title_width| {
            let Some((&(m, mark), movie)) = listed.get(i).and_then(|e| ds.movies.get(e.0 as usize).map(|v| (e, v)))
            else {
                return Row::default();
            };
            let mean = shared.rec.stats().mean.get(m as usize).copied().filter(|v| v.is_finite());
            let mark = if mark == Mark::Hidden { "✗ not for me" } else { "seen" };
            Row::new([
                Cell::from(mark),
                Cell::from(fit(&format::title(movie), title_width)),
                Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
                Cell::from(fit(&genres(ds, movie), genre_width as usize)),
                right(mean.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
            ])
        });
    }

    fn selected(&self, shared: &Shared) -> Option<u32> {
        marked(shared).get(self.cursor.selected).map(|&(m, _)| m)
    }

    fn step(&mut self, shared: &Shared, delta: isize) {
        self.cursor.step(delta, marked(shared).len());
    }

    fn page(&self) -> isize {
        self.cursor.page()
    }

    fn lists_changed(&mut self, shared: &Shared, _new_viewer: bool) {
        self.cursor.clamp(marked(shared).len());
    }
}
