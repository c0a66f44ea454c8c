//! The one-line message at the bottom of the screen: what just happened,
//! or what went wrong, for a few seconds.

use std::time::{Duration, Instant};

const TOAST_INFO: Duration = Duration::from_secs(5);
const TOAST_ERROR: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Clone)]
pub struct Toast {
    pub level: Level,
    pub text: String,
    until: Instant,
}

impl Toast {
    /// Logs `text` and shows it for as long as its level deserves.
    pub fn new(level: Level, text: String) -> Toast {
        match level {
            Level::Info => tracing::info!("{text}"),
            Level::Error => tracing::warn!("{text}"),
        }
        let life = if level == Level::Error { TOAST_ERROR } else { TOAST_INFO };
        Toast { level, text, until: Instant::now() + life }
    }

    pub fn expired(&self, now: Instant) -> bool {
        now >= self.until
    }
}
