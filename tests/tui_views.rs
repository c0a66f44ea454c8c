//! The terminal app without a terminal: every view drawn into ratatui's
//! `TestBackend` (80×24 and a larger size) and checked cell by cell, and the
//! app driven with key events — search, filters, rate with instant learning,
//! undo, typing a `q` into the search, browsing as a dataset user, the mouse
//! wheel, and importing another dataset from the Data view (on a worker
//! thread whose reports are fed back as events, as the event loop does).
//!
//! Each test gets its own data directory (so its ratings log is its own);
//! the ML-100K model is trained once and copied in.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cinema::recommender::{ModelOrigin, Recommender};
use cinema::ui::App;
use cinema::ui::event::Event;
use cinema::ui::jobs::Handle;
use cinema::ui::keys::BINDINGS;
use cinema::ui::overlays::detail::Detail;
use cinema::ui::overlays::explain::Explaining;
use cinema::ui::overlays::help::Help;
use cinema::ui::overlays::impact::Impact;
use cinema::ui::tabs::browse::Browse;
use cinema::ui::tabs::data::{DataPanel, Running};
use cinema::ui::tabs::for_you::ForYou;
use cinema::ui::tabs::lab::LabPanel;
use cinema::ui::tabs::versions::Shelf;
use cinema::ui::tabs::watchlist::Watchlist;
use cinema::ui::theme::Theme;
use cinema::ui::work::{DataReport, Job, Launcher, Report, Stage};
use cinema_host::{EngineModule, Limits, Runtime};
use cinema_protocol::{ModelSpec, Progress, Role};
use cinema_store::{Dataset, Home, demo, import};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

use crate::common::shared;

/// Star Wars (1977) in MovieLens 100K.
const STAR_WARS_ID: u32 = 50;

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn limits() -> Limits {
    // Generous: the tests share two cores with each other and other builds.
    Limits { call_deadline: Duration::from_secs(60), ..Limits::default() }
}

struct Fixture {
    runtime: Arc<Runtime>,
    module: Arc<EngineModule>,
    dataset: Dataset,
    /// A data directory holding the trained ML-100K model.
    trained: TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = Runtime::new(None).expect("runtime starts");
        let module = cinema::modules::builtin(&runtime, "cinema-default").expect("the default module compiles");
        let dataset = import(&shared().join("datasets/ml-100k")).expect("ML-100K imports");
        let trained = TempDir::new().unwrap();
        let home = Home::resolve(Some(trained.path().to_path_buf())).unwrap();
        Recommender::open(&home, &runtime, &module, limits(), dataset.clone(), |_, _, _| {}).expect("the model trains");
        Fixture { runtime: Arc::new(runtime), module: Arc::new(module), dataset, trained }
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A fresh app on ML-100K with no ratings of yours, in its own data directory.
fn fresh_app() -> (App, TempDir) {
    let (app, dir) = app_on(fixture().dataset.clone());
    assert_eq!(app.shared.rec.origin, cinema::recommender::ModelOrigin::Loaded, "the trained model is reused");
    (app, dir)
}

/// A fresh app on `dataset` in its own data directory, which holds the
/// trained ML-100K model (a switch to ML-100K restores it).
fn app_on(dataset: Dataset) -> (App, TempDir) {
    let f = fixture();
    let dir = TempDir::new().unwrap();
    copy_dir(&f.trained.path().join("models"), &dir.path().join("models"));
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let rec = Recommender::open(&home, &f.runtime, &f.module, limits(), dataset, |_, _, _| {}).unwrap();
    let mut app = App::new(rec);
    app.shared.theme = Theme::plain();
    (app, dir)
}

/// Lets `app` import into its data directory; its reports come on the receiver.
fn attach(app: &mut App, dir: &TempDir) -> Receiver<Event> {
    let f = fixture();
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let (tx, rx) = mpsc::channel();
    app.attach(Launcher::new(home, f.runtime.clone(), f.module.clone(), limits()), tx);
    rx
}

/// Feeds the worker's reports to the app, as the event loop does, until the
/// work is over; returns the stages reported.
fn finish_work(app: &mut App, rx: &Receiver<Event>) -> Vec<Stage> {
    let mut stages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    // The job, then any answer the engine thread still owes the screen.
    while app.tab::<DataPanel>().running.is_some() || app.shared.learning {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = rx.recv_timeout(left).expect("the worker reports before the deadline");
        if let Event::Work(Report::Data(_, DataReport::Stage(stage))) = &event {
            stages.push(stage.clone());
        }
        app.handle(event);
    }
    stages
}

fn star_wars(app: &App) -> u32 {
    app.shared.rec.dataset.movie_index(STAR_WARS_ID).expect("Star Wars is in ML-100K")
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ctrl(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// The screen as text, one line per row (trailing spaces trimmed).
fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| cinema::ui::draw(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>().trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn row_of<'s>(screen: &'s str, needle: &str) -> &'s str {
    screen.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

/// Hides what the trained model decides (its numbers and the titles it picks), keeping the layout.
fn mask_model(screen: &str, from_line: usize) -> String {
    screen
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i < from_line {
                l.to_owned()
            } else {
                l.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Columns `from..to` of every line.
fn columns(screen: &str, from: usize, to: usize) -> String {
    screen.lines().map(|l| l.chars().skip(from).take(to - from).collect::<String>()).collect::<Vec<_>>().join("\n")
}

fn recommended_items(app: &App) -> Vec<u32> {
    app.shared.recs.iter().map(|s| s.item).collect()
}

// --- Views -------------------------------------------------------------------

#[test]
fn browse_at_80x24_shows_the_catalogue_with_every_column() {
    let (app, _dir) = fresh_app();
    let s = screen(&app, 80, 24);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].contains("[Browse]") && lines[0].contains("ml-100k ·") && lines[0].contains("0 rated"), "{s}");
    for header in ["Title", "Year", "Genres", "Mean", "Votes", "You", "Pred"] {
        assert!(lines[2].contains(header), "header lacks {header}: {s}");
    }
    // Most rated first; the selection is marked with a symbol, not colour alone.
    let first = row_of(&s, "▶ ");
    assert!(first.contains("Star Wars") && first.contains("1977") && first.contains("4.36") && first.contains("583"));
    assert!(s.contains("Most watched"), "cold start heading: {s}");
    assert!(lines[23].contains("q quit") && lines[23].contains("? help"), "context bar: {s}");
    assert_eq!(lines.len(), 24);
}

#[test]
fn browse_with_an_active_search_80x24() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "star wars");
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, "Search:").contains("star wars▌"), "{s}");
    assert!(row_of(&s, "▶ ").contains("Star Wars"), "{s}");
    assert!(row_of(&s, "Enter").contains("Enter done") && s.contains("Esc cancel"), "typing keys in the bar: {s}");
    // The layout, with what the model decides masked out.
    insta::assert_snapshot!("browse_search_80x24", mask_model(&s, 3));
}

#[test]
fn detail_of_star_wars() {
    let (mut app, _dir) = fresh_app();
    app.open(star_wars(&app));
    let s = screen(&app, 80, 24);
    assert!(s.contains("Star Wars (1977)"), "{s}");
    assert!(s.contains("Action · Adventure · Romance · Sci-Fi · War"), "{s}");
    assert!(s.contains("Tags: none"), "{s}");
    assert!(s.contains("mean 4.36 from 583 ratings"), "{s}");
    assert!(s.contains("Your rating: not rated"), "{s}");
    // The distribution: 325 fives … 9 ones, biggest bar for the fives.
    let five = row_of(&s, " 5 ★ ");
    assert!(five.contains("325") && five.contains("56%"), "{s}");
    assert!(row_of(&s, " 1 ★ ").contains("   9 "), "{s}");
    assert!(five.matches('█').count() > row_of(&s, " 4 ★ ").matches('█').count());
    // Your predicted stars, the same figure as For you's Pred column.
    let predicted = app.shared.predicted[star_wars(&app) as usize];
    assert!(row_of(&s, "Predicted for you:").contains(&format!("{predicted:.2} (e: why)")), "{s}");
    if let Some(listed) = app.shared.recs.iter().find(|r| r.item == star_wars(&app)) {
        assert_eq!(format!("{:.2}", listed.prediction), format!("{predicted:.2}"));
    }
    // Beside the chart: movies alike in content, then liked by the same people.
    // Titles as people write them: MovieLens's `Empire Strikes Back, The`.
    let alike = app.overlay::<Detail>().and_then(|d| d.alike.clone()).expect("the similar movies came");
    let titles = |list: &[(u32, f32)]| -> Vec<String> {
        list.iter()
            .map(|&(m, _)| cinema_store::history::titles::display(&app.shared.rec.dataset.movies[m as usize].title))
            .collect()
    };
    let (content, cf) = (titles(&alike.content), titles(&alike.cf));
    assert_eq!((content.len(), cf.len()), (10, 10), "{content:?} {cf:?}");
    assert!(content.iter().filter(|t| t.starts_with("Star Trek")).count() >= 3, "{content:?}");
    assert!(cf.contains(&"Return of the Jedi".into()) && cf.contains(&"The Empire Strikes Back".into()), "{cf:?}");
    assert!(row_of(&s, "How people rated it").contains("Alike in genres, words, tags"), "{s}");
    assert!(row_of(&s, " 5 ★ ").contains(&format!("  {} (", content[0])), "{s}");
    assert!(row_of(&s, " 3 ★ ").contains("Liked by the same people"), "{s}");
    assert!(row_of(&s, " 2 ★ ").contains(&format!("  {} (", cf[0])), "{s}");
    // The strip below is the model's.
    let top: String = s.lines().take(17).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("detail_star_wars_80x24", top);
}

