//! Local command metrics: opt-in, anonymous, buffered as NDJSON under the telemetry folder.
//!
//! A [`Metrics`] handle is either disabled (every call returns at once, and nothing under the
//! telemetry folder is ever created, opened or read) or enabled, in which case the first event
//! creates the folder, this process's segment and the salt. Recording never panics and never
//! changes the host's behaviour: an I/O failure is returned to the caller and, the first time
//! only, reported in one line on stderr.

mod event;
mod identity;
mod ids;
pub mod spool;
mod storage;
mod switch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

pub use event::{Event, EventKind, MAX_NAME_LEN, SCHEMA_VERSION, validate_name};
pub use identity::Identity;
pub use spool::{PruneReport, SegmentInfo};
pub use switch::{Decision, Switch};

use event::{EventContext, NewEvent};
use spool::SpoolWriter;

use crate::config::TelemetryConfig;
use crate::diag;
use crate::error::{Error, Result};
use crate::redact::Redactor;

/// The handle a host program records through. Cheap to clone; clones share one segment.
#[derive(Clone)]
pub struct Metrics {
    recorder: Option<Arc<Recorder>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.recorder {
            None => f.write_str("Metrics(disabled)"),
            Some(r) => f
                .debug_struct("Metrics")
                .field("dir", &r.config.dir())
                .finish_non_exhaustive(),
        }
    }
}

struct Recorder {
    config: TelemetryConfig,
    redactor: Redactor,
    cli_version: String,
    session_id: String,
    context: OnceLock<EventContext>,
    ids: ids::EventIds,
    /// The spool writer, and the buffer events are encoded in (reused: no allocation per event).
    writer: Mutex<(SpoolWriter, Vec<u8>)>,
    warned: AtomicBool,
}

impl Metrics {
    /// Metrics as the environment and the config file decide: enabled only when
    /// `TELEMETRY_ENABLED` is truthy and `DO_NOT_TRACK` is not; disabled, with one warning on
    /// stderr, when the switch holds an unknown value or the configuration cannot be used.
    /// `cli_version` is the host program's version, carried by every event.
    pub fn from_env(cli_version: &str) -> Metrics {
        let switch = Switch::from_env();
        if let Some(warning) = switch.warning() {
            diag::warn(format_args!("{warning}"));
        }
        if !switch.enabled {
            return Metrics::disabled();
        }
        match TelemetryConfig::from_env() {
            Ok(config) => Metrics::enabled(config, cli_version),
            Err(err) => {
                diag::warn(format_args!("telemetry disabled for this run: {err}"));
                Metrics::disabled()
            }
        }
    }

    /// A handle that records nothing and touches nothing.
    pub fn disabled() -> Metrics {
        Metrics { recorder: None }
    }

    /// A handle recording under `config`, whatever the environment's switch says (the caller
    /// has decided). Nothing is touched until the first event.
    pub fn enabled(config: TelemetryConfig, cli_version: &str) -> Metrics {
        let mut redactor = Redactor::new();
        redactor.add_keys(&config.redact_keys.value);
        let writer = SpoolWriter::new(&config.dir(), config.max_spool_bytes.value);
        let random: [u8; 16] = ids::random_bytes();
        Metrics {
            recorder: Some(Arc::new(Recorder {
                config,
                redactor,
                cli_version: cli_version.to_owned(),
                session_id: ids::hex(&random),
                context: OnceLock::new(),
                ids: ids::EventIds::new(),
                writer: Mutex::new((writer, Vec::with_capacity(512))),
                warned: AtomicBool::new(false),
            })),
        }
    }

    /// True when events are recorded.
    pub fn is_enabled(&self) -> bool {
        self.recorder.is_some()
    }

    /// This process's session id (random), when enabled.
    pub fn session_id(&self) -> Option<&str> {
        self.recorder.as_deref().map(|r| r.session_id.as_str())
    }

