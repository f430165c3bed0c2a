//! One run of the sender, in the foreground: claim what is at rest, send every batch of the
//! outbox (oldest first) until the deadline, and move each by its verdict.
//!
//! A `Retry` verdict (the collector is down, busy or slow) ends the run: the backoff says when
//! to try again, and hammering a collector that is down helps nobody. A pausing rejection
//! (401/403/404) ends it too, until the destination changes or an operator acts. Nothing is ever
//! deleted but a batch a collector took (a 2xx), and that batch is first folded into the local
//! history (`metrics::history`), so `telemetry report` still counts its events.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::state::{ForwardState, Pause};
use crate::forward::{Backoff, Client, ForwardConfig, ParsedBatch, Verdict, classify, encode};
use crate::metrics::Event;
use crate::metrics::history::{self, DayTallies};
use crate::metrics::spool::outbox::{Batch, BatchLimits, Outbox, Rejection};
use crate::settings::Settings;
use crate::settings::forwarding::Forwarding;
use crate::time::now_millis;

/// How a run is to behave.
#[derive(Clone, Copy, Debug)]
pub struct SendOptions {
    /// The run ends by then (a request already started may run up to the request timeout).
    pub budget: Duration,
    /// How long to wait for another sender to finish first.
    pub lock_wait: Duration,
    /// Keep to the backoff schedule (a background sender), or try now (`flush`).
    pub respect_backoff: bool,
    /// Move the rejected batches back into the outbox first, and lift a pause (`flush
    /// --rejected`: an operator acts).
    pub requeue_rejected: bool,
    /// Also send the events held under a `local` consent or policy (`flush --include-local`:
    /// an operator asks; consent is never retroactive otherwise).
    pub include_local: bool,
}

impl SendOptions {
    /// A background sender's run: the backoff kept, no waiting for the lock, `budget` long.
    pub fn background(budget: Duration) -> Self {
        SendOptions {
            budget,
            lock_wait: Duration::ZERO,
            respect_backoff: true,
            requeue_rejected: false,
            include_local: false,
        }
    }

    /// An operator's `flush`: now, whatever the backoff, waiting for a running sender.
    pub fn flush(budget: Duration) -> Self {
        SendOptions {
            budget,
            lock_wait: budget,
            respect_backoff: false,
            requeue_rejected: false,
            include_local: false,
        }
    }
}

/// The shortest wait before a `flush` tries a batch again after a `Retry-After`.
const MIN_RETRY_WAIT: Duration = Duration::from_secs(1);

/// Why a run sent nothing, or stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every batch was tried.
    Done,
    /// Telemetry is off, or forwarding is not configured or cannot be used.
    Off(String),
    /// Forwarding is withheld: the redaction list was extended and the extension is not
    /// documented (SPEC §3); events stay local meanwhile.
    Withheld(String),
    /// Another sender held the lock for the whole wait.
    Busy,
    /// The backoff (or a server's `Retry-After`) says not yet.
    NotDue {
        /// When the next attempt is due (epoch ms).
        at_ms: u64,
    },
    /// A 401, 403 or 404 paused sending.
    Paused(String),
    /// The collector asked to retry later (the run ended there).
    Retry(String),
    /// The run's budget ran out with batches left.
    OutOfTime,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendReport {
    /// Why the run ended.
    pub stop: Stop,
    /// Batches the collector took.
    pub delivered_batches: u64,
    /// Events in them.
    pub delivered_events: u64,
    /// Of those, events the collector dropped (OTLP partial success).
    pub server_rejected: u64,
    /// Batches moved aside as rejected in this run.
    pub rejected_batches: u64,
    /// Batches left in the outbox.
    pub pending_batches: u64,
}

impl SendReport {
    /// A run that could not go on because of our own folder (a failed rename): nothing moved.
    pub(crate) fn failed() -> Self {
        SendReport::new(Stop::Off(
            "the telemetry folder could not be written".into(),
        ))
    }

    fn new(stop: Stop) -> Self {
        SendReport {
            stop,
            delivered_batches: 0,
            delivered_events: 0,
            server_rejected: 0,
            rejected_batches: 0,
            pending_batches: 0,
        }
    }
}

