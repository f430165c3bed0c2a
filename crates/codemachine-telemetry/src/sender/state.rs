//! What the sender remembers between runs, in `state/forward.json`: the backoff, a server's
//! `Retry-After`, a pause, the last error and success, and the events a collector rejected in a
//! partial success.
//!
//! Written only under the sender lock, atomically (a temporary file, fsynced, renamed over the
//! old one), so a crash leaves the previous state or the new one, never half of either. A file
//! that cannot be read is treated as empty: at worst a retry comes early.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::metrics::storage::{FILE_MODE, MAX_STATE_BYTES, read_state_file};

const STATE_FILE: &str = "forward.json";
const STARTED_FILE: &str = "sender.started";

/// The sender's memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForwardState {
    /// Consecutive failed attempts (0 after a success).
    pub attempts: u32,
    /// No attempt before this time (epoch ms): the backoff.
    pub next_attempt_ms: Option<u64>,
    /// The server asked not to be contacted before this time (epoch ms).
    pub retry_after_until_ms: Option<u64>,
    /// The last failure, in a sentence (no secret in it).
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_ms: Option<u64>,
    /// When a batch was last delivered.
    pub last_success_ms: Option<u64>,
    /// Events collectors rejected in OTLP partial successes, in total.
    pub server_rejected_events: u64,
    /// Sending is paused (a 401, 403 or 404) until the destination changes or an operator acts.
    pub paused: Option<Pause>,
}

/// Why sending is paused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// The status that paused it.
    pub status: Option<u16>,
    /// What happened.
    pub reason: String,
    /// Since when (epoch ms).
    pub since_ms: u64,
    /// The destination's fingerprint (see `ForwardConfig::destination_fingerprint`): another
    /// destination lifts the pause.
    pub destination: String,
}

impl ForwardState {
    /// The state kept in the `state/` folder `dir` (empty when there is none or it is unreadable).
    ///
    /// A wait that ends later than any this sender ever asks for (the backoff and `Retry-After`
    /// are capped at an hour) was set by a clock that has since gone back: it is dropped, so a
    /// clock set back ten days cannot stall sending for ten days.
    pub fn load(state_dir: &Path) -> ForwardState {
        let mut state: ForwardState = read_state_file(&state_dir.join(STATE_FILE), MAX_STATE_BYTES)
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        state.drop_impossible_waits(crate::time::now_millis());
        state
    }

    fn drop_impossible_waits(&mut self, now_ms: u64) {
        let cap = crate::forward::DEFAULT_BACKOFF_CAP
            .max(crate::forward::MAX_RETRY_AFTER)
            .as_millis() as u64;
        let latest = now_ms.saturating_add(cap + 60_000);
        for wait in [&mut self.next_attempt_ms, &mut self.retry_after_until_ms] {
            if wait.is_some_and(|at| at > latest) {
                *wait = None;
            }
        }
    }

    /// Writes the state atomically.
    pub(crate) fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(state_dir, STATE_FILE, text.as_bytes())
    }

    /// A delivery at `now_ms`: the backoff is reset.
    pub(crate) fn succeeded(&mut self, now_ms: u64, server_rejected: u64) {
        self.attempts = 0;
        self.next_attempt_ms = None;
        self.retry_after_until_ms = None;
        self.last_success_ms = Some(now_ms);
        self.server_rejected_events = self.server_rejected_events.saturating_add(server_rejected);
    }

    /// A failure worth retrying at `now_ms`: the next attempt waits `delay_ms` (the backoff,
    /// never less than the server's `Retry-After`).
    pub(crate) fn failed(
        &mut self,
        now_ms: u64,
        reason: String,
        delay_ms: u64,
        retry_after_ms: Option<u64>,
    ) {
        self.attempts = self.attempts.saturating_add(1);
        self.next_attempt_ms = Some(now_ms.saturating_add(delay_ms));
        self.retry_after_until_ms = retry_after_ms.map(|ms| now_ms.saturating_add(ms));
        self.last_error = Some(reason);
        self.last_error_ms = Some(now_ms);
    }

    /// A failure on this machine at `now_ms` (a full disk while claiming, say): kept as the last
    /// error, without changing the backoff (the collector did nothing wrong).
    pub(crate) fn local_failure(&mut self, now_ms: u64, reason: String) {
        self.last_error = Some(reason);
        self.last_error_ms = Some(now_ms);
    }

    /// A rejection at `now_ms` (kept as the last error).
    pub(crate) fn rejected(&mut self, now_ms: u64, reason: String) {
        self.last_error = Some(reason);
        self.last_error_ms = Some(now_ms);
    }
}

/// When a background sender was last started (epoch ms), from `state/sender.started`.
pub(crate) fn last_start_ms(state_dir: &Path) -> Option<u64> {
    read_state_file(&state_dir.join(STARTED_FILE), MAX_STATE_BYTES)?
        .trim()
        .parse()
        .ok()
}

/// Notes that a background sender is being started at `now_ms`. Not fsynced: it only spaces
/// starts out, and a lost note costs one extra start; an fsync would cost every command that
/// starts a sender milliseconds.
pub(crate) fn note_start(state_dir: &Path, now_ms: u64) -> std::io::Result<()> {
    write_file(
        state_dir,
        STARTED_FILE,
        now_ms.to_string().as_bytes(),
        false,
    )
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    write_file(dir, name, bytes, true)
}

/// Writes through a temporary file renamed into place (fsynced first when `durable`).
fn write_file(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            if durable { file.sync_all() } else { Ok(()) }
        })
        .and_then(|()| std::fs::rename(&tmp, dir.join(name)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_longer_than_any_we_ask_for_is_dropped() {
        let mut state = ForwardState {
            next_attempt_ms: Some(10 * 86_400_000),
            retry_after_until_ms: Some(2_000_000),
            ..ForwardState::default()
        };
        state.drop_impossible_waits(1_000_000);
        assert_eq!(
            state.next_attempt_ms, None,
            "ten days ahead: a clock set back"
        );
        assert_eq!(
            state.retry_after_until_ms,
            Some(2_000_000),
            "within the hour: kept"
        );
    }

    #[test]
    fn state_round_trips_and_garbage_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = ForwardState::default();
        state.failed(1_000, "HTTP 503".into(), 5_000, Some(2_000));
        state.paused = Some(Pause {
            status: Some(401),
            reason: "HTTP 401".into(),
            since_ms: 1,
            destination: "abc".into(),
        });
        state.save(dir.path()).unwrap();
        assert_eq!(ForwardState::load(dir.path()), state);
        assert_eq!(state.next_attempt_ms, Some(6_000));
        assert_eq!(state.retry_after_until_ms, Some(3_000));
        state.succeeded(9_000, 3);
        assert_eq!(
            (
                state.attempts,
                state.next_attempt_ms,
                state.server_rejected_events
            ),
            (0, None, 3)
        );
        std::fs::write(dir.path().join(STATE_FILE), "{not json").unwrap();
        assert_eq!(ForwardState::load(dir.path()), ForwardState::default());
        note_start(dir.path(), 42).unwrap();
        assert_eq!(last_start_ms(dir.path()), Some(42));
    }
}