    /// Records that command `name` ran for `duration` and exited with `exit_code`.
    ///
    /// Errors: [`Error::InvalidName`] when `name` is not an identifier (checked whether or not
    /// telemetry is on, so a bad name shows up in development too); [`Error::Disabled`] when
    /// telemetry is off (the usual case: hosts ignore it); [`Error::SpoolFull`] or
    /// [`Error::Io`] when the event could not be stored (also said once on stderr). Nothing is
    /// recorded in any of these cases, and none of them is worth failing the host for.
    pub fn record_command(&self, name: &str, duration: Duration, exit_code: i32) -> Result<()> {
        let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.record(EventKind::Command, name, Some(ms), Some(exit_code), 1)
    }

    /// Records that feature `name` was used `count` times. Errors as for
    /// [`Metrics::record_command`].
    pub fn record_feature(&self, name: &str, count: u64) -> Result<()> {
        self.record(EventKind::Feature, name, None, None, count)
    }

    /// Records one event of any kind (what `codemachine telemetry record` does).
    pub fn record(
        &self,
        kind: EventKind,
        name: &str,
        duration_ms: Option<u64>,
        exit_code: Option<i32>,
        count: u64,
    ) -> Result<()> {
        let Some(recorder) = &self.recorder else {
            // Disabled telemetry says nothing, but a bad name is still the caller's bug.
            static DEFAULT_REDACTOR: OnceLock<Redactor> = OnceLock::new();
            validate_name(name, DEFAULT_REDACTOR.get_or_init(Redactor::new))?;
            return Err(Error::Disabled);
        };
        let outcome = validate_name(name, &recorder.redactor)
            .and_then(|()| recorder.append(kind, name, duration_ms, exit_code, count));
        if let Err(err) = &outcome {
            recorder.warn_once(err);
        }
        outcome
    }

    /// Starts timing command `name`; the command is recorded when the returned timer is dropped
    /// (with exit code 101 if the thread is panicking).
    pub fn time_command(&self, name: &str) -> CommandTimer {
        CommandTimer {
            metrics: self.clone(),
            name: name.to_owned(),
            started: Instant::now(),
            exit_code: 0,
        }
    }
}

impl Recorder {
    fn append(
        &self,
        kind: EventKind,
        name: &str,
        duration_ms: Option<u64>,
        exit_code: Option<i32>,
        count: u64,
    ) -> Result<()> {
        let now_ms = crate::time::now_millis();
        let context = self.context(now_ms)?;
        let id = self.ids.next(now_ms);
        let event = NewEvent {
            // The id is ASCII hex digits.
            id: std::str::from_utf8(&id).unwrap_or_default(),
            time_ms: now_ms,
            kind,
            name,
            duration_ms,
            exit_code,
            count,
        };
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let (writer, line) = &mut *guard;
        line.clear();
        event::encode(line, &event, context);
        writer.append(line, now_ms)
    }

    /// The per-process part of every event, made at the first event (it needs the salt).
    fn context(&self, now_ms: u64) -> Result<&EventContext> {
        if let Some(context) = self.context.get() {
            return Ok(context);
        }
        let paths = spool::Paths::new(&self.config.dir());
        storage::ensure_dir(&paths.state)?;
        let identity = identity::load_or_rotate(
            &paths.state,
            now_ms,
            self.config.salt_rotation_days.value,
            &identity::machine_fingerprint(),
        )?;
        Ok(self.context.get_or_init(|| EventContext {
            session_id: self.session_id.clone(),
            anon_id: identity.anon_id,
            cli_version: self.cli_version.clone(),
        }))
    }

    fn warn_once(&self, err: &Error) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            diag::warn(format_args!("event not recorded: {err}"));
        }
    }
}

/// The anonymous id the telemetry folder's current salt gives, without creating or rotating
/// the salt (for `status`). `None` before the first event.
pub fn current_identity(config: &TelemetryConfig) -> Option<Identity> {
    let paths = spool::Paths::new(&config.dir());
    identity::peek(
        &paths.state,
        config.salt_rotation_days.value,
        &identity::machine_fingerprint(),
    )
}

/// Events refused at the size cap so far.
pub fn refused_events(config: &TelemetryConfig) -> u64 {
    spool::Paths::new(&config.dir()).refused().get()
}

/// Times a command and records it when dropped.
///
/// Keep it in a named variable for the command's whole run: `let _ = metrics.time_command(…)`
/// drops it at once and records a zero-length command.
#[must_use = "the command is recorded when the timer is dropped; bind it to a named variable"]
pub struct CommandTimer {
    metrics: Metrics,
    name: String,
    started: Instant,
    exit_code: i32,
}

