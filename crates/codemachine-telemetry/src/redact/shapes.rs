//! Secret shapes inside string values: the part that is a secret becomes `[REDACTED]`.
//!
//! One left-to-right pass over the bytes; a byte table sends the few bytes that can start a secret
//! to the matchers, so ordinary text costs one table look-up a byte and no allocation. What is
//! recognised:
//! - `key=value`, `key: value` and `"key":"value"` where the key matches the redaction key rule
//!   (so `password=hunter2` in a message, `?access_token=…` in a URL, `Authorization: Basic …`);
//! - credentials in URLs (`scheme://user:pass@host` keeps the user, loses the password);
//! - `Bearer <token>`; JSON Web Tokens; PEM private key blocks;
//! - provider keys by prefix ([`TOKEN_SHAPES`]): OpenAI/Anthropic, Stripe, GitHub, GitLab, Slack,
//!   AWS access key ids, Google API keys, npm, PyPI, Hugging Face, SendGrid, DigitalOcean, Shopify,
//!   Linear, Grafana, Azure storage keys.
//!
//! Prefixes only count at the start of a word, and each shape needs a minimum body length, so
//! `task-force` or `sk-live-abc` (too short to be a real key) stay as they are.

use std::borrow::Cow;
use std::ops::Range;

use super::keys::KeyRule;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A provider key recognised by its prefix and the bytes its body is made of.
struct TokenShape {
    prefix: &'static str,
    body: fn(u8) -> bool,
    min_body: usize,
}

const fn shape(prefix: &'static str, body: fn(u8) -> bool, min_body: usize) -> TokenShape {
    TokenShape {
        prefix,
        body,
        min_body,
    }
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}
fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
fn dashed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}
fn upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}
fn base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}
fn dotted(b: u8) -> bool {
    dashed(b) || b == b'.'
}

/// Provider keys, longest prefixes of a family first.
const TOKEN_SHAPES: &[TokenShape] = &[
    shape("sk-", dashed, 16), // OpenAI `sk-…`, `sk-proj-…`; Anthropic `sk-ant-…`
    shape("sk_live_", alnum, 10),
    shape("sk_test_", alnum, 10),
    shape("shpat_", alnum, 32),
    shape("shpss_", alnum, 32),
    shape("shpca_", alnum, 32),
    shape("shppa_", alnum, 32),
    shape("rk_live_", alnum, 10),
    shape("rk_test_", alnum, 10),
    shape("whsec_", alnum, 20),
    shape("ghp_", alnum, 20),
    shape("gho_", alnum, 20),
    shape("ghu_", alnum, 20),
    shape("ghs_", alnum, 20),
    shape("ghr_", alnum, 20),
    shape("github_pat_", word, 20),
    shape("glpat-", dashed, 20),
    shape("glc_", base64, 32),
    shape("xoxb-", dashed, 10),
    shape("xoxp-", dashed, 10),
    shape("xoxa-", dashed, 10),
    shape("xoxr-", dashed, 10),
    shape("xoxs-", dashed, 10),
    shape("xoxe-", dashed, 10),
    shape("xapp-", dashed, 10),
    shape("AKIA", upper_digit, 16),
    shape("ASIA", upper_digit, 16),
    shape("AIza", dashed, 30),
    shape("AccountKey=", base64, 20),
    shape("SharedAccessKey=", base64, 20),
    shape("SG.", dotted, 40),
    shape("npm_", alnum, 30),
    shape("pypi-", dashed, 50),
    shape("hf_", alnum, 30),
    shape("dop_v1_", alnum, 40),
    shape("doo_v1_", alnum, 40),
    shape("dor_v1_", alnum, 40),
    shape("lin_api_", alnum, 30),
];

/// For each byte, the range of [`TOKEN_SHAPES`] whose prefix starts with it (the table keeps
/// each first byte's shapes together; a test checks it).
static SHAPES_BY_FIRST_BYTE: [(u8, u8); 256] = {
    let mut index = [(0u8, 0u8); 256];
    let mut i = 0;
    while i < TOKEN_SHAPES.len() {
        let b = TOKEN_SHAPES[i].prefix.as_bytes()[0] as usize;
        if index[b].1 == 0 {
            index[b].0 = i as u8;
        }
        index[b].1 += 1;
        i += 1;
    }
    index
};

