//! The three fuzz targets, by name.

mod datasets;
mod protocol;
mod reply;

pub use datasets::Datasets;
pub use protocol::Protocol;
pub use reply::ReplyPath;

use crate::Target;

pub const NAMES: [&str; 3] = ["protocol", "reply", "datasets"];

/// A fresh target called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Target>> {
    match name {
        "protocol" => Some(Box::new(Protocol)),
        "reply" => Some(Box::new(ReplyPath::new())),
        "datasets" => Some(Box::new(Datasets::new())),
        _ => None,
    }
}