impl CommandTimer {
    /// The exit code to record. By default, 0 (or 101 if the command panics).
    pub fn exit_code(&mut self, code: i32) {
        self.exit_code = code;
    }
}

impl Drop for CommandTimer {
    fn drop(&mut self) {
        let code = if std::thread::panicking() {
            101
        } else {
            self.exit_code
        };
        // Failures were already reported once by `record`; a timer has no caller to tell.
        let _ = self
            .metrics
            .record_command(&self.name, self.started.elapsed(), code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Setting, Source};

    pub(crate) fn config_in(home: &std::path::Path) -> TelemetryConfig {
        let home = home.to_string_lossy().into_owned();
        TelemetryConfig::resolve(|n| (n == "CODEMACHINE_HOME").then(|| home.clone())).unwrap()
    }

    fn events(config: &TelemetryConfig) -> Vec<Event> {
        let mut out = Vec::new();
        spool::for_each_line(&config.dir(), |_, e| out.extend(e.cloned())).unwrap();
        out
    }

    #[test]
    fn disabled_metrics_touch_nothing() {
        let home = tempfile::tempdir().unwrap();
        let m = Metrics::disabled();
        assert!(matches!(m.record_feature("x", 1), Err(Error::Disabled)));
        assert!(matches!(
            m.record_feature("Not An Identifier", 1),
            Err(Error::InvalidName { .. })
        ));
        drop(m.time_command("y"));
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    }

    #[test]
    fn commands_and_features_are_recorded_with_one_identity_per_process() {
        let home = tempfile::tempdir().unwrap();
        let config = config_in(home.path());
        let m = Metrics::enabled(config.clone(), "1.2.3");
        m.record_command("build", Duration::from_millis(1500), 3)
            .unwrap();
        m.record_feature("export.csv", 4).unwrap();
        let mut timer = m.time_command("deploy");
        timer.exit_code(7);
        drop(timer);
        let got = events(&config);
        assert_eq!(got.len(), 3);
        assert_eq!(
            (got[0].name.as_str(), got[0].duration_ms, got[0].exit_code),
            ("build", Some(1500), Some(3))
        );
        assert_eq!(
            (got[1].kind, got[1].count, got[1].duration_ms),
            (EventKind::Feature, 4, None)
        );
        assert_eq!(
            (got[2].name.as_str(), got[2].exit_code),
            ("deploy", Some(7))
        );
        assert!(
            got.iter()
                .all(|e| e.session_id == m.session_id().unwrap() && e.cli_version == "1.2.3")
        );
        assert_eq!(got[0].anon_id, current_identity(&config).unwrap().anon_id);
        assert_ne!(got[0].id, got[1].id);
    }

    #[test]
    fn a_panicking_command_is_recorded_with_exit_code_101() {
        let home = tempfile::tempdir().unwrap();
        let config = config_in(home.path());
        let m = Metrics::enabled(config.clone(), "1");
        let result = std::panic::catch_unwind(|| {
            let _timer = m.time_command("explode");
            panic!("boom");
        });
        assert!(result.is_err());
        assert_eq!(events(&config)[0].exit_code, Some(101));
    }

    #[test]
    fn invalid_names_are_refused_and_nothing_is_written() {
        let home = tempfile::tempdir().unwrap();
        let config = config_in(home.path());
        let m = Metrics::enabled(config.clone(), "1");
        assert!(matches!(
            m.record_feature("/home/someone/file", 1),
            Err(Error::InvalidName { .. })
        ));
        assert!(!config.dir().exists());
    }

    #[test]
    fn the_cap_comes_from_the_config() {
        let home = tempfile::tempdir().unwrap();
        let mut config = config_in(home.path());
        config.max_spool_bytes = Setting {
            value: 10,
            source: Source::Flag("test"),
        };
        let m = Metrics::enabled(config.clone(), "1");
        assert!(matches!(
            m.record_feature("x", 1),
            Err(Error::SpoolFull { .. })
        ));
        assert_eq!(refused_events(&config), 1);
    }
}
