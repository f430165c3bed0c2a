//! Sending one batch end to end: encode, POST, and on a `413` split the batch in halves and send
//! each (recursively), so the batch life cycle only has to move files by the result.
//!
//! The one decision: the halves of a batch carry deterministic keys (`<batch id>.0`,
//! `<batch id>.1`, `<batch id>.1.0`, …), so a batch that is split again on a later attempt sends
//! the same parts under the same `Idempotency-Key`s, and a collector can de-duplicate them.
//! After a `Retry` or a pausing rejection the rest of the batch is not sent in this attempt (the
//! collector is down or refuses us): those parts get the same verdict, marked not attempted.

use std::time::Instant;

use super::encode::{ParsedBatch, encode};
use super::retry::{Verdict, classify};
use super::transport::Client;
use crate::metrics::Event;

/// Requests one batch may cost at most: a collector that answers `413` to everything cannot
/// make us send a request per event. What is left when the budget runs out is retried later.
pub const MAX_REQUESTS_PER_BATCH: usize = 64;

/// What became of one part of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Indexes of the batch's lines in this part.
    pub lines: Vec<usize>,
    /// The `Idempotency-Key` it was (or would have been) sent with.
    pub key: String,
    /// Its verdict (never [`Verdict::Split`]).
    pub verdict: Verdict,
    /// Whether a request was made for it (false: skipped after an earlier part's retry or pause).
    pub attempted: bool,
}

/// The result of [`send_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// Every event of the batch in exactly one part, in order.
    pub parts: Vec<Part>,
    /// Indexes of lines that are not events (torn, foreign): never sent, to be kept.
    pub skipped_lines: Vec<usize>,
    /// Requests made.
    pub requests: usize,
}

impl BatchReport {
    /// One verdict for the whole batch, the most careful of its parts': any `Retry` makes the
    /// batch retried (the longest `Retry-After` kept); else any rejection rejects it (pausing if
    /// one paused); else it is delivered with the server's rejected counts added up. A batch
    /// with no event is rejected (kept aside, never deleted: its lines are not ours to drop).
    ///
    /// Resending a batch whose other parts were delivered only duplicates them (same record
    /// ids); [`BatchReport::parts`] lets a caller avoid even that.
    pub fn verdict(&self) -> Verdict {
        if self.parts.is_empty() {
            return Verdict::Rejected {
                pause: false,
                status: None,
                reason: format!(
                    "no event in the batch can be sent ({} unreadable lines)",
                    self.skipped_lines.len()
                ),
            };
        }
        let verdicts = || self.parts.iter().map(|p| &p.verdict);
        if let Some(Verdict::Retry { reason, .. }) =
            verdicts().find(|v| matches!(v, Verdict::Retry { .. }))
        {
            let retry_after = verdicts()
                .filter_map(|v| match v {
                    Verdict::Retry { retry_after, .. } => *retry_after,
                    _ => None,
                })
                .max();
            return Verdict::Retry {
                retry_after,
                reason: reason.clone(),
            };
        }
        let rejected = verdicts()
            .find(|v| matches!(v, Verdict::Rejected { pause: true, .. }))
            .or_else(|| verdicts().find(|v| matches!(v, Verdict::Rejected { .. })));
        if let Some(v) = rejected {
            return v.clone();
        }
        Verdict::Delivered {
            server_rejected: verdicts()
                .map(|v| match v {
                    Verdict::Delivered { server_rejected } => *server_rejected,
                    _ => 0,
                })
                .sum(),
        }
    }

    /// Events the server accepted or counted as rejected in a partial success.
    pub fn delivered_events(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::Delivered { .. }))
            .map(|p| p.lines.len())
            .sum()
    }
}

/// Sends one batch: its lines as read from the spool (newlines optional), under
/// `Idempotency-Key: batch_id`. Lines that are not events are left out and listed in
/// [`BatchReport::skipped_lines`]. Never sleeps: a `Retry-After` is returned, not waited for.
///
/// Each request has the configured timeout; with splits and redirects a batch may take several.
/// Use [`send_batch_before`] to bound the whole.
pub fn send_batch<S: AsRef<str>>(client: &Client, batch_id: &str, lines: &[S]) -> BatchReport {
    send(client, batch_id, lines, None)
}

/// [`send_batch`], finished by `deadline`: no request starts after it and none runs past it;
/// what was not sent gets a `Retry` verdict (marked not attempted when no request was made).
pub fn send_batch_before<S: AsRef<str>>(
    client: &Client,
    batch_id: &str,
    lines: &[S],
    deadline: Instant,
) -> BatchReport {
    send(client, batch_id, lines, Some(deadline))
}

fn send<S: AsRef<str>>(
    client: &Client,
    batch_id: &str,
    lines: &[S],
    deadline: Option<Instant>,
) -> BatchReport {
    let parsed = ParsedBatch::parse(lines);
    let mut sender = Sender {
        client,
        parts: Vec::new(),
        requests: 0,
        stop: None,
        deadline,
    };
    if !parsed.events.is_empty() {
        sender.send(batch_id.to_owned(), &parsed.events);
    }
    BatchReport {
        parts: sender.parts,
        skipped_lines: parsed.skipped,
        requests: sender.requests,
    }
}

struct Sender<'c> {
    client: &'c Client,
    parts: Vec<Part>,
    requests: usize,
    /// Set once a part must stop the attempt: the verdict the rest of the batch gets.
    stop: Option<Verdict>,
    deadline: Option<Instant>,
}

impl Sender<'_> {
    fn send(&mut self, key: String, events: &[(usize, &str, Event)]) {
        if self.stop.is_none() && self.requests >= MAX_REQUESTS_PER_BATCH {
            self.stop = Some(Verdict::Retry {
                retry_after: None,
                reason: format!(
                    "the collector kept answering 413: {MAX_REQUESTS_PER_BATCH} requests spent on this batch"
                ),
            });
        }
        if self.stop.is_none() && self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stop = Some(Verdict::Retry {
                retry_after: None,
                reason: "the time allowed for sending ran out".into(),
            });
        }
        if let Some(verdict) = &self.stop {
            let verdict = verdict.clone();
            self.push(key, events, verdict, false);
            return;
        }
        let config = self.client.config();
        let body = encode(config.protocol(), config.compression(), events);
        self.requests += 1;
        match classify(&self.client.post_before(&body, &key, self.deadline)) {
            Verdict::Split if events.len() > 1 => {
                let (first, second) = events.split_at(events.len() / 2);
                self.send(format!("{key}.0"), first);
                self.send(format!("{key}.1"), second);
            }
            Verdict::Split => {
                let verdict = Verdict::Rejected {
                    pause: false,
                    status: Some(413),
                    reason: "HTTP 413: a single event is larger than the collector accepts".into(),
                };
                self.push(key, events, verdict, true);
            }
            verdict @ (Verdict::Retry { .. } | Verdict::Rejected { pause: true, .. }) => {
                self.stop = Some(verdict.clone());
                self.push(key, events, verdict, true);
            }
            verdict => self.push(key, events, verdict, true),
        }
    }

    fn push(
        &mut self,
        key: String,
        events: &[(usize, &str, Event)],
        verdict: Verdict,
        attempted: bool,
    ) {
        self.parts.push(Part {
            lines: events.iter().map(|(i, _, _)| *i).collect(),
            key,
            verdict,
            attempted,
        });
    }
}
