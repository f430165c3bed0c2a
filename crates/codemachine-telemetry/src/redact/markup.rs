//! Key/value notations that are not `key<separator>value`: markup and command lines.
//!
//! - XML elements named by a secret key: `<password>v</password>`, `<db:api_key type="x">v
//!   </db:api_key>`, `<client_secret><![CDATA[v]]></client_secret>`. The content goes only when
//!   the element is closed by its own end tag (or the content is a CDATA section), so that
//!   `usage: login <password> then run` stays;
//! - HTML/XML attributes pairing a name and a value, in either order and either quote:
//!   `<input name="password" value="v">`, `<add key="DbPassword" value="v"/>`,
//!   `<meta name="csrf-token" content="v">`, `<input type="password" value="v">`;
//! - a multipart form field: `Content-Disposition: form-data; name="password"` then a blank line
//!   and the value (to the end of its line);
//! - `curl -u user:password`, `--user`, `--proxy-user`, `-U`: the password after the first `:`
//!   (`docker -u 1000:1000` and `-u app:app`, a user and its group, stay).
//!
//! Every look is bounded or memoised: a tag is read at most to the next `<` or `>` (so the
//! stretches read for different tags never overlap) and an element's content to the next `<`.

use std::ops::Range;

use super::notation::{bare_end, keeps_value};
use super::scan::{Find, Scan, work};

/// A start tag longer than this is not looked into.
const MAX_TAG: usize = 2048;

/// Attributes that name the value of the element (`name="password"`).
const NAMING_ATTRIBUTES: [&str; 5] = ["name", "key", "id", "type", "property"];

/// Attributes that hold it (`value="…"`).
const VALUE_ATTRIBUTES: [&str; 2] = ["value", "content"];

/// A start tag at the `<` at `i`: a secret element's content, or a secret attribute pair's value.
pub(crate) fn at_angle(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let name = tag_name(bytes, i + 1)?;
    let (attrs, gt) = attributes(bytes, name.end)?;
    if let Some(end) = attribute_pair(scan, &attrs) {
        return Some(end);
    }
    if bytes[gt - 1] == b'/' {
        return None;
    }
    let verdict = scan.verdict(scan.text.get(name.clone())?);
    if !verdict.is_secret() {
        return None;
    }
    let (content, resume) = element_content(scan, gt + 1, &bytes[name])?;
    if keeps_value(verdict, &bytes[content.clone()]) {
        return None;
    }
    Some(scan.redact(content).max(resume))
}

/// The element name starting at `at` (letters, digits, `_ - . :` and non-ASCII), if one does.
fn tag_name(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let first = *bytes.get(at)?;
    if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
        return None;
    }
    let len = bytes[at..]
        .iter()
        .take(128)
        .take_while(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || **b >= 0x80
        })
        .count();
    work(len + 1);
    let after = *bytes.get(at + len)?;
    matches!(after, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r').then_some(at..at + len)
}

/// One attribute: its name and its value (quotes excluded).
type Attribute = (Range<usize>, Range<usize>);

/// The attributes of a start tag whose name ends at `from`, and where its `>` is. `None` when a
/// `<` comes first or the tag runs past [`MAX_TAG`].
fn attributes(bytes: &[u8], from: usize) -> Option<(Vec<Attribute>, usize)> {
    let limit = bytes.len().min(from + MAX_TAG);
    let mut attrs = Vec::new();
    let mut j = from;
    let result = loop {
        while j < limit && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        match bytes.get(j).filter(|_| j < limit) {
            Some(b'>') => break Some(j),
            None | Some(b'<') => break None,
            Some(b'/') => {
                j += 1;
                continue;
            }
            _ => {}
        }
        let name = j..j + bytes[j..limit]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'<' | b'/'))
            .count();
        j = name.end.max(j + 1);
        if bytes.get(j) != Some(&b'=') {
            continue;
        }
        let (value, next) = attribute_value(bytes, j + 1, limit)?;
        attrs.push((name, value));
        j = next;
    };
    work(j - from + 1);
    result.map(|gt| (attrs, gt))
}

/// A quoted or bare attribute value starting at `at`, and where the tag goes on after it.
fn attribute_value(bytes: &[u8], at: usize, limit: usize) -> Option<(Range<usize>, usize)> {
    match bytes.get(at).filter(|_| at < limit)? {
        q @ (b'"' | b'\'') => {
            let len = bytes[at + 1..limit]
                .iter()
                .take_while(|b| *b != q && **b != b'<')
                .count();
            let close = at + 1 + len;
            (bytes.get(close) == Some(q)).then_some((at + 1..close, close + 1))
        }
        _ => {
            let len = bytes[at..limit]
                .iter()
                .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'>' | b'<'))
                .count();
            Some((at..at + len, at + len))
        }
    }
}

