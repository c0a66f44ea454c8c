//! How an algorithm's parameters are declared once: [`params!`] turns
//! `name: type = default, min..=max, "help";` lines into the typed struct,
//! its defaults, its wire description and both directions of the spec
//! mapping.

use cinema_protocol::{ModelSpec, ParamInfo, Value};

/// What [`params!`] gives a parameter struct: its wire description and the
/// spec mapping both ways.
pub trait Params: Sized {
    /// The parameters as the wire describes them, with their defaults.
    fn describe() -> Vec<ParamInfo>;
    /// The typed form of a spec already checked against [`Params::describe`].
    fn from_checked(spec: &ModelSpec) -> Self;
    /// Every parameter as the spec names it.
    fn values(&self) -> Vec<(String, Value)>;
}

/// A parameter's type: how it is described, read from a checked spec and
/// written back.
pub trait Param: Copy {
    fn info(name: &str, default: Self, min: Self, max: Self, help: &str) -> ParamInfo;
    /// From a spec already checked against the description.
    fn read(spec: &ModelSpec, name: &str) -> Self;
    fn value(self) -> Value;
}

impl Param for u32 {
    fn info(name: &str, default: u32, min: u32, max: u32, help: &str) -> ParamInfo {
        ParamInfo::integer(name, default.into(), min.into(), max.into(), help)
    }
    fn read(spec: &ModelSpec, name: &str) -> u32 {
        spec.integer(name).expect("checked against the description") as u32
    }
    fn value(self) -> Value {
        Value::Integer(self.into())
    }
}

impl Param for u64 {
    fn info(name: &str, default: u64, min: u64, max: u64, help: &str) -> ParamInfo {
        ParamInfo::integer(name, default as i64, min as i64, max as i64, help)
    }
    fn read(spec: &ModelSpec, name: &str) -> u64 {
        spec.integer(name).expect("checked against the description") as u64
    }
    fn value(self) -> Value {
        Value::Integer(self as i64)
    }
}

impl Param for f32 {
    fn info(name: &str, default: f32, min: f32, max: f32, help: &str) -> ParamInfo {
        ParamInfo::real(name, wide(default), wide(min), wide(max), help)
    }
    fn read(spec: &ModelSpec, name: &str) -> f32 {
        spec.real(name).expect("checked against the description") as f32
    }
    fn value(self) -> Value {
        Value::Real(wide(self))
    }
}

/// Declares an algorithm's parameters once (see the module doc):
/// `name: type = default, min..=max, "help";` per parameter.
#[macro_export]
macro_rules! params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty = $default:expr, $min:literal ..= $max:expr, $help:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> $name {
                $name { $( $field: $default ),* }
            }
        }

        impl $crate::algorithms::params::Params for $name {
            fn describe() -> Vec<$crate::protocol::ParamInfo> {
                let d = $name::default();
                vec![ $( <$ty as $crate::algorithms::params::Param>::info(stringify!($field), d.$field, $min, $max, $help) ),* ]
            }

            fn from_checked(spec: &$crate::protocol::ModelSpec) -> $name {
                $name { $( $field: <$ty as $crate::algorithms::params::Param>::read(spec, stringify!($field)) ),* }
            }

            fn values(&self) -> Vec<(String, $crate::protocol::Value)> {
                vec![ $( (stringify!($field).to_owned(), <$ty as $crate::algorithms::params::Param>::value(self.$field)) ),* ]
            }
        }
    };
}

/// An `f32` as the `f64` a person would write (0.007, not 0.007000000216…);
/// it narrows back to the same `f32`.
pub fn wide(x: f32) -> f64 {
    x.to_string().parse().expect("a float's Display parses")
}
