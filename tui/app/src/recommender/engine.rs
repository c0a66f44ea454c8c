//! The engine on a thread of its own. Every engine call of a running
//! recommender goes through here as an [`Ask`]: the CLI waits for the
//! answer ([`Ask::wait`]), the terminal app hands a finisher over
//! ([`Ask::then`]) and gets the answer as an event, so drawing and keys
//! never wait for the engine — not for a fold-in, not for a training of
//! many seconds. One method per request serves both. Work runs in the order
//! it was handed over.

use std::sync::mpsc::{self, Sender};
use std::thread;

use anyhow::{Result, anyhow};
use cinema_host::EngineClient;
use cinema_protocol::Hello;

type Work = Box<dyn FnOnce(&mut EngineClient) + Send>;
/// Work that answers.
type Job<T> = Box<dyn FnOnce(&mut EngineClient) -> Result<T> + Send>;

/// Engine work not handed over yet, and what it answers.
#[must_use = "nothing runs until the ask is waited for or handed a finisher"]
pub struct Ask<T> {
    work: Sender<Work>,
    job: Job<T>,
}

impl<T: Send + 'static> Ask<T> {
    /// Runs on the engine thread after what was handed over before, and
    /// waits for the answer.
    pub fn wait(self) -> Result<T> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.then(move |result| {
            // The caller may have stopped waiting; the answer is then dropped.
            let _ = answer.send(result);
        });
        answered.recv().map_err(|_| anyhow!("the engine thread stopped"))?
    }

    /// What `f` makes of the answer, worked out on the engine thread.
    pub fn map<U>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Ask<U> {
        let job = self.job;
        Ask { work: self.work, job: Box::new(move |client| job(client).map(f)) }
    }

    /// This ask, then `next`, as one: both answers, or the first error.
    pub fn and<U: Send + 'static>(self, next: Ask<U>) -> Ask<(T, U)> {
        let (first, second) = (self.job, next.job);
        Ask { work: self.work, job: Box::new(move |client| Ok((first(client)?, second(client)?))) }
    }

    /// Runs on the engine thread after what was handed over before, and
    /// hands the answer to `done` there.
    pub fn then(self, done: impl FnOnce(Result<T>) + Send + 'static) {
        let job = self.job;
        submit(&self.work, Box::new(move |client| done(job(client))));
    }
}

fn submit(work: &Sender<Work>, job: Work) {
    if work.send(job).is_err() {
        // The thread ended (a panic in a job): nothing will run it.
        tracing::error!("the engine thread has stopped; work dropped");
    }
}

pub struct EngineThread {
    work: Sender<Work>,
    hello: Hello,
    module_sha256: String,
}

impl EngineThread {
    /// Moves `client` to a new thread, which lives until this handle is dropped.
    pub fn spawn(mut client: EngineClient) -> EngineThread {
        let (work, inbox) = mpsc::channel::<Work>();
        let hello = client.hello().clone();
        let module_sha256 = client.module_sha256().to_owned();
        thread::Builder::new()
            .name("cinema-engine".into())
            .spawn(move || {
                for job in inbox {
                    job(&mut client);
                }
            })
            .expect("the engine thread starts");
        EngineThread { work, hello, module_sha256 }
    }

    /// `work`, to run on the engine thread.
    pub fn ask<R>(&self, work: impl FnOnce(&mut EngineClient) -> Result<R> + Send + 'static) -> Ask<R> {
        Ask { work: self.work.clone(), job: Box::new(work) }
    }

    /// Runs `work` on the engine thread after what was handed over before,
    /// and waits for its answer.
    pub fn call<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut EngineClient) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        self.ask(work).wait()
    }

    /// Runs `work` on the engine thread after what was handed over before;
    /// `work` reports its own outcome (a training, with its progress).
    pub fn submit(&self, work: impl FnOnce(&mut EngineClient) + Send + 'static) {
        submit(&self.work, Box::new(work));
    }

    /// The module's handshake, kept from when the thread started.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    pub fn module_sha256(&self) -> &str {
        &self.module_sha256
    }
}
