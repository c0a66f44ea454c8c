//! The real built-in engine modules, run by the real host (`cinema::host`) on
//! real MovieLens data: the handshake, stepped training of the reference SVD,
//! bit-for-bit agreement with the native engine, model export/import,
//! recommendations, the compiled-module cache, and the baseline's accuracy
//! against the published Surprise figure.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use cinema::eval::{Protocol, Split, evaluate, make_splits};
use cinema_engine::algorithms::{Algorithm, IalsParams, SvdParams};
use cinema_engine::defaults;
use cinema_engine::{EngineInfo, Session};
use cinema_host::runtime::Compiled;
use cinema_host::{EngineClient, EngineModule, Limits, Refused, Runtime, Sandbox};
use cinema_protocol::{
    ABI_VERSION, ErrorKind, Indexed, ModelSpec, Progress, RatingSet, Reply, Request, Scale, Scored, Triple, Value, call,
};
use cinema_store::{Dataset, import};

use crate::common::shared;

/// Surprise's `BaselineOnly()` RMSE on ML-100K u1 (`shared/PEERS.md`).
const SURPRISE_BASELINE_U1_RMSE: f64 = 0.9599;

/// `$CINEMA_SHARED`, else `shared/` next to the workspace.
fn ml100k_dir() -> PathBuf {
    shared().join("datasets/ml-100k")
}

/// ML-100K, imported once per test binary.
fn ml100k() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET.get_or_init(|| import(&ml100k_dir()).expect("ML-100K imports"))
}

/// ML-100K's predefined u1.base / u1.test split, read once.
fn u1() -> &'static Split {
    static SPLIT: OnceLock<Split> = OnceLock::new();
    SPLIT.get_or_init(|| {
        let mut folds = make_splits(ml100k(), &Protocol::Folds { dir: ml100k_dir() }).expect("u1..u5 read");
        folds.swap_remove(0)
    })
}

fn train_triples() -> Vec<Triple> {
    cinema::eval::score::triples(&u1().train)
}

fn test_triples() -> Vec<Triple> {
    cinema::eval::score::triples(&u1().test)
}

fn scale() -> Scale {
    cinema::eval::score::scale(ml100k())
}

/// (users, items) of ML-100K.
fn shape() -> (u32, u32) {
    (ml100k().user_ids.len() as u32, ml100k().movies.len() as u32)
}

/// The model exported and imported into a fresh module on u1: it predicts
/// the same to the bit. The fresh module is returned for more checks.
fn round_trip(client: &mut EngineClient) -> EngineClient {
    let bytes = client.ask(call::ExportModel {}).unwrap();
    let mut fresh = default_client();
    load_u1(&mut fresh, false);
    fresh.ask(call::ImportModel { bytes }).unwrap();
    let sample = sample_pairs();
    assert_eq!(fresh.predict(&sample).unwrap(), client.predict(&sample).unwrap());
    fresh
}

/// A few hundred (user, movie) pairs from u1.test, spread over the file.
fn sample_pairs() -> Vec<(u32, u32)> {
    u1().test.iter().step_by(50).map(|r| (r.user, r.item)).collect()
}

/// The default limits, but a generous deadline: the machine is shared with
/// other builds, and deadlines are not what these tests are about.
fn limits() -> Limits {
    Limits { call_deadline: Duration::from_secs(60), ..Limits::default() }
}

/// One runtime (no disk cache) with the default module compiled, shared by the tests.
fn shared_runtime() -> &'static (Runtime, EngineModule) {
    static RUNTIME: OnceLock<(Runtime, EngineModule)> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = Runtime::new(None).expect("runtime starts");
        let module = cinema::modules::builtin(&runtime, "cinema-default").expect("the default module compiles");
        (runtime, module)
    })
}

/// A fresh instance of the built-in default module.
fn default_client() -> EngineClient {
    let (runtime, module) = shared_runtime();
    EngineClient::start(runtime, module, limits()).expect("the default module starts")
}

/// Loads u1.base (and optionally u1.test as validation) into `client`.
fn load_u1(client: &mut EngineClient, with_validation: bool) -> Indexed {
    let validation = if with_validation { test_triples() } else { Vec::new() };
    let (users, items) = shape();
    client.load(users, items, scale(), &train_triples(), &validation).expect("u1 loads")
}

fn train_to_end(client: &mut EngineClient, spec: ModelSpec) -> Progress {
    let done = client.train(spec, |_| std::ops::ControlFlow::Continue(())).expect("training runs");
    assert!(done.finished && done.epoch == done.epochs, "{done:?}");
    done
}

/// A small, quick SVD: 16 factors, 5 epochs, reference learning rates.
fn small_svd() -> ModelSpec {
    Algorithm::Svd(SvdParams { factors: 16, epochs: 5, ..defaults::svd_reference() }).to_spec()
}

