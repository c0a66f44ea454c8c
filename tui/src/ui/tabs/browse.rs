//! Browse: the catalogue as a table, searched as you type, filtered by
//! genre and decade, sorted by any column; the "for you" list beside or below it, so a
//! rating visibly changes it at once.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use crossterm::event::KeyEvent;

use super::Tab;
use crate::ui::context::Cx;
use crate::ui::cursor::Cursor;
use crate::ui::format::{self, count, fit, genres};
use crate::ui::keys::{Action, Context, edit_text};
use crate::ui::query::{self, BrowseQuery, Columns};
use crate::ui::shared::Shared;
use crate::ui::widgets::movie_table::{self, Spec, col, fill, num, right};
use crate::ui::widgets::{SIDE_BY_SIDE, for_you, line};

const SIDE_WIDTH: u16 = 44;
/// Rows of the "for you" strip under the table (narrow screens).
const STRIP_HEIGHT: u16 = 5;

pub struct Browse {
    /// Keys go to the search box.
    pub typing: bool,
    pub query: BrowseQuery,
    haystacks: Vec<String>,
    /// The table: dense movie indices, filtered and sorted.
    pub rows: Vec<u32>,
    pub cursor: Cursor,
}

impl Browse {
    /// An empty table: its rows come with the viewer's lists
    /// ([`Tab::lists_changed`]), which the app asks for at once.
    pub fn new(shared: &Shared) -> Browse {
        Browse {
            typing: false,
            query: BrowseQuery::default(),
            haystacks: query::haystacks(&shared.rec.dataset),
            rows: Vec::new(),
            cursor: Cursor::default(),
        }
    }

    /// Recomputes the rows, keeping the selected movie selected when it is still shown.
    fn refresh_rows(&mut self, shared: &Shared) {
        let keep = self.rows.get(self.cursor.selected).copied();
        let columns =
            Columns { stats: shared.rec.stats(), yours: &shared.viewer_ratings, predicted: &shared.predicted };
        self.rows = query::rows(&shared.rec.dataset, &self.haystacks, &self.query, &columns);
        match keep.and_then(|m| self.rows.iter().position(|&r| r == m)) {
            Some(i) => self.cursor.selected = i,
            None => self.cursor.clamp(self.rows.len()),
        }
    }

    /// The user changed what the table shows: recompute it and go to the top.
    fn reshape_rows(&mut self, shared: &Shared) {
        self.refresh_rows(shared);
        self.cursor.reset();
    }

    fn cycle_genre(&mut self, shared: &Shared, by: isize) {
        let n = shared.rec.dataset.genres.len() as isize;
        // Positions: -1 = all genres, then 0..n.
        let now = self.query.genre.map_or(-1, |g| g as isize);
        let next = (now + 1 + by).rem_euclid(n + 1) - 1;
        self.query.genre = usize::try_from(next).ok();
        self.reshape_rows(shared);
    }

    /// Steps through "all years", then each decade present, newest first.
    fn cycle_decade(&mut self, shared: &Shared, by: isize) {
        let decades = query::decades(&shared.rec.dataset);
        let n = decades.len() as isize;
        let now = self.query.decade.and_then(|d| decades.iter().position(|&x| x == d)).map_or(-1, |i| i as isize);
        let next = (now + 1 + by).rem_euclid(n + 1) - 1;
        self.query.decade = usize::try_from(next).ok().map(|i| decades[i]);
        self.reshape_rows(shared);
    }
}

