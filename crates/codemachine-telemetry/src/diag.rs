//! The library's own diagnostics: one line on stderr, never a panic.
//!
//! `eprintln!` panics when stderr cannot be written; a logger must not, so warnings go through
//! here and a failed write is ignored.

use std::fmt;
use std::io::Write;

/// Writes `codemachine-telemetry: warning: …` on stderr, ignoring any failure to do so.
pub(crate) fn warn(message: fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "codemachine-telemetry: warning: {message}");
}
