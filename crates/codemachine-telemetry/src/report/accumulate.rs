//! Adding events and history rows up, per name and per day, in bounded memory (see the module
//! docs of [`super`]): at most [`MAX_NAMES`] names of each kind, per-name days only over the
//! last [`SERIES_DAYS`], totals per day for every day (days since 1970: a bounded number too,
//! since the future is left out).

use std::collections::{BTreeMap, HashMap};

use super::{
    BucketCount, CommandRow, DayActivity, DayCount, FUTURE_TOLERANCE_MS, FeatureRow, MAX_NAMES,
    Report, SERIES_DAYS,
};
use crate::metrics::history::tally::{bucket_range, event_time_ms};
use crate::metrics::history::{RowKey, Tally};
use crate::metrics::{Event, EventKind};
use crate::time::{DAY_MS, date_of_day};

/// The name of the row adding up names past [`MAX_NAMES`].
const MERGED_NAME: &str = "other names";

/// One name's figures.
#[derive(Default)]
struct Entry {
    tally: Tally,
    /// Day → (count, failures), over the series' days only.
    days: BTreeMap<u64, (u64, u64)>,
}

/// Every name of one kind.
#[derive(Default)]
struct Names {
    index: HashMap<String, usize>,
    entries: Vec<(String, Entry)>,
    merged: Option<Entry>,
}

impl Names {
    /// The entry for `name`: its own while there is room, else the merged one.
    fn entry(&mut self, name: &str) -> &mut Entry {
        if let Some(&i) = self.index.get(name) {
            return &mut self.entries[i].1;
        }
        if self.entries.len() >= MAX_NAMES {
            return self.merged.get_or_insert_with(Entry::default);
        }
        self.index.insert(name.to_owned(), self.entries.len());
        self.entries.push((name.to_owned(), Entry::default()));
        &mut self.entries.last_mut().expect("just pushed").1
    }

    /// Every entry, the merged one last, as `(name, merged, entry)`.
    fn into_rows(self) -> Vec<(String, bool, Entry)> {
        let mut rows: Vec<(String, bool, Entry)> = self
            .entries
            .into_iter()
            .map(|(name, entry)| (name, false, entry))
            .collect();
        rows.sort_by(|a, b| b.2.tally.count.cmp(&a.2.tally.count).then(a.0.cmp(&b.0)));
        rows.extend(self.merged.map(|e| (MERGED_NAME.to_owned(), true, e)));
        rows
    }
}

pub(super) struct Accumulator {
    now_ms: u64,
    first_day: Option<u64>,
    series_from: u64,
    commands: Names,
    features: Names,
    days: BTreeMap<u64, DayActivity>,
    future: u64,
    undated: u64,
}

impl Accumulator {
    pub(super) fn new(now_ms: u64, first_day: Option<u64>) -> Self {
        let today = now_ms / DAY_MS;
        Accumulator {
            now_ms,
            first_day,
            series_from: today.saturating_sub(SERIES_DAYS - 1),
            commands: Names::default(),
            features: Names::default(),
            days: BTreeMap::new(),
            future: 0,
            undated: 0,
        }
    }

    /// Adds one buffered event.
    pub(super) fn add_event(&mut self, event: &Event) {
        let Some(ms) = event_time_ms(event) else {
            self.undated += 1;
            return;
        };
        if ms > self.now_ms.saturating_add(FUTURE_TOLERANCE_MS) {
            self.future += 1;
            return;
        }
        let mut tally = Tally::default();
        tally.add_event(event);
        self.add(ms / DAY_MS, event.kind, &event.name, &tally);
    }

    /// Adds one row of the history.
    pub(super) fn add_row(&mut self, (day, kind, name): &RowKey, tally: &Tally) {
        let last_allowed = self.now_ms.saturating_add(FUTURE_TOLERANCE_MS) / DAY_MS;
        if *day > last_allowed {
            self.future += 1;
            return;
        }
        self.add(*day, *kind, name, tally);
    }

    fn add(&mut self, day: u64, kind: EventKind, name: &str, tally: &Tally) {
        if self.first_day.is_some_and(|first| day < first) {
            return;
        }
        let in_series = day >= self.series_from;
        let names = match kind {
            EventKind::Command => &mut self.commands,
            EventKind::Feature => &mut self.features,
        };
        let entry = names.entry(name);
        entry.tally.merge(tally);
        if in_series {
            let slot = entry.days.entry(day).or_default();
            slot.0 = slot.0.saturating_add(tally.count);
            slot.1 = slot.1.saturating_add(tally.failures);
        }
        let totals = self.days.entry(day).or_default();
        match kind {
            EventKind::Command => {
                totals.commands = totals.commands.saturating_add(tally.count);
                totals.failures = totals.failures.saturating_add(tally.failures);
            }
            EventKind::Feature => totals.features = totals.features.saturating_add(tally.count),
        }
    }

    /// Fills `report` with everything added up.
    pub(super) fn finish(self, mut report: Report) -> Report {
        report.skipped.future_events = self.future;
        report.skipped.undated_events = self.undated;
        report.first_day = self.days.keys().next().map(|d| date_of_day(*d));
        report.last_day = self.days.keys().next_back().map(|d| date_of_day(*d));
        report.activity = self
            .days
            .into_iter()
            .map(|(day, totals)| DayActivity {
                day: date_of_day(day),
                ..totals
            })
            .collect();
        for day in &report.activity {
            report.totals.commands = report.totals.commands.saturating_add(day.commands);
            report.totals.failures = report.totals.failures.saturating_add(day.failures);
            report.totals.features = report.totals.features.saturating_add(day.features);
        }
        report.commands = self
            .commands
            .into_rows()
            .into_iter()
            .map(command_row)
            .collect();
        report.features = self
            .features
            .into_rows()
            .into_iter()
            .map(feature_row)
            .collect();
        report
    }
}

fn command_row((name, merged, entry): (String, bool, Entry)) -> CommandRow {
    let t = &entry.tally;
    let failure_rate = match t.count {
        0 => 0.0,
        n => t.failures as f64 / n as f64,
    };
    CommandRow {
        median_ms: t.quantile_ms(0.5),
        p95_ms: t.quantile_ms(0.95),
        min_ms: t.min_ms,
        max_ms: t.max_ms,
        timed: t.durations.total(),
        durations: t
            .durations
            .buckets()
            .map(|(i, count)| {
                let (from_ms, to_ms) = bucket_range(i);
                BucketCount {
                    from_ms,
                    to_ms,
                    count,
                }
            })
            .collect(),
        count: t.count,
        failures: t.failures,
        failure_rate,
        days: day_counts(&entry.days),
        name,
        merged,
    }
}

fn feature_row((name, merged, entry): (String, bool, Entry)) -> FeatureRow {
    FeatureRow {
        count: entry.tally.count,
        days: day_counts(&entry.days),
        name,
        merged,
    }
}

fn day_counts(days: &BTreeMap<u64, (u64, u64)>) -> Vec<DayCount> {
    days.iter()
        .map(|(day, (count, failures))| DayCount {
            day: date_of_day(*day),
            count: *count,
            failures: *failures,
        })
        .collect()
}
