//! A crash (`SIGKILL`) at every step of the batch life cycle, through the real binary: after the
//! next run, every recorded event has been taken by the collector, nothing is lost, and an event
//! sent twice is sent under the same batch key both times. And at every step of folding batches
//! into the local history: the report never counts an event twice nor loses one, right after
//! the crash and after the next run.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use test_collector::{Collector, Fault};

use crate::support::{
    DAY_MS, enabled, feature_line, now_ms, recorded_events, report_json, run, telemetry_dir, text,
    write_batch,
};

fn to(home: &Path, collector: &Collector, extra: &[(&str, &str)]) -> Command {
    let mut cmd = enabled(home);
    cmd.env("TELEMETRY_ENDPOINT", collector.url())
        .env("TELEMETRY_CA_FILE", collector.ca_file());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// Record ids of the requests the collector took (a 2xx): request `i` was answered by
/// `script[i]`, and by 200 past the script's end.
fn accepted(collector: &Collector, script: &[u16]) -> BTreeMap<String, BTreeSet<String>> {
    let mut taken: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, request) in collector.requests().iter().enumerate() {
        let status = script.get(i).copied().unwrap_or(200);
        if (200..300).contains(&status) {
            let key = request
                .header("idempotency-key")
                .unwrap_or_default()
                .to_owned();
            for id in request.record_ids() {
                taken.entry(id).or_default().insert(key.clone());
            }
        }
    }
    taken
}

struct Case {
    step: &'static str,
    events: usize,
    script: &'static [u16],
    /// Settings for every run of the case.
    env: &'static [(&'static str, &'static str)],
    /// Runs before the one that crashes (flushes that set the scene).
    before: &'static [&'static [&'static str]],
    /// The run that crashes.
    crashing: &'static [&'static str],
}

const FLUSH: &[&str] = &["telemetry", "flush", "--timeout", "20"];
const FLUSH_REJECTED: &[&str] = &["telemetry", "flush", "--timeout", "20", "--rejected"];

const CASES: &[Case] = &[
    Case {
        step: "claim.renamed",
        events: 3,
        script: &[],
        env: &[],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "claim.parts-written",
        events: 5,
        script: &[],
        env: &[("TELEMETRY_BATCH_MAX_EVENTS", "2")],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "send.delivered",
        events: 3,
        script: &[],
        env: &[],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "ack.removed",
        events: 3,
        script: &[],
        env: &[],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "reject.reason-written",
        events: 2,
        script: &[400],
        env: &[],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "reject.moved",
        events: 2,
        script: &[400],
        env: &[],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "replace.parts-written",
        events: 4,
        script: &[413, 200, 503],
        env: &[],
        before: &[],
        crashing: FLUSH,
    },
    Case {
        step: "requeue.moved",
        events: 2,
        script: &[400],
        env: &[],
        before: &[FLUSH],
        crashing: FLUSH_REJECTED,
    },
];

