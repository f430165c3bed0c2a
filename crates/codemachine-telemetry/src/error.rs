//! The library's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in this library, each variant naming the object involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A level name that is not one of `trace`, `debug`, `info`, `warn`, `error`, `fatal` (or
    /// `silent` where a threshold is expected).
    #[error("unknown log level {value:?} (expected trace, debug, info, warn, error or fatal)")]
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
    /// A file or folder operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
