//! Sending without delaying anyone: a detached process started by a command, or a thread with a
//! bounded wait at exit.
//!
//! A host command never waits on the network. When it ends it asks [`start_detached`], which
//! looks (cheaply, and not at all when telemetry is off or no endpoint is configured) whether
//! anything is due; if so it starts the host's own executable with the arguments the host chose
//! (the `codemachine` binary uses `telemetry __send`), detached: stdin, stdout and stderr on
//! `/dev/null` (so `x=$(codemachine …)` returns at once), its own process group, and, once
//! started, its own session and a lower priority ([`run_detached`]). One sender at a time (the
//! sender lock: a second one exits at once), a bounded lifetime (a watchdog ends it), and at most
//! one start every [`MIN_START_INTERVAL`] while nothing is urgent, so commands run in a loop do
//! not pile up processes.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::run::{SendOptions, SendReport, send_pending};
use super::state::{ForwardState, last_start_ms, note_start};
use crate::metrics::spool::{MAX_SEGMENT_BYTES, Paths};
use crate::settings::Settings;
use crate::settings::forwarding::Forwarding;
use crate::time::now_millis;

/// How long a detached sender may live: long enough to drain a backlog of a few hundred
/// thousand events, short enough that none lingers.
pub const DETACHED_LIFETIME: Duration = Duration::from_secs(60);
/// While nothing is urgent, a new background sender is started at most this often.
pub const MIN_START_INTERVAL: Duration = Duration::from_secs(30);

/// Whether a background sender should start now: telemetry on, forwarding usable, not paused
/// for this destination, the backoff passed, something pending, and no start in the last
/// [`MIN_START_INTERVAL`] unless a whole batch is waiting. Reads nothing when telemetry is off or
/// no endpoint is configured.
pub fn is_due(settings: &Settings) -> bool {
    let switch = settings.switch();
    if !switch.enabled() || switch.local_only() || settings.forwarding_withheld().is_some() {
        return false;
    }
    let (Forwarding::Ready(config), Some(dir)) = (settings.forwarding(), settings.dir()) else {
        return false;
    };
    let paths = Paths::new(&dir);
    let state = ForwardState::load(&paths.state);
    let now = now_millis();
    let paused = state
        .paused
        .as_ref()
        .is_some_and(|p| p.destination == config.destination_fingerprint());
    let waiting = state
        .next_attempt_ms
        .into_iter()
        .chain(state.retry_after_until_ms)
        .any(|t| t > now);
    if paused || waiting {
        return false;
    }
    let pending = pending_bytes(&paths);
    let urgent = pending >= (config.max_batch_bytes() as u64).min(MAX_SEGMENT_BYTES);
    let recent = last_start_ms(&paths.state)
        .is_some_and(|t| now.saturating_sub(t) < MIN_START_INTERVAL.as_millis() as u64);
    pending > 0 && (urgent || !recent)
}

/// Bytes waiting in `spool/` and `outbox/` (a directory listing each, no file opened).
fn pending_bytes(paths: &Paths) -> u64 {
    [&paths.spool, &paths.outbox]
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name();
            let ours = crate::metrics::spool::batch_id(name.to_str()?).is_some();
            ours.then(|| e.metadata().ok().map(|m| m.len())).flatten()
        })
        .sum()
}

/// Starts `program args…` as a detached sender if one is due ([`is_due`]); returns whether it
/// started. `program` is the host's own executable, and `args` what makes it call
/// [`run_detached`]. Never waits for the sender, and never fails the caller: a sender that
/// cannot be started is tried again by a later command.
pub fn start_detached<I, S>(settings: &Settings, program: &Path, args: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    if !is_due(settings) {
        return false;
    }
    let Some(dir) = settings.dir() else {
        return false;
    };
    let paths = Paths::new(&dir);
    if paths.ensure(&paths.state).is_err() || note_start(&paths.state, now_millis()).is_err() {
        return false;
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(home) = settings.home() {
        // The sender resolves its settings again; a relative home must name the same folder.
        command.env(crate::env_vars::CODEMACHINE_HOME, home.value());
    }
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    match command.spawn() {
        Ok(mut child) => {
            // Reaped when it ends, for hosts that live longer than their sender.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}

/// The detached sender's body, what the host's hidden entry point calls: detaches from the
/// session, lowers its priority, closes inherited descriptors, then sends what is due for at
/// most [`DETACHED_LIFETIME`] (a watchdog ends the process if a request overruns).
pub fn run_detached(settings: &Settings) -> SendReport {
    crate::sys::detach_self();
    let lifetime = DETACHED_LIFETIME;
    std::thread::spawn(move || {
        std::thread::sleep(lifetime + Duration::from_secs(15));
        // A request stuck past every timeout: ending here is a crash the life cycle survives.
        std::process::exit(0);
    });
    let options = SendOptions::background(lifetime);
    send_pending(settings, options, &mut |_| {}).unwrap_or_else(|_| SendReport::failed())
}

/// A sender on a thread of the host's own process, for hosts that prefer no second process.
/// Dropping it (or [`BackgroundSender::finish`]) waits a bounded time, then leaves the thread to
/// end with the process: an interrupted send is sent again later, never lost.
#[must_use = "the sender is waited for when this is dropped; keep it until the program ends"]
pub struct BackgroundSender {
    done: Option<mpsc::Receiver<SendReport>>,
    wait: Duration,
}

impl BackgroundSender {
    /// Starts a sender thread if one is due; at exit the host waits for it at most `wait`.
    pub fn start(settings: &Settings, wait: Duration) -> BackgroundSender {
        if !is_due(settings) {
            return BackgroundSender { done: None, wait };
        }
        let settings = settings.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let options = SendOptions::background(DETACHED_LIFETIME);
            let report = send_pending(&settings, options, &mut |_| {});
            let _ = tx.send(report.unwrap_or_else(|_| SendReport::failed()));
        });
        BackgroundSender {
            done: Some(rx),
            wait,
        }
    }

    /// Waits at most the bounded time for the sender; its report, if it finished.
    pub fn finish(mut self) -> Option<SendReport> {
        let done = self.done.take()?;
        done.recv_timeout(self.wait).ok()
    }
}

impl Drop for BackgroundSender {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(self.wait);
        }
    }
}
