//! Key/value text: `key=value` and its relatives, where the key matches the key rule.
//!
//! Separators: `=` (also `==`, `===`), `:`, `:=`, `=>`, `?=`, `+=`, `<-`, and the spellings of `=`
//! and `:` as escapes or entities (`%3D`, `%3a`, `\u003d`, `\x3a`, `&#61;`, `&#x3D;`, `&colon;`) or
//! as compatibility characters NFKC maps to them (`＝`, `：`, `﹦`, `⁼`…), with any spaces or tabs
//! around them. The key before a separator is bare (`password`, `user[password]`,
//! `user%5Bpassword%5D`, `--db.password`), quoted (`"key"`, `'key'`, JSON-escaped `\"key\"`, or an
//! encoded quote: `%22key%22`, `&quot;key&quot;`, `\u0022key\u0022`), and may hold escapes
//! (`pass\u0077ord`, `%0Apassword`), which are decoded before the rule judges it. Terminal colour
//! codes around the key or the separator are skipped (`\x1b[33mapi_key\x1b[0m=`, `jq -C` output).
//!
//! The value after it (spaces, `%20` and colour codes skipped; line breaks too when a quoted or
//! bracketed value follows them, as in pretty-printed JSON, or, after a lone `:` or `=` ending its
//! line, when the next line is indented, as in YAML: `password:\n  v`) is
//! - quoted (`"v"`, `'v'`, `b'v'`, `\"v\"`, `%22v%22`, `&quot;v&quot;`, `\u0022v\u0022`): to its
//!   closing quote;
//! - a bracket (`[…]`, `{…}`): to the matching close; angle brackets (`<v>`): to the `>`;
//! - a private key block: the whole block;
//! - for `Authorization`-like keys: to the end of the header (line end or closing quote), so
//!   every scheme and its credentials go; for `Cookie`/`Set-Cookie`: every cookie's value;
//! - otherwise bare: to white space, `;`, `&`, `,`, a quote, a closing bracket or an escape.
//!
//! Inside a URL's query, `key`, `code`, `code_verifier` and `Signature` are keys too ([`URL_KEYS`]);
//! a key that is not secret may still name a pair written as text (`"name":"password","value":…`,
//! see `pairs.rs`).
//!
//! `true`, `false`, `null` and punctuation-only values stay, and so do the key rule's exceptions
//! (a count under a plural key, a path under `pwd`). A value that is not redacted is not
//! consumed: the walk goes on inside it.

use std::borrow::Cow;
use std::ops::Range;

use super::keys::KeyVerdict;
use super::scan::{Find, MAX_KEY_BYTES, REDACTED, Scan, is_inert_value, work};
use super::{ansi, blocks, markup, pairs, url};

/// Keys that name a secret in text only (connection strings and signed URLs), compared
/// ignoring ASCII case.
const TEXT_KEYS: [&str; 6] = [
    "accountkey",
    "sharedaccesskey",
    "sig",
    "x-amz-signature",
    "x-goog-signature",
    "sharedaccesssignature",
];

/// Query parameters that hold a credential inside a URL's query only (`?key=…` of Google APIs,
/// OAuth's `?code=…` and PKCE's `code_verifier`, presigned URLs' `Signature`): in free text
/// these names are too common to be read as keys. Compared ignoring ASCII case; the listed keys
/// (`access_token`, `client_secret`…) and [`TEXT_KEYS`] (`sig`, `X-Amz-Signature`…) go anywhere.
pub(crate) const URL_KEYS: [&str; 4] = ["key", "code", "code_verifier", "signature"];

/// Authentication schemes: a secret key's bare value starting with one takes the next word too.
const SCHEMES: [&str; 12] = [
    "basic",
    "bearer",
    "token",
    "digest",
    "negotiate",
    "bot",
    "apikey",
    "ssws",
    "oauth",
    "ntlm",
    "dpop",
    "hoba",
];

/// Attributes of a `Set-Cookie` value, kept visible.
const COOKIE_ATTRIBUTES: [&str; 10] = [
    "path",
    "domain",
    "expires",
    "max-age",
    "samesite",
    "secure",
    "httponly",
    "priority",
    "partitioned",
    "version",
];

/// A count group (`{input: 1200, output: 80}`) is only recognised up to this length.
const MAX_COUNT_GROUP: usize = 256;

/// Quotes spelled as escapes or entities: a value opening with one runs to the same spelling.
const ENCODED_QUOTES: [&[u8]; 12] = [
    b"%22", b"%27", b"&quot;", b"&#34;", b"&#x22;", b"&apos;", b"&#39;", b"&#x27;", b"\\u0022",
    b"\\u0027", b"\\x22", b"\\x27",
];

/// Compatibility characters whose NFKC form is `=` or `:` (UTF-8): fullwidth, small, superscript,
/// subscript and vertical forms. Their first two bytes are stops of the walk (`scan.rs`).
pub(crate) const WIDE_SEPARATORS: [&[u8]; 7] = [
    "\u{FF1D}".as_bytes(),
    "\u{FF1A}".as_bytes(),
    "\u{FE66}".as_bytes(),
    "\u{FE55}".as_bytes(),
    "\u{FE13}".as_bytes(),
    "\u{207C}".as_bytes(),
    "\u{208C}".as_bytes(),
];

/// An ARN is looked for this far before a key that follows a `:` (`…:secret:name`).
const MAX_ARN_PREFIX: usize = 100;

