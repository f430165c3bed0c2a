//! Settings: every layer resolved in one place, each value with its source.
//!
//! # Layers
//!
//! Highest first: command-line flag ([`Flags`], set by the host program from its own parser) >
//! environment ([`Environment`], read once) > config file (`$CODEMACHINE_HOME/telemetry.toml`, see
//! [`file`]) > default. Values set through [`SettingsBuilder`] by an embedding program sit above
//! them all ([`Source::Api`]). The switch has its own order ([`switch`]). A machine policy an
//! administrator controls will sit above everything and can only restrict: it belongs in
//! [`SettingsBuilder::build`], applied last to the resolved values.
//!
//! # One result for everyone
//!
//! [`Settings`] is what the logger ([`crate::Logger::from_settings`]), metrics
//! ([`crate::Metrics::new`]), `status` and every command take: nobody else reads the environment
//! or the config file. Resolution never fails: what cannot be used becomes a [`Problem`] (with the
//! setting's default in its place) and, when it touches telemetry, turns the switch off, so a
//! broken configuration fails closed and `status` can still show everything else.

pub mod consent;
mod env;
pub mod file;
#[cfg(feature = "forward")]
pub mod forwarding;
pub mod policy;
mod switch;
pub mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

pub use env::Environment;
pub use policy::Policy;
pub use switch::{Cap, Consent, Decision, Mode, Switch};
pub use values::ColorChoice;

use crate::env_vars;
use crate::log::{DEFAULT_THRESHOLD, FormatChoice, LoggerConfig, Threshold};
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
    /// The embedding program, through [`SettingsBuilder`].
    Api,
    /// The machine policy (see `status` for its files).
    Policy,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ConfigFile => f.write_str("config file"),
            Source::Env(name) => write!(f, "environment ({name})"),
            Source::Flag(name) => write!(f, "flag ({name})"),
            Source::Api => f.write_str("program"),
            Source::Policy => f.write_str("machine policy"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    value: T,
    source: Source,
}

impl<T> Setting<T> {
    fn new(value: T, source: Source) -> Self {
        Setting { value, source }
    }

    /// The effective value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Where it came from.
    pub fn source(&self) -> Source {
        self.source
    }
}

/// What the command line says, for the settings that have a flag. Every field is optional: an
/// absent flag leaves the setting to the lower layers.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `--color auto|always|never`.
    pub color: Option<ColorChoice>,
    /// `--log-level`.
    pub log_level: Option<Threshold>,
    /// `--log-format`.
    pub log_format: Option<FormatChoice>,
}

/// The flag names, as sources.
const COLOR_FLAG: &str = "--color";
const LOG_LEVEL_FLAG: &str = "--log-level";
const LOG_FORMAT_FLAG: &str = "--log-format";

/// Something in the configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    subject: String,
    message: String,
    effect: Effect,
}

/// What a [`Problem`] costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Effect {
    /// Telemetry stays off until it is fixed (fail closed).
    TelemetryOff,
    /// Redaction keys the operator listed may be missing: said on every command.
    RedactionIncomplete,
    /// A logger setting: its default applies (said in a `warn` record).
    LoggerDefault,
    /// A forwarding setting: events stay local until it is fixed.
    ForwardingOff,
    /// A machine policy file cannot be used and is ignored: said on every command.
    PolicyIgnored,
}

impl Problem {
    fn new(subject: impl Into<String>, message: impl Into<String>, effect: Effect) -> Self {
        Problem {
            subject: subject.into(),
            message: message.into(),
            effect,
        }
    }

    /// What it costs.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

/// The resolved settings. Build with [`Settings::from_env`] or [`Settings::builder`].
#[derive(Clone, Debug)]
pub struct Settings {
    home: Option<Setting<PathBuf>>,
    config_file_present: bool,
    switch: Switch,
    max_spool_bytes: Setting<u64>,
    salt_rotation_days: Setting<u32>,
    redact_keys: Setting<Vec<String>>,
    redact_documented: Setting<Option<String>>,
    log_level: Setting<Threshold>,
    log_path: Setting<Option<PathBuf>>,
    log_format: Setting<FormatChoice>,
    production: Setting<bool>,
    color: Setting<ColorChoice>,
    #[cfg(feature = "forward")]
    forward: forwarding::ForwardSettings,
    failpoint: Option<String>,
    login_name: Option<String>,
    /// The keys the environment and the config file add (an override that needs documenting).
    redact_override: Vec<String>,
    policy: Policy,
    problems: Vec<Problem>,
}

impl Settings {
    /// Every layer from the process: the environment (read once, here) and the config file.
    pub fn from_env() -> Settings {
        Settings::builder()
            .environment(Environment::capture())
            .build()
    }

