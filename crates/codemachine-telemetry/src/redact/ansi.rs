//! Terminal escape sequences (ECMA-48): colour codes, OSC 8 hyperlinks and the like, raw or
//! spelled as escapes (`\u001b[33m`, `\x1b[33m`, `\033[33m`, `\e[33m`).
//!
//! What this file owns: recognising where such a sequence starts and ends, so that every matcher
//! treats a whole sequence as a word boundary (SPEC §1: a shape starts after an escape sequence).
//! The decision a reader must know: the final byte of a CSI sequence is a letter (`m` of
//! `\x1b[33m`), so "the byte before is not a letter" alone would glue the sequence onto the word
//! after it; the matchers ask [`ends_at`] instead.
//!
//! Recognised: CSI `ESC [ params intermediates final` (and the 8-bit CSI U+009B), OSC
//! `ESC ] … (BEL | ESC \)`, the string terminator `ESC \`, and every other `ESC intermediates
//! final` (`ESC 7`, `ESC ( B`). Every look is bounded ([`MAX_PARAMS`], [`MAX_OSC`]), so callers
//! may ask at any position without breaking the scan's linearity.

use super::scan::work;

const ESC: u8 = 0x1b;

/// Parameter and intermediate bytes looked at before giving up on a sequence.
const MAX_PARAMS: usize = 32;

/// How far an OSC string's terminator is looked for.
const MAX_OSC: usize = 512;

/// Spellings of ESC (and of the 8-bit CSI) in escaped text, longest first. The flag is true
/// for an 8-bit CSI, which needs no `[`.
const INTRODUCERS: [(&[u8], bool); 11] = [
    (b"\\u001b", false),
    (b"\\u001B", false),
    (b"\\u009b", true),
    (b"\\u009B", true),
    (b"\\x1b", false),
    (b"\\x1B", false),
    (b"\\x9b", true),
    (b"\\033", false),
    (b"\\e", false),
    (b"\xc2\x9b", true),
    (b"\x1b", false),
];

/// True when an introducer (raw or escaped ESC, or the 8-bit CSI) starts at `at`.
pub(crate) fn introduces(bytes: &[u8], at: usize) -> bool {
    introducer_at(bytes, at).is_some()
}

/// The introducer (ESC or CSI, raw or escaped) starting at `at`: its length and whether it is
/// an 8-bit CSI.
fn introducer_at(bytes: &[u8], at: usize) -> Option<(usize, bool)> {
    let first = *bytes.get(at)?;
    if !matches!(first, ESC | b'\\' | 0xc2) {
        return None;
    }
    INTRODUCERS
        .iter()
        .find(|(s, _)| bytes[at..].starts_with(s))
        .map(|(s, csi)| (s.len(), *csi))
}

/// The introducer ending at `end`: where it starts and whether it is an 8-bit CSI.
fn introducer_before(bytes: &[u8], end: usize) -> Option<(usize, bool)> {
    INTRODUCERS
        .iter()
        .find(|(s, _)| bytes[..end].ends_with(s))
        .map(|(s, csi)| (end - s.len(), *csi))
}

fn is_param(b: u8) -> bool {
    (0x20..=0x3f).contains(&b)
}

/// The end of the escape sequence starting at `at`, if one does.
pub(crate) fn end_of(bytes: &[u8], at: usize) -> Option<usize> {
    let (len, csi) = introducer_at(bytes, at)?;
    let mut j = at + len;
    let csi = csi || bytes.get(j) == Some(&b'[');
    if bytes.get(j) == Some(&b'[') {
        j += 1;
    }
    match bytes.get(j) {
        _ if csi => {}
        Some(b']') => return Some(osc_end(bytes, j + 1)),
        Some(b'\\') => return Some(j + 1),
        _ => {}
    }
    // CSI takes parameters and intermediates (0x20–0x3F); the others intermediates only.
    let inner = if csi { 0x20..=0x3f } else { 0x20..=0x2f };
    let from = j;
    while j < bytes.len() && j - from < MAX_PARAMS && inner.contains(&bytes[j]) {
        j += 1;
    }
    work(j - from + 1);
    let last = *bytes.get(j)?;
    // CSI ends with 0x40–0x7E; the other sequences may end with a digit too (`ESC 7`).
    let finals = if csi { 0x40..=0x7e } else { 0x30..=0x7e };
    finals.contains(&last).then_some(j + 1)
}

/// The end of an OSC string whose body starts at `from`: after its BEL or `ESC \`; when none
/// comes within [`MAX_OSC`] bytes, the introducer alone (`ESC ]`) is the sequence.
fn osc_end(bytes: &[u8], from: usize) -> usize {
    let window = &bytes[from..bytes.len().min(from + MAX_OSC)];
    let mut j = 0;
    while j < window.len() {
        match window[j] {
            0x07 => break,
            b'\\' if j > 0 && window[j - 1] == ESC => break,
            b'\\' if introducer_before(window, j).is_some() => break,
            _ => {}
        }
        j += 1;
    }
    work(j + 1);
    if j == window.len() {
        from
    } else {
        from + j + 1
    }
}

