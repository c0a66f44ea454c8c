//! Why the list is what it is: the movie detail with the movies alike by
//! content and by taste, the weight-impact panel and explanations (`e`).
//! Every answer is worked out on the engine thread and comes back through
//! the panel's own sink; without one (snapshot tests) it is waited for.

use cinema_protocol::HybridScored;

use super::context::{Cx, deliver};
use super::jobs::{JobId, Sink};
use super::toast::Level;
use crate::recommender::{Alike, Ask, Explained};

/// Similar movies the detail view asks for, each way.
const ALIKE: u32 = 10;
/// The weights the impact view compares, and how many movies of each list.
pub const IMPACT_WEIGHTS: [f32; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
pub const IMPACT_TOP: u32 = 5;

/// An engine answer for this part of the app, with its request's id.
pub enum Answer {
    Alike(JobId, Result<Alike, String>),
    /// Boxed: an explanation is several times the size of the others.
    Explained(JobId, Box<Result<Explained, String>>),
    Impact(JobId, Result<Vec<Vec<HybridScored>>, String>),
}

/// The explanation panel over the current view.
pub struct Explaining {
    /// The request whose answer it waits for.
    pub asked: JobId,
    pub movie: u32,
    /// `None` while the engine works it out.
    pub answer: Option<Result<Explained, String>>,
    pub scroll: usize,
}

/// The impact panel: the top 5 at each of [`IMPACT_WEIGHTS`] of the hybrid
/// weight (at no diversity), or of diversity (at the weight chosen).
pub struct Impact {
    /// The request whose answer it waits for.
    pub asked: JobId,
    pub axis: Axis,
    pub lists: Option<Result<Vec<Vec<HybridScored>>, String>>,
}

/// What changes across the impact panel's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Weight,
    Diversity,
}

/// The detail view and the panels over it: what is open and the engine's
/// answers for them.
#[derive(Default)]
pub struct Insight {
    /// The movie open in the detail view, over the current tab.
    pub detail: Option<u32>,
    /// Movies like the open one by content and by taste (`None` while asked).
    pub alike: Option<Alike>,
    /// The request for them.
    alike_asked: Option<JobId>,
    /// The selected one of them, counting the content list then the taste
    /// list; `None` until ↓ or ↑ is pressed in the detail view.
    pub alike_cursor: Option<usize>,
    /// The movies whose detail led here through their similar lists; Esc
    /// goes back through them before it closes the detail view.
    pub trail: Vec<u32>,
    /// The explanation panel, when open.
    pub explaining: Option<Explaining>,
    /// The weight-impact panel, when open.
    pub impact: Option<Impact>,
    /// Where the engine thread sends the answers (`None`: they are waited for).
    pub answers: Option<Sink<Answer>>,
}

impl Insight {
    /// Opens the detail view of `movie` and asks for the movies like it.
    pub fn open(&mut self, cx: &mut Cx, movie: u32) {
        self.detail = Some(movie);
        self.alike = None;
        self.alike_cursor = None;
        let asked = JobId::next();
        self.alike_asked = Some(asked);
        let ask = cx.shared.rec.alike(movie, ALIKE);
        self.ask(cx, ask, move |r| Answer::Alike(asked, r));
    }

    /// Closes the detail view, forgetting how it got there.
    pub fn close(&mut self) {
        self.detail = None;
        self.trail.clear();
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
    pub fn open_alike(&mut self, cx: &mut Cx) {
        let (Some(alike), Some(at), Some(here)) = (&self.alike, self.alike_cursor, self.detail) else { return };
        if let Some(&(movie, _)) = alike.content.iter().chain(&alike.cf).nth(at) {
            self.trail.push(here);
            self.open(cx, movie);
        }
    }

    /// Back to the movie whose similar list opened this one, or to the list.
    pub fn back(&mut self, cx: &mut Cx) {
        match self.trail.pop() {
            Some(movie) => self.open(cx, movie),
            None => self.detail = None,
        }
    }

    /// Opens the explanation of `movie` for `user` under the hybrid `weight`
    /// and `diversity`.
    pub fn explain(&mut self, cx: &mut Cx, movie: u32, user: u32, weight: f32, diversity: f32) {
        let asked = JobId::next();
        self.explaining = Some(Explaining { asked, movie, answer: None, scroll: 0 });
        let ask = cx.shared.rec.explain(user, movie, weight, diversity);
        self.ask(cx, ask, move |r| Answer::Explained(asked, Box::new(r)));
    }

    /// Opens the impact panel for `user` along `axis`; the other setting
    /// is `weight` (for the diversity axis) or none (for the weight axis).
    pub fn show_impact(&mut self, cx: &mut Cx, user: u32, axis: Axis, weight: f32) {
        let asked = JobId::next();
        self.impact = Some(Impact { asked, axis, lists: None });
        let settings = IMPACT_WEIGHTS.iter().map(|&x| match axis {
            Axis::Weight => (x, 0.0),
            Axis::Diversity => (weight, x),
        });
        let ask = cx.shared.rec.impact(user, IMPACT_TOP, settings.collect());
        self.ask(cx, ask, move |r| Answer::Impact(asked, r));
    }

    /// Takes an engine answer while what asked for it still holds its id.
    pub fn on_answer(&mut self, cx: &mut Cx, answer: Answer) -> bool {
        match answer {
            Answer::Alike(asked, result) if self.alike_asked == Some(asked) && self.detail.is_some() => match result {
                Ok(alike) => self.alike = Some(alike),
                Err(e) => cx.notify(Level::Error, format!("similar movies: {e}")),
            },
            Answer::Explained(asked, result) => match self.explaining.as_mut() {
                Some(e) if e.asked == asked => e.answer = Some(*result),
                _ => return false,
            },
            Answer::Impact(asked, result) => match self.impact.as_mut() {
                Some(impact) if impact.asked == asked => impact.lists = Some(result),
                _ => return false,
            },
            Answer::Alike(..) => return false,
        }
        true
    }

    /// Sends `ask`, its answer to come back as an [`Answer`] made by `wrap`.
    fn ask<T: Send + 'static>(
        &mut self,
        cx: &mut Cx,
        ask: Ask<T>,
        wrap: impl FnOnce(Result<T, String>) -> Answer + Send + 'static,
    ) {
        if let Some(answer) = deliver(ask, self.answers.as_ref(), wrap) {
            self.on_answer(cx, answer);
        }
    }
}