/// What the run needs to know about each batch while it goes.
pub type Progress<'a> = &'a mut dyn FnMut(&SendReport);

/// Sends what is pending under `settings`, as `options` say; `progress` is told after each batch.
/// Errors are failures of our own folder (a rename that failed): the batch stays where it was.
pub fn send_pending(
    settings: &Settings,
    options: SendOptions,
    progress: Progress<'_>,
) -> Result<SendReport, crate::Error> {
    let deadline = Instant::now() + options.budget;
    crate::failpoint::arm(settings.failpoint());
    let (config, dir) = match ready(settings) {
        Ok(ready) => ready,
        Err(why) => return Ok(SendReport::new(Stop::Off(why))),
    };
    if let Some(why) = settings.forwarding_withheld() {
        return Ok(SendReport::new(Stop::Withheld(why)));
    }
    let Some(outbox) = Outbox::open(&dir, options.lock_wait)? else {
        return Ok(SendReport::new(Stop::Busy));
    };
    let state_dir = dir.join(crate::metrics::spool::STATE_DIR);
    let mut run = Run {
        outbox,
        dir: dir.clone(),
        history_warned: false,
        config,
        state: ForwardState::load(&state_dir),
        report: SendReport::new(Stop::Done),
        deadline,
    };
    let result = run.go(options, progress);
    if let Err(e) = &result {
        run.state
            .local_failure(now_millis(), format!("on this machine: {e}"));
    }
    // The state is kept whatever happened; a failure to keep it only makes a retry come early.
    let _ = run.state.save(&state_dir);
    run.report.pending_batches = run.outbox.pending().len() as u64;
    result.map(|()| run.report)
}

/// The forwarding settings and the folder, or why there is nothing to do.
fn ready(settings: &Settings) -> Result<(ForwardConfig, std::path::PathBuf), String> {
    if !settings.switch().enabled() {
        return Err(format!(
            "telemetry is off ({})",
            settings.switch().decided_by()
        ));
    }
    let config = match settings.forwarding() {
        Forwarding::Ready(config) => (**config).clone(),
        Forwarding::Local => return Err("no endpoint is configured: events stay local".into()),
        Forwarding::Invalid { .. } => {
            return Err("a forwarding setting cannot be used (see telemetry status)".into());
        }
        Forwarding::Refused { reason, .. } => return Err(reason.clone()),
    };
    let dir = settings.dir().ok_or("there is no telemetry folder")?;
    Ok((config, dir))
}

struct Run {
    outbox: Outbox,
    dir: std::path::PathBuf,
    history_warned: bool,
    config: ForwardConfig,
    state: ForwardState,
    report: SendReport,
    deadline: Instant,
}

impl Run {
    fn go(&mut self, options: SendOptions, progress: Progress<'_>) -> Result<(), crate::Error> {
        let destination = self.config.destination_fingerprint();
        if !self.lift_pause(&destination, options.requeue_rejected)? {
            return Ok(());
        }
        let limits = BatchLimits {
            max_bytes: self.config.max_batch_bytes() as u64,
            max_events: self.config.max_batch_events() as u64,
        };
        self.outbox.claim(limits)?;
        if options.include_local {
            self.outbox.claim_held(limits)?;
        }
        if !self.due(options)? {
            return Ok(());
        }
        let client = match Client::new(&self.config) {
            Ok(client) => client,
            Err(e) => {
                self.report.stop = Stop::Off(e.to_string());
                return Ok(());
            }
        };
        let mut queue: VecDeque<Batch> = self.outbox.pending().into();
        while let Some(batch) = queue.pop_front() {
            if Instant::now() >= self.deadline {
                self.report.stop = Stop::OutOfTime;
                return Ok(());
            }
            let go_on = self.send(&client, &batch, &destination, &mut queue)?;
            progress(&self.report);
            if go_on {
                continue;
            }
            if !self.waited_out_retry_after(options) {
                return Ok(());
            }
            // The same batch again (a split's halves are already at the front of the queue).
            if batch.path().exists() {
                queue.push_front(batch);
            }
        }
        Ok(())
    }

