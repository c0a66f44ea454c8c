//! The headless command line (clap): the same work as the terminal app, for
//! scripts and tests, with `--json` output.

mod bench;
mod eval;
mod explain;
mod import;
mod import_ratings;
mod model_args;
mod plugins;
mod rate;
mod recommend;
mod similar;
mod steer;
mod train;
mod tune;
mod versions;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use cinema_host::{EngineModule, Limits, Runtime};
use cinema_store::home::Home;

#[derive(Debug, Parser)]
#[command(name = "cinema", version, about = "A terminal movie recommender that learns as you rate.")]
pub struct Cli {
    /// Data directory (default: $CINEMA_HOME, else the platform's data dir).
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Engine module: a built-in name (cinema-default, cinema-baseline, cinema-classic), a module in the
    /// data directory's plugins/ folder, or a .wasm file (`cinema plugins list` shows them).
    #[arg(long, global = true, value_name = "NAME|FILE.wasm")]
    plugin: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// With no command: the MovieLens folder or .zip the terminal app opens (default: the built-in demo).
    #[arg(long, value_name = "PATH")]
    dataset: Option<PathBuf>,
    /// With no command: leave the mouse to the terminal (text selection) instead of scrolling with the wheel.
    #[arg(long)]
    no_mouse: bool,
    /// Start the terminal app, draw its first frame and exit (what `cinema bench` times as startup_ms).
    #[arg(long, hide = true)]
    exit_after_first_frame: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import a MovieLens folder or .zip (100K, 1M, latest-small/20M/25M) and cache it.
    Import(import::Args),
    /// Import your own ratings from a Letterboxd or IMDb export (previewed with --dry-run).
    ImportRatings(import_ratings::Args),
    /// Train and score a model on held-out ratings.
    Eval(Box<eval::Args>),
    /// Top-N movies for you (--me) or a dataset user.
    Recommend(recommend::Args),
    /// Rate a movie (by id or title words), remove a rating, or undo.
    Rate(rate::RateArgs),
    /// List your ratings, marks and watchlist places.
    Ratings(rate::ListArgs),
    /// Not interested: the movie leaves every list for good (--remove takes it back).
    Hide(steer::MarkArgs),
    /// Seen it: counts as watched without a rating, and leaves your lists (--remove takes it back).
    Seen(steer::MarkArgs),
    /// Your watchlist: add, move, remove, list, export (Letterboxd CSV or JSON), import.
    #[command(subcommand)]
    Watchlist(steer::Watchlist),
    /// Measure training, ranking and module-loading speed.
    Bench(bench::Args),
    /// The engine modules this app can load, with their algorithms and parameters.
    #[command(subcommand)]
    Plugins(plugins::Command),
    /// Train a model into a new version, scored on held-out ratings, and make it active.
    Train(Box<train::Args>),
    /// The dataset's saved model versions: list, show, activate, delete, compare.
    #[command(subcommand)]
    Versions(versions::Command),
    /// Search the rating model's parameters by k-fold cross-validation.
    Tune(Box<tune::Args>),
    /// Movies most like a movie, by content (genres, words, tags) or by CF.
    Similar(similar::Args),
    /// Why a movie is recommended to a user: contributions, genres, similar users, confidence.
    Explain(explain::Args),
}

/// What every command needs: the data directory and a compiled engine module.
pub struct Env {
    pub home: Home,
    pub runtime: Runtime,
    pub plugin: Option<String>,
    pub limits: Limits,
    pub json: bool,
}

impl Env {
    pub fn module(&self) -> Result<EngineModule> {
        crate::modules::resolve(&self.runtime, &self.home.plugins_dir(), self.plugin.as_deref())
    }
}

