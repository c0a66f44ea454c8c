//! The terminal app without a terminal: every view drawn into ratatui's
//! `TestBackend` (80×24 and a larger size) and checked cell by cell, and the
//! app driven with key events — search, rate with instant learning, undo,
//! typing a `q` into the search, browsing as a dataset user.
//!
//! Each test gets its own data directory (so its ratings log is its own);
//! the ML-100K model is trained once and copied in.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use cinema::host::{EngineModule, Limits, Runtime};
use cinema::recommender::Recommender;
use cinema::store::{Dataset, Home, import};
use cinema::ui::App;
use cinema::ui::keys::BINDINGS;
use cinema::ui::state::Tab;
use cinema::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

/// Star Wars (1977) in MovieLens 100K.
const STAR_WARS_ID: u32 = 50;

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn shared() -> PathBuf {
    std::env::var_os("CINEMA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn limits() -> Limits {
    // Generous: the tests share two cores with each other and other builds.
    Limits { call_deadline: Duration::from_secs(60), ..Limits::default() }
}

struct Fixture {
    runtime: Runtime,
    module: EngineModule,
    dataset: Dataset,
    /// A data directory holding the trained ML-100K model.
    trained: TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = Runtime::new(None).expect("runtime starts");
        let module = EngineModule::builtin(&runtime, "cinema-default").expect("the default module compiles");
        let dataset = import(&shared().join("datasets/ml-100k")).expect("ML-100K imports");
        let trained = TempDir::new().unwrap();
        let home = Home::resolve(Some(trained.path().to_path_buf())).unwrap();
        Recommender::open(&home, &runtime, &module, limits(), dataset.clone(), |_| {}).expect("the model trains");
        Fixture { runtime, module, dataset, trained }
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
    let f = fixture();
    let dir = TempDir::new().unwrap();
    copy_dir(&f.trained.path().join("models"), &dir.path().join("models"));
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let rec = Recommender::open(&home, &f.runtime, &f.module, limits(), f.dataset.clone(), |_| {}).unwrap();
    assert_eq!(rec.origin, cinema::recommender::ModelOrigin::Loaded, "the trained model is reused");
    let mut app = App::new(rec);
    app.theme = Theme::plain();
    (app, dir)
}

fn star_wars(app: &App) -> u32 {
    app.rec.dataset.movie_index(STAR_WARS_ID).expect("Star Wars is in ML-100K")
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
    app.recs.iter().map(|s| s.item).collect()
}

// --- Views -------------------------------------------------------------------

#[test]
fn browse_at_80x24_shows_the_catalogue_with_every_column() {
    let (app, _dir) = fresh_app();
    let s = screen(&app, 80, 24);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].contains("[Browse]") && lines[0].contains("ml-100k · you · 0 rated"), "{s}");
    for header in ["Title", "Year", "Genres", "Mean", "Votes", "You", "Pred"] {
        assert!(lines[2].contains(header), "header lacks {header}: {s}");
    }
    // Most rated first; the selection is marked with a symbol, not colour alone.
    let first = row_of(&s, "▶ ");
    assert!(first.contains("Star Wars") && first.contains("1977") && first.contains("4.36") && first.contains("583"));
    assert!(s.contains("Popular and well rated"), "cold start heading: {s}");
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
    app.detail = Some(star_wars(&app));
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
    let predicted = row_of(&s, "Predicted for you:").split("Predicted for you: ").nth(1).unwrap_or_default().trim();
    assert!(predicted.parse::<f32>().is_ok(), "{s}");
    // The model's number masked; the strip below is the model's too.
    let top: String = s.lines().take(17).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("detail_star_wars_80x24", top.replace(predicted, "#.##"));
}

