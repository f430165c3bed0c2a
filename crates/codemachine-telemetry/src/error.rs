//! The library's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in this library, each variant naming the object involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A level name that is not one of `trace`, `debug`, `info`, `warn`, `error`, `fatal` (or
    /// `silent` where a threshold is expected).
    #[error(
        "unknown log level {} (expected trace, debug, info, warn, error or fatal)",
        crate::terminal::shown_value(value)
    )]
    InvalidLevel {
        /// The text that was given.
        value: String,
    },
    /// A configuration value that cannot be used.
    #[error("invalid {param}: {reason}")]
    InvalidConfig {
        /// The setting, as the user wrote it (an environment variable or a key).
        param: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// An event name that is not an identifier (`[a-z0-9][a-z0-9._:-]{0,63}`), or that looks like
    /// a secret. Names cannot carry free text, arguments or paths.
    #[error("invalid event name: {reason}")]
    InvalidName {
        /// Why it was refused (the name itself is not repeated: it may be anything).
        reason: &'static str,
    },
    /// The telemetry folder has reached its size cap: the event was refused (and counted).
    #[error(
        "the telemetry folder is full ({used} of {cap} bytes in use, {needed} more needed): event refused"
    )]
    SpoolFull {
        /// Bytes in use when last measured.
        used: u64,
        /// Bytes the refused event needed.
        needed: u64,
        /// The cap.
        cap: u64,
    },
    /// An event that says nothing (a feature used zero times).
    #[error("invalid event: {reason}")]
    InvalidEvent {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A file or folder operation failed. (The operating system's error is part of the
    /// message, not a separate cause, so a report of the chain says it once.)
    #[error("{}: {}", path.display(), crate::terminal::describe_io(error))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