pub fn main() -> ExitCode {
    // A reader that stops early (`cinema ratings | head -1`) ends the
    // output, as for any Unix tool: die of SIGPIPE quietly, not panic.
    #[cfg(unix)]
    // SAFETY: restoring the default action of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    use std::io::IsTerminal;
    // The terminal app needs a terminal; in a pipe or CI, say how to use the CLI instead.
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if cli.command.is_none() && !terminal && !cli.exit_after_first_frame {
        use clap::CommandFactory;
        Cli::command().print_help()?;
        return Ok(());
    }
    let home = Home::resolve(cli.home.clone())?;
    init_logging(&home);
    let runtime = Runtime::new(Some(&home.cache_dir().join("modules")))?;
    let env = Env { home, runtime, plugin: cli.plugin, limits: Limits::default(), json: cli.json };
    // No command: the terminal app.
    let Some(command) = cli.command else {
        let module = env.module()?;
        let options = crate::ui::Options { mouse: !cli.no_mouse, exit_after_first_frame: cli.exit_after_first_frame };
        return crate::ui::launch(env.home, env.runtime, module, env.limits, cli.dataset.as_deref(), options);
    };
    match command {
        Command::Import(args) => import::run(&env, args),
        Command::ImportRatings(args) => import_ratings::run(&env, args),
        Command::Eval(args) => eval::run(&env, *args),
        Command::Recommend(args) => recommend::run(&env, args),
        Command::Rate(args) => rate::rate(&env, args),
        Command::Ratings(args) => rate::list(&env, args),
        Command::Hide(args) => steer::mark(&env, args, cinema_protocol::Mark::Hidden),
        Command::Seen(args) => steer::mark(&env, args, cinema_protocol::Mark::Seen),
        Command::Watchlist(command) => steer::watchlist(&env, command),
        Command::Bench(args) => bench::run(&env, args),
        Command::Plugins(command) => plugins::run(&env, command),
        Command::Train(args) => train::run(&env, *args),
        Command::Versions(command) => versions::run(&env, command),
        Command::Tune(args) => tune::run(&env, *args),
        Command::Similar(args) => similar::run(&env, args),
        Command::Explain(args) => explain::run(&env, args),
    }
}

/// Logs go to a file in the data directory, never to the terminal; the
/// level comes from `CINEMA_LOG` (default `info`).
fn init_logging(home: &Home) {
    let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(home.log_path()) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CINEMA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// The dataset a command works on: `--dataset PATH` if given, else the
/// one last opened (by the app or `cinema import`), named on stderr so the
/// choice is never silent.
pub fn dataset_path(env: &Env, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    match env.home.active_dataset() {
        Some(path) => {
            eprintln!("using {} (the dataset last opened; --dataset PATH chooses another)", path.display());
            Ok(path)
        }
        None => anyhow::bail!(
            "no dataset chosen: give --dataset PATH (a MovieLens folder or .zip), or open one first with `cinema import PATH` or in the app (d)"
        ),
    }
}

/// Loads a dataset (see [`dataset_path`]) through the cache.
pub fn load_dataset(env: &Env, given: Option<&Path>) -> Result<cinema_store::dataset::Dataset> {
    let path = dataset_path(env, given)?;
    let (dataset, status, notes) = cinema_store::cache::load_or_import_noted(&env.home, &path)
        .with_context(|| format!("could not load the dataset at {}", path.display()))?;
    // Said when the files are read; `cinema import` repeats it on demand.
    if status == cinema_store::CacheStatus::Miss {
        for w in notes.warnings() {
            eprintln!("warning: {w}");
        }
    }
    Ok(dataset)
}

/// Opens the recommender for a dataset, training its model once if needed
/// (progress on stderr, so stdout stays clean for `--json`).
pub fn open_recommender(env: &Env, dataset: cinema_store::dataset::Dataset) -> Result<crate::recommender::Recommender> {
    let module = env.module()?;
    let rec = crate::recommender::Recommender::open(
        &env.home,
        &env.runtime,
        &module,
        env.limits,
        dataset,
        crate::recommender::print_progress,
    )?;
    for w in &rec.warnings {
        eprintln!("warning: {w}");
    }
    Ok(rec)
}

/// Where `dataset`'s ratings and versions live, saying so on stderr when
/// its name belongs to another catalogue.
pub fn place(env: &Env, dataset: &cinema_store::dataset::Dataset) -> cinema_store::place::Place {
    let place = cinema_store::place::place(&env.home, dataset);
    if let Some(w) = &place.warning {
        eprintln!("warning: {w}");
    }
    place
}

pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