#[test]
fn a_crash_at_every_step_of_the_life_cycle_loses_nothing() {
    let steps: BTreeSet<&str> = CASES
        .iter()
        .map(|c| c.step)
        .chain(HISTORY_CASES.iter().map(|c| c.step))
        .collect();
    let all: BTreeSet<&str> = codemachine_telemetry::failpoint::STEPS
        .iter()
        .copied()
        .collect();
    assert_eq!(steps, all, "every step has a case");
    for case in CASES {
        let home = tempfile::tempdir().unwrap();
        let collector = Collector::https();
        for n in 0..case.events {
            let name = format!("e{n}");
            let out = run(
                to(home.path(), &collector, case.env),
                ["telemetry", "record", "feature", &name],
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
        let recorded: BTreeSet<String> = recorded_events(home.path())
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        collector.script(case.script.iter().map(|s| Fault::Status(*s)));
        for args in case.before {
            run(to(home.path(), &collector, case.env), *args);
        }
        let mut armed = to(home.path(), &collector, case.env);
        armed.env("CODEMACHINE_FAILPOINT", case.step);
        let crashed = run(armed, case.crashing);
        assert_eq!(
            crashed.status.signal(),
            Some(9),
            "{}: the step was reached: {}",
            case.step,
            text(&crashed.stderr)
        );
        let out = run(to(home.path(), &collector, case.env), FLUSH_REJECTED);
        assert!(out.status.success(), "{}: {}", case.step, text(&out.stderr));
        let taken = accepted(&collector, case.script);
        let got: BTreeSet<String> = taken.keys().cloned().collect();
        assert_eq!(got, recorded, "{}: every event delivered", case.step);
        assert!(
            taken.values().all(|keys| keys.len() == 1),
            "{}: a duplicate only under the same key: {taken:?}",
            case.step
        );
    }
}

/// A crash while batches are folded into the history, on their way out.
struct HistoryCase {
    step: &'static str,
    /// Events, each in a batch of its own.
    events: usize,
    /// The run that crashes, and the one after it.
    run: &'static [&'static str],
}

const PRUNE: &[&str] = &["telemetry", "prune", "--all"];
/// More batches than it takes to compact the history in one run.
const MANY: usize = codemachine_telemetry::metrics::history::COMPACT_AFTER_FOLDS + 6;

const HISTORY_CASES: &[HistoryCase] = &[
    HistoryCase {
        step: "history.fold-written",
        events: 3,
        run: FLUSH,
    },
    HistoryCase {
        step: "history.fold-written",
        events: 3,
        run: PRUNE,
    },
    HistoryCase {
        step: "history.compact-written",
        events: MANY,
        run: FLUSH,
    },
    HistoryCase {
        step: "history.compacted",
        events: MANY,
        run: FLUSH,
    },
    HistoryCase {
        step: "history.compact-written",
        events: MANY,
        run: PRUNE,
    },
    HistoryCase {
        step: "history.compacted",
        events: MANY,
        run: PRUNE,
    },
    // The steps around a fold on delivery: before it, and after the batch is deleted.
    HistoryCase {
        step: "send.delivered",
        events: 3,
        run: FLUSH,
    },
    HistoryCase {
        step: "ack.removed",
        events: 3,
        run: FLUSH,
    },
];

/// Features per name, as `report --json` counts them.
fn reported(home: &Path) -> BTreeMap<String, u64> {
    let json = report_json(crate::support::codemachine(home), &[]);
    json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_crash_at_every_step_of_a_fold_never_counts_twice_nor_loses_an_event() {
    for case in HISTORY_CASES {
        let home = tempfile::tempdir().unwrap();
        let collector = Collector::https();
        let mut expected = BTreeMap::new();
        for n in 0..case.events {
            let name = format!("e{n}");
            let line = feature_line(now_ms() - n as u64 * DAY_MS, &name, 2);
            write_batch(home.path(), "spool", n as u64, line.as_bytes());
            expected.insert(name, 2);
        }
        let what = format!("{} during {:?}", case.step, case.run);
        assert_eq!(reported(home.path()), expected, "{what}: before");
        let mut armed = to(home.path(), &collector, &[]);
        armed.env("CODEMACHINE_FAILPOINT", case.step);
        let crashed = run(armed, case.run);
        assert_eq!(
            crashed.status.signal(),
            Some(9),
            "{what}: the step was reached: {}",
            text(&crashed.stderr)
        );
        assert_eq!(
            reported(home.path()),
            expected,
            "{what}: right after the crash"
        );
        let out = run(to(home.path(), &collector, &[]), case.run);
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        assert_eq!(
            reported(home.path()),
            expected,
            "{what}: after the next run"
        );
        let json = report_json(crate::support::codemachine(home.path()), &[]);
        assert_eq!(
            json["sources"]["buffered_events"], 0,
            "{what}: all out of the spool"
        );
        assert_eq!(json["skipped"]["history_lines"], 0, "{what}");
        let leftovers = std::fs::read_dir(telemetry_dir(home.path()).join("history"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert!(
            leftovers <= 1,
            "{what}: at most one interrupted compaction left"
        );
    }
}