/// Where the escape sequence ending exactly at `end` starts, if one does (a CSI whose final
/// byte is `bytes[end - 1]`, `ESC x`, or the string terminator `ESC \`).
pub(crate) fn ends_at(bytes: &[u8], end: usize) -> Option<usize> {
    let last = *bytes.get(end.checked_sub(1)?)?;
    if !(0x30..=0x7e).contains(&last) {
        return None;
    }
    let mut j = end - 1;
    while j > 0 && end - 1 - j < MAX_PARAMS && is_param(bytes[j - 1]) {
        j -= 1;
    }
    work(end - j);
    // Try every split of the bytes before the final one: a CSI's `[` may sit anywhere in them.
    // An introducer (or a CSI's `[`) ends right before the split, on one of these bytes.
    for at in (j..end).filter(|at| {
        *at > 0 && matches!(bytes[at - 1], b'[' | ESC | 0x9b | b'b' | b'B' | b'3' | b'e')
    }) {
        let start = if at > 0 && bytes[at - 1] == b'[' {
            introducer_before(bytes, at - 1).filter(|(_, csi)| !csi)
        } else {
            None
        };
        let start = start.or_else(|| introducer_before(bytes, at));
        if let Some((start, _)) = start
            && end_of(bytes, start) == Some(end)
        {
            return Some(start);
        }
    }
    None
}

/// Skips escape sequences at `from` (at most a few, so the cost stays bounded): where the text
/// after them starts. An escaped introducer counts only before `[` or `]` (`\x1b[0m`), so that
/// text such as `\eval` is not read as `ESC v` and cut.
pub(crate) fn skip(bytes: &[u8], mut from: usize) -> usize {
    for _ in 0..8 {
        let strong = match introducer_at(bytes, from) {
            Some((len, csi)) => {
                csi || bytes[from] == ESC || matches!(bytes.get(from + len), Some(b'[' | b']'))
            }
            None => false,
        };
        match end_of(bytes, from).filter(|_| strong) {
            Some(end) => from = end,
            None => break,
        }
    }
    from
}

/// Skips escape sequences ending at `end`, backwards: where the text before them ends.
pub(crate) fn skip_back(bytes: &[u8], mut end: usize) -> usize {
    for _ in 0..8 {
        match ends_at(bytes, end) {
            Some(start) => end = start,
            None => break,
        }
    }
    end
}

/// Where the last escape sequence ending in `from..to` (or right at `from`) ends, when the text
/// around `from` holds an introducer at all: a key found back to `from` starts there instead
/// (`\x1b[0;32;1mapi_key`, whose `;` stopped the key's scan inside the sequence).
pub(crate) fn last_end_within(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    let near = &bytes[from.saturating_sub(MAX_PARAMS + 8)..to.min(from + MAX_PARAMS)];
    work(near.len());
    if !near.iter().any(|b| matches!(*b, ESC | 0x9b | b'\\')) {
        return None;
    }
    (from..=to.min(from + MAX_PARAMS))
        .rev()
        .find(|p| ends_at(bytes, *p).is_some_and(|start| start < *p))
}

/// True when `text` holds an escape sequence (raw ESC or 8-bit CSI): keys are cleaned of them.
pub(crate) fn has_raw(text: &str) -> bool {
    text.bytes().any(|b| b == ESC || b == 0x9b)
}

/// `text` without its raw escape sequences (each becomes a space: a separator).
pub(crate) fn strip(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], ESC | 0xc2)
            && let Some(end) = end_of(bytes, i).filter(|e| text.is_char_boundary(*e))
        {
            out.push_str(&text[copied..i]);
            out.push(' ');
            copied = end;
            i = end;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_found_forwards_and_backwards() {
        let cases: [(&[u8], usize); 9] = [
            (b"\x1b[33m", 5),
            (b"\x1b[0;32;1m", 9),
            (b"\x1b[38:2:1:2:3m", 13),
            (b"\\u001b[33m", 10),
            (b"\\x1b[0m", 7),
            (b"\\033[1m", 7),
            (b"\x1b]8;;http://x\x1b\\", 15),
            (b"\x1b(B", 3),
            (b"\xc2\x9b1m", 4),
        ];
        for (seq, len) in cases {
            assert_eq!(end_of(seq, 0), Some(len), "{seq:?}");
            let mut text = seq.to_vec();
            text.extend_from_slice(b"api_key");
            if seq[seq.len() - 1].is_ascii_alphanumeric() {
                assert_eq!(ends_at(&text, len), Some(0), "{seq:?}");
            }
        }
        assert_eq!(ends_at(b"\x1b\\Cookie", 2), Some(0));
        assert_eq!(end_of(b"\x1b[", 0), None);
        assert_eq!(ends_at(b"xm", 2), None);
        assert_eq!(ends_at(b"[33m", 4), None);
    }

    #[test]
    fn keys_lose_their_colours() {
        assert_eq!(strip("\x1b[1mpassword\x1b[0m"), " password ");
        assert!(has_raw("\x1b[1m") && !has_raw("plain"));
    }
}
