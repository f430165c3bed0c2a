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
    /// The config file cannot be read as TOML or holds an unknown key or a wrong type.
    #[error("{}:{line}: {message}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// The line (from 1) the problem is on.
        line: usize,
        /// What is wrong there.
        message: String,
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
    /// Telemetry is disabled: nothing was recorded.
    #[error("telemetry is disabled")]
    Disabled,
    /// A file or folder operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