/// ↓ selects among the similar movies (content, then taste), Enter opens
/// the selected one, Esc goes back to Star Wars and then to the list.
#[test]
fn a_similar_movie_opens_from_the_detail_view_and_esc_comes_back() {
    let (mut app, _dir) = fresh_app();
    let star_wars = star_wars(&app);
    app.open(star_wars);
    let alike = app.overlay::<Detail>().and_then(|d| d.alike.clone()).expect("the similar movies came");
    press(&mut app, KeyCode::Down);
    assert!(row_of(&screen(&app, 80, 24), "▶").contains(&title_of(&app, alike.content[0].0)));
    // Past the content list into the taste list: its first is Empire or Jedi.
    for _ in 0..alike.content.len() {
        press(&mut app, KeyCode::Down);
    }
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, "▶").contains(&title_of(&app, alike.cf[0].0)), "{s}");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay::<Detail>().map(|d| d.movie), Some(alike.cf[0].0));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay::<Detail>().map(|d| d.movie), Some(star_wars), "back to the movie it was opened from");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay::<Detail>().map(|d| d.movie), None, "then back to the list");
}

/// The title the app shows for `movie`, without its year.
fn title_of(app: &App, movie: u32) -> String {
    cinema_store::history::titles::display(&app.shared.rec.dataset.movies[movie as usize].title)
}

/// ML-100K opened in `dir` with the engine loading behind; its outcome
/// comes on the receiver, which the app's other events share.
fn open_behind(
    dir: &TempDir,
    on_progress: impl FnMut(&ModelSpec, Role, &Progress) + Send + 'static,
) -> (Recommender, mpsc::Sender<Event>, Receiver<Event>) {
    let f = fixture();
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let (tx, rx) = mpsc::channel();
    let opened = tx.clone();
    let tell = move |d, o| {
        let _ = opened.send(Event::Opened(d, Box::new(o)));
    };
    let rec = Recommender::open_behind(&home, &f.runtime, &f.module, limits(), f.dataset.clone(), on_progress, tell);
    (rec.unwrap(), tx, rx)
}

/// Gives `app` its worker and feeds it events until the engine has opened
/// the dataset and answered.
fn attach_while_loading(app: &mut App, dir: &TempDir, tx: mpsc::Sender<Event>, rx: &Receiver<Event>) {
    let f = fixture();
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    app.attach(Launcher::new(home, f.runtime.clone(), f.module.clone(), limits()), tx);
    while app.shared.rec.loading() || app.shared.learning {
        app.handle(rx.recv_timeout(Duration::from_secs(600)).expect("the engine opens the dataset"));
    }
}

/// A first start in the app: the first frame comes before the engine has
/// loaded anything (the popular list), a stand-in then serves (ratings are
/// kept), the module's default models train as a Lab run behind the screen,
/// and its end swaps them in as the first, scored version.
#[test]
fn a_first_start_serves_a_stand_in_then_swaps_in_the_trained_models() {
    let dir = TempDir::new().unwrap();
    let no_training = |_: &ModelSpec, _: Role, _: &Progress| panic!("no training before the first frame");
    let (rec, tx, rx) = open_behind(&dir, no_training);
    assert!(rec.stand_in() && rec.meta.algorithm == "baseline" && rec.meta.id == 0, "{:?}", rec.meta);
    assert!(rec.versions().ids().unwrap().is_empty(), "a stand-in is not a version");
    let mut app = App::new(rec);
    app.shared.theme = Theme::plain();
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("opening ml-100k: the engine loads 100000 ratings") && s.contains("popular movies meanwhile"),
        "{s}"
    );
    let popular = recommended_items(&app);
    assert_eq!(popular.len(), 50, "the popular list, before the engine answers");

    attach_while_loading(&mut app, &dir, tx, &rx);
    let s = screen(&app, 100, 30);
    assert!(s.contains("Popular and well rated, for now"), "{s}");
    assert!(s.contains("training your first models: svd epoch"), "{s}");
    assert_eq!(recommended_items(&app), popular, "the stand-in's list is the same popular list");
    // A rating while they train is saved (and learned by the stand-in).
    let sw = star_wars(&app);
    app.open(sw);
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.shared.rec.your_ratings().get(&STAR_WARS_ID).map(|e| e.value), Some(5.0));
    let deadline = Instant::now() + Duration::from_secs(600);
    while app.tab::<LabPanel>().run.is_some() || app.shared.learning {
        let left = deadline.saturating_duration_since(Instant::now());
        app.handle(rx.recv_timeout(left).expect("the first training reports before the deadline"));
    }
    let meta = &app.shared.rec.meta;
    assert!(
        !app.shared.rec.stand_in() && meta.id == 1 && meta.algorithm == "svd" && meta.ranking.is_some(),
        "{meta:?}"
    );
    assert!(meta.metrics.is_some(), "scored on the held-out tenth");
    assert_eq!(app.shared.rec.versions().ids().unwrap(), vec![1]);
    press(&mut app, KeyCode::Esc);
    let s = screen(&app, 100, 30);
    assert!(s.contains("the first models are trained (v1: svd + rankblend)"), "{s}");
    assert!(s.contains(" For you ") && !s.contains("for now"), "{s}");
    assert!(!recommended_items(&app).contains(&sw), "what you rated is not recommended");
}

/// A later start draws the list last shown before the engine has loaded
/// the saved model, and the engine's answer, when it comes, is that list.
#[test]
fn a_start_draws_the_last_list_while_the_engine_loads_the_model() {
    let (mut app, dir) = fresh_app();
    let sw = star_wars(&app);
    app.open(sw);
    press(&mut app, KeyCode::Char('5'));
    let shown = (recommended_items(&app), app.shared.predicted.clone());
    drop(app);

    let (rec, tx, rx) = open_behind(&dir, |_, _, _| {});
    assert!(rec.loading() && rec.origin == ModelOrigin::Loaded && rec.meta.id == 1, "{:?}", rec.meta);
    let mut app = App::new(rec);
    app.shared.theme = Theme::plain();
    let s = screen(&app, 120, 30);
    assert!(s.contains("opening ml-100k") && s.contains("your last list meanwhile"), "{s}");
    assert_eq!((recommended_items(&app), app.shared.predicted.clone()), shown, "the kept list and predictions");
    attach_while_loading(&mut app, &dir, tx, &rx);
    assert_eq!(recommended_items(&app), shown.0, "the engine's answer is the list kept");
    let s = screen(&app, 120, 30);
    assert!(!s.contains("opening ml-100k") && s.contains("model: svd + rankblend ranking"), "{s}");
}

#[test]
fn recommendations_view_cold_start_then_for_you() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(app.tab_title(), "For you");
    let s = screen(&app, 80, 24);
    assert!(s.contains("[For you]") && s.contains("Most watched"), "{s}");
    // Ranked by the ranking model's average viewer, blended with no content (nothing liked yet).
    assert!(s.contains("by 0.8·CF + 0.2·content"), "{s}");
    for header in ["#", "Title", "Pred", "CF", "Cont"] {
        assert!(row_of(&s, "Title").contains(header), "{s}");
    }
    assert!(app.shared.parts.iter().all(|&(_, content)| content == 0.0), "{:?}", app.shared.parts);
    let wide = screen(&app, 120, 24);
    assert!(wide.contains("content 0: nothing liked yet"), "{wide}");
    // Most watched: well-known films, not a film eight people loved.
    let top: Vec<u32> =
        app.shared.recs.iter().take(10).map(|r| app.shared.rec.stats().count[r.item as usize]).collect();
    assert!(top.iter().all(|&n| n >= 100), "the cold-start top 10 are popular: {top:?}");
    assert!(row_of(&s, "▶ ").contains(" 1 "), "{s}");

    let sw = star_wars(&app);
    app.open(sw);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Esc);
    let s = screen(&app, 120, 24);
    assert!(
        s.contains(" For you · top 50 · by 0.8·CF + 0.2·content ([ ]) · diversity 0.2 ({ }) · without the 1 rated"),
        "{s}"
    );
    assert!(!recommended_items(&app).contains(&sw), "what you rated is not recommended");
}

#[test]
fn your_ratings_view() {
    let (mut app, _dir) = fresh_app();
    let s = screen(&app, 80, 24);
    assert!(!s.contains("Your ratings ·"));
    press(&mut app, KeyCode::Char('m'));
    let s = screen(&app, 80, 24);
    assert!(s.contains("Your ratings · 0") && s.contains("nothing rated yet"), "{s}");
    app.open(star_wars(&app));
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Esc);
    let s = screen(&app, 80, 24);
    assert!(s.contains("Your ratings · 1"), "{s}");
    let row = row_of(&s, "▶ ");
    assert!(row.contains("★4") && row.contains("Star Wars") && row.contains("1977"), "{s}");
    for header in ["Yours", "Title", "Pred", "Rated on"] {
        assert!(row_of(&s, "Rated on").contains(header), "{s}");
    }
    // Edit in place, then remove.
    press(&mut app, KeyCode::Char('2'));
    assert!(row_of(&screen(&app, 80, 24), "▶ ").contains("★2"));
    press(&mut app, KeyCode::Char('x'));
    let s = screen(&app, 80, 24);
    assert!(s.contains("Your ratings · 0") && app.shared.rec.your_ratings().is_empty(), "{s}");
}

#[test]
fn help_overlay_lists_every_key_from_the_key_table() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('?'));
    let first = screen(&app, 80, 24);
    assert!(first.contains("Help · every key · Esc closes"), "{first}");
    // The popup only: what is behind it is the model's.
    insta::assert_snapshot!("help_80x24", columns(&first, 4, 76));
    // Scroll to the end, collecting every line shown.
    let mut seen = first.clone();
    for _ in 0..200 {
        press(&mut app, KeyCode::Char('j'));
        seen.push_str(&screen(&app, 80, 24));
    }
    for b in BINDINGS {
        assert!(seen.contains(b.description), "help lacks {:?}", b.description);
        assert!(seen.contains(&b.keys_label()), "help lacks the keys {:?}", b.keys_label());
    }
    press(&mut app, KeyCode::Esc);
    assert!(!screen(&app, 80, 24).contains("Help · every key"));
    // F1 opens it too, even while typing a search.
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::F(1));
    assert!(screen(&app, 80, 24).contains("Help · every key"));
}

