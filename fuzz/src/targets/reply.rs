//! Target `reply`: the host's side of the wire. The input is decoded with
//! `Reply::decode` (and must re-encode to the same meaning), then sent
//! through the host's real checked path: an echo module, running in the real
//! sandbox behind the real `EngineClient` (loaded with 2 users and 3 movies),
//! answers the next call with the input's bytes — or, in structured mode, a
//! well-formed reply of the kind the call expects built from the input's
//! bytes (movie indices, NaN and ∞, lengths, progress that stalls), which
//! the client must refuse by the meaning checks or hand back sound. Or, in
//! raw mode, with the input's first eight bytes as the
//! packed pointer and length). The client must refuse what does not fit the
//! call — never panic, never hand back a wrong-sized answer.

use std::path::PathBuf;

use cinema_host::{EngineClient, EngineModule, Limits, ModuleSource, Runtime};
use cinema_protocol::*;

use super::protocol::reply_kind;
use crate::{Target, shape};

/// Where the echo module keeps things in its memory.
const OK_AT: u32 = 2048;
const STASH_AT: u32 = 4096;
const REQUEST_AT: u32 = 65536;
const MAX_INPUT: usize = 4096;

pub struct ReplyPath {
    runtime: Runtime,
    module: EngineModule,
    client: Option<EngineClient>,
}

impl ReplyPath {
    pub fn new() -> ReplyPath {
        let runtime = Runtime::new(None).expect("the WebAssembly runtime starts");
        let (module, compiled) =
            runtime.compile("fuzz-echo", echo_module().as_bytes()).expect("the echo module compiles");
        let module = EngineModule {
            name: "fuzz-echo".into(),
            source: ModuleSource::File(PathBuf::from("fuzz-echo.wat")),
            sha256: String::new(),
            module,
            compiled,
        };
        ReplyPath { runtime, module, client: None }
    }
}

impl ReplyPath {
    /// A new instance, loaded with the shape replies are checked against.
    fn fresh_client(&self) -> EngineClient {
        let mut client =
            EngineClient::start(&self.runtime, &self.module, Limits::default()).expect("the echo module starts");
        let mut stash = vec![0];
        stash.extend_from_slice(&Reply::Indexed(INDEXED).encode());
        client.ask(call::ImportModel { bytes: stash }).expect("the echo module stashes the reply");
        load(&mut client).expect("the echo module takes the data");
        client
    }
}

impl Default for ReplyPath {
    fn default() -> Self {
        ReplyPath::new()
    }
}

/// The calls a reply can answer: (name, call). Each returns a short outcome
/// and checks what the client promises its callers.
type Call = fn(&mut EngineClient) -> anyhow::Result<&'static str>;

/// The shape every client is loaded with.
const USERS: u32 = 2;
const ITEMS: u32 = 3;
const SCALE: Scale = Scale { min: 1.0, max: 5.0 };