#[test]
fn recommendations_view_cold_start_then_for_you() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(app.tab, Tab::Recommendations);
    let s = screen(&app, 80, 24);
    assert!(s.contains("[For you]") && s.contains("Popular and well rated"), "{s}");
    assert!(s.contains("score: damped mean rating"), "{s}");
    for header in ["#", "Title", "Pred", "Score"] {
        assert!(row_of(&s, "Title").contains(header), "{s}");
    }
    // Popular and well rated: well-known films, not a film eight people loved.
    let top: Vec<u32> = app.recs.iter().take(10).map(|r| app.stats.count[r.item as usize]).collect();
    assert!(top.iter().all(|&n| n >= 100), "the cold-start top 10 are popular: {top:?}");
    assert!(row_of(&s, "▶ ").contains(" 1 "), "{s}");

    let sw = star_wars(&app);
    app.detail = Some(sw);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Esc);
    let s = screen(&app, 80, 24);
    assert!(s.contains(" For you · top 50 · without the 1 rated"), "{s}");
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
    app.detail = Some(star_wars(&app));
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
    assert!(s.contains("Your ratings · 0") && app.rec.your_ratings().is_empty(), "{s}");
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
    for _ in 0..80 {
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
    assert!(row_of(&s, "Popular and well rated").contains("┌"), "{s}");
    assert_eq!(s.lines().filter(|l| l.contains("▶ ")).count(), 1);
    app.detail = Some(star_wars(&app));
    let s = screen(&app, 140, 40);
    assert!(row_of(&s, "Star Wars (1977)").contains("Popular and well rated"), "{s}");
}

#[test]
fn any_size_draws_without_panicking_and_tiny_ones_say_so() {
    let (mut app, _dir) = fresh_app();
    for (w, h) in [(1, 1), (20, 5), (39, 24), (40, 10), (55, 14), (80, 24), (81, 25), (109, 30), (110, 30), (250, 70)] {
        for tab in ["b", "r", "m"] {
            press(&mut app, KeyCode::Char(tab.chars().next().unwrap()));
            screen(&app, w, h);
        }
        app.detail = Some(star_wars(&app));
        screen(&app, w, h);
        app.detail = None;
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
    let all = app.rows.len();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "star wars");
    assert!(app.typing);
    assert!(app.rows.len() < all / 10, "{} of {all} rows left", app.rows.len());
    assert_eq!(app.selected_movie(), Some(star_wars(&app)), "best match first and selected");
    // Enter keeps the results; Enter again opens the movie; Esc comes back.
    press(&mut app, KeyCode::Enter);
    assert!(!app.typing && app.query.text == "star wars");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.detail, Some(star_wars(&app)));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.detail, None);
    // Esc in browse clears the search.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.rows.len(), all);
}

#[test]
fn q_while_searching_types_a_q_and_ctrl_c_always_quits() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "quiz");
    assert!(!app.quit);
    assert_eq!(app.query.text, "quiz");
    assert!(app.rows.iter().all(|&m| app.rec.dataset.movies[m as usize].title.to_lowercase().contains('q')));
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.query.text, "qui");
    ctrl(&mut app, 'u');
    assert_eq!(app.query.text, "");
    press(&mut app, KeyCode::Esc);
    assert!(!app.typing);
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

    assert_eq!(app.rec.your_ratings().get(&STAR_WARS_ID).map(|e| e.value), Some(5.0));
    let after = recommended_items(&app);
    assert_ne!(before, after, "the recommendations changed in the same update");
    assert!(!after.contains(&sw));
    let s = screen(&app, 80, 24);
    assert_ne!(strip_before, s);
    assert!(s.contains(" For you ") && !s.contains("Popular and well rated"), "{s}");
    assert!(row_of(&s, "▶ ").contains("★5"), "the rating shows in the row: {s}");
    assert!(row_of(&s, "✓").contains("Star Wars (1977): unrated → ★5 · saved and learned in"), "{s}");
    assert_eq!(app.selected_movie(), Some(sw), "the selection stays on the rated movie");

    press(&mut app, KeyCode::Char('u'));
    assert!(app.rec.your_ratings().is_empty());
    assert_eq!(recommended_items(&app), before, "undo restores the list");
    assert!(row_of(&screen(&app, 80, 24), "✓").contains("★5 → unrated"));
    press(&mut app, KeyCode::Char('u'));
    assert!(row_of(&screen(&app, 80, 24), "✓").contains("nothing to undo"));
}