#[test]
fn a_larger_terminal_puts_recommendations_beside_the_table() {
    let (mut app, _dir) = fresh_app();
    let s = screen(&app, 140, 40);
    let first = row_of(&s, "▶ ");
    assert!(first.contains("Star Wars") && first.contains("│"), "the side pane shares the row: {s}");
    assert!(row_of(&s, "Most watched").contains("┌"), "{s}");
    assert_eq!(s.lines().filter(|l| l.contains("▶ ")).count(), 1);
    app.open(star_wars(&app));
    let s = screen(&app, 140, 40);
    assert!(row_of(&s, "Star Wars (1977)").contains("Most watched"), "{s}");
}

#[test]
fn any_size_draws_without_panicking_and_tiny_ones_say_so() {
    let (mut app, _dir) = fresh_app();
    for (w, h) in [(1, 1), (20, 5), (39, 24), (40, 10), (55, 14), (80, 24), (81, 25), (109, 30), (110, 30), (250, 70)] {
        for tab in ["b", "r", "m"] {
            press(&mut app, KeyCode::Char(tab.chars().next().unwrap()));
            screen(&app, w, h);
        }
        app.open(star_wars(&app));
        screen(&app, w, h);
        app.overlays.clear();
        press(&mut app, KeyCode::Char('?'));
        screen(&app, w, h);
        press(&mut app, KeyCode::Esc);
    }
    assert!(screen(&app, 30, 8).contains("needs at least"));
}

// --- Behaviour -----------------------------------------------------------------

#[test]
fn searching_star_wars_narrows_to_star_wars() {
    let (mut app, _dir) = fresh_app();
    let all = app.tab::<Browse>().rows.len();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "star wars");
    assert!(app.tab::<Browse>().typing);
    assert!(app.tab::<Browse>().rows.len() < all / 10, "{} of {all} rows left", app.tab::<Browse>().rows.len());
    assert_eq!(app.selected_movie(), Some(star_wars(&app)), "best match first and selected");
    // Enter keeps the results; Enter again opens the movie; Esc comes back.
    press(&mut app, KeyCode::Enter);
    assert!(!app.tab::<Browse>().typing && app.tab::<Browse>().query.text == "star wars");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay::<Detail>().map(|d| d.movie), Some(star_wars(&app)));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay::<Detail>().map(|d| d.movie), None);
    // Esc in browse clears the search.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.tab::<Browse>().rows.len(), all);
}

#[test]
fn q_while_searching_types_a_q_and_ctrl_c_always_quits() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "quiz");
    assert!(!app.quit);
    assert_eq!(app.tab::<Browse>().query.text, "quiz");
    assert!(
        app.tab::<Browse>()
            .rows
            .iter()
            .all(|&m| app.shared.rec.dataset.movies[m as usize].title.to_lowercase().contains('q'))
    );
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.tab::<Browse>().query.text, "qui");
    ctrl(&mut app, 'u');
    assert_eq!(app.tab::<Browse>().query.text, "");
    press(&mut app, KeyCode::Esc);
    assert!(!app.tab::<Browse>().typing);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit, "q quits outside the search");

    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('/'));
    ctrl(&mut app, 'c');
    assert!(app.quit, "Ctrl-c quits even while typing");
}

#[test]
fn rating_star_wars_5_changes_the_recommendations_at_once_and_undo_restores() {
    let (mut app, _dir) = fresh_app();
    let sw = star_wars(&app);
    let before = recommended_items(&app);
    let strip_before = screen(&app, 80, 24);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "star wars");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('5'));

    assert_eq!(app.shared.rec.your_ratings().get(&STAR_WARS_ID).map(|e| e.value), Some(5.0));
    let after = recommended_items(&app);
    assert_ne!(before, after, "the recommendations changed in the same update");
    assert!(!after.contains(&sw));
    let s = screen(&app, 80, 24);
    assert_ne!(strip_before, s);
    assert!(s.contains(" For you ") && !s.contains("Most watched"), "{s}");
    assert!(row_of(&s, "▶ ").contains("★5"), "the rating shows in the row: {s}");
    assert!(row_of(&s, "✓").contains("Star Wars (1977): unrated → ★5 · saved and learned in"), "{s}");
    assert_eq!(app.selected_movie(), Some(sw), "the selection stays on the rated movie");

    press(&mut app, KeyCode::Char('u'));
    assert!(app.shared.rec.your_ratings().is_empty());
    assert_eq!(recommended_items(&app), before, "undo restores the list");
    assert!(row_of(&screen(&app, 80, 24), "✓").contains("★5 → unrated"));
    press(&mut app, KeyCode::Char('u'));
    assert!(row_of(&screen(&app, 80, 24), "✓").contains("nothing to undo"));
}

#[test]
fn half_stars_are_refused_on_a_whole_star_dataset() {
    let (mut app, _dir) = fresh_app();
    app.open(star_wars(&app));
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('.'));
    assert_eq!(app.shared.rec.your_ratings().get(&STAR_WARS_ID).map(|e| e.value), Some(4.0));
    assert!(row_of(&screen(&app, 80, 24), "✗").contains("whole stars"));
}

#[test]
fn sorting_filtering_and_moving() {
    let (mut app, _dir) = fresh_app();
    let all = app.tab::<Browse>().rows.len();
    press(&mut app, KeyCode::Char('f'));
    let genre = app.tab::<Browse>().query.genre.expect("a genre is chosen");
    let name = app.shared.rec.dataset.genres[genre].clone();
    assert!(app.tab::<Browse>().rows.len() < all);
    assert!(
        app.tab::<Browse>().rows.iter().all(|&m| app.shared.rec.dataset.movies[m as usize].genres & (1 << genre) != 0)
    );
    assert!(screen(&app, 80, 24).contains(&format!("genre: {name}")));
    press(&mut app, KeyCode::Char('F'));
    assert_eq!((app.tab::<Browse>().query.genre, app.tab::<Browse>().rows.len()), (None, all));

    press(&mut app, KeyCode::Char('s'));
    let means: Vec<f32> =
        app.tab::<Browse>().rows.iter().take(50).map(|&m| app.shared.rec.stats().mean[m as usize]).collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "sorted by mean, high first");
    press(&mut app, KeyCode::Char('S'));
    let means: Vec<f32> =
        app.tab::<Browse>().rows.iter().take(50).map(|&m| app.shared.rec.stats().mean[m as usize]).collect();
    assert!(means.windows(2).all(|w| w[0] <= w[1]), "reversed");

    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.tab::<Browse>().cursor.selected, 2);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.tab::<Browse>().cursor.selected, all - 1);
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.tab::<Browse>().cursor.selected, 0);
    screen(&app, 80, 24); // learns the page height
    ctrl(&mut app, 'd');
    assert!(app.tab::<Browse>().cursor.selected > 3);
    press(&mut app, KeyCode::PageDown);
    press(&mut app, KeyCode::PageUp);
    ctrl(&mut app, 'u');
    assert_eq!(app.tab::<Browse>().cursor.selected, 0);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.tab_title(), "For you");
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab_title(), "Marked", "back from the first tab wraps to the last");
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab_title(), "Versions");
    // Alt and a digit: the tab at that place on the line.
    for (digit, title) in ('1'..='8').zip(app.tabs.iter().map(|t| t.title()).collect::<Vec<_>>()) {
        app.handle_key(KeyEvent::new(KeyCode::Char(digit), KeyModifiers::ALT));
        assert_eq!(app.tab_title(), title, "Alt-{digit}");
    }
}

#[test]
fn browsing_as_a_dataset_user_is_read_only() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "1");
    press(&mut app, KeyCode::Enter);
    let user = app.shared.rec.dataset.user_index(1).unwrap();
    assert_eq!(app.shared.viewer_user(), user);
    let theirs = app.shared.rec.dataset.ratings.iter().filter(|r| r.user == user).count();
    assert_eq!(app.shared.rated.len(), theirs);
    let s = screen(&app, 80, 24);
    assert!(s.contains("user 1 (read-only)") && s.contains("For user 1"), "{s}");
    let recs = recommended_items(&app);
    assert!(recs.iter().all(|m| !app.shared.viewer_ratings.contains_key(m)), "their rated movies are excluded");

    press(&mut app, KeyCode::Char('5'));
    assert!(app.shared.rec.your_ratings().is_empty(), "read-only");
    assert!(row_of(&screen(&app, 80, 24), "✗").contains("read-only"));

    press(&mut app, KeyCode::Char('m'));
    assert!(screen(&app, 80, 24).contains(&format!("Ratings of user 1 · {theirs} · read-only")));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.shared.viewer_user(), app.shared.rec.you());
    assert!(!app.shared.read_only());

    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "99999");
    press(&mut app, KeyCode::Enter);
    assert!(row_of(&screen(&app, 80, 24), "✗").contains("no user `99999`"));
    assert!(!app.shared.read_only());
}