const CALLS: [(&str, Call); 14] = [
    ("predict", |c| {
        let predictions = c.predict(&[(0, 1), (1, 2)])?;
        assert_eq!(predictions.len(), 2, "one prediction per pair");
        assert!(predictions.iter().all(|p| (SCALE.min..=SCALE.max).contains(p)), "{predictions:?}");
        Ok("predictions")
    }),
    ("recommend", |c| {
        let top = c.ask(call::Recommend { user: 0, n: 5 })?;
        assert!(top.len() <= 5, "{} recommendations for a top 5", top.len());
        let mut items: Vec<u32> = top.iter().map(|s| s.item).collect();
        items.sort_unstable();
        items.dedup();
        assert!(items.len() == top.len() && items.iter().all(|&i| i < ITEMS), "{top:?}");
        assert!(top.iter().all(|s| s.score.is_finite() && (SCALE.min..=SCALE.max).contains(&s.prediction)));
        Ok("recommendations")
    }),
    ("similar", |c| {
        let similar = c.ask(call::Similar { item: 1, n: 2 })?;
        assert!(similar.len() <= 2 && similar.iter().all(|&(i, cos)| i < ITEMS && i != 1 && cos.abs() <= 1.001));
        Ok("neighbours")
    }),
    // To the end: a training that never finishes must be stopped, not waited for.
    ("train", |c| c.train(svd(), |_| std::ops::ControlFlow::Continue(())).map(|_| "trained")),
    ("train_start", |c| c.train_start(svd()).map(|_| "progress")),
    ("train_step", |c| c.train_step().map(|_| "progress")),
    ("export_model", |c| c.ask(call::ExportModel {}).map(|_| "model")),
    ("fold_in", |c| {
        c.ask(call::FoldIn { user: 0, ratings: vec![(1, 4.0)], marks: vec![(2, Mark::Hidden)] }).map(|()| "ok")
    }),
    ("load", load),
    ("hybrid", |c| {
        let top = c.ask(call::RecommendHybrid { user: 0, n: 5, weight: 0.5, diversity: 0.5 })?;
        let mut items: Vec<u32> = top.iter().map(|s| s.item).collect();
        items.sort_unstable();
        items.dedup();
        assert!(items.len() == top.len() && top.len() <= 5 && items.iter().all(|&i| i < ITEMS), "{top:?}");
        let unit = |x: f32| (0.0..=1.0001).contains(&x);
        assert!(top.iter().all(|s| unit(s.score) && unit(s.cf) && unit(s.content)), "{top:?}");
        Ok("hybrid")
    }),
    ("explain", |c| {
        let e = c.ask(call::Explain { user: 0, item: 1, weight: 0.5, diversity: 0.5 })?;
        assert!(e.item == 1 && (0.0..=1.0001).contains(&e.confidence), "{e:?}");
        assert!(e.stars.contributions.iter().all(|c| c.0 < ITEMS && c.2.is_finite()), "{e:?}");
        assert!(e.stars.marks.iter().all(|c| c.0 < ITEMS && c.2.is_finite()), "{e:?}");
        assert!(e.similar_users.iter().all(|u| u.0 < USERS), "{e:?}");
        Ok("explanation")
    }),
    ("content", |c| {
        let stats = c.build_content(&[Features { item: 1, terms: vec![(0, Field::Genre)] }], 2)?;
        assert!(stats.items <= ITEMS && stats.pairs <= u64::from(stats.items) * 2, "{stats:?}");
        Ok("content")
    }),
    ("parts", |c| {
        let parts = c.ask(call::Parts {})?;
        assert!(parts.iter().all(|(name, w)| !name.is_empty() && w.is_finite()), "{parts:?}");
        Ok("parts")
    }),
    ("diversity", |c| {
        let ready = c.ask(call::PrepareDiversity { users: 8 })?;
        assert!(ready.done <= ready.total && ready.total <= USERS + Readiness::MAX_EXTRA, "{ready:?}");
        Ok("diversity")
    }),
];

fn load(c: &mut EngineClient) -> anyhow::Result<&'static str> {
    c.load(USERS, ITEMS, SCALE, &[(0, 1, 4.0)], &[(1, 2, 3.0)]).map(|_| "indexed")
}

/// The honest answer to `load`'s `Index`.
const INDEXED: Indexed = Indexed { users: USERS, items: ITEMS, train: 1, validation: 1, global_mean: 4.0 };

