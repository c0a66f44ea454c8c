//! Watchlist: what you mean to watch, in your order; moved with `K`/`J`,
//! taken off with `x`, exported for Letterboxd with `E` (the context bar
//! says so).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use std::time::Instant;

use crossterm::event::KeyEvent;

use super::Tab;
use crate::recommender::Edit;
use crate::ui::context::{Cx, Then};
use crate::ui::cursor::Cursor;
use crate::ui::format::{self, fit, genres};
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::toast::Level;
use crate::ui::widgets::line;
use crate::ui::widgets::movie_table::{self, Spec, col, fill, num, right};

#[derive(Default)]
pub struct Watchlist {
    pub cursor: Cursor,
}

impl Watchlist {
    /// Moves the selected movie `by` places, the cursor with it.
    fn move_selected(&mut self, cx: &mut Cx, by: isize) {
        let listed = cx.shared.watchlist();
        let at = self.cursor.selected;
        let Some(&movie) = listed.get(at) else { return };
        let Some(to) = at.checked_add_signed(by).filter(|&to| to < listed.len()) else { return };
        if !cx.shared.may_change() {
            return;
        }
        let started = Instant::now();
        let result = cx.shared.rec.save(Edit::Watch(movie, Some(to as u32)));
        if result.is_ok() {
            self.cursor.step(by, listed.len());
        }
        cx.then.push(Then::Changed(result, started));
    }
}

impl Tab for Watchlist {
    fn title(&self) -> &'static str {
        "Watchlist"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        vec![C::Watchlist, C::List, C::Movie, C::Global, C::Always]
    }

    fn act(&mut self, cx: &mut Cx, action: Action, _key: &KeyEvent) -> bool {
        match action {
            Action::WatchEarlier => self.move_selected(cx, -1),
            Action::WatchLater => self.move_selected(cx, 1),
            Action::ExportWatchlist => export(cx.shared),
            _ => return false,
        }
        true
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(self, shared, area, buf);
    }

    fn selected(&self, shared: &Shared) -> Option<u32> {
        shared.watchlist().get(self.cursor.selected).copied()
    }

    fn step(&mut self, shared: &Shared, delta: isize) {
        self.cursor.step(delta, shared.watchlist().len());
    }

    fn page(&self) -> isize {
        self.cursor.page()
    }

    fn lists_changed(&mut self, shared: &Shared, _new_viewer: bool) {
        self.cursor.clamp(shared.watchlist().len());
    }
}

/// Writes the watchlist where the data directory keeps exports, as the
/// CSV Letterboxd imports, and says where.
fn export(shared: &mut Shared) {
    let ds = &shared.rec.dataset;
    let movies: Vec<_> = shared.watchlist().iter().map(|&m| &ds.movies[m as usize]).collect();
    let file = format!("watchlist-{}.csv", cinema_store::home::file_safe(&ds.name));
    let written = shared.rec.export_path(&file).and_then(|path| {
        let bytes = cinema_store::history::watchlist::write(&movies)?;
        cinema_store::atomic::write(&path, &bytes).map(|()| path)
    });
    let (level, text) = match written {
        Ok(path) => (
            Level::Info,
            format!("wrote {} films to {} (Letterboxd: Import → watchlist)", movies.len(), path.display()),
        ),
        Err(e) => (Level::Error, format!("could not export the watchlist: {e:#}")),
    };
    shared.notify(level, text);
}

fn render(tab: &Watchlist, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let listed = shared.watchlist();
    let title = format!(" Your watchlist · {}", listed.len());
    let hint = " · in your order · + on any movie adds it";
    line(Line::from(vec![Span::styled(title, t.title()), Span::styled(hint, t.dim())]), head, buf);
    let ds = &shared.rec.dataset;
    let genre_width = if area.width >= 100 { 28 } else { 14 };
    let columns =
        [num("#", 3), fill("Title"), col("Year", 4), col("Genres", genre_width), num("Mean", 4), num("Pred", 4)];
    let empty = "nothing on your watchlist yet: press + on a movie in Browse (b) or For you (r)";
    let spec = Spec { columns: &columns, len: listed.len(), empty, focused: true };
    movie_table::render(t, spec, &tab.cursor, table, buf, |i, title_width| {
        let Some((&m, movie)) = listed.get(i).and_then(|m| ds.movies.get(*m as usize).map(|movie| (m, movie))) else {
            return Row::default();
        };
        let mean = shared.rec.stats().mean.get(m as usize).copied().filter(|v| v.is_finite());
        let predicted = shared.predicted.get(m as usize).copied().filter(|v| v.is_finite());
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
