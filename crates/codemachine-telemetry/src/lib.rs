//! Telemetry for the `codemachine` command-line tool: a structured logger whose redaction cannot
//! be turned off, local command metrics, and their forwarding to a collector.
//!
//! # Settings
//!
//! Everything configurable is resolved once, by [`Settings`]: command-line flags, the
//! environment, the config file (`~/.codemachine/telemetry.toml`) and defaults, each value with
//! its source. The logger, metrics and every command take the same [`Settings`];
//! [`Logger::from_env`] and [`Metrics::from_env`] resolve them for you, so an embedder gets the
//! config file's redaction keys without doing anything.
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
//! See [`env_vars`] for every variable read.
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

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
mod diag;
pub mod env_vars;
mod error;
pub mod failpoint;
#[cfg(feature = "forward")]
pub mod forward;
pub mod log;
pub mod metrics;
pub mod redact;
pub mod report;
#[cfg(feature = "forward")]
pub mod sender;
pub mod settings;
pub mod status;
#[allow(unsafe_code)] // the one module of OS calls; everything else is safe code
mod sys;
pub mod terminal;
pub mod time;

pub use error::{Error, Result};
#[cfg(feature = "tracing")]
pub use log::TracingLayer;
pub use log::{
    DEFAULT_SERVICE, Destination, ErrorRecord, Field, FormatChoice, Level, Logger, LoggerBuilder,
    LoggerConfig, MemoryWriter, Threshold, Value, install_panic_hook, request_reopen,
};
pub use metrics::{CommandTimer, EventKind, Metrics, NewEvent};
pub use redact::{DEFAULT_REDACT_KEYS, REDACTED, Redactor};
pub use settings::{ColorChoice, Flags, Setting, Settings, Source};

/// The host name pino puts in every record; empty when it cannot be read.
pub fn host_name() -> String {
    sys::hostname().unwrap_or_default()
}

/// The README's examples, compiled and run as documentation tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
