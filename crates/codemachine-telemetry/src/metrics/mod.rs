//! Local command metrics: opt-in, anonymous, buffered as NDJSON under the telemetry folder.
//!
//! A [`Metrics`] handle is either off (every call returns at once, and nothing under the
//! telemetry folder is ever created, opened or read) or recording, in which case the first event
//! creates the folder, this process's segment and the salt. Recording never panics and never
//! changes the host's behaviour: an I/O failure is returned to the caller and, the first time
//! only, reported in one line on stderr.

mod event;
pub mod history;
mod identity;
mod ids;
pub mod spool;
pub(crate) mod storage;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

pub use event::{
    EVENT_KEYS, Event, EventKind, MAX_NAME_LEN, NewEvent, SCHEMA_VERSION, validate_name,
};
pub use identity::Identity;
pub use spool::{BatchInfo, BatchState, Listing, OddEntry, PruneReport};

use event::{EventContext, EventLine};
use spool::SpoolWriter;

use crate::diag;
use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::settings::Settings;

/// The handle a host program records through. Cheap to clone; clones share one segment.
#[derive(Clone)]
pub struct Metrics {
    recorder: Option<Arc<Recorder>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.recorder {
            None => f.write_str("Metrics(off)"),
            Some(r) => f
                .debug_struct("Metrics")
                .field("dir", &r.dir)
                .finish_non_exhaustive(),
        }
    }
}

/// What happened to an event handed to [`Metrics::record`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// It is in the spool.
    Stored,
    /// Telemetry is off: nothing was written (the usual case; not an error).
    Off,
}

struct Recorder {
    dir: PathBuf,
    rotation_days: u32,
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
    /// Metrics as every layer decides ([`Settings::from_env`]): recording only when
    /// `TELEMETRY_ENABLED` is truthy, `DO_NOT_TRACK` does not opt out and the configuration can
    /// be used. What keeps it off against the user's wish is said on stderr, once.
    /// `cli_version` is the host program's version, carried by every event.
    pub fn from_env(cli_version: &str) -> Metrics {
        let settings = Settings::from_env();
        if let Some(warning) = settings.switch().warning() {
            diag::warn(format_args!("{warning}"));
        }
        for problem in settings.problems_to_tell() {
            diag::warn(format_args!("{problem}"));
        }
        Metrics::new(&settings, cli_version)
    }

    /// Metrics as `settings` decide: recording when their switch is on. Nothing is touched until
    /// the first event.
    pub fn new(settings: &Settings, cli_version: &str) -> Metrics {
        let dir = settings.dir().filter(|_| settings.switch().enabled());
        let Some(dir) = dir else {
            return Metrics::off();
        };
        match Recorder::new(settings, dir, cli_version) {
            Ok(recorder) => Metrics {
                recorder: Some(Arc::new(recorder)),
            },
            Err(err) => {
                diag::warn(format_args!("telemetry is off for this run: {err}"));
                Metrics::off()
            }
        }
    }

    /// This handle, without the one warning on stderr the library gives for a failed event: for a
    /// caller that reports the errors [`Metrics::record`] returns itself (as `codemachine
    /// telemetry record` does), so the failure is said once.
    pub fn without_warnings(self) -> Metrics {
        if let Some(recorder) = &self.recorder {
            recorder.warned.store(true, Ordering::Relaxed);
        }
        self
    }

    /// A handle that records nothing and touches nothing.
    pub fn off() -> Metrics {
        Metrics { recorder: None }
    }

    /// True when events are recorded.
    pub fn is_recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// This process's session id (random), when recording.
    pub fn session_id(&self) -> Option<&str> {
        self.recorder.as_deref().map(|r| r.session_id.as_str())
    }

    /// Records that command `name` ran for `duration` and exited with `exit_code`.
    /// Errors as for [`Metrics::record`].
    pub fn record_command(
        &self,
        name: &str,
        duration: Duration,
        exit_code: i32,
    ) -> Result<Recorded> {
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.record(NewEvent::Command {
            name,
            duration_ms,
            exit_code,
        })
    }

    /// Records that feature `name` was used `count` times. Errors as for [`Metrics::record`].
    pub fn record_feature(&self, name: &str, count: u64) -> Result<Recorded> {
        self.record(NewEvent::Feature { name, count })
    }

