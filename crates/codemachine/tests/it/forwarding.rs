//! Forwarding through the real binary to a real loopback HTTPS collector (a test CA made at run
//! time): flush, the status table, pauses, Retry-After, 413 splits, the background sender, the
//! withheld rule, the OTEL fallback rule, and SIGKILLs during sends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use test_collector::{Collector, Fault};

use crate::support::{HANG_LIMIT, enabled, run, text};

/// `codemachine` with telemetry on and `collector` as its endpoint.
fn to(home: &Path, collector: &Collector) -> Command {
    let mut cmd = enabled(home);
    cmd.env("TELEMETRY_ENDPOINT", collector.url())
        .env("TELEMETRY_CA_FILE", collector.ca_file());
    cmd
}

fn record(home: &Path, collector: &Collector, names: &[&str]) {
    for name in names {
        let out = run(
            to(home, collector),
            ["telemetry", "record", "feature", name],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

fn status(home: &Path, collector: &Collector) -> Json {
    let out = run(to(home, collector), ["telemetry", "status", "--json"]);
    serde_json::from_slice(&out.stdout).expect("status --json")
}

fn flush(home: &Path, collector: &Collector, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["telemetry", "flush", "--timeout", "20"];
    args.extend_from_slice(extra);
    run(to(home, collector), args)
}

/// Every record id the collector received, with how many times.
fn delivered(collector: &Collector) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for id in collector.record_ids() {
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

#[test]
fn flush_delivers_every_event_once_over_https_and_status_says_so() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    record(home.path(), &collector, &["one", "two", "three"]);
    let out = flush(home.path(), &collector, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("delivered 1 batch (3 events)"),
        "{}",
        text(&out.stdout)
    );
    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/logs");
    assert_eq!(requests[0].header("content-encoding"), Some("gzip"));
    let key = requests[0].header("idempotency-key").unwrap().to_owned();
    assert_eq!(key.len(), 32, "the batch id: {key}");
    assert_eq!(delivered(&collector).len(), 3);
    let s = status(home.path(), &collector);
    assert_eq!(
        (s["pending_events"].as_u64(), s["rejected_batches"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert!(
        s["last_success"].is_string() && s["endpoint"].as_str().unwrap().ends_with("/v1/logs"),
        "{s}"
    );
    assert_eq!(s["protocol"], "otlp");
}

#[test]
fn every_status_goes_where_the_table_says() {
    // (status, delivered, kept pending, rejected, paused)
    let table: &[(u16, bool, bool, bool, bool)] = &[
        (200, true, false, false, false),
        (202, true, false, false, false),
        (429, false, true, false, false),
        (502, false, true, false, false),
        (503, false, true, false, false),
        (504, false, true, false, false),
        (400, false, false, true, false),
        (500, false, false, true, false),
        (401, false, false, true, true),
        (403, false, false, true, true),
        (404, false, false, true, true),
    ];
    for &(code, was_delivered, pending, rejected, paused) in table {
        let home = tempfile::tempdir().unwrap();
        let collector = Collector::https();
        record(home.path(), &collector, &["a", "b"]);
        collector.script([Fault::Status(code)]);
        let out = flush(home.path(), &collector, &[]);
        assert_eq!(
            out.status.success(),
            was_delivered,
            "{code}: {}",
            text(&out.stderr)
        );
        let s = status(home.path(), &collector);
        assert_eq!(s["pending_events"] == 2, pending, "{code}: {s}");
        assert_eq!(s["rejected_events"] == 2, rejected, "{code}: {s}");
        assert_eq!(
            s["forwarding"].as_str().unwrap().starts_with("paused"),
            paused,
            "{code}: {s}"
        );
        if pending || rejected {
            assert!(
                s["last_error"]
                    .as_str()
                    .unwrap()
                    .contains(&code.to_string()),
                "{code}: {s}"
            );
        }
        if pending {
            assert!(
                s["next_attempt"].is_string(),
                "{code}: backoff persisted: {s}"
            );
        }
    }
}

#[test]
fn a_pause_holds_until_the_headers_change_and_rejected_batches_wait_for_an_operator() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    record(home.path(), &collector, &["a"]);
    collector.script([Fault::Status(401)]);
    assert!(!flush(home.path(), &collector, &[]).status.success());
    record(home.path(), &collector, &["b"]);
    let paused = flush(home.path(), &collector, &[]);
    assert!(
        text(&paused.stderr).contains("sending is paused"),
        "{}",
        text(&paused.stderr)
    );
    assert_eq!(collector.requests().len(), 1, "nothing sent while paused");
    // New credentials lift the pause and re-queue what the 401 rejected.
    let mut cmd = to(home.path(), &collector);
    cmd.env(
        "TELEMETRY_HEADERS",
        "authorization=Bearer%20fresh-token-0123456789",
    );
    let out = run(cmd, ["telemetry", "flush", "--timeout", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        delivered(&collector).len(),
        2,
        "both events, the rejected one included"
    );
    // A 400 sets a batch aside until flush --rejected; prune --rejected deletes.
    record(home.path(), &collector, &["c"]);
    collector.script([Fault::Status(400)]);
    flush(home.path(), &collector, &[]);
    assert_eq!(status(home.path(), &collector)["rejected_batches"], 1);
    assert!(
        flush(home.path(), &collector, &["--rejected"])
            .status
            .success()
    );
    assert_eq!(delivered(&collector).len(), 3);
    record(home.path(), &collector, &["d"]);
    collector.script([Fault::Status(422)]);
    flush(home.path(), &collector, &[]);
    let pruned = run(
        to(home.path(), &collector),
        ["telemetry", "prune", "--rejected"],
    );
    assert!(
        text(&pruned.stdout).contains("pruned 1 batch: 1 event"),
        "{}",
        text(&pruned.stdout)
    );
    assert_eq!(status(home.path(), &collector)["rejected_batches"], 0);
}

#[test]
fn flush_waits_out_a_short_retry_after_and_gives_up_on_a_long_one() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    record(home.path(), &collector, &["a"]);
    // A 503 then a 429 asking for a second each: the same flush waits them out and delivers.
    collector.script([
        Fault::RetryAfter(503, "1".into()),
        Fault::RetryAfter(429, "0".into()),
    ]);
    let started = Instant::now();
    let out = flush(home.path(), &collector, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");
    assert_eq!(collector.requests().len(), 3);
    assert_eq!(delivered(&collector).len(), 1);
    record(home.path(), &collector, &["b"]);
    collector.script([Fault::RetryAfter(429, "3600".into())]);
    flush(home.path(), &collector, &[]);
    let out = flush(home.path(), &collector, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("asked to wait until"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_413_splits_the_batch_and_every_event_arrives_once() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::builder().max_records_per_request(2).start();
    let names: Vec<String> = (0..7).map(|n| format!("e{n}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    record(home.path(), &collector, &names);
    let out = flush(home.path(), &collector, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The collector answers 413 above two records: what it took are the requests of at most two.
    let mut seen = BTreeMap::new();
    for request in collector
        .requests()
        .iter()
        .filter(|r| r.record_ids().len() <= 2)
    {
        for id in request.record_ids() {
            *seen.entry(id).or_insert(0) += 1;
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    let keys: BTreeSet<String> = collector
        .requests()
        .iter()
        .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    assert!(
        keys.iter().any(|k| k.contains('.')),
        "halves carry their own keys: {keys:?}"
    );
}

#[test]
fn a_host_command_starts_a_detached_sender_and_never_waits_for_it() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    // The collector stalls: a command that waited for it would hang for the whole stall.
    collector.script([Fault::Stall(Duration::from_secs(8))]);
    let mut cmd = crate::support::tool("sh", home.path());
    let binary = env!("CARGO_BIN_EXE_codemachine");
    cmd.args(["-c", &format!("x=$({binary} log info hi); echo \"$x\"")])
        .env("TELEMETRY_ENABLED", "1")
        .env("TELEMETRY_ENDPOINT", collector.url())
        .env("TELEMETRY_CA_FILE", collector.ca_file());
    let started = Instant::now();
    let out = run(cmd, Vec::<&str>::new());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the capture returned at once: {:?}",
        started.elapsed()
    );
    assert!(text(&out.stdout).contains("\"msg\":\"hi\""));
    // The sender, on its own, retries after the stall and delivers.
    let requests = collector.wait_for_requests(1, HANG_LIMIT);
    assert!(!requests.is_empty(), "the detached sender connected");
}

#[test]
fn nothing_connects_when_telemetry_is_off_local_or_withheld() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let mut off = to(home.path(), &collector);
    off.env("TELEMETRY_ENABLED", "0");
    run(off, ["log", "info", "x"]);
    let mut withheld = to(home.path(), &collector);
    withheld.env("TELEMETRY_REDACT_KEYS", "tenant");
    run(withheld, ["log", "info", "x"]);
    let mut withheld = to(home.path(), &collector);
    withheld.env("TELEMETRY_REDACT_KEYS", "tenant");
    let out = run(withheld, ["telemetry", "flush"]);
    assert!(
        text(&out.stderr).contains("withheld"),
        "{}",
        text(&out.stderr)
    );
    let mut st = to(home.path(), &collector);
    st.env("TELEMETRY_REDACT_KEYS", "tenant");
    let s: Json =
        serde_json::from_slice(&run(st, ["telemetry", "status", "--json"]).stdout).unwrap();
    assert!(
        s["forwarding_withheld"]
            .as_str()
            .unwrap()
            .contains("tenant"),
        "{s}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(collector.connections(), 0, "no connection at all");
    let mut documented = to(home.path(), &collector);
    documented
        .env("TELEMETRY_REDACT_KEYS", "tenant")
        .env("TELEMETRY_REDACT_DOCUMENTED", "COMPLY-1");
    assert!(run(documented, ["telemetry", "flush"]).status.success());
    assert_eq!(
        delivered(&collector).len(),
        1,
        "the event recorded while withheld"
    );
}

#[test]
fn otel_headers_follow_only_to_the_same_origin() {
    let collector = Collector::https();
    for (otel_endpoint, expected) in [
        (collector.url(), true),
        ("https://vendor.example:4318".to_owned(), false),
    ] {
        let home = tempfile::tempdir().unwrap();
        record(home.path(), &collector, &["x"]);
        let before = collector.requests().len();
        let mut cmd = to(home.path(), &collector);
        cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &otel_endpoint).env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-vendor-key=vendor-secret-value",
        );
        assert!(run(cmd, ["telemetry", "flush"]).status.success());
        let request = &collector.requests()[before];
        assert_eq!(
            request.header("x-vendor-key").is_some(),
            expected,
            "{otel_endpoint}"
        );
    }
}

#[test]
fn an_endpoint_that_is_not_https_is_refused_and_events_stay() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = enabled(home.path());
    cmd.env("TELEMETRY_ENDPOINT", "http://user:hunter2@example.com/");
    let out = run(cmd, ["telemetry", "status", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let s: Json = serde_json::from_slice(&out.stdout).unwrap();
    let problems = s["problems"].to_string();
    assert!(problems.contains("plain http://"), "{problems}");
    assert!(!text(&out.stdout).contains("hunter2"));
    let mut cmd = enabled(home.path());
    cmd.env("TELEMETRY_ENDPOINT", "http://user:hunter2@example.com/");
    let out = run(cmd, ["log", "info", "kept"]);
    assert!(
        out.status.success() && !text(&out.stderr).contains("hunter2"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(crate::support::recorded_events(home.path()).len(), 1);
}

#[test]
fn random_sigkills_during_sends_lose_nothing() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let names: Vec<String> = (0..40).map(|n| format!("k{n}")).collect();
    for chunk in names.chunks(10) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        record(home.path(), &collector, &chunk);
    }
    let recorded: BTreeSet<String> = crate::support::recorded_events(home.path())
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    // Slow answers, so that kills land in the middle of sends.
    collector.script((0..30).map(|_| Fault::SlowBody {
        len: 40,
        delay: Duration::from_millis(5),
    }));
    for delay_ms in [5u64, 30, 80, 120, 160, 220, 300] {
        let mut child = to(home.path(), &collector)
            .args(["telemetry", "flush", "--timeout", "20"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SAFETY: signalling a child this test started and still owns.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = child.wait();
    }
    let out = flush(home.path(), &collector, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seen = delivered(&collector);
    let got: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(got, recorded, "every recorded event delivered");
    // A duplicate only ever comes with the same batch id as its first delivery.
    let mut batch_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in collector.requests() {
        let key = request
            .header("idempotency-key")
            .unwrap_or_default()
            .to_owned();
        for id in request.record_ids() {
            batch_of.entry(id).or_default().insert(key.clone());
        }
    }
    assert!(
        batch_of.values().all(|keys| keys.len() == 1),
        "{batch_of:?}"
    );
}

#[test]
fn an_embedding_host_wires_its_own_executable_as_the_detached_sender() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let mut host = Command::new(crate::support::example_host());
    crate::support::isolate(&mut host, home.path());
    host.arg("2")
        .env("TELEMETRY_ENABLED", "1")
        .env("TELEMETRY_ENDPOINT", collector.url())
        .env("TELEMETRY_CA_FILE", collector.ca_file());
    let started = Instant::now();
    let out = run(host, Vec::<&str>::new());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(3));
    let requests = collector.wait_for_requests(1, HANG_LIMIT);
    let names: Vec<String> = requests
        .iter()
        .filter_map(|r| r.otlp())
        .flat_map(test_collector::log_records)
        .filter_map(|r| test_collector::string_attr(&r.attributes, "codemachine.name"))
        .collect();
    assert!(
        names.contains(&"host-cli.step".to_owned()) && names.contains(&"host-cli.run".to_owned()),
        "{names:?}"
    );
}

#[test]
fn concurrent_flushes_never_upload_a_batch_twice_at_once() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let names: Vec<String> = (0..12).map(|n| format!("c{n}")).collect();
    for chunk in names.chunks(3) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        record(home.path(), &collector, &chunk);
    }
    // Slow answers keep each sender busy long enough for the others to try.
    collector.script((0..10).map(|_| Fault::SlowBody {
        len: 20,
        delay: Duration::from_millis(10),
    }));
    let flushes: Vec<_> = (0..3)
        .map(|_| {
            to(home.path(), &collector)
                .args(["telemetry", "flush", "--timeout", "20"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in flushes {
        assert!(crate::support::wait_bounded(&mut child).success());
    }
    let seen = delivered(&collector);
    assert_eq!(seen.len(), 12);
    assert!(
        seen.values().all(|n| *n == 1),
        "each event sent once: {seen:?}"
    );
}

#[test]
fn a_local_machine_policy_stops_every_send_even_of_events_recorded_before_it() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    // Recorded with forwarding allowed, before the policy is deployed.
    record(home.path(), &collector, &["before"]);
    let policy = home.path().join("policy.toml");
    std::fs::write(&policy, "telemetry = \"local\"\n").unwrap();
    let under_policy = || {
        let mut cmd = to(home.path(), &collector);
        cmd.env("CODEMACHINE_POLICY_FILE", &policy);
        cmd
    };
    let out = run(under_policy(), ["telemetry", "record", "feature", "held"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for extra in [&[][..], &["--include-local"][..], &["--rejected"][..]] {
        let mut args = vec!["telemetry", "flush", "--timeout", "5"];
        args.extend_from_slice(extra);
        let out = run(under_policy(), &args);
        assert!(!out.status.success(), "{extra:?}");
        assert!(
            text(&out.stderr).contains("allows no forwarding"),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
    run(under_policy(), ["log", "info", "a host command"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(collector.connections(), 0, "nothing left the machine");
    let s: Json =
        serde_json::from_slice(&run(under_policy(), ["telemetry", "status", "--json"]).stdout)
            .unwrap();
    assert!(
        s["forwarding"]
            .as_str()
            .unwrap()
            .contains("allows no forwarding"),
        "{s}"
    );
    // Once the policy is lifted, what was recorded before it goes; what was held waits for
    // --include-local.
    let out = flush(home.path(), &collector, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(delivered(&collector).len(), 1);
    let out = flush(home.path(), &collector, &["--include-local"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // `before`, then `held` and the host command's own event, both held under the policy.
    assert_eq!(delivered(&collector).len(), 3);
}

#[test]
fn a_credential_the_collector_repeats_back_is_never_kept_or_shown() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let key = "q7Rk2mVx9pLs4TnWfake";
    let with_key = || {
        let mut cmd = to(home.path(), &collector);
        cmd.env("TELEMETRY_HEADERS", format!("x-api-key={key}"));
        cmd
    };
    run(with_key(), ["telemetry", "record", "feature", "a"]);
    collector.script([Fault::Reply {
        status: 401,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: format!("invalid api key: {key}").into_bytes(),
    }]);
    let mut said = String::new();
    for args in [
        &["telemetry", "flush", "--timeout", "5"][..],
        &["telemetry", "status"][..],
        &["telemetry", "status", "--json"][..],
        &["telemetry", "ping"][..],
    ] {
        let out = run(with_key(), args);
        said.push_str(&text(&out.stdout));
        said.push_str(&text(&out.stderr));
    }
    assert!(
        said.contains("invalid api key"),
        "the message is kept: {said}"
    );
    let mut kept = String::new();
    for entry in crate::support::files_under(&crate::support::telemetry_dir(home.path())) {
        kept.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    assert!(!said.contains(key), "{said}");
    assert!(!kept.contains(key), "{kept}");
}
