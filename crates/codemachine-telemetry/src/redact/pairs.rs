//! Name/value pairs written as text inside a string: `{"name":"password","value":"v"}`, with
//! spaces, single quotes or JSON-escaped quotes (`{\"name\":\"password\",\"value\":\"v\"}`), the
//! fields `name`/`key`/`k` and `value`/`val`/`v` in any case (AWS tags `{"Key":"password",
//! "Value":"v"}`), and the value first (`{"value":"v","name":"password"}`). The same pairs are
//! matched as structures in `structure.rs`; this is their text form.
//!
//! The name must be a short string (quoted or bare) matching the key rule, and the two fields must
//! be neighbours: separated by a `,` and white space, or by a line break (real or escaped) and
//! indentation, as in YAML (Kubernetes' `env: - name: DB_PASSWORD\n  value: …`); nothing else.
//! Every look is bounded ([`MAX_NAME`], [`MAX_GAP`]) except the value's: read after the name by
//! `notation::value` (which ends in a redaction or a memoised run), or, value first, to the first
//! quote of its kind after its opening one (the stretches read for different values never
//! overlap) or to the end of a bare value (a memoised search).

use std::ops::Range;

use super::notation::{self, bare_end, keeps_value};
use super::scan::{Scan, work};
use super::structure::{is_name_field, is_value_field};

/// A name longer than this is not a key.
const MAX_NAME: usize = 128;

/// White space between the fields and around their separator, at most.
const MAX_GAP: usize = 64;

/// The pair whose `name`-like (or `value`-like) field `key` ends before a separator; its value
/// starts at `value_start`. Returns where to resume after a redaction.
pub(crate) fn name_value(scan: &mut Scan<'_, '_>, key: &str, value_start: usize) -> Option<usize> {
    if key.len() > 8 {
        return None;
    }
    let key = key.trim_ascii();
    if is_name_field(key) {
        name_first(scan, value_start)
    } else if is_value_field(key) {
        value_first(scan, value_start)
    } else {
        None
    }
}

/// `"name":"password","value":"v"`: from after the name's separator.
fn name_first(scan: &mut Scan<'_, '_>, from: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let (name, after) = short_string(bytes, skip_blank(bytes, from))?;
    let verdict = scan.verdict(scan.text.get(name)?);
    if !verdict.is_secret() {
        return None;
    }
    let field_start = after_comma(bytes, after)?;
    let (field, after_field) = short_string(bytes, field_start)?;
    if !is_value_field(scan.text.get(field)?) {
        return None;
    }
    let value_from = after_separator(bytes, after_field)?;
    notation::value(scan, value_from, verdict, false, false)
}

/// `"value":"v","name":"password"`: from after the value's separator.
fn value_first(scan: &mut Scan<'_, '_>, from: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let p = skip_blank(bytes, from);
    let k = bytes[p..]
        .iter()
        .take(8)
        .take_while(|b| **b == b'\\')
        .count();
    let (content, after) = match bytes.get(p + k) {
        Some(q @ (b'"' | b'\'')) => {
            let start = p + k + 1;
            let len = bytes[start..].iter().take_while(|b| *b != q).count();
            work(len + 1);
            let close = start + len;
            let escapes = bytes[start..close]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count();
            if close >= bytes.len() || escapes != k {
                return None;
            }
            (start..close - k, close + 1)
        }
        Some(b'[' | b'{') | None => return None,
        _ if k > 0 => return None,
        _ => {
            let end = bare_end(scan, p, false);
            (p..end, end)
        }
    };
    let field_start = after_comma(bytes, after)?;
    let (field, after_field) = short_string(bytes, field_start)?;
    if !is_name_field(scan.text.get(field)?) {
        return None;
    }
    let name_from = skip_blank(bytes, after_separator(bytes, after_field)?);
    let (name, _) = short_string(bytes, name_from)?;
    let verdict = scan.verdict(scan.text.get(name)?);
    if !verdict.is_secret() || content.is_empty() || keeps_value(verdict, &bytes[content.clone()]) {
        return None;
    }
    Some(scan.redact(content).max(after))
}

/// Spaces, tabs and line breaks (real or escaped: `\n`, `\r`, `\t`) from `from`, at most
/// [`MAX_GAP`] bytes of them.
fn skip_blank(bytes: &[u8], from: usize) -> usize {
    let mut j = from;
    while j - from < MAX_GAP {
        match bytes.get(j) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => j += 1,
            Some(b'\\') if matches!(bytes.get(j + 1), Some(b'n' | b'r' | b't')) => j += 2,
            _ => break,
        }
    }
    work(j - from + 1);
    j
}

/// After a field's value: blanks, a `,`, blanks; or blanks holding a line break (real or escaped:
/// YAML, as in Kubernetes' `- name: DB_PASSWORD\n  value: …`). Where the next field starts.
fn after_comma(bytes: &[u8], from: usize) -> Option<usize> {
    let j = skip_blank(bytes, from);
    if bytes.get(j) == Some(&b',') {
        return Some(skip_blank(bytes, j + 1));
    }
    let gap = &bytes[from..j];
    (gap.contains(&b'\n') || gap.windows(2).any(|w| w == b"\\n")).then_some(j)
}

/// After a field's name: blanks, then `:`, `=` or `=>`, then where its value starts.
fn after_separator(bytes: &[u8], from: usize) -> Option<usize> {
    let j = skip_blank(bytes, from);
    let len = match bytes.get(j..j + 2) {
        Some(b"=>") => 2,
        _ if matches!(bytes.get(j), Some(b':' | b'=')) => 1,
        _ => return None,
    };
    Some(j + len)
}

/// A short string at `p`: quoted (`"x"`, `'x'`, or with escaped quotes `\"x\"`, the same number
/// of backslashes closing it) or bare (letters, digits, `_ - .`). Its content and where it ends.
fn short_string(bytes: &[u8], p: usize) -> Option<(Range<usize>, usize)> {
    let k = bytes[p.min(bytes.len())..]
        .iter()
        .take(8)
        .take_while(|b| **b == b'\\')
        .count();
    let result = match *bytes.get(p + k)? {
        q @ (b'"' | b'\'') => {
            let start = p + k + 1;
            let len = bytes[start..]
                .iter()
                .take(MAX_NAME + k + 1)
                .take_while(|b| **b != q && **b != b'\n')
                .count();
            let close = start + len;
            if bytes.get(close) != Some(&q) || len < k || len > MAX_NAME + k {
                return None;
            }
            let content = start..close - k;
            (bytes[content.end..close].iter().all(|b| *b == b'\\')
                && !bytes[content.clone()].ends_with(b"\\"))
            .then_some((content, close + 1))
        }
        b if k == 0 && (b.is_ascii_alphanumeric() || b == b'_') => {
            let len = bytes[p..]
                .iter()
                .take(MAX_NAME + 1)
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                .count();
            (len <= MAX_NAME).then_some((p..p + len, p + len))
        }
        _ => None,
    };
    work(result.as_ref().map_or(1, |(c, _)| c.len() + 1));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_quoted_escaped_or_bare() {
        fn s(t: &str) -> Option<(&str, usize)> {
            short_string(t.as_bytes(), 0).map(|(c, e)| (&t[c], e))
        }
        assert_eq!(s("\"password\","), Some(("password", 10)));
        assert_eq!(s("\\\"password\\\","), Some(("password", 12)));
        assert_eq!(s("'Key':"), Some(("Key", 5)));
        assert_eq!(s("value:"), Some(("value", 5)));
        assert_eq!(s("\\\"password\","), None);
        assert_eq!(s("\"unterminated"), None);
    }
}