#[test]
fn half_stars_are_refused_on_a_whole_star_dataset() {
    let (mut app, _dir) = fresh_app();
    app.detail = Some(star_wars(&app));
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('.'));
    assert_eq!(app.rec.your_ratings().get(&STAR_WARS_ID).map(|e| e.value), Some(4.0));
    assert!(row_of(&screen(&app, 80, 24), "✗").contains("whole stars"));
}

#[test]
fn sorting_filtering_and_moving() {
    let (mut app, _dir) = fresh_app();
    let all = app.rows.len();
    press(&mut app, KeyCode::Char('f'));
    let genre = app.query.genre.expect("a genre is chosen");
    let name = app.rec.dataset.genres[genre].clone();
    assert!(app.rows.len() < all);
    assert!(app.rows.iter().all(|&m| app.rec.dataset.movies[m as usize].genres & (1 << genre) != 0));
    assert!(screen(&app, 80, 24).contains(&format!("genre: {name}")));
    press(&mut app, KeyCode::Char('F'));
    assert_eq!((app.query.genre, app.rows.len()), (None, all));

    press(&mut app, KeyCode::Char('s'));
    let means: Vec<f32> = app.rows.iter().take(50).map(|&m| app.stats.mean[m as usize]).collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "sorted by mean, high first");
    press(&mut app, KeyCode::Char('S'));
    let means: Vec<f32> = app.rows.iter().take(50).map(|&m| app.stats.mean[m as usize]).collect();
    assert!(means.windows(2).all(|w| w[0] <= w[1]), "reversed");

    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.browse.selected, 2);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.browse.selected, all - 1);
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.browse.selected, 0);
    screen(&app, 80, 24); // learns the page height
    ctrl(&mut app, 'd');
    assert!(app.browse.selected > 3);
    press(&mut app, KeyCode::PageDown);
    press(&mut app, KeyCode::PageUp);
    ctrl(&mut app, 'u');
    assert_eq!(app.browse.selected, 0);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.tab, Tab::Recommendations);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab, Tab::Ratings);
    app.handle_key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT));
    assert_eq!(app.tab, Tab::Browse);
}

#[test]
fn browsing_as_a_dataset_user_is_read_only() {
    let (mut app, _dir) = fresh_app();
    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "1");
    press(&mut app, KeyCode::Enter);
    let user = app.rec.dataset.user_index(1).unwrap();
    assert_eq!(app.viewer_user(), user);
    let theirs = app.rec.dataset.ratings.iter().filter(|r| r.user == user).count();
    assert_eq!(app.rated.len(), theirs);
    let s = screen(&app, 80, 24);
    assert!(s.contains("user 1 (read-only)") && s.contains("For user 1"), "{s}");
    let recs = recommended_items(&app);
    assert!(recs.iter().all(|m| !app.viewer_ratings.contains_key(m)), "their rated movies are excluded");

    press(&mut app, KeyCode::Char('5'));
    assert!(app.rec.your_ratings().is_empty(), "read-only");
    assert!(row_of(&screen(&app, 80, 24), "✗").contains("read-only"));

    press(&mut app, KeyCode::Char('m'));
    assert!(screen(&app, 80, 24).contains(&format!("Ratings of user 1 · {theirs} · read-only")));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.viewer_user(), app.rec.you());
    assert!(!app.read_only());

    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "99999");
    press(&mut app, KeyCode::Enter);
    assert!(row_of(&screen(&app, 80, 24), "✗").contains("no user `99999`"));
    assert!(!app.read_only());
}
