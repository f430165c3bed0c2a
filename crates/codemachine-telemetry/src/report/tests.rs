use std::io::Write;

use super::*;
use crate::metrics::Event;
use crate::metrics::history::tally::bucket_of;
use crate::metrics::history::{DayTallies, fold};

/// 2026-03-01T12:00:00Z.
const NOW: u64 = 1_772_366_400_000;

fn options() -> ReportOptions {
    ReportOptions {
        since: None,
        now_ms: NOW,
    }
}

fn line(ms: u64, kind: &str, name: &str, tail: &str) -> String {
    format!(
        "{{\"schema\":1,\"id\":\"{ms:012x}{:020x}\",\"ts\":\"{}\",\"kind\":\"{kind}\",\"name\":{},{tail}\"session_id\":\"s\",\"anon_id\":\"a\",\"cli_version\":\"0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}\n",
        ms % 997,
        rfc3339_millis(ms),
        serde_json::to_string(name).unwrap()
    )
}

fn command(ms: u64, name: &str, duration: u64, code: i32) -> String {
    line(
        ms,
        "command",
        name,
        &format!("\"duration_ms\":{duration},\"exit_code\":{code},\"count\":1,"),
    )
}

fn feature(ms: u64, name: &str, count: u64) -> String {
    line(ms, "feature", name, &format!("\"count\":{count},"))
}

/// Writes `lines` as the batch `id` in the state folder `state`.
fn batch(dir: &Path, state: &str, id: &str, lines: &[String]) {
    let folder = dir.join(state);
    std::fs::create_dir_all(&folder).unwrap();
    let mut file = std::fs::File::create(folder.join(format!("{id}.ndjson"))).unwrap();
    for l in lines {
        file.write_all(l.as_bytes()).unwrap();
    }
}

fn id(n: u64) -> String {
    format!("{n:032x}")
}

fn day_ms(days_ago: u64) -> u64 {
    NOW - days_ago * DAY_MS
}

#[test]
fn figures_match_a_spool_with_known_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let mut durations = Vec::new();
    let (mut lines, mut failures) = (Vec::new(), 0);
    for i in 0..2000u64 {
        let duration = (i * 7919 % 10_007) * (1 + i % 3) + i % 5; // spread over four octaves
        let code = if i % 7 == 0 { 1 } else { 0 };
        failures += u64::from(code != 0);
        durations.push(duration);
        lines.push(command(day_ms(i % 10), "build", duration, code));
        if i % 4 == 0 {
            lines.push(feature(day_ms(i % 10), "export.csv", 3));
        }
    }
    for (k, chunk) in lines.chunks(700).enumerate() {
        batch(
            dir.path(),
            ["spool", "outbox", "rejected"][k % 3],
            &id(k as u64),
            chunk,
        );
    }
    let report = Report::collect(Some(dir.path()), &options());
    let build = &report.commands[0];
    assert_eq!(
        (build.name.as_str(), build.count, build.failures),
        ("build", 2000, failures)
    );
    assert!((build.failure_rate - failures as f64 / 2000.0).abs() < 1e-12);
    durations.sort();
    for (q, estimate) in [(0.5, build.median_ms), (0.95, build.p95_ms)] {
        let truth = durations[(q * 2000.0_f64).ceil() as usize - 1];
        assert_eq!(bucket_of(estimate.unwrap()), bucket_of(truth), "q={q}");
    }
    assert_eq!(build.min_ms, durations.first().copied());
    assert_eq!(build.durations.iter().map(|b| b.count).sum::<u64>(), 2000);
    assert_eq!(report.features[0].count, 500 * 3);
    assert_eq!(report.activity.len(), 10);
    assert!(report.activity.iter().all(|d| d.commands == 200));
    let features: Vec<u64> = report.activity.iter().map(|d| d.features).collect();
    assert_eq!(
        features,
        [0, 300, 0, 300, 0, 300, 0, 300, 0, 300],
        "oldest first"
    );
    assert_eq!(report.totals.commands, 2000);
    assert_eq!(build.days.len(), 10);
    assert_eq!(report.sources.buffered_events, 2500);
    assert_eq!(report.today, "2026-03-01");
}

#[test]
fn the_history_and_the_spool_add_up_and_a_batch_in_both_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let delivered = [
        command(day_ms(40), "build", 10, 0),
        command(day_ms(1), "build", 20, 2),
    ];
    let mut tallies = DayTallies::default();
    for l in &delivered {
        tallies.add(&Event::parse(l.trim_end()).unwrap());
    }
    fold(dir.path(), &id(1), &tallies, true).unwrap();
    // Folded, then a crash before it was deleted: still in the outbox.
    batch(dir.path(), "outbox", &id(1), &delivered);
    batch(
        dir.path(),
        "spool",
        &id(2),
        &[command(day_ms(1), "build", 30, 0)],
    );
    let report = Report::collect(Some(dir.path()), &options());
    let build = &report.commands[0];
    assert_eq!((build.count, build.failures), (3, 1));
    assert_eq!(report.skipped.in_history_events, 2);
    assert_eq!(report.sources.history_rows, 2);
    assert_eq!(
        report.first_day.as_deref(),
        Some(date_of_day(NOW / DAY_MS - 40).as_str())
    );
}