#[test]
fn the_year_filter_steps_through_decades_newest_first() {
    let (mut app, _dir) = fresh_app();
    let all = app.tab::<Browse>().rows.len();
    let decade_of = |app: &App, m: u32| app.shared.rec.dataset.movies[m as usize].year.map(|y| y - y % 10);
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.tab::<Browse>().query.decade, Some(1990), "ML-100K's newest decade");
    assert!(
        app.tab::<Browse>().rows.len() < all
            && app.tab::<Browse>().rows.iter().all(|&m| decade_of(&app, m) == Some(1990))
    );
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, "years: 1990s").contains(&format!("{} of {all}", app.tab::<Browse>().rows.len())), "{s}");
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.tab::<Browse>().query.decade, Some(1980));
    let eighties = app.tab::<Browse>().rows.clone();
    assert!(eighties.iter().all(|&m| decade_of(&app, m) == Some(1980)));
    // With a genre too: both filters hold.
    press(&mut app, KeyCode::Char('f'));
    let genre = app.tab::<Browse>().query.genre.unwrap();
    assert!(app.tab::<Browse>().rows.len() < eighties.len());
    assert!(
        app.tab::<Browse>().rows.iter().all(|&m| app.shared.rec.dataset.movies[m as usize].genres & (1 << genre) != 0)
    );
    assert!(app.tab::<Browse>().rows.iter().all(|&m| decade_of(&app, m) == Some(1980)));
    press(&mut app, KeyCode::Char('F'));
    press(&mut app, KeyCode::Char('Y'));
    assert_eq!(app.tab::<Browse>().query.decade, Some(1990));
    press(&mut app, KeyCode::Char('Y'));
    assert_eq!(
        (app.tab::<Browse>().query.decade, app.tab::<Browse>().rows.len()),
        (None, all),
        "past the newest decade: all years again"
    );
    assert!(screen(&app, 80, 24).contains("years: all"));
    press(&mut app, KeyCode::Char('Y'));
    let oldest = app.tab::<Browse>().query.decade.expect("backwards from all: the oldest decade");
    assert!(app.shared.rec.dataset.movies.iter().filter_map(|m| m.year).all(|y| y >= oldest));
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        (app.tab::<Browse>().query.decade, app.tab::<Browse>().rows.len()),
        (None, all),
        "Esc clears the filters"
    );
}

#[test]
fn the_mouse_wheel_scrolls_lists_and_the_help() {
    let (mut app, _dir) = fresh_app();
    screen(&app, 80, 24);
    assert!(app.handle(Event::Scroll(3)));
    assert_eq!(app.tab::<Browse>().cursor.selected, 3);
    app.handle(Event::Scroll(-3));
    app.handle(Event::Scroll(-3));
    assert_eq!(app.tab::<Browse>().cursor.selected, 0, "stops at the top");
    press(&mut app, KeyCode::Char('r'));
    app.handle(Event::Scroll(3));
    assert_eq!(
        (app.tab::<Browse>().cursor.selected, app.tab::<ForYou>().cursor.selected),
        (0, 3),
        "the list on screen scrolls"
    );
    press(&mut app, KeyCode::Char('?'));
    let top = screen(&app, 80, 24);
    app.handle(Event::Scroll(3));
    assert_eq!(
        (app.overlay::<Help>().map(|h| h.scroll), app.tab::<ForYou>().cursor.selected),
        (Some(3), 3),
        "the help scrolls, not the list under it"
    );
    assert_ne!(screen(&app, 80, 24), top);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Enter);
    assert!(!app.handle(Event::Scroll(3)), "the detail view does not scroll");
}

// --- Data: import and download ---------------------------------------------------

#[test]
fn data_view_80x24() {
    let (mut app, _dir) = fresh_app();
    app.shared.source = Some(PathBuf::from("/data/ml-100k"));
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.tab_title(), "Data");
    let s = screen(&app, 80, 24);
    assert!(s.contains("[Data]") && row_of(&s, "Now:").contains("ml-100k — /data/ml-100k"), "{s}");
    assert!(row_of(&s, "movies ·").contains("1682 movies · 943 users · 100000 ratings · whole stars"), "{s}");
    assert!(row_of(&s, " q quit").contains("i import") && s.contains("D download"), "the Data keys in the bar: {s}");
    insta::assert_snapshot!("data_80x24", s);

    // `i` opens the path input; letters are text there, not keys.
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "~/Downloads/ml-latest-small.zip");
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, "   > ").contains("~/Downloads/ml-latest-small.zip▌"), "{s}");
    assert!(row_of(&s, "Enter").contains("Enter import") && s.contains("Esc cancel"), "{s}");
    assert_eq!(app.tab_title(), "Data", "d and D were typed, not obeyed");
    insta::assert_snapshot!("data_typing_a_path_80x24", s);
    press(&mut app, KeyCode::Esc);
    assert!(app.tab::<DataPanel>().input.is_none() && app.tab::<DataPanel>().running.is_none());
}

#[test]
fn data_view_shows_progress_80x24() {
    let (mut app, _dir) = fresh_app();
    app.shared.source = Some(PathBuf::from("/data/ml-100k"));
    press(&mut app, KeyCode::Char('d'));
    // The state a worker's reports leave behind, set directly: the view is a function of it.
    app.tab_mut::<DataPanel>().running = Some(Running {
        id: Handle::default().id(),
        job: Job::Download,
        stage: Some(Stage::Downloading { done: 412_000, total: Some(978_202) }),
        started: Instant::now(),
        elapsed: Duration::from_millis(3_100),
    });
    let s = screen(&app, 80, 24);
    let label = row_of(&s, "Downloading MovieLens latest-small: 412 KB of 978 KB");
    assert!(label.ends_with("3.1 s"), "{s}");
    let bar = row_of(&s, "42%");
    assert!(bar.contains('█') && bar.contains('░'), "{s}");
    insta::assert_snapshot!("data_downloading_80x24", s);

    let running = app.tab_mut::<DataPanel>().running.as_mut().unwrap();
    running.stage = Some(Stage::Training { model: "svd".into(), ranking: false, epoch: 30, epochs: 60, fraction: 0.5 });
    let s = screen(&app, 80, 24);
    assert!(s.contains("Training the rating model (svd) once: epoch 30 of 60") && s.contains("50%"), "{s}");
    let running = app.tab_mut::<DataPanel>().running.as_mut().unwrap();
    running.stage = Some(Stage::Training { model: "ials".into(), ranking: true, epoch: 3, epochs: 15, fraction: 0.2 });
    let s = screen(&app, 80, 24);
    assert!(s.contains("Training the ranking model (ials) once: epoch 3 of 15") && s.contains("20%"), "{s}");
}

#[test]
fn importing_ml_100k_from_the_data_view_switches_to_it_and_remembers_it() {
    let (mut app, dir) = app_on(demo::catalogue());
    let rx = attach(&mut app, &dir);
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, "DEMO catalogue").contains("press d to import"), "the demo points to real data: {s}");
    // Something to lose if the switch went wrong: a rating on the demo.
    press(&mut app, KeyCode::Char('4'));
    assert_eq!(app.shared.rec.your_ratings().len(), 1);

    let ml100k = shared().join("datasets/ml-100k");
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &ml100k.display().to_string());
    press(&mut app, KeyCode::Enter);
    assert!(app.tab::<DataPanel>().running.is_some(), "the import runs in the background");
    assert_eq!(app.shared.rec.dataset.name, "demo", "the demo stays until the new dataset is open");
    let stages = finish_work(&mut app, &rx);

    assert!(stages.contains(&Stage::Importing) && stages.contains(&Stage::Opening), "{stages:?}");
    assert_eq!((app.shared.rec.dataset.name.as_str(), app.shared.rec.dataset.movies.len()), ("ml-100k", 1682));
    assert_eq!(
        (app.tab_title(), app.tab::<Browse>().rows.len(), app.tab::<DataPanel>().error.as_deref()),
        ("Browse", 1682, None)
    );
    assert!(app.shared.rec.your_ratings().is_empty(), "your ML-100K ratings, not the demo's");
    assert_eq!(app.shared.source.as_deref(), Some(ml100k.as_path()));
    let s = screen(&app, 80, 24);
    let top = s.lines().next().unwrap();
    assert!(top.contains("ml-100k ·") && top.contains("0 rated"), "{s}");
    assert!(row_of(&s, "✓").contains("now on ml-100k: 1682 movies"), "{s}");
    assert!(row_of(&s, "▶ ").contains("Star Wars"), "{s}");
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    assert_eq!(home.active_dataset(), Some(std::path::absolute(&ml100k).unwrap()), "the next start opens it");

    // Ratings work on the new dataset, through the new engine.
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.shared.rec.your_ratings().get(&STAR_WARS_ID).map(|e| e.value), Some(5.0), "saved at once");
    assert!(app.shared.learning, "learned on the engine thread, not while the key is handled");
    finish_work(&mut app, &rx);
    assert!(!recommended_items(&app).contains(&star_wars(&app)));
    assert!(row_of(&screen(&app, 80, 24), "✓").contains("saved and learned in"));

    // The path box offers the dataset opened before (↑) and completes paths (Tab).
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "typed");
    press(&mut app, KeyCode::Up);
    let opened = std::path::absolute(&ml100k).unwrap().display().to_string();
    assert_eq!(app.tab::<DataPanel>().input.as_deref(), Some(opened.as_str()));
    assert!(row_of(&screen(&app, 120, 40), "opened before").contains("(1 of 1): ml-100k"));
    press(&mut app, KeyCode::Up);
    assert_eq!(app.tab::<DataPanel>().input.as_deref(), Some(opened.as_str()), "nothing older");
    press(&mut app, KeyCode::Down);
    assert_eq!(app.tab::<DataPanel>().input.as_deref(), Some("typed"), "↓ brings back what was typed");
    ctrl(&mut app, 'u');
    type_text(&mut app, &format!("{}/ml-", shared().join("datasets").display()));
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.tab_title(), "Data", "Tab completes here; it does not switch views");
    let s = screen(&app, 120, 40);
    assert!(row_of(&s, "Tab: ").contains("ml-100k/") && row_of(&s, "Tab: ").contains("ml-latest-small/"), "{s}");
    type_text(&mut app, "1");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.tab::<DataPanel>().input.clone().unwrap(),
        format!("{}/ml-100k/", shared().join("datasets").display())
    );
    press(&mut app, KeyCode::Esc);

    // Training the models again runs on the engine thread too, with progress in the Data view.
    press(&mut app, KeyCode::Char('T'));
    assert_eq!(app.tab::<DataPanel>().running.as_ref().map(|r| r.job.clone()), Some(Job::Retrain));
    let stages = finish_work(&mut app, &rx);
    let trained: Vec<(&str, bool)> = stages
        .iter()
        .filter_map(|s| match s {
            Stage::Training { model, ranking, .. } => Some((model.as_str(), *ranking)),
            _ => None,
        })
        .collect();
    assert!(trained.contains(&("svd", false)) && trained.contains(&("rankblend", true)), "{stages:?}");
    assert!(row_of(&screen(&app, 80, 24), "✓").contains("svd trained again in"));
    assert!(!recommended_items(&app).contains(&star_wars(&app)), "your rating is folded into the new model");
}

