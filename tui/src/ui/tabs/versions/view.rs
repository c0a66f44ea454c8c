//! Versions: every saved model of the dataset, newest first, with its
//! held-out scores; `*` marks the one serving. Below, a chart of one metric
//! across versions, or the comparison of two (metric deltas, the parameters
//! that differ, and how the viewer's top 10 changes).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::Shelf;
use crate::lab::compare::Comparison;
use crate::recommender::why::parts_list;
use crate::ui::format::{date_time, fit, title_year};
use crate::ui::shared::Shared;
use crate::ui::tabs::lab::metric_label;
use crate::ui::theme::SELECTED_SYMBOL;
use crate::ui::widgets::chart::{self, Axes, Series};
use crate::ui::widgets::line;
use cinema_store::models::Metrics;

pub fn render(shelf: &Shelf, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let width = area.width as usize;
    let table_rows = (shelf.listed.len() as u16 + 2).clamp(3, area.height / 2);
    let [table, _, below] =
        Layout::vertical([Constraint::Length(table_rows), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "  {:<5}{:<9}{:>7}{:>8}{:>7}{:>7}{:>7}  {:<16} note",
                "id", "model", "RMSE", "NDCG", "rP@10", "cover", "epochs", "created"
            ),
            width,
        ),
        t.header(),
    )];
    if shelf.listed.is_empty() {
        lines.push(Line::styled("no versions yet: train one in the Lab (t)", t.dim()));
    }
    let visible = table.height.saturating_sub(1) as usize;
    let first = shelf.cursor.selected.saturating_sub(visible.saturating_sub(1));
    for (i, listed) in shelf.listed.iter().enumerate().skip(first).take(visible) {
        let selected = i == shelf.cursor.selected;
        let marker = if selected { SELECTED_SYMBOL } else { "  " };
        let active = if shelf.active == Some(listed.id) { "*" } else { " " };
        let text = match &listed.meta {
            Ok(meta) => {
                let figures = match &meta.metrics {
                    Some(m) => format!(
                        "{:>7.4}{:>8.4}{:>7.3}{:>7.3}",
                        m.rmse, m.ndcg_at_10, m.rated_precision_at_10, m.coverage
                    ),
                    None => format!("{:>29}", "no held-out score"),
                };
                let mut note = Vec::new();
                if shelf.mark == Some(listed.id) {
                    note.push("marked".to_owned());
                }
                if shelf.comparing.is_some_and(|c| listed.id == c.pair.0 || listed.id == c.pair.1) {
                    note.push("comparing…".to_owned());
                }
                if meta.stopped {
                    note.push("stopped".to_owned());
                }
                if !meta.parts.is_empty() {
                    note.push(parts_list(&meta.parts));
                }
                if let Some(why) = shelf.why_unusable(listed.id) {
                    note.push(format!("cannot serve: {why}"));
                }
                format!(
                    "{active}v{:<4}{:<9}{figures}{:>7}  {:<16} {}",
                    listed.id,
                    fit(&meta.algorithm, 8),
                    meta.epochs,
                    date_time(meta.created),
                    note.join(", ")
                )
            }
            Err(e) => format!(" v{:<4}damaged: {e}", listed.id),
        };
        let style = if selected { t.selected() } else { Default::default() };
        lines.push(Line::styled(fit(&format!("{marker}{text}"), width), style));
    }
    Paragraph::new(lines).render(table, buf);
    match &shelf.comparison {
        Some(c) => comparison(shared, c, below, buf),
        None => metric_chart(shelf, shared, below, buf),
    }
}

fn metric_chart(shelf: &Shelf, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    // Oldest first, versions with scores only.
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut name = "RMSE";
    for listed in shelf.listed.iter().rev() {
        if let Ok(meta) = &listed.meta
            && let Some(m) = &meta.metrics
        {
            let n = Metrics::NAMES[shelf.metric];
            name = metric_label(n);
            // A version saved before a metric was measured has no point.
            if let Some((value, _)) = m.get(n) {
                points.push((f64::from(meta.id), value));
            }
        }
    }
    let [title, chart] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let head = format!("{name} across versions (n: next metric · c: compare two · Enter: activate)");
    line(Line::styled(fit(&head, area.width as usize), t.dim()), title, buf);
    if points.len() < 2 || chart.height < 4 {
        line(Line::from("two versions with held-out scores make a chart"), chart, buf);
        return;
    }
    let series = [Series { name: name.to_owned(), style: t.series_train(), points: &points }];
    chart::render(&series, Axes { x: "version", y: name, y_digits: 3 }, t.dim(), chart, buf);
}

fn comparison(shared: &Shared, c: &Comparison, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let [left, _, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let width = left.width as usize;
    let mut lines = vec![Line::styled(fit(&format!("v{} → v{}", c.a, c.b), width), t.header())];
    if c.deltas.is_empty() {
        lines.push(Line::from("one of them has no held-out scores"));
    }
    // Marked better or worse, whichever way the metric moved (a lower RMSE is better).
    for d in &c.deltas {
        let (mark, style) = match (d.better, d.delta == 0.0) {
            (_, true) => (" =", Default::default()),
            (true, _) => (" ✓", t.better()),
            (false, _) => (" ✗", t.worse()),
        };
        lines.push(Line::from(vec![
            Span::raw(fit(
                &format!("{:<16}{:>7.4} →{:>7.4} ", metric_label(d.metric), d.a, d.b),
                width.saturating_sub(9),
            )),
            Span::styled(format!("{:>+7.4}{mark}", d.delta), style),
        ]));
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    for p in &c.params {
        lines.push(Line::styled(fit(&format!("{} {} → {}", p.name, show(&p.a), show(&p.b)), width), t.dim()));
    }
    if c.params.is_empty() {
        lines.push(Line::styled("same parameters", t.dim()));
    }
    Paragraph::new(lines).render(left, buf);

    let width = right.width as usize;
    let movies = &shared.rec.dataset.movies;
    let title = |m: &u32| movies.get(*m as usize).map(title_year).unwrap_or_default();
    let mut lines = vec![Line::styled(
        fit(&format!("Top 10 for {}: {} in both", shared.viewer_name(), c.top10.overlap), width),
        t.header(),
    )];
    for m in &c.top10.entered {
        lines.push(Line::styled(fit(&format!("+ {}", title(m)), width), t.better()));
    }
    for m in &c.top10.left {
        lines.push(Line::styled(fit(&format!("- {}", title(m)), width), t.worse()));
    }
    if c.top10.entered.is_empty() {
        lines.push(Line::from("the same ten movies"));
    }
    Paragraph::new(lines).render(right, buf);
}
