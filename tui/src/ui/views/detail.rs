//! Movie detail: title, year, genres, tags, how the dataset's users rated
//! it (a small bar chart) beside the movies like it by content and by
//! taste, the viewer's rating and the model's prediction.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::ui::format::{fit, stars, title_year};
use crate::ui::state::App;
use crate::ui::widgets::{SIDE_BY_SIDE, for_you};

const SIDE_WIDTH: u16 = 44;
const STRIP_HEIGHT: u16 = 5;
const BAR: char = '█';
/// The chart's column is at most this wide; the similar movies get the rest.
const CHART_WIDTH: u16 = 60;

pub fn render(app: &App, movie: u32, area: Rect, buf: &mut Buffer) {
    if app.shared.rec.dataset.movies.get(movie as usize).is_none() {
        return;
    }
    let (main, side) = if area.width >= SIDE_BY_SIDE {
        let [main, side] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(SIDE_WIDTH)]).areas(area);
        (main, Some(side))
    } else {
        (area, None)
    };
    let head = head(app, movie, main.width);
    let chart_width = (main.width / 2).clamp(main.width.min(34), CHART_WIDTH);
    let chart = chart(app, movie, chart_width as usize);
    let hint = hint(app);
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
    Paragraph::new(similar(app, right.width as usize, right.height as usize)).render(right, buf);
    Paragraph::new(hint).render(rest, buf);
    if let Some(side) = side {
        for_you::render(&app.shared, side, buf, true);
    } else if strip {
        for_you::render(&app.shared, bottom, buf, false);
    }
}

/// Title, genres, tags, the viewer's rating and everyone's.
fn head(app: &App, movie: u32, width: u16) -> Vec<Line<'static>> {
    let t = app.shared.theme;
    let ds = &app.shared.rec.dataset;
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

    let count = app.shared.rec.stats().count.get(movie as usize).copied().unwrap_or(0);
    let mean = app.shared.rec.stats().mean.get(movie as usize).copied().filter(|v| v.is_finite());
    let yours = app
        .shared
        .viewer_ratings
        .get(&movie)
        .map_or_else(|| "not rated".to_owned(), |&v| format!("★{}", stars(v, ds.scale)));
    let predicted = app.shared.predicted.get(movie as usize).copied().filter(|v| v.is_finite());
    let whose = if app.shared.read_only() { format!("{}'s", app.shared.viewer_name()) } else { "Your".into() };
    let for_whom = if app.shared.read_only() { app.shared.viewer_name() } else { "you".into() };
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

fn hint(app: &App) -> Vec<Line<'static>> {
    if app.shared.read_only() {
        return Vec::new();
    }
    let text = " 1–5 rate · . , ±½ · x remove · u undo · e why · ↑↓ Enter similar · Esc back";
    vec![Line::default(), Line::styled(text, app.shared.theme.dim())]
}

/// Movies like this one by content, then by taste, one per chart row.
fn similar(app: &App, width: usize, rows: usize) -> Vec<Line<'static>> {
    let t = app.shared.theme;
    let Some(alike) = &app.insight.alike else {
        return vec![Line::styled(fit(" Finding similar movies…", width), t.dim())];
    };
    // Content first: it is the half a newcomer cannot get from the list.
    let half = rows.div_ceil(2);
    // The cursor counts the content list, then the taste list.
    let (in_content, in_cf) = match app.insight.alike_cursor {
        Some(at) if at < alike.content.len() => (Some(at), None),
        Some(at) => (None, Some(at - alike.content.len())),
        None => (None, None),
    };
    let mut lines = section(app, " Alike in genres, words, tags", &alike.content, in_content, width, half);
    let rest = rows.saturating_sub(lines.len());
    lines.extend(section(app, " Liked by the same people", &alike.cf, in_cf, width, rest));
    lines
}

/// A heading and as many of `movies` as fit in `rows` lines, scrolled so
/// that the `selected` one shows.
fn section(
    app: &App,
    heading: &str,
    movies: &[(u32, f32)],
    selected: Option<usize>,
    width: usize,
    rows: usize,
) -> Vec<Line<'static>> {
    let t = app.shared.theme;
    let mut lines = vec![Line::styled(fit(heading, width), t.header())];
    if movies.is_empty() {
        lines.push(Line::styled(fit("  nothing to compare it with", width), t.dim()));
    }
    let ds = &app.shared.rec.dataset;
    let shown = rows.saturating_sub(1);
    let first = selected.map_or(0, |s| (s + 1).saturating_sub(shown));
    for (at, &(movie, _)) in movies.iter().enumerate().skip(first).take(shown) {
        let title = ds.movies.get(movie as usize).map(title_year).unwrap_or_default();
        let yours =
            app.shared.viewer_ratings.get(&movie).map(|&v| format!(" ★{}", stars(v, ds.scale))).unwrap_or_default();
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
fn chart(app: &App, movie: u32, width: usize) -> Vec<Line<'static>> {
    let scale = app.shared.rec.dataset.scale;
    let distribution = app.shared.rec.stats().distribution(movie);
    let total: u32 = distribution.iter().map(|(_, n)| n).sum();
    let most = distribution.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1);
    let label_width = distribution.iter().map(|&(v, _)| stars(v, scale).len()).max().unwrap_or(1);
    // " 4.5 ★ " + bar + " 12345 100%"
    let room = width.saturating_sub(label_width + 4 + 12).min(40);
    let header = Line::styled(" How people rated it", app.shared.theme.header());
    let bars = distribution.iter().rev().map(|&(value, n)| {
        let len = ((n as f64 / most as f64) * room as f64).round() as usize;
        let share = if total == 0 { 0.0 } else { 100.0 * n as f64 / total as f64 };
        Line::from(vec![
            Span::raw(format!(" {:>label_width$} ★ ", stars(value, scale))),
            Span::styled(BAR.to_string().repeat(len), app.shared.theme.bar()),
            Span::raw(format!("{} {n:>5} {share:>3.0}%", " ".repeat(room - len))),
        ])
    });
    std::iter::once(header).chain(bars).collect()
}
