//! The movie detail, in place of the tab's body: title, year, genres,
//! tags, how the dataset's users rated it (a small bar chart) beside the
//! movies like it by content and by taste, the viewer's rating and the
//! model's prediction. ↑↓ and Enter walk to a similar movie; Esc walks back
//! the way it came, then closes.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{Outcome, Overlay, ask};
use crate::recommender::Alike;
use crate::ui::answers::Answer;
use crate::ui::context::Cx;
use crate::ui::format::{fit, stars, title_year};
use crate::ui::jobs::JobId;
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::toast::Level;
use crate::ui::widgets::{SIDE_BY_SIDE, for_you};

/// Similar movies asked for, each way.
const ALIKE: u32 = 10;

pub struct Detail {
    /// The movie open.
    pub movie: u32,
    /// Movies like it by content and by taste (`None` while asked).
    pub alike: Option<Alike>,
    /// The request for them.
    asked: JobId,
    /// The selected one of them, counting the content list then the taste
    /// list; `None` until ↓ or ↑ is pressed.
    pub alike_cursor: Option<usize>,
    /// The movies whose detail led here through their similar lists; Esc
    /// goes back through them before it closes.
    pub trail: Vec<u32>,
}

impl Detail {
    /// The detail of `movie`, asking for the movies like it.
    pub fn open(cx: &mut Cx, movie: u32) -> Detail {
        let mut detail = Detail { movie, alike: None, asked: JobId::next(), alike_cursor: None, trail: Vec::new() };
        detail.show(cx, movie);
        detail
    }

    /// Shows `movie` and asks for the movies like it.
    fn show(&mut self, cx: &mut Cx, movie: u32) {
        (self.movie, self.alike, self.alike_cursor) = (movie, None, None);
        let asked = JobId::next();
        self.asked = asked;
        let alike = cx.shared.rec.alike(movie, ALIKE);
        if let Some(answer) = ask(cx, alike, move |r| Answer::Alike(asked, r)) {
            self.on_answer(cx, answer);
        }
    }

    /// Moves the selection among the similar movies (content, then taste).
    fn step_alike(&mut self, by: isize) {
        let count = self.alike.as_ref().map_or(0, |a| a.content.len() + a.cf.len());
        if count == 0 {
            return;
        }
        self.alike_cursor = Some(match self.alike_cursor {
            None if by < 0 => count - 1,
            None => 0,
            Some(at) => at.saturating_add_signed(by).min(count - 1),
        });
    }

    /// Opens the selected similar movie; Esc comes back to this one.
    fn open_alike(&mut self, cx: &mut Cx) {
        let (Some(alike), Some(at)) = (&self.alike, self.alike_cursor) else { return };
        if let Some(&(movie, _)) = alike.content.iter().chain(&alike.cf).nth(at) {
            self.trail.push(self.movie);
            self.show(cx, movie);
        }
    }
}

impl Overlay for Detail {
    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        vec![C::Detail, C::Movie, C::Global, C::Always]
    }

    fn act(&mut self, cx: &mut Cx, action: Action, _key: &KeyEvent) -> Outcome {
        match action {
            Action::NextAlike => self.step_alike(1),
            Action::PrevAlike => self.step_alike(-1),
            Action::OpenAlike => self.open_alike(cx),
            // Back to the movie whose similar list opened this one, or to the list.
            Action::Back => match self.trail.pop() {
                Some(movie) => self.show(cx, movie),
                None => return Outcome::Close,
            },
            _ => return Outcome::Pass,
        }
        Outcome::Stay
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(self, shared, area, buf);
    }

    fn in_body(&self) -> bool {
        true
    }

    fn selected(&self) -> Option<u32> {
        Some(self.movie)
    }

    fn on_answer(&mut self, cx: &mut Cx, answer: Answer) -> Option<Answer> {
        match answer {
            Answer::Alike(asked, Ok(alike)) if asked == self.asked => self.alike = Some(alike),
            Answer::Alike(asked, Err(e)) if asked == self.asked => {
                cx.notify(Level::Error, format!("similar movies: {e}"))
            }
            other => return Some(other),
        }
        None
    }
}

