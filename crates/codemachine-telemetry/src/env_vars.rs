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
/// id, a link, or a true value). `false`, `0`, `no`, `off` and empty mean not documented. Until the
/// list extension is documented, forwarding is withheld.
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
/// The login name, which `telemetry audit` looks for in data (personal data).
pub const USER: &str = "USER";
/// Read like [`USER`] when that is not set.
pub const LOGNAME: &str = "LOGNAME";
/// The user's home folder, under which `.codemachine` lives by default.
pub const HOME: &str = "HOME";
/// Cap on the telemetry folder's size, in bytes or with a unit (`64MiB`). Default 64 MiB.
pub const TELEMETRY_MAX_SPOOL_BYTES: &str = "TELEMETRY_MAX_SPOOL_BYTES";
/// How many days a salt for the anonymous id lives before it is replaced. Default 30.
pub const TELEMETRY_SALT_ROTATION_DAYS: &str = "TELEMETRY_SALT_ROTATION_DAYS";

// Forwarding (SPEC §3). The settings resolver reads these; the `forward` module only receives
// their values.

/// The collector: `https://host[:port][/path]` (plain `http://` only to `127.0.0.0/8`, `[::1]`,
/// `localhost`). Unset: events stay local and no network call is ever made.
pub const TELEMETRY_ENDPOINT: &str = "TELEMETRY_ENDPOINT";
/// `otlp` (OTLP/HTTP protobuf, default), `otlp-json` or `ndjson`.
pub const TELEMETRY_PROTOCOL: &str = "TELEMETRY_PROTOCOL";
/// Extra request headers, `name=value,name2=value2`, percent-decoded; shown masked everywhere.
pub const TELEMETRY_HEADERS: &str = "TELEMETRY_HEADERS";
/// Timeout of one request in milliseconds, 1 to 600000. Default 10000.
pub const TELEMETRY_TIMEOUT_MS: &str = "TELEMETRY_TIMEOUT_MS";
/// A PEM file of CA certificates trusted in addition to Mozilla's roots.
pub const TELEMETRY_CA_FILE: &str = "TELEMETRY_CA_FILE";
/// Request body compression: `gzip` (default) or `none`.
pub const TELEMETRY_COMPRESSION: &str = "TELEMETRY_COMPRESSION";
/// The most bytes of event lines in one batch (`1MiB`, `512KiB`, or bytes). Default 1 MiB.
pub const TELEMETRY_BATCH_MAX_BYTES: &str = "TELEMETRY_BATCH_MAX_BYTES";
/// The most events in one batch. Default 5000.
pub const TELEMETRY_BATCH_MAX_EVENTS: &str = "TELEMETRY_BATCH_MAX_EVENTS";
/// The OTLP exporter's endpoint. Never turns forwarding on; its transport settings below apply
/// only when it names the same origin as [`TELEMETRY_ENDPOINT`].
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Logs-specific form of [`OTEL_EXPORTER_OTLP_ENDPOINT`]; wins over it.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// Fallback for [`TELEMETRY_HEADERS`] (same origin only).
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Logs-specific form of [`OTEL_EXPORTER_OTLP_HEADERS`]; wins over it.
pub const OTEL_EXPORTER_OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";
/// Fallback for [`TELEMETRY_TIMEOUT_MS`], in milliseconds (same origin only).
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// Logs-specific form of [`OTEL_EXPORTER_OTLP_TIMEOUT`]; wins over it.
pub const OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// Fallback for [`TELEMETRY_CA_FILE`] (same origin only).
pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// Logs-specific form of [`OTEL_EXPORTER_OTLP_CERTIFICATE`]; wins over it.
pub const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// Fallback for [`TELEMETRY_COMPRESSION`] (same origin only).
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// Logs-specific form of [`OTEL_EXPORTER_OTLP_COMPRESSION`]; wins over it.
pub const OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
/// Proxy for HTTPS requests (`http://[user:pass@]host:port`); credentials shown masked.
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Hosts that bypass the proxy (comma-separated, curl's rules); a loopback endpoint always does.
pub const NO_PROXY: &str = "NO_PROXY";
/// Lower-case form of [`HTTPS_PROXY`], as curl reads it; the upper-case one wins.
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// Lower-case form of [`NO_PROXY`], as curl reads it; the upper-case one wins.
pub const NO_PROXY_LOWER: &str = "no_proxy";

/// One more machine policy file (besides `/etc/codemachine/policy.toml`), which may be owned by
/// the user running the command; it can only restrict further (see [`crate::settings::policy`]).
pub const CODEMACHINE_POLICY_FILE: &str = "CODEMACHINE_POLICY_FILE";
/// A testing hook: the life-cycle step at which this process kills itself with `SIGKILL`
/// (see [`crate::failpoint`]). Never set it outside tests.
pub const CODEMACHINE_FAILPOINT: &str = "CODEMACHINE_FAILPOINT";

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
    USER,
    LOGNAME,
    TELEMETRY_MAX_SPOOL_BYTES,
    TELEMETRY_SALT_ROTATION_DAYS,
    TELEMETRY_ENDPOINT,
    TELEMETRY_PROTOCOL,
    TELEMETRY_HEADERS,
    TELEMETRY_TIMEOUT_MS,
    TELEMETRY_CA_FILE,
    TELEMETRY_COMPRESSION,
    TELEMETRY_BATCH_MAX_BYTES,
    TELEMETRY_BATCH_MAX_EVENTS,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    OTEL_EXPORTER_OTLP_CERTIFICATE,
    OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
    OTEL_EXPORTER_OTLP_COMPRESSION,
    OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
    HTTPS_PROXY,
    HTTPS_PROXY_LOWER,
    NO_PROXY,
    NO_PROXY_LOWER,
    CODEMACHINE_POLICY_FILE,
    CODEMACHINE_FAILPOINT,
];
