//! Every environment variable the library reads, in one place.
//!
//! Reading the environment is always explicit (`…::from_env()`, which captures an
//! [`Environment`](crate::settings::Environment) snapshot of the variables in [`ALL`]); `Default`
//! never reads it, and nothing outside the snapshot does.

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
/// Present and not empty (a blank counts), it turns colour off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Comma-separated keys added to the default redaction list.
pub const TELEMETRY_REDACT_KEYS: &str = "TELEMETRY_REDACT_KEYS";
/// A reference to where the extension of the redaction list is documented (a compliance ticket
/// id, a link). Until the list extension is documented, forwarding is withheld.
pub const TELEMETRY_REDACT_DOCUMENTED: &str = "TELEMETRY_REDACT_DOCUMENTED";
/// Opt-in switch for local metrics: `1`, `true`, `yes`, `on` enable; `0`, `false`, `no`, `off`
/// disable; unset or empty defers to the stored consent (off by default); anything else disables
/// with one warning.
pub const TELEMETRY_ENABLED: &str = "TELEMETRY_ENABLED";
/// Set to anything but empty, `0`, `false`, `no` or `off`, it disables telemetry whatever else is
/// set (<https://consoledonottrack.com>): an opt-out signal is honoured even when malformed.
pub const DO_NOT_TRACK: &str = "DO_NOT_TRACK";
/// Replaces `~/.codemachine`: the telemetry folder is `$CODEMACHINE_HOME/telemetry` and the config
/// file `$CODEMACHINE_HOME/telemetry.toml`.
pub const CODEMACHINE_HOME: &str = "CODEMACHINE_HOME";
/// `dumb` turns colour off, as terminals without escape sequences need.
pub const TERM: &str = "TERM";
/// The user's home folder, under which `.codemachine` lives by default.
pub const HOME: &str = "HOME";
/// Cap on the telemetry folder's size, in bytes or with a unit (`64MiB`). Default 64 MiB.
pub const TELEMETRY_MAX_SPOOL_BYTES: &str = "TELEMETRY_MAX_SPOOL_BYTES";
/// How many days a salt for the anonymous id lives before it is replaced. Default 30.
pub const TELEMETRY_SALT_ROTATION_DAYS: &str = "TELEMETRY_SALT_ROTATION_DAYS";

/// Every variable above: what [`Environment::capture`](crate::settings::Environment::capture)
/// reads.
pub const ALL: &[&str] = &[
    LOG_LEVEL,
    LOG_PATH,
    LOG_FORMAT,
    CODEMACHINE_ENV,
    NODE_ENV,
    NO_COLOR,
    TERM,
    TELEMETRY_REDACT_KEYS,
    TELEMETRY_REDACT_DOCUMENTED,
    TELEMETRY_ENABLED,
    DO_NOT_TRACK,
    CODEMACHINE_HOME,
    HOME,
    TELEMETRY_MAX_SPOOL_BYTES,
    TELEMETRY_SALT_ROTATION_DAYS,
];
