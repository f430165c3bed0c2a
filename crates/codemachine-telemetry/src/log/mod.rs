//! The structured logger: pino-compatible JSON lines with redaction that cannot be turned off.
//!
//! A [`Logger`] is cheap to clone and to share between threads. Each call encodes the record in
//! a per-thread buffer (redacting as it goes) and hands it to the destination in one `write`
//! before returning; there is no background thread and nothing to flush.

mod config;
mod error_record;
mod format;
pub(crate) mod json;
mod memory;
mod panic;
#[cfg(feature = "pretty")]
pub mod pretty;
mod record;
mod sighup;
mod sink;
#[cfg(feature = "tracing")]
mod tracing_layer;
mod value;

use std::fmt;
use std::sync::Arc;

pub use config::LoggerConfig;
pub use error_record::ErrorRecord;
pub use format::FormatChoice;
pub use level::{DEFAULT_THRESHOLD, Level, Threshold};
pub use memory::MemoryWriter;
pub use panic::install_panic_hook;
pub use sighup::request_reopen;
pub use sink::{Destination, describe_destination};
#[cfg(feature = "tracing")]
pub use tracing_layer::TracingLayer;
pub use value::{Field, Value};

use format::{Rendering, Surroundings};
use json::write_str;
use record::{Context, Record};
use sink::Sink;

use crate::redact::Redactor;
use crate::settings::Settings;

mod level;

/// The service name records carry unless the logger's creator names another.
pub const DEFAULT_SERVICE: &str = "codemachine";

/// A structured logger. Clones share the destination; [`Logger::with_context`] makes children.
#[derive(Clone)]
pub struct Logger {
    shared: Arc<Shared>,
    context: Arc<Context>,
}

struct Shared {
    threshold: Threshold,
    redactor: Redactor,
    sink: Sink,
    rendering: Rendering,
    /// `,"pid":…,"hostname":…,"service":…`, encoded once.
    base: Vec<u8>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("threshold", &self.shared.threshold)
            .field("destination", &self.shared.sink.describe())
            .field("rendering", &self.shared.rendering)
            .field("redactor", &self.shared.redactor)
            .finish_non_exhaustive()
    }
}