const SIDE_WIDTH: u16 = 44;
const STRIP_HEIGHT: u16 = 5;
const BAR: char = '█';
/// The chart's column is at most this wide; the similar movies get the rest.
const CHART_WIDTH: u16 = 60;

fn render(detail: &Detail, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let movie = detail.movie;
    if shared.rec.dataset.movies.get(movie as usize).is_none() {
        return;
    }
    let (main, side) = if area.width >= SIDE_BY_SIDE {
        let [main, side] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(SIDE_WIDTH)]).areas(area);
        (main, Some(side))
    } else {
        (area, None)
    };
    let head = head(shared, movie, main.width);
    let chart_width = (main.width / 2).clamp(main.width.min(34), CHART_WIDTH);
    let chart = chart(shared, movie, chart_width as usize);
    let hint = hint(shared);
    let [chart_height, head_height, hint_height] = [&chart, &head, &hint].map(|l| l.len() as u16);
    let strip = side.is_none() && main.height >= head_height + chart_height + hint_height + STRIP_HEIGHT;
    let [text, columns, rest, bottom] = Layout::vertical([
        Constraint::Length(head_height),
        Constraint::Length(chart_height),
        Constraint::Fill(1),
        Constraint::Length(if strip { STRIP_HEIGHT } else { 0 }),
    ])
    .areas(main);
    Paragraph::new(head).wrap(Wrap { trim: false }).render(text, buf);
    let [left, right] = Layout::horizontal([Constraint::Length(chart_width), Constraint::Fill(1)]).areas(columns);
    Paragraph::new(chart).render(left, buf);
    Paragraph::new(similar(detail, shared, right.width as usize, right.height as usize)).render(right, buf);
    Paragraph::new(hint).render(rest, buf);
    if let Some(side) = side {
        for_you::render(shared, side, buf, true);
    } else if strip {
        for_you::render(shared, bottom, buf, false);
    }
}

/// Title, genres, tags, the viewer's rating and everyone's.
fn head(shared: &Shared, movie: u32, width: u16) -> Vec<Line<'static>> {
    let t = shared.theme;
    let ds = &shared.rec.dataset;
    let Some(m) = ds.movies.get(movie as usize) else { return Vec::new() };
    let width = width as usize;
    let mut lines = Vec::new();
    lines.push(Line::styled(fit(&format!(" {}", title_year(m)), width), t.title()));
    let mut ids = vec![format!("movie {}", m.id)];
    if let Some(imdb) = m.imdb_id {
        ids.push(format!("IMDb tt{imdb:07}"));
    }
    if let Some(tmdb) = m.tmdb_id {
        ids.push(format!("TMDB {tmdb}"));
    }
    let genres = ds.genre_names(m).join(" · ");
    lines.push(Line::from(fit(&format!(" {genres}   ({})", ids.join(", ")), width)));
    let tags = if m.tags.is_empty() { "none".to_owned() } else { m.tags.join(", ") };
    lines.push(Line::from(vec![Span::styled(" Tags: ", t.dim()), Span::raw(fit(&tags, width.saturating_sub(7)))]));
    lines.push(Line::default());

    let count = shared.rec.stats().count.get(movie as usize).copied().unwrap_or(0);
    let mean = shared.rec.stats().mean.get(movie as usize).copied().filter(|v| v.is_finite());
    let yours = shared
        .viewer_ratings
        .get(&movie)
        .map_or_else(|| "not rated".to_owned(), |&v| format!("★{}", stars(v, ds.scale)));
    let predicted = shared.predicted.get(movie as usize).copied().filter(|v| v.is_finite());
    let whose = if shared.read_only() { format!("{}'s", shared.viewer_name()) } else { "Your".into() };
    let for_whom = if shared.read_only() { shared.viewer_name() } else { "you".into() };
    // One policy with For you's Pred column: the list shows it before you
    // rate, so hiding it here would hide nothing.
    let predicted = predicted.map_or_else(|| "–".to_owned(), |v| format!("{v:.2} (e: why)"));
    lines.push(Line::from(vec![
        Span::styled(format!(" {whose} rating: "), t.dim()),
        Span::styled(yours, t.yours()),
        Span::styled(format!("   Predicted for {for_whom}: "), t.dim()),
        Span::raw(predicted),
    ]));
    let mean = mean.map_or_else(|| "no ratings yet".to_owned(), |v| format!("mean {v:.2} from {count} ratings"));
    lines.push(Line::from(vec![Span::styled(" Everyone: ", t.dim()), Span::raw(mean)]));
    lines.push(Line::default());
    lines
}