/// A separator (`=`, `:`, their compounds and their spellings) at `i`.
pub(crate) fn at_separator(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let (key_end, value_start, encoded) = separator(scan.bytes, i)?;
    // A lone `:` or `=` may have its value on the next line (YAML, see `value_start`).
    let next_line = matches!(scan.bytes[i], b':' | b'=') && value_start == i + 1;
    key_value(scan, key_end, value_start, encoded, next_line)
}

/// `key <- value` (R, Go channels in prose): the `-` at `i`.
pub(crate) fn at_arrow(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    if i == 0 || scan.bytes[i - 1] != b'<' {
        return None;
    }
    key_value(scan, i - 1, i + 1, false, false)
}

/// Where the key ends and the value starts for the separator at `i`, and whether it was
/// percent-encoded; `None` for comparisons (`!=`, `<=`), rules (`====`), paths (`::`) and URLs
/// (`://`). `==` and `===` separate too: a secret compared in a logged expression is still shown.
fn separator(bytes: &[u8], i: usize) -> Option<(usize, usize, bool)> {
    let prev = i.checked_sub(1).map(|p| bytes[p]);
    let next = bytes.get(i + 1).copied();
    match bytes[i] {
        b'=' => {
            if matches!(prev, Some(b'=' | b'!' | b'<' | b'>' | b':')) {
                return None;
            }
            let run = bytes[i..]
                .iter()
                .take(4)
                .take_while(|b| **b == b'=')
                .count();
            if run > 3 {
                return None;
            }
            let key_end = if matches!(prev, Some(b'?' | b'+')) {
                i - 1
            } else {
                i
            };
            let after = i + run;
            let value_start = if bytes.get(after) == Some(&b'>') {
                after + 1
            } else {
                after
            };
            Some((key_end, value_start, false))
        }
        b':' => {
            if next == Some(b':') || prev == Some(b':') || bytes[i + 1..].starts_with(b"//") {
                return None;
            }
            let value_start = if next == Some(b'=') { i + 2 } else { i + 1 };
            Some((i, value_start, false))
        }
        b'%' => {
            let code = bytes.get(i..i + 3)?;
            let known = code.eq_ignore_ascii_case(b"%3d") || code.eq_ignore_ascii_case(b"%3a");
            known.then_some((i, i + 3, true))
        }
        _ => spelled_separator(bytes, i).map(|len| (i, i + len, false)),
    }
}

/// The length of `=` or `:` spelled as an escape (`\u003d`, `\x3a`), an HTML entity (`&#61;`,
/// `&#x3A;`, `&equals;`, `&colon;`) or a compatibility character (`＝`) at `i`.
fn spelled_separator(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = &bytes[i..bytes.len().min(i + 10)];
    let starts = |s: &[u8]| rest.len() >= s.len() && rest[..s.len()].eq_ignore_ascii_case(s);
    match bytes[i] {
        b'\\' => [&b"\\u003d"[..], b"\\u003a", b"\\x3d", b"\\x3a"]
            .into_iter()
            .find(|s| starts(s))
            .map(<[u8]>::len),
        b'&' => {
            if starts(b"&equals;") || starts(b"&colon;") {
                return Some(if rest[1] == b'e' || rest[1] == b'E' {
                    8
                } else {
                    7
                });
            }
            let (code, len) = numeric_entity(rest)?;
            matches!(code, 0x3d | 0x3a).then_some(len)
        }
        _ => WIDE_SEPARATORS
            .iter()
            .find(|s| rest.starts_with(s))
            .map(|s| s.len()),
    }
}

/// `&#61;` or `&#x3D;` at the start of `rest`: the code point and the entity's length.
fn numeric_entity(rest: &[u8]) -> Option<(u32, usize)> {
    let body = rest.strip_prefix(b"&#")?;
    let (radix, digits) = match body.first()? {
        b'x' | b'X' => (16, &body[1..]),
        _ => (10, body),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if n == 0 || digits.get(n) != Some(&b';') {
        return None;
    }
    let code = u32::from_str_radix(std::str::from_utf8(&digits[..n]).ok()?, radix).ok()?;
    Some((code, rest.len() - digits.len() + n + 1))
}

fn key_value(
    scan: &mut Scan<'_, '_>,
    key_end: usize,
    value_start: usize,
    encoded: bool,
    next_line: bool,
) -> Option<usize> {
    let escapes = scan.may_hold_escapes();
    let (key_start, key) = key_before(scan.text, key_end, escapes)?;
    let mut verdict = scan.verdict(&key);
    if !verdict.is_secret()
        && (TEXT_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
            || URL_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
                && url::in_query(scan, key_start))
    {
        verdict = KeyVerdict::EMPTY.with_shape(true);
    }
    if !verdict.is_secret() {
        return pairs::name_value(scan, &key, value_start)
            .or_else(|| markup::form_field(scan, &key, key_start, value_start));
    }
    if in_arn(scan.bytes, key_start) || is_tally(scan.bytes, &key, key_start, value_start) {
        return None;
    }
    value(scan, value_start, verdict, encoded, next_line)
}

/// True when the key at `key_start` is a part of an ARN (`arn:aws:secretsmanager:…:secret:x`):
/// an ARN names a resource, it does not hold a secret.
fn in_arn(bytes: &[u8], key_start: usize) -> bool {
    if key_start == 0 || bytes[key_start - 1] != b':' {
        return false;
    }
    let floor = key_start.saturating_sub(MAX_ARN_PREFIX);
    let mut s = key_start;
    while s > floor && !bytes[s - 1].is_ascii_whitespace() && !b"\"'=,;(".contains(&bytes[s - 1]) {
        s -= 1;
    }
    work(key_start - s + 1);
    is_arn(&bytes[s..])
}

/// `arn:aws:…`, `arn:aws-cn:…`, `arn:aws-us-gov:…`.
fn is_arn(value: &[u8]) -> bool {
    value.len() > 8 && value[..8].eq_ignore_ascii_case(b"arn:aws:")
        || value.len() > 11 && value[..11].eq_ignore_ascii_case(b"arn:aws-cn:")
        || value.len() > 15 && value[..15].eq_ignore_ascii_case(b"arn:aws-us-gov:")
}

/// A test tally: the key `pass` holding a small number with a `fail` count beside it (`Pass: 3
/// Fail: 0`, `FAIL=1 PASS=12`). Anywhere else a number under `pass` is a PIN and goes.
fn is_tally(bytes: &[u8], key: &str, key_start: usize, value_start: usize) -> bool {
    if !key.trim().eq_ignore_ascii_case("pass") {
        return false;
    }
    let p = value_start
        + bytes[value_start..]
            .iter()
            .take_while(|b| **b == b' ')
            .count();
    let digits = bytes[p..]
        .iter()
        .take(7)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let end = p + digits;
    if !(1..=6).contains(&digits) || bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return false;
    }
    let gap = |w: &[u8]| {
        w.iter()
            .take(8)
            .take_while(|b| b" ,;|/\t".contains(b))
            .count()
    };
    if is_fail_count(bytes, end + gap(&bytes[end..])) {
        return true;
    }
    // Before the key: `Fail: 0 Pass: 3`, the fail count ending right before it.
    let floor = key_start.saturating_sub(24);
    work(key_start - floor + 1);
    (floor..key_start).any(|j| {
        is_fail_count(bytes, j) && {
            let digits = j + bytes[j..key_start]
                .iter()
                .rposition(u8::is_ascii_digit)
                .map_or(0, |d| d + 1);
            bytes[digits..key_start]
                .iter()
                .all(|b| b" ,;|/\t".contains(b))
        }
    })
}

