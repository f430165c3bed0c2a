//! The logger's settings and how they are read from the environment.

use std::ffi::OsString;
use std::path::PathBuf;

use super::format::FormatChoice;
use super::level::{DEFAULT_THRESHOLD, Threshold};
use crate::env_vars;
use crate::redact::parse_key_list;

/// Everything a logger is configured with. `Default` is the documented defaults and never
/// reads the environment; [`LoggerConfig::from_env`] does.
#[derive(Clone, Debug, Default)]
pub struct LoggerConfig {
    /// Lowest level written. By default, `info`.
    pub threshold: Option<Threshold>,
    /// `LOG_PATH`: a file or FIFO instead of stdout. By default, stdout.
    pub path: Option<PathBuf>,
    /// JSON, pretty, or decided by the surroundings. By default, decided.
    pub format: FormatChoice,
    /// True when `CODEMACHINE_ENV` or `NODE_ENV` is `production`.
    pub production: bool,
    /// True when `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// Keys added to the redaction defaults (`TELEMETRY_REDACT_KEYS`).
    pub redact_keys: Vec<String>,
    /// Settings that could not be used, each said once in a `warn` record when the logger starts.
    pub problems: Vec<String>,
}

impl LoggerConfig {
    /// Reads `LOG_LEVEL`, `LOG_PATH`, `LOG_FORMAT`, `CODEMACHINE_ENV`, `NODE_ENV`, `NO_COLOR` and
    /// `TELEMETRY_REDACT_KEYS` from the process environment.
    pub fn from_env() -> Self {
        LoggerConfig::from_lookup(|name| std::env::var_os(name))
    }

    /// Like [`LoggerConfig::from_env`], reading variables through `get` (for tests and hosts
    /// with their own configuration layer).
    pub fn from_lookup(get: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |name: &str| {
            get(name)
                .map(|v| v.to_string_lossy().into_owned())
                .filter(|v| !v.trim().is_empty())
        };
        let mut config = LoggerConfig {
            path: get(env_vars::LOG_PATH)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            production: [env_vars::CODEMACHINE_ENV, env_vars::NODE_ENV]
                .iter()
                .any(|n| text(n).is_some_and(|v| v.trim().eq_ignore_ascii_case("production"))),
            no_color: text(env_vars::NO_COLOR).is_some(),
            redact_keys: text(env_vars::TELEMETRY_REDACT_KEYS)
                .map(|v| parse_key_list(&v))
                .unwrap_or_default(),
            ..LoggerConfig::default()
        };
        if let Some(level) = text(env_vars::LOG_LEVEL) {
            match level.parse::<Threshold>() {
                Ok(t) => config.threshold = Some(t),
                Err(e) => config
                    .problems
                    .push(format!("LOG_LEVEL ignored: {e}; using {DEFAULT_THRESHOLD}")),
            }
        }
        if let Some(format) = text(env_vars::LOG_FORMAT) {
            match format.parse() {
                Ok(f) => config.format = f,
                Err(e) => {
                    config.problems.push(format!("{e}; writing JSON"));
                    config.format = FormatChoice::Json;
                }
            }
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Level;

    fn from(vars: &[(&str, &str)]) -> LoggerConfig {
        LoggerConfig::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn reads_every_variable() {
        let c = from(&[
            ("LOG_LEVEL", "debug"),
            ("LOG_PATH", "/tmp/x.log"),
            ("LOG_FORMAT", "pretty"),
            ("NODE_ENV", "Production"),
            ("NO_COLOR", "1"),
            ("TELEMETRY_REDACT_KEYS", "sessionKey, pin"),
        ]);
        assert_eq!(c.threshold, Some(Threshold::At(Level::Debug)));
        assert_eq!(c.path, Some(PathBuf::from("/tmp/x.log")));
        assert_eq!(c.format, FormatChoice::Pretty);
        assert!(c.production && c.no_color);
        assert_eq!(c.redact_keys, ["sessionKey", "pin"]);
        assert!(c.problems.is_empty());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = from(&[("LOG_PATH", ""), ("NO_COLOR", ""), ("LOG_LEVEL", " ")]);
        assert_eq!(c.path, None);
        assert!(!c.no_color);
        assert_eq!(c.threshold, None);
    }

    #[test]
    fn unusable_values_are_reported_and_fall_back() {
        let c = from(&[("LOG_LEVEL", "loud"), ("LOG_FORMAT", "fancy")]);
        assert_eq!(c.threshold, None);
        assert_eq!(c.format, FormatChoice::Json);
        assert_eq!(c.problems.len(), 2);
        assert!(c.problems[0].contains("loud"));
        assert!(c.problems[1].contains("fancy"));
    }
}