/// u.item and u.data of two movies; line 3 of u.data has three fields.
fn malformed_ml100k(dir: &Path) -> PathBuf {
    let folder = dir.join("broken-100k");
    std::fs::create_dir_all(&folder).unwrap();
    let item = "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n\
                2|GoldenEye (1995)|01-Jan-1995||http://x|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n";
    std::fs::write(folder.join("u.item"), item).unwrap();
    std::fs::write(folder.join("u.data"), "1\t1\t5\t874965758\n2\t2\t3\t874965759\n3\t1\t4\n").unwrap();
    folder
}

#[test]
fn a_malformed_folder_shows_file_line_and_reason_and_keeps_the_current_dataset() {
    let (mut app, dir) = fresh_app();
    let rx = attach(&mut app, &dir);
    let broken = malformed_ml100k(dir.path());
    let before = (app.tab::<Browse>().rows.clone(), app.shared.recs.clone());
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &format!("'{}'", broken.display()));
    press(&mut app, KeyCode::Enter);
    finish_work(&mut app, &rx);

    let error = app.tab::<DataPanel>().error.clone().expect("the failure is kept for the error panel");
    let where_ = format!("{}:3: expected 4 fields, found 3", broken.join("u.data").display());
    assert!(error.contains(&where_), "{error}");
    assert_eq!(app.shared.rec.dataset.name, "ml-100k", "the current dataset stays");
    assert_eq!((app.tab::<Browse>().rows.clone(), app.shared.recs.clone()), before);
    assert!(!app.quit);
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    assert_eq!(home.active_dataset(), None, "a failed import is not remembered");

    let s = screen(&app, 80, 24);
    assert!(s.contains("✗ That did not work") && s.contains("Still on ml-100k: nothing changed."), "{s}");
    assert!(panel_text(&s).contains(&where_), "the whole message, wrapped, in the panel: {s}");
    assert!(row_of(&s, "✗ could not import").starts_with(" ✗ could not import"), "and as a toast: {s}");
    // Snapshot with the temporary folder's name (and so the wrapping) fixed.
    let tmp = dir.path().display().to_string();
    app.tab_mut::<DataPanel>().error = app.tab_mut::<DataPanel>().error.take().map(|e| e.replace(&tmp, "/tmp/x"));
    app.shared.toast = None;
    insta::assert_snapshot!("data_import_failed_80x24", screen(&app, 80, 24));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.tab::<DataPanel>().error, None, "Esc puts the error box away");

    // The app is still whole: a good import after a bad one works.
    let started = app.shared.rec.dataset.name.clone();
    // `i` offers the path that failed, for fixing; Ctrl-U clears it.
    press(&mut app, KeyCode::Char('i'));
    assert!(
        app.tab::<DataPanel>().input.as_deref().is_some_and(|typed| typed.ends_with("broken-100k")),
        "{:?}",
        app.tab::<DataPanel>().input
    );
    ctrl(&mut app, 'u');
    type_text(&mut app, &shared().join("datasets/ml-100k").display().to_string());
    press(&mut app, KeyCode::Enter);
    finish_work(&mut app, &rx);
    let after = (started.as_str(), app.shared.rec.dataset.name.as_str(), app.tab::<DataPanel>().error.as_deref());
    assert_eq!(after, ("ml-100k", "ml-100k", None));
}

/// The text inside a bordered panel, its wrapped lines joined again.
fn panel_text(screen: &str) -> String {
    let inner = screen.lines().filter_map(|l| l.trim_start().strip_prefix('│')?.trim_end().strip_suffix('│'));
    inner.map(str::trim).collect::<Vec<_>>().join(" ")
}

// --- The Lab and Versions -------------------------------------------------------

/// Feeds the Lab worker's reports to the app until its run (or search) is
/// over, pressing `during` once the first epoch is in; returns the epochs charted.
fn finish_lab(app: &mut App, rx: &Receiver<Event>, during: &[KeyCode]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut pressed = false;
    while app.tab::<LabPanel>().busy() || app.shared.learning {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = rx.recv_timeout(left).expect("the lab reports before the deadline");
        app.handle(event);
        let charted = app.tab::<LabPanel>().run.as_ref().map_or(0, |r| r.points.len());
        if !pressed && charted > 0 {
            pressed = true;
            for &key in during {
                press(app, key);
            }
        }
    }
    app.tab::<LabPanel>().finished.as_ref().map_or(0, |f| f.points.len())
}

/// The comparison of `pair` was asked for: the key came back at once, with
/// the two versions marked "comparing…" (the engine works out their lists
/// behind the screen); feeds events to the app until it arrives.
fn finish_compare(app: &mut App, rx: &Receiver<Event>, pair: (u32, u32)) {
    assert_eq!(
        app.tab::<Shelf>().comparing.map(|c| c.pair),
        Some(pair),
        "the comparison is worked out off the UI thread"
    );
    assert!(app.tab::<Shelf>().comparison.is_none());
    assert!(row_of(&screen(app, 120, 40), &format!("v{} ", pair.0)).contains("comparing…"));
    let deadline = Instant::now() + Duration::from_secs(600);
    while app.tab::<Shelf>().comparing.is_some() {
        let left = deadline.saturating_duration_since(Instant::now());
        app.handle(rx.recv_timeout(left).expect("the comparison arrives before the deadline"));
    }
}

/// Sets the selected form field to `value` the way a person does: e, clear, type, Enter.
fn set_field(app: &mut App, name: &str, value: &str) {
    let row = app
        .tab::<LabPanel>()
        .form
        .rows()
        .iter()
        .position(|&r| app.tab::<LabPanel>().form.field(r).is_some_and(|f| f.info.name == name));
    app.tab_mut::<LabPanel>().form.selected = row.unwrap_or_else(|| panic!("no field {name}"));
    press(app, KeyCode::Char('e'));
    ctrl(app, 'u');
    type_text(app, value);
    press(app, KeyCode::Enter);
}

/// Hides the clock: times of day, dates and seconds.
fn mask_times(screen: &str) -> String {
    let mut out = String::new();
    for line in screen.lines() {
        let masked: String = line
            .split(' ')
            .map(|w| {
                let clock = w.len() == 5 && w.as_bytes()[2] == b':';
                let date = w.len() == 10 && w.as_bytes()[4] == b'-' && w.as_bytes()[7] == b'-';
                if clock || date {
                    w.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()
                } else {
                    w.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&masked);
        out.push('\n');
    }
    // "… in 2.3 s": training seconds.
    mask_seconds(&out)
}

fn mask_seconds(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.find(" in ").filter(|_| line.contains(" s")) {
            Some(at) => {
                let (head, tail) = line.split_at(at + 4);
                let end = tail.find(" s").unwrap_or(0);
                out.push_str(head);
                out.push_str(&"#".repeat(end));
                out.push_str(&tail[end..]);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[test]
fn lab_form_comes_from_the_module_description_and_names_a_bad_value() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('t'));
    assert_eq!(app.tab_title(), "Lab");
    let s = screen(&app, 80, 24);
    for row in ["rating model    ◂ svd ▸", "factors       200", "ranking model   ◂ rankblend ▸", "iterations    15"]
    {
        assert!(s.contains(row), "{row:?} missing from\n{s}");
    }
    insta::assert_snapshot!("lab_form_80x24", s);
    // A value out of range is refused where it is typed, naming the field and the range.
    set_field(&mut app, "factors", "0");
    let error = app.tab::<LabPanel>().form.error.clone().expect("0 factors is refused");
    assert!(error.contains("factors") && error.contains("from 1 to 1024"), "{error}");
    let s = screen(&app, 80, 24);
    assert!(s.contains("`factors`") && s.contains("1024"), "the error is on screen:\n{s}");
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        app.tab::<LabPanel>().form.field(app.tab::<LabPanel>().form.row().unwrap()).unwrap().text,
        "200",
        "Esc keeps the old value"
    );
    // `e` then digits replaces the value; `e` then Enter keeps it.
    press(&mut app, KeyCode::Char('e'));
    assert!(screen(&app, 80, 24).contains("▌ (was 200)"));
    type_text(&mut app, "64");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.tab::<LabPanel>().form.field(app.tab::<LabPanel>().form.row().unwrap()).unwrap().text, "64");
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.tab::<LabPanel>().form.field(app.tab::<LabPanel>().form.row().unwrap()).unwrap().text, "64");
    // ← → change the model; its own parameters replace the form's.
    app.tab_mut::<LabPanel>().form.selected = 0;
    press(&mut app, KeyCode::Right);
    let s = screen(&app, 80, 24);
    assert!(s.contains("◂ baseline ▸") && s.contains("reg_user"), "{s}");
}