    /// A builder starting from an empty environment, no flags and no API values.
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }

    /// `$CODEMACHINE_HOME` (absolute), or `~/.codemachine`; `None` when neither variable is set.
    pub fn home(&self) -> Option<&Setting<PathBuf>> {
        self.home.as_ref()
    }

    /// The telemetry folder (`<home>/telemetry`).
    pub fn dir(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.value.join(TELEMETRY_DIR_NAME))
    }

    /// The config file (`<home>/telemetry.toml`), whether or not it exists.
    pub fn config_file(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.value.join(CONFIG_FILE_NAME))
    }

    /// True when the config file exists (and so was read).
    pub fn config_file_present(&self) -> bool {
        self.config_file_present
    }

    /// Whether telemetry records, and why.
    pub fn switch(&self) -> &Switch {
        &self.switch
    }

    /// Cap on the telemetry folder's size.
    pub fn max_spool_bytes(&self) -> &Setting<u64> {
        &self.max_spool_bytes
    }

    /// Days a salt of the anonymous id lives.
    pub fn salt_rotation_days(&self) -> &Setting<u32> {
        &self.salt_rotation_days
    }

    /// Keys added to the redaction defaults (environment, config file and program together: a
    /// redaction list is only ever extended).
    pub fn redact_keys(&self) -> &Setting<Vec<String>> {
        &self.redact_keys
    }

    /// Where the extension of the redaction list is documented, if it is.
    pub fn redact_documented(&self) -> &Setting<Option<String>> {
        &self.redact_documented
    }

    /// When output may carry colour.
    pub fn color(&self) -> &Setting<ColorChoice> {
        &self.color
    }

    /// Why forwarding is withheld, if it is: the redaction list was extended (environment or
    /// config file) and the extension is not documented (`redact.documented`,
    /// `TELEMETRY_REDACT_DOCUMENTED`). Events are kept locally meanwhile.
    pub fn forwarding_withheld(&self) -> Option<String> {
        let extended = !self.redact_override.is_empty();
        (extended && self.redact_documented.value.is_none()).then(|| {
            format!(
                "the redaction list was extended ({}) and the extension is not documented: set redact.documented in the config file or {} (a ticket id, a link) to forward",
                self.redact_override.join(", "),
                env_vars::TELEMETRY_REDACT_DOCUMENTED
            )
        })
    }

    /// The machine policy's files, applied or ignored, and their rules.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Where events go: nowhere (no endpoint), a collector, or nowhere yet (a setting cannot be
    /// used).
    #[cfg(feature = "forward")]
    pub fn forwarding(&self) -> &forwarding::Forwarding {
        self.forward.forwarding()
    }

    /// The user's login name (`USER`, else `LOGNAME`), for the audit to look for.
    pub fn login_name(&self) -> Option<&str> {
        self.login_name.as_deref()
    }

    /// The life-cycle step a test armed (`CODEMACHINE_FAILPOINT`), if any.
    pub fn failpoint(&self) -> Option<&str> {
        self.failpoint.as_deref()
    }

    /// Everything that could not be used.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems a command must say on stderr: those that make redaction incomplete always,
    /// and those that keep telemetry off when telemetry was asked for.
    pub fn problems_to_tell(&self) -> impl Iterator<Item = &Problem> {
        let asked = matches!(self.switch.decided_by(), Decision::ConfigurationError);
        let on = self.switch.enabled();
        self.problems.iter().filter(move |p| match p.effect {
            Effect::RedactionIncomplete | Effect::PolicyIgnored => true,
            Effect::TelemetryOff => asked,
            Effect::ForwardingOff => on || asked,
            Effect::LoggerDefault => false,
        })
    }

    /// True when something that touches telemetry or redaction cannot be used (`status` then
    /// exits 1).
    pub fn has_configuration_error(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.effect != Effect::LoggerDefault)
    }

    /// The logger's part, for [`crate::LoggerBuilder::config`].
    pub fn logger_config(&self) -> LoggerConfig {
        LoggerConfig {
            threshold: Some(self.log_level.value),
            path: self.log_path.value.clone(),
            format: self.log_format.value,
            production: self.production.value,
            color: self.color.value,
            redact_keys: self.redact_keys.value.clone(),
            problems: self
                .problems
                .iter()
                .filter(|p| p.effect == Effect::LoggerDefault)
                .map(ToString::to_string)
                .collect(),
        }
    }

    /// The same settings with the home folder moved to `home` and telemetry on there: what a
    /// dry run uses, so it runs under the operator's effective settings without touching the
    /// real telemetry folder.
    pub fn relocated(&self, home: &Path) -> Settings {
        let mut moved = self.clone();
        moved.home = Some(Setting::new(home.to_owned(), Source::Api));
        moved.switch = Switch::api(true);
        moved
    }

    /// Every setting with its value and source, for `status` (`name → {value, source}`).
    pub fn table(&self) -> Vec<(&'static str, Json, Source)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let mut rows = Vec::new();
        if let Some(home) = &self.home {
            rows.push(("home", json!(home.value), home.source));
        }
        rows.extend([
            row("max_spool_bytes", &self.max_spool_bytes, |v| json!(v)),
            row("salt_rotation_days", &self.salt_rotation_days, |v| json!(v)),
            row("redact_keys", &self.redact_keys, |v| json!(v)),
            row("redact_documented", &self.redact_documented, |v| json!(v)),
            row("log_level", &self.log_level, |v| json!(v.to_string())),
            row("log_path", &self.log_path, |v| json!(path(v))),
            row("log_format", &self.log_format, |v| json!(v.to_string())),
            row("production", &self.production, |v| json!(v)),
            row("color", &self.color, |v| json!(v.to_string())),
        ]);
        #[cfg(feature = "forward")]
        rows.extend(self.forward.rows().iter().cloned());
        rows
    }
}