macro_rules! level_methods {
    ($($level:ident: $plain:ident, $with:ident;)*) => {$(
        #[doc = concat!("Logs `msg` at `", stringify!($plain), "`.")]
        pub fn $plain(&self, msg: &str) {
            self.log(Level::$level, &[], msg);
        }

        #[doc = concat!("Logs `msg` with `fields` at `", stringify!($plain), "`.")]
        pub fn $with(&self, fields: &[Field<'_>], msg: &str) {
            self.log(Level::$level, fields, msg);
        }
    )*};
}

impl Logger {
    /// A logger configured from every layer ([`Settings::from_env`]: the environment, the
    /// config file's redaction keys, defaults), with records carrying `service`.
    pub fn from_env(service: &str) -> Logger {
        Logger::from_settings(&Settings::from_env(), service)
    }

    /// A logger configured from resolved `settings`, with records carrying `service`.
    pub fn from_settings(settings: &Settings, service: &str) -> Logger {
        LoggerBuilder::new()
            .config(settings.logger_config())
            .service(service)
            .build()
    }

    /// A builder starting from the defaults (stdout, `info`, automatic format, default keys).
    pub fn builder() -> LoggerBuilder {
        LoggerBuilder::new()
    }

    level_methods! {
        Trace: trace, trace_with;
        Debug: debug, debug_with;
        Info: info, info_with;
        Warn: warn, warn_with;
        Error: error, error_with;
        Fatal: fatal, fatal_with;
    }

    /// Logs one record: `fields` after the context, `msg` last.
    pub fn log(&self, level: Level, fields: &[Field<'_>], msg: &str) {
        self.emit(&Record {
            level,
            fields,
            err: None,
            msg: Some(msg),
        });
    }

    /// Logs a record without a message (no `msg` key), as pino's `logger.info({…})` does.
    pub fn log_fields(&self, level: Level, fields: &[Field<'_>]) {
        self.emit(&Record {
            level,
            fields,
            err: None,
            msg: None,
        });
    }

    /// Logs an error under `err`; `msg` defaults to the error's message.
    pub fn log_error(
        &self,
        level: Level,
        err: &ErrorRecord,
        fields: &[Field<'_>],
        msg: Option<&str>,
    ) {
        self.emit(&Record {
            level,
            fields,
            err: Some(err),
            msg,
        });
    }

    /// True when a record at `level` would be written (to skip building costly fields).
    pub fn enabled(&self, level: Level) -> bool {
        self.shared.threshold.allows(level)
    }

    /// A child logger whose records carry `fields` too (merged into this logger's context, later
    /// keys winning). The fields are redacted and encoded once, here.
    pub fn with_context(&self, fields: &[Field<'_>]) -> Logger {
        Logger {
            shared: Arc::clone(&self.shared),
            context: Arc::new(self.context.merged(fields, &self.shared.redactor)),
        }
    }

    /// The redactor every record goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.shared.redactor
    }

    /// Where records go now: `stdout`, the `LOG_PATH`, or `stdout (fallback from …)`.
    pub fn destination(&self) -> String {
        self.shared.sink.describe()
    }

    /// The first error that kept a record from reaching any destination (the `LOG_PATH` and
    /// then stdout both failed: a full disk, a closed pipe) since the last call; `None` when every
    /// record was written. The logger itself never fails its caller: a program that must know
    /// (a `log` command whose only job is the record) asks here.
    pub fn take_write_error(&self) -> Option<std::io::Error> {
        self.shared.sink.take_lost()
    }

    /// The lowest level written.
    pub fn threshold(&self) -> Threshold {
        self.shared.threshold
    }

    fn emit(&self, record: &Record<'_>) {
        if !self.enabled(record.level) {
            return;
        }
        let shared = &*self.shared;
        record::with_buffer(|buf| {
            let time = crate::time::now_millis();
            record::encode(
                buf,
                &shared.base,
                &self.context,
                &shared.redactor,
                time,
                record,
            );
            shared.write(buf);
        });
    }
}

impl Shared {
    fn write(&self, line: &[u8]) {
        match self.rendering {
            Rendering::Json => self.sink.write(line),
            #[cfg(feature = "pretty")]
            Rendering::Pretty { color } => {
                let text = std::str::from_utf8(line).ok();
                match text.and_then(|t| pretty::render_line(t, color)) {
                    Some(pretty) => self.sink.write(pretty.as_bytes()),
                    None => self.sink.write(line),
                }
            }
            #[cfg(not(feature = "pretty"))]
            Rendering::Pretty { .. } => self.sink.write(line),
        }
    }
}

/// Builds a [`Logger`]; every setting has a default, and nothing is read from the environment
/// (give it [`Settings::logger_config`] for the resolved settings).
#[must_use]
pub struct LoggerBuilder {
    config: LoggerConfig,
    service: String,
    destination: Option<Destination>,
    extra_keys: Vec<String>,
}

impl LoggerBuilder {
    fn new() -> Self {
        LoggerBuilder {
            config: LoggerConfig::default(),
            service: DEFAULT_SERVICE.to_owned(),
            destination: None,
            extra_keys: Vec::new(),
        }
    }

    /// Takes every setting from `config`. By default, [`LoggerConfig::default`].
    pub fn config(mut self, config: LoggerConfig) -> Self {
        self.config = config;
        self
    }

    /// The `service` of every record. By default, `codemachine`.
    pub fn service(mut self, service: &str) -> Self {
        service.clone_into(&mut self.service);
        self
    }

    /// The lowest level written. By default, `info`.
    pub fn threshold(mut self, threshold: Threshold) -> Self {
        self.config.threshold = Some(threshold);
        self
    }

    /// Where records go, overriding the configured path. By default, the configuration's
    /// `LOG_PATH`, or stdout.
    pub fn destination(mut self, destination: Destination) -> Self {
        self.destination = Some(destination);
        self
    }

    /// JSON or pretty. By default, decided by the surroundings.
    pub fn format(mut self, format: FormatChoice) -> Self {
        self.config.format = format;
        self
    }

    /// Keys to redact on top of the defaults (which always stay). By default, none.
    pub fn redact_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Opens the destination (falling back to stdout if it cannot) and returns the logger.
    /// Settings that could not be used are reported in `warn` records.
    pub fn build(self) -> Logger {
        let LoggerBuilder {
            config,
            service,
            destination,
            extra_keys,
        } = self;
        let mut redactor = Redactor::new();
        redactor.add_keys(config.redact_keys.iter().chain(&extra_keys));
        let destination = destination.unwrap_or_else(|| match &config.path {
            Some(path) => Destination::Path(path.clone()),
            None => Destination::Stdout,
        });
        let sink = Sink::open(destination);
        let around = Surroundings {
            production: config.production,
            terminal: sink.is_terminal(),
            color: config.color,
        };
        let (rendering, pretty_problem) = format::resolve(config.format, &around);
        let logger = Logger {
            shared: Arc::new(Shared {
                threshold: config.threshold.unwrap_or(DEFAULT_THRESHOLD),
                redactor,
                sink,
                rendering,
                base: encode_base(&service),
            }),
            context: Arc::new(Context::default()),
        };
        for problem in config.problems.iter().chain(&pretty_problem) {
            logger.warn(problem);
        }
        logger
    }
}

fn encode_base(service: &str) -> Vec<u8> {
    let mut base = b",\"pid\":".to_vec();
    json::write_u64(&mut base, u64::from(std::process::id()));
    base.extend_from_slice(b",\"hostname\":");
    write_str(&mut base, &crate::host_name());
    base.extend_from_slice(b",\"service\":");
    write_str(&mut base, service);
    base
}

#[cfg(test)]
mod tests;