/// A well-formed reply for call `call`, its values read from `bytes`: the
/// kinds of lie a module can tell without breaking the encoding.
fn structured(call: &str, bytes: &[u8]) -> Reply {
    let mut at = 0;
    let mut next = || {
        let b = bytes.get(at).copied().unwrap_or(0);
        at += 1;
        b
    };
    const REALS: [f32; 12] =
        [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1.0, 0.0, 0.5, 1.0, 3.5, 5.0, 5.5, 1e30, -0.0];
    const INDICES: [u32; 6] = [0, 1, 2, 3, u32::MAX, 1 << 31];
    let (len, pick) = (usize::from(next() % 8), next());
    let mut real = || REALS[usize::from(next()) % REALS.len()];
    let index = |b: u8| INDICES[usize::from(b) % INDICES.len()];
    match call {
        "predict" => Reply::Predictions((0..len).map(|_| real()).collect()),
        "recommend" => Reply::Recommendations(
            (0..len)
                .map(|k| Scored { item: index(pick.wrapping_add(k as u8)), score: real(), prediction: real() })
                .collect(),
        ),
        "similar" => Reply::Neighbours((0..len).map(|k| (index(pick.wrapping_add(k as u8)), real())).collect()),
        "train" | "train_start" | "train_step" => {
            let small = |b: u8| [0, 1, 2, 3, u32::MAX][usize::from(b) % 5];
            let (epoch, epochs, visited) = (small(pick), small(pick / 5), u64::from(small(pick / 25)));
            let rmse = real();
            Reply::Progress(Progress {
                epoch,
                epochs,
                visited,
                per_epoch: u64::from(small(len as u8)),
                train_rmse: (pick & 1 == 1).then_some(rmse),
                validation_rmse: None,
                finished: pick & 2 == 2,
            })
        }
        // The echo module holds at most a few KiB; tests/liars.rs tries a model over the cap.
        "export_model" => Reply::Model(vec![0; len << (pick % 10)]),
        "load" => Reply::Indexed(Indexed { users: index(pick), global_mean: real(), ..INDEXED }),
        "hybrid" => Reply::Hybrid(
            (0..len)
                .map(|k| HybridScored {
                    item: index(pick.wrapping_add(k as u8)),
                    score: real(),
                    prediction: real(),
                    cf: real(),
                    content: real(),
                })
                .collect(),
        ),
        "explain" => {
            let stars = Decomposition {
                baseline: real(),
                contributions: (0..len).map(|k| (index(pick.wrapping_add(k as u8)), real(), real())).collect(),
                total: real(),
                model: real(),
                exact: pick & 1 == 1,
                marks: (0..len / 2).map(|k| (index(pick.wrapping_add(k as u8 * 3)), Mark::Hidden, real())).collect(),
            };
            Reply::Explanation(Explanation {
                item: index(pick / 3),
                prediction: real(),
                stars,
                rank: None,
                genres: (0..len).map(|_| (0, real())).collect(),
                genre_match: real(),
                similar_users: (0..len).map(|k| (index(pick.wrapping_sub(k as u8)), real(), real())).collect(),
                cf: real(),
                content: real(),
                liked: 0,
                user_ratings: 0,
                item_ratings: 0,
                confidence: real(),
                lift: (pick & 2 == 2).then(|| Lift { price: real(), before: index(pick / 5), after: index(pick / 7) }),
            })
        }
        "content" => Reply::ContentBuilt(ContentStats {
            items: index(pick),
            terms: 1,
            pairs: u64::from(index(pick / 6)),
            bytes: 0,
        }),
        "diversity" => Reply::Diversity(Readiness { done: index(pick), total: index(pick / 6) }),
        "parts" => {
            const NAMES: [&str; 4] = ["svdpp", "", "\u{1b}[2J", "knn"];
            Reply::Parts((0..len).map(|k| (NAMES[(usize::from(pick) + k) % NAMES.len()].to_owned(), real())).collect())
        }
        _ => Reply::Ok,
    }
}

/// A sound explanation of movie 1 for user 0, who rated movie 2.
fn honest_explanation() -> Explanation {
    let stars = Decomposition {
        baseline: 3.5,
        contributions: vec![(2, 4.0, 0.5)],
        total: 4.0,
        model: 4.0,
        exact: true,
        marks: vec![],
    };
    Explanation {
        item: 1,
        prediction: 4.0,
        stars,
        rank: None,
        genres: vec![(0, 1.0)],
        genre_match: 0.8,
        similar_users: vec![(1, 4.0, 0.9)],
        cf: 0.4,
        content: 0.1,
        liked: 1,
        user_ratings: 1,
        item_ratings: 1,
        confidence: 0.3,
        lift: Some(Lift { price: 0.4, before: 2, after: 1 }),
    }
}

fn svd() -> ModelSpec {
    ModelSpec::new("svd").with("factors", Value::Integer(4)).with("epochs", Value::Integer(2))
}