fn baseline() -> ModelSpec {
    Algorithm::Baseline(defaults::baseline()).to_spec()
}

fn algorithm_names(client: &EngineClient) -> Vec<&str> {
    client.hello().algorithms.iter().map(|a| a.name.as_str()).collect()
}

// --- The handshake ------------------------------------------------------------

#[test]
fn default_module_says_hello_with_this_abi_its_rating_models_and_its_ranking_model() {
    let client = default_client();
    let hello = client.hello();
    assert_eq!(hello.abi_version, ABI_VERSION);
    assert_eq!(hello.engine, "cinema-default");
    assert_eq!(
        algorithm_names(&client),
        ["svd", "baseline", "rankblend", "ials", "svdpp", "knn", "nmf", "slopeone", "blend", "ease"]
    );
    assert_eq!(hello.default_rating().map(|s| s.algorithm).as_deref(), Some("svd"));
    assert_eq!(hello.default_ranking().map(|s| s.algorithm).as_deref(), Some("rankblend"));
    assert_eq!(hello.algorithms, cinema_engine::standard_algorithms());
    assert_eq!(client.module_sha256().len(), 64);
}

#[test]
fn baseline_module_offers_only_baseline_and_refuses_svd() {
    let runtime = Runtime::new(None).unwrap();
    let module = cinema::modules::builtin(&runtime, "cinema-baseline").unwrap();
    let mut client = EngineClient::start(&runtime, &module, limits()).unwrap();
    assert_eq!(client.hello().engine, "cinema-baseline");
    assert_eq!(client.hello().abi_version, ABI_VERSION);
    assert_eq!(algorithm_names(&client), ["baseline"]);

    load_u1(&mut client, false);
    // The host checks a spec against the module's description before sending it…
    let refusal = client.train_start(small_svd()).expect_err("svd is not offered").to_string();
    assert!(refusal.contains("no algorithm `svd`") && refusal.contains("offers: baseline"), "{refusal}");

    // …and the module checks it again, for hosts that do not: an ordinary
    // error reply naming the parameter, after which it still works.
    let mut sandbox = Sandbox::new(&runtime, &module.name, &module.module, limits()).unwrap();
    let (users, items) = shape();
    assert_eq!(sandbox.call(&call::Reset { users, items, scale: scale() }).unwrap(), Reply::Ok);
    let add = call::AddRatings { set: RatingSet::Train, ratings: train_triples() };
    assert_eq!(sandbox.call(&add).unwrap(), Reply::Ok);
    assert!(matches!(sandbox.call(&call::Index {}).unwrap(), Reply::Indexed(_)));
    let refused = |sandbox: &mut Sandbox, spec: ModelSpec| match sandbox.call(&call::TrainStart { spec }).unwrap() {
        Reply::Error { kind: ErrorKind::BadArgument, message } => message,
        other => panic!("expected BadArgument, got {other:?}"),
    };
    let message = refused(&mut sandbox, small_svd());
    assert!(message.contains("`svd`") && message.contains("offers: baseline"), "{message}");
    let message = refused(&mut sandbox, ModelSpec::new("baseline").with("epochs", Value::Integer(0)));
    assert!(message.contains("parameter `epochs` of baseline must be an integer from 1 to 10000, not 0"), "{message}");
    let message = refused(&mut sandbox, ModelSpec::new("baseline").with("reg_user", Value::Integer(3)));
    assert!(message.contains("`reg_user`") && message.contains("a number"), "wrong kind: {message}");
    assert!(matches!(sandbox.call(&call::TrainStart { spec: baseline() }).unwrap(), Reply::Progress(_)));

    train_to_end(&mut client, baseline());
    let predictions = client.predict(&sample_pairs()).unwrap();
    assert!(predictions.iter().all(|p| (1.0..=5.0).contains(p)));
}

// --- Training -----------------------------------------------------------------

