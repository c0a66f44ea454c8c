//! The explanation panel (`e`): why a movie is on the viewer's list and why
//! it is predicted its stars, as sentences and bars that add up.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::{Outcome, Overlay, ask, scrolled, scrolling};
use crate::recommender::Explained;
use crate::recommender::why::{Contribution, Reason, Why, parts_sentence};
use crate::ui::answers::Answer;
use crate::ui::context::Cx;
use crate::ui::format::{fit, title_year};
use crate::ui::jobs::JobId;
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::theme::Theme;
use crate::ui::widgets::centered;

const WIDTH: u16 = 76;
/// Columns of the widest bar.
const BAR: usize = 12;

/// The explanation panel over the current view.
pub struct Explaining {
    /// The request whose answer it waits for.
    asked: JobId,
    pub movie: u32,
    /// `None` while the engine works it out.
    pub answer: Option<Result<Explained, String>>,
    pub scroll: usize,
}

impl Explaining {
    /// Asks why `movie` is where it is for the viewer, under the hybrid's
    /// weight and diversity now.
    pub fn open(cx: &mut Cx, movie: u32) -> Explaining {
        let asked = JobId::next();
        let mut explaining = Explaining { asked, movie, answer: None, scroll: 0 };
        let shared = &cx.shared;
        let explain = shared.rec.explain(shared.viewer_user(), movie, shared.weight, shared.diversity);
        if let Some(answer) = ask(cx, explain, move |r| Answer::Explained(asked, Box::new(r))) {
            explaining.on_answer(cx, answer);
        }
        explaining
    }
}

impl Overlay for Explaining {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Explain, Context::Always]
    }

    fn act(&mut self, _cx: &mut Cx, action: Action, _key: &KeyEvent) -> Outcome {
        scrolling(&mut self.scroll, action, &[Action::CloseOverlay])
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(shared, self, area, buf);
    }

    fn scroll(&mut self, rows: isize) -> bool {
        self.scroll = scrolled(self.scroll, rows);
        true
    }

    fn on_answer(&mut self, _cx: &mut Cx, answer: Answer) -> Option<Answer> {
        match answer {
            Answer::Explained(asked, result) if asked == self.asked => self.answer = Some(*result),
            other => return Some(other),
        }
        None
    }
}

fn render(shared: &Shared, explaining: &Explaining, area: Rect, buf: &mut Buffer) {
    let popup = centered(area, WIDTH, area.height.saturating_sub(2));
    let movie = shared.rec.dataset.movies.get(explaining.movie as usize).map(title_year).unwrap_or_default();
    let title = format!(" Why {} for {} ", fit(&movie, WIDTH as usize - 20), shared.viewer_name());
    let lines = match &explaining.answer {
        None => vec![Line::styled(" Working it out…", shared.theme.dim())],
        Some(Err(e)) => vec![Line::styled(format!(" The engine could not explain it: {e}"), shared.theme.error())],
        Some(Ok(e)) => lines(
            shared,
            &Why::new(e, &shared.rec.dataset, shared.weight, shared.diversity),
            popup.width.saturating_sub(2),
        ),
    };
    let visible = popup.height.saturating_sub(2) as usize;
    let scroll = explaining.scroll.min(lines.len().saturating_sub(visible));
    let more = if scroll + visible < lines.len() { " ↓ j/k scroll · Esc closes " } else { " Esc closes " };
    let block = Block::bordered()
        .title(Span::styled(title, shared.theme.title()))
        .title_bottom(Line::from(more).right_aligned());
    Clear.render(popup, buf);
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll as u16, 0)).render(popup, buf);
}

