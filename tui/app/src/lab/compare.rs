//! Two versions side by side, DVC/MLflow style: how every metric moved, only
//! the parameters that differ, and how one viewer's top 10 changed.

use serde::Serialize;

use cinema_protocol::ModelSpec;
use cinema_store::models::ModelMeta;

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: u32,
    pub b: u32,
    /// Each metric both versions have, as `b − a`.
    pub deltas: Vec<Delta>,
    /// Only the parameters whose values differ (ranking model's as `ranking.NAME`).
    pub params: Vec<ParamChange>,
    pub top10: TopChange,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delta {
    pub metric: &'static str,
    pub a: f64,
    pub b: f64,
    pub delta: f64,
    /// Whether `b` is the better of the two (lower RMSE/MAE, higher the rest).
    pub better: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamChange {
    pub name: String,
    /// `None`: the version has no such parameter (another algorithm).
    pub a: Option<String>,
    pub b: Option<String>,
}

/// How the top 10 moved from `a` to `b`, by dense movie index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopChange {
    pub overlap: usize,
    /// In `b`'s list, not in `a`'s, in `b`'s order.
    pub entered: Vec<u32>,
    /// In `a`'s list, not in `b`'s, in `a`'s order.
    pub left: Vec<u32>,
}

pub fn compare(a: &ModelMeta, b: &ModelMeta, top_a: &[u32], top_b: &[u32]) -> Comparison {
    let deltas = match (&a.metrics, &b.metrics) {
        // The metrics both have (an older version may lack those beside accuracy).
        (Some(ma), Some(mb)) => ma
            .every()
            .into_iter()
            .filter_map(|(metric, x, lower)| {
                let (y, _) = mb.get(metric)?;
                Some(Delta { metric, a: x, b: y, delta: y - x, better: if lower { y < x } else { y > x } })
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut params = param_changes("", &a.params, &b.params);
    if a.algorithm != b.algorithm {
        params.insert(
            0,
            ParamChange { name: "algorithm".into(), a: Some(a.algorithm.clone()), b: Some(b.algorithm.clone()) },
        );
    }
    // The `epochs` parameter is what was asked; a stopped run did fewer,
    // which only this row tells.
    let trained = |m: &ModelMeta| {
        let unit = if m.epochs == 1 { "epoch" } else { "epochs" };
        format!("{} {unit}{}", m.epochs, if m.stopped { " (stopped)" } else { "" })
    };
    if (a.stopped || b.stopped) && trained(a) != trained(b) {
        params.push(ParamChange { name: "trained".into(), a: Some(trained(a)), b: Some(trained(b)) });
    }
    let none = ModelSpec::new("");
    params.extend(param_changes("ranking.", a.ranking.as_ref().unwrap_or(&none), b.ranking.as_ref().unwrap_or(&none)));
    Comparison { a: a.id, b: b.id, deltas, params, top10: top_change(top_a, top_b) }
}

fn param_changes(prefix: &str, a: &ModelSpec, b: &ModelSpec) -> Vec<ParamChange> {
    let mut names: Vec<&str> = a.params.iter().chain(&b.params).map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let (x, y) = (a.get(name).map(|v| v.to_string()), b.get(name).map(|v| v.to_string()));
            (x != y).then(|| ParamChange { name: format!("{prefix}{name}"), a: x, b: y })
        })
        .collect()
}

pub fn top_change(a: &[u32], b: &[u32]) -> TopChange {
    TopChange {
        overlap: a.iter().filter(|m| b.contains(m)).count(),
        entered: b.iter().copied().filter(|m| !a.contains(m)).collect(),
        left: a.iter().copied().filter(|m| !b.contains(m)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinema_protocol::Value;
    use cinema_store::models::Metrics;

    fn version(id: u32, factors: i64, rmse: f64) -> ModelMeta {
        ModelMeta {
            algorithm: "svd".into(),
            params: ModelSpec::new("svd").with("factors", Value::Integer(factors)).with("lr", Value::Real(0.007)),
            ranking: Some(ModelSpec::new("ials").with("alpha", Value::Real(5.0))),
            dataset: "d".into(),
            engine: "e".into(),
            engine_sha256: "00".into(),
            train_ratings: 1,
            train_rmse: None,
            training_seconds: 0.0,
            created: 0,
            id,
            dataset_fingerprint: String::new(),
            metrics: Some(Metrics { rmse, ndcg_at_10: 0.3, ..Metrics::default() }),
            protocol: None,
            scored_on: None,
            stopped: false,
            epochs: 1,
            quick: false,
            ranking_chosen: true,
            parts: Vec::new(),
        }
    }

    #[test]
    fn only_what_differs_is_shown_and_lists_are_diffed_in_order() {
        let c = compare(&version(1, 50, 0.95), &version(2, 100, 0.92), &[1, 2, 3, 4], &[3, 5, 1, 6]);
        assert_eq!(c.params, vec![ParamChange { name: "factors".into(), a: Some("50".into()), b: Some("100".into()) }]);
        let rmse = &c.deltas[0];
        assert_eq!(rmse.metric, "rmse");
        assert!((rmse.delta + 0.03).abs() < 1e-9 && rmse.better);
        assert!(!c.deltas.iter().find(|d| d.metric == "ndcg_at_10").unwrap().better, "equal is not better");
        assert_eq!(c.top10, TopChange { overlap: 2, entered: vec![5, 6], left: vec![2, 4] });
    }

    #[test]
    fn a_stopped_run_says_how_far_it_got() {
        let mut stopped = version(2, 50, 0.92);
        (stopped.stopped, stopped.epochs) = (true, 255);
        let c = compare(&version(1, 50, 0.95), &stopped, &[], &[]);
        let trained = c.params.iter().find(|p| p.name == "trained").expect("a trained row");
        assert_eq!((trained.a.as_deref(), trained.b.as_deref()), (Some("1 epoch"), Some("255 epochs (stopped)")));
    }
}