#[test]
fn reference_svd_on_u1_reports_every_epoch_and_converges() {
    let mut client = default_client();
    let indexed = load_u1(&mut client, true);
    assert_eq!((indexed.users, indexed.items, indexed.train, indexed.validation), (943, 1682, 80_000, 20_000));

    let start = client.train_start(Algorithm::Svd(defaults::svd_reference()).to_spec()).unwrap();
    assert_eq!((start.epoch, start.epochs, start.per_epoch, start.finished), (0, 20, 80_000, false));

    // (epoch, train RMSE, validation RMSE) each time an epoch completes.
    let mut epochs: Vec<(u32, f32, f32)> = Vec::new();
    let mut last = start;
    while !last.finished {
        let progress = client.train_step().unwrap();
        assert!(progress.epoch >= last.epoch && progress.epoch <= last.epoch + 1, "{last:?} → {progress:?}");
        assert!(progress.visited <= progress.per_epoch);
        if progress.epoch > last.epoch {
            assert_eq!(progress.visited, 0);
            let train = progress.train_rmse.expect("train RMSE after each epoch");
            let validation = progress.validation_rmse.expect("validation RMSE after each epoch");
            epochs.push((progress.epoch, train, validation));
        }
        last = progress;
    }

    assert_eq!(epochs.iter().map(|e| e.0).collect::<Vec<_>>(), (1..=20).collect::<Vec<_>>());
    let (first, final_) = (epochs[0], epochs[19]);
    assert!(final_.1 < first.1, "train RMSE should fall: {first:?} → {final_:?}");
    assert!(final_.2 < 0.97, "validation RMSE after 20 epochs: {}", final_.2);
    assert!(final_.2 < first.2, "validation RMSE should fall: {first:?} → {final_:?}");
}

/// The engine compiled natively, fed the requests the host would send.
fn native_predictions(specs: &[ModelSpec], pairs: &[(u32, u32)]) -> (Vec<f32>, Vec<Vec<Scored>>) {
    let info = EngineInfo { name: "native", version: "0", algorithms: cinema_engine::standard_algorithms() };
    let mut session = Session::new(info);
    let (users, items) = shape();
    assert_eq!(session.handle(Request::Reset { users, items, scale: scale() }), Reply::Ok);
    let add = Request::AddRatings { set: RatingSet::Train, ratings: train_triples() };
    assert_eq!(session.handle(add), Reply::Ok);
    assert!(matches!(session.handle(Request::Index), Reply::Indexed(_)));
    for spec in specs {
        assert!(matches!(session.handle(Request::TrainStart { spec: spec.clone() }), Reply::Progress(_)));
        loop {
            match session.handle(Request::TrainStep { budget: u64::MAX }) {
                Reply::Progress(p) if p.finished => break,
                Reply::Progress(_) => {}
                other => panic!("native training: {other:?}"),
            }
        }
    }
    let Reply::Predictions(predictions) = session.handle(Request::Predict { pairs: pairs.to_vec() }) else {
        panic!("native predict failed");
    };
    let tops = compared_users()
        .map(|user| match session.handle(Request::Recommend { user, n: 50 }) {
            Reply::Recommendations(top) => top,
            other => panic!("native recommend failed: {other:?}"),
        })
        .collect();
    (predictions, tops)
}

/// Users whose top 50 the wasm and native engines must agree on: twenty,
/// spread over ML-100K's 943.
fn compared_users() -> impl Iterator<Item = u32> {
    (0..943).step_by(47)
}

/// Bit for bit, not merely close: the wasm kernels keep the native lane
/// order. 13 and 100 factors exercise the kernels' half-chunk and tail paths,
/// 300 the training step's loop past its straight-line rows; 1,682 movies,
/// the integer scan's groups of four and its remainder.
#[test]
fn wasm_module_and_native_engine_predict_the_same_to_the_bit() {
    let pairs = sample_pairs();
    assert!(pairs.len() >= 300, "{}", pairs.len());
    let svd = |factors| Algorithm::Svd(SvdParams { factors, epochs: 3, ..defaults::svd_reference() }).to_spec();
    for spec in [baseline(), small_svd(), svd(13), svd(100), svd(300)] {
        let mut client = default_client();
        load_u1(&mut client, false);
        train_to_end(&mut client, spec.clone());
        let wasm = client.predict(&pairs).unwrap();
        let wasm_tops: Vec<Vec<Scored>> =
            compared_users().map(|u| client.ask(call::Recommend { user: u, n: 50 }).unwrap()).collect();

        let (native, native_tops) = native_predictions(std::slice::from_ref(&spec), &pairs);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&wasm), bits(&native), "{spec:?}");
        assert_eq!(wasm_tops, native_tops, "{spec:?}: the top 50 of twenty users");
    }
}

/// The ranking model too: its conjugate-gradient solves use the same
/// kernels, so the lists agree to the bit (13 factors: the tail paths; the
/// host steps it in slices, native in one go).
#[test]
fn wasm_and_native_ranking_models_give_the_same_lists_to_the_bit() {
    let pairs = sample_pairs();
    for factors in [13, 64] {
        let ranking = Algorithm::Ials(IalsParams { factors, iterations: 3, ..defaults::ials() }).to_spec();
        let mut client = default_client();
        load_u1(&mut client, false);
        train_to_end(&mut client, small_svd());
        train_to_end(&mut client, ranking.clone());
        let wasm_tops: Vec<Vec<Scored>> =
            compared_users().map(|u| client.ask(call::Recommend { user: u, n: 50 }).unwrap()).collect();
        let (native, native_tops) = native_predictions(&[small_svd(), ranking.clone()], &pairs);
        assert_eq!(wasm_tops, native_tops, "{ranking:?}: the top 50 of twenty users");
        assert_eq!(client.predict(&pairs).unwrap(), native, "the rating model still predicts");
        // Ranked by watching likelihood, not by stars: the order is not the predictions' order.
        assert!(wasm_tops.iter().any(|top| top.windows(2).any(|w| w[0].prediction < w[1].prediction)));
    }
}