impl Tab for Browse {
    fn title(&self) -> &'static str {
        "Browse"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        match self.typing {
            true => vec![C::Search, C::Always],
            false => vec![C::Browse, C::List, C::Movie, C::Global, C::Always],
        }
    }

    fn act(&mut self, cx: &mut Cx, action: Action, key: &KeyEvent) -> bool {
        let shared = &*cx.shared;
        match action {
            Action::Sort => {
                self.query.sort = if self.query.by_relevance && !self.query.text.is_empty() {
                    self.query.sort
                } else {
                    self.query.sort.next()
                };
                self.query.descending = self.query.sort.descending_by_default();
                self.query.by_relevance = false;
                self.reshape_rows(shared);
            }
            Action::Reverse => {
                self.query.descending = !self.query.descending;
                self.query.by_relevance = false;
                self.reshape_rows(shared);
            }
            Action::NextGenre => self.cycle_genre(shared, 1),
            Action::PrevGenre => self.cycle_genre(shared, -1),
            Action::OlderDecade => self.cycle_decade(shared, 1),
            Action::NewerDecade => self.cycle_decade(shared, -1),
            Action::ClearSearch => {
                self.query.text.clear();
                self.query.genre = None;
                self.query.decade = None;
                self.query.by_relevance = true;
                self.reshape_rows(shared);
            }
            Action::Accept => self.typing = false,
            Action::Cancel => {
                self.typing = false;
                self.query.text.clear();
                self.query.by_relevance = true;
                self.refresh_rows(shared);
            }
            _ if edit_text(&mut self.query.text, action, key) => {
                self.query.by_relevance = true;
                self.reshape_rows(shared);
            }
            _ => return false,
        }
        true
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(self, shared, area, buf);
    }

    fn selected(&self, _shared: &Shared) -> Option<u32> {
        self.rows.get(self.cursor.selected).copied()
    }

    fn step(&mut self, _shared: &Shared, delta: isize) {
        self.cursor.step(delta, self.rows.len());
    }

    fn page(&self) -> isize {
        self.cursor.page()
    }

    fn lists_changed(&mut self, shared: &Shared, _new_viewer: bool) {
        self.refresh_rows(shared);
    }
}

fn render(browse: &Browse, shared: &Shared, area: Rect, buf: &mut Buffer) {
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
    search_line(browse, shared, search, buf);
    catalogue(browse, shared, table, buf);
    if let Some(side) = side {
        for_you::render(shared, side, buf, true);
    } else if strip {
        for_you::render(shared, bottom, buf, false);
    }
}

/// `Search: star wars▌   genre: all · years: 1970s · sort: best match · 3 of 1682`
fn search_line(browse: &Browse, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let q = &browse.query;
    let mut spans = Vec::new();
    if browse.typing {
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
    let genre = q.genre.and_then(|g| shared.rec.dataset.genres.get(g)).map_or("all", String::as_str);
    let years = q.decade.map_or_else(|| "all".to_owned(), |d| format!("{d}s"));
    let sort = if q.by_relevance && !q.text.trim().is_empty() {
        "best match".to_owned()
    } else {
        format!("{} {}", q.sort.label(), if q.descending { "↓" } else { "↑" })
    };
    let (shown, all) = (browse.rows.len(), shared.rec.dataset.movies.len());
    let right = format!("genre: {genre} · years: {years} · sort: {sort} · {shown} of {all} ");
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = (area.width as usize).saturating_sub(used + 2);
    let right = fit(&right, room);
    spans.push(Span::raw(" ".repeat((area.width as usize).saturating_sub(used + right.chars().count()))));
    spans.push(Span::styled(right, t.dim()));
    line(Line::from(spans), area, buf);
}

fn catalogue(browse: &Browse, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let ds = &shared.rec.dataset;
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
    let empty = if browse.query.text.is_empty() {
        "no movies pass the filters; Esc clears"
    } else {
        "no title matches; Esc clears"
    };
    let spec = Spec { columns: &columns, len: browse.rows.len(), empty, focused: true };
    movie_table::render(shared.theme, spec, &browse.cursor, area, buf, |i, title_width| {
        let Some(movie) = browse.rows.get(i).and_then(|&m| ds.movies.get(m as usize).map(|movie| (m, movie))) else {
            return Row::default();
        };
        let (m, movie) = movie;
        let mean = shared.rec.stats().mean.get(m as usize).copied().filter(|v| v.is_finite());
        let yours = shared.yours_label(m);
        let predicted = shared.predicted.get(m as usize).copied().filter(|v| v.is_finite());
        Row::new([
            Cell::from(fit(&format::title(movie), title_width)),
            Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
            Cell::from(fit(&genres(ds, movie), genre_width as usize)),
            right(mean.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
            right(count(shared.rec.stats().count.get(m as usize).copied().unwrap_or(0))),
            Cell::from(Line::styled(yours, shared.theme.yours()).right_aligned()),
            right(predicted.map_or_else(|| "–".into(), |v| format!("{v:.2}"))),
        ])
    });
}
