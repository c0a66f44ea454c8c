//! Cold start: with no ratings of your own, the list is the popular and
//! well rated movies — ranked by a damped mean, so a film five people loved
//! does not outrank one five hundred people loved nearly as much.

use cinema_protocol::Scored;

use cinema_store::stats::MovieStats;

/// The top `n` movies by damped mean: `(C·μ + Σ ratings) / (C + count)`,
/// where μ is the mean of all ratings and C the mean number of ratings per
/// rated movie. `prediction` is the damped mean too, until the caller asks
/// the model.
pub fn popular_and_well_rated(stats: &MovieStats, n: usize) -> Vec<Scored> {
    let rated: Vec<usize> = (0..stats.count.len()).filter(|&m| stats.count[m] > 0).collect();
    if rated.is_empty() {
        return Vec::new();
    }
    let total: f64 = rated.iter().map(|&m| f64::from(stats.count[m])).sum();
    let sum: f64 = rated.iter().map(|&m| f64::from(stats.mean[m]) * f64::from(stats.count[m])).sum();
    let global = sum / total;
    let damping = total / rated.len() as f64;
    let mut scored: Vec<Scored> = rated
        .iter()
        .map(|&m| {
            let count = f64::from(stats.count[m]);
            let damped = (damping * global + f64::from(stats.mean[m]) * count) / (damping + count);
            Scored { item: m as u32, score: damped as f32, prediction: damped as f32 }
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    scored.truncate(n);
    scored
}