/// Two instances of the module train the ranking models as a team — iALS
/// alone and inside the ranking blend, whose EASE each fits whole — and
/// make the same model to the bit as one instance; the rating model, which
/// does not share its rounds, trains alone on the first.
#[test]
fn a_team_of_two_instances_trains_the_ranking_models_of_one_to_the_bit() {
    let (runtime, module) = shared_runtime();
    let ials = Algorithm::Ials(IalsParams { factors: 24, iterations: 3, ..defaults::ials() }).to_spec();
    let blend = ModelSpec::new("rankblend").with("iterations", Value::Integer(2));
    for ranking in [ials, blend] {
        let mut models = Vec::new();
        for members in [1, 2] {
            let mut client = EngineClient::start_team(runtime, module, limits(), members).expect("a team starts");
            assert_eq!(client.members(), members);
            load_u1(&mut client, false);
            client.train_start(small_svd()).unwrap();
            assert!(!client.in_team(), "SVD trains alone");
            client.train_stop().unwrap();
            train_to_end(&mut client, small_svd());
            let mut progress = client.train_start(ranking.clone()).unwrap();
            assert_eq!(client.in_team(), members == 2, "{ranking:?}");
            while !progress.finished {
                progress = client.train_step().unwrap();
            }
            assert!(!client.in_team() && progress.epoch == progress.epochs, "{progress:?}");
            models.push(client.ask(call::ExportModel {}).unwrap());
        }
        assert!(models[0] == models[1], "{ranking:?}: the team's model differs from one instance's");
    }
}

// --- Models, predictions, recommendations -----------------------------------

#[test]
fn exported_model_imports_into_a_fresh_instance_with_identical_outputs() {
    let pairs = sample_pairs();
    let users = [0, 1, 99, 942];
    let mut trained = default_client();
    load_u1(&mut trained, false);
    train_to_end(&mut trained, small_svd());
    let bytes = trained.ask(call::ExportModel {}).unwrap();
    let predictions = trained.predict(&pairs).unwrap();
    let tops: Vec<Vec<Scored>> =
        users.iter().map(|&u| trained.ask(call::Recommend { user: u, n: 10 }).unwrap()).collect();

    let mut fresh = default_client();
    load_u1(&mut fresh, false);
    fresh.ask(call::ImportModel { bytes }).unwrap();
    assert_eq!(fresh.predict(&pairs).unwrap(), predictions);
    for (&user, top) in users.iter().zip(&tops) {
        assert_eq!(&fresh.ask(call::Recommend { user, n: 10 }).unwrap(), top, "user {user}");
    }

    let refusal =
        fresh.ask(call::ImportModel { bytes: b"definitely not a model".to_vec() }).expect_err("garbage is refused");
    let refused = refusal.downcast_ref::<cinema_host::Refused>().expect("a refusal, not a fault");
    assert_eq!(refused.kind, ErrorKind::BadModel, "{refusal:#}");
    assert!(refusal.to_string().contains("(model bytes it could not use)"), "said in words: {refusal:#}");
    assert_eq!(fresh.predict(&pairs).unwrap(), predictions, "the imported model is still in place");
}

