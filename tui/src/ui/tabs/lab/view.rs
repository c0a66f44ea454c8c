//! The Lab: the training form on the left; on the right the run under way
//! (RMSE per epoch as a chart, a gauge, speed, elapsed and ETA), the
//! held-out scores of the finished run beside the version active before
//! it, or the tuning table. `p` opens the prediction-quality view.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::quality;
use super::{Finished, LabPanel, LabRun, Point, Row, Sweep, Tuning, metric_rows, target};
use crate::recommender::why::parts_list;
use crate::ui::format::fit;
use crate::ui::shared::Shared;
use crate::ui::theme::{SELECTED_SYMBOL, Theme};
use crate::ui::widgets::chart::{self, Axes, Series};
use crate::ui::widgets::line;
use cinema_protocol::{ParamKind, Role};

const FORM_WIDTH: u16 = 34;

pub fn render(lab: &LabPanel, shared: &Shared, area: Rect, buf: &mut Buffer) {
    if lab.quality
        && let Some(finished) = &lab.finished
    {
        return quality::render(shared.theme, &finished.quality, area, buf);
    }
    let [form, _, right] =
        Layout::horizontal([Constraint::Length(FORM_WIDTH), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    self::form(lab, shared, form, buf);
    let t = shared.theme;
    if let Some(run) = &lab.run {
        running(t, run, right, buf);
    } else if let Some(sweep) = &lab.sweep {
        self::sweep(t, sweep, right, buf);
    } else if let Some(tuning) = &lab.tuning {
        self::tuning(t, tuning, right, buf);
    } else if let Some(finished) = &lab.finished {
        self::finished(t, finished, right, buf);
    } else {
        let mut lines = vec![
            Line::styled("Train a new version", t.header()),
            Line::from(
                "Pick a model and its values on the left, then press Enter. Every epoch is charted; \
                 the model is scored on held-out ratings, then saved as a version (v) and made active.",
            ),
            Line::default(),
        ];
        for (key, what) in [
            ("Enter", "train"),
            ("e", "edit the selected value"),
            ("← →", "another model or choice"),
            ("s / c", "stop (keep) / cancel (drop)"),
            ("g", "tune by 3-fold cross-validation"),
            ("D", "diversity: accuracy vs coverage"),
        ] {
            lines.push(Line::from(vec![Span::styled(format!("{key:>6}  "), t.key()), Span::raw(what)]));
        }
        if let Some(e) = &lab.error {
            lines.push(Line::default());
            lines.push(Line::styled(fit(&format!("last run failed: {e}"), right.width as usize), t.error()));
        }
        Paragraph::new(lines).wrap(Wrap { trim: false }).render(right, buf);
    }
}

fn form(lab: &LabPanel, shared: &Shared, area: Rect, buf: &mut Buffer) {
    let (t, form) = (shared.theme, &lab.form);
    let width = area.width as usize;
    let rows = form.rows();
    // Keep the selected row on screen: the form can be taller than the view.
    let visible = area.height.saturating_sub(4) as usize;
    let first = form.selected.saturating_sub(visible.saturating_sub(1));
    let mut lines = vec![Line::styled(fit(" Model", width), t.header())];
    for (i, row) in rows.iter().enumerate().skip(first).take(visible) {
        let selected = i == form.selected;
        let (name, value) = match *row {
            Row::Rating => (
                "rating model".to_owned(),
                form.ratings.get(form.rating).map_or("—".into(), |a| format!("◂ {} ▸", a.name)),
            ),
            Row::Ranking => (
                "ranking model".to_owned(),
                format!(
                    "◂ {} ▸",
                    form.ranking.and_then(|i| form.rankings.get(i)).map_or("none (stars)", |a| a.name.as_str())
                ),
            ),
            _ => {
                let field = form.field(*row).expect("rows name fields that exist");
                let value = match (&form.editing, selected) {
                    (Some(text), true) if text.is_empty() => format!("▌ (was {})", field.text),
                    (Some(text), true) => format!("{text}▌"),
                    _ if matches!(field.info.kind, ParamKind::Choice { .. }) => format!("◂ {} ▸", field.text),
                    _ => field.text.clone(),
                };
                (format!("  {}", field.info.name), value)
            }
        };
        let marker = if selected { SELECTED_SYMBOL } else { "  " };
        let text = fit(&format!("{marker}{name:<15} {value}"), width);
        let style = if selected {
            t.selected()
        } else if matches!(row, Row::Rating | Row::Ranking) {
            t.title()
        } else {
            Default::default()
        };
        lines.push(Line::styled(text, style));
    }
    // The selected parameter's help, or why the form cannot train, over up to three lines.
    let foot = match (&form.error, form.row().and_then(|r| form.field(r))) {
        (Some(e), _) => Line::styled(e.clone(), t.error()),
        (None, Some(f)) => Line::styled(format!("{} ({})", f.info.help, f.info.kind.expected()), t.dim()),
        (None, None) => Line::styled("← → to choose", t.dim()),
    };
    let [body, footer] = Layout::vertical([Constraint::Fill(1), Constraint::Length(3)]).areas(area);
    Paragraph::new(lines).render(body, buf);
    Paragraph::new(foot).wrap(Wrap { trim: true }).render(footer, buf);
}

/// The chart's points of one RMSE series.
fn series(points: &[Point], rmse: fn(&Point) -> Option<f64>) -> Vec<(f64, f64)> {
    points.iter().filter_map(|p| rmse(p).map(|y| (p.epoch, y))).collect()
}

fn rmse_chart(t: Theme, points: &[Point], area: Rect, buf: &mut Buffer) {
    let (train, validation) = (series(points, |p| p.train), series(points, |p| p.validation));
    let series = [
        Series { name: "train RMSE".into(), style: t.series_train(), points: &train },
        Series { name: "validation RMSE".into(), style: t.series_validation(), points: &validation },
    ];
    chart::render(&series, Axes { x: "epoch", y: "RMSE (stars)", y_digits: 3 }, t.dim(), area, buf);
}

fn running(t: Theme, run: &LabRun, area: Rect, buf: &mut Buffer) {
    let [title, chart, gauge, stats] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    let role = if run.role == Role::Ranking { "ranking" } else { "rating" };
    let cores = if run.cores > 1 { format!(" on {} cores", run.cores) } else { String::new() };
    let what = match (run.evaluating, run.refitting) {
        (true, _) => "scoring on the held-out ratings".to_owned(),
        (false, true) => format!("scored; refitting the {role} model {} on every rating{cores}", run.algorithm),
        (false, false) => format!("training the {role} model {}{cores}", run.algorithm),
    };
    let stopping = if run.stopping { " · stopping" } else { "" };
    line(Line::styled(fit(&format!("{what}{stopping}"), area.width as usize), t.header()), title, buf);
    if run.points.is_empty() {
        line(Line::styled("the chart starts after the first epoch", t.dim()), chart, buf);
    } else {
        rmse_chart(t, &run.points, chart, buf);
    }
    // Named, since the two models count different epochs.
    let label = format!(" {} epoch {}/{} ", run.algorithm, run.epoch, run.epochs);
    line(bar(t, run.fraction, &label, area.width as usize), gauge, buf);
    let mut parts = vec![format!("{:.0} s", run.elapsed.as_secs_f64())];
    if let Some(rate) = run.rate() {
        let unit = if run.role == Role::Ranking { "units/s" } else { "ratings/s" };
        parts.push(format!("{} {unit}", thousands(rate)));
    }
    match run.eta() {
        Some(eta) => parts.push(format!("ETA {:.0} s", eta.as_secs_f64())),
        None => parts.push("ETA after 2 epochs".into()),
    }
    line(Line::styled(fit(&parts.join(" · "), area.width as usize), t.dim()), stats, buf);
}

/// A text gauge, readable without colour: `████░░░░ epoch 3/20 15 %`.
fn bar(t: Theme, fraction: f64, label: &str, width: usize) -> Line<'static> {
    let percent = format!("{:>3.0} %", fraction * 100.0);
    let room = width.saturating_sub(label.chars().count() + percent.len() + 1);
    let filled = ((fraction.clamp(0.0, 1.0) * room as f64).round() as usize).min(room);
    Line::from(vec![
        Span::styled("█".repeat(filled), t.bar()),
        Span::styled("░".repeat(room - filled), t.dim()),
        Span::raw(label.to_owned()),
        Span::raw(percent),
    ])
}

fn thousands(x: f64) -> String {
    match x {
        x if x >= 1e6 => format!("{:.1}M", x / 1e6),
        x if x >= 1e3 => format!("{:.0}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

fn finished(t: Theme, f: &Finished, area: Rect, buf: &mut Buffer) {
    let metrics = f.meta.metrics.as_ref();
    let blend = !f.meta.parts.is_empty();
    // The figures beside accuracy when the chart keeps room (8 rows); at
    // 80×24 they are in Versions (n) and `cinema versions show`.
    let rows = metrics.map(|m| {
        let every = metric_rows(m);
        let room = area.height.saturating_sub(3 + every.len() as u16 + u16::from(blend)) >= 8;
        if room { every } else { every.into_iter().filter(|r| m.named().iter().any(|n| n.0 == r.0)).collect() }
    });
    let table_height = rows.as_ref().map_or(2, |r| 3 + r.len() as u16) + u16::from(blend);
    let [chart, table] = Layout::vertical([Constraint::Fill(1), Constraint::Length(table_height)]).areas(area);
    if f.points.len() > 1 && chart.height >= 5 {
        rmse_chart(t, &f.points, chart, buf);
    }
    let width = area.width as usize;
    let stopped = if f.meta.stopped { ", stopped early" } else { "" };
    // The scores are the held-out fit's; what serves is its refit on all.
    let serves = match f.meta.scored_on {
        Some(_) => format!("serves the refit on all {}", f.meta.train_ratings),
        None => format!("scored on a {}", f.meta.protocol.as_deref().unwrap_or("holdout")),
    };
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "v{} · {} epochs in {:.1} s{stopped} · {serves}",
                f.meta.id, f.meta.epochs, f.meta.training_seconds
            ),
            width,
        ),
        t.header(),
    )];
    if blend {
        lines.push(Line::from(fit(&format!("fitted weights: {}", parts_list(&f.meta.parts)), width)));
    }
    let Some(m) = metrics else {
        lines.push(Line::from("trained on every rating: nothing held out to score"));
        return Paragraph::new(lines).render(table, buf);
    };
    let before = f.before.as_ref().and_then(|b| b.metrics.map(|m| (b.id, m)));
    // The version it replaced, even when that one has no held-out scores (a first start's).
    let before_label = f.before.as_ref().map_or("before".to_owned(), |b| format!("v{}", b.id));
    lines.push(Line::styled(
        fit(&format!("{:<17}{:>8} {:>9}  {:<8}", "held out 10 %", "this", before_label, "target"), width),
        t.dim(),
    ));
    for (name, label, value, lower) in rows.unwrap_or_default() {
        let old = before.map(|(_, b)| b.get(name).map_or(f64::NAN, |x| x.0));
        let (mark, style) = match old {
            Some(o) if (lower && value < o) || (!lower && value > o) => ("▲", t.better()),
            Some(o) if value == o => ("=", Default::default()),
            Some(_) => ("▼", t.worse()),
            None => (" ", Default::default()),
        };
        let target = target(name).map_or(String::new(), |(bound, lower)| {
            let met = if lower { value < bound } else { value > bound };
            format!("{}{bound:.2} {}", if lower { "<" } else { ">" }, if met { "✓" } else { "✗" })
        });
        let old = old.filter(|o| o.is_finite()).map_or("—".to_owned(), |o| format!("{o:.4}"));
        lines.push(Line::from(vec![
            Span::raw(format!("{label:<17}")),
            Span::styled(format!("{value:>8.4}{mark}"), style),
            Span::raw(format!("{old:>8}  {target}")),
        ]));
    }
    // The brief's coverage beside what lists for this many viewers could reach at all.
    let lists = m.beyond.map_or(String::new(), |b| {
        format!("lists at diversity {}, coverage ≤ {:.2} · ", b.diversity, b.reachable_coverage)
    });
    lines.push(Line::styled(fit(&format!("{lists}p: prediction quality · v: all versions"), width), t.dim()));
    Paragraph::new(lines).render(table, buf);
}

