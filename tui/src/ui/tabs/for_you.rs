//! For you: the top N for the viewer, excluding what they rated,
//! with predicted stars and the hybrid's two parts under the weight that
//! `[` and `]` move.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use crossterm::event::KeyEvent;

use super::Tab;
use crate::ui::context::{Cx, Then};
use crate::ui::cursor::Cursor;
use crate::ui::format::{self, fit, genres};
use crate::ui::keys::{Action, Context};
use crate::ui::shared::Shared;
use crate::ui::theme::NEW_SYMBOL;
use crate::ui::widgets::movie_table::{self, Spec, col, fill, num, right};
use crate::ui::widgets::{for_you, line};

/// One press of `[` or `]`, `{` or `}`.
const STEP: f32 = 0.1;

#[derive(Default)]
pub struct ForYou {
    pub cursor: Cursor,
}

impl Tab for ForYou {
    fn title(&self) -> &'static str {
        "For you"
    }

    fn contexts(&self) -> Vec<Context> {
        use Context as C;
        vec![C::ForYou, C::List, C::Movie, C::Global, C::Always]
    }

    fn act(&mut self, cx: &mut Cx, action: Action, _key: &KeyEvent) -> bool {
        match action {
            Action::MoreCf => nudge(cx, Knob::Weight, 1.0),
            Action::MoreContent => nudge(cx, Knob::Weight, -1.0),
            Action::MoreDiversity => nudge(cx, Knob::Diversity, 1.0),
            Action::LessDiversity => nudge(cx, Knob::Diversity, -1.0),
            _ => return false,
        }
        true
    }

    fn render(&self, shared: &Shared, area: Rect, buf: &mut Buffer) {
        render(self, shared, area, buf);
    }

    fn selected(&self, shared: &Shared) -> Option<u32> {
        shared.recs.get(self.cursor.selected).map(|s| s.item)
    }

    fn step(&mut self, shared: &Shared, delta: isize) {
        self.cursor.step(delta, shared.recs.len());
    }

    fn page(&self) -> isize {
        self.cursor.page()
    }

    fn lists_changed(&mut self, shared: &Shared, new_viewer: bool) {
        if new_viewer {
            self.cursor.reset();
        }
        self.cursor.clamp(shared.recs.len());
    }
}

/// The two settings `[ ]` and `{ }` move.
#[derive(Clone, Copy)]
enum Knob {
    /// The hybrid's weight on CF.
    Weight,
    /// How far the list spreads over the catalogue.
    Diversity,
}

/// Moves `knob` one step (`sign` > 0: up), in tenths from 0 to 1, keeps it
/// for the next start and for the CLI (which shows the same list), and asks
/// for the list again.
fn nudge(cx: &mut Cx, knob: Knob, sign: f32) {
    let shared = &mut *cx.shared;
    let value = match knob {
        Knob::Weight => &mut shared.weight,
        Knob::Diversity => &mut shared.diversity,
    };
    let next = (((*value + sign * STEP) * 10.0).round() / 10.0).clamp(0.0, 1.0);
    if next == *value {
        return;
    }
    *value = next;
    let saved = match knob {
        Knob::Weight => shared.rec.prefs.set_weight(next),
        Knob::Diversity => shared.rec.prefs.set_diversity(next),
    };
    if let Err(e) = saved {
        tracing::warn!("{e:#}");
    }
    cx.then.push(Then::Refresh);
}

fn render(tab: &ForYou, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let excluded = match shared.rated.len() {
        0 => String::new(),
        n => format!(" · without the {n} rated"),
    };
    let fresh = if shared.fresh.is_empty() { "" } else { " · + = new since the last change" };
    // At CF 1.0 the list is CF's own, without parts, but the weight shows.
    let hybrid = !shared.parts.is_empty();
    // Without a ranking model a cold list is the damped means; with one it
    // is that model's list for someone who rated nothing, blended as usual.
    // The order is the Score, never Pred: say so, as many Pred read 5.00.
    let how = match shared.cold_start() && shared.rec.meta.ranking.is_none() {
        true => " · by damped mean rating".into(),
        false => {
            let note = if hybrid { no_content(shared) } else { "" };
            let diverse = match shared.diversity {
                0.0 => String::new(),
                d => format!(" · diversity {d:.1} ({{ }})"),
            };
            format!(" · by {:.1}·CF + {:.1}·content ([ ]){note}{diverse}", shared.weight, 1.0 - shared.weight)
        }
    };
    line(
        Line::from(vec![
            Span::styled(format!(" {}", for_you::heading(shared)), t.title()),
            Span::styled(format!(" · top {}{how}{excluded}{fresh}", shared.recs.len()), t.dim()),
        ]),
        head,
        buf,
    );
    let ds = &shared.rec.dataset;
    let genre_width = if area.width >= 100 { 28 } else { 16 };
    let mut columns = vec![num("#", 3), fill("Title"), col("Year", 4), col("Genres", genre_width), num("Pred", 4)];
    columns.extend(if hybrid { vec![num("CF", 4), num("Cont", 4)] } else { vec![num("Score", 5)] });
    let spec = Spec { columns: &columns, len: shared.recs.len(), empty: "nothing left to recommend", focused: true };
    movie_table::render(t, spec, &tab.cursor, table, buf, |i, title_width| {
        let Some((s, movie)) = shared.recs.get(i).and_then(|s| ds.movies.get(s.item as usize).map(|m| (s, m))) else {
            return Row::default();
        };
        let fresh = shared.fresh.contains(&s.item);
        let rank = format!("{}{}", if fresh { NEW_SYMBOL } else { "" }, i + 1);
        let style = if fresh { t.fresh() } else { ratatui::style::Style::new() };
        let mut cells = vec![
            right(rank),
            Cell::from(fit(&format::title(movie), title_width)),
            Cell::from(movie.year.map(|y| y.to_string()).unwrap_or_default()),
            Cell::from(fit(&genres(ds, movie), genre_width as usize)),
            right(format!("{:.2}", s.prediction)),
        ];
        match shared.parts.get(i) {
            Some((cf, content)) => cells.extend([right(format!("{cf:.2}")), right(format!("{content:.2}"))]),
            None => cells.push(right(format!("{:.2}", s.score))),
        }
        Row::new(cells).style(style)
    });
}

/// Why every content part is 0, when it is: the list is then CF's alone
/// whatever the weight, and the viewer should know why `[` does nothing.
fn no_content(shared: &Shared) -> &'static str {
    if shared.parts.iter().any(|p| p.1 > 0.0) {
        return "";
    }
    let rated: Vec<(u32, f32)> = shared.viewer_ratings.iter().map(|(&movie, &value)| (movie, value)).collect();
    if !shared.rec.liked(&rated).is_empty() {
        " · no content near what you liked"
    } else {
        " · content 0: nothing liked yet"
    }
}