fn row<T>(
    name: &'static str,
    setting: &Setting<T>,
    show: impl Fn(&T) -> Json,
) -> (&'static str, Json, Source) {
    (name, show(&setting.value), setting.source)
}

/// Builds [`Settings`]: the layers to resolve, and values the program sets itself.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SettingsBuilder {
    env: Environment,
    flags: Flags,
    home: Option<PathBuf>,
    telemetry: Option<bool>,
    max_spool_bytes: Option<u64>,
    salt_rotation_days: Option<u32>,
    redact_keys: Vec<String>,
}

impl SettingsBuilder {
    /// The environment layer. By default, empty (nothing is read from the process).
    pub fn environment(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    /// The flag layer. By default, no flags.
    pub fn flags(mut self, flags: Flags) -> Self {
        self.flags = flags;
        self
    }

    /// The home folder (holding `telemetry/` and `telemetry.toml`), above `CODEMACHINE_HOME`.
    /// By default, from the environment.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Telemetry on or off, whatever the environment says (a program that asked its user).
    /// By default, the environment decides.
    pub fn telemetry(mut self, enabled: bool) -> Self {
        self.telemetry = Some(enabled);
        self
    }

    /// The size cap, above every other layer. By default, from the layers (64 MiB).
    pub fn max_spool_bytes(mut self, bytes: u64) -> Self {
        self.max_spool_bytes = Some(bytes);
        self
    }

    /// The salt's lifetime, above every other layer. By default, from the layers (30 days).
    pub fn salt_rotation_days(mut self, days: u32) -> Self {
        self.salt_rotation_days = Some(days.clamp(1, values::MAX_SALT_ROTATION_DAYS));
        self
    }

    /// More redaction keys (added to every other layer's). By default, none.
    pub fn redact_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redact_keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Resolves every layer. Never fails: see [`Settings::problems`].
    pub fn build(self) -> Settings {
        let mut problems = Vec::new();
        let home = self.resolve_home(&mut problems);
        let config_path = home.as_ref().map(|h| h.value.join(CONFIG_FILE_NAME));
        let file = config_path
            .as_deref()
            .and_then(|path| read_config(path, &mut problems));
        let present = config_path
            .as_deref()
            .is_some_and(|p| p.symlink_metadata().is_ok());
        let file = file.as_ref();
        #[cfg(feature = "forward")]
        let forward = forwarding::resolve(
            &self.env,
            file,
            config_path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            &mut problems,
        );
        let policy = Policy::load(
            self.env.path(env_vars::CODEMACHINE_POLICY_FILE).as_deref(),
            crate::sys::current_uid(),
        );
        for (path, why) in policy.ignored() {
            let message = format!("this machine policy is ignored: {why}");
            problems.push(Problem::new(
                path.display().to_string(),
                message,
                Effect::PolicyIgnored,
            ));
        }
        let resolved = Resolved {
            env: &self.env,
            problems: &mut problems,
        };
        let mut settings = resolved.settings(&self.flags, file, home);
        #[cfg(feature = "forward")]
        {
            settings.forward = forward;
            settings
                .forward
                .enforce_policy(policy.endpoint(), &mut problems);
        }
        settings.config_file_present = present;
        settings.apply_policy(&policy, &self.env, file);
        #[cfg(feature = "forward")]
        if let Some(cap) = policy.cap().filter(|cap| cap.mode != switch::Mode::On) {
            settings.forward.refuse_by_policy(format!(
                "the machine policy {} allows no forwarding (telemetry = \"{}\")",
                cap.file,
                cap.mode.as_str()
            ));
        }
        settings.policy = policy;
        self.apply_api_values(&mut settings);
        settings.problems = problems;
        if settings.has_telemetry_problem() {
            settings.switch = settings.switch.refused_by_configuration();
        }
        settings
    }

    fn resolve_home(&self, problems: &mut Vec<Problem>) -> Option<Setting<PathBuf>> {
        if let Some(home) = &self.home {
            return Some(Setting::new(absolute(home), Source::Api));
        }
        if let Some(home) = self.env.path(env_vars::CODEMACHINE_HOME) {
            return Some(Setting::new(
                absolute(&home),
                Source::Env(env_vars::CODEMACHINE_HOME),
            ));
        }
        if let Some(home) = self.env.path(env_vars::HOME) {
            return Some(Setting::new(
                absolute(&home).join(".codemachine"),
                Source::Default,
            ));
        }
        problems.push(Problem::new(
            "home folder",
            "neither CODEMACHINE_HOME nor HOME is set, so there is no telemetry folder",
            Effect::TelemetryOff,
        ));
        None
    }

    fn apply_api_values(&self, settings: &mut Settings) {
        if let Some(enabled) = self.telemetry {
            settings.switch = Switch::api(enabled);
        }
        if let Some(bytes) = self.max_spool_bytes {
            settings.max_spool_bytes = Setting::new(bytes, Source::Api);
        }
        if let Some(days) = self.salt_rotation_days {
            settings.salt_rotation_days = Setting::new(days, Source::Api);
        }
        if !self.redact_keys.is_empty() {
            let keys = &mut settings.redact_keys;
            for key in &self.redact_keys {
                if !keys.value.contains(key) {
                    keys.value.push(key.clone());
                }
            }
            if keys.source == Source::Default {
                keys.source = Source::Api;
            }
        }
    }
}

impl Settings {
    /// The machine policy's restrictions, and the switch as every layer decides it.
    fn apply_policy(&mut self, policy: &Policy, env: &Environment, file: Option<&file::FileLayer>) {
        let consent = file.and_then(|f| {
            let mode = f.consent?;
            Some(Consent {
                mode,
                date: f.consent_date.clone(),
            })
        });
        self.switch = Switch::resolve(env, consent.as_ref(), policy.cap().as_ref());
        if let Some((bound, _)) = policy.max_spool_bytes()
            && bound < self.max_spool_bytes.value
        {
            self.max_spool_bytes = Setting::new(bound, Source::Policy);
        }
        self.redact_override = self.redact_keys.value.clone();
        for key in policy.redact_keys() {
            if !self.redact_keys.value.contains(&key) {
                self.redact_keys.value.push(key);
            }
        }
    }

