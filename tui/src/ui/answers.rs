//! The engine's answers to the overlays' requests, each with its request's
//! id: the overlay that asked takes one only while it still holds that id
//! (a newer request, or a closed overlay, leaves it unheard).

use cinema_protocol::HybridScored;

use super::jobs::JobId;
use crate::recommender::{Alike, Explained};

pub enum Answer {
    Alike(JobId, Result<Alike, String>),
    /// Boxed: an explanation is several times the size of the others.
    Explained(JobId, Box<Result<Explained, String>>),
    Impact(JobId, Result<Vec<Vec<HybridScored>>, String>),
}
