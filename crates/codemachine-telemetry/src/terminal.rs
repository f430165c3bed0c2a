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
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls, DEL, and the Unicode line and paragraph separators and bidirectional
/// overrides (which can make a terminal show text in another order than it is).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
    }
}
