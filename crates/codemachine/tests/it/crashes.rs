//! A crash (`SIGKILL`) at every step of the batch life cycle, through the real binary: after the
//! next run, every recorded event has been taken by the collector, nothing is lost, and an event
//! sent twice is sent under the same batch key both times.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use test_collector::{Collector, Fault};

use crate::support::{enabled, recorded_events, run, text};

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
    let steps: BTreeSet<&str> = CASES.iter().map(|c| c.step).collect();
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
