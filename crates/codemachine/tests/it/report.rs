//! `telemetry report` through the real binary: figures checked against generated spools with
//! known statistics, the history after deliveries and prunes, `--since`, a wrong clock, odd and
//! hostile folders, the terminal's table and colours, and a 100 MB spool in bounded memory.

use std::collections::BTreeMap;
use std::path::Path;

use codemachine_telemetry::metrics::history::tally::bucket_of;
use serde_json::Value as Json;
use test_collector::Collector;

use crate::support::{
    DAY_MS, codemachine, command_line, enabled, feature_line, mkfifo, now_ms, report_json, run,
    telemetry_dir, text, tool, write_batch,
};

/// The day (`YYYY-MM-DD`, UTC) of `ms`.
fn day_of(ms: u64) -> String {
    codemachine_telemetry::time::rfc3339_millis(ms)[..10].to_owned()
}

/// The nearest-rank `q`-quantile of `values`.
fn quantile(values: &mut [u64], q: f64) -> u64 {
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).max(1);
    values[rank - 1]
}

fn row<'a>(rows: &'a Json, name: &str) -> &'a Json {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row {name} in {rows}"))
}

#[test]
fn an_empty_or_missing_folder_is_an_empty_report_not_an_error() {
    let home = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = run(codemachine(home.path()), ["telemetry", "report"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("Nothing recorded yet."),
            "{}",
            text(&out.stdout)
        );
        let json = report_json(codemachine(home.path()), &[]);
        assert_eq!(json["commands"], serde_json::json!([]));
        assert_eq!(json["totals"]["commands"], 0);
        std::fs::create_dir_all(telemetry_dir(home.path())).unwrap(); // then: empty
    }
    assert_eq!(
        std::fs::read_dir(telemetry_dir(home.path()))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_folder_of_torn_lines_only_is_an_empty_report_that_says_what_it_skipped() {
    let home = tempfile::tempdir().unwrap();
    let whole = feature_line(now_ms(), "x", 1);
    let torn = format!(
        "{}\n{{\"schema\":1,\"id\n\u{0}\u{1}garbage\n{}",
        &whole[..40],
        &whole[..90]
    );
    write_batch(home.path(), "spool", 1, torn.as_bytes());
    let out = run(codemachine(home.path()), ["telemetry", "report", "--json"]);
    assert!(out.status.success());
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["skipped"]["torn_lines"], 4);
    assert_eq!(json["features"], serde_json::json!([]));
    assert!(
        text(&out.stderr).contains("note: 4 torn or corrupted lines left out"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn figures_match_a_generated_spool_with_known_statistics() {
    let home = tempfile::tempdir().unwrap();
    let now = now_ms();
    // Three commands with their own scale and failure pattern, over 20 days, in every state.
    let mut durations: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut failures: BTreeMap<&str, u64> = BTreeMap::new();
    let mut per_day: BTreeMap<(String, &str), u64> = BTreeMap::new();
    let mut lines = Vec::new();
    for i in 0..3000u64 {
        let (name, scale, fails) =
            [("build", 900, 10), ("test", 40, 4), ("deploy", 60_000, 3)][(i % 3) as usize];
        let ms = now - (i % 20) * DAY_MS - (i * 7_777 % DAY_MS) / 2;
        let duration = scale * (1 + i * 7919 % 97) / 10 + i % 13;
        let code = i32::from(i % fails == 0);
        durations.entry(name).or_default().push(duration);
        *failures.entry(name).or_default() += u64::from(code != 0);
        *per_day.entry((day_of(ms), name)).or_default() += 1;
        lines.push(command_line(ms, name, duration, code));
        if i % 5 == 0 {
            lines.push(feature_line(ms, "export.csv", i % 4 + 1));
        }
    }
    for (n, chunk) in lines.chunks(400).enumerate() {
        let state = ["spool", "outbox", "rejected"][n % 3];
        write_batch(home.path(), state, n as u64, chunk.concat().as_bytes());
    }
    let json = report_json(codemachine(home.path()), &[]);
    assert_eq!(json["totals"]["commands"], 3000);
    for (name, mut values) in durations {
        let r = row(&json["commands"], name);
        assert_eq!(r["count"], 1000, "{name}");
        assert_eq!(r["failures"], failures[name], "{name}");
        let rate = r["failure_rate"].as_f64().unwrap();
        assert!(
            (rate - failures[name] as f64 / 1000.0).abs() < 1e-9,
            "{name}"
        );
        for (key, q) in [("median_ms", 0.5), ("p95_ms", 0.95)] {
            let truth = quantile(&mut values, q);
            let estimate = r[key].as_u64().unwrap();
            assert_eq!(
                bucket_of(estimate),
                bucket_of(truth),
                "{name} {key}: {estimate} vs {truth}"
            );
        }
        assert_eq!(r["min_ms"], values[0]);
        assert_eq!(r["max_ms"], *values.last().unwrap());
        for d in r["days"].as_array().unwrap() {
            let day = d["day"].as_str().unwrap().to_owned();
            assert_eq!(d["count"], per_day[&(day, name)], "{name}");
        }
    }
    let expected_uses: u64 = (0..3000u64).filter(|i| i % 5 == 0).map(|i| i % 4 + 1).sum();
    assert_eq!(row(&json["features"], "export.csv")["count"], expected_uses);
    assert_eq!(json["activity"].as_array().unwrap().len(), 20);
    assert_eq!(json["sources"]["buffered_events"], 3600);
    let order: Vec<&str> = json["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["build", "deploy", "test"],
        "most run first, then by name"
    );
}

#[test]
fn since_selects_whole_utc_days_and_durations_of_any_size_are_handled() {
    let home = tempfile::tempdir().unwrap();
    let now = now_ms();
    let today_start = now / DAY_MS * DAY_MS;
    let lines = [
        feature_line(today_start, "today", 1),
        feature_line(today_start - 1, "yesterday", 1),
        feature_line(today_start - 10 * DAY_MS, "long-ago", 1),
    ];
    write_batch(home.path(), "spool", 1, lines.concat().as_bytes());
    let names = |json: &Json| -> Vec<String> {
        let mut v: Vec<String> = json["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let since = |dur: &str| report_json(codemachine(home.path()), &["--since", dur]);
    assert_eq!(names(&since("0s")), ["today"]);
    assert_eq!(names(&since("1s")), ["today"], "whole days: today's");
    assert_eq!(names(&since("1d")), ["today", "yesterday"]);
    assert_eq!(
        names(&since("999999999999d")),
        ["long-ago", "today", "yesterday"]
    );
    assert_eq!(names(&report_json(codemachine(home.path()), &[])).len(), 3);
    assert_eq!(since("1d")["since"], day_of(now - DAY_MS));
    for bad in ["300000000000000d", "-1d", "1y", "soon"] {
        let out = run(
            codemachine(home.path()),
            ["telemetry", "report", "--since", bad],
        );
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"));
    }
}

#[test]
fn a_clock_far_in_the_future_is_left_out_and_said() {
    let home = tempfile::tempdir().unwrap();
    let now = now_ms();
    let lines = [
        feature_line(now, "ok", 1),
        feature_line(now + 400 * 365 * DAY_MS, "future", 1),
        feature_line(253_402_300_799_999, "year-9999", 1),
    ];
    write_batch(home.path(), "spool", 1, lines.concat().as_bytes());
    let out = run(codemachine(home.path()), ["telemetry", "report", "--json"]);
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["features"].as_array().unwrap().len(), 1);
    assert_eq!(json["skipped"]["future_events"], 2);
    assert_eq!(json["last_day"], json["today"]);
    assert!(
        text(&out.stderr).contains("2 events stamped in the future"),
        "{}",
        text(&out.stderr)
    );
    let table = run(codemachine(home.path()), ["telemetry", "report"]);
    assert!(
        text(&table.stdout).lines().count() < 20,
        "the charts did not stretch over centuries"
    );
}

#[test]
fn delivered_and_pruned_events_stay_in_the_report_through_the_history() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let to = || {
        let mut cmd = enabled(home.path());
        cmd.env("TELEMETRY_ENDPOINT", collector.url())
            .env("TELEMETRY_CA_FILE", collector.ca_file());
        cmd
    };
    let record = |name: &str, ms: &str, code: &str| {
        let out = run(
            to(),
            [
                "telemetry",
                "record",
                "command",
                name,
                "--duration-ms",
                ms,
                "--exit-code",
                code,
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    for (i, ms) in ["10", "20", "30", "4000"].iter().enumerate() {
        record("build", ms, if i == 3 { "1" } else { "0" });
    }
    let before = report_json(codemachine(home.path()), &[]);
    let flushed = run(to(), ["telemetry", "flush", "--timeout", "20"]);
    assert!(flushed.status.success(), "{}", text(&flushed.stderr));
    assert_eq!(collector.record_ids().len(), 4);
    let after = report_json(codemachine(home.path()), &[]);
    assert_eq!(after["sources"]["buffered_events"], 0, "all delivered");
    assert!(after["sources"]["history_rows"].as_u64().unwrap() >= 1);
    assert_eq!(
        after["commands"], before["commands"],
        "the same figures from the history"
    );
    // Pruned with telemetry on: kept in the history.
    record("test", "5", "0");
    let pruned = run(enabled(home.path()), ["telemetry", "prune", "--all"]);
    assert!(
        text(&pruned.stdout).contains("kept 1 event in the local history"),
        "{}",
        text(&pruned.stdout)
    );
    assert_eq!(
        row(
            &report_json(codemachine(home.path()), &[])["commands"],
            "test"
        )["count"],
        1
    );
    // Pruned with telemetry off: deleted, and nothing written.
    record("lint", "5", "0");
    let history = telemetry_dir(home.path()).join("history/history.ndjson");
    let kept = std::fs::read(&history).unwrap();
    let pruned = run(codemachine(home.path()), ["telemetry", "prune", "--all"]);
    assert!(!text(&pruned.stdout).contains("local history"));
    assert_eq!(std::fs::read(&history).unwrap(), kept);
    let json = report_json(codemachine(home.path()), &[]);
    assert_eq!(
        json["totals"]["commands"], 5,
        "lint was deleted with telemetry off"
    );
    // The history is counted by the cap.
    let status: Json = serde_json::from_slice(
        &run(codemachine(home.path()), ["telemetry", "status", "--json"]).stdout,
    )
    .unwrap();
    assert!(status["spool_bytes"].as_u64().unwrap() >= kept.len() as u64);
}

#[test]
fn odd_history_files_are_skipped_and_reported_and_the_rest_is_read() {
    let home = tempfile::tempdir().unwrap();
    write_batch(
        home.path(),
        "spool",
        1,
        feature_line(now_ms(), "kept", 1).as_bytes(),
    );
    let history_dir = telemetry_dir(home.path()).join("history");
    std::fs::create_dir(&history_dir).unwrap();
    let history = history_dir.join("history.ndjson");
    let check = |what: &str, warns: Option<&str>, bad_lines: u64| {
        let out = run(codemachine(home.path()), ["telemetry", "report", "--json"]);
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        let json: Json = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["features"][0]["name"], "kept", "{what}");
        assert_eq!(json["skipped"]["history_lines"], bad_lines, "{what}");
        if let Some(warning) = warns {
            assert!(
                text(&out.stderr).contains(warning),
                "{what}: {}",
                text(&out.stderr)
            );
        }
    };
    std::fs::write(
        &history,
        "garbage\n\u{0}\u{1}\u{2}\n{\"day\":\"never\"}\n{\"fold\":",
    )
    .unwrap();
    check("garbage", None, 4);
    std::fs::remove_file(&history).unwrap();
    mkfifo(&history);
    check("a FIFO", Some("not a regular file"), 0);
    std::fs::remove_file(&history).unwrap();
    std::fs::File::create(&history)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    check("huge", Some("more than a history holds"), 0);
    std::fs::remove_file(&history).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &history).unwrap();
    check("a link to /dev/zero", Some("link"), 0);
}

#[test]
fn hostile_names_never_drive_the_terminal_nor_break_the_columns() {
    let home = tempfile::tempdir().unwrap();
    let names = [
        "<script>alert(1)</script>",
        "a&b\"c'd]]>",
        "\u{1b}]0;pwned\u{7}\u{1b}[2J",
        "line\nbreak\rreturn",
        "\u{202e}txt.exe",
        &"w".repeat(60_000),
        "password=hunter2",
    ];
    let lines: Vec<String> = names
        .iter()
        .map(|n| command_line(now_ms(), n, 5, 0))
        .collect();
    write_batch(home.path(), "spool", 1, lines.concat().as_bytes());
    let out = run(codemachine(home.path()), ["telemetry", "report"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(!shown.contains('\u{202e}'));
    assert!(!shown.contains("hunter2"), "secrets in names are scrubbed");
    let table: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("COMMAND"))
        .take(names.len() + 1)
        .collect();
    let widths: Vec<usize> = table[1..].iter().map(|l| l.chars().count()).collect();
    assert!(
        widths.windows(2).all(|w| w[0] == w[1]),
        "aligned: {widths:?}\n{shown}"
    );
    assert!(widths[0] < 120, "long names are cut");
    let last_column = table[0].find("LAST").unwrap();
    assert_eq!(
        last_column,
        widths[0] - 28,
        "the header over its columns:\n{shown}"
    );
    // JSON keeps the names as recorded (escaped by JSON itself).
    let json = report_json(codemachine(home.path()), &[]);
    assert_eq!(json["commands"].as_array().unwrap().len(), names.len());
    // The page cuts long names and escapes every one.
    let page = home.path().join("page.html");
    let out = run(
        codemachine(home.path()),
        [
            "telemetry".as_ref(),
            "report".as_ref(),
            "--html".as_ref(),
            page.as_os_str(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains(&"w".repeat(200)), "long names are cut");
    assert!(!html.contains("hunter2") && !html.contains('\u{1b}') && !html.contains('\u{202e}'));
    assert!(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(1)"));
}

#[test]
fn a_hundred_thousand_names_are_reported_in_bounded_size() {
    let home = tempfile::tempdir().unwrap();
    let now = now_ms();
    let lines: Vec<String> = (0..100_000)
        .map(|n| feature_line(now, &format!("f{n}"), 1))
        .collect();
    for (k, chunk) in lines.chunks(4000).enumerate() {
        write_batch(home.path(), "spool", k as u64, chunk.concat().as_bytes());
    }
    let json = report_json(codemachine(home.path()), &[]);
    let features = json["features"].as_array().unwrap();
    let max = codemachine_telemetry::report::MAX_NAMES;
    assert_eq!(features.len(), max + 1);
    let merged = features.last().unwrap();
    assert_eq!(
        (merged["merged"].as_bool(), merged["count"].as_u64()),
        (Some(true), Some(100_000 - max as u64))
    );
    assert_eq!(json["totals"]["features"], 100_000);
    let page = home.path().join("page.html");
    let out = run(
        codemachine(home.path()),
        [
            "telemetry".as_ref(),
            "report".as_ref(),
            "--html".as_ref(),
            page.as_os_str(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 4 << 20, "the page stays readable: {size} bytes");
}

#[test]
fn colour_only_when_the_rules_allow_it() {
    let home = tempfile::tempdir().unwrap();
    let lines = [
        command_line(now_ms(), "build", 5, 1),
        feature_line(now_ms(), "f", 2),
    ];
    write_batch(home.path(), "spool", 1, lines.concat().as_bytes());
    let piped = run(codemachine(home.path()), ["telemetry", "report"]);
    assert!(!text(&piped.stdout).contains('\x1b'), "plain when piped");
    let forced = run(
        codemachine(home.path()),
        ["--color", "always", "telemetry", "report"],
    );
    assert!(text(&forced.stdout).contains("\x1b[31m"), "failures in red");
    let on_terminal = |vars: &[(&str, &str)]| {
        let mut cmd = tool("script", home.path());
        let command = format!("{} telemetry report", env!("CARGO_BIN_EXE_codemachine"));
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        text(&run(cmd, Vec::<&str>::new()).stdout)
    };
    assert!(on_terminal(&[]).contains("\x1b[1m"));
    assert!(!on_terminal(&[("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!on_terminal(&[("TERM", "dumb")]).contains('\x1b'));
    let shown = on_terminal(&[("NO_COLOR", "1")]);
    assert!(
        shown.contains('█') && shown.contains('·'),
        "sparklines: {shown}"
    );
}

#[test]
fn a_100_mb_spool_is_reported_in_bounded_memory() {
    let home = tempfile::tempdir().unwrap();
    let now = now_ms();
    let mut events = 0u64;
    for file in 0..100u64 {
        let mut bytes = Vec::with_capacity(1 << 20);
        while bytes.len() < 1_000_000 {
            let line = command_line(
                now - events % 30 * DAY_MS,
                ["build", "test", "lint"][(events % 3) as usize],
                events % 5000,
                i32::from(events.is_multiple_of(11)),
            );
            bytes.extend_from_slice(line.as_bytes());
            events += 1;
        }
        write_batch(
            home.path(),
            ["spool", "outbox"][(file % 2) as usize],
            file,
            &bytes,
        );
    }
    // Under a 100 MB address-space limit: holding the spool (let alone parsing it into memory)
    // would fail.
    let script = format!(
        "ulimit -v 100000; exec {} telemetry report --json",
        env!("CARGO_BIN_EXE_codemachine")
    );
    let mut cmd = tool("sh", home.path());
    cmd.args(["-c", &script]);
    let out = run(cmd, Vec::<&str>::new());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["totals"]["commands"], events);
    assert_eq!(json["sources"]["buffered_events"], events);
    let failures = (0..events).filter(|e| e.is_multiple_of(11)).count() as u64;
    assert_eq!(json["totals"]["failures"], failures);
}

#[test]
fn the_report_reads_nothing_but_the_folder_and_creates_nothing_in_it() {
    let home = tempfile::tempdir().unwrap();
    let path = write_batch(
        home.path(),
        "spool",
        1,
        feature_line(now_ms(), "x", 1).as_bytes(),
    );
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = walk(dir);
        names.sort();
        names
    };
    let before = listing(&telemetry_dir(home.path()));
    for args in [
        &["telemetry", "report"][..],
        &["telemetry", "report", "--json"],
    ] {
        assert!(run(codemachine(home.path()), args).status.success());
        assert!(run(enabled(home.path()), args).status.success());
    }
    assert_eq!(listing(&telemetry_dir(home.path())), before);
    assert!(path.exists());
}

/// Every path under `dir`, relative, with its size.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            out.extend(
                walk(&entry.path())
                    .into_iter()
                    .map(|p| format!("{}/{p}", entry.file_name().to_string_lossy())),
            );
        } else {
            out.push(format!(
                "{} {}",
                entry.file_name().to_string_lossy(),
                meta.len()
            ));
        }
    }
    out
}
