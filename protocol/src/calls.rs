//! Requests as types. [`calls!`] reads the one list of requests (in
//! `lib.rs`) and writes from it the [`Request`](crate::Request) enum that
//! crosses the wire, its `name()`, and for each request a struct in
//! [`call`](crate::call) that implements [`Call`]: the request's fields,
//! the reply that answers it and what that reply carries. A host asks with
//! the struct and gets the answer typed (as `lsp-types` pairs a request
//! with its response); a module matches on the enum. A new request is one
//! entry in the list; the compiler then asks for its engine arm and its
//! host-side check.

use serde::{Serialize, Serializer};

use crate::{Reply, Request};

/// One request as a type, paired with the reply that answers it.
pub trait Call: Serialize {
    /// The request's name, as [`Request::name`] gives it.
    const NAME: &'static str;
    /// The name of the reply that answers it.
    const REPLY: &'static str;
    /// Its variant's position in [`Request`]: its tag on the wire.
    const TAG: u32;
    /// What that reply carries (`()` for `Reply::Ok`).
    type Answer;

    /// The request as the enum a module decodes.
    fn into_request(self) -> Request;

    /// The answer a reply of the right kind carries; any other reply back.
    // Large only when it is an explanation; the other reply is rare and is
    // only named or turned into an error.
    #[allow(clippy::result_large_err)]
    fn answer(reply: Reply) -> Result<Self::Answer, Reply>;

    /// The bytes `self.into_request().encode()` gives, without moving or
    /// copying the payload (a model can be hundreds of megabytes).
    fn encode(&self) -> Vec<u8>
    where
        Self: Sized,
    {
        postcard::to_stdvec(&Tagged(self)).expect("requests always encode")
    }
}

/// A call as its enum variant: postcard writes a newtype variant as the tag
/// then the inner value, and a struct variant as the tag then its fields,
/// which are the same bytes.
struct Tagged<'a, C>(&'a C);

impl<C: Call> Serialize for Tagged<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_variant("Request", C::TAG, C::NAME, self.0)
    }
}

/// Writes [`Request`](crate::Request), its `name()` and `NAMES`, and the
/// [`call`](crate::call) module from one list of
/// `Name { fields } => ReplyVariant(AnswerType);` entries (`=> Ok;` for
/// a request answered by `Reply::Ok`). Append only: the position is the tag.
macro_rules! calls {
    ($(
        $(#[$doc:meta])*
        $name:ident $({ $( $(#[$field_meta:meta])* $field:ident : $field_ty:ty ),* $(,)? })?
        => $reply:ident $(($answer:ty))? ;
    )*) => {
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum Request {
            $(
                $(#[$doc])*
                $name $({ $( $(#[$field_meta])* $field: $field_ty ),* })?,
            )*
        }

        impl Request {
            /// Every request's name, in wire order.
            pub const NAMES: &[&str] = &[$(stringify!($name)),*];

            /// The variant's name, for messages and logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Request::$name { .. } => stringify!($name),)*
                }
            }

            /// The name of the reply that answers it, unless it is refused
            /// ([`Reply::Error`]).
            pub fn reply_name(&self) -> &'static str {
                match self {
                    $(Request::$name { .. } => stringify!($reply),)*
                }
            }
        }

        /// Each request as a type that names its reply (see [`Call`]).
        pub mod call {
            use super::*;

            #[allow(dead_code)]
            #[repr(u32)]
            enum Tag { $($name),* }

            $(
                $(#[$doc])*
                #[derive(Debug, Clone, PartialEq, Serialize)]
                pub struct $name {
                    $($( $(#[$field_meta])* pub $field: $field_ty, )*)?
                }

                impl Call for $name {
                    const NAME: &'static str = stringify!($name);
                    const REPLY: &'static str = stringify!($reply);
                    const TAG: u32 = Tag::$name as u32;
                    type Answer = calls!(@answer $($answer)?);

                    fn into_request(self) -> Request {
                        let $name { $($($field),*)? } = self;
                        Request::$name $({ $($field),* })?
                    }

                    fn answer(reply: Reply) -> Result<Self::Answer, Reply> {
                        calls!(@take reply, $reply $(, $answer)?)
                    }
                }
            )*
        }
    };
    (@answer) => { () };
    (@answer $answer:ty) => { $answer };
    (@take $reply:ident, $variant:ident) => {
        match $reply {
            Reply::$variant => Ok(()),
            other => Err(other),
        }
    };
    (@take $reply:ident, $variant:ident, $answer:ty) => {
        match $reply {
            Reply::$variant(answer) => Ok(answer),
            other => Err(other),
        }
    };
}
pub(crate) use calls;