    /// Records one event (what `codemachine telemetry record` does).
    ///
    /// Errors: [`Error::InvalidName`] or [`Error::InvalidEvent`] when the event is not valid
    /// (checked whether or not telemetry is on, so a bad name shows up in development too);
    /// [`Error::SpoolFull`] or [`Error::Io`] when it could not be stored (also said once on
    /// stderr). Nothing is recorded in these cases, and none of them is worth failing the host
    /// for. With telemetry off the result is `Ok(Recorded::Off)`.
    pub fn record(&self, event: NewEvent<'_>) -> Result<Recorded> {
        let Some(recorder) = &self.recorder else {
            static DEFAULT_REDACTOR: OnceLock<Redactor> = OnceLock::new();
            event.validate(DEFAULT_REDACTOR.get_or_init(Redactor::new))?;
            return Ok(Recorded::Off);
        };
        let outcome = event
            .validate(&recorder.redactor)
            .and_then(|()| recorder.append(&event));
        if let Err(err) = &outcome {
            recorder.warn_once(err);
        }
        outcome.map(|()| Recorded::Stored)
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
    fn new(settings: &Settings, dir: PathBuf, cli_version: &str) -> Result<Recorder> {
        let io = |error| Error::Io {
            path: dir.clone(),
            error,
        };
        let mut redactor = Redactor::new();
        redactor.add_keys(settings.redact_keys().value());
        let mut writer = SpoolWriter::new(&dir, *settings.max_spool_bytes().value());
        if settings.switch().local_only() {
            writer = writer.held();
        }
        Ok(Recorder {
            writer: Mutex::new((writer, Vec::with_capacity(512))),
            rotation_days: *settings.salt_rotation_days().value(),
            redactor,
            cli_version: cli_version.to_owned(),
            session_id: ids::random_id().map_err(io)?,
            context: OnceLock::new(),
            ids: ids::EventIds::new().map_err(io)?,
            warned: AtomicBool::new(false),
            dir,
        })
    }

    fn append(&self, event: &NewEvent<'_>) -> Result<()> {
        let now_ms = crate::time::now_millis();
        let context = self.context(now_ms)?;
        let id = self.ids.next(now_ms);
        // The id is ASCII hex digits.
        let line = EventLine::new(std::str::from_utf8(&id).unwrap_or_default(), now_ms, event);
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let (writer, buf) = &mut *guard;
        buf.clear();
        event::encode(buf, &line, context);
        writer.append(buf, now_ms)
    }

    /// The per-process part of every event, made at the first event (it needs the salt).
    fn context(&self, now_ms: u64) -> Result<&EventContext> {
        if let Some(context) = self.context.get() {
            return Ok(context);
        }
        let paths = spool::Paths::new(&self.dir);
        paths.ensure(&paths.state)?;
        let identity = identity::load_or_rotate(
            &paths.state,
            now_ms,
            self.rotation_days,
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
pub fn current_identity(dir: &std::path::Path, rotation_days: u32) -> Option<Identity> {
    let paths = spool::Paths::new(dir);
    identity::peek(
        &paths.state,
        rotation_days,
        &identity::machine_fingerprint(),
    )
}

/// Events refused at the size cap so far.
pub fn refused_events(dir: &std::path::Path) -> u64 {
    spool::Paths::new(dir).refused().get()
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

    pub(crate) fn settings_in(home: &std::path::Path) -> Settings {
        Settings::builder().home(home).telemetry(true).build()
    }

    fn events(dir: &std::path::Path) -> Vec<Event> {
        let mut out = Vec::new();
        spool::for_each_line(dir, |_, _, e| out.extend(e.cloned()));
        out
    }

    #[test]
    fn metrics_that_are_off_touch_nothing_even_with_a_home() {
        let home = tempfile::tempdir().unwrap();
        let settings = Settings::builder()
            .home(home.path())
            .telemetry(false)
            .build();
        let m = Metrics::new(&settings, "1");
        assert!(!m.is_recording());
        assert_eq!(m.record_feature("x", 1).unwrap(), Recorded::Off);
        assert!(matches!(
            m.record_feature("Not An Identifier", 1),
            Err(Error::InvalidName { .. })
        ));
        drop(m.time_command("y"));
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
        // The same settings with the switch on do write: the check above can fail.
        let on = Metrics::new(&settings_in(home.path()), "1");
        on.record_feature("x", 1).unwrap();
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 1);
    }

    #[test]
    fn commands_and_features_are_recorded_with_one_identity_per_process() {
        let home = tempfile::tempdir().unwrap();
        let settings = settings_in(home.path());
        let dir = settings.dir().unwrap();
        let m = Metrics::new(&settings, "1.2.3");
        m.record_command("build", Duration::from_millis(1500), 3)
            .unwrap();
        m.record_feature("export.csv", 4).unwrap();
        let mut timer = m.time_command("deploy");
        timer.exit_code(7);
        drop(timer);
        let got = events(&dir);
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
        assert_eq!(got[0].anon_id, current_identity(&dir, 30).unwrap().anon_id);
        assert_ne!(got[0].id, got[1].id);
    }

    #[test]
    fn a_panicking_command_is_recorded_with_exit_code_101() {
        let home = tempfile::tempdir().unwrap();
        let settings = settings_in(home.path());
        let m = Metrics::new(&settings, "1");
        let result = std::panic::catch_unwind(|| {
            let _timer = m.time_command("explode");
            panic!("boom");
        });
        assert!(result.is_err());
        assert_eq!(events(&settings.dir().unwrap())[0].exit_code, Some(101));
    }

    #[test]
    fn invalid_events_are_refused_and_nothing_is_written() {
        let home = tempfile::tempdir().unwrap();
        let settings = settings_in(home.path());
        let m = Metrics::new(&settings, "1");
        assert!(matches!(
            m.record_feature("/home/someone/file", 1),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            m.record_feature("ok", 0),
            Err(Error::InvalidEvent { .. })
        ));
        assert!(!settings.dir().unwrap().exists());
    }

    #[test]
    fn the_cap_comes_from_the_settings() {
        let home = tempfile::tempdir().unwrap();
        let settings = Settings::builder()
            .home(home.path())
            .telemetry(true)
            .max_spool_bytes(10)
            .build();
        let m = Metrics::new(&settings, "1");
        assert!(matches!(
            m.record_feature("x", 1),
            Err(Error::SpoolFull { .. })
        ));
        assert_eq!(refused_events(&settings.dir().unwrap()), 1);
    }
}