    /// After a `Retry` that named a `Retry-After`: a `flush` waits it out when it ends before the
    /// deadline, and goes on (true). A background sender, a retry without `Retry-After`, or one
    /// past the deadline stops the run (false).
    fn waited_out_retry_after(&mut self, options: SendOptions) -> bool {
        if options.respect_backoff || !matches!(self.report.stop, Stop::Retry(_)) {
            return false;
        }
        let Some(until) = self.state.retry_after_until_ms else {
            return false;
        };
        // At least a second: a server answering `Retry-After: 0` every time is not hammered.
        let wait = Duration::from_millis(until.saturating_sub(now_millis())).max(MIN_RETRY_WAIT);
        if Instant::now() + wait >= self.deadline {
            return false;
        }
        std::thread::sleep(wait);
        self.report.stop = Stop::Done;
        true
    }

    /// Handles a pause: lifted when the destination changed (re-queueing what it rejected) or an
    /// operator re-queues; otherwise the run stops. Returns whether to go on.
    fn lift_pause(&mut self, destination: &str, requeue_all: bool) -> Result<bool, crate::Error> {
        if requeue_all {
            self.outbox.requeue(|_| true)?;
            self.state.paused = None;
            return Ok(true);
        }
        let Some(pause) = &self.state.paused else {
            return Ok(true);
        };
        if pause.destination == destination {
            let since = crate::time::rfc3339_millis(pause.since_ms);
            self.report.stop = Stop::Paused(format!("{} (since {since})", pause.reason));
            return Ok(false);
        }
        let changed =
            |r: Option<&Rejection>| r.is_some_and(|r| r.pauses && r.destination != destination);
        self.outbox.requeue(changed)?;
        self.state.paused = None;
        Ok(true)
    }

    /// Whether sending is due now; a `flush` waits out a server's `Retry-After` that ends before
    /// its deadline.
    fn due(&mut self, options: SendOptions) -> Result<bool, crate::Error> {
        let now = now_millis();
        let backoff = self
            .state
            .next_attempt_ms
            .filter(|_| options.respect_backoff);
        let until = backoff
            .into_iter()
            .chain(self.state.retry_after_until_ms)
            .max();
        let Some(until) = until.filter(|until| *until > now) else {
            return Ok(true);
        };
        let wait = Duration::from_millis(until - now);
        if options.respect_backoff || Instant::now() + wait > self.deadline {
            self.report.stop = Stop::NotDue { at_ms: until };
            return Ok(false);
        }
        std::thread::sleep(wait);
        Ok(true)
    }