impl Target for ReplyPath {
    fn name(&self) -> &'static str {
        "reply"
    }

    /// One good reply for each call (first byte: which call).
    fn seeds(&self) -> Vec<Vec<u8>> {
        let progress = Progress {
            epoch: 1,
            epochs: 2,
            visited: 0,
            per_epoch: 4,
            train_rmse: Some(0.9),
            validation_rmse: None,
            finished: false,
        };
        let replies = [
            ("predict", Reply::Predictions(vec![3.5, 4.0])),
            ("recommend", Reply::Recommendations(vec![Scored { item: 2, score: 4.2, prediction: 4.2 }])),
            ("similar", Reply::Neighbours(vec![(2, 0.5), (0, -0.25)])),
            ("train", Reply::Progress(Progress { finished: true, ..progress })),
            ("train_start", Reply::Progress(progress)),
            ("train_step", Reply::Progress(Progress { finished: true, ..progress })),
            ("export_model", Reply::Model(vec![1, 2, 3])),
            ("fold_in", Reply::Ok),
            ("load", Reply::Indexed(INDEXED)),
            (
                "hybrid",
                Reply::Hybrid(vec![HybridScored { item: 2, score: 0.7, prediction: 4.1, cf: 1.0, content: 0.25 }]),
            ),
            ("content", Reply::ContentBuilt(ContentStats { items: 1, terms: 1, pairs: 0, bytes: 64 })),
            ("explain", Reply::Explanation(honest_explanation())),
            ("parts", Reply::Parts(vec![("svdpp".into(), 0.6), ("knn".into(), 0.4)])),
            ("diversity", Reply::Diversity(Readiness { done: 1, total: 2 })),
            ("predict", Reply::Error { kind: ErrorKind::BadState, message: "no model".into() }),
        ];
        let call = |name| CALLS.iter().position(|(n, _)| *n == name).expect("a call of that name") as u8;
        let mut seeds: Vec<Vec<u8>> =
            replies.iter().map(|(name, reply)| [vec![call(*name)], reply.encode()].concat()).collect();
        // Structured mode (second bit): a stalled training, a list past the catalogue.
        seeds.push(vec![0x40 | call("train"), 2, 60]);
        seeds.push(vec![0x40 | call("recommend"), 3, 4, 1, 1]);
        seeds.push(vec![0x40 | call("explain"), 2, 3, 1, 1]);
        seeds.push(vec![0x40 | call("hybrid"), 2, 4, 7, 6]);
        // Raw mode (top bit): a pointer and length that lie outside memory.
        seeds.push([vec![0x80], (u64::from(u32::MAX) << 32 | 16).to_le_bytes().to_vec()].concat());
        seeds
    }

    fn dictionary(&self) -> Vec<Vec<u8>> {
        [Reply::Ok, Reply::Predictions(vec![1.0]), Reply::Error { kind: ErrorKind::BadModel, message: String::new() }]
            .iter()
            .map(Reply::encode)
            .collect()
    }

    fn max_len(&self) -> usize {
        MAX_INPUT
    }

    fn run(&mut self, input: &[u8]) -> Vec<String> {
        let mut features = Vec::new();
        let Some((&choice, reply)) = input.split_first() else { return features };
        match Reply::decode(reply) {
            Ok(decoded) => {
                let bytes = decoded.encode();
                let again = Reply::decode(&bytes).expect("an encoded reply decodes");
                assert_eq!(again.encode(), bytes, "a reply changes on its way through the wire");
                features.push(format!("decodes: {}", reply_kind(&decoded)));
            }
            Err(e) => features.push(format!("does not decode: {e}")),
        }
        let (raw, structure) = (choice & 0x80 != 0, choice & 0x40 != 0);
        let (name, call) = CALLS[usize::from(choice & 0x3f) % CALLS.len()];
        let mut client = match self.client.take() {
            Some(client) => client,
            None => self.fresh_client(),
        };
        let mut stash = vec![u8::from(raw)];
        match structure && !raw {
            true => stash.extend_from_slice(&structured(name, reply).encode()),
            false => stash.extend_from_slice(reply),
        }
        client.ask(call::ImportModel { bytes: stash }).expect("the echo module stashes the reply");
        let mode = match (raw, structure) {
            (true, _) => " raw",
            (false, true) => " structured",
            (false, false) => "",
        };
        match call(&mut client) {
            Ok(outcome) => {
                features.push(format!("{name}{mode}: {outcome}"));
                self.client = Some(client);
            }
            // A refused reply may have stopped the instance: the next input starts a fresh one.
            Err(e) => {
                let text = format!("{e:#}");
                features.push(format!("{name}{mode}: refused: {}", shape(without_message(&text))))
            }
        }
        features
    }

    fn reset(&mut self) {
        self.client = None;
    }
}

/// An engine error's text up to the module's own message: that message is
/// the input's bytes, and as a feature it would make every input look new.
fn without_message(text: &str) -> &str {
    match text.find("refused the request (") {
        Some(at) => text[at..].find("): ").map_or(text, |end| &text[..at + end + 1]),
        None => text,
    }
}

