//! The frame around every view: the tab line at the top, the status line
//! (toasts) and the context bar of keys at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::ui::format::fit;
use crate::ui::keys;
use crate::ui::state::{App, Level};
use crate::ui::tabs::lab::LabPanel;
use crate::ui::widgets::line;

/// ` Cinema [Browse] For you  Ratings        ml-100k · you · 3 rated`: the
/// name goes first when the line is short, then "you" (the one looking,
/// unless it is someone else), then the dataset's name; who is looking and
/// how much they rated stay longest.
pub fn tabs(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.shared.theme;
    // Tight: one space between tabs, when the line is short.
    let tabs = |tight: bool| -> Vec<Span> {
        let (before, after) = if tight { (" ", "") } else { ("", " ") };
        app.tabs
            .iter()
            .enumerate()
            .map(|(at, tab)| match at == app.tab && !app.overlays.iter().any(|o| o.in_body()) {
                true => Span::styled(format!("{before}[{}]", tab.title()), t.tab_active()),
                false => Span::raw(format!(" {}{after}", tab.title())),
            })
            .collect()
    };
    let who = if app.shared.read_only() {
        format!("{} (read-only)", app.shared.viewer_name())
    } else {
        app.shared.viewer_name()
    };
    let full = format!(" {} · {} · {} rated ", app.shared.rec.dataset.name, who, app.shared.rated.len());
    let short = format!(" {} · {} rated ", who, app.shared.rated.len());
    // "you" goes without saying; someone else does not.
    let mine = match app.shared.read_only() {
        true => short.clone(),
        false => format!(" {} · {} rated ", app.shared.rec.dataset.name, app.shared.rated.len()),
    };
    let width = |spans: &[Span]| spans.iter().map(|s| s.content.chars().count()).sum::<usize>();
    let brand = Span::styled(" Cinema ", t.title());
    let fits = |with_brand: bool, tight: bool, right: &str| {
        width(&tabs(tight)) + if with_brand { brand.content.chars().count() } else { 0 } + right.chars().count()
            <= area.width as usize
    };
    let (with_brand, tight, right) = [
        (true, false, &full),
        (false, false, &full),
        (false, true, &full),
        (false, true, &mine),
        (false, true, &short),
    ]
    .into_iter()
    .find(|(b, tight, r)| fits(*b, *tight, r))
    .unwrap_or((false, true, &short));
    let mut spans = if with_brand { vec![brand] } else { Vec::new() };
    spans.extend(tabs(tight));
    let right = right.clone();
    let used: usize = width(&spans);
    let room = (area.width as usize).saturating_sub(used);
    let right = fit(&right, room);
    spans.push(Span::raw(" ".repeat(room.saturating_sub(right.chars().count()))));
    spans.push(Span::styled(right, if app.shared.read_only() { t.error() } else { t.dim() }));
    line(Line::from(spans), area, buf);
}

/// The latest toast (✓ info, ✗ error), else what the model is (or, on the
/// demo, the way to real data).
pub fn status(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.shared.theme;
    let width = area.width as usize;
    let text = match &app.shared.toast {
        // What went wrong outranks what is under way (a module replaced
        // while the dataset opens, a rating the engine failed to learn).
        Some(toast) if toast.level == Level::Error => {
            Line::styled(fit(&format!(" ✗ {}", toast.text), width), t.error())
        }
        _ if app.shared.rec.loading() => Line::styled(fit(&opening(app), width), t.dim()),
        // The engine thread is learning a change: the lists follow in a
        // moment. Behind a stand-in the first training is the news.
        _ if app.shared.learning && !app.shared.rec.stand_in() => {
            Line::styled(fit(" … learning your ratings", width), t.dim())
        }
        Some(toast) => Line::styled(fit(&format!(" ✓ {}", toast.text), width), t.info()),
        None if app.shared.rec.stand_in() => Line::styled(fit(&first_training(app), width), t.key()),
        None if app.shared.on_demo() => Line::styled(
            fit(" DEMO catalogue (invented titles) · press d to import or download real MovieLens", width),
            t.key(),
        ),
        None => {
            let meta = &app.shared.rec.meta;
            // Which model predicts the stars, and which (if any) orders the lists.
            let ranked = meta.ranking.as_ref().map_or(String::new(), |r| format!(" + {} ranking", r.name()));
            let text = format!(
                " model: {}{ranked} on {} ratings, engine {} · your ratings learn at once",
                meta.algorithm, meta.train_ratings, meta.engine
            );
            Line::styled(fit(&text, width), t.dim())
        }
    };
    line(text, area, buf);
}

/// What shows while the engine loads behind the first frame.
fn opening(app: &App) -> String {
    let kept = if app.shared.rec.stand_in() { "popular movies meanwhile" } else { "your last list meanwhile" };
    format!(
        " … opening {}: the engine loads {} ratings and the model · {kept}",
        app.shared.rec.dataset.name,
        app.shared.rec.dataset.ratings.len()
    )
}

/// Where a first start's models are, while a stand-in serves.
fn first_training(app: &App) -> String {
    let Some(run) = &app.tab::<LabPanel>().run else {
        return " no trained model yet: the lists are popular movies · t, then Enter, trains one".into();
    };
    let step = if run.evaluating {
        "scoring on held-out ratings".to_owned()
    } else {
        let unit = if run.role == cinema_protocol::Role::Ranking { "iteration" } else { "epoch" };
        let refit = if run.refitting { " (refit)" } else { "" };
        format!("{} {unit} {}/{}{refit}", run.algorithm, run.epoch, run.epochs)
    };
    format!(" training your first models: {step} · popular movies until then · t shows it")
}

/// `q quit  ? help  / search  …`: the keys that work here, from the key
/// table. The view's own keys win the room; the bar lists the general ones
/// first.
pub fn context_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.shared.theme;
    let mut used = 1;
    // (how general its context is, key, label), chosen most specific first.
    let mut chosen: Vec<(usize, String, &str)> = Vec::new();
    for (rank, &context) in app.contexts().iter().enumerate() {
        for (key, label) in keys::bar(&[context]) {
            let width = key.chars().count() + label.chars().count() + 3;
            // A key a more specific context answers is that context's here.
            let shadowed = chosen.iter().any(|c| c.1 == key);
            if !shadowed && used + width <= area.width as usize {
                used += width;
                chosen.push((rank, key, label));
            }
        }
    }
    // Shown general first; a stable sort keeps the table's order within a context.
    chosen.sort_by_key(|(rank, ..)| std::cmp::Reverse(*rank));
    let mut spans = vec![Span::raw(" ")];
    for (_, key, label) in chosen {
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    line(Line::from(spans), area, buf);
}