#[test]
fn lab_mid_training_draws_the_chart_gauge_and_rates() {
    use cinema::ui::tabs::lab::{LabRun, Point};
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('t'));
    // The state a worker's reports leave behind, set directly: the view is a function of it.
    let points: Vec<Point> = (1..=12)
        .map(|e| {
            let e = f64::from(e);
            Point { epoch: e, train: Some(0.75 + 0.3 / e), validation: Some(0.91 + 0.08 / e) }
        })
        .collect();
    app.tab_mut::<LabPanel>().run = Some(LabRun {
        rating: cinema_protocol::ModelSpec::new("svd"),
        ranking: None,
        role: cinema_protocol::Role::Rating,
        algorithm: "svd".into(),
        epoch: 12,
        epochs: 60,
        fraction: 0.2,
        points,
        evaluating: false,
        refitting: false,
        cores: 1,
        started: Instant::now(),
        elapsed: Duration::from_secs(6),
        model_started: Duration::ZERO,
        per_epoch: 90_000,
        stopping: false,
        job: Default::default(),
    });
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        for part in [
            "training the rating model svd",
            "train RMSE",
            "validation RMSE",
            "epoch 12/60",
            "ETA 24 s",
            "180k ratings/s",
            "RMSE (stars)",
        ] {
            assert!(s.contains(part), "{part:?} missing at {w}×{h}:\n{s}");
        }
        assert!(s.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "braille chart at {w}×{h}:\n{s}");
        insta::assert_snapshot!(format!("lab_mid_training_{w}x{h}"), s);
    }
    // The ranking model trains on a team of instances, one core each.
    let run = app.tab_mut::<LabPanel>().run.as_mut().expect("the run");
    (run.role, run.algorithm, run.cores) = (cinema_protocol::Role::Ranking, "ials".into(), 2);
    let s = screen(&app, 80, 24);
    assert!(s.contains("training the ranking model ials on 2 cores"), "{s}");
}

/// A blend trained in the Lab: when it finishes the Lab shows its members'
/// fitted weights, and its row in Versions names them.
#[test]
fn lab_trains_a_blend_and_shows_its_fitted_weights() {
    let (mut app, dir) = fresh_app();
    let rx = attach(&mut app, &dir);
    press(&mut app, KeyCode::Char('t'));
    app.tab_mut::<LabPanel>().form.selected = 0;
    for _ in 0..10 {
        if screen(&app, 80, 24).contains("◂ blend ▸") {
            break;
        }
        press(&mut app, KeyCode::Right);
    }
    assert!(screen(&app, 80, 24).contains("◂ blend ▸"), "the Lab offers the blend");
    press(&mut app, KeyCode::Enter);
    finish_lab(&mut app, &rx, &[]);
    let finished = app.tab::<LabPanel>().finished.as_ref().expect("the run finished");
    let names: Vec<&str> = finished.meta.parts.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["svdpp", "knn", "svd"]);
    let id = finished.meta.id;
    app.shared.toast = None;
    let s = screen(&app, 80, 24);
    assert!(s.contains("fitted weights: svdpp × "), "{s}");
    press(&mut app, KeyCode::Char('v'));
    let s = screen(&app, 120, 40);
    assert!(row_of(&s, &format!("v{id}")).contains("svdpp × "), "{s}");
}

/// The whole Lab on real data: train through the worker, answer keys while
/// it trains, score on held-out ratings, save and serve the new version;
/// then the quality view, the versions list, a comparison and a rollback.
#[test]
fn lab_trains_a_version_then_versions_compare_and_roll_back() {
    let (mut app, dir) = fresh_app();
    let rx = attach(&mut app, &dir);
    let before = app.shared.rec.meta.id;
    press(&mut app, KeyCode::Char('t'));
    set_field(&mut app, "epochs", "30");
    press(&mut app, KeyCode::Enter);
    assert!(app.tab::<LabPanel>().run.is_some(), "Enter starts a run");
    // While it trains, a key is answered and Enter is refused (one run at a time).
    let charted = finish_lab(&mut app, &rx, &[KeyCode::Char('j'), KeyCode::Enter]);
    assert_eq!(charted, 30, "every epoch is charted");
    let finished = app.tab::<LabPanel>().finished.as_ref().expect("the run finished");
    let m = finished.meta.metrics.expect("scored on held-out ratings");
    assert!(m.rmse > 0.85 && m.rmse < 0.95 && m.ndcg_at_10 > 0.2, "{m:?}");
    assert_eq!(finished.meta.epochs, 30);
    assert!(!finished.meta.stopped);
    let id = finished.meta.id;
    assert_eq!(
        (app.shared.rec.meta.id, app.shared.rec.versions().active().unwrap()),
        (id, Some(id)),
        "the new version serves"
    );
    // Toasts expire on a clock; snapshots show the status line instead.
    app.shared.toast = None;
    let s = screen(&app, 80, 24);
    for part in [format!("v{id} · 30 epochs"), "RMSE".into(), "<0.90".into(), format!("v{before} ")] {
        assert!(s.contains(&part), "{part:?} missing:\n{s}");
    }
    insta::assert_snapshot!("lab_finished_80x24", mask_times(&s));
    insta::assert_snapshot!("lab_finished_120x40", mask_times(&screen(&app, 120, 40)));

    press(&mut app, KeyCode::Char('p'));
    let s = screen(&app, 80, 24);
    assert!(s.contains("True × predicted, 10000 held out") && s.contains("Error (predicted − true, stars)"), "{s}");
    insta::assert_snapshot!("lab_quality_80x24", s);
    insta::assert_snapshot!("lab_quality_120x40", screen(&app, 120, 40));
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('v'));
    assert_eq!(app.tab_title(), "Versions");
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&app, w, h);
        assert!(row_of(&s, &format!("v{id}")).contains('*'), "the active one is marked:\n{s}");
        insta::assert_snapshot!(format!("versions_{w}x{h}"), mask_times(&s));
    }
    // Compare the new version with the one before it: c, down, c.
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('c'));
    finish_compare(&mut app, &rx, (before, id));
    app.shared.toast = None;
    let c = app.tab::<Shelf>().comparison.as_ref().expect("compared");
    assert_eq!((c.a, c.b), (before, id));
    assert!(c.params.iter().any(|p| p.name == "epochs"), "{:?}", c.params);
    let s = screen(&app, 80, 24);
    assert!(s.contains(&format!("v{before} → v{id}")) && s.contains("Top 10 for you"), "{s}");
    insta::assert_snapshot!("versions_compare_80x24", mask_times(&s));
    insta::assert_snapshot!("versions_compare_120x40", mask_times(&screen(&app, 120, 40)));
    // Deleting the active version is refused; rolling back serves the old one.
    app.tab_mut::<Shelf>().cursor.selected = 0;
    press(&mut app, KeyCode::Char('x'));
    assert!(app.shared.toast.as_ref().unwrap().text.contains("active version"), "{:?}", app.shared.toast);
    app.tab_mut::<Shelf>().cursor.selected = 1;
    press(&mut app, KeyCode::Enter);
    assert_eq!((app.shared.rec.meta.id, app.shared.rec.versions().active().unwrap()), (before, Some(before)));

    // Two scored versions: every metric's row fits 80 columns whole.
    press(&mut app, KeyCode::Char('t'));
    set_field(&mut app, "epochs", "10");
    press(&mut app, KeyCode::Enter);
    finish_lab(&mut app, &rx, &[]);
    let newest = app.shared.rec.meta.id;
    press(&mut app, KeyCode::Char('v'));
    app.tab_mut::<Shelf>().cursor.selected = 0;
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('c'));
    finish_compare(&mut app, &rx, (id, newest));
    app.shared.toast = None;
    let c = app.tab::<Shelf>().comparison.as_ref().expect("compared");
    assert_eq!((c.a, c.b), (id, newest));
    let s = screen(&app, 80, 24);
    for d in &c.deltas {
        let row = row_of(&s, &format!("{:<16}", ui_metric_label(d.metric)));
        assert!(row.contains(&format!("{:+.4}", d.delta)) && !row.contains('…'), "{} cut:\n{s}", d.metric);
    }
    insta::assert_snapshot!("versions_compare_scored_80x24", mask_times(&s));
}

fn ui_metric_label(metric: &str) -> &'static str {
    cinema::ui::tabs::lab::metric_label(metric)
}

#[test]
fn a_stopped_run_keeps_its_epochs_and_a_cancelled_one_keeps_nothing() {
    let (mut app, dir) = fresh_app();
    let rx = attach(&mut app, &dir);
    press(&mut app, KeyCode::Char('t'));
    set_field(&mut app, "epochs", "5000");
    let ids = |app: &App| app.shared.rec.versions().ids().unwrap();
    let before = ids(&app);
    // Cancel: nothing is saved and the active version stays.
    press(&mut app, KeyCode::Enter);
    finish_lab(&mut app, &rx, &[KeyCode::Char('c')]);
    assert_eq!(ids(&app), before, "a cancelled run leaves no version");
    assert!(app.tab::<LabPanel>().finished.is_none());
    // Stop (twice: the rating model, then the ranking model): both keep what they learned.
    press(&mut app, KeyCode::Enter);
    finish_lab(&mut app, &rx, &[KeyCode::Char('s')]);
    let finished = app.tab::<LabPanel>().finished.clone().expect("a stopped run becomes a version");
    assert!(finished.meta.stopped && finished.meta.epochs < 5000, "{:?}", finished.meta);
    assert!(finished.meta.metrics.is_some(), "a stopped run is scored too");
    assert_eq!(ids(&app).len(), before.len() + 1);
    press(&mut app, KeyCode::Char('v'));
    assert!(row_of(&screen(&app, 100, 24), &format!("v{}", finished.meta.id)).contains("stopped"));
}

