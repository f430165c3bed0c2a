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
/// Opt-in switch for local metrics: `1`, `true`, `yes`, `on` enable; unset, empty, `0`, `false`,
/// `no`, `off` disable; anything else disables with one warning. Environment only.
pub const TELEMETRY_ENABLED: &str = "TELEMETRY_ENABLED";
/// Truthy (as above), it disables telemetry whatever else is set (<https://consoledonottrack.com>).
pub const DO_NOT_TRACK: &str = "DO_NOT_TRACK";
/// Replaces `~/.codemachine`: the telemetry folder is `$CODEMACHINE_HOME/telemetry` and the config
/// file `$CODEMACHINE_HOME/telemetry.toml`.
pub const CODEMACHINE_HOME: &str = "CODEMACHINE_HOME";
/// The user's home folder, under which `.codemachine` lives by default.
pub const HOME: &str = "HOME";
/// Cap on the telemetry folder's size, in bytes or with a unit (`64MiB`). Default 64 MiB.
pub const TELEMETRY_MAX_SPOOL_BYTES: &str = "TELEMETRY_MAX_SPOOL_BYTES";
/// How many days a salt for the anonymous id lives before it is replaced. Default 30.
pub const TELEMETRY_SALT_ROTATION_DAYS: &str = "TELEMETRY_SALT_ROTATION_DAYS";