fn hint(shared: &Shared) -> Vec<Line<'static>> {
    if shared.read_only() {
        return Vec::new();
    }
    let text = " 1–5 rate · . , ±½ · x remove · u undo · e why · ↑↓ Enter similar · Esc back";
    vec![Line::default(), Line::styled(text, shared.theme.dim())]
}

/// Movies like this one by content, then by taste, one per chart row.
fn similar(detail: &Detail, shared: &Shared, width: usize, rows: usize) -> Vec<Line<'static>> {
    let t = shared.theme;
    let Some(alike) = &detail.alike else {
        return vec![Line::styled(fit(" Finding similar movies…", width), t.dim())];
    };
    // Content first: it is the half a newcomer cannot get from the list.
    let half = rows.div_ceil(2);
    // The cursor counts the content list, then the taste list.
    let (in_content, in_cf) = match detail.alike_cursor {
        Some(at) if at < alike.content.len() => (Some(at), None),
        Some(at) => (None, Some(at - alike.content.len())),
        None => (None, None),
    };
    let mut lines = section(shared, " Alike in genres, words, tags", &alike.content, in_content, width, half);
    let rest = rows.saturating_sub(lines.len());
    lines.extend(section(shared, " Liked by the same people", &alike.cf, in_cf, width, rest));
    lines
}

/// A heading and as many of `movies` as fit in `rows` lines, scrolled so
/// that the `selected` one shows.
fn section(
    shared: &Shared,
    heading: &str,
    movies: &[(u32, f32)],
    selected: Option<usize>,
    width: usize,
    rows: usize,
) -> Vec<Line<'static>> {
    let t = shared.theme;
    let mut lines = vec![Line::styled(fit(heading, width), t.header())];
    if movies.is_empty() {
        lines.push(Line::styled(fit("  nothing to compare it with", width), t.dim()));
    }
    let ds = &shared.rec.dataset;
    let shown = rows.saturating_sub(1);
    let first = selected.map_or(0, |s| (s + 1).saturating_sub(shown));
    for (at, &(movie, _)) in movies.iter().enumerate().skip(first).take(shown) {
        let title = ds.movies.get(movie as usize).map(title_year).unwrap_or_default();
        let yours = shared.viewer_ratings.get(&movie).map(|&v| format!(" ★{}", stars(v, ds.scale))).unwrap_or_default();
        let room = width.saturating_sub(2 + yours.chars().count());
        let (mark, style) =
            if selected == Some(at) { ("▶ ", t.selected()) } else { ("  ", ratatui::style::Style::new()) };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{}", fit(&title, room)), style),
            Span::styled(yours, t.yours()),
        ]));
    }
    lines.truncate(rows.max(1));
    lines
}

/// `How people rated it` and ` 5 ★ ██████████  325  56%`, highest rating first.
fn chart(shared: &Shared, movie: u32, width: usize) -> Vec<Line<'static>> {
    let scale = shared.rec.dataset.scale;
    let distribution = shared.rec.stats().distribution(movie);
    let total: u32 = distribution.iter().map(|(_, n)| n).sum();
    let most = distribution.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1);
    let label_width = distribution.iter().map(|&(v, _)| stars(v, scale).len()).max().unwrap_or(1);
    // " 4.5 ★ " + bar + " 12345 100%"
    let room = width.saturating_sub(label_width + 4 + 12).min(40);
    let header = Line::styled(" How people rated it", shared.theme.header());
    let bars = distribution.iter().rev().map(|&(value, n)| {
        let len = ((n as f64 / most as f64) * room as f64).round() as usize;
        let share = if total == 0 { 0.0 } else { 100.0 * n as f64 / total as f64 };
        Line::from(vec![
            Span::raw(format!(" {:>label_width$} ★ ", stars(value, scale))),
            Span::styled(BAR.to_string().repeat(len), shared.theme.bar()),
            Span::raw(format!("{} {n:>5} {share:>3.0}%", " ".repeat(room - len))),
        ])
    });
    std::iter::once(header).chain(bars).collect()
}