/// SVD++ through the real module on u1: it beats Surprise's `SVDpp` on the
/// test split, a viewer's ratings fold in at once (every rated movie moves
/// their implicit sum), their stars are explained exactly, and the saved
/// model (format 3, named by its algorithm) comes back with the same outputs.
#[test]
fn svdpp_in_the_module_fits_u1_folds_in_explains_exactly_and_round_trips() {
    let mut client = default_client();
    load_u1(&mut client, false);
    let done = train_to_end(&mut client, ModelSpec::new("svdpp"));
    assert!(done.train_rmse.is_some_and(|r| r < 0.9), "{done:?}");
    let test = test_triples();
    let pairs: Vec<(u32, u32)> = test.iter().map(|&(u, i, _)| (u, i)).collect();
    let predictions = client.predict(&pairs).unwrap();
    let se: f64 = predictions.iter().zip(&test).map(|(p, t)| ((p - t.2) as f64).powi(2)).sum();
    let rmse = (se / test.len() as f64).sqrt();
    // Surprise's SVDpp on u1: 0.9342 (0.9220 over u1–u5; shared/peers/surprise_bench.py --algos svdpp).
    assert!(rmse < 0.922, "SVD++ test RMSE on u1: {rmse}");

    let viewer = 0;
    let ratings = vec![(49, 5.0), (180, 5.0), (171, 4.0), (0, 2.0)];
    let before = client.predict(&[(viewer, 120)]).unwrap();
    client.ask(call::FoldIn { user: viewer, ratings: ratings.clone(), marks: vec![] }).unwrap();
    assert_ne!(client.predict(&[(viewer, 120)]).unwrap(), before, "the fold-in moved the viewer");
    let explained = client.ask(call::Explain { user: viewer, item: 120, weight: 1.0, diversity: 0.0 }).unwrap();
    let stars = &explained.stars;
    assert!(stars.exact, "{stars:?}");
    assert_eq!(stars.contributions.len(), ratings.len());
    assert!((stars.total - stars.model).abs() < 1e-3, "the parts add up: {stars:?}");

    let mut fresh = round_trip(&mut client);
    fresh.ask(call::FoldIn { user: viewer, ratings, marks: vec![] }).unwrap();
    assert_eq!(fresh.predict(&[(viewer, 120)]).unwrap(), client.predict(&[(viewer, 120)]).unwrap());
}

/// Item-kNN with baselines through the real module on u1: it beats
/// Surprise's `KNNBaseline`, its neighbours answer "similar" (a model without
/// vectors), a folded-in viewer's stars are the baseline plus each chosen
/// neighbour's part, and the saved model comes back.
#[test]
fn knn_in_the_module_fits_u1_answers_similar_explains_exactly_and_round_trips() {
    let mut client = default_client();
    load_u1(&mut client, true);
    let done = train_to_end(&mut client, ModelSpec::new("knn"));
    assert_eq!(done.epochs, 11, "ten baseline sweeps and the neighbour pass");
    let rmse = f64::from(done.validation_rmse.expect("scored on u1.test"));
    // Surprise's KNNBaseline on u1: 0.9359 (0.9204 over u1–u5; shared/peers/surprise_bench.py
    // --algos knnbaseline): within 0.001 of it, with 1000 neighbours kept per movie against all.
    assert!(rmse < 0.937, "kNN test RMSE on u1: {rmse}");

    let movie = |id: u32| ml100k().movie_index(id).expect("in ML-100K");
    let (star_wars, empire, jedi) = (movie(50), movie(172), movie(181));
    let similar = client.ask(call::Similar { item: star_wars, n: 10 }).unwrap();
    assert_eq!(similar.len(), 10);
    assert!(similar.windows(2).all(|w| w[0].1 >= w[1].1) && similar.iter().all(|s| s.0 != star_wars));
    let ids: Vec<u32> = similar.iter().map(|s| s.0).collect();
    assert!(ids.contains(&empire) && ids.contains(&jedi), "the sequels are its neighbours: {similar:?}");

    let viewer = 0;
    let ratings = vec![(star_wars, 5.0), (empire, 5.0), (movie(1), 2.0)];
    client.ask(call::FoldIn { user: viewer, ratings: ratings.clone(), marks: vec![] }).unwrap();
    let explained = client.ask(call::Explain { user: viewer, item: jedi, weight: 1.0, diversity: 0.0 }).unwrap();
    let stars = &explained.stars;
    assert!(stars.exact && (stars.total - stars.model).abs() < 1e-4, "{stars:?}");
    assert!(stars.contributions.iter().any(|c| c.0 == star_wars && c.2 > 0.0), "{stars:?}");

    round_trip(&mut client);
}

