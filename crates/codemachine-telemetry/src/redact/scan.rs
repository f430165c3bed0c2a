//! The scrubbing pass: one left-to-right walk over a string's bytes that hands the few bytes able to
//! start or introduce a secret to the matchers (`providers`, `notation`, `pairs`, `flags`, `url`,
//! `blocks`, `markup`).
//!
//! The contract every matcher keeps, which makes the whole pass linear in the text's length:
//! - work that does not end in a redaction is bounded by a small constant (backward key scans
//!   stop after [`MAX_KEY_BYTES`], body checks look at a bounded window), or is memoised in
//!   [`Scan::run_end`] / [`Scan::next_of`], whose answers are shared by every position of the same
//!   run, so a run is read a bounded number of times whatever starts inside it;
//! - work that ends in a redaction may read as far as it likes, because the walk then resumes
//!   after the redacted range (a value with no closing quote or bracket is redacted to the end).
//!
//! Ranges are widened to character boundaries before they are cut, so no input can make the
//! pass slice inside a UTF-8 sequence.

use std::borrow::Cow;
use std::ops::Range;

use super::keys::{KeyRule, KeyVerdict};
use super::{ansi, blocks, cache, flags, markup, notation, providers, url};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A key in text is looked for at most this many bytes before its separator.
pub(crate) const MAX_KEY_BYTES: usize = 128;

/// Byte sets a run can be made of (token bodies, values, URL parts).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Alpha {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9_-]`
    Dashed,
    /// `[A-Za-z0-9+/=]`
    B64,
    /// `[A-Za-z0-9_.=-]`
    Dotted,
    /// `[0-9a-fA-F]`
    Hex,
    /// `[A-Z2-7]`
    UpperB32,
    /// `[A-Z0-9]`
    UpperAlnum,
    /// `[A-Za-z0-9_+/=-]`
    Slashy,
    /// Token characters after `Bearer`: `[A-Za-z0-9._~+/=-]`
    Bearer,
    /// Anything but ASCII white space.
    NonSpace,
}

const ALPHAS: usize = 11;

static ALPHA_TABLE: [[bool; 256]; ALPHAS] = {
    let mut t = [[false; 256]; ALPHAS];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        t[Alpha::Alnum as usize][b] = alnum;
        t[Alpha::Word as usize][b] = alnum || c == b'_';
        t[Alpha::Dashed as usize][b] = alnum || c == b'_' || c == b'-';
        t[Alpha::B64 as usize][b] = alnum || c == b'+' || c == b'/' || c == b'=';
        t[Alpha::Dotted as usize][b] = alnum || matches!(c, b'_' | b'-' | b'.' | b'=');
        t[Alpha::Hex as usize][b] = c.is_ascii_hexdigit();
        t[Alpha::UpperB32 as usize][b] = c.is_ascii_uppercase() || matches!(c, b'2'..=b'7');
        t[Alpha::UpperAlnum as usize][b] = c.is_ascii_uppercase() || c.is_ascii_digit();
        t[Alpha::Slashy as usize][b] = alnum || matches!(c, b'_' | b'-' | b'+' | b'/' | b'=');
        t[Alpha::Bearer as usize][b] =
            alnum || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-');
        t[Alpha::NonSpace as usize][b] = !c.is_ascii_whitespace();
        b += 1;
    }
    t
};

impl Alpha {
    #[inline]
    pub(crate) fn has(self, b: u8) -> bool {
        ALPHA_TABLE[self as usize][usize::from(b)]
    }
}

/// Byte sets whose next occurrence is looked up (see [`Scan::next_of`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Find {
    /// ASCII white space.
    Space,
    /// `:` or `%` (a colon, maybe percent-encoded).
    Colon,
    /// `/`, `?` or `#`: the end of a URL's authority.
    PathStart,
    /// Where an unquoted value ends: white space, `;`, `&`, `,`, quotes, closing brackets, `<`,
    /// `>`, `\`, `%` and ESC (a colour code after a value).
    ValueEnd,
    /// `\n` or `\r`, or a `\` that may start a literal `\n`.
    LineEnd,
    /// `[`, which may start a `[REDACTED]` left by an earlier pass.
    OpenBracket,
    /// `>`: the end of an angle-bracketed value or a tag.
    Gt,
    /// `<`: the end of an element's content.
    Lt,
}

