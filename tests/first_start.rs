//! First start with no dataset: the built-in demo catalogue, and downloading
//! MovieLens latest-small — from a tiny HTTP server on 127.0.0.1 only, never
//! the real internet — directly and from the app's Data view.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use cinema::lab::train::Phase;
use cinema::recommender::{ModelOrigin, Recommender};
use cinema::ui::App;
use cinema::ui::event::Event;
use cinema::ui::tabs::data::DataPanel;
use cinema::ui::tabs::lab::LabPanel;
use cinema::ui::work::{DataReport, LabReport, Launcher, Report, Stage};
use cinema_host::{Limits, Runtime};
use cinema_protocol::Role;
use cinema_store::dataset::{Format, RatingScale};
use cinema_store::download::{FILE_NAME, download};
use cinema_store::{Home, demo, import};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::common::shared;

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn latest_small_zip() -> Vec<u8> {
    fs::read(shared().join("datasets/archives/ml-latest-small.zip")).expect("the shared ml-latest-small.zip")
}

// --- The demo catalogue ------------------------------------------------------

#[test]
fn the_demo_catalogue_is_labelled_and_sized() {
    let ds = demo::catalogue();
    assert_eq!((ds.name.as_str(), ds.format, ds.format.label()), ("demo", Format::Demo, "demo"));
    assert_eq!(ds.scale, RatingScale::WHOLE_STARS);
    assert_eq!((ds.movies.len(), ds.user_ids.len(), ds.genres.len()), (400, 300, 12));
    assert!((18_000..=22_000).contains(&ds.ratings.len()), "{} ratings", ds.ratings.len());
    assert!(ds.ratings.iter().all(|r| ds.scale.contains(r.value)));
    assert!(ds.movies.iter().all(|m| m.genres != 0 && matches!(m.year, Some(1950..=2024))));
    let star_wars = ds.movies.iter().find(|m| m.title.contains("Star Wars"));
    assert!(star_wars.is_none());
    assert_eq!(ds, demo::catalogue(), "the same on every start");
}

/// Invented titles: none may pass for a real MovieLens movie.
#[test]
fn no_demo_title_is_a_real_movielens_title() {
    let real = import(&shared().join("datasets/ml-latest-small")).unwrap();
    let real: HashSet<String> = real.movies.iter().map(|m| m.title.to_lowercase()).collect();
    let clashes: Vec<String> =
        demo::catalogue().movies.into_iter().map(|m| m.title).filter(|t| real.contains(&t.to_lowercase())).collect();
    assert!(clashes.is_empty(), "{clashes:?}");
}

/// "An Orchard for Juniper", never "A Orchard".
#[test]
fn demo_titles_take_an_before_a_vowel() {
    let wrong: Vec<String> = demo::catalogue()
        .movies
        .into_iter()
        .map(|m| m.title)
        .filter(|t| t.strip_prefix("A ").is_some_and(|rest| rest.starts_with(['A', 'E', 'I', 'O', 'U'])))
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
    assert!(demo::catalogue().movies.iter().any(|m| m.title.starts_with("An ")), "the pattern is still drawn");
}

// --- Downloading MovieLens -----------------------------------------------------

/// How the test server answers its one request.
enum Reply {
    Zip(Vec<u8>),
    NotFound,
    /// A 200 with a web page instead of the archive (captive portals do this).
    Html,
    /// Announces the whole archive, sends half, hangs up.
    CutOff(Vec<u8>),
}

/// Serves exactly one connection on 127.0.0.1 and stops; the handle returns
/// the request line it saw.
fn serve_once(reply: Reply) -> (u16, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let request = read_request(&mut stream);
        let (status, content_type, length, body): (&str, &str, usize, Vec<u8>) = match reply {
            Reply::Zip(bytes) => ("200 OK", "application/zip", bytes.len(), bytes),
            Reply::NotFound => ("404 Not Found", "text/plain", 9, b"not found".to_vec()),
            Reply::Html => {
                let page = b"<!doctype html><html><body><h1>Welcome to the airport Wi-Fi</h1></body></html>".to_vec();
                ("200 OK", "text/html; charset=utf-8", page.len(), page)
            }
            Reply::CutOff(bytes) => ("200 OK", "application/zip", bytes.len(), bytes[..bytes.len() / 2].to_vec()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        );
        // The client may hang up early on an error status; that is fine here.
        let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body)).and_then(|()| stream.flush());
        request.lines().next().unwrap_or_default().to_owned()
    });
    (port, handle)
}

