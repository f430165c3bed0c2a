//! `telemetry report` as a typed value: the user's own metrics, worked out from the events
//! still buffered (every state) and the history of those that left (see
//! [`crate::metrics::history`]). The library computes; the binary renders a table, JSON or a
//! page.
//!
//! Reading never creates, locks or writes anything, so the report works with telemetry off on
//! whatever is in the folder, and on no folder at all (an empty report). The spool is streamed
//! line by line: memory grows with the number of names and days, never with the spool's size,
//! and both are bounded ([`MAX_NAMES`] names of each kind, per-name series over the last
//! [`SERIES_DAYS`] days).
//!
//! Days are UTC days. `--since` selects whole days (the history has no finer grain): from the
//! day holding `now − since` on. A batch whose id the history already holds (folded just before
//! a crash, not yet deleted) is counted from the history only, and the part of an unfinished
//! claim or split (a copy of a batch still on disk) is not counted at all: nothing is counted
//! twice. Events stamped more than a day in the future are left out and counted, so a wrong
//! clock cannot stretch the charts over centuries.
//!
//! The report takes no lock: one made while a sender delivers may miss a batch in motion (folded
//! and deleted between the history's read and the spool's, or renamed between the listing of a
//! folder and its read, then reported as skipped); it never counts one twice. Run it again.

mod accumulate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use accumulate::Accumulator;

use crate::metrics::history;
use crate::metrics::spool::outbox::is_unfinished_part;
use crate::metrics::spool::{OddEntry, Paths, for_each_batch_line};
use crate::time::{DAY_MS, date_of_day, now_millis, rfc3339_millis};

/// At most this many names of each kind are reported one by one; events of further names are
/// added up under one row marked `merged` (a spool of 100,000 names stays a readable report
/// in bounded memory).
pub const MAX_NAMES: usize = 1000;
/// Per-name series (and the charts) cover at most this many days, ending today.
pub const SERIES_DAYS: u64 = 366;
/// Events stamped later than this after now are from a wrong clock: left out, and counted.
pub const FUTURE_TOLERANCE_MS: u64 = DAY_MS;

/// What to report on.
#[derive(Clone, Copy, Debug)]
pub struct ReportOptions {
    /// Only the days from the one holding `now − since` on. By default, everything.
    pub since: Option<Duration>,
    /// The time the report is made at (epoch ms). By default, now.
    pub now_ms: u64,
}

impl ReportOptions {
    /// Everything, as of now.
    pub fn new() -> Self {
        ReportOptions {
            since: None,
            now_ms: now_millis(),
        }
    }

    /// Only the days from the one holding `now − since` on. By default, everything.
    pub fn since(mut self, since: Option<Duration>) -> Self {
        self.since = since;
        self
    }

    /// The first day reported (days from 1970-01-01), if limited.
    fn first_day(&self) -> Option<u64> {
        let since = self.since?;
        let since_ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
        Some(self.now_ms.saturating_sub(since_ms) / DAY_MS)
    }
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions::new()
    }
}

/// The report. The JSON keys are the contract of `report --json` (documented in the README).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// When it was made (RFC 3339, UTC).
    pub generated_at: String,
    /// The telemetry folder read.
    pub dir: Option<PathBuf>,
    /// The first day reported (`YYYY-MM-DD`, UTC), when `--since` limits it.
    pub since: Option<String>,
    /// Today (UTC).
    pub today: String,
    /// The first day with activity.
    pub first_day: Option<String>,
    /// The last day with activity.
    pub last_day: Option<String>,
    /// Sums over everything reported.
    pub totals: Totals,
    /// Commands, most run first.
    pub commands: Vec<CommandRow>,
    /// Features, most used first.
    pub features: Vec<FeatureRow>,
    /// Every day with activity, oldest first.
    pub activity: Vec<DayActivity>,
    /// Where the figures come from.
    pub sources: Sources,
    /// What was left out, and why.
    pub skipped: Skipped,
    #[serde(skip)]
    today_day: u64,
    #[serde(skip)]
    first_reported_day: Option<u64>,
}

/// Sums over everything reported.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Command runs.
    pub commands: u64,
    /// Of those, runs with a non-zero exit code.
    pub failures: u64,
    /// Feature uses.
    pub features: u64,
}

/// One command.
#[derive(Clone, Debug, Serialize)]
pub struct CommandRow {
    /// The command's name, as recorded (`other names` for the merged row).
    pub name: String,
    /// True for the row adding up the names past [`MAX_NAMES`].
    pub merged: bool,
    /// Runs.
    pub count: u64,
    /// Runs with a non-zero exit code.
    pub failures: u64,
    /// `failures / count` (0 when there are no runs).
    pub failure_rate: f64,
    /// Runs that carried a duration.
    pub timed: u64,
    /// The median duration, estimated within its histogram bucket.
    pub median_ms: Option<u64>,
    /// The 95th percentile duration, estimated within its histogram bucket.
    pub p95_ms: Option<u64>,
    /// The shortest run.
    pub min_ms: Option<u64>,
    /// The longest run.
    pub max_ms: Option<u64>,
    /// Runs per day (days with runs, oldest first, over the last [`SERIES_DAYS`] days).
    pub days: Vec<DayCount>,
    /// The duration histogram: every bucket with runs.
    pub durations: Vec<BucketCount>,
}

/// One feature.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureRow {
    /// The feature's name, as recorded (`other names` for the merged row).
    pub name: String,
    /// True for the row adding up the names past [`MAX_NAMES`].
    pub merged: bool,
    /// Uses.
    pub count: u64,
    /// Uses per day (days with uses, oldest first, over the last [`SERIES_DAYS`] days).
    pub days: Vec<DayCount>,
}