/// The sweep as it comes in: NDCG@10 against catalogue coverage (each
/// point a setting of the knob), and the settings' figures below.
fn sweep(t: Theme, sweep: &Sweep, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let total = crate::lab::sweep::settings().len();
    let state = match (&sweep.error, sweep.running) {
        (Some(e), _) => format!("failed: {e}"),
        (None, true) if sweep.points.is_empty() => "training on the held-out tenth…".to_owned(),
        (None, true) => "running (c stops)".to_owned(),
        // Ended short of every setting without an error: `c` stopped it.
        (None, false) if sweep.points.len() < total => "stopped".to_owned(),
        (None, false) => "done".to_owned(),
    };
    let head = format!("Diversity sweep of {}: {}/{total} settings · {state}", sweep.models, sweep.points.len());
    let rows = sweep.points.len() as u16 + 2;
    let [title, chart, table] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(rows)]).areas(area);
    line(Line::styled(fit(&head, width), t.header()), title, buf);
    let points: Vec<(f64, f64)> = sweep.points.iter().map(|p| (p.list.coverage * 100.0, p.list.ndcg_at_10)).collect();
    if points.len() > 1 && chart.height >= 5 {
        let series = [Series { name: "NDCG@10".into(), style: t.series_train(), points: &points }];
        chart::render(&series, Axes { x: "coverage %", y: "NDCG@10", y_digits: 3 }, t.dim(), chart, buf);
    }
    let plain = sweep.points.first().map(|p| p.list.ndcg_at_10);
    let mut lines = vec![Line::styled(
        fit(&format!("{:>5} {:>8} {:>7} {:>9} {:>8}", "X", "NDCG@10", "change", "coverage", "miscal."), width),
        t.dim(),
    )];
    for p in &sweep.points {
        let change = plain.map_or(String::new(), |x| format!("{:+.1} %", (p.list.ndcg_at_10 / x - 1.0) * 100.0));
        lines.push(Line::from(fit(
            &format!(
                "{:>5.1} {:>8.4} {change:>7} {:>8.1}% {:>8.3}",
                p.diversity,
                p.list.ndcg_at_10,
                p.list.coverage * 100.0,
                p.beyond.miscalibration
            ),
            width,
        )));
    }
    Paragraph::new(lines).render(table, buf);
}