#[test]
fn parts_of_an_unfinished_claim_are_copies_and_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let events = [feature(day_ms(0), "f", 1), feature(day_ms(0), "f", 1)];
    batch(dir.path(), "spool", &id(7), &events);
    batch(dir.path(), "outbox", &format!("{}-p0", id(7)), &events[..1]);
    batch(dir.path(), "outbox", &id(8), &events);
    batch(dir.path(), "outbox", &format!("{}.0", id(8)), &events[..1]);
    let report = Report::collect(Some(dir.path()), &options());
    assert_eq!(report.features[0].count, 4);
    assert_eq!(report.skipped.copied_events, 2);
}

#[test]
fn since_keeps_whole_utc_days() {
    let dir = tempfile::tempdir().unwrap();
    let start_of_yesterday = (NOW / DAY_MS - 1) * DAY_MS;
    batch(
        dir.path(),
        "spool",
        &id(1),
        &[
            feature(start_of_yesterday, "kept", 1),
            feature(start_of_yesterday - 1, "dropped", 1),
            feature(NOW, "kept", 1),
        ],
    );
    let since = options().since(Some(Duration::from_secs(36 * 3600)));
    let report = Report::collect(
        Some(dir.path()),
        &ReportOptions {
            now_ms: NOW,
            ..since
        },
    );
    assert_eq!(report.features.len(), 1);
    assert_eq!(report.features[0].count, 2);
    assert_eq!(report.since.as_deref(), Some("2026-02-28"));
    assert_eq!(report.recent_days(28), ["2026-02-28", "2026-03-01"]);
    let everything = ReportOptions {
        since: Some(Duration::from_secs(u64::MAX)),
        now_ms: NOW,
    };
    let report = Report::collect(Some(dir.path()), &everything);
    assert_eq!(report.features.iter().map(|f| f.count).sum::<u64>(), 3);
}

#[test]
fn the_future_and_the_undated_are_left_out_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut undated = feature(NOW, "x", 1).replace(&rfc3339_millis(NOW), "yesterday");
    undated = undated.replacen(&format!("{NOW:012x}"), "zzzzzzzzzzzz", 1);
    batch(
        dir.path(),
        "spool",
        &id(1),
        &[
            feature(NOW + 2 * DAY_MS, "x", 1),
            feature(253_402_300_799_999, "x", 1),
            undated,
            feature(NOW + DAY_MS / 2, "x", 1),
            "{\"torn\n".to_owned(),
        ],
    );
    let report = Report::collect(Some(dir.path()), &options());
    assert_eq!(
        report.features[0].count, 1,
        "half a day ahead: a clock a little fast"
    );
    assert_eq!(
        (report.skipped.future_events, report.skipped.undated_events),
        (2, 1)
    );
    assert_eq!(report.skipped.torn_lines, 1);
    assert_eq!(
        report.chart_days().last().map(String::as_str),
        Some("2026-03-02")
    );
}

#[test]
fn names_past_the_cap_are_merged_into_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..MAX_NAMES as u64 + 50)
        .map(|n| command(NOW, &format!("c{n}"), n, 0))
        .collect();
    batch(dir.path(), "spool", &id(1), &lines);
    let report = Report::collect(Some(dir.path()), &options());
    assert_eq!(report.commands.len(), MAX_NAMES + 1);
    let last = report.commands.last().unwrap();
    assert!(last.merged);
    assert_eq!(last.count, 50);
    assert_eq!(report.totals.commands, MAX_NAMES as u64 + 50);
}

#[test]
fn no_folder_or_an_empty_one_is_an_empty_report() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("telemetry");
    for report in [
        Report::collect(None, &options()),
        Report::collect(Some(&dir), &options()),
    ] {
        assert!(report.is_empty());
        assert!(report.activity.is_empty() && report.skipped.entries.is_empty());
        assert_eq!(report.chart_days(), ["2026-03-01"]);
    }
    assert!(!dir.exists(), "nothing created");
    let json = serde_json::to_value(Report::collect(None, &options())).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "generated_at",
            "dir",
            "since",
            "today",
            "first_day",
            "last_day",
            "totals",
            "commands",
            "features",
            "activity",
            "sources",
            "skipped"
        ]
    );
}