/// A day's count for one name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Runs or uses.
    pub count: u64,
    /// Failed runs (always 0 for features).
    pub failures: u64,
}

/// A bucket of the duration histogram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BucketCount {
    /// The shortest duration it holds.
    pub from_ms: u64,
    /// The first duration past it (`null` for the last, open-ended bucket).
    pub to_ms: Option<u64>,
    /// Runs.
    pub count: u64,
}

/// One day, every name together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayActivity {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Command runs.
    pub commands: u64,
    /// Of those, failed.
    pub failures: u64,
    /// Feature uses.
    pub features: u64,
}

/// Where the figures come from.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Sources {
    /// Events read from the buffered batches (every state).
    pub buffered_events: u64,
    /// Rows read from the history (a day of one name each).
    pub history_rows: u64,
    /// The history file, when there is one.
    pub history_file: Option<PathBuf>,
}

/// What was left out of the figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Skipped {
    /// Lines that are not whole events (torn by a crash, corrupted).
    pub torn_lines: u64,
    /// Events stamped more than a day after now (a wrong clock); a history day-row so stamped
    /// counts as one.
    pub future_events: u64,
    /// Events whose time cannot be read.
    pub undated_events: u64,
    /// History lines that cannot be read.
    pub history_lines: u64,
    /// Events of batches the history already counts (folded just before a crash).
    pub in_history_events: u64,
    /// Events in parts of an unfinished claim or split (copies of a batch still on disk).
    pub copied_events: u64,
    /// Entries of the folder that were not read (links, FIFOs, foreign files, a history too
    /// large).
    pub entries: Vec<SkippedEntry>,
}

/// An entry that was not read.
#[derive(Clone, Debug, Serialize)]
pub struct SkippedEntry {
    /// The entry.
    pub path: PathBuf,
    /// Why.
    pub why: String,
}

impl From<OddEntry> for SkippedEntry {
    fn from(odd: OddEntry) -> Self {
        SkippedEntry {
            path: odd.path,
            why: odd.why,
        }
    }
}

impl Report {
    /// Works out the report for the telemetry folder `dir` (none: an empty report), reading
    /// (never writing) the history and every buffered batch.
    pub fn collect(dir: Option<&Path>, options: &ReportOptions) -> Report {
        let mut acc = Accumulator::new(options.now_ms, options.first_day());
        let mut sources = Sources::default();
        let mut skipped = Skipped::default();
        if let Some(dir) = dir {
            read_folder(dir, &mut acc, &mut sources, &mut skipped);
        }
        acc.finish(Report {
            generated_at: rfc3339_millis(options.now_ms),
            dir: dir.map(Path::to_owned),
            since: options.first_day().map(date_of_day),
            today: date_of_day(options.now_ms / DAY_MS),
            first_day: None,
            last_day: None,
            totals: Totals::default(),
            commands: Vec::new(),
            features: Vec::new(),
            activity: Vec::new(),
            sources,
            skipped,
            today_day: options.now_ms / DAY_MS,
            first_reported_day: options.first_day(),
        })
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.features.is_empty()
    }

    /// The `n` days ending today (or on the last day with activity, if later), oldest first,
    /// none before the first day reported: the span of a sparkline.
    pub fn recent_days(&self, n: u64) -> Vec<String> {
        let end = self.end_day();
        let start = end.saturating_sub(n.saturating_sub(1));
        self.days_from(start, end)
    }

    /// The days from the first with activity (at most [`SERIES_DAYS`] back) to today, oldest
    /// first: the span of the charts.
    pub fn chart_days(&self) -> Vec<String> {
        let end = self.end_day();
        let oldest = end.saturating_sub(SERIES_DAYS - 1);
        let first = self.first_day.as_deref().and_then(crate::time::day_of_date);
        self.days_from(first.unwrap_or(end).max(oldest), end)
    }

    fn end_day(&self) -> u64 {
        let last = self.last_day.as_deref().and_then(crate::time::day_of_date);
        last.unwrap_or(0).max(self.today_day)
    }

    fn days_from(&self, start: u64, end: u64) -> Vec<String> {
        let start = start.max(self.first_reported_day.unwrap_or(0));
        (start..=end).map(date_of_day).collect()
    }
}

/// Adds the history and every buffered batch of `dir` to `acc`.
fn read_folder(dir: &Path, acc: &mut Accumulator, sources: &mut Sources, skipped: &mut Skipped) {
    let history = history::read(dir, |key, tally| acc.add_row(&key, &tally));
    let paths = Paths::new(dir);
    // Lines come batch by batch: whether a batch is skipped is decided once, at its first line.
    let mut current: (String, Option<Skip>) = (String::new(), None);
    let listing = for_each_batch_line(dir, |id, _, _, event| {
        let Some(event) = event else { return };
        if current.0 != id {
            current = (id.to_owned(), skip_reason(&paths, &history, id));
        }
        match current.1 {
            Some(Skip::InHistory) => skipped.in_history_events += 1,
            Some(Skip::Copy) => skipped.copied_events += 1,
            None => {
                sources.buffered_events += 1;
                acc.add_event(event);
            }
        }
    });
    sources.history_rows = history.rows;
    sources.history_file = history.path;
    skipped.history_lines = history.bad_lines;
    skipped.torn_lines = listing.batches.iter().map(|b| b.torn).sum();
    let odd = listing.odd.into_iter().chain(history.odd);
    skipped.entries = odd.map(SkippedEntry::from).collect();
}

#[derive(Clone, Copy)]
enum Skip {
    InHistory,
    Copy,
}

fn skip_reason(paths: &Paths, history: &history::HistoryRead, id: &str) -> Option<Skip> {
    if history.folded.contains(id) {
        Some(Skip::InHistory)
    } else if is_unfinished_part(paths, id) {
        Some(Skip::Copy)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
