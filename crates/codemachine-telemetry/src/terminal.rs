//! Text shown on a terminal: data never gets to drive it.
//!
//! Everything this crate and the `codemachine` binary print for people (pretty logs, `status`,
//! `inspect`, diagnostics) goes through [`escape_controls`], so a value holding an escape
//! sequence, a bell, a carriage return or a newline cannot move the cursor, retitle the
//! terminal, hide text or forge a second record line.

use std::borrow::Cow;

/// `text` with control characters shown as escapes (`\u{1b}`), so a diagnostic that repeats
/// data can never move the cursor, retitle the terminal or forge a second line.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_terminal_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and every bidirectional
/// control: embeddings, overrides and isolates, and the marks (LRM, RLM, ALM), which can make a
/// terminal show text in another order than it is.
pub fn is_terminal_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` without Rust's ` (os error N)` suffixes, which say nothing to a person.
pub fn without_os_error_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" (os error ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + " (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            rest = &tail[digits + 1..];
        } else {
            out.push_str(" (os error ");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// A value the user gave, as a diagnostic may repeat it: quoted, unless it looks like a
/// credential typed in the wrong place (12 characters or more, no space, no `/`, mixing letters
/// and digits with capitals and small letters or 20 characters or more, or changing case three
/// times or more), which is shown as its length. A typo (`debgu`, `64MB`, `definitely`) stays visible, so it can be fixed.
pub fn shown_value(value: &str) -> String {
    let len = value.chars().count();
    let has = |f: fn(&char) -> bool| value.chars().any(|c| f(&c));
    let mixed_case = has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase);
    let humps = case_humps(value);
    let random = len >= 12
        && !value.contains([' ', '/'])
        && ((has(char::is_ascii_digit)
            && has(char::is_ascii_alphabetic)
            && (mixed_case || len >= 20))
            || humps >= 3);
    if random {
        format!("<a value of {len} characters, not shown>")
    } else {
        format!("{value:?}")
    }
}

/// How many times `text` goes from a small letter to a capital (`OrgID`: 1): words change case
/// once or twice, random text (base64, tokens) all the time.
pub fn case_humps(text: &str) -> usize {
    text.as_bytes()
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count()
}

/// An I/O error without the path (the caller names the file) and without Rust's `(os error N)`.
pub fn describe_io(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_lowercase(),
        None => text.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_borrowed() {
        assert!(matches!(escape_controls("plain ü ✓"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\u{1b}]0;title\u{7}\r\nb\0\u{9b}\u{202e}"),
            "a\\u{1b}]0;title\\u{7}\\r\\nb\\u{0}\\u{9b}\\u{202e}"
        );
        for mark in ['\u{61c}', '\u{200e}', '\u{200f}', '\u{2066}', '\u{2069}'] {
            let shown = escape_controls(&format!("x{mark}y")).into_owned();
            assert!(
                shown.starts_with("x\\u{") && !shown.contains(mark),
                "{shown:?}"
            );
        }
        // Emoji sequences (joined with U+200D) are text, not controls.
        assert!(matches!(escape_controls("👩\u{200d}💻"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_value_that_looks_like_a_credential_is_shown_as_its_length() {
        assert_eq!(shown_value("debgu"), "\"debgu\"");
        assert_eq!(shown_value("64MB"), "\"64MB\"");
        assert_eq!(shown_value("definitely"), "\"definitely\"");
        assert_eq!(
            shown_value("/proc/x/Qa1b2c3d4e5f6"),
            "\"/proc/x/Qa1b2c3d4e5f6\""
        );
        assert_eq!(
            shown_value("QMn6lScPtOVMF6bB"),
            "<a value of 16 characters, not shown>"
        );
        assert_eq!(
            shown_value("0123456789abcdef01234567"),
            "<a value of 24 characters, not shown>"
        );
    }
}