const FINDS: usize = 8;

static FIND_TABLE: [[bool; 256]; FINDS] = {
    let mut t = [[false; 256]; FINDS];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        t[Find::Space as usize][b] = c.is_ascii_whitespace();
        t[Find::Colon as usize][b] = c == b':' || c == b'%';
        t[Find::PathStart as usize][b] = matches!(c, b'/' | b'?' | b'#');
        t[Find::ValueEnd as usize][b] = c.is_ascii_whitespace()
            || matches!(
                c,
                b';' | b'&'
                    | b','
                    | b'"'
                    | b'\''
                    | b'`'
                    | b')'
                    | b']'
                    | b'}'
                    | b'<'
                    | b'>'
                    | b'\\'
                    | b'%'
                    | 0x1b
            );
        t[Find::LineEnd as usize][b] = matches!(c, b'\n' | b'\r' | b'\\');
        t[Find::OpenBracket as usize][b] = c == b'[';
        t[Find::Gt as usize][b] = c == b'>';
        t[Find::Lt as usize][b] = c == b'<';
        b += 1;
    }
    t
};

/// What the walk does at a byte: nothing, stop (punctuation that starts or separates a shape),
/// or stop if the next byte makes a prefix's first two (a letter or digit, see
/// `providers::is_start_pair`; or the first two bytes of a wide `=`/`:`, see
/// `notation::WIDE_SEPARATORS`).
static INTEREST: [u8; 256] = {
    let mut t = [NOTHING; 256];
    let punct = b"-.=:/\\%<&";
    let mut i = 0;
    while i < punct.len() {
        t[punct[i] as usize] = STOP;
        i += 1;
    }
    let firsts = providers::LETTER_STARTS;
    let mut j = 0;
    while j < firsts.len() {
        t[firsts[j] as usize] = PAIR;
        j += 1;
    }
    let wide = notation::WIDE_SEPARATORS;
    let mut k = 0;
    while k < wide.len() {
        t[wide[k][0] as usize] = PAIR;
        k += 1;
    }
    t
};
const NOTHING: u8 = 0;
const STOP: u8 = 1;
const PAIR: u8 = 2;

