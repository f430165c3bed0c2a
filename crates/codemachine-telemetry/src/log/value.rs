//! What callers hand the logger: borrowed values, written straight into the record.
//!
//! Borrowing keeps the hot path free of allocation: a record's fields are a slice of
//! `(key, Value)` pairs that usually live on the caller's stack (see [`fields!`](crate::fields)).

use std::fmt;

use serde_json::Value as Json;

/// One field of a record: a key and its value.
pub type Field<'a> = (&'a str, Value<'a>);

/// A field's value. Build one with `Value::from` (or through [`fields!`](crate::fields)).
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float; NaN and infinities are written as `null`.
    F64(f64),
    /// A string, scrubbed of secret shapes when written.
    Str(&'a str),
    /// Anything with `Display`, written as a scrubbed string.
    Display(&'a dyn fmt::Display),
    /// A nested object; entries with secret keys are removed.
    Map(&'a [Field<'a>]),
    /// An array.
    List(&'a [Value<'a>]),
    /// Any JSON value, redacted at every depth when written.
    Json(&'a Json),
}

macro_rules! from_number {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(n: $t) -> Self {
                Value::$variant(<$wide>::from(n))
            }
        }
    )*};
}
from_number!(I64 as i64: i8, i16, i32, i64);
from_number!(U64 as u64: u8, u16, u32, u64);
from_number!(F64 as f64: f32, f64);

impl From<usize> for Value<'_> {
    fn from(n: usize) -> Self {
        // usize is at most 64 bits on every platform Rust supports.
        Value::U64(n as u64)
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<&'a Json> for Value<'a> {
    fn from(v: &'a Json) -> Self {
        Value::Json(v)
    }
}

impl<'a> From<&'a [Field<'a>]> for Value<'a> {
    fn from(map: &'a [Field<'a>]) -> Self {
        Value::Map(map)
    }
}

impl<'a> From<&'a [Value<'a>]> for Value<'a> {
    fn from(list: &'a [Value<'a>]) -> Self {
        Value::List(list)
    }
}

impl<'a, const N: usize> From<&'a [Field<'a>; N]> for Value<'a> {
    fn from(map: &'a [Field<'a>; N]) -> Self {
        Value::Map(map)
    }
}

impl<'a, const N: usize> From<&'a [Value<'a>; N]> for Value<'a> {
    fn from(list: &'a [Value<'a>; N]) -> Self {
        Value::List(list)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a `&[Field; N]` (which coerces to `&[Field]`) in place: `fields! { "command" => "start", "step" => 3 }`.
///
/// Nest it for objects (`"agent" => fields! { "name" => "claude" }`). The slice borrows
/// temporaries, so use it inside the logging call's statement.
#[macro_export]
macro_rules! fields {
    ($($key:expr => $value:expr),* $(,)?) => {
        &[$(($key, $crate::Value::from($value))),*]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_macro_builds_nested_slices() {
        let check = |f: &[Field]| {
            assert_eq!(f.len(), 3);
            assert!(matches!(f[0].1, Value::I64(1)));
            assert!(matches!(f[1].1, Value::Map(m) if m.len() == 1));
            assert!(matches!(f[2].1, Value::Null));
        };
        check(fields! { "a" => 1, "b" => fields! { "c" => "d" }, "e" => None::<u8> });
    }

    #[test]
    fn a_flat_fields_slice_can_be_bound_to_a_name() {
        let f: &[Field] = fields! { "a" => 1 };
        assert!(matches!(f[0].1, Value::I64(1)));
    }
}