/// `name="<secret key>"` with `value="…"` in the same tag: the value goes.
fn attribute_pair(scan: &mut Scan<'_, '_>, attrs: &[Attribute]) -> Option<usize> {
    let bytes = scan.bytes;
    let is = |range: &Range<usize>, names: &[&str]| {
        names
            .iter()
            .any(|n| bytes[range.clone()].eq_ignore_ascii_case(n.as_bytes()))
    };
    let value = attrs
        .iter()
        .find(|(n, _)| is(n, &VALUE_ATTRIBUTES))?
        .1
        .clone();
    let verdict = attrs
        .iter()
        .filter(|(n, _)| is(n, &NAMING_ATTRIBUTES))
        .filter_map(|(_, v)| scan.text.get(v.clone()))
        .map(|name| scan.verdict(name))
        .find(|v| v.is_secret())?;
    if value.is_empty() || keeps_value(verdict, &bytes[value.clone()]) {
        return None;
    }
    Some(scan.redact(value))
}

/// The content of the element whose start tag ends before `from`: a CDATA section, or the text
/// up to the element's own end tag (`</name>`). Returns the content (white space trimmed) and
/// where the walk resumes.
fn element_content(
    scan: &mut Scan<'_, '_>,
    from: usize,
    name: &[u8],
) -> Option<(Range<usize>, usize)> {
    let bytes = scan.bytes;
    let start = from
        + bytes[from..]
            .iter()
            .take(64)
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    if bytes[start..].starts_with(b"<![CDATA[") {
        let body = start + 9;
        let end = bytes[body..]
            .windows(3)
            .position(|w| w == b"]]>")
            .map_or(bytes.len(), |at| body + at);
        work(end - body + 1);
        return Some((body..end, (end + 3).min(bytes.len())));
    }
    let lt = scan.next_of(Find::Lt, from);
    let close = &bytes[lt.min(bytes.len())..];
    let closed = close.starts_with(b"</")
        && close[2..].starts_with(name)
        && matches!(close.get(2 + name.len()), Some(b'>' | b' '));
    if !closed {
        return None;
    }
    let mut end = lt;
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    Some((start..end, lt))
}

/// `name="<secret key>"` in a multipart part's `Content-Disposition: form-data`, then a blank
/// line: the value (to the end of its line) goes. `key` is the key before the separator at
/// `value_start`, found at `key_start`.
pub(crate) fn form_field(
    scan: &mut Scan<'_, '_>,
    key: &str,
    key_start: usize,
    value_start: usize,
) -> Option<usize> {
    let bytes = scan.bytes;
    if !key.eq_ignore_ascii_case("name") {
        return None;
    }
    let context = &bytes[key_start.saturating_sub(64)..key_start];
    work(context.len() + 1);
    if !context
        .windows(9)
        .any(|w| w.eq_ignore_ascii_case(b"form-data"))
    {
        return None;
    }
    let open = value_start + usize::from(bytes.get(value_start) == Some(&b'\\'));
    if bytes.get(open) != Some(&b'"') {
        return None;
    }
    let len = bytes[open + 1..]
        .iter()
        .take(128)
        .take_while(|b| !matches!(b, b'"' | b'\\'))
        .count();
    let name = scan.text.get(open + 1..open + 1 + len)?;
    let verdict = scan.verdict(name);
    if !verdict.is_secret() {
        return None;
    }
    let after = open + 1 + len + 1 + usize::from(bytes.get(open + 1 + len) == Some(&b'\\'));
    let body = [&b"\r\n\r\n"[..], b"\n\n", b"\\r\\n\\r\\n", b"\\n\\n"]
        .iter()
        .find(|blank| bytes.get(after..).is_some_and(|r| r.starts_with(blank)))
        .map(|blank| after + blank.len())?;
    let end = line_end(scan, body);
    if end == body || keeps_value(verdict, &bytes[body..end]) {
        return None;
    }
    Some(scan.redact(body..end))
}

