//! Telemetry settings: where each value comes from, resolved in one place.
//!
//! Precedence, highest first: command-line flag, environment, config file
//! (`$CODEMACHINE_HOME/telemetry.toml`), default. The switch itself (`TELEMETRY_ENABLED`, `DO_NOT_TRACK`) is environment-only and
//! lives in [`Switch`](crate::metrics::Switch). Every setting remembers its [`Source`] so that
//! `telemetry status` can say why it has the value it has.
//!
//! The file (every key optional; unknown keys are an error, so a typo is caught):
//!
//! ```toml
//! max_spool_bytes = "64MiB"      # or a number of bytes
//! salt_rotation_days = 30
//!
//! [redact]
//! keys = ["sessionKey"]          # added to the defaults
//! documented = true              # the override is documented (required before forwarding)
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env_vars;
use crate::error::{Error, Result};
use crate::redact::parse_key_list;

/// The telemetry folder's size cap: 64 MiB holds about 250 000 events, months of heavy use.
pub const DEFAULT_MAX_SPOOL_BYTES: u64 = 64 * 1024 * 1024;
/// How long a salt for the anonymous id lives: long enough for monthly usage figures, short
/// enough that ids cannot follow a machine for long.
pub const DEFAULT_SALT_ROTATION_DAYS: u32 = 30;
/// The config file's name inside `$CODEMACHINE_HOME`.
pub const CONFIG_FILE_NAME: &str = "telemetry.toml";
/// The telemetry folder's name inside `$CODEMACHINE_HOME`.
pub const TELEMETRY_DIR_NAME: &str = "telemetry";

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The config file.
    ConfigFile,
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ConfigFile => f.write_str("config file"),
            Source::Env(name) => write!(f, "environment ({name})"),
            Source::Flag(name) => write!(f, "flag ({name})"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    /// The effective value.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Setting<T> {
    fn new(value: T, source: Source) -> Self {
        Setting { value, source }
    }
}

/// The resolved telemetry settings.
#[derive(Clone, Debug)]
pub struct TelemetryConfig {
    /// `$CODEMACHINE_HOME`, or `~/.codemachine`.
    pub home: Setting<PathBuf>,
    /// Cap on the telemetry folder's size.
    pub max_spool_bytes: Setting<u64>,
    /// Days a salt lives.
    pub salt_rotation_days: Setting<u32>,
    /// Keys added to the redaction defaults: `TELEMETRY_REDACT_KEYS` and the file's
    /// `redact.keys` together (a redaction list is only ever extended).
    pub redact_keys: Setting<Vec<String>>,
    /// Whether the redaction override is documented.
    pub redact_documented: Setting<bool>,
}

impl TelemetryConfig {
    /// The telemetry folder (`<home>/telemetry`).
    pub fn dir(&self) -> PathBuf {
        self.home.value.join(TELEMETRY_DIR_NAME)
    }

    /// The config file (`<home>/telemetry.toml`), whether or not it exists.
    pub fn file(&self) -> PathBuf {
        self.home.value.join(CONFIG_FILE_NAME)
    }

    /// Resolves every setting from the process environment and the config file.
    pub fn from_env() -> Result<Self> {
        TelemetryConfig::resolve(|name| std::env::var(name).ok())
    }

    /// Resolves every setting, reading variables through `get` and the config file from disk.
    /// Fails when there is no home folder (neither `CODEMACHINE_HOME` nor `HOME`), when the file
    /// cannot be parsed (the error names the file and line), or when a value is invalid.
    pub fn resolve(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let home = resolve_home(&get)?;
        let file = read_file(&home.value.join(CONFIG_FILE_NAME))?;
        let max_spool_bytes = layered(
            get(env_vars::TELEMETRY_MAX_SPOOL_BYTES),
            env_vars::TELEMETRY_MAX_SPOOL_BYTES,
            file.max_spool_bytes.map(FileSize::bytes).transpose()?,
            DEFAULT_MAX_SPOOL_BYTES,
            parse_size,
        )?;
        let salt_rotation_days = layered(
            get(env_vars::TELEMETRY_SALT_ROTATION_DAYS),
            env_vars::TELEMETRY_SALT_ROTATION_DAYS,
            file.salt_rotation_days,
            DEFAULT_SALT_ROTATION_DAYS,
            |v| parse_days(env_vars::TELEMETRY_SALT_ROTATION_DAYS, v),
        )?;
        let redact_keys = merged_keys(get(env_vars::TELEMETRY_REDACT_KEYS), file.redact.keys);
        let redact_documented = match file.redact.documented {
            Some(d) => Setting::new(d, Source::ConfigFile),
            None => Setting::new(false, Source::Default),
        };
        Ok(TelemetryConfig {
            home,
            max_spool_bytes,
            salt_rotation_days,
            redact_keys,
            redact_documented,
        })
    }
}

fn resolve_home(get: &impl Fn(&str) -> Option<String>) -> Result<Setting<PathBuf>> {
    if let Some(home) = get(env_vars::CODEMACHINE_HOME) {
        return Ok(Setting::new(
            PathBuf::from(home),
            Source::Env(env_vars::CODEMACHINE_HOME),
        ));
    }
    match get(env_vars::HOME) {
        Some(home) => Ok(Setting::new(
            Path::new(&home).join(".codemachine"),
            Source::Default,
        )),
        None => Err(Error::InvalidConfig {
            param: env_vars::HOME,
            reason: "neither CODEMACHINE_HOME nor HOME is set, so there is no telemetry folder"
                .into(),
        }),
    }
}

