//! Every environment variable the library reads, in one place.
//!
//! Reading the environment is always explicit (`…::from_env()`); `Default` never reads it.

/// Minimum level written: `trace`, `debug`, `info` (default), `warn`, `error`, `fatal` or `silent`.
pub const LOG_LEVEL: &str = "LOG_LEVEL";
/// A file (appended, created `0600`) or a FIFO that receives the records instead of stdout.
pub const LOG_PATH: &str = "LOG_PATH";
/// `json` or `pretty`; unset means pretty on a terminal outside production, JSON otherwise.
pub const LOG_FORMAT: &str = "LOG_FORMAT";
/// Equal to `production`, it keeps the output in JSON even on a terminal.
pub const CODEMACHINE_ENV: &str = "CODEMACHINE_ENV";
/// Read like [`CODEMACHINE_ENV`], for users coming from Node.js tooling.
pub const NODE_ENV: &str = "NODE_ENV";
/// Present and not empty, it turns colour off in pretty output (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Comma-separated keys added to the default redaction list.
pub const TELEMETRY_REDACT_KEYS: &str = "TELEMETRY_REDACT_KEYS";
