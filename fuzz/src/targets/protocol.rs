//! Target `protocol`: the engine's side of the wire. An input is a run of
//! postcard-encoded requests; each is decoded with `Request::decode` and
//! handled by a fresh `Session`, as a module would, until the bytes end or
//! stop decoding. Every reply must encode and decode back, and answer the
//! request it is for.

use cinema_engine::{EngineInfo, Session};
use cinema_protocol::*;

use crate::{Target, shape};

/// Requests per input: enough for load → train → ask, and then some.
const MAX_REQUESTS: usize = 64;
/// Shapes and counts a request may ask for. Memory in proportion to what a
/// request asks for is the sandbox's to cap (tests/sandbox.rs); these keep it
/// far below [`crate::run::ALLOCATION_LIMIT`], so that anything above the
/// limit is the engine sizing something wrongly. A top-N count stays below
/// what the operating system backs lazily, so such a bug shows as a huge
/// allocation rather than an abort that would lose the input.
const MAX_USERS_OR_ITEMS: u32 = 512;
const MAX_TOP_N: u32 = 1 << 26;

pub struct Protocol;

impl Target for Protocol {
    fn name(&self) -> &'static str {
        "protocol"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let load = [
            Request::Reset { users: 3, items: 4, scale: Scale { min: 1.0, max: 5.0 } },
            Request::AddRatings {
                set: RatingSet::Train,
                ratings: vec![(0, 0, 5.0), (0, 1, 3.0), (1, 1, 4.0), (1, 2, 1.0), (2, 0, 2.0), (2, 3, 4.5)],
            },
            Request::AddRatings { set: RatingSet::Validation, ratings: vec![(1, 0, 4.0)] },
            Request::Index,
        ];
        let ask = [
            Request::Predict { pairs: vec![(0, 2), (2, 1)] },
            Request::Recommend { user: 0, n: 3 },
            Request::FoldIn {
                user: 1,
                ratings: vec![(0, 5.0), (3, 2.0)],
                marks: vec![(2, Mark::Seen), (4, Mark::Hidden)],
            },
            Request::Recommend { user: 1, n: 2 },
            Request::Similar { item: 1, n: 2 },
            Request::RecommendHybrid { user: 1, n: 3, weight: 0.6, diversity: 0.0 },
            Request::Explain { user: 1, item: 2, weight: 0.6, diversity: 0.0 },
            Request::PrepareDiversity { users: 8 },
            Request::RecommendHybrid { user: 1, n: 3, weight: 0.6, diversity: 0.5 },
            Request::Explain { user: 1, item: 2, weight: 0.6, diversity: 1.0 },
            Request::SimilarContent { item: 0, n: 2 },
            Request::Parts,
            Request::ExportModel,
        ];
        let content = [
            Request::AddFeatures {
                items: vec![
                    Features { item: 0, terms: vec![(0, Field::Genre), (1, Field::Title)] },
                    Features { item: 2, terms: vec![(0, Field::Genre), (1, Field::Tag), (1, Field::Tag)] },
                    Features { item: 3, terms: vec![(2, Field::Genre), (1, Field::Title)] },
                ],
            },
            Request::BuildContent { neighbours: 2 },
        ];
        let svd = ModelSpec::new("svd").with("factors", Value::Integer(4)).with("epochs", Value::Integer(3));
        let train =
            |spec| [Request::TrainStart { spec }, Request::TrainStep { budget: 4 }, Request::TrainStep { budget: 100 }];
        let mut sequences: Vec<Vec<Request>> = vec![
            vec![Request::Hello],
            load.iter().cloned().chain(content.clone()).chain(train(svd.clone())).chain(ask.iter().cloned()).collect(),
            vec![Request::TrainStep { budget: 1 }, Request::Predict { pairs: vec![(0, 0)] }, Request::Index],
        ];
        // Every model of the registry, trained and imported, so that each
        // one's fitting and each one's decoder of saved bytes is fuzzed
        // without a list here to keep in step; a ranking model beside the
        // small SVD, as it always stands.
        for info in cinema_engine::standard_algorithms() {
            // Small where the algorithm lets it be, so the seeds stay short.
            let mut spec = info.defaults();
            for (name, value) in &mut spec.params {
                if name == "factors" || name == "epochs" || name == "iterations" {
                    *value = Value::Integer(3);
                }
            }
            let specs = match info.role {
                Role::Ranking => vec![svd.clone(), spec],
                Role::Rating => vec![spec],
            };
            let trains = specs.iter().cloned().flat_map(train);
            sequences.push(load.iter().cloned().chain(trains).chain(ask.iter().cloned()).collect());
            let import = Request::ImportModel { bytes: trained_model(&load, &specs) };
            sequences.push(load.iter().cloned().chain([import]).chain(ask.iter().cloned()).collect());
        }
        // A team member: its share of a round, then a handoff cut short and
        // one that is whole (its own, which it must refuse as another's).
        let ials = ModelSpec::new("ials").with("factors", Value::Integer(3)).with("iterations", Value::Integer(2));
        let step = Request::ShardStep { budget: 1 << 20 };
        let team = [Request::TrainShard { spec: ials, member: 1, members: 2 }, step.clone()];
        let takes = [vec![Handoff(vec![0, 1, 2])], vec![Handoff([vec![1, 0, 0, 0], vec![0; 48]].concat())]]
            .map(|handoffs| Request::ShardTake { handoffs });
        sequences.push(load.iter().cloned().chain(team).chain(takes).chain([step]).collect());
        sequences.iter().map(|requests| requests.iter().flat_map(Request::encode).collect()).collect()
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        [Request::Hello, Request::Index, Request::ExportModel, Request::TrainStep { budget: 1000 }]
            .iter()
            .map(Request::encode)
            .collect()
    }

    /// Room for an imported blend (three members at their defaults).
    fn max_len(&self) -> usize {
        1 << 15
    }

    fn run(&mut self, input: &[u8]) -> Vec<String> {
        let mut session = session();
        let mut features = Vec::new();
        let mut rest = input;
        let mut previous = "start";
        for _ in 0..MAX_REQUESTS {
            if rest.is_empty() {
                break;
            }
            let decoded = Request::decode(rest);
            let (request, tail) = match postcard::take_from_bytes::<Request>(rest) {
                Ok(split) => split,
                Err(e) => {
                    assert!(decoded.is_err(), "Request::decode accepts bytes that do not split off a request");
                    features.push(format!("undecodable: {e}"));
                    break;
                }
            };
            assert!(decoded.is_ok(), "Request::decode refuses bytes that split off a request");
            rest = tail;
            let kind = request.name();
            if !affordable(&request) {
                features.push(format!("{kind}: unaffordable"));
                continue;
            }
            let reply = session.handle(request.clone());
            check(&request, &reply);
            let outcome = match &reply {
                Reply::Error { kind, message } => format!("{kind:?}: {}", shape(message)),
                other => reply_kind(other),
            };
            features.push(format!("{previous} → {kind} → {}", reply_kind(&reply)));
            features.push(format!("{kind} → {outcome}"));
            previous = kind;
        }
        features
    }
}

