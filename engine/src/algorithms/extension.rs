//! Models from outside the engine crate. A module crate writes a model the
//! way a file under `algorithms/` does — its parameters with
//! [`params!`](crate::params), [`Algo`] for them, the door's traits for the
//! model — and offers it with [`offer`] in its `EngineInfo`; nothing in the
//! engine changes (`plugins/classic` is built that way, and its README is the
//! guide).
//!
//! Such a model is an [`Algorithm::External`]: it has no variant of its own,
//! so its parameters travel as the spec the engine checked against its
//! description, and a saved model names it by that spec (tag
//! [`EXTERNAL_TAG`]); an engine that was not offered it refuses the file by
//! the model's name.

use std::marker::PhantomData;
use std::sync::Mutex;

use cinema_protocol::{AlgorithmInfo, ModelSpec, Role, Scale};

use super::{Algo, Algorithm, info};
use crate::EngineError;
use crate::door::{Fit, RatingModel};
use crate::ratings::RatingMatrix;

/// The saved-model tag of every model from outside the engine (the
/// registry's own tags are small numbers).
pub const EXTERNAL_TAG: u32 = 255;

/// What the engine needs of a model it has no variant for: [`Algo`], with
/// the typed parameters read from the checked spec.
pub trait Extension: Sync {
    fn name(&self) -> &'static str;
    fn role(&self) -> Role;
    fn info(&self) -> AlgorithmInfo;
    fn epochs(&self, spec: &ModelSpec) -> u32;
    fn start(&self, spec: &ModelSpec, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError>;
    fn fold_in_shrinkage(&self, spec: &ModelSpec, n: f32) -> (f32, f32);
    fn decode(&self, bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError>;
}

struct Entry<A>(PhantomData<fn() -> A>);

impl<A: Algo> Extension for Entry<A> {
    fn name(&self) -> &'static str {
        A::NAME
    }

    fn role(&self) -> Role {
        A::ROLE
    }

    fn info(&self) -> AlgorithmInfo {
        info::<A>()
    }

    fn epochs(&self, spec: &ModelSpec) -> u32 {
        A::from_checked(spec).epochs()
    }

    fn start(&self, spec: &ModelSpec, data: &RatingMatrix, scale: Scale) -> Result<Box<dyn Fit>, EngineError> {
        A::from_checked(spec).start(data, scale)
    }

    fn fold_in_shrinkage(&self, spec: &ModelSpec, n: f32) -> (f32, f32) {
        A::from_checked(spec).fold_in_shrinkage(n)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Box<dyn RatingModel>, EngineError> {
        A::decode(bytes)
    }
}

/// The models offered from outside the engine, in the order offered. A
/// module is one engine instance, so this is the module's list; natively,
/// every test offering the same model shares its one entry.
static OFFERED: Mutex<Vec<&'static dyn Extension>> = Mutex::new(Vec::new());

/// Makes `A` trainable and loadable by this engine, and returns its
/// description for the module's `EngineInfo::algorithms`.
///
/// # Panics
/// When `A::NAME` is a built-in algorithm's name: two models by one name
/// would make saved versions ambiguous.
pub fn offer<A: Algo>() -> AlgorithmInfo {
    assert!(
        !super::NAMES.contains(&A::NAME),
        "a module's own model cannot be named `{}`: that is a built-in algorithm",
        A::NAME
    );
    let mut offered = OFFERED.lock().unwrap_or_else(|e| e.into_inner());
    if !offered.iter().any(|e| e.name() == A::NAME) {
        // A zero-sized entry: leaking it allocates nothing.
        offered.push(Box::leak(Box::new(Entry::<A>(PhantomData))));
    }
    info::<A>()
}

/// The offered model named `name`.
pub(super) fn find(name: &str) -> Option<&'static dyn Extension> {
    OFFERED.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().find(|e| e.name() == name)
}

/// Every offered model.
pub(super) fn all() -> Vec<&'static dyn Extension> {
    OFFERED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A model from outside the engine with every parameter given, checked
/// against its description.
#[derive(Clone)]
pub struct External {
    pub(super) kind: &'static dyn Extension,
    pub(super) spec: ModelSpec,
}

impl External {
    /// The typed parameters `p` of an offered model as an [`Algorithm`]:
    /// what its model answers to [`RatingModel::algorithm`].
    pub fn of<A: Algo>(p: A) -> Algorithm {
        let kind = find(A::NAME).unwrap_or_else(|| panic!("`{}` is trained before it was offered", A::NAME));
        Algorithm::External(External { kind, spec: ModelSpec { algorithm: A::NAME.into(), params: p.values() } })
    }

    pub(super) fn kind(&self) -> &'static dyn Extension {
        self.kind
    }

    pub(super) fn spec(&self) -> &ModelSpec {
        &self.spec
    }
}

impl std::fmt::Debug for External {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "External({:?})", self.spec)
    }
}

impl PartialEq for External {
    fn eq(&self, other: &External) -> bool {
        self.spec == other.spec
    }
}
