//! The library's own diagnostics: one line on stderr, scrubbed of secrets, never a panic.
//!
//! `eprintln!` panics when stderr cannot be written; a logger must not, so warnings go through
//! here and a failed write is ignored. The text goes through the default redactor first: a
//! diagnostic names paths and values the user gave, and those can hold secrets too.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

use crate::redact::Redactor;
use crate::terminal::escape_controls;

/// Writes `warning: …` on stderr (the prefix `cargo` uses), ignoring any failure to do so.
pub(crate) fn warn(message: fmt::Arguments<'_>) {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    let text = crate::terminal::without_os_error_numbers(&message.to_string());
    let clean = REDACTOR.get_or_init(Redactor::new).scrub(&text);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "warning: {}", escape_controls(&clean));
}
