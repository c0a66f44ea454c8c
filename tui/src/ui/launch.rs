//! `cinema [--dataset PATH]`: opens the dataset (or the built-in demo
//! catalogue when none is given), trains its model once if needed (progress
//! on stderr, before the screen is taken over), then runs the app.

use std::path::Path;

use anyhow::{Context, Result};

use crate::host::{EngineModule, Limits, Runtime};
use crate::recommender::Recommender;
use crate::store::{Home, demo, load_or_import};

pub fn launch(
    home: &Home,
    runtime: &Runtime,
    module: &EngineModule,
    limits: Limits,
    dataset: Option<&Path>,
) -> Result<()> {
    let dataset = match dataset {
        Some(path) => {
            load_or_import(home, path).with_context(|| format!("could not load the dataset at {}", path.display()))?.0
        }
        None => {
            eprintln!("no --dataset given: opening the built-in demo catalogue (cinema --dataset PATH for MovieLens)");
            demo::catalogue()
        }
    };
    let rec = Recommender::open(home, runtime, module, limits, dataset, |p| {
        if p.visited == 0 && p.epoch > 0 {
            eprint!("\rtraining the default model once: epoch {}/{}", p.epoch, p.epochs);
            if p.finished {
                eprintln!();
            }
        }
    })?;
    super::run(rec)
}
