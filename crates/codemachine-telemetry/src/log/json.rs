//! JSON writing with redaction built in: every key is checked and every string scrubbed on its
//! way into the buffer, so no unredacted copy of a record ever exists.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

use super::value::{Field, Value};
use crate::redact::{
    KeyVerdict, REDACTED, Redactor, ValueKind, is_entry_list, is_name_field, is_raw_header_list,
    is_raw_headers, is_value_field,
};

/// For each byte, what follows the backslash when it must be escaped (`u` for `\u00XX`), or 0.
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Writes `s` as a JSON string, quotes included.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(skip) = find_escape(&bytes[start..]) {
        let i = start + skip;
        let b = bytes[i];
        let escape = ESCAPES[usize::from(b)];
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(&[b'\\', escape]);
        if escape == b'u' {
            buf.extend_from_slice(&[
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// The index of the first byte that JSON needs escaped. Eight bytes at a time: keys and values
/// are mostly short plain text, and this is on every record's path.
fn find_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        // `chunks_exact(8)` yields 8-byte slices.
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let special =
            has_zero(x ^ (ONES * u64::from(b'"'))) | has_zero(x ^ (ONES * u64::from(b'\\')));
        if control | special != 0 {
            // The bit tricks are exact about whether a chunk holds such a byte; look for it.
            if let Some(p) = chunk.iter().position(|b| ESCAPES[usize::from(*b)] != 0) {
                return Some(offset + p);
            }
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|b| ESCAPES[usize::from(*b)] != 0)
        .map(|p| offset + p)
}

/// Writes `s` scrubbed of secret shapes, as a JSON string.
pub(crate) fn write_scrubbed(buf: &mut Vec<u8>, s: &str, redactor: &Redactor) {
    write_str(buf, &redactor.scrub(s));
}

/// Writes a float as JavaScript would (`1234`, `1234.5`); NaN and infinities, which JSON cannot
/// hold, become `null`.
pub(crate) fn write_f64(buf: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        buf.extend_from_slice(b"null");
    } else if !write_short_decimal(buf, f) {
        buf.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    }
}

/// The common case of durations and ratios: a float that is exactly the nearest double to an
/// integer with at most three decimals. Writes it without the general algorithm and returns
/// true, or writes nothing and returns false.
fn write_short_decimal(buf: &mut Vec<u8>, f: f64) -> bool {
    /// Below 2^53 every integer is exact, so the checks below are exact too.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    const SCALES: [(f64, usize); 4] = [(1.0, 0), (10.0, 1), (100.0, 2), (1000.0, 3)];
    for (scale, decimals) in SCALES {
        let scaled = f * scale;
        if scaled.abs() >= EXACT || scaled.fract() != 0.0 || scaled / scale != f {
            continue;
        }
        // |scaled| < 2^53 and it has no fraction, so the cast is exact.
        let n = scaled as i64;
        if n < 0 {
            buf.push(b'-');
        }
        let digits = n.unsigned_abs();
        let factor = 10u64.pow(decimals as u32);
        write_u64(buf, digits / factor);
        if decimals > 0 {
            buf.push(b'.');
            // `factor + fraction` has a leading 1 and then the fraction's digits, zeros kept.
            let mut text = itoa::Buffer::new();
            buf.extend_from_slice(&text.format(digits % factor + factor).as_bytes()[1..]);
        }
        return true;
    }
    false
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

/// Writes fields as an object: secret entries removed (see [`removes_field`]), and of repeated
/// keys only the last kept.
pub(crate) fn write_map(buf: &mut Vec<u8>, fields: &[Field<'_>], redactor: &Redactor) {
    buf.push(b'{');
    let pair = pair_name(fields, redactor);
    let mut first = true;
    for (i, (key, value)) in fields.iter().enumerate() {
        if is_repeated_later(fields, i) || removes_field(redactor, key, value, pair) {
            continue;
        }
        if !first {
            buf.push(b',');
        }
        first = false;
        write_str(buf, key);
        buf.push(b':');
        write_field_value(buf, key, value, redactor);
    }
    buf.push(b'}');
}

/// The verdict on the secret name of a name/value object made of fields, if any.
pub(crate) fn pair_name(fields: &[Field<'_>], redactor: &Redactor) -> Option<KeyVerdict> {
    // Only objects with a `name`/`key` field pay for the look-up.
    if !fields.iter().any(|(k, _)| is_name_field(k)) {
        return None;
    }
    redactor.pair_name(fields.iter().map(|(k, v)| (*k, text_of(v))))
}

fn text_of<'v>(value: &Value<'v>) -> Option<&'v str> {
    match *value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// True when the entry `key: value` is removed: its key names a secret (and the value is not one
/// of the rule's exceptions), or it is the `value` of a name/value pair with a secret name.
pub(crate) fn removes_field(
    redactor: &Redactor,
    key: &str,
    value: &Value<'_>,
    pair: Option<KeyVerdict>,
) -> bool {
    let verdict = redactor.key_verdict(key);
    let paired = pair.filter(|_| is_value_field(key));
    if !verdict.is_secret() && paired.is_none() {
        return false;
    }
    let kind = kind_of(value);
    verdict.removes(kind) || paired.is_some_and(|p| p.removes(kind))
}

/// The kind of a field's value, for the key rule's exceptions.
fn kind_of<'v>(value: &Value<'v>) -> ValueKind<'v> {
    match *value {
        Value::Null => ValueKind::Null,
        Value::Bool(_) => ValueKind::Bool,
        Value::I64(_) | Value::U64(_) | Value::F64(_) => ValueKind::Number,
        Value::Str(s) => ValueKind::Text(s),
        Value::Json(j) => ValueKind::of_json(j),
        Value::Map(_) | Value::List(_) if only_numbers(value) => ValueKind::Numbers,
        Value::Display(_) | Value::Map(_) | Value::List(_) => ValueKind::Other,
    }
}

fn only_numbers(value: &Value<'_>) -> bool {
    match *value {
        Value::I64(_) | Value::U64(_) | Value::F64(_) => true,
        Value::Map(fields) => fields.iter().all(|(_, v)| only_numbers(v)),
        Value::List(items) => items.iter().all(only_numbers),
        Value::Json(j) => matches!(
            ValueKind::of_json(j),
            ValueKind::Number | ValueKind::Numbers
        ),
        _ => false,
    }
}

/// Writes a field's value; under `rawHeaders`, an array of name/value strings is redacted pair by
/// pair.
pub(crate) fn write_field_value(
    buf: &mut Vec<u8>,
    key: &str,
    value: &Value<'_>,
    redactor: &Redactor,
) {
    match *value {
        Value::List(items) if is_raw_headers(key) && is_raw_header_values(items) => {
            let strings = items.iter().map(|v| match *v {
                Value::Str(s) => s,
                _ => "",
            });
            write_raw_headers(buf, strings, redactor);
        }
        Value::Json(Json::Array(items)) if is_raw_headers(key) && is_raw_header_list(items) => {
            write_raw_headers(
                buf,
                items.iter().map(|v| v.as_str().unwrap_or("")),
                redactor,
            );
        }
        _ => write_value(buf, value, redactor),
    }
}

fn is_raw_header_values(items: &[Value<'_>]) -> bool {
    items.iter().all(|v| matches!(v, Value::Str(_)))
}

/// `["Name", "value", …]` with the value after a secret name replaced.
fn write_raw_headers<'s>(
    buf: &mut Vec<u8>,
    mut strings: impl Iterator<Item = &'s str>,
    redactor: &Redactor,
) {
    buf.push(b'[');
    let mut first = true;
    while let Some(name) = strings.next() {
        if !first {
            buf.push(b',');
        }
        first = false;
        write_scrubbed(buf, name, redactor);
        // An odd length leaves a last name without a value: it is scrubbed like any string.
        if let Some(value) = strings.next() {
            buf.push(b',');
            write_str(buf, &redactor.raw_header_value(name, value));
        }
    }
    buf.push(b']');
}

/// True when a later field has the same key (later keys win).
pub(crate) fn is_repeated_later(fields: &[Field<'_>], i: usize) -> bool {
    let key = fields[i].0;
    fields[i + 1..].iter().any(|(k, _)| same_key(k, key))
}

/// String equality that settles most unequal keys on their length and end bytes, without a
/// `memcmp` call (keys are short and compared often).
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    x.len() == y.len() && x.first() == y.first() && x.last() == y.last() && x == y
}

/// A JSON number written as a field of the same value would be: `3.0` as `3`, like pino.
fn write_number(buf: &mut Vec<u8>, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        write_u64(buf, u);
    } else if let Some(i) = n.as_i64() {
        buf.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else if let Some(f) = n.as_f64() {
        write_f64(buf, f);
    }
}

/// Writes any JSON value, redacted at every depth.
pub(crate) fn write_json(buf: &mut Vec<u8>, json: &Json, redactor: &Redactor) {
    match json {
        Json::Null => buf.extend_from_slice(b"null"),
        Json::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Number(n) => write_number(buf, n),
        Json::String(s) => write_scrubbed(buf, s, redactor),
        Json::Array(items) if is_entry_list(items) => write_entries(buf, items, redactor),
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
        Json::Object(map) => write_json_object(buf, map, redactor),
    }
}

/// `[[name, value], …]` with the value of a secret name replaced (see `redact/structure.rs`).
fn write_entries(buf: &mut Vec<u8>, items: &[Json], redactor: &Redactor) {
    buf.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let (Json::Array(pair), Some(name)) = (item, item.get(0).and_then(Json::as_str)) else {
            write_json(buf, item, redactor);
            continue;
        };
        buf.push(b'[');
        write_scrubbed(buf, name, redactor);
        buf.push(b',');
        if redactor.removes_entry_value(name, &pair[1]) {
            write_str(buf, REDACTED);
        } else {
            write_json(buf, &pair[1], redactor);
        }
        buf.push(b']');
    }
    buf.push(b']');
}

fn write_json_object(buf: &mut Vec<u8>, map: &Map<String, Json>, redactor: &Redactor) {
    buf.push(b'{');
    let pair = redactor.pair_name(map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut first = true;
    for (key, value) in map {
        let kind = || ValueKind::of_json(value);
        let verdict = redactor.key_verdict(key);
        let paired = pair.filter(|_| is_value_field(key));
        if (verdict.is_secret() || paired.is_some())
            && (verdict.removes(kind()) || paired.is_some_and(|p| p.removes(kind())))
        {
            continue;
        }
        if !first {
            buf.push(b',');
        }
        first = false;
        write_str(buf, key);
        buf.push(b':');
        write_json_field(buf, key, value, redactor);
    }
    buf.push(b'}');
}

/// Writes the JSON value of entry `key` (an array under `rawHeaders` is redacted pair by pair).
pub(crate) fn write_json_field(buf: &mut Vec<u8>, key: &str, value: &Json, redactor: &Redactor) {
    match value {
        Json::Array(items) if is_raw_headers(key) && is_raw_header_list(items) => {
            write_raw_headers(
                buf,
                items.iter().map(|v| v.as_str().unwrap_or("")),
                redactor,
            );
        }
        _ => write_json(buf, value, redactor),
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
    fn json_numbers_are_written_as_fields_of_the_same_value() {
        let redactor = Redactor::new();
        let value = json!([
            3.0,
            -0.0,
            1234.5,
            18446744073709551615u64,
            -9223372036854775808i64
        ]);
        assert_eq!(
            written(|b| write_json(b, &value, &redactor)),
            "[3,0,1234.5,18446744073709551615,-9223372036854775808]"
        );
    }

    #[test]
    fn floats_are_written_as_javascript_writes_them_and_read_back_exactly() {
        let cases = [
            (1234.5, "1234.5"),
            (0.0, "0"),
            (-0.0, "0"),
            (3.0, "3"),
            (-2.25, "-2.25"),
            (0.001, "0.001"),
            (0.05, "0.05"),
            (0.1, "0.1"),
            (1e21, "1e21"),
            (0.0001, "0.0001"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (f, expected) in cases {
            let out = written(|b| write_f64(b, f));
            assert_eq!(out, expected, "{f}");
            assert_eq!(out.parse::<f64>().unwrap(), f);
        }
        for i in -5000..5000 {
            let f = f64::from(i) * 0.37;
            let out = written(|b| write_f64(b, f));
            assert_eq!(out.parse::<f64>().unwrap(), f, "{out}");
        }
    }

    #[test]
    fn escapes_are_found_at_every_position_of_a_chunk() {
        for len in 0..20 {
            for at in 0..len {
                for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                    let mut s: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    s.replace_range(at..at + 1, &special.to_string());
                    let ours = written(|b| write_str(b, &s));
                    assert_eq!(ours, serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
        let high = "\u{7f}\u{80}ÿ€ plain é text over eight bytes";
        assert_eq!(
            written(|b| write_str(b, high)),
            serde_json::to_string(high).unwrap()
        );
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
