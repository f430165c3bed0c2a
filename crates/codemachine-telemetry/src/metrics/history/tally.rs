//! What the history and the report add up: a [`Tally`] of events (count, failures, a duration
//! [`Histogram`]) and the fixed buckets the durations fall into.
//!
//! # The buckets
//!
//! Bucket 0 holds 0 ms. Above it, every power of two is split into four equal parts: a duration
//! `d ≥ 1` with `2^e ≤ d < 2^(e+1)` falls into bucket `1 + 4e + s`, where `s` says which quarter
//! of that octave `d` is in (`[2^e, 1.25·2^e)`, `[1.25·2^e, 1.5·2^e)`, …). The last bucket holds
//! everything from 2^32 ms (49 days) on. So a bucket is never wider than a quarter of its lower
//! bound: an estimate inside the right bucket is within 25 % of the true value, whatever the
//! scale, and 130 buckets cover everything. The index is computed with integers only, so a
//! duration falls in the same bucket on every machine, and the bounds are exact.
//!
//! Durations below 4 ms leave some buckets empty (no whole number lies in `[1.25, 1.5)`): that
//! costs nothing, as only buckets with counts are stored.

use std::collections::BTreeMap;

use crate::metrics::event::{Event, EventKind};

/// How many buckets there are.
pub const BUCKETS: usize = 130;
/// The last bucket holds durations from this on (2^32 ms, 49.7 days).
const TOP_FROM_MS: u64 = 1 << 32;

/// The bucket a duration in milliseconds falls into.
pub fn bucket_of(ms: u64) -> usize {
    if ms == 0 {
        return 0;
    }
    if ms >= TOP_FROM_MS {
        return BUCKETS - 1;
    }
    let e = 63 - ms.leading_zeros() as usize; // 2^e ≤ ms < 2^(e+1)
    let quarter = ((u128::from(ms) << 2) >> e) as usize - 4; // 0..=3
    1 + 4 * e + quarter
}

/// The whole milliseconds bucket `i` holds, as `from..to` (`to` is `None` for the last bucket,
/// which is open-ended). Empty for the buckets no whole number falls into.
pub fn bucket_range(i: usize) -> (u64, Option<u64>) {
    let from = lowest_in(i);
    let to = (i + 1 < BUCKETS).then(|| lowest_in(i + 1));
    (from, to)
}

/// The smallest whole number of milliseconds that is not below bucket `i`'s lower bound.
fn lowest_in(i: usize) -> u64 {
    match i {
        0 => 0,
        i if i >= BUCKETS - 1 => TOP_FROM_MS,
        i => {
            let (e, quarter) = ((i - 1) / 4, (i - 1) % 4);
            ((4 + quarter as u64) << e).div_ceil(4)
        }
    }
}

/// How many durations fell into each bucket; only buckets with counts are kept (sorted), so a
/// command that always takes about as long costs a few numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<(u8, u64)>,
}

impl Histogram {
    /// Adds `n` durations of `ms`.
    pub fn add(&mut self, ms: u64, n: u64) {
        self.add_to_bucket(bucket_of(ms), n);
    }

    /// Adds `n` to bucket `i` (ignored past the last bucket).
    pub fn add_to_bucket(&mut self, i: usize, n: u64) {
        let Ok(i) = u8::try_from(i) else { return };
        if usize::from(i) >= BUCKETS || n == 0 {
            return;
        }
        match self.counts.binary_search_by_key(&i, |(b, _)| *b) {
            Ok(at) => self.counts[at].1 = self.counts[at].1.saturating_add(n),
            Err(at) => self.counts.insert(at, (i, n)),
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (i, n) in &other.counts {
            self.add_to_bucket(usize::from(*i), *n);
        }
    }

    /// `(bucket, count)` for every bucket with a count, in bucket order.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter().map(|(i, n)| (usize::from(*i), *n))
    }

    /// How many durations it holds.
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .fold(0u64, |t, (_, n)| t.saturating_add(*n))
    }

    /// The bucket holding the `q`-quantile (nearest rank: the smallest duration with at least
    /// `q` of all at or below it), or `None` when it is empty.
    pub fn quantile_bucket(&self, q: f64) -> Option<usize> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        for (i, n) in self.buckets() {
            seen = seen.saturating_add(n);
            if seen >= rank {
                return Some(i);
            }
        }
        self.counts.last().map(|(i, _)| usize::from(*i))
    }
}