#[test]
fn your_letterboxd_ratings_are_previewed_then_imported_as_one_batch_and_undone_whole() {
    let (mut app, dir) = fresh_app();
    let export = dir.path().join("ratings.csv");
    std::fs::write(
        &export,
        "Date,Name,Year,Letterboxd URI,Rating\n\
         2024-01-01,Star Wars,1977,https://boxd.it/1,5\n\
         2024-01-02,The Empire Strikes Back,1980,https://boxd.it/2,4.5\n\
         2024-01-03,Kull the Conqueror,1997,https://boxd.it/3,2\n\
         2024-01-04,A Film Nobody Made,2001,https://boxd.it/4,3\n",
    )
    .unwrap();
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('I'));
    type_text(&mut app, &export.display().to_string());
    press(&mut app, KeyCode::Enter);
    let s = screen(&app, 80, 24);
    for part in [
        "Your ratings from ratings.csv (Letterboxd ratings.csv)",
        "4 rows: 2 matched · 1 ambiguous · 1 not in ml-100k",
        "would add 2 new",
        "A Film Nobody Made (2001): not in the dataset",
    ] {
        assert!(s.contains(part), "{part:?} missing:\n{s}");
    }
    assert!(app.shared.rec.your_ratings().is_empty(), "the preview writes nothing");
    insta::assert_snapshot!("data_history_preview_80x24", s);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.shared.rec.your_ratings().len(), 2);
    assert_eq!(app.shared.rec.your_ratings()[&STAR_WARS_ID].value, 5.0);
    assert!(!app.shared.cold_start(), "the list is personal at once");
    press(&mut app, KeyCode::Char('u'));
    assert!(app.shared.rec.your_ratings().is_empty(), "u takes the whole import back");
    assert!(
        app.shared.toast.as_ref().unwrap().text.contains("undid the import of 2 ratings"),
        "{:?}",
        app.shared.toast
    );
}

/// After a search, training (its best, with B) shows the run and then its
/// scores, not the finished search's table.
#[test]
fn a_run_after_a_search_shows_its_own_scores() {
    use cinema::ui::tabs::lab::Tuning;
    let (mut app, dir) = fresh_app();
    let rx = attach(&mut app, &dir);
    press(&mut app, KeyCode::Char('t'));
    let mut best = app.tab::<LabPanel>().form.specs().unwrap().0;
    best.set("epochs", cinema_protocol::Value::Integer(5));
    let candidate =
        cinema::lab::tune::Candidate { index: 0, params: best, cv_rmse: 0.93, fold_rmse: vec![0.93; 3], seconds: 1.0 };
    app.tab_mut::<LabPanel>().tuning = Some(Tuning {
        total: 1,
        folds: 3,
        jobs: 1,
        done: vec![candidate],
        running: false,
        by_rmse: true,
        job: Default::default(),
        error: None,
    });
    assert!(screen(&app, 80, 24).contains("Tuning: 1/1 candidates"));
    press(&mut app, KeyCode::Char('B'));
    finish_lab(&mut app, &rx, &[]);
    let s = screen(&app, 80, 24);
    assert!(s.contains("5 epochs") && s.contains("NDCG@10") && !s.contains("Tuning:"), "{s}");
}

#[test]
fn titles_show_as_people_write_them_and_search_finds_either_form() {
    let (mut app, _dir) = fresh_app();
    let godfather = app.shared.rec.dataset.movie_index(127).unwrap();
    assert_eq!(app.shared.rec.dataset.movies[godfather as usize].title, "Godfather, The", "MovieLens's own form");
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "the godfather");
    assert_eq!(app.tab::<Browse>().rows.first(), Some(&godfather), "as people write it");
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, "▶ ").contains("The Godfather "), "{s}");
    ctrl(&mut app, 'u');
    type_text(&mut app, "godfather, the");
    assert_eq!(app.tab::<Browse>().rows.first(), Some(&godfather), "as MovieLens writes it");
}

// --- Why: the hybrid, its weight, explanations ---------------------------------

/// Rates movies by id through the keys, as a person does in the detail view.
fn rate_ids(app: &mut App, ratings: &[(u32, char)]) {
    for &(id, stars) in ratings {
        let movie = app.shared.rec.dataset.movie_index(id).unwrap();
        app.open(movie);
        press(app, KeyCode::Char(stars));
        press(app, KeyCode::Esc);
    }
}

/// Star Wars, Empire, Jedi, Toy Story and Contact.
const FIVE: [(u32, char); 5] = [(50, '5'), (172, '5'), (181, '4'), (1, '3'), (258, '2')];

/// The movie ids of `cinema recommend --me` in the app's data directory.
fn cli_for_you(dir: &Path, n: usize) -> Vec<u32> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cinema"))
        .arg("--home")
        .arg(dir)
        .args(["recommend", "--me", "--json", "-n", &n.to_string(), "--dataset"])
        .arg(shared().join("datasets/ml-100k"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    list.as_array().unwrap().iter().map(|e| e["movie_id"].as_u64().unwrap() as u32).collect()
}

/// One list everywhere: `cinema recommend --me` prints the app's For you,
/// at the default weight and at the weight last chosen with `[`.
#[test]
fn the_cli_recommends_what_for_you_shows() {
    let (mut app, dir) = fresh_app();
    rate_ids(&mut app, &FIVE);
    let top10 = |app: &App| -> Vec<u32> {
        recommended_items(app)[..10].iter().map(|&i| app.shared.rec.dataset.movies[i as usize].id).collect()
    };
    assert_eq!(cli_for_you(dir.path(), 10), top10(&app), "at the default weight");
    press(&mut app, KeyCode::Char('r'));
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('['));
    }
    assert_eq!(app.shared.weight, 0.5);
    assert_eq!(cli_for_you(dir.path(), 10), top10(&app), "at the weight chosen in the app");
}

/// `{` and `}` move the diversity: the list spreads to movies fewer people
/// watched, the explanation says where diversity moved a movie, and the
/// CLI shows the same list at the setting chosen.
#[test]
fn braces_move_the_diversity_and_the_explanation_names_a_movie_it_lifted() {
    let (mut app, dir) = fresh_app();
    rate_ids(&mut app, &FIVE);
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(app.shared.diversity, 0.2, "the default");
    assert!(row_of(&screen(&app, 100, 24), " For you").contains("· diversity 0.2 ({ })"));
    press(&mut app, KeyCode::Char('{'));
    press(&mut app, KeyCode::Char('{'));
    assert_eq!(app.shared.diversity, 0.0);
    assert!(!row_of(&screen(&app, 100, 24), " For you").contains("diversity"));
    let plain: Vec<u32> = recommended_items(&app)[..10].to_vec();
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('}'));
    }
    assert_eq!(app.shared.diversity, 0.5);
    assert!(row_of(&screen(&app, 100, 24), " For you").contains("· diversity 0.5 ({ })"));
    let diverse: Vec<u32> = recommended_items(&app)[..10].to_vec();
    let watched = |list: &[u32]| list.iter().map(|&i| app.shared.rec.stats().count[i as usize]).sum::<u32>();
    assert!(watched(&diverse) < watched(&plain), "the top 10 moves to movies fewer people watched");
    // The first movie diversity brought into the top 10, explained.
    let at = diverse.iter().position(|i| !plain.contains(i)).expect("a movie new to the top 10");
    for _ in 0..at {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('e'));
    let lift = app.overlay::<Explaining>().unwrap().answer.as_ref().unwrap().as_ref().unwrap().explanation.lift;
    let lift = lift.expect("a place with and without diversity");
    assert!(lift.before > 10 && lift.after as usize == at + 1, "{lift:?}");
    let tall = screen(&app, 100, 60);
    let said = format!("Diversity 0.5 lifted it from #{} to #{}", lift.before, lift.after);
    assert!(tall.contains(&said), "{tall}");
    press(&mut app, KeyCode::Esc);
    // Kept for the CLI, whose list is the app's.
    let top10 =
        recommended_items(&app)[..10].iter().map(|&i| app.shared.rec.dataset.movies[i as usize].id).collect::<Vec<_>>();
    assert_eq!(cli_for_you(dir.path(), 10), top10);
}

#[test]
fn the_hybrid_list_shows_both_parts_and_brackets_move_the_weight_80x24() {
    let (mut app, _dir) = fresh_app();
    rate_ids(&mut app, &FIVE);
    press(&mut app, KeyCode::Char('r'));
    // Without diversity each movie's score is its blend of the two parts.
    press(&mut app, KeyCode::Char('{'));
    press(&mut app, KeyCode::Char('{'));
    assert_eq!(app.shared.diversity, 0.0);
    let s = screen(&app, 80, 24);
    assert!(row_of(&s, " For you").contains("by 0.8·CF + 0.2·content ([ ])"), "{s}");
    assert_eq!(app.shared.parts.len(), app.shared.recs.len());
    assert!(app.shared.parts.iter().all(|&(cf, c)| (0.0..=1.0).contains(&cf) && (0.0..=1.0).contains(&c)));
    let blend = |(cf, content): (f32, f32)| 0.8 * cf + 0.2 * content;
    assert!(app.shared.recs.iter().zip(&app.shared.parts).all(|(r, &p)| (r.score - blend(p)).abs() < 1e-5));
    insta::assert_snapshot!("for_you_hybrid_80x24", mask_model(&s, 2));
    let at_default = recommended_items(&app);
    // `]` up to CF alone, `[` down to content alone: both ends differ from each other.
    for _ in 0..6 {
        press(&mut app, KeyCode::Char(']'));
    }
    assert_eq!(app.shared.weight, 1.0);
    assert!(row_of(&screen(&app, 80, 24), " For you").contains("by 1.0·CF + 0.0·content"));
    let cf_only = recommended_items(&app);
    for _ in 0..12 {
        press(&mut app, KeyCode::Char('['));
    }
    assert_eq!(app.shared.weight, 0.0);
    let content_only = recommended_items(&app);
    assert_ne!(cf_only[..10], content_only[..10], "the weight changes the top 10");
    assert_ne!(at_default[..10], content_only[..10]);
    // Content alone: the first movie has the largest content part.
    assert_eq!(app.shared.parts[0].1, 1.0, "{:?}", &app.shared.parts[..3]);
}