    /// Sends one batch in one request and moves it by the verdict; returns whether to go on.
    ///
    /// A batch the collector finds too large (413) is split on disk first (its halves are
    /// batches of their own, `<id>.0` and `<id>.1`), then the halves are sent: a crash at any
    /// point can only send a half again under its own key, never under another.
    fn send(
        &mut self,
        client: &Client,
        batch: &Batch,
        destination: &str,
        queue: &mut VecDeque<Batch>,
    ) -> Result<bool, crate::Error> {
        let lines = batch.lines().map_err(|e| crate::Error::Io {
            path: batch.path().to_owned(),
            error: e,
        })?;
        let parsed = ParsedBatch::parse(&lines);
        let aside: Vec<String> = parsed
            .skipped
            .iter()
            .filter_map(|i| lines.get(*i))
            .cloned()
            .collect();
        if !aside.is_empty() {
            self.outbox.set_aside(batch, &aside)?;
        }
        if parsed.events.is_empty() {
            self.outbox.acknowledge(batch)?; // its lines are safe in torn/
            return Ok(true);
        }
        let body = encode(
            self.config.protocol(),
            self.config.compression(),
            &parsed.events,
        );
        let outcome = client.post_before(&body, batch.id(), Some(self.deadline));
        let now = now_millis();
        match classify(&outcome) {
            Verdict::Delivered { server_rejected } => {
                crate::failpoint::hit("send.delivered");
                self.fold_into_history(batch, &parsed.events);
                self.outbox.acknowledge(batch)?;
                crate::failpoint::hit("ack.removed");
                self.report.delivered_batches += 1;
                self.report.delivered_events += parsed.events.len() as u64;
                self.report.server_rejected += server_rejected;
                self.state.succeeded(now, server_rejected);
                Ok(true)
            }
            Verdict::Split if parsed.events.len() > 1 => {
                let (first, second) = parsed.events.split_at(parsed.events.len() / 2);
                let lines_of = |part: &[(usize, &str, crate::metrics::Event)]| -> Vec<String> {
                    part.iter().map(|(_, l, _)| (*l).to_owned()).collect()
                };
                let (first, second) = (lines_of(first), lines_of(second));
                let halves = [
                    (
                        format!("{}.0", batch.id()),
                        first.iter().map(String::as_str).collect(),
                    ),
                    (
                        format!("{}.1", batch.id()),
                        second.iter().map(String::as_str).collect(),
                    ),
                ];
                let written = self.outbox.replace(batch, &halves)?;
                for half in written.into_iter().rev() {
                    queue.push_front(half);
                }
                Ok(true)
            }
            Verdict::Split => {
                let reason =
                    "HTTP 413: a single event is larger than the collector accepts".to_owned();
                let verdict = Verdict::Rejected {
                    pause: false,
                    status: Some(413),
                    reason,
                };
                self.apply(batch, &verdict, destination, now)
            }
            verdict => self.apply(batch, &verdict, destination, now),
        }
    }

    /// Adds a delivered batch's events to the history before the batch is deleted (once per
    /// batch id: a batch delivered again after a crash is not counted twice). A fold that fails
    /// costs the report those events, never the delivery: said once per run.
    fn fold_into_history(&mut self, batch: &Batch, events: &[(usize, &str, Event)]) {
        let mut tallies = DayTallies::default();
        events.iter().for_each(|(_, _, event)| tallies.add(event));
        let Err(e) = history::fold(&self.dir, batch.id(), &tallies, true) else {
            return;
        };
        if !std::mem::replace(&mut self.history_warned, true) {
            crate::diag::warn(format_args!(
                "delivered events could not be added to the local history (telemetry report will miss them): {e}"
            ));
        }
    }

    /// Moves `batch` by a verdict that is not a delivery; returns whether to go on.
    fn apply(
        &mut self,
        batch: &Batch,
        verdict: &Verdict,
        destination: &str,
        now: u64,
    ) -> Result<bool, crate::Error> {
        match verdict {
            Verdict::Retry {
                retry_after,
                reason,
            } => {
                if !matches!(self.report.stop, Stop::Retry(_)) {
                    // One failed attempt, however many parts of it asked to retry.
                    let delay = Backoff::default().delay(self.state.attempts, *retry_after);
                    let retry_after_ms = retry_after.map(|d| d.as_millis() as u64);
                    self.state.failed(
                        now,
                        reason.clone(),
                        delay.as_millis() as u64,
                        retry_after_ms,
                    );
                    self.report.stop = Stop::Retry(reason.clone());
                }
                Ok(false)
            }
            Verdict::Rejected {
                pause,
                status,
                reason,
            } => {
                let rejection = Rejection {
                    status: *status,
                    reason: reason.clone(),
                    at_ms: now,
                    pauses: *pause,
                    destination: destination.to_owned(),
                };
                self.outbox.reject(batch, &rejection)?;
                self.report.rejected_batches += 1;
                self.state.rejected(now, reason.clone());
                if *pause {
                    self.state.paused = Some(Pause {
                        status: *status,
                        reason: reason.clone(),
                        since_ms: now,
                        destination: destination.to_owned(),
                    });
                    self.report.stop = Stop::Paused(reason.clone());
                    return Ok(false);
                }
                Ok(true)
            }
            // Splits and deliveries are handled by `send`.
            Verdict::Split | Verdict::Delivered { .. } => Ok(true),
        }
    }
}