/// Events added up: for commands, runs, failures and durations; for features, uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events, each weighing its `count` (runs of a command, uses of a feature).
    pub count: u64,
    /// Runs that ended with an exit code other than 0.
    pub failures: u64,
    /// The durations of the runs that carried one.
    pub durations: Histogram,
    /// The shortest duration seen (tightens estimates in its bucket).
    pub min_ms: Option<u64>,
    /// The longest duration seen.
    pub max_ms: Option<u64>,
}

impl Tally {
    /// Adds one event.
    pub fn add_event(&mut self, event: &Event) {
        let n = event.count;
        self.count = self.count.saturating_add(n);
        if event.kind != EventKind::Command || n == 0 {
            return;
        }
        if event.exit_code.is_some_and(|code| code != 0) {
            self.failures = self.failures.saturating_add(n);
        }
        if let Some(ms) = event.duration_ms {
            self.durations.add(ms, n);
            self.min_ms = Some(self.min_ms.map_or(ms, |m| m.min(ms)));
            self.max_ms = Some(self.max_ms.map_or(ms, |m| m.max(ms)));
        }
    }

    /// Adds `other` to this tally.
    pub fn merge(&mut self, other: &Tally) {
        self.count = self.count.saturating_add(other.count);
        self.failures = self.failures.saturating_add(other.failures);
        self.durations.merge(&other.durations);
        self.min_ms = either(self.min_ms, other.min_ms, u64::min);
        self.max_ms = either(self.max_ms, other.max_ms, u64::max);
    }

    /// An estimate of the `q`-quantile of the durations: the middle of the bucket that holds it,
    /// kept between the shortest and longest durations seen (so it never leaves that bucket).
    pub fn quantile_ms(&self, q: f64) -> Option<u64> {
        let i = self.durations.quantile_bucket(q)?;
        let (from, to) = bucket_range(i);
        let last = match to {
            Some(to) => to.saturating_sub(1).max(from),
            None => self.max_ms.unwrap_or(from).max(from),
        };
        let middle = from + (last - from) / 2;
        let low = self.min_ms.unwrap_or(0);
        let high = self.max_ms.unwrap_or(u64::MAX);
        Some(middle.clamp(low.min(high), high))
    }
}

/// `pick` of both when both are there, else whichever is.
fn either(a: Option<u64>, b: Option<u64>, pick: fn(u64, u64) -> u64) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// What a day of events is filed under: the UTC day (from 1970-01-01), the kind and the name.
pub type RowKey = (u64, EventKind, String);

/// At most this many rows in one fold: a batch of 5,000 events has at most 5,000; more can only
/// come from a segment someone filled by hand, whose further rows are added up under
/// [`OTHER_NAMES`] so that a fold line stays a few MiB.
pub const MAX_FOLD_ROWS: usize = 10_000;
/// Names are kept in the history up to this many bytes (ours are at most 64): a longer one was
/// not recorded by us, and is cut so that no row is large.
pub const MAX_HISTORY_NAME_BYTES: usize = 128;
/// The name the rows past [`MAX_FOLD_ROWS`] are added up under.
pub const OTHER_NAMES: &str = "other names";

/// Tallies of events per UTC day, kind and name: the rows a fold adds to the history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayTallies {
    /// The rows.
    pub rows: BTreeMap<RowKey, Tally>,
    /// Events added.
    pub events: u64,
    /// Events without a time that can be read (left out).
    pub undated: u64,
}

