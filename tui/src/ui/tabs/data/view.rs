//! Data: which dataset is open, and the way to another — import MovieLens
//! from a folder or zip, or download latest-small — with the progress of
//! that work and, when it fails, why (the importer's file:line: reason).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, LineGauge, Paragraph, Widget, Wrap};

use super::{DataPanel, HistoryPreview, Running};
use crate::recommender::ModelOrigin;
use crate::ui::complete;
use crate::ui::format::{bytes, fit};
use crate::ui::shared::Shared;
use crate::ui::widgets::line;
use crate::ui::work::{Job, Stage};
use cinema_store::history::titles::display;

pub fn render(data: &DataPanel, shared: &Shared, area: Rect, buf: &mut Buffer) {
    if let Some(history) = &data.history {
        return self::history(shared, history, area, buf);
    }
    let lines = choices(data, shared, area.width as usize);
    let progress_height = if data.running.is_some() { 3 } else { 0 };
    let [text, progress, error] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(progress_height),
        Constraint::Fill(1),
    ])
    .areas(area);
    Paragraph::new(lines).render(text, buf);
    if let Some(running) = &data.running {
        self::progress(shared, running, progress, buf);
    }
    if let Some(message) = &data.error {
        failure(shared, message, error, buf);
    }
}

/// What is open now, and the two ways to open something else.
fn choices(data: &DataPanel, shared: &Shared, width: usize) -> Vec<Line<'static>> {
    let t = shared.theme;
    let ds = &shared.rec.dataset;
    let what = match &shared.source {
        _ if shared.on_demo() => " — the built-in demo catalogue: invented titles, not MovieLens".to_owned(),
        Some(path) => format!(" — {}", path.display()),
        None => String::new(),
    };
    let scale = if ds.scale.step < 1.0 { "half stars" } else { "whole stars" };
    let meta = &shared.rec.meta;
    let model = match shared.rec.origin {
        ModelOrigin::Loaded => "restored from the data directory".to_owned(),
        ModelOrigin::Trained => format!("trained once in {:.1} s and saved", meta.training_seconds),
        ModelOrigin::StandIn => "a quick baseline while the first models train".to_owned(),
    };
    let key = |k: &'static str| Span::styled(format!("   {k:<3}"), t.key());
    let typing = |history: bool| data.input.as_ref().filter(|_| data.input_history == history);
    let history_input = match typing(true) {
        Some(text) => Line::from(vec![
            Span::styled("   > ", t.key()),
            Span::raw(fit(text, width.saturating_sub(7))),
            Span::styled("▌", t.key()),
        ]),
        None => Line::from(vec![key("I"), Span::raw("type the path of your export: a preview comes first")]),
    };
    let input = match typing(false) {
        Some(text) => Line::from(vec![
            Span::styled("   > ", t.key()),
            Span::raw(fit(text, width.saturating_sub(7))),
            Span::styled("▌", t.key()),
        ]),
        None => Line::from(vec![key("i"), Span::raw("type the path of one, then Enter")]),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" Now: ", t.dim()),
            Span::styled(ds.name.clone(), t.title()),
            Span::raw(fit(&what, width.saturating_sub(7 + ds.name.chars().count()))),
        ]),
        Line::from(format!(
            "      {} movies · {} users · {} ratings · {scale}",
            ds.movies.len(),
            ds.user_ids.len(),
            ds.ratings.len()
        )),
        Line::from(fit(&format!("      model {}: {model}", meta.algorithm), width)),
        Line::default(),
        Line::styled(" Import MovieLens from a folder or .zip (100K, 1M, latest-small, 20M, 25M)", t.header()),
        input,
    ];
    let hint = || Line::styled(fit(&typing_hint(data), width), t.dim());
    if typing(false).is_some() {
        lines.push(hint());
    }
    lines.extend([
        Line::default(),
        Line::styled(" Import your ratings: a Letterboxd export (.zip or CSV) or IMDb's ratings CSV", t.header()),
        history_input,
    ]);
    if typing(true).is_some() {
        lines.push(hint());
    }
    lines.extend([
        Line::default(),
        Line::styled(" Download MovieLens latest-small (about 1 MB, from grouplens.org)", t.header()),
        Line::from(vec![key("D"), Span::raw("download it into the data directory and switch to it")]),
        Line::default(),
        Line::styled(
            fit(" It opens at once and at every start after; its model is trained the first time.", width),
            t.dim(),
        ),
        Line::default(),
    ]);
    lines
}

/// Under the path box: what Tab found, or the datasets ↑ brings back.
fn typing_hint(d: &DataPanel) -> String {
    if !d.completions.is_empty() {
        let shown: Vec<&str> = d.completions.iter().take(complete::SHOWN).map(String::as_str).collect();
        let more = d.completions.len() - shown.len();
        let more = if more > 0 { format!(" … and {more} more") } else { String::new() };
        return format!("     Tab: {}{more}", shown.join("  "));
    }
    let name = |p: &std::path::PathBuf| {
        p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
    };
    match d.recent.as_slice() {
        [] => "     Tab completes the path".to_owned(),
        recent => {
            let names: Vec<String> = recent.iter().map(name).collect();
            let at = d.recalled.map_or(String::new(), |i| format!(" ({} of {})", i + 1, recent.len()));
            format!("     ↑↓ opened before{at}: {} · Tab completes", names.join(" · "))
        }
    }
}

