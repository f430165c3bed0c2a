//! Telemetry for the `codemachine` command-line tool: a structured logger whose redaction cannot
//! be turned off, local command metrics, and their forwarding to a collector.
//!
//! # The logger
//!
//! ```
//! use codemachine_telemetry::{Destination, Logger, fields};
//!
//! let log = Logger::builder().destination(Destination::Stdout).build();
//! let run = log.with_context(fields! { "workflow" => "spec-to-code" });
//! run.info_with(fields! { "step" => 3, "apiKey" => "sk-live-abc" }, "step completed");
//! // {"level":30,"time":…,"pid":…,"hostname":…,"service":"codemachine","workflow":"spec-to-code","step":3,"msg":"step completed"}
//! ```
//!
//! Records follow pino's layout, so `pino-pretty`, `jq` and log shippers read them unchanged.
//! Configuration from the environment (`LOG_LEVEL`, `LOG_PATH`, `LOG_FORMAT`, …) is read only by
//! [`Logger::from_env`] / [`LoggerConfig::from_env`]; see [`env_vars`] for every variable.
//! `Logger::from_env` takes redaction keys from `TELEMETRY_REDACT_KEYS` only; a host that also
//! honours the config file passes `TelemetryConfig::from_env()?.redact_keys.value` to
//! [`LoggerBuilder::redact_keys`], as the `codemachine` binary does.
//!
//! # Local metrics
//!
//! ```
//! use codemachine_telemetry::Metrics;
//!
//! let metrics = Metrics::from_env("1.0.0"); // off unless TELEMETRY_ENABLED is truthy
//! let timer = metrics.time_command("build"); // recorded when dropped
//! let _ = metrics.record_feature("build.cache-hit", 3);
//! drop(timer);
//! ```
//!
//! Events are plain NDJSON under `~/.codemachine/telemetry` (see [`metrics::spool`] for the
//! layout); disabled, nothing there is created, opened or read.
//!
//! # Forwarding
//!
//! With the `forward` feature (on by default), [`forward`] encodes buffered events for a
//! collector (OTLP/HTTP protobuf or JSON, or NDJSON), sends a batch over HTTPS and says what
//! became of it; see `docs/forwarding.md`.

pub mod config;
mod diag;
pub mod env_vars;
mod error;
#[cfg(feature = "forward")]
pub mod forward;
pub mod log;
pub mod metrics;
pub mod redact;
pub mod time;

pub use config::{Setting, Source, TelemetryConfig};
pub use error::{Error, Result};
#[cfg(feature = "tracing")]
pub use log::TracingLayer;
pub use log::{
    DEFAULT_SERVICE, Destination, ErrorRecord, Field, FormatChoice, Level, Logger, LoggerBuilder,
    LoggerConfig, MemoryWriter, Threshold, Value, install_panic_hook, request_reopen,
};
pub use metrics::{CommandTimer, EventKind, Metrics, Switch};
pub use redact::{DEFAULT_REDACT_KEYS, REDACTED, Redactor};

/// The README's examples, compiled and run as documentation tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
