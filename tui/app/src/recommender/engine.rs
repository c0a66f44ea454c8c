//! The engine on a thread of its own. Every engine call of a running
//! recommender goes through here: the CLI waits for each answer
//! ([`EngineThread::call`]), the terminal app hands work over
//! ([`EngineThread::submit`]) and gets the answer as an event, so drawing
//! and keys never wait for the engine — not for a fold-in, not for a
//! training of many seconds. Work runs in the order it was handed over.

use std::sync::mpsc::{self, Sender};
use std::thread;

use anyhow::{Result, anyhow};
use cinema_host::EngineClient;
use cinema_protocol::Hello;

type Work = Box<dyn FnOnce(&mut EngineClient) + Send>;

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

    /// Runs `work` on the engine thread after what was handed over before,
    /// and waits for its answer.
    pub fn call<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut EngineClient) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.submit(move |client| {
            // The caller may have stopped waiting; the answer is then dropped.
            let _ = answer.send(work(client));
        });
        answered.recv().map_err(|_| anyhow!("the engine thread stopped"))?
    }

    /// Runs `work` on the engine thread after what was handed over before;
    /// `work` reports its own outcome (the app's: an event on its channel).
    pub fn submit(&self, work: impl FnOnce(&mut EngineClient) + Send + 'static) {
        if self.work.send(Box::new(work)).is_err() {
            // The thread ended (a panic in a job): nothing will run it.
            tracing::error!("the engine thread has stopped; work dropped");
        }
    }

    /// The module's handshake, kept from when the thread started.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    pub fn module_sha256(&self) -> &str {
        &self.module_sha256
    }
}
