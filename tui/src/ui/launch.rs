//! `cinema [--dataset PATH]`: opens the dataset — the one given, else the
//! one last opened in the app, else the built-in demo catalogue — and runs
//! the app. The first frame is drawn from what is on disk while the engine
//! loads the ratings and the model behind it; with no saved model a quick
//! stand-in serves and the module's default models train behind the screen
//! (see [`Recommender::open_behind`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::time::Instant;

use anyhow::{Context, Result};

use super::App;
use super::context::Jobs;
use super::event::Event;
use super::jobs::Sink;
use super::state::Worker;
use super::terminal::Options;
use super::work::{self, Launcher};
use crate::recommender::Recommender;
use cinema_host::{EngineModule, Limits, Runtime};
use cinema_store::{Dataset, Home, demo, load_or_import};

pub fn launch(
    home: Home,
    runtime: Runtime,
    module: EngineModule,
    limits: Limits,
    dataset: Option<&Path>,
    options: Options,
) -> Result<()> {
    let started = Instant::now();
    let (dataset, source, warning) = choose(&home, dataset)?;
    let loaded = started.elapsed();
    let events = mpsc::channel();
    let tell = events.0.clone();
    let mut rec = Recommender::open_behind(
        &home,
        &runtime,
        &module,
        limits,
        dataset,
        crate::recommender::print_progress,
        move |dataset, opened| {
            let _ = tell.send(Event::Opened(dataset, Box::new(opened)));
        },
    )?;
    let opened = started.elapsed();
    rec.warnings.extend(warning);
    if let Some(path) = &source
        && !options.exit_after_first_frame
    {
        work::remember(&home, path, &mut rec);
    }
    let mut app = App::new(rec);
    app.shared.source = source;
    app.attach(Launcher::new(home, Arc::new(runtime), Arc::new(module), limits), events.0.clone());
    tracing::info!(
        "start-up: dataset {:.0} ms, files and module {:.0} ms, first frame's state {:.0} ms (the engine loads behind it)",
        loaded.as_secs_f64() * 1e3,
        (opened - loaded).as_secs_f64() * 1e3,
        (started.elapsed() - opened).as_secs_f64() * 1e3
    );
    super::terminal::run(app, events, &options)
}

impl App {
    /// Lets the app work in the background: `launcher` opens datasets and
    /// trains on worker threads, and every answer from off the UI thread
    /// comes back as an event on `events`, the app's one channel.
    pub fn attach(&mut self, launcher: Launcher, events: Sender<Event>) {
        let (reports, views, answers, compared) = (events.clone(), events.clone(), events.clone(), events);
        self.attach_worker(Worker {
            jobs: Jobs {
                launcher,
                reports: Sink::new(move |report| {
                    let _ = reports.send(Event::Work(report));
                }),
                answers: Sink::new(move |answer| {
                    let _ = answers.send(Event::Answer(Box::new(answer)));
                }),
            },
            views: Sink::new(move |viewed| {
                let _ = views.send(Event::Viewed(Box::new(viewed)));
            }),
            compared: Sink::new(move |c| {
                let _ = compared.send(Event::Compared(Box::new(c)));
            }),
        });
    }
}

/// The dataset to open, where it came from (`None`: the demo), and a warning
/// when the remembered dataset could not be opened.
fn choose(home: &Home, flag: Option<&Path>) -> Result<(Dataset, Option<PathBuf>, Option<String>)> {
    if let Some(path) = flag {
        let (dataset, _) =
            load_or_import(home, path).with_context(|| format!("could not load the dataset at {}", path.display()))?;
        return Ok((dataset, Some(path.to_path_buf()), None));
    }
    let Some(path) = home.active_dataset() else {
        eprintln!("no dataset yet: opening the built-in demo catalogue (press d in the app to import MovieLens)");
        return Ok((demo::catalogue(), None, None));
    };
    match load_or_import(home, &path) {
        Ok((dataset, _)) => Ok((dataset, Some(path), None)),
        Err(e) => {
            let warning = format!("could not open the last dataset, {} ({e:#}); showing the demo", path.display());
            tracing::warn!("{warning}");
            Ok((demo::catalogue(), None, Some(warning)))
        }
    }
}
