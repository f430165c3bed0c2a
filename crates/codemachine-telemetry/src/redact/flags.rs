//! Command-line flags whose value is the next word: `cmd --password V`, `--api-key V`,
//! `-client-secret "V"` (the `--password=V` form is a separator, see `notation.rs`).
//!
//! A flag is one or two dashes starting a word (after white space, punctuation, an escape or a
//! terminal escape sequence) then a whole key that matches the key rule (`--password`,
//! `--PASSWORD`, `--db.password`); `--password-file`, `--token-count`, `--password-stdin` and
//! `--no-password` are other flags. Its value is the word after one or more spaces or tabs on the
//! same line, read like any value (quoted, bracketed or bare) and kept when inert or one of the
//! key's exceptions (a count, a path under `pwd`). Kept as well, because they are prose or usage
//! text rather than a value: another flag (`--password --verbose`), a placeholder (`<PASSWORD>`,
//! `[PASSWORD]`), and a common English function word (`use --password to set it`, `the --token
//! flag is required`): see [`FUNCTION_WORDS`].
//!
//! Every look is bounded: the key to [`MAX_KEY_BYTES`], the spaces before the value to
//! [`MAX_GAP`]; the value itself is read by `notation::value`, which ends in a redaction or in a
//! memoised run.

use super::scan::{MAX_KEY_BYTES, Scan, after_escape, work};
use super::{ansi, notation};

/// Spaces or tabs between a flag and its value, at most.
const MAX_GAP: usize = 16;

/// Words after a flag that make it prose, not a value (compared ignoring ASCII case).
pub(crate) const FUNCTION_WORDS: [&str; 44] = [
    "a",
    "an",
    "and",
    "are",
    "arg",
    "argument",
    "as",
    "at",
    "be",
    "but",
    "by",
    "can",
    "field",
    "flag",
    "for",
    "from",
    "has",
    "if",
    "in",
    "instead",
    "is",
    "may",
    "must",
    "not",
    "of",
    "on",
    "option",
    "or",
    "param",
    "parameter",
    "setting",
    "should",
    "switch",
    "that",
    "the",
    "then",
    "this",
    "to",
    "value",
    "was",
    "when",
    "which",
    "will",
    "with",
];

/// A flag at the `-` at `i` (the first of its dashes) and the word after it.
pub(crate) fn at_flag(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    // The cheap tests first: most dashes in text are inside words, numbers and dates
    // (`spec-to-code`, `2026-11-28`), and a terminal escape sequence before one is looked for only
    // in text that can hold one.
    let dashes = bytes[i..]
        .iter()
        .take(3)
        .take_while(|b| **b == b'-')
        .count();
    let key_start = i + dashes;
    if dashes > 2 || !bytes.get(key_start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
        let after_sequence = after_escape(bytes, i)
            || (scan.may_hold_escapes() && ansi::ends_at(bytes, i).is_some());
        if !after_sequence {
            return None;
        }
    } else if i > 0 && bytes[i - 1] == b'-' {
        return None;
    }
    let len = bytes[key_start..]
        .iter()
        .take(MAX_KEY_BYTES + 1)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    work(len + 1);
    let key_end = key_start + len;
    if len > MAX_KEY_BYTES || !matches!(bytes.get(key_end), Some(b' ' | b'\t')) {
        return None;
    }
    let key = &scan.text[key_start..key_end];
    if key.len() > 3 && key[..3].eq_ignore_ascii_case("no-") {
        // `--no-password`: a switch that turns something off, not a key.
        return None;
    }
    let verdict = scan.verdict(key);
    if !verdict.is_secret() {
        return None;
    }
    let gap = bytes[key_end..]
        .iter()
        .take(MAX_GAP + 1)
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let p = key_end + gap;
    if gap > MAX_GAP || is_prose(bytes, p) {
        return None;
    }
    notation::value(scan, p, verdict, false, false)
}

/// True when what follows a flag is not its value: nothing, a line break (real or escaped),
/// another flag, a placeholder, or a function word of prose.
fn is_prose(bytes: &[u8], p: usize) -> bool {
    match bytes.get(p) {
        None | Some(b'\n' | b'\r' | b'-' | b'<' | b'[') => return true,
        Some(b'\\') if matches!(bytes.get(p + 1), Some(b'n' | b'r' | b't')) => return true,
        _ => {}
    }
    let word = bytes[p..]
        .iter()
        .take(12)
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    // A word, not the start of one (`to2x`, `is_set`, `or-else`, `a/b`).
    let ends = !bytes
        .get(p + word)
        .is_some_and(|b| b.is_ascii_alphanumeric() || b"_-/=@+".contains(b));
    work(word + 1);
    ends && FUNCTION_WORDS
        .iter()
        .any(|w| bytes[p..p + word].eq_ignore_ascii_case(w.as_bytes()))
}