/// Two-byte beginnings of a word that can start a secret (every prefix's first two bytes, and
/// `ey` / `be` for JSON Web Tokens and bearer tokens), one bit per pair: ordinary words are
/// skipped after one look-up.
static WORD_STARTS: [u64; 1024] = {
    const fn set(table: &mut [u64; 1024], a: u8, b: u8) {
        let pair = (a as usize) << 8 | b as usize;
        table[pair / 64] |= 1 << (pair % 64);
    }
    let mut table = [0u64; 1024];
    let mut i = 0;
    while i < TOKEN_SHAPES.len() {
        let p = TOKEN_SHAPES[i].prefix.as_bytes();
        set(&mut table, p[0], p[1]);
        i += 1;
    }
    set(&mut table, b'e', b'y');
    let bearer_starts = [(b'b', b'e'), (b'B', b'e'), (b'B', b'E'), (b'b', b'E')];
    let mut j = 0;
    while j < bearer_starts.len() {
        set(&mut table, bearer_starts[j].0, bearer_starts[j].1);
        j += 1;
    }
    table
};

fn may_start_secret_word(bytes: &[u8], i: usize) -> bool {
    let Some(&next) = bytes.get(i + 1) else {
        return false;
    };
    let pair = usize::from(bytes[i]) << 8 | usize::from(next);
    WORD_STARTS[pair / 64] & (1 << (pair % 64)) != 0
}

/// Bytes that can start a secret: the first byte of every prefix, plus the matchers' own.
static STARTS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < TOKEN_SHAPES.len() {
        table[TOKEN_SHAPES[i].prefix.as_bytes()[0] as usize] = true;
        i += 1;
    }
    let others = b"eEbB-:=";
    let mut j = 0;
    while j < others.len() {
        table[others[j] as usize] = true;
        j += 1;
    }
    table
};

/// Returns `text` with every secret it holds replaced by [`REDACTED`]; borrowed when nothing
/// was found.
pub(crate) fn scrub<'a>(text: &'a str, keys: &KeyRule) -> Cow<'a, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while let Some(skip) = bytes[i..].iter().position(|b| STARTS[usize::from(*b)]) {
        i += skip;
        // Inside a word only punctuation can introduce a secret (prefixes count at a word's
        // start), so a word that cannot start one is skipped whole.
        if bytes[i].is_ascii_alphanumeric()
            && !(starts_word(bytes, i) && may_start_secret_word(bytes, i))
        {
            i += run(bytes, i, |b| b.is_ascii_alphanumeric());
            continue;
        }
        match find_secret(text, i, keys) {
            Some(found) => {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                o.push_str(&text[copied..found.start]);
                o.push_str(REDACTED);
                copied = found.end;
                i = found.end.max(i + 1);
            }
            None => i += 1,
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// The secret that starts at (or is introduced by) the byte at `i`, if any. The range returned
/// never starts before `i`.
fn find_secret(text: &str, i: usize, keys: &KeyRule) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    match bytes[i] {
        b'-' => pem_private_key(text, i),
        b':' => url_password(bytes, i).or_else(|| key_value(text, i, keys)),
        b'=' => key_value(text, i, keys),
        _ if !starts_word(bytes, i) => None,
        b'b' | b'B' => bearer(bytes, i).or_else(|| provider_token(bytes, i)),
        b'e' => json_web_token(bytes, i),
        _ => provider_token(bytes, i),
    }
}

fn starts_word(bytes: &[u8], i: usize) -> bool {
    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
}

/// Length of the run of bytes from `from` that satisfy `accept`.
fn run(bytes: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|b| accept(**b)).count())
}

fn provider_token(bytes: &[u8], i: usize) -> Option<Range<usize>> {
    let rest = &bytes[i..];
    let (first, count) = SHAPES_BY_FIRST_BYTE[bytes[i] as usize];
    TOKEN_SHAPES[usize::from(first)..usize::from(first) + usize::from(count)]
        .iter()
        .filter(|s| {
            let prefix = s.prefix.as_bytes();
            // The first byte is known to match; the second turns most words away cheaply.
            rest.get(1) == prefix.get(1) && rest.starts_with(prefix)
        })
        .find_map(|s| {
            let body = run(bytes, i + s.prefix.len(), s.body);
            (body >= s.min_body).then(|| i..i + s.prefix.len() + body)
        })
}

/// `eyJ…` header, `.` payload, `.` signature: the whole token goes.
fn json_web_token(bytes: &[u8], i: usize) -> Option<Range<usize>> {
    if !bytes[i..].starts_with(b"eyJ") {
        return None;
    }
    let header = run(bytes, i, dashed);
    let payload_at = i + header + 1;
    if header < 10 || bytes.get(payload_at - 1) != Some(&b'.') {
        return None;
    }
    let payload = run(bytes, payload_at, dashed);
    let signature_at = payload_at + payload + 1;
    if payload < 10 || bytes.get(signature_at - 1) != Some(&b'.') {
        return None;
    }
    Some(i..signature_at + run(bytes, signature_at, dashed))
}