impl DayTallies {
    /// Adds `event` to the row of its day; an event whose time cannot be read is counted apart.
    pub fn add(&mut self, event: &Event) {
        let Some(day) = event_day(event) else {
            self.undated += 1;
            return;
        };
        self.events += 1;
        let mut key = (
            day,
            event.kind,
            cut(&event.name, MAX_HISTORY_NAME_BYTES).to_owned(),
        );
        if self.rows.len() >= MAX_FOLD_ROWS && !self.rows.contains_key(&key) {
            key.2 = OTHER_NAMES.to_owned();
        }
        self.rows.entry(key).or_default().add_event(event);
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The UTC day of an event: from its `ts`, else from the time in its id.
pub fn event_day(event: &Event) -> Option<u64> {
    event_time_ms(event).map(|ms| ms / crate::time::DAY_MS)
}

/// The time of an event in epoch milliseconds: its `ts`, else the time in its id.
pub fn event_time_ms(event: &Event) -> Option<u64> {
    crate::time::parse_rfc3339_millis(&event.ts).or_else(|| event.time_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duration_falls_in_the_bucket_whose_range_holds_it() {
        let mut samples: Vec<u64> = (0..5000).collect();
        for e in 0..64 {
            let p = 1u64 << e;
            samples.extend([p - 1, p, p + 1, p + p / 4, p + p / 2, p + p / 4 * 3]);
        }
        samples.push(u64::MAX);
        for ms in samples {
            let i = bucket_of(ms);
            let (from, to) = bucket_range(i);
            assert!(
                from <= ms && to.is_none_or(|to| ms < to),
                "{ms} in {i}: {from}..{to:?}"
            );
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_range(BUCKETS - 1), (1 << 32, None));
    }

    #[test]
    fn buckets_are_ordered_and_never_wider_than_a_quarter_of_their_bound() {
        for i in 1..BUCKETS - 1 {
            let (from, to) = bucket_range(i);
            let to = to.unwrap();
            assert!(from <= to, "{i}");
            if from >= 4 {
                assert!((to - from) * 4 <= from, "{i}: {from}..{to}");
            }
        }
        assert_eq!(
            (bucket_of(1), bucket_of(2), bucket_of(3), bucket_of(5)),
            (1, 5, 7, 10)
        );
    }

    #[test]
    fn quantiles_land_in_the_bucket_of_the_true_value() {
        let durations: Vec<u64> = (1..=1000).map(|i| i * i % 7919 + 3).collect();
        let mut tally = Tally::default();
        for d in &durations {
            tally.durations.add(*d, 1);
            tally.min_ms = Some(tally.min_ms.map_or(*d, |m| m.min(*d)));
            tally.max_ms = Some(tally.max_ms.map_or(*d, |m| m.max(*d)));
        }
        let mut sorted = durations.clone();
        sorted.sort();
        for q in [0.5, 0.95, 0.01, 1.0] {
            let rank = ((q * 1000.0_f64).ceil() as usize).max(1);
            let truth = sorted[rank - 1];
            let estimate = tally.quantile_ms(q).unwrap();
            assert_eq!(bucket_of(estimate), bucket_of(truth), "q={q}");
        }
        let mut one = Tally::default();
        one.durations.add(1234, 5);
        (one.min_ms, one.max_ms) = (Some(1234), Some(1234));
        assert_eq!(one.quantile_ms(0.5), Some(1234), "a single value is exact");
        assert_eq!(Tally::default().quantile_ms(0.5), None);
    }

    #[test]
    fn a_fold_stays_small_whatever_the_batch_holds() {
        let event = |n: usize, name: String| {
            let line = format!(
                "{{\"schema\":1,\"id\":\"{n:032x}\",\"ts\":\"2026-01-02T00:00:00.000Z\",\"kind\":\"feature\",\"name\":\"{name}\",\"count\":1,\"session_id\":\"s\",\"anon_id\":\"a\",\"cli_version\":\"0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}"
            );
            Event::parse(&line).unwrap()
        };
        let mut t = DayTallies::default();
        for n in 0..MAX_FOLD_ROWS + 5 {
            t.add(&event(n, format!("f{n}")));
        }
        t.add(&event(0, "é".repeat(100)));
        assert_eq!(t.rows.len(), MAX_FOLD_ROWS + 1);
        let other = t.rows.iter().find(|(k, _)| k.2 == OTHER_NAMES).unwrap().1;
        assert_eq!(other.count, 6);
        assert_eq!(t.events, MAX_FOLD_ROWS as u64 + 6);
        assert_eq!(cut(&"é".repeat(100), 127).len(), 126);
    }

    #[test]
    fn merging_adds_up_and_saturates() {
        let mut a = Tally {
            count: u64::MAX - 1,
            ..Tally::default()
        };
        a.durations.add(10, 2);
        let mut b = Tally {
            count: 5,
            failures: 1,
            min_ms: Some(3),
            max_ms: Some(90),
            ..Tally::default()
        };
        b.durations.add(10, 1);
        b.durations.add(90, 1);
        a.merge(&b);
        assert_eq!(a.count, u64::MAX);
        assert_eq!(a.durations.total(), 4);
        assert_eq!((a.min_ms, a.max_ms, a.failures), (Some(3), Some(90), 1));
    }
}