fn tuning(t: Theme, tuning: &Tuning, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let state = match (&tuning.error, tuning.running) {
        (Some(e), _) => format!("failed: {e}"),
        (None, true) => "running".to_owned(),
        (None, false) if tuning.done.len() < tuning.total => "stopped".to_owned(),
        (None, false) => "done".to_owned(),
    };
    let mut lines = vec![
        Line::styled(
            fit(
                &format!(
                    "Tuning: {}/{} candidates · {}-fold CV · {} jobs · {state}",
                    tuning.done.len(),
                    tuning.total,
                    tuning.folds,
                    tuning.jobs
                ),
                width,
            ),
            t.header(),
        ),
        Line::styled(
            fit(
                &format!(
                    "{:>4} {:>8}  parameters ({})",
                    "#",
                    "CV RMSE",
                    if tuning.by_rmse { "best first, o: order run" } else { "as run, o: best first" }
                ),
                width,
            ),
            t.dim(),
        ),
    ];
    let rows = tuning.rows();
    let varied = crate::lab::tune::varied(rows.iter().map(|c| &c.params));
    for c in rows.iter().take(area.height.saturating_sub(3) as usize) {
        let params: Vec<String> = varied.iter().filter_map(|n| c.params.get(n).map(|v| format!("{n}={v}"))).collect();
        lines.push(Line::from(fit(&format!("{:>4} {:>8.4}  {}", c.index + 1, c.cv_rmse, params.join(" ")), width)));
    }
    lines.push(Line::styled(fit("B: train the best into a version · s: stop the search", width), t.dim()));
    Paragraph::new(lines).render(area, buf);
}