fn session() -> Session {
    Session::new(EngineInfo { name: "fuzz", version: "0", algorithms: cinema_engine::standard_algorithms() })
}

/// An exported model for the seed that imports one: `specs` trained in turn.
fn trained_model(load: &[Request], specs: &[ModelSpec]) -> Vec<u8> {
    let mut s = session();
    for request in load {
        s.handle(request.clone());
    }
    for spec in specs {
        s.handle(Request::TrainStart { spec: spec.clone() });
        while let Reply::Progress(p) = s.handle(Request::TrainStep { budget: 1 << 20 }) {
            if p.finished {
                break;
            }
        }
    }
    match s.handle(Request::ExportModel) {
        Reply::Model(bytes) => bytes,
        other => panic!("the seed model did not export: {other:?}"),
    }
}

fn affordable(request: &Request) -> bool {
    match request {
        Request::Reset { users, items, .. } => *users <= MAX_USERS_OR_ITEMS && *items <= MAX_USERS_OR_ITEMS,
        Request::Recommend { n, .. }
        | Request::RecommendHybrid { n, .. }
        | Request::Similar { n, .. }
        | Request::SimilarContent { n, .. } => *n <= MAX_TOP_N,
        _ => true,
    }
}

/// What a host relies on: every reply survives the wire, and a successful
/// one is the kind the request asks for, of the right size.
fn check(request: &Request, reply: &Reply) {
    let bytes = reply.encode();
    let back = Reply::decode(&bytes).unwrap_or_else(|e| panic!("a reply the engine made does not decode: {e}"));
    assert_eq!(back.encode(), bytes, "a reply changes on its way through the wire");
    if matches!(reply, Reply::Error { .. }) {
        return;
    }
    // The kind, for every request (the list of requests says which answers which) …
    assert_eq!(reply.name(), request.reply_name(), "{} answered with {}", request.name(), reply_kind(reply));
    // … and what some answers must hold beyond their kind.
    match (request, reply) {
        (Request::Hello, Reply::Hello(h)) => assert_eq!(h.abi_version, ABI_VERSION),
        (Request::Predict { pairs }, Reply::Predictions(p)) => assert_eq!(p.len(), pairs.len()),
        (Request::Recommend { n, .. }, Reply::Recommendations(r)) => {
            assert!(r.len() <= *n as usize, "{} recommendations for a top {n}", r.len());
            let ordered = |w: &[Scored]| w[0].score.total_cmp(&w[1].score).is_ge();
            assert!(r.windows(2).all(ordered), "recommendations are not best first: {r:?}");
        }
        (Request::RecommendHybrid { n, diversity, .. }, Reply::Hybrid(r)) => {
            assert!(r.len() <= *n as usize, "{} recommendations for a top {n}", r.len());
            let unit = |x: f32| (0.0..=1.0001).contains(&x);
            assert!(r.iter().all(|h| unit(h.cf) && unit(h.content) && unit(h.score)), "parts outside 0–1: {r:?}");
            let best_first = r.windows(2).all(|w| w[0].score.total_cmp(&w[1].score).is_ge());
            assert!(*diversity > 0.0 || best_first, "not best first: {r:?}");
        }
        (Request::Explain { item, .. }, Reply::Explanation(e)) => {
            assert_eq!(e.item, *item);
            assert!((0.0..=1.0).contains(&e.confidence), "confidence {}", e.confidence);
            if let Some(lift) = e.lift {
                assert!(lift.before >= 1 && lift.after >= 1 && lift.price.is_finite(), "lift {lift:?}");
            }
        }
        (Request::PrepareDiversity { .. }, Reply::Diversity(r)) => assert!(r.done <= r.total, "{r:?}"),
        (Request::Similar { n, .. } | Request::SimilarContent { n, .. }, Reply::Neighbours(r)) => {
            assert!(r.len() <= *n as usize, "{} similar movies for {n}", r.len());
            assert!(r.windows(2).all(|w| w[0].1.total_cmp(&w[1].1).is_ge()), "not most similar first: {r:?}");
        }
        _ => {}
    }
}

/// The reply's name, with the error kind spelled out: each is its own feature.
pub(crate) fn reply_kind(reply: &Reply) -> String {
    match reply {
        Reply::Error { kind, .. } => format!("Error({kind:?})"),
        other => other.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_reach_every_reply_kind() {
        let mut target = Protocol;
        let features: Vec<String> = target.seeds().iter().flat_map(|s| target.run(s)).collect();
        let kinds = [
            "Hello",
            "Ok",
            "Indexed",
            "Progress",
            "Predictions",
            "Recommendations",
            "Model",
            "Error(BadState)",
            "ContentBuilt",
            "Hybrid",
            "Explanation",
            "Parts",
        ];
        for kind in kinds {
            assert!(features.iter().any(|f| f.ends_with(&format!("→ {kind}"))), "no seed gets {kind}: {features:#?}");
        }
        assert!(features.iter().any(|f| f == "TrainStep → ExportModel → Model" || f.contains("ImportModel → Ok")));
    }
}
