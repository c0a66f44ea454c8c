//! `cinema train`: train a model into a new version, scored on held-out
//! ratings, and make it active — what the app's Lab does, headless.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{Context, Result};
use cinema_host::EngineClient;
use cinema_protocol::{ModelSpec, Role};
use cinema_store::dataset::Dataset;
use cinema_store::ratings_log::RatingsLog;
use cinema_store::versions::Versions;

use super::model_args::ModelArgs;
use super::versions::VersionJson;
use super::{Env, load_dataset, print_json};
use crate::lab::train::{self, Phase, Plan};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovieLens folder or .zip (default: the one last opened, by the app or `cinema import`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(env: &Env, args: Args) -> Result<()> {
    let dataset = load_dataset(env, args.dataset.as_deref())?;
    let module = env.module()?;
    let members = crate::lab::tune::team_size(crate::lab::tune::default_jobs(), dataset.ratings.len());
    let mut client = EngineClient::start_team(&env.runtime, &module, env.limits, members)?;
    let plan = Plan {
        rating: args.model.spec(client.hello())?,
        ranking: args.model.ranking_spec(client.hello())?,
        evaluate: true,
        quick: false,
    };
    let meta = train_version(env, &mut client, &dataset, plan)?;
    if env.json {
        return print_json(&VersionJson::new(&meta, true, None));
    }
    println!(
        "v{} trained in {:.1} s and active: {} {}",
        meta.id,
        meta.training_seconds,
        meta.params,
        meta.ranking.as_ref().map(|r| format!("(lists ordered by {r})")).unwrap_or_default()
    );
    if let Some(m) = &meta.metrics {
        println!("on the held-out ratings ({}):", meta.protocol.as_deref().unwrap_or_default());
        for (name, value, _) in m.every() {
            println!("  {name:<22} {value:.4}");
        }
    }
    Ok(())
}

/// Trains `plan` on the dataset and your ratings into a new active
/// version, with a line of progress per epoch on stderr.
pub fn train_version(
    env: &Env,
    client: &mut EngineClient,
    dataset: &Dataset,
    plan: Plan,
) -> Result<cinema_store::models::ModelMeta> {
    let place = super::place(env, dataset);
    let (versions, migrated) = Versions::open(&place.models_dir(&env.home))?;
    if let Some(note) = migrated {
        eprintln!("note: {note}");
    }
    let (log, warnings) = RatingsLog::open(&place.ratings_path(&env.home))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let you: Vec<(u32, f32)> =
        log.ratings().iter().filter_map(|(&id, e)| dataset.movie_index(id).map(|i| (i, e.value))).collect();
    let users = dataset.user_ids.len();
    let meta = train::run(client, dataset, &you, plan, &versions, |phase| {
        print_phase(phase, users);
        ControlFlow::Continue(())
    })?;
    let trained = meta.context("the training was cancelled")?;
    if let Some(why) = trained.unsaved {
        anyhow::bail!("the model was trained but could not be saved as a version: {why}");
    }
    Ok(trained.meta)
}

/// `users`: how many the dataset has (a large one is scored on a sample).
fn print_phase(phase: &Phase, users: usize) {
    match phase {
        Phase::Training { role, algorithm, progress: p, refit, cores } if p.visited == 0 && p.epoch > 0 => {
            let role = if *role == Role::Ranking { "ranking" } else { "rating" };
            let cores = if *cores > 1 { format!(" on {cores} cores") } else { String::new() };
            let rmse = |label: &str, x: Option<f32>| x.map(|x| format!("  {label} {x:.4}")).unwrap_or_default();
            let refit = if *refit { " (refit on every rating)" } else { "" };
            eprintln!(
                "{role} model {}{refit}{cores}: epoch {}/{}{}{}",
                ModelSpec::new(algorithm).name(),
                p.epoch,
                p.epochs,
                rmse("train RMSE", p.train_rmse),
                rmse("validation RMSE", p.validation_rmse)
            );
        }
        Phase::Evaluating => eprintln!("scoring on the held-out ratings ({})", train::protocol(users)),
        Phase::Training { .. } => {}
    }
}
