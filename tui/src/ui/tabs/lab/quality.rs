//! Prediction quality of the last training, on its held-out ratings: the
//! actual-vs-predicted grid (counts, shaded by their share of the row), the
//! true and predicted rating distributions with the MAE per true rating,
//! and the error histogram. Shading and bars are characters, so it reads
//! the same with NO_COLOR; it fits 80×24.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::lab::quality::{ERROR_EDGES, Quality};
use crate::ui::format::fit;
use crate::ui::theme::Theme;

const SHADES: [&str; 5] = [" ", "░", "▒", "▓", "█"];

pub fn render(t: Theme, q: &Quality, area: Rect, buf: &mut Buffer) {
    let rows = q.values.len() as u16 + 2;
    let [top, bottom] = Layout::vertical([Constraint::Length(rows), Constraint::Fill(1)]).areas(area);
    let grid_width = 7 + cell(q) as u16 * q.values.len() as u16;
    let [grid, _, table] =
        Layout::horizontal([Constraint::Length(grid_width), Constraint::Length(2), Constraint::Fill(1)]).areas(top);
    self::grid(t, q, grid, buf);
    distributions(t, q, table, buf);
    errors(t, q, bottom, buf);
}

/// Characters per grid cell: half-star scales have ten columns to fit.
fn cell(q: &Quality) -> usize {
    if q.values.len() > 6 { 5 } else { 6 }
}

fn label(v: f32) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn grid(t: Theme, q: &Quality, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let mut head = format!("{:<7}", "true");
    for v in &q.values {
        head.push_str(&format!("{:>w$}", label(*v), w = cell(q)));
    }
    let mut lines = vec![
        Line::styled(fit(&format!("True × predicted, {} held out", q.total), width), t.header()),
        Line::styled(fit(&head, width), t.dim()),
    ];
    for (i, row) in q.grid.iter().enumerate().rev() {
        let total: u64 = row.iter().sum();
        let mut spans = vec![Span::styled(format!("{:<7}", label(q.values[i])), t.dim())];
        for (j, &n) in row.iter().enumerate() {
            let share = if total == 0 { 0.0 } else { n as f64 / total as f64 };
            let shade = SHADES[((share * 4.0).ceil() as usize).min(4)];
            let style = if i == j { t.better() } else { Default::default() };
            let pad = if cell(q) == 6 { " " } else { "" };
            spans.push(Span::styled(format!("{pad}{shade}{:>4}", compact(n)), style));
        }
        lines.push(Line::from(spans));
    }
    Paragraph::new(lines).render(area, buf);
}

/// `1234`, `12k`: four characters at most.
fn compact(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..1_000_000 => format!("{}k", n / 1_000),
        _ => format!("{}M", n / 1_000_000),
    }
}

fn distributions(t: Theme, q: &Quality, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let share = |n: u64| if q.total == 0 { 0.0 } else { n as f64 / q.total as f64 };
    // Bars only where there is room for them.
    let bars = width >= 40;
    let bar = |x: f64| {
        let cells = (x * 20.0).round() as usize;
        if bars { format!("{:<5}", "█".repeat(cells.min(5))) } else { String::new() }
    };
    let mut lines = vec![
        Line::styled(fit("Distribution and MAE", width), t.header()),
        Line::styled(
            fit(
                &format!(
                    "{:<6}{:>w$} {:>w$} {:>5}",
                    "rating",
                    "true",
                    "predicted",
                    "MAE",
                    w = if bars { 11 } else { 6 }
                ),
                width,
            ),
            t.dim(),
        ),
    ];
    for i in (0..q.values.len()).rev() {
        let (a, b) = (share(q.true_counts[i]), share(q.predicted_counts[i]));
        let mae = if q.mae[i].is_nan() { "—".to_owned() } else { format!("{:.2}", q.mae[i]) };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<6}", label(q.values[i])), t.dim()),
            Span::styled(bar(a), t.series_train()),
            Span::raw(format!("{:>5.1}%", a * 100.0)),
            Span::styled(format!(" {}", bar(b)), t.series_validation()),
            Span::raw(format!("{:>5.1}%", b * 100.0)),
            Span::raw(format!(" {mae:>5}")),
        ]));
    }
    Paragraph::new(lines).render(area, buf);
}

fn errors(t: Theme, q: &Quality, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let most = q.errors.iter().copied().max().unwrap_or(0).max(1);
    let names: Vec<String> = (0..q.errors.len())
        .map(|i| match i {
            0 => format!("< {:+.2}", ERROR_EDGES[0]),
            i if i == ERROR_EDGES.len() => format!("≥ {:+.2}", ERROR_EDGES[i - 1]),
            i => format!("{:+.2}…{:+.2}", ERROR_EDGES[i - 1], ERROR_EDGES[i]),
        })
        .collect();
    let room = width.saturating_sub(14 + 8);
    let mut lines = vec![Line::styled(fit("Error (predicted − true, stars)", width), t.header())];
    for (name, &n) in names.iter().zip(&q.errors) {
        let cells = (n as f64 / most as f64 * room as f64).round() as usize;
        let share = if q.total == 0 { 0.0 } else { n as f64 / q.total as f64 * 100.0 };
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<13} "), t.dim()),
            Span::styled("█".repeat(cells), t.bar()),
            Span::raw(format!(" {share:.1}%")),
        ]));
    }
    Paragraph::new(lines).render(area, buf);
}