/// The next position at or after `from` where a matcher may start. Ordinary text costs one
/// table look-up a byte (two at the first letter of a prefix).
#[inline]
fn next_stop(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match INTEREST[usize::from(bytes[i])] {
            NOTHING => {}
            STOP => return Some(i),
            _ => {
                if bytes
                    .get(i + 1)
                    .is_some_and(|next| providers::is_start_pair(bytes[i], *next))
                {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
thread_local! {
    /// Bytes examined by the matchers on this thread (tests only: the linearity test reads it).
    pub(crate) static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` bytes examined; compiled to nothing outside tests.
#[inline(always)]
pub(crate) fn work(n: usize) {
    #[cfg(test)]
    WORK.with(|w| w.set(w.get() + n as u64));
    let _ = n;
}

/// A memo of the last answer for one run or one search: valid for every query in `from..=end`.
#[derive(Clone, Copy, Default)]
struct Memo {
    from: usize,
    end: usize,
    valid: bool,
}

/// The state of one scrubbing pass over `text`.
pub(crate) struct Scan<'a, 'r> {
    pub(crate) text: &'a str,
    pub(crate) bytes: &'a [u8],
    rule: &'r KeyRule,
    out: Option<String>,
    copied: usize,
    runs: [Memo; ALPHAS],
    finds: [Memo; FINDS],
    /// The end of the last non-space run and where its last `@` is (for URLs).
    pub(crate) last_at: Option<(usize, Option<usize>)>,
    /// The end of the last non-space run asked about query parameters and where its URL's query
    /// starts (its first `?` after a `/`), if it has one (see `url::in_query`).
    pub(crate) query: Option<(usize, Option<usize>)>,
    /// Whether the text holds a byte that may introduce a terminal escape sequence (ESC, the
    /// 8-bit CSI, `\`), found once, at the first key: text without one skips every look for a
    /// colour code around keys.
    escapes: Option<bool>,
}

/// A text that changed is scrubbed again, until nothing changes or this many passes ran.
///
/// One pass can hide a shape from itself (a redaction that removes a line break joins two
/// runs; a URL's user is not walked); a second pass over the result sees the text as a reader
/// of the output would, and only ever redacts more. Clean text, the common case, takes one
/// pass; in practice a second pass finds nothing, so scrubbing twice changes nothing.
const MAX_PASSES: usize = 8;

/// Returns `text` with every secret it holds replaced by [`REDACTED`]; borrowed when nothing
/// was replaced.
pub(crate) fn scrub<'a>(text: &'a str, rule: &KeyRule) -> Cow<'a, str> {
    let Cow::Owned(mut current) = scrub_once(text, rule) else {
        return Cow::Borrowed(text);
    };
    for _ in 1..MAX_PASSES {
        match scrub_once(&current, rule) {
            Cow::Borrowed(_) => break,
            Cow::Owned(next) => current = next,
        }
    }
    Cow::Owned(current)
}

/// One pass of the walk.
fn scrub_once<'a>(text: &'a str, rule: &KeyRule) -> Cow<'a, str> {
    // Most strings hold nothing that could start a secret: they cost one pass and no set-up.
    let Some(first) = next_stop(text.as_bytes(), 0) else {
        work(text.len());
        return Cow::Borrowed(text);
    };
    let mut scan = Scan::new(text, rule);
    scan.walk(first);
    scan.finish()
}

impl<'a, 'r> Scan<'a, 'r> {
    pub(crate) fn new(text: &'a str, rule: &'r KeyRule) -> Self {
        Scan {
            text,
            bytes: text.as_bytes(),
            rule,
            out: None,
            copied: 0,
            runs: [Memo::default(); ALPHAS],
            finds: [Memo::default(); FINDS],
            last_at: None,
            query: None,
            escapes: None,
        }
    }

    fn walk(&mut self, first: usize) {
        let bytes = self.bytes;
        let mut from = 0;
        let mut next = Some(first);
        while let Some(i) = next {
            work(i + 1 - from);
            let resume = self.at(i);
            from = resume.map_or(i + 1, |r| r.max(i + 1));
            next = next_stop(bytes, from);
        }
        work(bytes.len().saturating_sub(from));
    }

    /// Tries every matcher the byte at `i` can start; returns where to resume after a redaction.
    fn at(&mut self, i: usize) -> Option<usize> {
        match self.bytes[i] {
            b'=' | b':' => notation::at_separator(self, i),
            b'-' => blocks::at_dash(self, i)
                .or_else(|| notation::at_arrow(self, i))
                .or_else(|| markup::at_user_flag(self, i))
                .or_else(|| flags::at_flag(self, i)),
            b'.' => providers::jwt(self, i),
            b'/' => url::at_slashes(self, i),
            b'\\' | b'%' => url::at_slashes(self, i).or_else(|| notation::at_separator(self, i)),
            b'&' | 0xe2 | 0xef => notation::at_separator(self, i),
            b'<' => markup::at_angle(self, i),
            _ => providers::at_letter(self, i),
        }
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            Some(mut out) => {
                out.push_str(&self.text[self.copied..]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(self.text),
        }
    }

    /// Replaces `range` (widened to character boundaries, never reaching back into what was
    /// already replaced, and stretched over any private key block that starts inside it, so that
    /// no block body is left behind its swallowed header, over the value of a multipart field
    /// whose secret name it swallows, and over the next-line value of a secret key whose separator
    /// ends it) by [`REDACTED`]; returns where the
    /// replaced part ends. A range that already reads `[REDACTED]` is left as it is, so scrubbing
    /// twice changes nothing.
    pub(crate) fn redact(&mut self, range: Range<usize>) -> usize {
        let start = floor_boundary(self.text, range.start).max(self.copied);
        let end = range.end.min(self.bytes.len());
        work(end.saturating_sub(start));
        let end = blocks::end_of_blocks_within(self.bytes, start..end).max(end);
        let end = markup::end_of_form_field_within(self, start..end).map_or(end, |e| e.max(end));
        let end = notation::end_of_next_line_value(self, start..end).map_or(end, |e| e.max(end));
        let end = ceil_boundary(self.text, end);
        if start >= end || self.text.get(start..end) == Some(REDACTED) {
            return end.max(range.end.min(self.bytes.len()));
        }
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.text.len()));
        out.push_str(&self.text[self.copied..start]);
        out.push_str(REDACTED);
        self.copied = end;
        end
    }

    /// True when the text may hold a terminal escape sequence (see [`Scan::escapes`]).
    pub(crate) fn may_hold_escapes(&mut self) -> bool {
        let bytes = self.bytes;
        *self.escapes.get_or_insert_with(|| {
            work(bytes.len());
            // Whole chunks without an early exit inside, so that the compiler vectorises them;
            // a backslash counts only when it spells ESC (`\u001b`, `\x1b`, `\033`, `\e`).
            let any = |f: fn(u8) -> bool| {
                bytes
                    .chunks(64)
                    .any(|chunk| chunk.iter().fold(false, |seen, b| seen | f(*b)))
            };
            any(|b| matches!(b, 0x1b | 0x9b))
                || any(|b| b == b'\\')
                    && (0..bytes.len()).any(|i| bytes[i] == b'\\' && ansi::introduces(bytes, i))
        })
    }

    /// True when the text in `range` (which the walk will not visit: a cookie's name, a URL's
    /// user) holds a secret shape of its own.
    pub(crate) fn has_shape(&self, range: Range<usize>) -> bool {
        self.text
            .get(range)
            .is_some_and(|part| matches!(scrub(part, self.rule), Cow::Owned(_)))
    }

    /// The rule's verdict on a key found in text (cached; object-key shapes are not looked for).
    pub(crate) fn verdict(&self, key: &str) -> KeyVerdict {
        cache::verdict(self.rule.id() << 1, key, || self.rule.judge(key))
    }

    /// Where the run of `alpha` bytes starting at `from` ends.
    pub(crate) fn run_end(&mut self, alpha: Alpha, from: usize) -> usize {
        let memo = &mut self.runs[alpha as usize];
        if memo.valid && from >= memo.from && from <= memo.end {
            return memo.end;
        }
        let bytes = self.bytes;
        let mut j = from;
        while j < bytes.len() && alpha.has(bytes[j]) {
            if memo.valid && j == memo.from {
                j = memo.end;
                break;
            }
            j += 1;
        }
        work(j - from);
        *memo = Memo {
            from,
            end: j,
            valid: true,
        };
        j
    }

    /// The position of the next byte of `find` at or after `from` (the text's length if none).
    pub(crate) fn next_of(&mut self, find: Find, from: usize) -> usize {
        let memo = &mut self.finds[find as usize];
        if memo.valid && from >= memo.from && from <= memo.end {
            return memo.end;
        }
        let table = &FIND_TABLE[find as usize];
        let bytes = self.bytes;
        let mut j = from;
        while j < bytes.len() && !table[usize::from(bytes[j])] {
            if memo.valid && j == memo.from {
                j = memo.end;
                break;
            }
            j += 1;
        }
        work(j - from);
        *memo = Memo {
            from,
            end: j,
            valid: true,
        };
        j
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// True when `bytes[i - 1]` ends an escape sequence: `\n`, `\t` (and the other one-letter
/// escapes), `\u0022`, `\x22` or `%0A`.
pub(crate) fn after_escape(bytes: &[u8], i: usize) -> bool {
    let hex = |r: Range<usize>| bytes[r].iter().all(u8::is_ascii_hexdigit);
    (i >= 2
        && bytes[i - 2] == b'\\'
        && matches!(
            bytes[i - 1],
            b'n' | b't' | b'r' | b'b' | b'f' | b'v' | b'0' | b'a' | b'e'
        ))
        || (i >= 6 && bytes[i - 6] == b'\\' && matches!(bytes[i - 5], b'u' | b'U') && hex(i - 4..i))
        || (i >= 4 && bytes[i - 4] == b'\\' && bytes[i - 3] == b'x' && hex(i - 2..i))
        || (i >= 3 && bytes[i - 3] == b'%' && hex(i - 2..i))
}

/// True when a shape may start at `i`: at the start, after a byte that is not a letter or digit,
/// right after an escape sequence (`\n`, `%0A`), or after a terminal escape sequence whose final
/// byte is a letter (`\x1b[33m`, see `ansi.rs`).
pub(crate) fn starts_here(bytes: &[u8], i: usize) -> bool {
    i == 0
        || !bytes[i - 1].is_ascii_alphanumeric()
        || after_escape(bytes, i)
        || ansi::ends_at(bytes, i).is_some()
}

/// Like [`starts_here`], and also at a case or digit hump before a capital (`xAKIA…`, `1AKIA…`).
pub(crate) fn starts_here_or_hump(bytes: &[u8], i: usize) -> bool {
    starts_here(bytes, i)
        || (bytes[i].is_ascii_uppercase()
            && (bytes[i - 1].is_ascii_lowercase() || bytes[i - 1].is_ascii_digit()))
}

/// True for `true`, `false`, `null` (any case) and values made only of punctuation: they carry
/// no secret. `[REDACTED]` counts as punctuation, so that a value left alone because it was
/// inert is still inert once something inside it was redacted (scrubbing twice changes nothing).
pub(crate) fn is_inert_value(value: &[u8]) -> bool {
    let mut j = 0;
    while j < value.len() {
        if value[j..].starts_with(REDACTED.as_bytes()) {
            j += REDACTED.len();
        } else if value[j].is_ascii_punctuation() || value[j].is_ascii_whitespace() {
            j += 1;
        } else {
            break;
        }
    }
    work(j + 1);
    j == value.len()
        || [
            &b"true"[..],
            b"false",
            b"null",
            b"none",
            b"nil",
            b"undefined",
        ]
        .iter()
        .any(|w| value.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_recognised_before_a_position() {
        for (text, at) in [
            ("\\nx", 2),
            ("\\u0022x", 6),
            ("%0Ax", 3),
            ("%3dx", 3),
            ("\\x22x", 4),
        ] {
            assert!(after_escape(text.as_bytes(), at), "{text}");
            assert!(starts_here(text.as_bytes(), at), "{text}");
        }
        assert!(!starts_here(b"ax", 1));
        assert!(starts_here_or_hump(b"aX", 1) && starts_here_or_hump(b"1X", 1));
        assert!(!starts_here_or_hump(b"AX", 1));
    }

    #[test]
    fn runs_and_searches_are_memoised_and_exact() {
        let rule = KeyRule::new();
        let mut scan = Scan::new("abc-def ghi", &rule);
        assert_eq!(scan.run_end(Alpha::Alnum, 0), 3);
        assert_eq!(scan.run_end(Alpha::Alnum, 1), 3);
        assert_eq!(scan.run_end(Alpha::Dashed, 2), 7);
        assert_eq!(scan.run_end(Alpha::Dashed, 0), 7);
        assert_eq!(scan.next_of(Find::Space, 0), 7);
        assert_eq!(scan.next_of(Find::Space, 8), 11);
    }

    #[test]
    fn inert_values_are_booleans_nulls_and_punctuation() {
        for v in ["true", "FALSE", "null", "'}'", "", "--", "//:[REDACTED]@"] {
            assert!(is_inert_value(v.as_bytes()), "{v}");
        }
        assert!(!is_inert_value(b"hunter2"));
    }
}