/// EASE through the real module on u1, beside the small SVD: its lists are
/// the native engine's, the sequels are Star Wars' neighbours, a folded-in
/// viewer's list changes at once and is explained exactly, and the saved
/// pair (format 4, the ranking part named) comes back ranking the same.
#[test]
fn ease_in_the_module_ranks_u1_like_native_explains_exactly_and_round_trips() {
    let ease = ModelSpec::new("ease");
    let mut client = default_client();
    load_u1(&mut client, false);
    train_to_end(&mut client, small_svd());
    train_to_end(&mut client, ease.clone());
    let tops: Vec<Vec<Scored>> =
        compared_users().map(|u| client.ask(call::Recommend { user: u, n: 50 }).unwrap()).collect();
    let (_, native_tops) = native_predictions(&[small_svd(), ease], &sample_pairs());
    assert_eq!(tops, native_tops, "the top 50 of twenty users");

    let movie = |id: u32| ml100k().movie_index(id).expect("in ML-100K");
    let (star_wars, empire, jedi) = (movie(50), movie(172), movie(181));
    let similar = client.ask(call::Similar { item: star_wars, n: 10 }).unwrap();
    let ids: Vec<u32> = similar.iter().map(|s| s.0).collect();
    assert!(ids.contains(&empire) && ids.contains(&jedi), "the sequels are its neighbours: {similar:?}");

    let viewer = 0;
    let before = client.ask(call::Recommend { user: viewer, n: 10 }).unwrap();
    client.ask(call::FoldIn { user: viewer, ratings: vec![(star_wars, 5.0), (empire, 5.0)], marks: vec![] }).unwrap();
    let after = client.ask(call::Recommend { user: viewer, n: 10 }).unwrap();
    assert_ne!(before, after, "two ratings change the list at once");
    assert!(after.iter().any(|s| s.item == jedi), "Return of the Jedi follows: {after:?}");
    let explained = client.ask(call::Explain { user: viewer, item: jedi, weight: 1.0, diversity: 0.0 }).unwrap();
    let rank = explained.rank.expect("a ranking model explains its rank");
    assert!(rank.exact && (rank.total - rank.model).abs() < 1e-4, "{rank:?}");
    assert!(rank.contributions.iter().any(|c| c.0 == empire && c.2 > 0.0), "{rank:?}");

    let mut fresh = round_trip(&mut client);
    fresh.ask(call::FoldIn { user: viewer, ratings: vec![(star_wars, 5.0), (empire, 5.0)], marks: vec![] }).unwrap();
    assert_eq!(fresh.ask(call::Recommend { user: viewer, n: 10 }).unwrap(), after);
}

/// EASE stopped after its first step, before its inverse is whole, ranks
/// by popularity through the module (no trap), and its bytes load.
#[test]
fn ease_stopped_before_its_weights_ranks_by_popularity() {
    let mut client = default_client();
    load_u1(&mut client, false);
    train_to_end(&mut client, small_svd());
    client.train_start(ModelSpec::new("ease")).unwrap();
    let first = client.train_step().unwrap();
    assert!(!first.finished, "one step is not the whole inverse: {first:?}");
    client.train_stop().unwrap();
    let top: Vec<u32> = client.ask(call::Recommend { user: 0, n: 10 }).unwrap().iter().map(|s| s.item).collect();
    // The most-rated movies user 0 has not rated, ties by movie index.
    let (_, items) = shape();
    let mut count = vec![0u32; items as usize];
    let mut rated = std::collections::HashSet::new();
    for (u, i, _) in train_triples() {
        count[i as usize] += 1;
        if u == 0 {
            rated.insert(i);
        }
    }
    let mut popular: Vec<u32> = (0..items).filter(|i| !rated.contains(i)).collect();
    popular.sort_by_key(|&i| (std::cmp::Reverse(count[i as usize]), i));
    assert_eq!(top, popular[..10], "ranked by popularity");
    let star_wars = ml100k().movie_index(50).expect("in ML-100K");
    client.ask(call::FoldIn { user: 0, ratings: vec![(star_wars, 5.0)], marks: vec![] }).unwrap();
    assert_eq!(client.ask(call::Recommend { user: 0, n: 3 }).unwrap().len(), 3);
    round_trip(&mut client);
}

/// NMF through the real module on u1: better than Surprise's `NMF` on the
/// test split, a viewer folds in at once, its explanation says it is
/// approximate, and the saved model comes back.
#[test]
fn nmf_in_the_module_fits_u1_folds_in_and_says_its_explanation_is_approximate() {
    let mut client = default_client();
    load_u1(&mut client, true);
    let done = train_to_end(&mut client, ModelSpec::new("nmf"));
    let rmse = done.validation_rmse.expect("scored on u1.test");
    // Surprise's NMF on u1: 0.9802 (0.9676 over u1–u5; shared/peers/surprise_bench.py --algos nmf).
    assert!(rmse < 0.95, "NMF test RMSE on u1: {rmse}");
    let viewer = 0;
    let before = client.predict(&[(viewer, 120)]).unwrap();
    client.ask(call::FoldIn { user: viewer, ratings: vec![(49, 5.0), (171, 5.0), (0, 1.0)], marks: vec![] }).unwrap();
    assert_ne!(client.predict(&[(viewer, 120)]).unwrap(), before);
    let explained = client.ask(call::Explain { user: viewer, item: 120, weight: 1.0, diversity: 0.0 }).unwrap();
    assert!(!explained.stars.exact, "{:?}", explained.stars);
    round_trip(&mut client);
}