/// Redaction keys are only ever added to: the environment's and the file's lists both apply
/// (the setting's source names the environment when it contributes).
fn merged_keys(env: Option<String>, file: Option<Vec<String>>) -> Setting<Vec<String>> {
    let source = match (&env, &file) {
        (Some(_), _) => Source::Env(env_vars::TELEMETRY_REDACT_KEYS),
        (None, Some(_)) => Source::ConfigFile,
        (None, None) => Source::Default,
    };
    let mut keys = env.map(|v| parse_key_list(&v)).unwrap_or_default();
    for key in file.unwrap_or_default() {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Setting::new(keys, source)
}

/// Environment over file over default.
fn layered<T>(
    env: Option<String>,
    env_name: &'static str,
    file: Option<T>,
    default: T,
    parse: impl Fn(&str) -> Result<T>,
) -> Result<Setting<T>> {
    if let Some(text) = env {
        return Ok(Setting::new(parse(&text)?, Source::Env(env_name)));
    }
    Ok(match file {
        Some(value) => Setting::new(value, Source::ConfigFile),
        None => Setting::new(default, Source::Default),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    max_spool_bytes: Option<FileSize>,
    salt_rotation_days: Option<u32>,
    #[serde(default)]
    redact: FileRedact,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRedact {
    keys: Option<Vec<String>>,
    documented: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileSize {
    Bytes(u64),
    Text(String),
}

impl FileSize {
    fn bytes(self) -> Result<u64> {
        match self {
            FileSize::Bytes(n) => Ok(n),
            FileSize::Text(t) => parse_size(&t),
        }
    }
}

/// The config file's settings; an absent file is an empty one.
fn read_file(path: &Path) -> Result<FileConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(&text, span.start));
        Error::ConfigFile {
            path: path.to_owned(),
            line,
            message: e.message().to_owned(),
        }
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `67108864`, `64MiB`, `512 KiB`, `1GiB` (also `KB`/`MB`/`GB`, read as powers of 1024).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits_end);
    let invalid = || Error::InvalidConfig {
        param: env_vars::TELEMETRY_MAX_SPOOL_BYTES,
        reason: format!("{text:?} is not a size (examples: 67108864, 64MiB, 512KiB)"),
    };
    let n: u64 = number.parse().map_err(|_| invalid())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(invalid()),
    };
    n.checked_mul(factor).ok_or_else(invalid)
}

fn parse_days(param: &'static str, text: &str) -> Result<u32> {
    match text.trim().parse::<u32>() {
        Ok(days) if days > 0 => Ok(days),
        _ => Err(Error::InvalidConfig {
            param,
            reason: format!("{text:?} is not a whole number of days above 0"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(home: &Path, vars: &[(&str, &str)]) -> Result<TelemetryConfig> {
        let home = home.to_string_lossy().into_owned();
        TelemetryConfig::resolve(|name| {
            if name == env_vars::CODEMACHINE_HOME {
                return Some(home.clone());
            }
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        let dir = tempfile::tempdir().unwrap();
        let c = resolve(dir.path(), &[]).unwrap();
        assert_eq!(
            c.max_spool_bytes,
            Setting::new(DEFAULT_MAX_SPOOL_BYTES, Source::Default)
        );
        assert_eq!(c.salt_rotation_days.value, 30);
        assert_eq!(c.dir(), dir.path().join("telemetry"));
        assert_eq!(c.home.source, Source::Env("CODEMACHINE_HOME"));
    }

    #[test]
    fn environment_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "max_spool_bytes = \"1MiB\"\nsalt_rotation_days = 7\n[redact]\nkeys = [\"pin\"]\ndocumented = true\n",
        )
        .unwrap();
        let c = resolve(dir.path(), &[("TELEMETRY_SALT_ROTATION_DAYS", "3")]).unwrap();
        assert_eq!(c.max_spool_bytes, Setting::new(1 << 20, Source::ConfigFile));
        assert_eq!(
            c.salt_rotation_days,
            Setting::new(3, Source::Env("TELEMETRY_SALT_ROTATION_DAYS"))
        );
        assert_eq!(
            c.redact_keys,
            Setting::new(vec!["pin".to_owned()], Source::ConfigFile)
        );
        assert!(c.redact_documented.value);
    }

    #[test]
    fn a_broken_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(&path, "salt_rotation_days = 7\nmax_spool_byte = 3\n").unwrap();
        let err = resolve(dir.path(), &[]).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:2:", path.display())), "{err}");
        std::fs::write(&path, "salt_rotation_days = [\n").unwrap();
        assert!(
            resolve(dir.path(), &[])
                .unwrap_err()
                .to_string()
                .contains(":1:")
        );
    }

    #[test]
    fn sizes_and_days_are_validated() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size(" 512 kib ").unwrap(), 512 << 10);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(
            parse_size("lots").is_err() && parse_size("5TB").is_err() && parse_size("").is_err()
        );
        assert!(parse_days("X", "0").is_err() && parse_days("X", "-1").is_err());
    }

    #[test]
    fn no_home_is_an_error() {
        let err = TelemetryConfig::resolve(|_| None).unwrap_err();
        assert!(
            err.to_string()
                .contains("neither CODEMACHINE_HOME nor HOME")
        );
    }
}
