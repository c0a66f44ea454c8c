//! The real `cinema` binary in a real terminal: a private tmux server runs
//! it (100×30), `send-keys` types and `capture-pane` reads the screen.
//! Every server has its own socket and is killed when dropped, even when
//! the test fails. Used by `tui_tmux` and by the `scale` test binary.

// Each test binary uses some of these.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

const SESSION: &str = "cinema";
/// A key's answer on screen; allow for a busy machine.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// A private tmux server; dropped = killed.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn new() -> Tmux {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        Tmux { socket: format!("cinema-test-{}-{nanos}", std::process::id()) }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").args(["-L", &self.socket, "-f", "/dev/null"]).args(args).output().expect("tmux runs")
    }

    /// Starts `command` in a 100×30 window that stays after the program exits.
    pub fn start(&self, command: &str) {
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "100",
            "-y",
            "30",
            command,
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
        ]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Runs `command` again in the same window.
    pub fn restart(&self, command: &str) {
        let out = self.run(&["respawn-pane", "-k", "-t", SESSION, command]);
        assert!(out.status.success(), "tmux respawn-pane: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    pub fn text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", SESSION, "-l", text]).status.success());
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", SESSION]).stdout).into_owned()
    }

    pub fn exited(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", SESSION, "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the screen until `ok` holds; fails with the last screen.
    pub fn wait(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        self.wait_every(what, timeout, Duration::from_millis(100), ok)
    }

    /// [`Tmux::wait`] polling every `every`: a test that times how soon a
    /// key is answered polls often, or it measures its own polling.
    pub fn wait_every(&self, what: &str, timeout: Duration, every: Duration, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if started.elapsed() > timeout {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            sleep(every);
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), STEP_TIMEOUT, |s| s.contains(text))
    }

    pub fn wait_exit(&self) {
        let started = Instant::now();
        while !self.exited() {
            assert!(started.elapsed() < STEP_TIMEOUT, "the app did not quit; the screen:\n{}", self.screen());
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

pub fn have_tmux() -> bool {
    let found = Command::new("tmux").arg("-V").output().is_ok();
    if !found {
        eprintln!("tmux is not installed; skipping");
    }
    found
}