/// `Bearer <token>`: the token goes, the scheme stays. A token must look like one (long, or
/// holding a digit) so that prose such as "bearer of news" is left alone.
fn bearer(bytes: &[u8], i: usize) -> Option<Range<usize>> {
    let word = bytes.get(i..i + 6)?;
    if !word.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let spaces = run(bytes, i + 6, |b| b == b' ' || b == b'\t');
    if spaces == 0 {
        return None;
    }
    let start = i + 6 + spaces;
    let len = run(bytes, start, |b| {
        dotted(b) || matches!(b, b'~' | b'+' | b'/' | b'=')
    });
    let token = &bytes[start..start + len];
    let looks_like_token =
        len >= 16 || (len >= 8 && token.iter().any(|b| !b.is_ascii_alphabetic()));
    looks_like_token.then(|| start..start + len)
}

/// `-----BEGIN … PRIVATE KEY-----` through its `-----END … -----` line (or the end of the text).
fn pem_private_key(text: &str, i: usize) -> Option<Range<usize>> {
    let rest = &text[i..];
    let header = rest.strip_prefix("-----BEGIN ")?;
    let header_end = header.find("-----")?;
    if !header[..header_end].contains("PRIVATE KEY") {
        return None;
    }
    let Some(end_marker) = rest.find("-----END") else {
        return Some(i..text.len());
    };
    let after = end_marker + "-----END".len();
    let end = rest[after..]
        .find("-----")
        .map_or(text.len(), |close| i + after + close + "-----".len());
    Some(i..end)
}

/// `scheme://user:password@host`: the password goes.
fn url_password(bytes: &[u8], i: usize) -> Option<Range<usize>> {
    if !bytes[i..].starts_with(b"://") || i == 0 || !bytes[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    let start = i + 3;
    let len = run(bytes, start, |b| {
        !matches!(b, b'/' | b'?' | b'#' | b'@' | b'"' | b'\'' | b'<' | b'>')
            && !b.is_ascii_whitespace()
    });
    if bytes.get(start + len) != Some(&b'@') {
        return None;
    }
    let colon = bytes[start..start + len].iter().position(|b| *b == b':')?;
    let password = start + colon + 1..start + len;
    (!password.is_empty()).then_some(password)
}

/// `key=value`, `key: value`, `"key":"value"` where `key` names a secret: the value goes.
fn key_value(text: &str, i: usize, keys: &KeyRule) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let key = key_before(text, i)?;
    if !keys.matches(key) {
        return None;
    }
    let start = i + 1 + run(bytes, i + 1, |b| b == b' ' || b == b'\t');
    let value = match bytes.get(start)? {
        q @ (b'"' | b'\'') => quoted(bytes, start + 1, *q),
        _ => unquoted_value(bytes, start),
    };
    (!value.is_empty()).then_some(value)
}

/// The key that ends just before the separator at `i`, quoted or bare.
fn key_before(text: &str, i: usize) -> Option<&str> {
    /// Keys longer than this are not looked for (it bounds the backward scan).
    const MAX_KEY: usize = 128;
    let bytes = text.as_bytes();
    let floor = i.saturating_sub(MAX_KEY);
    let key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let (end, quote) = match bytes[..i].last()? {
        q @ (b'"' | b'\'') => (i - 1, Some(*q)),
        _ => (i, None),
    };
    let mut start = end;
    while start > floor
        && bytes[start - 1] != quote.unwrap_or(0)
        && (quote.is_some() || key_byte(bytes[start - 1]))
    {
        start -= 1;
    }
    (start < end).then(|| &text[start..end])
}

/// From `start` to the closing `quote` (a backslash escapes), or to the end of the text.
fn quoted(bytes: &[u8], start: usize, quote: u8) -> Range<usize> {
    let mut j = start;
    while j < bytes.len() && bytes[j] != quote {
        j += if bytes[j] == b'\\' { 2 } else { 1 };
    }
    start..j.min(bytes.len())
}