/// A module that answers `Hello` properly, takes `Reset` and `AddRatings`
/// with `Ok`, stores the payload of an `ImportModel` (a mode byte, then a
/// reply) and answers `Ok`, and answers every other request with the stored reply — or in raw mode with the
/// stored reply's first eight bytes as its packed `pointer << 32 | length`.
fn echo_module() -> String {
    let hello = Reply::Hello(Hello {
        abi_version: ABI_VERSION,
        engine: "fuzz-echo".into(),
        engine_version: "0".into(),
        // The client checks training requests against this description.
        algorithms: vec![AlgorithmInfo {
            name: "svd".into(),
            role: Role::Rating,
            description: "echo".into(),
            params: vec![
                ParamInfo::integer("factors", 4, 1, 1024, "vector length"),
                ParamInfo::integer("epochs", 2, 1, 100, "passes"),
            ],
        }],
    })
    .encode();
    let ok = Reply::Ok.encode();
    assert!(hello.len() < OK_AT as usize && ok.len() < (STASH_AT - OK_AT) as usize);
    let hello_tag = Request::Hello.encode()[0];
    let import_tag = Request::ImportModel { bytes: Vec::new() }.encode()[0];
    let reset_tag = Request::Reset { users: 0, items: 0, scale: SCALE }.encode()[0];
    let add_tag = Request::AddRatings { set: RatingSet::Train, ratings: Vec::new() }.encode()[0];
    let features_tag = Request::AddFeatures { items: Vec::new() }.encode()[0];
    let escape = |bytes: &[u8]| bytes.iter().map(|b| format!("\\{b:02x}")).collect::<String>();
    format!(
        r#"(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{hello_bytes}")
  (data (i32.const {OK_AT}) "{ok_bytes}")
  (global $stashed (mut i32) (i32.const 0))
  (global $raw (mut i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const {ABI_VERSION}))
  ;; One request is in flight at a time, so they can all land in one place.
  (func (export "alloc") (param i32) (result i32) (i32.const {REQUEST_AT}))
  (func (export "call") (param $at i32) (param $len i32) (result i64)
    (local $byte i32) (local $size i32) (local $shift i32)
    (if (i32.eq (i32.load8_u (local.get $at)) (i32.const {hello_tag}))
      (then (return (i64.const {hello_len}))))
    ;; Data is taken and dropped: the client only needs its `Ok`.
    (if (i32.or (i32.or (i32.eq (i32.load8_u (local.get $at)) (i32.const {reset_tag}))
                        (i32.eq (i32.load8_u (local.get $at)) (i32.const {add_tag})))
                (i32.eq (i32.load8_u (local.get $at)) (i32.const {features_tag})))
      (then (return (i64.const {ok_packed}))))
    (if (i32.eq (i32.load8_u (local.get $at)) (i32.const {import_tag}))
      (then
        ;; The payload's length as a LEB128 varint, then the payload.
        (loop $varint
          (local.set $at (i32.add (local.get $at) (i32.const 1)))
          (local.set $byte (i32.load8_u (local.get $at)))
          (local.set $size (i32.or (local.get $size)
            (i32.shl (i32.and (local.get $byte) (i32.const 0x7f)) (local.get $shift))))
          (local.set $shift (i32.add (local.get $shift) (i32.const 7)))
          (br_if $varint (i32.and (local.get $byte) (i32.const 0x80))))
        (global.set $raw (i32.load8_u (i32.add (local.get $at) (i32.const 1))))
        (global.set $stashed (i32.sub (local.get $size) (i32.const 1)))
        (memory.copy (i32.const {STASH_AT}) (i32.add (local.get $at) (i32.const 2)) (global.get $stashed))
        (return (i64.const {ok_packed}))))
    (if (result i64) (global.get $raw)
      (then (i64.load (i32.const {STASH_AT})))
      (else (i64.or (i64.const {stash_packed}) (i64.extend_i32_u (global.get $stashed)))))))
"#,
        hello_bytes = escape(&hello),
        ok_bytes = escape(&ok),
        hello_len = hello.len(),
        ok_packed = (u64::from(OK_AT) << 32) | ok.len() as u64,
        stash_packed = u64::from(STASH_AT) << 32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_replies_pass_and_junk_is_refused_by_the_real_client() {
        let mut target = ReplyPath::new();
        let features: Vec<String> = target.seeds().iter().flat_map(|s| target.run(s)).collect();
        // `load` sends Reset first, which wants `Ok`; the echo module answers
        // every call alike, so `load` can only ever be refused here.
        for (name, _) in CALLS.iter().filter(|(name, _)| *name != "load") {
            assert!(features.iter().any(|f| f.starts_with(name) && !f.contains("refused")), "{name}: {features:#?}");
        }
        assert!(features.iter().any(|f| f.starts_with("predict raw: refused") && f.contains("outside its memory")));
        // Well-formed lies are refused by what they mean.
        let refused = |f: &&String, call: &str, rule: &str| f.starts_with(call) && f.contains(rule);
        assert!(features.iter().any(|f| refused(&f, "train structured: refused", "answered TrainStep with progress")));
        assert!(features.iter().any(|f| refused(&f, "recommend structured: refused", "with movie index #, outside")));
        let junk = target.run(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(junk.iter().any(|f| f.starts_with("recommend: refused") && f.contains("does not decode")), "{junk:?}");
    }
}