#[test]
fn the_weight_impact_view_lists_the_top_5_at_every_weight_80x24() {
    let (mut app, _dir) = fresh_app();
    rate_ids(&mut app, &FIVE);
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Char('w'));
    let impact = app.overlay::<Impact>().expect("the panel is open");
    let lists = impact.lists.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(lists.len(), 6);
    assert!(lists.iter().all(|l| l.len() == 5));
    let s = screen(&app, 80, 24);
    for w in ["w = 0.0", "w = 0.2", "w = 0.4", "w = 0.6", "w = 0.8 ◀", "w = 1.0"] {
        assert!(s.contains(w), "{w}: {s}");
    }
    assert!(s.contains("new vs 0.0"), "{s}");
    insta::assert_snapshot!("weight_impact_80x24", mask_model(&s, 0));
    // `d`: the same columns along diversity, at the weight chosen.
    press(&mut app, KeyCode::Char('d'));
    let impact = app.overlay::<Impact>().unwrap();
    assert_eq!(impact.axis, cinema::ui::overlays::impact::Axis::Diversity);
    let lists = impact.lists.as_ref().unwrap().as_ref().unwrap();
    let items = |at: usize| lists[at].iter().map(|s| s.item).collect::<Vec<_>>();
    assert_ne!(items(0), items(5), "the top 5 moves with diversity");
    let s = screen(&app, 80, 24);
    assert!(s.contains("How diversity changes your top 5"), "{s}");
    for d in ["d = 0.0", "d = 0.2 ◀", "d = 1.0"] {
        assert!(s.contains(d), "{d}: {s}");
    }
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.overlay::<Impact>().unwrap().axis, cinema::ui::overlays::impact::Axis::Weight);
    press(&mut app, KeyCode::Esc);
    assert!(app.overlay::<Impact>().is_none());
}

#[test]
fn the_explanation_panel_adds_up_80x24() {
    let (mut app, _dir) = fresh_app();
    rate_ids(&mut app, &FIVE);
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Char('e'));
    let movie = app.shared.recs[0].item;
    let explaining = app.overlay::<Explaining>().expect("the panel is open");
    assert_eq!(explaining.movie, movie);
    let e = &explaining.answer.as_ref().unwrap().as_ref().unwrap().explanation;
    // Your vector is a fold-in of these five ratings: the parts are exact.
    assert!(e.stars.exact && (e.stars.total - e.stars.model).abs() < 1e-3, "{:?}", e.stars);
    assert_eq!(e.stars.contributions.len(), 5);
    let s = screen(&app, 80, 24);
    assert!(s.contains("Why these stars: what each of your ratings adds"), "{s}");
    assert!(s.contains("everyone's mean and the movie's bias"), "{s}");
    assert!(s.contains("= predicted"), "{s}");
    assert!(s.contains("Why it is on the list: ranking score"), "{s}");
    insta::assert_snapshot!("explanation_80x24", mask_model(&s, 0));
    let tall = screen(&app, 80, 44);
    assert!(tall.contains(" Genres: ") && tall.contains("Similar users:") && tall.contains("Hybrid:"), "{tall}");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.overlay::<Explaining>().unwrap().scroll, 1);
    // Scrolled to the end, the last sentence shows whole at 80×24: the
    // panel counts the rows its wrapped sentences take.
    for _ in 0..60 {
        press(&mut app, KeyCode::Char('j'));
    }
    let end = screen(&app, 80, 24);
    assert!(end.contains("Hybrid: Its list score is") && end.contains("best candidate's"), "{end}");
    press(&mut app, KeyCode::Esc);
    assert!(app.overlay::<Explaining>().is_none());
}

/// The app reopened on `dir`'s data directory, as a restart would.
fn reopen(dir: &TempDir) -> App {
    let f = fixture();
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let rec = Recommender::open(&home, &f.runtime, &f.module, limits(), f.dataset.clone(), |_, _, _| {}).unwrap();
    let mut app = App::new(rec);
    app.shared.theme = Theme::plain();
    app
}

/// `x` marks a movie "not interested": it leaves For you at once and after
/// a restart, and Browse marks it ✗; `+` puts movies on the watchlist,
/// whose tab keeps your order (`J`/`K`), takes one off (`x`) and exports
/// the CSV Letterboxd imports (`E`); `u` undoes a hide like a rating.
#[test]
fn x_hides_a_movie_for_good_and_the_watchlist_tab_keeps_your_order() {
    let (mut app, dir) = fresh_app();
    rate_ids(&mut app, &FIVE);
    press(&mut app, KeyCode::Char('r'));
    let first = recommended_items(&app)[0];
    press(&mut app, KeyCode::Char('x'));
    assert!(!recommended_items(&app).contains(&first), "hidden at once");
    let toast = app.shared.toast.take().unwrap().text;
    assert!(toast.contains("not interested"), "{toast}");
    press(&mut app, KeyCode::Char('u'));
    assert_eq!(recommended_items(&app)[0], first, "undone like a rating");
    press(&mut app, KeyCode::Char('x'));
    let (a, b) = (recommended_items(&app)[0], recommended_items(&app)[1]);
    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('+'));
    assert_eq!(app.shared.watchlist(), [a, b]);
    press(&mut app, KeyCode::Char('W'));
    let s = screen(&app, 80, 24);
    assert!(s.contains("Your watchlist · 2") && s.contains("[Watchlist]"), "{s}");
    insta::assert_snapshot!("watchlist_80x24", mask_model(&s, 3));
    press(&mut app, KeyCode::Char('J'));
    assert_eq!(
        (app.shared.watchlist(), app.tab::<Watchlist>().cursor.selected),
        (vec![b, a], 1),
        "moved down, the cursor with it"
    );
    press(&mut app, KeyCode::Char('K'));
    press(&mut app, KeyCode::Char('J'));
    press(&mut app, KeyCode::Char('E'));
    let toast = app.shared.toast.take().unwrap().text;
    assert!(toast.contains("wrote 2 films to"), "{toast}");
    let csv = std::fs::read_to_string(dir.path().join("exports/watchlist-ml-100k.csv")).unwrap();
    let title = |m: u32| cinema_store::history::titles::display(&app.shared.rec.dataset.movies[m as usize].title);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0] == "Title,Year,imdbID,tmdbID" && lines.len() == 3, "{csv}");
    assert!(lines[1].contains(&title(b)) && lines[2].contains(&title(a)), "{csv}");
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.shared.watchlist(), [b], "the selected one came off");
    drop(app);
    let mut app = reopen(&dir);
    press(&mut app, KeyCode::Char('r'));
    assert!(!recommended_items(&app).contains(&first), "still hidden after a restart");
    assert_eq!(app.shared.watchlist(), [b]);
    assert_eq!(app.shared.yours_label(first), "✗");
    assert_eq!(app.shared.yours_label(b), "+");
    marked_lists_the_hidden_and_seen_and_takes_a_mark_back(app, first);
}

/// The Marked tab (`M`) lists what no other list shows:
/// the hidden movie and one marked seen; `x` on the hidden one takes the
/// mark back and it returns to the recommendations.
fn marked_lists_the_hidden_and_seen_and_takes_a_mark_back(mut app: App, hidden: u32) {
    press(&mut app, KeyCode::Char('r'));
    let seen = recommended_items(&app)[0];
    press(&mut app, KeyCode::Char('0'));
    press(&mut app, KeyCode::Char('M'));
    assert_eq!(app.tab_title(), "Marked");
    let movies = app.shared.rec.dataset.movies.clone();
    let title = |m: u32| cinema_store::history::titles::display(&movies[m as usize].title);
    let s = screen(&app, 80, 24);
    assert!(s.contains("Marked · 2"), "{s}");
    let first_row = row_of(&s, "▶ ");
    assert!(first_row.contains("✗ not for me") && first_row.contains(&title(hidden)), "hidden first: {s}");
    assert!(row_of(&s, &title(seen)).contains("seen"), "{s}");
    press(&mut app, KeyCode::Char('x'));
    assert!(!app.shared.rec.your_marks().contains_key(&movies[hidden as usize].id), "the mark is taken back");
    let s = screen(&app, 80, 24);
    assert!(s.contains("Marked · 1") && row_of(&s, "▶ ").contains(&title(seen)), "the cursor stays in the list: {s}");
    press(&mut app, KeyCode::Char('r'));
    assert!(recommended_items(&app).contains(&hidden), "listed again");
}

/// `D` in the Lab sweeps the diversity knob for the form's models on the
/// held-out tenth, in its own engine instance: the chart and the table fill
/// in as each setting is scored, coverage grows with the knob, and the
/// accuracy it costs is shown against the plain list.
#[test]
fn the_lab_sweeps_diversity_and_charts_accuracy_against_coverage() {
    let (mut app, dir) = fresh_app();
    let rx = attach(&mut app, &dir);
    press(&mut app, KeyCode::Char('t'));
    set_field(&mut app, "epochs", "5");
    set_field(&mut app, "iterations", "3");
    press(&mut app, KeyCode::Char('D'));
    assert!(screen(&app, 80, 24).contains("Diversity sweep of svd + rankblend: 0/11"), "at once, before any point");
    finish_lab(&mut app, &rx, &[]);
    let sweep = app.tab::<LabPanel>().sweep.as_ref().expect("the sweep is shown");
    assert!(sweep.error.is_none() && !sweep.running, "{:?}", sweep.error);
    let points = &sweep.points;
    assert_eq!(points.iter().map(|p| p.diversity).collect::<Vec<_>>(), cinema::lab::sweep::settings());
    let (plain, widest) = (&points[0].list, &points[10].list);
    assert!(widest.coverage > 2.0 * plain.coverage, "{plain:?} → {widest:?}");
    assert!(widest.ndcg_at_10 < plain.ndcg_at_10, "{plain:?} → {widest:?}");
    let s = screen(&app, 120, 40);
    assert!(s.contains("Diversity sweep of svd + rankblend: 11/11 settings · done") && s.contains("coverage %"), "{s}");
    assert!(row_of(&s, "  0.0 ").contains("+0.0 %"), "{s}");
    insta::assert_snapshot!("lab_sweep_120x40", mask_model(&s, 1));
}