/// A bare value runs to white space or punctuation that ends a value in URLs, headers and
/// lists. An authentication scheme (`Basic`, `Bearer`, …) takes the following word with it.
fn unquoted_value(bytes: &[u8], start: usize) -> Range<usize> {
    let value_byte = |b: u8| {
        !b.is_ascii_whitespace()
            && !matches!(
                b,
                b'&' | b',' | b';' | b'"' | b'\'' | b'<' | b'>' | b')' | b']' | b'}'
            )
    };
    let len = run(bytes, start, value_byte);
    let first = &bytes[start..start + len];
    let is_scheme = ["basic", "bearer", "token", "digest", "negotiate", "bot"]
        .iter()
        .any(|s| first.eq_ignore_ascii_case(s.as_bytes()));
    let spaces = run(bytes, start + len, |b| b == b' ');
    if is_scheme && spaces > 0 {
        let next = start + len + spaces;
        return start..next + run(bytes, next, value_byte);
    }
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::DEFAULT_REDACT_KEYS;
    use crate::redact::keys::KeyPattern;

    fn scrubbed(text: &str) -> String {
        let mut keys = KeyRule::new();
        for key in DEFAULT_REDACT_KEYS {
            keys.add(KeyPattern::new(key).unwrap());
        }
        scrub(text, &keys).into_owned()
    }

    #[test]
    fn scrubs_every_listed_shape() {
        let cases = [
            (
                "Authorization: Bearer abc.def-123_XYZ",
                "Authorization: [REDACTED]",
            ),
            ("sent bearer 0123456789abcdef0123", "sent bearer [REDACTED]"),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
                "jwt [REDACTED] end",
            ),
            ("key sk-proj-abcdefghijklmnop1234 ok", "key [REDACTED] ok"),
            (
                "anthropic sk-ant-api03-AAAAAAAAAAAAAAAAAAAA",
                "anthropic [REDACTED]",
            ),
            (
                "gh ghp_0123456789abcdefghijABCDEFGHIJ012345",
                "gh [REDACTED]",
            ),
            (
                "gh github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                "gh [REDACTED]",
            ),
            ("gl glpat-abcdefghij0123456789", "gl [REDACTED]"),
            ("aws AKIAIOSFODNN7EXAMPLE.", "aws [REDACTED]."),
            ("slack xoxb-1234567890-abcdefghij", "slack [REDACTED]"),
            ("stripe sk_live_0123456789abcdef", "stripe [REDACTED]"),
            ("g AIzaSyA-0123456789abcdefghijklmnopqrstu", "g [REDACTED]"),
            (
                "npm npm_0123456789abcdefghijABCDEFGHIJ0123",
                "npm [REDACTED]",
            ),
            ("hf hf_0123456789abcdefghijABCDEFGHIJ0123", "hf [REDACTED]"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- after",
                "[REDACTED] after",
            ),
            ("cut -----BEGIN PRIVATE KEY-----\nMIIEow", "cut [REDACTED]"),
            (
                "db postgres://app:hunter2@db.local/x",
                "db postgres://app:[REDACTED]@db.local/x",
            ),
            (
                "GET /x?access_token=abc123&page=2",
                "GET /x?access_token=[REDACTED]&page=2",
            ),
            ("login password=hunter2 ok", "login password=[REDACTED] ok"),
            ("run --password=s3cret", "run --password=[REDACTED]"),
            (
                r#"{"apiKey":"abc\"def","n":1}"#,
                r#"{"apiKey":"[REDACTED]","n":1}"#,
            ),
            (
                "Authorization: Basic dXNlcjpwYXNz, next",
                "Authorization: [REDACTED], next",
            ),
            ("X-Api-Key: 12345", "X-Api-Key: [REDACTED]"),
        ];
        for (input, expected) in cases {
            assert_eq!(scrubbed(input), expected, "input: {input}");
        }
    }

    #[test]
    fn leaves_look_alikes_and_prose_alone() {
        for text in [
            "step completed",
            "task-force sk-live-abc",
            "the bearer of bad news",
            "tokenCount=12 inputTokens: 30 max_tokens=4",
            "https://example.com/path?q=1",
            "https://user@example.com",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "time 12:34:56, ratio a=b",
            "eyJ short.one.two",
            "ASKIA is a name; AKIA too short",
            "unicode ключ=значение ✓",
        ] {
            assert_eq!(scrubbed(text), text);
        }
    }

    #[test]
    fn shapes_sharing_a_first_byte_sit_together() {
        for (i, shape) in TOKEN_SHAPES.iter().enumerate() {
            let b = shape.prefix.as_bytes()[0];
            let (first, count) = SHAPES_BY_FIRST_BYTE[b as usize];
            let range = usize::from(first)..usize::from(first) + usize::from(count);
            assert!(range.contains(&i), "{} is out of its group", shape.prefix);
        }
    }

    #[test]
    fn borrows_when_nothing_is_found() {
        assert!(matches!(
            scrub("plain text", &KeyRule::new()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn handles_secrets_at_both_ends_and_back_to_back() {
        assert_eq!(
            scrubbed("ghp_0123456789abcdefghijAB token=x"),
            "[REDACTED] token=[REDACTED]"
        );
        assert_eq!(scrubbed("password="), "password=");
        assert_eq!(scrubbed("password=\"unterminated"), "password=\"[REDACTED]");
    }
}