    fn has_telemetry_problem(&self) -> bool {
        self.problems
            .iter()
            .any(|p| matches!(p.effect, Effect::TelemetryOff | Effect::RedactionIncomplete))
    }
}

/// A relative path made absolute against the working folder, once (so the folder does not move
/// with later `chdir`s). If the working folder is unknown, the path is kept as given.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    std::env::current_dir().map_or_else(|_| path.to_owned(), |cwd| cwd.join(path))
}

/// The config file's layer, its problems added to `problems`; `None` when there is none or it
/// cannot be read at all.
fn read_config(path: &Path, problems: &mut Vec<Problem>) -> Option<file::FileLayer> {
    match file::load(path) {
        Ok(Some(layer)) => {
            file_problems(path, &layer, problems);
            Some(layer)
        }
        Ok(None) => None,
        Err(reason) => {
            let message =
                format!("{reason}, so its [redact] keys are not applied; fix or remove it");
            problems.push(Problem::new(
                path.display().to_string(),
                message,
                Effect::RedactionIncomplete,
            ));
            None
        }
    }
}

fn file_problems(path: &Path, file: &file::FileLayer, problems: &mut Vec<Problem>) {
    for problem in &file.problems {
        let subject = match problem.line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        };
        problems.push(Problem::new(
            subject,
            problem.message.clone(),
            Effect::TelemetryOff,
        ));
    }
    if file.redact_unreadable {
        problems.push(Problem::new(
            path.display().to_string(),
            "its [redact] keys cannot all be read, so redaction may miss keys listed there; fix the file",
            Effect::RedactionIncomplete,
        ));
    }
}