/// The preview of your ratings export: what matched, what would change,
/// and every row that did not match (scrollable), before anything is written.
fn history(shared: &Shared, h: &HistoryPreview, area: Rect, buf: &mut Buffer) {
    let (t, p, width) = (shared.theme, &h.preview, area.width as usize);
    let file = h.path.file_name().map_or_else(|| h.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut lines = vec![
        Line::styled(fit(&format!(" Your ratings from {file} ({})", p.format.label()), width), t.header()),
        Line::from(fit(
            &format!(
                "   {} rows: {} matched · {} ambiguous · {} not in {} · {} skipped",
                p.rows,
                p.matched,
                p.ambiguous.len(),
                p.unmatched.len(),
                shared.rec.dataset.name,
                p.skipped
            ),
            width,
        )),
        Line::from(fit(
            &format!("   would add {} new, change {}, leave {} as they are", p.new, p.changed, p.unchanged),
            width,
        )),
    ];
    if p.rounded > 0 {
        lines.push(Line::styled(
            fit(
                &format!(
                    "   {} half stars rounded up to whole stars ({} rates in whole stars)",
                    p.rounded, shared.rec.dataset.name
                ),
                width,
            ),
            t.dim(),
        ));
    }
    lines.push(Line::from(vec![
        Span::styled("   Enter", t.key()),
        Span::raw(" imports them as one batch (u undoes it) · "),
        Span::styled("Esc", t.key()),
        Span::raw(" imports nothing"),
    ]));
    lines.push(Line::default());
    let year = |y: &Option<u16>| y.map(|y| format!(" ({y})")).unwrap_or_default();
    let mut rows: Vec<Line> = Vec::new();
    for a in &p.ambiguous {
        let names: Vec<String> =
            a.candidates.iter().map(|c| format!("{}{}", display(&c.title), year(&c.year))).collect();
        rows.push(Line::from(fit(
            &format!("   line {:>4}  ? {}{}: {}", a.line, a.title, year(&a.year), names.join(" or ")),
            width,
        )));
    }
    for u in &p.unmatched {
        rows.push(Line::styled(
            fit(&format!("   line {:>4}  ✗ {}{}: not in the dataset", u.line, u.title, year(&u.year)), width),
            t.dim(),
        ));
    }
    for (line, why) in &p.malformed {
        rows.push(Line::styled(fit(&format!("   line {line:>4}  ✗ {why}"), width), t.error()));
    }
    if rows.is_empty() {
        lines.push(Line::styled("   every row matched", t.info()));
    } else {
        lines.push(Line::styled(fit(" Rows that will not be imported (j/k to scroll)", width), t.header()));
        let room = (area.height as usize).saturating_sub(lines.len());
        let first = h.scroll.min(rows.len().saturating_sub(room.max(1)));
        lines.extend(rows.into_iter().skip(first).take(room));
    }
    Paragraph::new(lines).render(area, buf);
}

/// ` Downloading MovieLens latest-small: 412 KB of 955 KB     3.1 s` and a bar.
fn progress(shared: &Shared, running: &Running, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let (what, ratio) = match running.stage.clone() {
        None => (starting(&running.job), None),
        Some(Stage::Downloading { done, total: Some(total) }) => (
            format!("Downloading MovieLens latest-small: {} of {}", bytes(done), bytes(total)),
            Some(done as f64 / total.max(1) as f64),
        ),
        Some(Stage::Downloading { done, total: None }) => {
            (format!("Downloading MovieLens latest-small: {}", bytes(done)), None)
        }
        Some(Stage::Importing) => match &running.job {
            Job::Import(_) | Job::Retrain | Job::Reopen { .. } => (starting(&running.job), None),
            Job::Download => ("Importing the download".to_owned(), None),
        },
        Some(Stage::Opening) => ("Starting the engine, restoring the model".to_owned(), None),
        Some(Stage::Training { model, ranking, epoch, epochs, fraction }) => {
            let role = if ranking { "ranking" } else { "rating" };
            // A new dataset trains its models once; `T` trains them again.
            let once = if running.job == Job::Retrain { "" } else { " once" };
            (format!("Training the {role} model ({model}){once}: epoch {epoch} of {epochs}"), Some(fraction))
        }
    };
    let seconds = format!("{:.1} s ", running.elapsed.as_secs_f64());
    let room = (area.width as usize).saturating_sub(seconds.len() + 2);
    let what = fit(&format!(" {what}"), room);
    let pad = " ".repeat((area.width as usize).saturating_sub(what.chars().count() + seconds.len()));
    line(Line::from(vec![Span::styled(what, t.title()), Span::raw(pad), Span::styled(seconds, t.dim())]), area, buf);
    let bar = Rect { x: area.x + 1, y: area.y + 1, width: area.width.saturating_sub(2), height: 1 };
    if let Some(ratio) = ratio.filter(|_| area.height > 1) {
        LineGauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .filled_symbol("█")
            .unfilled_symbol("░")
            .filled_style(t.bar())
            .label(format!("{:>3.0}%", ratio.clamp(0.0, 1.0) * 100.0))
            .render(bar, buf);
    }
}

fn starting(job: &Job) -> String {
    match job {
        Job::Import(path) => format!("Importing {}", path.display()),
        Job::Download => "Downloading MovieLens latest-small".to_owned(),
        Job::Retrain => "Training the models again".to_owned(),
        Job::Reopen { .. } => "Reopening with the built-in engine module".to_owned(),
    }
}

/// The error panel: the whole message, wrapped, and what did not change.
fn failure(shared: &Shared, message: &str, area: Rect, buf: &mut Buffer) {
    let t = shared.theme;
    let text = vec![
        Line::styled(message.to_owned(), t.error()),
        Line::styled(format!("Still on {}: nothing changed.", shared.rec.dataset.name), t.dim()),
    ];
    let block = Block::bordered().title(Span::styled(" ✗ That did not work ", t.error()));
    Paragraph::new(text).wrap(Wrap { trim: true }).block(block).render(area, buf);
}
