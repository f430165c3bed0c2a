//! The redaction property generator (the library's `redaction_gen.rs`) pointed at the real
//! binary: generated secrets in every shape, notation and context go through `log --stdin`,
//! `logs pretty`, `--json` and `--field`, the spool, the wire and our own diagnostics, and no
//! canary of any of them comes out anywhere.

use std::fs::File;
use std::path::Path;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use test_collector::Collector;

use crate::support::{codemachine, enabled, files_under, run, telemetry_dir, text};

#[path = "../../../codemachine-telemetry/tests/it/redaction_gen.rs"]
#[allow(dead_code)]
mod redaction_gen;

use redaction_gen::{Bodies, Secret, leaks, secret_key, secret_text};

/// `n` values of `strategy`, the same on every run (a failure names the case to reproduce).
fn samples<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// Secret keys, each with a unique canary value.
fn keyed(n: usize) -> Vec<(String, String)> {
    let mut bodies = Bodies::new(7);
    samples(secret_key(), n)
        .into_iter()
        .map(|key| (key, bodies.body(redaction_gen::ALNUM, 24)))
        .collect()
}

/// Fails naming every generated case whose canary shows in `output`.
fn assert_no_leak(place: &str, output: &str, secrets: &[Secret], keyed: &[(String, String)]) {
    let mut found: Vec<String> = secrets
        .iter()
        .filter(|s| !leaks(output, &s.canaries).is_empty())
        .map(|s| format!("{:?}", s.text))
        .collect();
    found.extend(
        keyed
            .iter()
            .filter(|(_, value)| output.contains(value.as_str()))
            .map(|(key, _)| format!("the value of key {key:?}")),
    );
    assert!(
        found.is_empty(),
        "{place} leaked {} case(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

fn with_stdin(mut cmd: std::process::Command, input: &Path) -> std::process::Command {
    cmd.stdin(File::open(input).unwrap());
    cmd
}

#[test]
fn log_stdin_and_logs_pretty_never_show_a_generated_secret() {
    let home = tempfile::tempdir().unwrap();
    let secrets = samples(secret_text(), 400);
    let keys = keyed(200);
    let plain = home.path().join("plain.txt");
    let lines: Vec<&str> = secrets.iter().map(|s| s.text.as_str()).collect();
    // The check can fail: every case's canary is seen in its own unredacted text.
    assert!(
        secrets
            .iter()
            .all(|s| !s.canaries.is_empty() && !leaks(&s.text, &s.canaries).is_empty())
    );
    std::fs::write(&plain, lines.join("\n")).unwrap();

    let out = run(
        with_stdin(codemachine(home.path()), &plain),
        ["log", "info", "--stdin"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_leak("log --stdin", &text(&out.stdout), &secrets, &[]);
    assert_eq!(out.stderr, b"", "no diagnostics for plain text");

    // Other programs' logs: plain lines, records with secrets in messages, nested values, and
    // secret keys.
    let mut mixed = lines.join("\n");
    for secret in &secrets {
        let record =
            serde_json::json!({"level": 40, "msg": secret.text, "ctx": {"note": secret.text}});
        mixed.push('\n');
        mixed.push_str(&record.to_string());
    }
    for (key, value) in &keys {
        mixed.push('\n');
        mixed.push_str(
            &serde_json::json!({ "level": 30, key: value, "nested": { key: [value] } }).to_string(),
        );
    }
    let logs = home.path().join("other.log");
    std::fs::write(&logs, mixed).unwrap();
    let out = run(
        codemachine(home.path()),
        ["logs".as_ref(), "pretty".as_ref(), logs.as_os_str()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_leak("logs pretty", &text(&out.stdout), &secrets, &keys);
}

#[test]
fn json_and_field_options_never_show_a_generated_secret() {
    let home = tempfile::tempdir().unwrap();
    let secrets = samples(secret_text(), 200);
    let keys = keyed(300);
    let mut object = serde_json::Map::new();
    for (key, value) in &keys {
        object.insert(key.clone(), value.clone().into());
    }
    for (i, secret) in secrets.iter().enumerate() {
        object.insert(format!("note{i}"), secret.text.clone().into());
    }
    let json = serde_json::Value::Object(object).to_string();
    let out = run(
        codemachine(home.path()),
        ["log", "warn", "with json", "--json", &json],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_leak("--json", &text(&out.stdout), &secrets, &keys);

    let mut args = vec![
        "log".to_owned(),
        "error".to_owned(),
        "with fields".to_owned(),
    ];
    for (key, value) in &keys {
        args.extend(["--field".to_owned(), format!("{key}={value}")]);
    }
    for secret in &secrets {
        args.extend(["--field".to_owned(), format!("note={}", secret.text)]);
    }
    let out = run(codemachine(home.path()), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_leak("--field", &text(&out.stdout), &secrets, &keys);
}

/// Every file under `dir`, read as text (lossy), one after the other.
fn every_file(dir: &Path) -> String {
    files_under(dir)
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned() + "\n")
        .collect()
}

#[test]
fn a_secret_laden_session_leaks_nothing_to_logs_spool_wire_or_diagnostics() {
    let home = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let secrets = samples(secret_text(), 40);
    let keys = keyed(40);
    let log_path = home.path().join("session.log");
    let header_secret = Bodies::new(99).body(redaction_gen::ALNUM, 32);
    let session = || {
        let mut cmd = enabled(home.path());
        cmd.env("TELEMETRY_ENDPOINT", collector.url())
            .env("TELEMETRY_CA_FILE", collector.ca_file())
            .env(
                "TELEMETRY_HEADERS",
                format!("authorization=Bearer {header_secret}"),
            )
            .env("LOG_PATH", &log_path);
        cmd
    };
    let mut said = String::new();
    let mut say = |out: std::process::Output| {
        said.push_str(&text(&out.stdout));
        said.push_str(&text(&out.stderr));
    };
    for (secret, (key, value)) in secrets.iter().zip(&keys) {
        say(run(
            session(),
            [
                "log",
                "info",
                secret.text.as_str(),
                "--field",
                &format!("{key}={value}"),
            ],
        ));
        // Refused (not an identifier), and the refusal does not repeat it.
        say(run(
            session(),
            ["telemetry", "record", "feature", secret.text.as_str()],
        ));
        // Not a command: recorded as a usage error, without its words.
        say(run(session(), [secret.text.as_str(), "--verbose"]));
    }
    say(run(session(), ["telemetry", "status"]));
    say(run(session(), ["telemetry", "status", "--json"]));
    say(run(session(), ["telemetry", "inspect", "--json"]));
    let out = run(session(), ["telemetry", "flush", "--timeout", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    say(out);

    let requests = collector.requests();
    assert!(!requests.is_empty(), "the session's events were forwarded");
    let mut wire = String::new();
    for request in &requests {
        wire.push_str(&String::from_utf8_lossy(&request.body));
        wire.push_str(&format!("{:?}", request.decoded));
    }
    let written = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        written.lines().count() >= secrets.len(),
        "the log was written"
    );
    let mut all_keys = keys.clone();
    all_keys.push(("TELEMETRY_HEADERS".to_owned(), header_secret.clone()));
    for (place, output) in [
        ("the log file", written),
        (
            "the telemetry folder",
            every_file(&telemetry_dir(home.path())),
        ),
        ("the wire", wire),
        ("stdout and stderr", said),
    ] {
        assert_no_leak(place, &output, &secrets, &all_keys);
    }
    let audit = run(
        session(),
        ["telemetry".as_ref(), "audit".as_ref(), log_path.as_os_str()],
    );
    assert_eq!(
        audit.status.code(),
        Some(0),
        "the audit finds the session clean: {}",
        text(&audit.stdout)
    );
}