/// `fail`, `failed`, `failures` (a word) at `j`, then `:` or `=` and a number.
fn is_fail_count(w: &[u8], j: usize) -> bool {
    if !w
        .get(j..j + 4)
        .is_some_and(|f| f.eq_ignore_ascii_case(b"fail"))
        || j > 0 && w[j - 1].is_ascii_alphanumeric()
    {
        return false;
    }
    let mut k = j
        + 4
        + w[j + 4..]
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
    k += w[k..].iter().take_while(|b| **b == b' ').count();
    if !matches!(w.get(k), Some(b':' | b'=')) {
        return false;
    }
    k += 1;
    k += w[k..].iter().take_while(|b| **b == b' ').count();
    w.get(k).is_some_and(u8::is_ascii_digit)
}

/// Where a key that ends at `end` really ends: before spaces, `%20` and colour codes
/// (`"password"\x1b[0m:`), and before an encoded closing quote (`%22`, `&quot;`, `\u0022`).
fn key_end_before(bytes: &[u8], end: usize, escapes: bool) -> usize {
    let mut e = end;
    for _ in 0..8 {
        let before = e;
        while e > 0 && before - e < 16 && matches!(bytes[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        if bytes[..e].ends_with(b"%20") {
            e -= 3;
        }
        if escapes {
            e = ansi::skip_back(bytes, e);
        }
        if e == before {
            break;
        }
    }
    work(end - e + 1);
    // Every encoded quote ends with `2`, `7` or `;` (`%22`, `\u0027`, `&quot;`).
    if e == 0 || !matches!(bytes[e - 1], b'2' | b'7' | b';') {
        return e;
    }
    match ENCODED_QUOTES
        .iter()
        .find(|q| bytes[..e].len() >= q.len() && bytes[e - q.len()..e].eq_ignore_ascii_case(q))
    {
        Some(q) => e - q.len(),
        None => e,
    }
}

/// The key ending at `end` (before optional spaces, colour codes and an encoded quote), decoded,
/// with where it starts; `None` when there is none. Colour codes are only looked for when
/// `escapes` says the text may hold one.
#[inline(always)]
pub(crate) fn key_before(text: &str, end: usize, escapes: bool) -> Option<(usize, Cow<'_, str>)> {
    let bytes = text.as_bytes();
    let e = key_end_before(bytes, end, escapes);
    let floor = e.saturating_sub(MAX_KEY_BYTES);
    let region = match bytes.get(e.checked_sub(1)?)? {
        q @ (b'"' | b'\'' | b'`') => {
            // No length bound here: the scan stops at the previous quote of the same kind, so
            // the stretches read for different separators never overlap (and a bound would
            // make the answer depend on how much an earlier pass shortened the text).
            let mut k_end = e - 1;
            while k_end > 0 && bytes[k_end - 1] == b'\\' {
                k_end -= 1;
            }
            let mut s = k_end;
            while s > 0 && bytes[s - 1] != *q && bytes[s - 1] != b'\n' {
                s -= 1;
            }
            if s == 0 || bytes[s - 1] != *q {
                return None;
            }
            s..k_end
        }
        _ => {
            let mut s = e;
            while s > floor && is_key_byte(bytes[s - 1]) {
                if bytes[s - 1] == b']' && bytes[..s].ends_with(REDACTED.as_bytes()) {
                    // What an earlier pass replaced is not part of a key.
                    break;
                }
                if bytes[s - 1] == b'%' && encodes_punctuation(&bytes[s..]) {
                    // `%3D…`, `%22…`: the key starts after the encoded separator.
                    s = (s + 2).min(e);
                    break;
                }
                if is_c1_control(bytes, s) {
                    // A C1 control (the 8-bit CSI of a colour code) is not part of a key.
                    break;
                }
                s -= 1;
            }
            if s > 0 && bytes[s - 1] == 0x1b {
                // `ESC [33m` or `ESC \` glued to the key: the sequence is cleaned off below.
                s -= 1;
            }
            // A colour code whose parameters stopped the scan (`\x1b[0;32;1mapi_key`), or an
            // escaped one (`\033[33mapi_key`): the key starts after it.
            if let Some(after) = escapes
                .then(|| ansi::last_end_within(bytes, s, e))
                .flatten()
            {
                s = after;
            }
            s..e
        }
    };
    work(end - region.start);
    let mut start = region.start;
    while start < region.end && !text.is_char_boundary(start) {
        start += 1;
    }
    let raw = text.get(start..region.end).filter(|k| !k.is_empty())?;
    let key = if ansi::has_raw(raw) {
        Cow::Owned(decode_escapes(&ansi::strip(raw)).into_owned())
    } else {
        decode_escapes(raw)
    };
    Some((start, key))
}

/// True when `bytes[s - 1]` ends a C1 control character (U+0080–U+009F).
fn is_c1_control(bytes: &[u8], s: usize) -> bool {
    s >= 2 && bytes[s - 2] == 0xc2 && (0x80..=0x9f).contains(&bytes[s - 1])
}

/// True when `rest` starts with two hexadecimal digits encoding ASCII punctuation or space that
/// cannot be part of a key (`%5B`/`%5D`, the brackets of `user%5Bpassword%5D`, can).
fn encodes_punctuation(rest: &[u8]) -> bool {
    let hex = |b: u8| char::from(b).to_digit(16);
    match (
        rest.first().and_then(|b| hex(*b)),
        rest.get(1).and_then(|b| hex(*b)),
    ) {
        (Some(h), Some(l)) => {
            let c = (h * 16 + l) as u8;
            c < 0x80 && !c.is_ascii_alphanumeric() && !matches!(c, b'[' | b']')
        }
        _ => false,
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'\\' | b'%')
        || b >= 0x80
}

/// `\u0077` → `w`, `%77` → `w`; `\n`, `\t`, `\r`, `\0`, `\"`, `\'`, `\\` and `\/` become a space (a
/// separator). A backslash before any other letter is a separator itself and the letter stays
/// (`\Cookie` after an OSC hyperlink's `ESC \`, `C:\api_key`).
fn decode_escapes(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['\\', '%']) {
        return Cow::Borrowed(raw);
    }
    let b = raw.as_bytes();
    work(b.len());
    let hex = |r: Range<usize>| {
        raw.get(r)
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        let (decoded, used) = match b[i] {
            b'\\' if matches!(b.get(i + 1), Some(b'u' | b'U')) => (hex(i + 2..i + 6), 6),
            b'\\' if b.get(i + 1) == Some(&b'x') => (hex(i + 2..i + 4), 4),
            b'\\' if b.get(i + 1).is_some_and(u8::is_ascii) => {
                let escape = matches!(
                    b[i + 1],
                    b'n' | b't' | b'r' | b'0' | b'"' | b'\'' | b'\\' | b'/'
                );
                (Some(u32::from(b' ')), if escape { 2 } else { 1 })
            }
            b'%' => (hex(i + 1..i + 3), 3),
            _ => (None, 0),
        };
        match decoded {
            Some(code) => {
                out.push(char::from_u32(code).unwrap_or(' '));
                i += used;
            }
            None => {
                // Not an escape: copy one character.
                let c = raw[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Cow::Owned(out)
}

/// The value starting (after spaces) at `from` for a secret key: redacted unless it is inert or
/// one of the key's exceptions. Returns where to resume after a redaction. With `next_line`, a
/// bare word on the next, indented line is the value when nothing follows the separator on its
/// own line (see [`value_start`]).
pub(crate) fn value(
    scan: &mut Scan<'_, '_>,
    from: usize,
    verdict: KeyVerdict,
    encoded: bool,
    next_line: bool,
) -> Option<usize> {
    let bytes = scan.bytes;
    let mut p = value_start(bytes, from, next_line);
    p += string_prefix(&bytes[p.min(bytes.len())..]);
    if let Some(quote) = encoded_quote_at(bytes, p) {
        return encoded_quoted_value(scan, p, quote, verdict);
    }
    match *bytes.get(p)? {
        b'\\' | b'"' | b'\'' | b'`' => quoted_value(scan, p, verdict),
        b'[' | b'{' => bracket_value(scan, p, verdict),
        b'<' => angle_value(scan, p, verdict),
        b'-' if blocks::private_key_block(bytes, p).is_some() => {
            let block = blocks::private_key_block(bytes, p)?;
            Some(scan.redact(block))
        }
        _ => bare_value(scan, p, verdict, encoded),
    }
}

/// Where the value after a separator starts: after spaces, tabs, `%20` and colour codes; and
/// after line breaks (real or escaped) when a quoted or bracketed value follows them, as in
/// pretty-printed JSON (`"password":\n  "v"`). A bare word on the next line is the value only
/// with `next_line` (a lone `:` or `=`), when nothing else (or only a YAML block indicator, `|`
/// or `>`) follows the separator on its line and the next line is indented (YAML
/// `password:\n  v`, real or escaped line break): see [`next_line_word`].
fn value_start(bytes: &[u8], from: usize, next_line: bool) -> usize {
    let mut p = from;
    for _ in 0..8 {
        let before = p;
        while bytes.get(p).is_some_and(|b| matches!(b, b' ' | b'\t')) {
            p += 1;
        }
        if bytes.get(p..p + 3) == Some(b"%20") {
            p += 3;
        }
        p = ansi::skip(bytes, p);
        if p == before {
            break;
        }
    }
    let mut q = p;
    loop {
        match bytes.get(q) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => q += 1,
            Some(b'\\') if matches!(bytes.get(q + 1), Some(b'n' | b'r' | b't')) => q += 2,
            _ => break,
        }
    }
    work(q - from + 1);
    let quoted = match bytes.get(q) {
        Some(b'"' | b'\'' | b'[' | b'{') => true,
        Some(b'\\') => bytes.get(q + 1) == Some(&b'"'),
        _ => false,
    };
    if quoted {
        return q;
    }
    if next_line && let Some(word) = next_line_word(bytes, p) {
        return word;
    }
    p
}

/// The end of the value on the next line of a secret key whose separator ends `range` (a range
/// about to be redacted, such as an `Authorization` value running to the end of its line that
/// swallows `password:`): a redaction must not swallow a secret's key and leave its value behind.
pub(crate) fn end_of_next_line_value(
    scan: &mut Scan<'_, '_>,
    range: Range<usize>,
) -> Option<usize> {
    let bytes = scan.bytes;
    let mut sep = range.end;
    while sep > range.start
        && range.end - sep < 12
        && matches!(bytes[sep - 1], b' ' | b'\t' | b'|' | b'>' | b'-' | b'+')
    {
        sep -= 1;
    }
    work(range.end - sep + 1);
    if sep <= range.start || !matches!(bytes[sep - 1], b':' | b'=') {
        return None;
    }
    let word = next_line_word(bytes, range.end)?;
    let escapes = scan.may_hold_escapes();
    let (_, key) = key_before(scan.text, sep - 1, escapes)?;
    if !scan.verdict(&key).is_secret() {
        return None;
    }
    Some(bare_end(scan, word, false))
}

/// Line breaks, real and escaped, before a value on the next line.
const LINE_BREAKS: [&[u8]; 6] = [b"\r\n", b"\n", b"\r", b"\\r\\n", b"\\n", b"\\r"];

/// Indentation before a value on the next line is read this far.
const MAX_INDENT: usize = 64;

/// The first word of the next line, when `p` (after a separator and its spaces) ends the line,
/// maybe after a YAML block indicator (`|`, `|-`, `>+`…), and that line is indented by spaces or
/// tabs (real or `\t`). One line break only (a blank line ends the value), and a word ending in
/// `:` is a nested mapping's key, not a value. Bounded: the indentation to [`MAX_INDENT`], the
/// word to [`MAX_KEY_BYTES`].
fn next_line_word(bytes: &[u8], p: usize) -> Option<usize> {
    let mut j = p;
    if matches!(bytes.get(j), Some(b'|' | b'>')) {
        j += 1;
        if matches!(bytes.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') && j - p < 8 {
            j += 1;
        }
    }
    let rest = &bytes[j.min(bytes.len())..];
    let line_break = LINE_BREAKS.iter().find(|lb| rest.starts_with(lb))?;
    j += line_break.len();
    let indent_from = j;
    while j - indent_from < MAX_INDENT {
        match bytes.get(j) {
            Some(b' ' | b'\t') => j += 1,
            Some(b'\\') if bytes.get(j + 1) == Some(&b't') => j += 2,
            _ => break,
        }
    }
    let word = bytes[j.min(bytes.len())..]
        .iter()
        .take(MAX_KEY_BYTES)
        .take_while(|b| !b.is_ascii_whitespace() && **b != b'\\')
        .count();
    work(j - p + word + 1);
    let first = *bytes.get(j)?;
    let nested = word > 0 && bytes[j + word - 1] == b':';
    (j > indent_from && word > 0 && !nested && !matches!(first, b'#' | b'|' | b'>')).then_some(j)
}

/// The encoded quote (`%22`, `&quot;`, `\u0022`…) starting at `p`, if one does.
fn encoded_quote_at(bytes: &[u8], p: usize) -> Option<&'static [u8]> {
    if !matches!(bytes.get(p), Some(b'%' | b'&' | b'\\')) {
        return None;
    }
    ENCODED_QUOTES.iter().copied().find(|q| {
        bytes
            .get(p..p + q.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(q))
    })
}

/// A value opening with an encoded quote: to the next same quote (the end of the text when none).
fn encoded_quoted_value(
    scan: &mut Scan<'_, '_>,
    p: usize,
    quote: &[u8],
    verdict: KeyVerdict,
) -> Option<usize> {
    let bytes = scan.bytes;
    let start = p + quote.len();
    let close = bytes[start..]
        .windows(quote.len())
        .position(|w| w.eq_ignore_ascii_case(quote))
        .map_or(bytes.len(), |at| start + at);
    work(close - start + 1);
    let content = start..close;
    if keeps(scan, verdict, &bytes[content.clone()]) {
        return None;
    }
    let resume = (close + quote.len()).min(bytes.len());
    if verdict.is_cookie() {
        return Some(cookie_values(scan, content).max(resume));
    }
    Some(scan.redact(content).max(resume))
}

/// `<v>` (`password=<hunter2>`): to the `>`. `<nil>` and other inert contents stay.
fn angle_value(scan: &mut Scan<'_, '_>, p: usize, verdict: KeyVerdict) -> Option<usize> {
    let close = scan.next_of(Find::Gt, p + 1);
    if close >= scan.bytes.len() {
        return None;
    }
    let content = p + 1..close;
    if keeps(scan, verdict, &scan.bytes[content.clone()]) {
        return None;
    }
    Some(scan.redact(content).max(close + 1))
}

/// Python's string prefixes (`b'…'`, `rb"…"`): their length when a quote follows.
fn string_prefix(rest: &[u8]) -> usize {
    let letters = rest
        .iter()
        .take(2)
        .take_while(|b| matches!(b, b'b' | b'B' | b'r' | b'R' | b'u' | b'U' | b'f' | b'F'))
        .count();
    match rest.get(letters) {
        Some(b'"' | b'\'') if letters > 0 => letters,
        _ => 0,
    }
}

/// A quoted value at `p` (`"…"`, or escaped `\"…\"` with as many backslashes to close it).
fn quoted_value(scan: &mut Scan<'_, '_>, p: usize, verdict: KeyVerdict) -> Option<usize> {
    let bytes = scan.bytes;
    let k = bytes[p..].iter().take_while(|b| **b == b'\\').count();
    let q = *bytes.get(p + k)?;
    if !matches!(q, b'"' | b'\'' | b'`') {
        return None;
    }
    let start = p + k + 1;
    let (content_end, resume) = closing_quote(bytes, start, q, k);
    let content = start..content_end;
    if keeps(scan, verdict, &bytes[content.clone()]) {
        return None;
    }
    if verdict.is_cookie() {
        return Some(cookie_values(scan, content).max(resume));
    }
    Some(scan.redact(content).max(resume))
}

/// The end of a quoted string's content and the position after its closing quote (the text's
/// end when it is never closed). With `k` backslashes before the opening quote, the closing one
/// has exactly `k`; without, any even number.
fn closing_quote(bytes: &[u8], start: usize, q: u8, k: usize) -> (usize, usize) {
    let mut backslashes = 0;
    for (j, &b) in bytes.iter().enumerate().skip(start) {
        work(1);
        if b == q && ((k == 0 && backslashes % 2 == 0) || (k > 0 && backslashes == k)) {
            return (if k > 0 { j - k } else { j }, j + 1);
        }
        backslashes = if b == b'\\' { backslashes + 1 } else { 0 };
    }
    (bytes.len(), bytes.len())
}

/// `[…]` or `{…}` at `p`, to the matching close (or the end of the text).
fn bracket_value(scan: &mut Scan<'_, '_>, p: usize, verdict: KeyVerdict) -> Option<usize> {
    let bytes = scan.bytes;
    let mut depth = 0usize;
    let mut end = bytes.len();
    for (j, &b) in bytes.iter().enumerate().skip(p) {
        work(1);
        match b {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    end = j + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let group = &bytes[p..end];
    if verdict.is_plural() && group.len() <= MAX_COUNT_GROUP && holds_only_numbers(group) {
        return None;
    }
    Some(scan.redact(p..end))
}

/// True when a small, closed, flat bracket group holds only numbers: `[1, 2.5]`, or
/// `{input: 1200, output: 80}` (names before `:` or `=`, each value a number).
fn holds_only_numbers(group: &[u8]) -> bool {
    work(group.len());
    let (Some(open), Some(close)) = (group.first(), group.last()) else {
        return false;
    };
    let closed = matches!((open, close), (b'[', b']') | (b'{', b'}')) && group.len() >= 2;
    let inner = &group[1..group.len().saturating_sub(1).max(1)];
    if !closed || inner.iter().any(|b| matches!(b, b'[' | b']' | b'{' | b'}')) {
        return false;
    }
    inner.split(|b| *b == b',').all(|item| {
        let value = match item.iter().rposition(|b| matches!(b, b':' | b'=')) {
            Some(at) if *open == b'{' && is_plain_name(&item[..at]) => &item[at + 1..],
            Some(_) => return false,
            None if *open == b'[' => item,
            None => return item.trim_ascii().is_empty() && inner.trim_ascii().is_empty(),
        };
        is_number(value.trim_ascii())
    })
}

/// A name in a count group: letters, digits, `_`, `-`, `.`, maybe quoted.
fn is_plain_name(name: &[u8]) -> bool {
    let name = name.trim_ascii();
    let name = name
        .strip_prefix(b"\"")
        .and_then(|n| n.strip_suffix(b"\""))
        .unwrap_or(name);
    !name.is_empty()
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `1200`, `-3`, `0.5`, `1e6`, quoted or not.
fn is_number(v: &[u8]) -> bool {
    let v = v
        .strip_prefix(b"\"")
        .and_then(|s| s.strip_suffix(b"\""))
        .unwrap_or(v);
    // The `all` check first: it stops at the first other byte, so a long non-number costs little.
    !v.is_empty()
        && v[0] != b'e'
        && v.iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && v.iter().any(u8::is_ascii_digit)
}

/// A bare value at `p`.
fn bare_value(
    scan: &mut Scan<'_, '_>,
    p: usize,
    verdict: KeyVerdict,
    encoded: bool,
) -> Option<usize> {
    if verdict.is_cookie() {
        let first = bare_end(scan, p, encoded);
        if keeps(scan, verdict, &scan.bytes[p..first]) {
            return None;
        }
        // The list is read only as far as it goes (what follows it is walked over as usual).
        let end = cookie_values(scan, p..scan.bytes.len());
        return (end > p).then_some(end);
    }
    let end = if verdict.is_header() {
        header_end(scan.bytes, p)
    } else {
        bare_end(scan, p, encoded)
    };
    if keeps(scan, verdict, &scan.bytes[p..end]) || is_next_key(scan, p..end) {
        return None;
    }
    let end = with_scheme_credentials(scan, p, end, encoded);
    Some(scan.redact(p..end))
}

/// True when a bare value is the next secret key and its separator (`password: Authorization:
/// Basic …`): the key before had no value, and redacting the next key would hide the context
/// its own secret needs.
fn is_next_key(scan: &Scan<'_, '_>, value: Range<usize>) -> bool {
    let word = &scan.text.as_bytes()[value.clone()];
    // One word only: a header value running to its line's end (`Basic x | password:`) is not a
    // key, and goes whole (with the next-line value of the key that ends it, see `Scan::redact`).
    word.len() > 1
        && word.ends_with(b":")
        && !word.iter().any(u8::is_ascii_whitespace)
        && scan
            .text
            .get(value.start..value.end - 1)
            .is_some_and(|k| scan.verdict(k).is_secret())
}

/// True when a secret key's value stays: inert, a count, a working directory, an ARN (it names
/// a secret, as in `SECRET=arn:aws:secretsmanager:…`, it does not hold one).
fn keeps(scan: &Scan<'_, '_>, verdict: KeyVerdict, value: &[u8]) -> bool {
    let _ = scan;
    keeps_value(verdict, value)
}

/// [`keeps`] for the other notations (`markup.rs`).
pub(crate) fn keeps_value(verdict: KeyVerdict, value: &[u8]) -> bool {
    if is_inert_value(value) || is_arn(value) {
        return true;
    }
    verdict.keeps_bytes(value) || (verdict.is_plural() && is_number(value))
}

/// Where a bare value ends: white space, `;`, `&`, `,`, a quote, a closing bracket, `<`, `>`, an
/// escape sequence, or (after an encoded separator) an encoded one of these.
pub(crate) fn bare_end(scan: &mut Scan<'_, '_>, p: usize, encoded: bool) -> usize {
    let bytes = scan.bytes;
    let mut j = scan.next_of(Find::ValueEnd, p);
    while j < bytes.len() {
        let ends = match bytes[j] {
            b'\\' => matches!(
                bytes.get(j + 1),
                Some(b'n' | b'r' | b't' | b'"' | b'\'' | b'u' | b'\\')
            ),
            b'%' => encoded && is_encoded_end(&bytes[j..]),
            // A quote inside a word (`pa'ss`) is part of the value; one that closes a string is
            // followed by punctuation, space or the end.
            b'"' | b'\'' | b'`' => !glued_quote(bytes, j),
            // The end of a `[REDACTED]` left by an earlier pass is part of the value.
            b']' => !bytes[..=j].ends_with(REDACTED.as_bytes()),
            _ => true,
        };
        if ends {
            break;
        }
        j = scan.next_of(Find::ValueEnd, j + 1);
    }
    j
}

fn is_encoded_end(rest: &[u8]) -> bool {
    let Some(code) = rest.get(1..3) else {
        return false;
    };
    ["26", "20", "2C", "3B", "22", "27", "0A", "0D", "09", "23"]
        .iter()
        .any(|c| code.eq_ignore_ascii_case(c.as_bytes()))
}

/// The end of a header value: the line's end (a newline or a literal `\n`), or a quote that
/// closes the string the header sits in (a quote after `=` opens a parameter instead, as in
/// `Digest username="x"`, and is skipped to its close).
pub(crate) fn header_end(bytes: &[u8], p: usize) -> usize {
    let mut j = p;
    while j < bytes.len() {
        work(1);
        match bytes[j] {
            b'\n' | b'\r' => return j,
            b'\\' if matches!(bytes.get(j + 1), Some(b'n' | b'r' | b'"' | b'\'')) => return j,
            q @ (b'"' | b'\'') if j > p && bytes[j - 1] == b'=' => {
                let from = j;
                j = bytes[j + 1..]
                    .iter()
                    .position(|b| *b == q || *b == b'\n')
                    .map_or(bytes.len(), |at| j + 1 + at);
                work(j - from);
            }
            b'"' | b'\'' if !glued_quote(bytes, j) => return j,
            _ => {}
        }
        j += 1;
    }
    bytes.len()
}

/// A quote with a letter or digit right after it is inside a word, not the end of a string.
fn glued_quote(bytes: &[u8], j: usize) -> bool {
    bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
}

/// `Basic <credentials>`: a bare value that is only a scheme word takes the next word with it.
fn with_scheme_credentials(scan: &mut Scan<'_, '_>, p: usize, end: usize, encoded: bool) -> usize {
    let bytes = scan.bytes;
    let word = &bytes[p..end];
    if !SCHEMES
        .iter()
        .any(|s| word.eq_ignore_ascii_case(s.as_bytes()))
    {
        return end;
    }
    let mut next = end;
    while bytes.get(next).is_some_and(|b| matches!(b, b' ' | b'\t')) {
        next += 1;
    }
    if next == end || next >= bytes.len() {
        return end;
    }
    bare_end(scan, next, encoded)
}

/// Every cookie's value in `region` (`a=1; b=2`), keeping names and `Set-Cookie` attributes;
/// returns where the cookie list ends (at the first thing that is not a cookie, so that the walk
/// goes on over whatever follows on the line).
fn cookie_values(scan: &mut Scan<'_, '_>, region: Range<usize>) -> usize {
    let bytes = scan.bytes;
    let mut j = region.start;
    let mut resume = region.start;
    loop {
        while j < region.end && bytes[j] == b' ' {
            j += 1;
        }
        let name_end = j + bytes[j..region.end]
            .iter()
            .take_while(|b| is_cookie_name_byte(**b))
            .count();
        if name_end == j {
            return resume;
        }
        if scan.has_shape(j..name_end) {
            scan.redact(j..name_end);
        }
        let attribute = is_cookie_attribute(&bytes[j..name_end]);
        let value_start = if bytes.get(name_end) == Some(&b'=') {
            name_end + 1
        } else {
            j
        };
        let stop = |b: &u8| {
            if attribute {
                *b == b';'
            } else {
                is_cookie_value_end(*b)
            }
        };
        let value_end = value_start
            + bytes[value_start..region.end]
                .iter()
                .take_while(|b| !stop(b))
                .count();
        resume = if attribute || value_end == value_start {
            value_end
        } else {
            scan.redact(value_start..value_end).max(value_end)
        };
        work(resume.saturating_sub(j) + 1);
        j = resume;
        if j >= region.end || !matches!(bytes[j], b';' | b',') {
            return resume;
        }
        j += 1;
    }
}

/// Bytes of a cookie name (an HTTP token).
fn is_cookie_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Where a cookie value ends: the next pair, white space, a quote, an escape or a terminal escape
/// sequence.
fn is_cookie_value_end(b: u8) -> bool {
    matches!(b, b';' | b',' | b'"' | b'\\' | 0x1b) || b.is_ascii_whitespace()
}

fn is_cookie_attribute(name: &[u8]) -> bool {
    COOKIE_ATTRIBUTES
        .iter()
        .any(|a| name.eq_ignore_ascii_case(a.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_bare_quoted_escaped_and_bracketed() {
        let key = |text: &str| key_before(text, text.len(), true).map(|(_, k)| k.into_owned());
        assert_eq!(key("x password").as_deref(), Some("password"));
        assert_eq!(key("{\"password\" ").as_deref(), Some("password"));
        assert_eq!(key("{\\\"password\\\"").as_deref(), Some("password"));
        assert_eq!(key("user[password]").as_deref(), Some("user[password]"));
        assert_eq!(key("{\"pass\\u0077ord\"").as_deref(), Some("password"));
        assert_eq!(key("\\npwd").as_deref(), Some(" pwd"));
        assert_eq!(key("%0Apwd").as_deref(), Some("pwd"));
        assert_eq!(key("  "), None);
    }

    #[test]
    fn a_backslash_before_a_wide_character_is_not_an_escape() {
        // Found by the fuzzer: `n\` then U+FFFD then `=` sliced inside the character.
        assert_eq!(
            key_before("n\\\u{FFFD}", 5, true)
                .map(|(_, k)| k.into_owned())
                .as_deref(),
            Some("n\\\u{FFFD}")
        );
        assert_eq!(crate::Redactor::new().scrub("n\\\u{FFFD}="), "n\\\u{FFFD}=");
    }

    #[test]
    fn separators_and_comparisons_are_told_apart() {
        assert_eq!(separator(b"a=b", 1), Some((1, 2, false)));
        assert_eq!(separator(b"a=>b", 1), Some((1, 3, false)));
        assert_eq!(separator(b"a:=b", 1), Some((1, 3, false)));
        assert_eq!(separator(b"a?=b", 2), Some((1, 3, false)));
        assert_eq!(separator(b"a==b", 1), Some((1, 3, false)));
        assert_eq!(separator(b"a==b", 2), None);
        assert_eq!(separator(b"a====b", 1), None);
        assert_eq!(separator(b"a\\u003db", 1), Some((1, 7, false)));
        assert_eq!(separator(b"a&#x3D;b", 1), Some((1, 7, false)));
        assert_eq!(separator(b"a&#61;b", 1), Some((1, 6, false)));
        assert_eq!(separator(b"a&colon;b", 1), Some((1, 8, false)));
        assert_eq!(separator("a\u{FF1D}b".as_bytes(), 1), Some((1, 4, false)));
        assert_eq!(separator(b"a&amp;b", 1), None);
        assert_eq!(separator(b"a::b", 1), None);
        assert_eq!(separator(b"a://b", 1), None);
        assert_eq!(separator(b"a%3Db", 1), Some((1, 4, true)));
    }

    #[test]
    fn count_groups_hold_only_numbers() {
        assert!(holds_only_numbers(b"{input: 1200, output: 80}"));
        assert!(holds_only_numbers(b"[1, 2.5, -3]"));
        assert!(holds_only_numbers(b"{\"input\":\"1200\"}"));
        assert!(!holds_only_numbers(b"[\"tok\"]"));
        assert!(!holds_only_numbers(b"{a: b}"));
        assert!(!holds_only_numbers(b"{ 81-----END:{ a"), "not closed");
        assert!(
            !holds_only_numbers(b"{a: {b: 1}}"),
            "nested groups in text are not counts"
        );
        assert!(!holds_only_numbers(b"{a:}"));
        assert!(
            !holds_only_numbers(b"{input Cookie: a=1; b=2 z: 1200}"),
            "names are plain"
        );
    }

    #[test]
    fn header_values_run_to_the_line_end_or_the_closing_quote() {
        let end = |s: &str| header_end(s.as_bytes(), 0);
        assert_eq!(end("Bearer a b\nnext"), 10);
        assert_eq!(end("Basic abc\" rest"), 9);
        assert_eq!(end("Digest a=\"x\", b=\"y\"\"}"), 19);
        assert_eq!(end("ApiKey abc\\nnext"), 10);
    }
}
