//! What the setters of optional request-body fields accept.

use chrono::{DateTime, Utc};

/// A value for an optional field of a request body: the value itself, `Some(value)` or `None`,
/// and for text fields a `&str`. So `.domain("acme.com")` reads like the API docs, and
/// `.domain(None)` still clears the field.
///
/// Implemented by the crate for the types its request bodies use, not meant to be
/// implemented elsewhere.
pub trait OptionalValue<T> {
    /// The field's value, or why the value does not fit the field (checked when the request
    /// is sent, before anything leaves).
    #[doc(hidden)]
    fn into_optional(self) -> Result<Option<T>, String>;
}

impl<T> OptionalValue<T> for Option<T> {
    fn into_optional(self) -> Result<Option<T>, String> {
        Ok(self)
    }
}

impl OptionalValue<String> for &str {
    fn into_optional(self) -> Result<Option<String>, String> {
        Ok(Some(self.to_owned()))
    }
}

impl OptionalValue<String> for &String {
    fn into_optional(self) -> Result<Option<String>, String> {
        Ok(Some(self.clone()))
    }
}

/// Plain values of the types both APIs share.
macro_rules! plain {
    ($($ty:ty),*) => {
        $(
            impl OptionalValue<$ty> for $ty {
                fn into_optional(self) -> Result<Option<$ty>, String> {
                    Ok(Some(self))
                }
            }
        )*
    };
}

plain!(String, bool, i64, f64, serde_json::Value, DateTime<Utc>);
