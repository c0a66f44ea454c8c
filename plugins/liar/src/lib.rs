//! cinema-plugin-liar: a test fixture, never shipped. It is the real engine,
//! speaking the protocol perfectly, with one kind of reply corrupted: the
//! host must notice what the reply means, not only that it decodes
//! (`tests/liars.rs`). Which lie it tells is one byte after a marker in the
//! built module, patched by the tests, so one build serves every case.
//!
//! Its defaults are small (a few epochs, 8 factors) so that a case reaches
//! its lie in a second.

use cinema_engine::algorithms::describe;
use cinema_protocol::{ParamKind, Reply, Request};

/// The marker, then the lie's number (0: tell the truth).
#[unsafe(no_mangle)]
#[used]
pub static LIAR_MODE: [u8; 18] = *b"cinema-liar-mode:\0";

/// The lies, by number: what the tests patch in.
pub const LIES: [&str; 15] = [
    "recommend-out-of-range",
    "stuck-training",
    "nan-predictions",
    "duplicate-recommendations",
    "wild-progress",
    "huge-hello",
    "huge-model",
    "hybrid-part-out-of-range",
    "explanation-of-another-movie",
    "content-too-many-pairs",
    "wrong-kind",
    "parts-with-escape",
    "diversity-never-ready",
    "stuck-team-member",
    "huge-handoff",
];

fn mode() -> u8 {
    // Volatile: the byte is patched after compiling, so it must not be folded.
    unsafe { std::ptr::read_volatile(&LIAR_MODE[17]) }
}

/// The engine's own algorithms with quick defaults.
pub fn algorithms() -> Vec<cinema_protocol::AlgorithmInfo> {
    let mut all = describe();
    for param in all.iter_mut().flat_map(|a| a.params.iter_mut()) {
        if let ParamKind::Integer { default, .. } = &mut param.kind {
            match param.name.as_str() {
                "factors" => *default = 8,
                "epochs" | "iterations" => *default = 2,
                _ => {}
            }
        }
    }
    all
}

/// Decodes the reply, tells the lie of `mode()` if it applies, re-encodes.
pub fn rewrite(request: &[u8], reply: Vec<u8>) -> Vec<u8> {
    let (Ok(request), Ok(mut decoded)) = (Request::decode(request), Reply::decode(&reply)) else { return reply };
    lie(mode(), &request, &mut decoded);
    decoded.encode()
}

pub fn lie(mode: u8, request: &Request, reply: &mut Reply) {
    match (mode, reply) {
        (1, Reply::Recommendations(list)) => {
            if let Some(first) = list.first_mut() {
                first.item = u32::MAX;
            }
        }
        (2, Reply::Progress(p)) if matches!(request, Request::TrainStep { .. }) => {
            (p.epoch, p.visited, p.finished) = (0, 0, false);
        }
        (3, Reply::Predictions(p)) => p.iter_mut().for_each(|x| *x = f32::NAN),
        (4, Reply::Recommendations(list)) => {
            if let Some(&first) = list.first() {
                list.iter_mut().for_each(|s| *s = first);
            }
        }
        (5, Reply::Progress(p)) => (p.epoch, p.train_rmse) = (1_000_000, Some(f32::NAN)),
        (6, Reply::Hello(h)) => {
            h.engine = "x".repeat(1 << 20);
            let first = h.algorithms[0].clone();
            h.algorithms.resize(10_000, first);
        }
        (7, Reply::Model(bytes)) => bytes.resize(100 << 20, 0),
        (8, Reply::Hybrid(list)) => {
            if let Some(first) = list.first_mut() {
                first.cf = 7.0;
            }
        }
        (9, Reply::Explanation(e)) => e.item += 1,
        (10, Reply::ContentBuilt(stats)) => stats.pairs = u64::MAX,
        // A part whose name would clear the terminal it is shown on.
        (12, Reply::Parts(parts)) => parts.push(("\u{1b}[2J".into(), 1.0)),
        // Preparing diversity that never gets anywhere.
        (13, Reply::Diversity(ready)) => ready.done = 0,
        // A team member whose steps never get anywhere.
        (14, Reply::Shard(s)) => (s.progress.epoch, s.progress.visited, s.progress.finished) = (0, 0, false),
        // A handoff larger than any model may be.
        (15, Reply::Shard(s)) => {
            if let Some(handoff) = &mut s.handoff {
                handoff.0.resize(100 << 20, 0);
            }
        }
        // Every request after the handshake that is not answered by `Ok` is.
        (11, reply) if request.reply_name() != "Ok" && !matches!(request, Request::Hello) => *reply = Reply::Ok,
        _ => {}
    }
}

cinema_engine::export_abi!(
    cinema_engine::EngineInfo {
        name: "cinema-liar",
        version: env!("CARGO_PKG_VERSION"),
        algorithms: crate::algorithms()
    },
    crate::rewrite
);