/// Reads up to the blank line that ends the request head (GET has no body).
fn read_request(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/{FILE_NAME}")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

/// Runs a download that must fail; returns its message after checking that
/// nothing was left behind.
fn failed_download(port: u16) -> String {
    let dir = tempfile::tempdir().unwrap();
    let err = download(&url(port), dir.path(), |_, _| {}).expect_err("the download should fail");
    assert_eq!(entries(dir.path()), Vec::<PathBuf>::new(), "nothing may be left in the folder");
    format!("{err:#}")
}

#[test]
fn downloads_latest_small_from_a_local_server_and_it_imports() {
    let zip = latest_small_zip();
    let (port, server) = serve_once(Reply::Zip(zip.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut reports: Vec<(u64, Option<u64>)> = Vec::new();

    let path = download(&url(port), dir.path(), |done, total| reports.push((done, total))).unwrap();

    assert_eq!(server.join().unwrap(), format!("GET /{FILE_NAME} HTTP/1.1"));
    assert_eq!(path, dir.path().join(FILE_NAME));
    assert_eq!(entries(dir.path()), std::slice::from_ref(&path), "no temp file left behind");
    assert_eq!(fs::read(&path).unwrap(), zip);

    let len = zip.len() as u64;
    assert!(reports.len() > 2, "progress is reported as bytes arrive: {reports:?}");
    assert!(reports.windows(2).all(|w| w[0].0 <= w[1].0), "progress never goes back");
    assert!(reports.iter().all(|r| r.1 == Some(len)));
    assert_eq!(reports.last(), Some(&(len, Some(len))));

    let ds = import(&path).unwrap();
    assert_eq!((ds.name.as_str(), ds.format), ("ml-latest-small", Format::MlCsv));
    assert_eq!((ds.user_ids.len(), ds.movies.len(), ds.ratings.len()), (610, 9742, 100_836));
}

#[test]
fn a_404_says_so_and_leaves_nothing() {
    let (port, server) = serve_once(Reply::NotFound);
    let err = failed_download(port);
    server.join().unwrap();
    assert!(err.contains("404"), "{err}");
    assert!(err.contains("cinema import PATH"), "{err}");
}

#[test]
fn a_web_page_instead_of_the_zip_is_refused() {
    let (port, server) = serve_once(Reply::Html);
    let err = failed_download(port);
    server.join().unwrap();
    assert!(err.contains("is not a MovieLens zip"), "{err}");
    assert!(err.contains("text/html"), "{err}");
}

#[test]
fn a_download_cut_off_mid_body_is_refused() {
    let (port, server) = serve_once(Reply::CutOff(latest_small_zip()));
    let err = failed_download(port);
    server.join().unwrap();
    assert!(err.contains("broke off"), "{err}");
    assert!(err.contains("check the connection"), "{err}");
}

#[test]
fn nothing_listening_is_a_clear_error() {
    // Bind and release a port so that, almost surely, nobody listens on it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = failed_download(port);
    assert!(err.starts_with("could not reach 127.0.0.1"), "{err}");
    assert!(err.contains("import a local copy with `cinema import PATH`"), "{err}");
}

// --- Downloading from the app ----------------------------------------------------

/// The demo, then `d` `D`: the download and the import report progress, the
/// app switches to latest-small (half stars and all) with a stand-in while
/// the first models train behind the screen, then swaps them in.
#[test]
fn the_data_view_downloads_latest_small_and_switches_to_it() {
    let zip = latest_small_zip();
    let (port, server) = serve_once(Reply::Zip(zip.clone()));
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
    let runtime = Arc::new(Runtime::new(None).unwrap());
    let module = Arc::new(cinema::modules::builtin(&runtime, "cinema-default").unwrap());
    // Generous: the tests share two cores with each other and other builds.
    let limits = Limits { call_deadline: Duration::from_secs(60), ..Limits::default() };
    let rec = Recommender::open(&home, &runtime, &module, limits, demo::catalogue(), |_, _, _| {}).unwrap();
    let mut app = App::new(rec);
    let (tx, rx) = mpsc::channel();
    let mut launcher = Launcher::new(home.clone(), runtime, module, limits);
    launcher.download_url = url(port);
    app.attach(launcher, tx);

    for key in ['d', 'D'] {
        app.handle_key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
    }
    assert!(app.tab::<DataPanel>().running.is_some());
    let mut stages = Vec::new();
    while app.tab::<DataPanel>().running.is_some() {
        let event = rx.recv_timeout(Duration::from_secs(600)).expect("the worker reports");
        if let Event::Work(Report::Data(_, DataReport::Stage(stage))) = &event {
            stages.push(stage.clone());
        }
        app.handle(event);
    }
    server.join().unwrap();

    assert_eq!(app.tab::<DataPanel>().error, None);
    let len = zip.len() as u64;
    assert!(stages.contains(&Stage::Downloading { done: len, total: Some(len) }), "{stages:?}");
    assert!(stages.contains(&Stage::Opening), "{stages:?}");
    // The switch comes once the files are read: a stand-in serves while the
    // first models train behind the screen.
    assert!(!stages.iter().any(|s| matches!(s, Stage::Training { .. })), "no training before the switch: {stages:?}");
    let ds = &app.shared.rec.dataset;
    assert_eq!((ds.name.as_str(), ds.movies.len(), ds.scale), ("ml-latest-small", 9742, RatingScale::HALF_STARS));
    assert_eq!((app.shared.rec.origin, app.tab_title()), (ModelOrigin::StandIn, "Browse"));
    let saved = dir.path().join("datasets").join(FILE_NAME);
    assert_eq!(home.active_dataset(), Some(saved.clone()), "the download is the next start's dataset");
    assert_eq!(app.shared.source, Some(saved));

    // Half stars: 4, then `.` makes it 4.5 — while the first models train.
    app.handle_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Char('.'), KeyModifiers::NONE));
    assert_eq!(app.shared.rec.your_ratings().values().map(|e| e.value).collect::<Vec<_>>(), [4.5]);
    // The rating model, then the ranking model: each one's progress rises to its end.
    let mut epochs: Vec<(Role, u32, u32)> = Vec::new();
    while app.shared.rec.loading() || app.tab::<LabPanel>().run.is_some() || app.shared.learning {
        let event = rx.recv_timeout(Duration::from_secs(600)).expect("the first training reports");
        if let Event::Work(Report::Lab(_, LabReport::Phase(Phase::Training { role, progress, refit: false, .. }))) =
            &event
        {
            epochs.push((*role, progress.epoch, progress.epochs));
        }
        app.handle(event);
    }
    for role in [Role::Rating, Role::Ranking] {
        let mine: Vec<(u32, u32)> = epochs.iter().filter(|e| e.0 == role).map(|e| (e.1, e.2)).collect();
        assert!(mine.len() > 1 && mine.windows(2).all(|w| w[0].0 <= w[1].0), "{role:?}: {mine:?}");
        assert!(mine.last().is_some_and(|&(done, all)| done == all), "{role:?}: {mine:?}");
    }
    assert_eq!(app.shared.rec.origin, ModelOrigin::Trained);
    assert!(dir.path().join("models/ml-latest-small/v1.cmodel").is_file(), "the trained models are saved");
    assert_eq!(app.shared.rec.your_ratings().values().map(|e| e.value).collect::<Vec<_>>(), [4.5]);
}