/// Every line of the panel, unscrolled.
pub fn lines(shared: &Shared, why: &Why, width: u16) -> Vec<Line<'static>> {
    let t = shared.theme;
    let width = width as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(" Predicted ", t.dim()),
        Span::styled(format!("★ {:.2}", why.predicted_rating), t.yours()),
        Span::styled("   confidence ", t.dim()),
        Span::raw(format!("{:.2} ", why.confidence)),
        Span::styled(meter(why.confidence, 10), t.bar()),
    ])];
    let stars_head = match why.exact {
        true => " Why these stars: what each of your ratings adds".to_owned(),
        false => " Why these stars (a least-squares refit of this user)".to_owned(),
    };
    lines.push(Line::default());
    lines.push(Line::styled(stars_head, t.header()));
    if !why.parts.is_empty() {
        lines.push(Line::styled(format!(" {}", parts_sentence(&why.parts)), t.dim()));
    }
    lines.push(amount(t, "everyone's mean and the movie's bias", why.baseline, None, width));
    let largest = why.movies().iter().map(|c| c.contribution.abs()).fold(0.0, f32::max);
    lines.extend(contributions(t, why.movies(), why.contributions_sum, largest, width));
    lines.push(amount(
        t,
        "= predicted (before clipping to the scale)",
        why.baseline + why.contributions_sum,
        None,
        width,
    ));
    if let Some(rank) = &why.ranking {
        lines.push(Line::default());
        lines.push(Line::styled(format!(" Why it is on the list: ranking score {:.3}", rank.score), t.header()));
        if rank.baseline.abs() > 5e-4 {
            lines.push(amount(t, "the ranking's baseline for you", rank.baseline, None, width));
        }
        let parts = rank.movies.iter().map(|c| c.contribution).chain(rank.marks.iter().map(|m| m.contribution));
        let largest = parts.map(f32::abs).fold(0.0, f32::max);
        let marked: f32 = rank.marks.iter().map(|m| m.contribution).sum();
        lines.extend(contributions(t, &rank.movies, rank.contributions_sum - marked, largest, width));
        for m in &rank.marks {
            let how = if m.mark == "seen" { "because you have seen" } else { "you are not interested in" };
            lines.push(amount(t, &format!("{how} {}", m.title), m.contribution, Some(largest), width));
        }
    }
    for reason in &why.reasons {
        let (head, description) = match reason {
            Reason::SimilarMovies { .. } => continue,
            Reason::GenreMatch { description, .. } => ("Genres", description),
            Reason::SimilarUsers { description, .. } => ("Similar users", description),
            Reason::HybridShare { description, .. } => ("Hybrid", description),
            Reason::Diversity { description, .. } => ("Its place", description),
        };
        lines.push(Line::default());
        lines.extend(sentence(t, head, description, width));
    }
    lines
}

/// ` Head: words…` wrapped to `width` here, not by the paragraph, so the
/// panel knows how many rows it has to scroll (later lines indented).
fn sentence(t: Theme, head: &str, text: &str, width: usize) -> Vec<Line<'static>> {
    const INDENT: &str = "   ";
    let head = format!(" {head}: ");
    let mut rows: Vec<String> = vec![String::new()];
    let mut room = width.saturating_sub(head.chars().count()).max(10);
    for word in text.split(' ') {
        let row = rows.last_mut().expect("one row at least");
        let used = row.chars().count();
        if used > 0 && used + 1 + word.chars().count() > room {
            rows.push(INDENT.to_owned() + word);
            room = width.max(10);
        } else {
            if used > 0 {
                row.push(' ');
            }
            row.push_str(word);
        }
    }
    let mut rows = rows.into_iter();
    let first = Line::from(vec![Span::styled(head, t.header()), Span::raw(rows.next().unwrap_or_default())]);
    std::iter::once(first).chain(rows.map(Line::from)).collect()
}

/// One line per named contribution, then the rest together, so the lines add up.
fn contributions(t: Theme, movies: &[Contribution], sum: f32, largest: f32, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = movies
        .iter()
        .map(|c| {
            let how = if c.contribution >= 0.0 { "because you rated" } else { "despite" };
            amount(t, &format!("{how} {} ★{}", c.title, c.your_rating), c.contribution, Some(largest), width)
        })
        .collect();
    let listed: f32 = movies.iter().map(|c| c.contribution).sum();
    if (sum - listed).abs() > 5e-4 {
        lines.push(amount(t, "your other ratings together", sum - listed, Some(0.0), width));
    }
    lines
}

/// `  label ······ ████ +0.31`: a share with a bar scaled to the `largest`
/// share (no bar when 0), or with `None` a plain amount such as a total.
fn amount(t: Theme, label: &str, value: f32, largest: Option<f32>, width: usize) -> Line<'static> {
    let cells = match largest {
        Some(largest) if largest > 0.0 => ((value.abs() / largest) * BAR as f32).round().max(1.0) as usize,
        _ => 0,
    };
    let number = if largest.is_some() { format!(" {value:+.3}") } else { format!(" {value:.3}") };
    let room = width.saturating_sub(3 + BAR + number.len());
    let style = if value >= 0.0 { t.better() } else { t.worse() };
    Line::from(vec![
        Span::raw(format!("   {:<room$}", fit(label, room))),
        Span::styled(format!("{:>BAR$}", "█".repeat(cells.min(BAR))), style),
        Span::styled(number, Style::new()),
    ])
}

/// `██████░░░░` for a share in [0, 1].
fn meter(share: f32, cells: usize) -> String {
    let full = ((share.clamp(0.0, 1.0) * cells as f32).round() as usize).min(cells);
    format!("{}{}", "█".repeat(full), "░".repeat(cells - full))
}