/// Slope One through the real module on u1: better than Surprise's
/// `SlopeOne` on the test split; a rating you add counts at once, the
/// explanation is exact, a list without a ranking model comes a row at a
/// time, and "similar" says it has nothing to compare by.
#[test]
fn slopeone_in_the_module_fits_u1_counts_a_new_rating_at_once_and_explains_exactly() {
    let mut client = default_client();
    load_u1(&mut client, true);
    let done = train_to_end(&mut client, ModelSpec::new("slopeone"));
    let rmse = done.validation_rmse.expect("scored on u1.test");
    // Surprise's SlopeOne on u1: 0.9567 (0.9470 over u1–u5; shared/peers/surprise_bench.py --algos slopeone).
    assert!(rmse < 0.9567, "Slope One test RMSE on u1: {rmse}");
    let viewer = 0;
    let ratings = vec![(49, 5.0), (171, 5.0), (0, 1.0)];
    client.ask(call::FoldIn { user: viewer, ratings, marks: vec![] }).unwrap();
    let explained = client.ask(call::Explain { user: viewer, item: 180, weight: 1.0, diversity: 0.0 }).unwrap();
    let stars = &explained.stars;
    assert!(stars.exact && (stars.total - stars.model).abs() < 1e-4 && stars.contributions.len() == 3, "{stars:?}");
    let top = client.ask(call::Recommend { user: viewer, n: 10 }).unwrap();
    assert!(top.len() == 10 && top.windows(2).all(|w| w[0].score >= w[1].score), "{top:?}");
    let pairs: Vec<(u32, u32)> = top.iter().map(|s| (viewer, s.item)).collect();
    let predicted = client.predict(&pairs).unwrap();
    assert!(
        top.iter().zip(&predicted).all(|(s, p)| (s.prediction - p).abs() < 1e-5),
        "the row scores are the pair scores"
    );
    let refused = client.ask(call::Similar { item: 49, n: 5 }).unwrap_err();
    assert!(refused.to_string().contains("slopeone has no movie vectors"), "{refused:#}");
    assert!(client.ask(call::Parts {}).unwrap().is_empty(), "a model of one piece");
}

/// The fitted blend through the real module on u1: below the 0.912
/// on the test split (its weights fitted on a slice of u1.base, never on
/// u1.test); a rating you add moves it; its explanation adds up; it saves
/// and loads to the same predictions; its kNN member answers "similar".
#[test]
fn blend_in_the_module_fits_u1_below_its_members_and_comes_back_from_its_bytes() {
    let mut client = default_client();
    load_u1(&mut client, true);
    let done = train_to_end(&mut client, ModelSpec::new("blend"));
    let rmse = done.validation_rmse.expect("scored on u1.test");
    assert!(rmse < 0.912, "blend test RMSE on u1: {rmse}");
    let viewer = 0;
    let before = client.predict(&[(viewer, 120)]).unwrap();
    client.ask(call::FoldIn { user: viewer, ratings: vec![(49, 5.0), (171, 5.0), (0, 1.0)], marks: vec![] }).unwrap();
    assert_ne!(client.predict(&[(viewer, 120)]).unwrap(), before);
    let explained = client.ask(call::Explain { user: viewer, item: 120, weight: 1.0, diversity: 0.0 }).unwrap();
    let stars = &explained.stars;
    let parts = stars.baseline + stars.contributions.iter().map(|c| c.2).sum::<f32>();
    assert!((parts - stars.total).abs() < 1e-3, "{stars:?}");
    assert!(!stars.exact || (stars.total - stars.model).abs() < 1e-3, "{stars:?}");
    let similar = client.ask(call::Similar { item: 49, n: 5 }).unwrap();
    assert_eq!(similar.len(), 5, "{similar:?}");
    // Its members and their fitted weights, what the explanation shows.
    let parts = client.ask(call::Parts {}).unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["svdpp", "knn", "svd"]);
    let sum: f32 = parts.iter().map(|p| p.1).sum();
    assert!((0.8..1.2).contains(&sum) && parts.iter().all(|p| p.1.is_finite()), "{parts:?}");
    round_trip(&mut client);
}

#[test]
fn recommendations_skip_rated_movies_and_are_sorted_by_score() {
    let mut client = default_client();
    load_u1(&mut client, false);
    train_to_end(&mut client, small_svd());
    let (users, _) = shape();
    for user in [0, 1, 41, 500, users - 1] {
        let rated: Vec<u32> = u1().train.iter().filter(|r| r.user == user).map(|r| r.item).collect();
        assert!(!rated.is_empty());
        let top = client.ask(call::Recommend { user, n: 20 }).unwrap();
        assert_eq!(top.len(), 20, "user {user}");
        for s in &top {
            assert!(!rated.contains(&s.item), "user {user} already rated movie {}", s.item);
            assert!((1.0..=5.0).contains(&s.prediction), "{s:?}");
            assert_eq!(s.prediction, s.score.clamp(1.0, 5.0), "{s:?}");
        }
        assert!(top.windows(2).all(|w| w[0].score >= w[1].score), "user {user}: {top:?}");
        let mut items: Vec<u32> = top.iter().map(|s| s.item).collect();
        let pairs: Vec<(u32, u32)> = items.iter().map(|&i| (user, i)).collect();
        let predicted = client.predict(&pairs).unwrap();
        assert_eq!(predicted, top.iter().map(|s| s.prediction).collect::<Vec<_>>());
        items.sort_unstable();
        items.dedup();
        assert_eq!(items.len(), 20, "user {user}: no movie twice");
    }
}

