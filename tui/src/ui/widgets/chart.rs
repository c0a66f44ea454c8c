//! Line charts in braille, shared by the Lab (RMSE per epoch) and the
//! Versions view (a metric across versions): bounds padded around the data,
//! labelled axes with units, and a legend naming every series.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition, Widget};

/// One line of a chart.
pub struct Series<'a> {
    pub name: String,
    pub style: Style,
    pub points: &'a [(f64, f64)],
}

/// Axis titles, e.g. `("epoch", "RMSE (stars)")`.
pub struct Axes<'a> {
    pub x: &'a str,
    pub y: &'a str,
    /// Digits after the point on the y labels.
    pub y_digits: usize,
}

pub fn render(series: &[Series], axes: Axes, style: Style, area: Rect, buf: &mut Buffer) {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (mut y0, mut y1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1.0 {
        x1 = x0 + 1.0;
    }
    // A little room above and below, so a flat line is not drawn on the frame.
    let pad = ((y1 - y0) * 0.1).max(1e-3);
    (y0, y1) = (y0 - pad, y1 + pad);
    let label = |v: f64, digits: usize| Span::styled(format!("{v:.digits$}"), style);
    let datasets: Vec<Dataset> = series
        .iter()
        .map(|s| {
            Dataset::default()
                .name(s.name.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(s.style)
                .data(s.points)
        })
        .collect();
    Chart::new(datasets)
        .x_axis(Axis::default().title(Span::styled(axes.x.to_owned(), style)).bounds([x0, x1]).labels([
            label(x0, 0),
            // Epochs and versions are whole: a middle of 2.5 would read "2".
            match (x0 + x1) / 2.0 {
                middle if middle.fract() == 0.0 => label(middle, 0),
                _ => Span::raw(""),
            },
            label(x1, 0),
        ]))
        .y_axis(Axis::default().title(Span::styled(axes.y.to_owned(), style)).bounds([y0, y1]).labels([
            label(y0, axes.y_digits),
            label((y0 + y1) / 2.0, axes.y_digits),
            label(y1, axes.y_digits),
        ]))
        .legend_position(Some(LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)))
        .render(area, buf);
}
