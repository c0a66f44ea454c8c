//! One way to run work off the UI thread: a job is a thread of its own with
//! an id, a [`Control`] it reads at its checkpoints (stop, cancel), and a
//! sink its reports go to tagged with that id.
//!
//! The id is the one rule for stale answers: a panel keeps the [`Handle`]
//! of the job it started and takes a report only when the report's id is
//! that handle's; a request to the engine thread gets an id the same way
//! ([`JobId::next`]) and its answer is taken only while its asker holds it. A job the panel has left (cancelled, replaced, or
//! abandoned when the app switched datasets) may go on reporting; nobody
//! listens.

use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crate::lab::train::Halt;

/// Where work done off the UI thread sends what it has to say: the app's
/// event channel, seen from below it (the app wraps each kind of answer
/// into its event when it makes the sink), so nothing here knows the
/// event type.
pub struct Sink<T>(Arc<dyn Fn(T) + Send + Sync>);

impl<T> Sink<T> {
    pub fn new(send: impl Fn(T) + Send + Sync + 'static) -> Sink<T> {
        Sink(Arc::new(send))
    }

    pub fn send(&self, message: T) {
        (self.0)(message)
    }
}

impl<T> Clone for Sink<T> {
    fn clone(&self) -> Self {
        Sink(self.0.clone())
    }
}

/// Which job a report came from: unique in the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// What the UI asked of a job, read by the job at its checkpoints.
#[derive(Debug, Default)]
pub struct Control {
    /// Keep what was done so far and end the current part (taken once).
    stop: AtomicBool,
    /// End, keeping nothing (stays set).
    cancel: AtomicBool,
}

impl Control {
    /// The flag that says "cancelled", for work that polls one flag
    /// across threads of its own (`lab::tune::Search`).
    pub fn cancelled(&self) -> &AtomicBool {
        &self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// At a checkpoint: go on, or halt. A stop is taken once (a run of
    /// two models stops the one under way; the next trains unless stopped
    /// again); a cancel holds.
    pub fn checkpoint(&self) -> ControlFlow<Halt> {
        if self.is_cancelled() {
            ControlFlow::Break(Halt::Cancel)
        } else if self.stop.swap(false, Ordering::Relaxed) {
            ControlFlow::Break(Halt::Stop)
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// The UI's side of a job: its id, and the means to stop or cancel it.
#[derive(Debug, Clone)]
pub struct Handle {
    id: JobId,
    control: Arc<Control>,
}

/// The handle of a job that runs nowhere and reports nothing: a panel
/// drawn with no worker behind it (the views' snapshot tests).
impl Default for Handle {
    fn default() -> Handle {
        Handle { id: JobId::next(), control: Arc::default() }
    }
}

impl Handle {
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Whether a report with `id` is this job's.
    pub fn owns(&self, id: JobId) -> bool {
        self.id == id
    }

    pub fn stop(&self) {
        self.control.stop.store(true, Ordering::Relaxed);
    }

    pub fn cancel(&self) {
        self.control.cancel.store(true, Ordering::Relaxed);
    }
}

/// Where a job's reports go, each tagged with the job's id.
pub struct Reports<R> {
    id: JobId,
    sink: Sink<(JobId, R)>,
}

impl JobId {
    /// A fresh id. A request answered on the engine thread takes one too:
    /// its asker keeps it, and the answer is taken while it still does.
    pub fn next() -> JobId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        JobId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl<R> Reports<R> {
    /// Reports of work that runs elsewhere (on the engine thread) under an
    /// id of its own, as a job's do.
    pub fn new(sink: Sink<(JobId, R)>) -> Reports<R> {
        Reports { id: JobId::next(), sink }
    }

    pub fn id(&self) -> JobId {
        self.id
    }

    pub fn send(&self, report: R) {
        self.sink.send((self.id, report));
    }
}

impl<R> Clone for Reports<R> {
    fn clone(&self) -> Self {
        Reports { id: self.id, sink: self.sink.clone() }
    }
}

/// Starts `work` on a thread named `cinema-{name}`, reporting to `sink`;
/// if no thread can be started, `failed` makes the job's one report out
/// of why, so the panel waiting for an end always gets one.
pub fn start<R: Send + 'static>(
    name: &str,
    sink: Sink<(JobId, R)>,
    failed: impl FnOnce(String) -> R,
    work: impl FnOnce(&Control, Reports<R>) + Send + 'static,
) -> Handle {
    let reports = Reports::new(sink);
    let (id, control) = (reports.id, Arc::new(Control::default()));
    let (mine, shared) = (reports.clone(), control.clone());
    let spawned = thread::Builder::new().name(format!("cinema-{name}")).spawn(move || work(&shared, mine));
    if let Err(e) = spawned {
        reports.send(failed(format!("could not start the {name}: {e}")));
    }
    Handle { id, control }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn reports_carry_their_jobs_id_and_a_stop_is_taken_once() {
        let (tx, rx) = mpsc::channel();
        let sink = Sink::new(move |m: (JobId, &'static str)| tx.send(m).unwrap());
        let (go, wait) = mpsc::channel::<()>();
        let handle = start(
            "test",
            sink.clone(),
            |_| "failed",
            move |control, reports| {
                wait.recv().unwrap();
                reports.send(match control.checkpoint() {
                    ControlFlow::Break(Halt::Stop) => "stopped",
                    _ => "went on",
                });
                reports.send(if control.checkpoint().is_continue() { "then went on" } else { "stopped twice" });
            },
        );
        let other = start("test", sink, |_| "failed", |_, reports| reports.send("other"));
        assert_ne!(handle.id(), other.id());
        handle.stop();
        go.send(()).unwrap();
        let mut mine: Vec<&str> = Vec::new();
        for _ in 0..3 {
            let (id, text) = rx.recv().unwrap();
            if handle.owns(id) {
                mine.push(text);
            } else {
                assert_eq!((id, text), (other.id(), "other"));
            }
        }
        assert_eq!(mine, ["stopped", "then went on"]);
    }

    #[test]
    fn a_cancel_holds_at_every_checkpoint() {
        let control = Control::default();
        control.cancel.store(true, Ordering::Relaxed);
        assert_eq!(control.checkpoint(), ControlFlow::Break(Halt::Cancel));
        assert_eq!(control.checkpoint(), ControlFlow::Break(Halt::Cancel));
        assert!(control.cancelled().load(Ordering::Relaxed));
    }
}