// --- The compiled-module cache ----------------------------------------------

fn cached_artifacts(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

/// Compiles the default module with a fresh runtime caching in `dir`, and
/// checks that an instance of it trains and predicts like any other.
fn compile_with_cache(dir: &Path, expected_predictions: &[f32]) -> Compiled {
    let runtime = Runtime::new(Some(dir)).unwrap();
    let module = cinema::modules::builtin(&runtime, "cinema-default").unwrap();
    let mut client = EngineClient::start(&runtime, &module, limits()).unwrap();
    assert_eq!(client.hello().engine, "cinema-default");
    load_u1(&mut client, false);
    train_to_end(&mut client, baseline());
    assert_eq!(client.predict(&sample_pairs()).unwrap(), expected_predictions);
    module.compiled
}

#[test]
fn compiled_module_is_cached_on_disk_and_a_damaged_cache_is_recompiled() {
    let mut reference = default_client();
    load_u1(&mut reference, false);
    train_to_end(&mut reference, baseline());
    let expected = reference.predict(&sample_pairs()).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("modules");
    assert_eq!(compile_with_cache(&dir, &expected), Compiled::Fresh);
    let artifacts = cached_artifacts(&dir);
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    assert_eq!(compile_with_cache(&dir, &expected), Compiled::Cached);

    let mut bytes = std::fs::read(&artifacts[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&artifacts[0], &bytes).unwrap();
    assert_eq!(compile_with_cache(&dir, &expected), Compiled::Fresh, "a damaged artifact is not used");
    assert_eq!(compile_with_cache(&dir, &expected), Compiled::Cached, "and it was rewritten");
    assert_eq!(cached_artifacts(&dir), artifacts);
}

// --- Accuracy -----------------------------------------------------------------

#[test]
fn baseline_on_u1_matches_surprise_baseline_only() {
    let mut client = default_client();
    let report = evaluate(&mut client, ml100k(), u1(), baseline(), None).unwrap();
    assert_eq!((report.split.as_str(), report.train_ratings, report.test_ratings), ("u1", 80_000, 20_000));
    assert!(
        (report.metrics.rmse - SURPRISE_BASELINE_U1_RMSE).abs() <= 0.005,
        "baseline RMSE on u1 is {:.4}, Surprise's BaselineOnly gets {SURPRISE_BASELINE_U1_RMSE}",
        report.metrics.rmse
    );
    assert!(report.metrics.mae > 0.0 && report.metrics.mae < report.metrics.rmse, "{report:?}");
}

/// Movies like a movie, by the model's own movie vectors: the ranking
/// model's once trained (who watched what together), the rating model's
/// before; a model without vectors says so instead of guessing.
#[test]
fn similar_movies_come_from_the_movie_vectors_and_a_baseline_has_none() {
    let movie = |id: u32| ml100k().movie_index(id).expect("in ML-100K");
    let (star_wars, empire, jedi) = (movie(50), movie(172), movie(181));
    let mut client = default_client();
    load_u1(&mut client, false);
    train_to_end(&mut client, baseline());
    let refused = client.ask(call::Similar { item: star_wars, n: 10 }).unwrap_err();
    let refused = refused.downcast_ref::<Refused>().expect("an error reply, not a fault");
    assert_eq!(refused.kind, ErrorKind::BadState, "{refused}");

    train_to_end(&mut client, small_svd());
    train_to_end(&mut client, Algorithm::Ials(defaults::ials()).to_spec());
    let similar = client.ask(call::Similar { item: star_wars, n: 10 }).unwrap();
    assert_eq!(similar.len(), 10);
    assert!(similar.iter().all(|&(m, cos)| m != star_wars && (-1.0..=1.0001).contains(&cos)), "{similar:?}");
    assert!(similar.windows(2).all(|w| w[0].1 >= w[1].1), "most similar first: {similar:?}");
    let top: Vec<u32> = similar.iter().map(|s| s.0).collect();
    // Out of 1,682 movies, the two sequels are among the ten.
    assert!(top.contains(&empire) && top.contains(&jedi), "{top:?}");
}
