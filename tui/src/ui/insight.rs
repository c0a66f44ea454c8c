//! Why the list is what it is: movies alike by content and by taste, the
//! hybrid weight (`[`/`]`) and its impact, and explanations (`e`). Every
//! answer is worked out on the engine thread and arrives as
//! [`Event::Answer`]; without the event channel (snapshot tests) it is
//! waited for.

use std::sync::mpsc;

use cinema_protocol::{Explanation, HybridScored};

use super::event::Event;
use super::state::{App, Level};
use crate::recommender::{Alike, Recommender};

/// Similar movies the detail view asks for, each way.
const ALIKE: u32 = 10;
/// The weights the impact view compares, and how many movies of each list.
pub const IMPACT_WEIGHTS: [f32; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
pub const IMPACT_TOP: u32 = 5;
/// One press of `[` or `]`.
const WEIGHT_STEP: f32 = 0.1;

/// An engine answer for this part of the app.
pub enum Answer {
    Alike(u32, Result<Alike, String>),
    Explained(u32, Result<Explanation, String>),
    Impact(Result<Vec<Vec<HybridScored>>, String>),
}

/// The explanation panel over the current view.
pub struct Explaining {
    pub movie: u32,
    /// `None` while the engine works it out.
    pub answer: Option<Result<Explanation, String>>,
    pub scroll: usize,
}

/// The weight-impact panel: the top 5 at each of [`IMPACT_WEIGHTS`].
pub struct Impact {
    pub lists: Option<Result<Vec<Vec<HybridScored>>, String>>,
}

/// A finisher the recommender's `*_async` methods call with their result.
type Done<T> = Box<dyn FnOnce(anyhow::Result<T>) + Send>;

impl App {
    /// Opens the detail view of `movie` and asks for the movies like it.
    pub fn open(&mut self, movie: u32) {
        self.detail = Some(movie);
        self.alike = None;
        self.alike_cursor = None;
        self.ask(move |rec, done| rec.alike_async(movie, ALIKE, done), move |r| Answer::Alike(movie, r));
    }

    /// Moves the selection among the similar movies (content, then taste).
    pub fn step_alike(&mut self, by: isize) {
        let count = self.alike.as_ref().map_or(0, |a| a.content.len() + a.cf.len());
        if count == 0 {
            return;
        }
        self.alike_cursor = Some(match self.alike_cursor {
            None if by < 0 => count - 1,
            None => 0,
            Some(at) => at.saturating_add_signed(by).min(count - 1),
        });
    }

    /// Opens the selected similar movie; Esc comes back to this one.
    pub fn open_alike(&mut self) {
        let (Some(alike), Some(at), Some(here)) = (&self.alike, self.alike_cursor, self.detail) else { return };
        if let Some(&(movie, _)) = alike.content.iter().chain(&alike.cf).nth(at) {
            self.trail.push(here);
            self.open(movie);
        }
    }

    /// Back to the movie whose similar list opened this one, or to the list.
    pub fn back(&mut self) {
        match self.trail.pop() {
            Some(movie) => self.open(movie),
            None => self.detail = None,
        }
    }

    /// Opens the explanation of the selected movie for the viewer.
    pub fn explain(&mut self) {
        let Some(movie) = self.selected_movie() else { return };
        self.explaining = Some(Explaining { movie, answer: None, scroll: 0 });
        let (user, weight) = (self.viewer_user(), self.weight);
        self.ask(move |rec, done| rec.explain_async(user, movie, weight, done), move |r| Answer::Explained(movie, r));
    }

    /// Opens the weight-impact view for the viewer.
    pub fn show_impact(&mut self) {
        self.impact = Some(Impact { lists: None });
        let user = self.viewer_user();
        self.ask(
            move |rec, done| rec.weight_impact_async(user, IMPACT_TOP, IMPACT_WEIGHTS.to_vec(), done),
            Answer::Impact,
        );
    }

    /// Moves the hybrid weight one step (`sign` > 0: towards CF) and asks for the list again.
    pub fn nudge_weight(&mut self, sign: f32) {
        let weight = ((self.weight + sign * WEIGHT_STEP) * 10.0).round() / 10.0;
        let weight = weight.clamp(0.0, 1.0);
        if weight != self.weight {
            self.weight = weight;
            // Kept for the next start and for the CLI, which shows the same list.
            if let Err(e) = self.rec.prefs.set_weight(weight) {
                tracing::warn!("{e:#}");
            }
            self.refresh(false, None);
        }
    }

    /// Takes an engine answer, unless what asked for it has moved on.
    pub(super) fn on_answer(&mut self, answer: Answer) -> bool {
        match answer {
            Answer::Alike(movie, result) if self.detail == Some(movie) => match result {
                Ok(alike) => self.alike = Some(alike),
                Err(e) => self.notify(Level::Error, format!("similar movies: {e}")),
            },
            Answer::Explained(movie, result) => match self.explaining.as_mut() {
                Some(e) if e.movie == movie => e.answer = Some(result),
                _ => return false,
            },
            Answer::Impact(result) => match self.impact.as_mut() {
                Some(impact) => impact.lists = Some(result),
                None => return false,
            },
            Answer::Alike(..) => return false,
        }
        true
    }

    /// Runs `start` on the recommender with a finisher that turns its
    /// result into an [`Answer`] with `wrap`.
    fn ask<T: Send + 'static>(
        &mut self,
        start: impl FnOnce(&Recommender, Done<T>),
        wrap: impl FnOnce(Result<T, String>) -> Answer + Send + 'static,
    ) {
        let answer = move |r: anyhow::Result<T>| wrap(r.map_err(|e| format!("{e:#}")));
        match self.worker.as_ref().map(|w| w.events.clone()) {
            Some(events) => start(
                &self.rec,
                Box::new(move |r| {
                    let _ = events.send(Event::Answer(Box::new(answer(r))));
                }),
            ),
            None => {
                let (tx, rx) = mpsc::channel();
                start(
                    &self.rec,
                    Box::new(move |r| {
                        let _ = tx.send(answer(r));
                    }),
                );
                if let Ok(answer) = rx.recv() {
                    self.on_answer(answer);
                }
            }
        }
    }
}