/// The resolution of each setting from the environment and file layers.
struct Resolved<'a> {
    env: &'a Environment,
    problems: &'a mut Vec<Problem>,
}

impl Resolved<'_> {
    fn settings(
        mut self,
        flags: &Flags,
        file: Option<&file::FileLayer>,
        home: Option<Setting<PathBuf>>,
    ) -> Settings {
        let max_spool_bytes = self.layered(
            env_vars::TELEMETRY_MAX_SPOOL_BYTES,
            values::parse_size,
            file.and_then(|f| f.max_spool_bytes),
            DEFAULT_MAX_SPOOL_BYTES,
            Effect::TelemetryOff,
        );
        let salt_rotation_days = self.layered(
            env_vars::TELEMETRY_SALT_ROTATION_DAYS,
            values::parse_days,
            file.and_then(|f| f.salt_rotation_days),
            DEFAULT_SALT_ROTATION_DAYS,
            Effect::TelemetryOff,
        );
        Settings {
            config_file_present: false,
            home,
            switch: Switch::from_environment(self.env),
            max_spool_bytes,
            salt_rotation_days,
            redact_keys: self.redact_keys(file),
            redact_documented: self.redact_documented(file),
            log_level: self.log_level(flags),
            log_path: self.log_path(),
            log_format: self.log_format(flags),
            production: self.production(),
            color: self.color(flags),
            #[cfg(feature = "forward")]
            forward: forwarding::ForwardSettings::local(),
            failpoint: self.env.text(env_vars::CODEMACHINE_FAILPOINT),
            redact_override: Vec::new(),
            policy: Policy::default(),
            login_name: self
                .env
                .text(env_vars::USER)
                .or_else(|| self.env.text(env_vars::LOGNAME))
                .map(|n| n.trim().to_owned()),
            problems: Vec::new(),
        }
    }

    /// Environment over file over default; an unusable environment value is a problem and the
    /// next layer applies.
    fn layered<T>(
        &mut self,
        name: &'static str,
        parse: fn(&str) -> Result<T, String>,
        file: Option<T>,
        default: T,
        effect: Effect,
    ) -> Setting<T> {
        if let Some(text) = self.env.text(name) {
            match parse(&text) {
                Ok(value) => return Setting::new(value, Source::Env(name)),
                Err(reason) => self.problems.push(Problem::new(name, reason, effect)),
            }
        }
        match file {
            Some(value) => Setting::new(value, Source::ConfigFile),
            None => Setting::new(default, Source::Default),
        }
    }

    fn redact_keys(&self, file: Option<&file::FileLayer>) -> Setting<Vec<String>> {
        let env = self.env.text(env_vars::TELEMETRY_REDACT_KEYS);
        let from_file = file.and_then(|f| f.redact_keys.clone());
        let source = match (&env, &from_file) {
            (Some(_), _) => Source::Env(env_vars::TELEMETRY_REDACT_KEYS),
            (None, Some(_)) => Source::ConfigFile,
            (None, None) => Source::Default,
        };
        let mut keys = env.map(|v| parse_key_list(&v)).unwrap_or_default();
        for key in from_file.unwrap_or_default() {
            let key = key.trim().to_owned();
            if !key.is_empty() && !keys.contains(&key) {
                keys.push(key);
            }
        }
        Setting::new(keys, source)
    }

    fn redact_documented(&self, file: Option<&file::FileLayer>) -> Setting<Option<String>> {
        let name = env_vars::TELEMETRY_REDACT_DOCUMENTED;
        if let Some(text) = self.env.text(name) {
            // An "off" word set here means "not documented" and, as the environment, it wins.
            return Setting::new(values::documented_reference(&text), Source::Env(name));
        }
        match file.and_then(|f| f.redact_documented.clone()) {
            Some(reference) => Setting::new(Some(reference), Source::ConfigFile),
            None => Setting::new(None, Source::Default),
        }
    }

    fn log_level(&mut self, flags: &Flags) -> Setting<Threshold> {
        if let Some(level) = flags.log_level {
            return Setting::new(level, Source::Flag(LOG_LEVEL_FLAG));
        }
        let parse = |t: &str| {
            t.parse::<Threshold>()
                .map_err(|e| format!("{e}; using {DEFAULT_THRESHOLD}"))
        };
        self.layered(
            env_vars::LOG_LEVEL,
            parse,
            None,
            DEFAULT_THRESHOLD,
            Effect::LoggerDefault,
        )
    }

    fn log_path(&self) -> Setting<Option<PathBuf>> {
        match self.env.path(env_vars::LOG_PATH) {
            Some(path) => Setting::new(Some(path), Source::Env(env_vars::LOG_PATH)),
            None => Setting::new(None, Source::Default),
        }
    }

    fn log_format(&mut self, flags: &Flags) -> Setting<FormatChoice> {
        if let Some(format) = flags.log_format {
            return Setting::new(format, Source::Flag(LOG_FORMAT_FLAG));
        }
        let name = env_vars::LOG_FORMAT;
        let Some(text) = self.env.text(name) else {
            return Setting::new(FormatChoice::Auto, Source::Default);
        };
        match text.parse::<FormatChoice>() {
            Ok(format) => Setting::new(format, Source::Env(name)),
            Err(e) => {
                let message = format!("{e}; writing JSON");
                self.problems
                    .push(Problem::new(name, message, Effect::LoggerDefault));
                Setting::new(FormatChoice::Json, Source::Env(name))
            }
        }
    }

    fn production(&self) -> Setting<bool> {
        for name in [env_vars::CODEMACHINE_ENV, env_vars::NODE_ENV] {
            if let Some(value) = self.env.text(name) {
                let production = value.trim().eq_ignore_ascii_case("production");
                return Setting::new(production, Source::Env(name));
            }
        }
        Setting::new(false, Source::Default)
    }

    fn color(&self, flags: &Flags) -> Setting<ColorChoice> {
        if let Some(choice) = flags.color {
            return Setting::new(choice, Source::Flag(COLOR_FLAG));
        }
        if self.env.is_set_non_empty(env_vars::NO_COLOR) {
            return Setting::new(ColorChoice::Never, Source::Env(env_vars::NO_COLOR));
        }
        let dumb = self
            .env
            .text(env_vars::TERM)
            .is_some_and(|t| t.trim() == "dumb");
        if dumb {
            return Setting::new(ColorChoice::Never, Source::Env(env_vars::TERM));
        }
        Setting::new(ColorChoice::Auto, Source::Default)
    }
}

#[cfg(test)]
mod tests;