/// The end of the value of a multipart field whose `name="<secret key>"` sits inside `range` (a
/// range about to be redacted, such as an `Authorization` value running to the end of its line),
/// when that value lies past the range: a redaction must not swallow the context of a secret
/// and leave the secret itself behind.
pub(crate) fn end_of_form_field_within(scan: &Scan<'_, '_>, range: Range<usize>) -> Option<usize> {
    let bytes = scan.bytes;
    // An empty or reversed range (a redaction already covered by an earlier one) holds nothing.
    let region = bytes.get(range.clone())?;
    work(region.len());
    let at = region
        .windows(9)
        .rposition(|w| w.eq_ignore_ascii_case(b"form-data"))?;
    let name = range.start
        + at
        + region[at..]
            .windows(5)
            .position(|w| w.eq_ignore_ascii_case(b"name="))?;
    let open = name + 5 + usize::from(bytes.get(name + 5) == Some(&b'\\'));
    if bytes.get(open) != Some(&b'"') {
        return None;
    }
    let len = bytes[open + 1..]
        .iter()
        .take(128)
        .take_while(|b| !matches!(b, b'"' | b'\\'))
        .count();
    if !scan
        .verdict(scan.text.get(open + 1..open + 1 + len)?)
        .is_secret()
    {
        return None;
    }
    let after = open + 1 + len + 1 + usize::from(bytes.get(open + 1 + len) == Some(&b'\\'));
    let body = [&b"\r\n\r\n"[..], b"\n\n", b"\\r\\n\\r\\n", b"\\n\\n"]
        .iter()
        .find(|blank| bytes.get(after..).is_some_and(|r| r.starts_with(blank)))
        .map(|blank| after + blank.len())?;
    let mut end = body;
    while end < bytes.len()
        && !matches!(bytes[end], b'\n' | b'\r')
        && !(bytes[end] == b'\\' && matches!(bytes.get(end + 1), Some(b'n' | b'r')))
    {
        end += 1;
    }
    work(end - body + 1);
    (end > range.end).then_some(end)
}

/// The end of the line starting at `from`: a line break, real or escaped (`\n`, `\r`).
fn line_end(scan: &mut Scan<'_, '_>, from: usize) -> usize {
    let bytes = scan.bytes;
    let mut j = scan.next_of(Find::LineEnd, from);
    while j < bytes.len() && bytes[j] == b'\\' && !matches!(bytes.get(j + 1), Some(b'n' | b'r')) {
        j = scan.next_of(Find::LineEnd, j + 1);
    }
    j
}

/// Flags of `curl` (and tools that copied them) whose argument is `user:password`.
const USER_FLAGS: [&[u8]; 4] = [b"-u", b"-U", b"--user", b"--proxy-user"];

/// `-u user:password` (or `--user=…`, quoted or not) at the `-` at `i`: the password goes.
pub(crate) fn at_user_flag(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    if i > 0 && !matches!(bytes[i - 1], b' ' | b'\t' | b'"' | b'\'') {
        return None;
    }
    let flag = USER_FLAGS.iter().find(|f| {
        bytes[i..].starts_with(f) && matches!(bytes.get(i + f.len()), Some(b' ' | b'='))
    })?;
    let mut p = i + flag.len() + 1;
    while bytes.get(p) == Some(&b' ') {
        p += 1;
    }
    let quote = bytes.get(p).copied().filter(|q| matches!(q, b'"' | b'\''));
    let start = p + usize::from(quote.is_some());
    let end = match quote {
        // No bound on the search: a bound would make the answer depend on how much an earlier
        // pass shortened the text. The stretch read ends at the next quote of the same kind, so
        // the stretches read for different flags never overlap.
        Some(q) => {
            let len = bytes[start..].iter().take_while(|b| **b != q).count();
            work(len + 1);
            if start + len == bytes.len() {
                return None;
            }
            start + len
        }
        None => scan.next_of(Find::Space, start),
    };
    let mut colon = scan.next_of(Find::Colon, start);
    while colon < end && bytes[colon] != b':' {
        colon = scan.next_of(Find::Colon, colon + 1);
    }
    if colon + 1 >= end {
        return None;
    }
    let password = colon + 1..if quote.is_some() {
        end
    } else {
        bare_end(scan, colon + 1, false)
    };
    let user = &bytes[start..colon];
    let group = &bytes[password.clone()];
    // `docker run -u 1000:1000`, `-u www-data:www-data`: a user and its group, not a password.
    let numeric = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    if password.is_empty() || (numeric(user) && numeric(group)) || user == group {
        return None;
    }
    Some(scan.redact(password))
}
