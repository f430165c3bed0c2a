//! JSON writing with redaction built in: every key is checked and every string scrubbed on its
//! way into the buffer, so no unredacted copy of a record ever exists.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::value::{Field, Value};
use crate::redact::Redactor;

/// Writes `s` as a JSON string, quotes included.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.extend_from_slice(escape);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Writes `s` scrubbed of secret shapes, as a JSON string.
pub(crate) fn write_scrubbed(buf: &mut Vec<u8>, s: &str, redactor: &Redactor) {
    write_str(buf, &redactor.scrub(s));
}

/// Writes a float; NaN and infinities, which JSON cannot hold, become `null`.
pub(crate) fn write_f64(buf: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        buf.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    } else {
        buf.extend_from_slice(b"null");
    }
}

pub(crate) fn write_u64(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn write_i64(buf: &mut Vec<u8>, n: i64) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes one caller value, redacted.
pub(crate) fn write_value(buf: &mut Vec<u8>, value: &Value<'_>, redactor: &Redactor) {
    match *value {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Bool(b) => buf.extend_from_slice(if b { b"true" } else { b"false" }),
        Value::I64(n) => write_i64(buf, n),
        Value::U64(n) => write_u64(buf, n),
        Value::F64(f) => write_f64(buf, f),
        Value::Str(s) => write_scrubbed(buf, s, redactor),
        Value::Display(d) => {
            let mut s = String::new();
            // Writing into a String only fails if `Display` itself reports an error; what it
            // wrote until then is kept.
            let _ = write!(s, "{d}");
            write_scrubbed(buf, &s, redactor);
        }
        Value::Map(fields) => write_map(buf, fields, redactor),
        Value::List(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_value(buf, item, redactor);
            }
            buf.push(b']');
        }
        Value::Json(json) => write_json(buf, json, redactor),
    }
}

/// Writes fields as an object: secret keys removed, and of repeated keys only the last kept.
pub(crate) fn write_map(buf: &mut Vec<u8>, fields: &[Field<'_>], redactor: &Redactor) {
    buf.push(b'{');
    let mut first = true;
    for (i, (key, value)) in fields.iter().enumerate() {
        if is_repeated_later(fields, i) || redactor.is_secret_key(key) {
            continue;
        }
        if !first {
            buf.push(b',');
        }
        first = false;
        write_str(buf, key);
        buf.push(b':');
        write_value(buf, value, redactor);
    }
    buf.push(b'}');
}

/// True when a later field has the same key (later keys win).
pub(crate) fn is_repeated_later(fields: &[Field<'_>], i: usize) -> bool {
    let key = fields[i].0;
    fields[i + 1..].iter().any(|(k, _)| *k == key)
}

/// Writes any JSON value, redacted at every depth.
pub(crate) fn write_json(buf: &mut Vec<u8>, json: &Json, redactor: &Redactor) {
    match json {
        Json::Null => buf.extend_from_slice(b"null"),
        Json::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Number(n) => buf.extend_from_slice(n.to_string().as_bytes()),
        Json::String(s) => write_scrubbed(buf, s, redactor),
        Json::Array(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_json(buf, item, redactor);
            }
            buf.push(b']');
        }
        Json::Object(map) => {
            buf.push(b'{');
            let mut first = true;
            for (key, value) in map.iter().filter(|(k, _)| !redactor.is_secret_key(k)) {
                if !first {
                    buf.push(b',');
                }
                first = false;
                write_str(buf, key);
                buf.push(b':');
                write_json(buf, value, redactor);
            }
            buf.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields;
    use serde_json::json;

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut buf = Vec::new();
        f(&mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "plain",
            "quote \" back \\ slash",
            "ctl \u{0}\u{1f}\n\t\r",
            "üñí ✓",
        ] {
            let ours = written(|b| write_str(b, s));
            assert_eq!(ours, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn non_finite_floats_become_null() {
        let r = Redactor::new();
        let out = written(|b| {
            write_value(
                b,
                &Value::List(&[f64::NAN.into(), f64::INFINITY.into(), 1.5.into()]),
                &r,
            )
        });
        assert_eq!(out, "[null,null,1.5]");
    }

    #[test]
    fn maps_drop_secret_keys_and_keep_the_last_of_repeated_keys() {
        let r = Redactor::new();
        let out = written(|b| {
            write_map(
                b,
                fields! { "a" => 1, "apiKey" => "x", "a" => 2, "n" => fields! { "token" => 1 } },
                &r,
            )
        });
        assert_eq!(out, r#"{"a":2,"n":{}}"#);
    }

    #[test]
    fn json_values_are_redacted_at_every_depth() {
        let r = Redactor::new();
        let v = json!({"l": [{"password": 1, "ok": "Bearer abcdefgh12345678"}], "big": 18446744073709551615u64});
        let out = written(|b| write_json(b, &v, &r));
        assert_eq!(
            out,
            r#"{"l":[{"ok":"Bearer [REDACTED]"}],"big":18446744073709551615}"#
        );
    }
}
