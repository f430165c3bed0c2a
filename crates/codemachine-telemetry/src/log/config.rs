//! The logger's settings, as the builder takes them.
//!
//! Nothing here reads the environment: [`crate::Settings::logger_config`] resolves these values
//! from every layer (flag, environment, config file, default), and [`Default`] is the documented
//! defaults.

use std::path::PathBuf;

use super::format::FormatChoice;
use super::level::Threshold;
use crate::settings::ColorChoice;

/// Everything a logger is configured with.
#[derive(Clone, Debug, Default)]
pub struct LoggerConfig {
    /// Lowest level written. By default, `info`.
    pub threshold: Option<Threshold>,
    /// A file or FIFO instead of stdout (`LOG_PATH`). By default, stdout.
    pub path: Option<PathBuf>,
    /// JSON, pretty, or decided by the surroundings. By default, decided.
    pub format: FormatChoice,
    /// True in production (`CODEMACHINE_ENV` or `NODE_ENV` is `production`): JSON even on a
    /// terminal. By default, false.
    pub production: bool,
    /// When pretty output is painted. By default, on a terminal only.
    pub color: ColorChoice,
    /// Keys added to the redaction defaults. By default, none.
    pub redact_keys: Vec<String>,
    /// Settings that could not be used, each said once in a `warn` record when the logger
    /// starts. By default, none.
    pub problems: Vec<String>,
}
