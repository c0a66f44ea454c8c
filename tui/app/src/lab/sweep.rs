//! The diversity sweep the Lab charts: the form's models trained on the
//! Lab's held-out split (the same tenth every version is scored on), then
//! the list people see scored at each setting of the diversity knob —
//! accuracy against how much of the catalogue the lists cover. `cinema eval
//! --diversity-sweep` does the same on any protocol.

use std::ops::ControlFlow;

use anyhow::Result;
use cinema_host::EngineClient;
use cinema_protocol::ModelSpec;
use cinema_store::dataset::Dataset;

use super::train::{HOLDOUT_FRACTION, HOLDOUT_SEED};
use crate::eval::score::{Diverse, diverse, evaluate};
use crate::eval::splits::holdout;
use crate::recommender::CONTENT_NEIGHBOURS;
use crate::recommender::features::features;

/// The knob's settings a sweep scores, 0 to 1.
pub fn settings() -> Vec<f32> {
    (0..=10).map(|k| k as f32 / 10.0).collect()
}

/// Trains `rating` (and `ranking`) on the held-out split and scores the
/// list (CF alone) at each of `settings`, handing each point to `on_point`
/// as it comes; `on_point` may break off. Returns how many were scored.
pub fn run(
    client: &mut EngineClient,
    dataset: &Dataset,
    (rating, ranking): (ModelSpec, Option<ModelSpec>),
    settings: &[f32],
    mut on_point: impl FnMut(Diverse) -> ControlFlow<()>,
) -> Result<usize> {
    let split = holdout(&dataset.ratings, HOLDOUT_SEED, HOLDOUT_FRACTION);
    evaluate(client, dataset, &split, rating, ranking)?;
    // Calibration and the genre spread read the content model.
    client.build_content(&features(dataset), CONTENT_NEIGHBOURS)?;
    let mut scored = 0;
    for &x in settings {
        let point = diverse(client, dataset, &split, 1.0, &[x])?.remove(0);
        scored += 1;
        if on_point(point).is_break() {
            break;
        }
    }
    Ok(scored)
}
