//! The audit on planted findings and on our own clean data.

use super::*;

fn auditor() -> Auditor {
    Auditor::new(
        Redactor::new(),
        Identity::new(Some("alice".into()), Some("devbox-7".into())),
    )
}

fn kinds(line: &str, metrics: bool) -> Vec<Kind> {
    auditor()
        .scan_line(line, metrics)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

#[test]
fn each_kind_is_found_and_never_shown() {
    let planted = [
        (
            r#"{"password":"hunter2-fake"}"#,
            Kind::SecretKey,
            "hunter2-fake",
        ),
        (
            "token ghp_0123456789abcdefghijABCDEFGHIJ012345 used",
            Kind::SecretShape,
            "ghp_0123456789",
        ),
        (
            "db postgres://app:s3cret-fake@db.internal/x",
            Kind::SecretShape,
            "s3cret-fake",
        ),
        (
            "contact bob.smith@example.org now",
            Kind::Email,
            "bob.smith@example.org",
        ),
        ("from 198.51.100.23", Kind::IpAddress, "198.51.100.23"),
        ("open /home/carol/notes.txt", Kind::HomePath, "/home/carol"),
        ("user alice did it", Kind::UserName, "alice"),
        (
            "random Zx8kQ2mP9vL4nR7tW1yB6cD3fG5hJ0aS end",
            Kind::HighEntropy,
            "Zx8kQ2mP9vL4nR7tW1yB6cD3fG5hJ0aS",
        ),
    ];
    for (line, kind, secret) in planted {
        let found = auditor().scan_line(line, false);
        assert!(found.iter().any(|(k, _)| *k == kind), "{line}: {found:?}");
        for (_, excerpt) in &found {
            assert!(
                !excerpt.contains(secret),
                "{line}: the excerpt shows it: {excerpt}"
            );
        }
    }
    assert!(kinds("ran on devbox-7", true).contains(&Kind::HostName));
    assert!(!kinds("ran on devbox-7", false).contains(&Kind::HostName));
}

#[test]
fn our_events_and_log_records_audit_clean() {
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::Settings::builder()
        .home(dir.path())
        .telemetry(true)
        .build();
    let metrics = crate::Metrics::new(&settings, "0.1.0");
    metrics
        .record_command("logs.pretty", std::time::Duration::from_millis(3), 0)
        .unwrap();
    metrics.record_feature("export.csv", 2).unwrap();
    drop(metrics);
    let pruned =
        crate::metrics::spool::prune_into_history(&settings.dir().unwrap(), Default::default());
    assert_eq!(pruned.folded, 2, "the history holds them");
    metrics_again(&settings);
    let memory = crate::MemoryWriter::default();
    let logger = crate::Logger::builder()
        .format(crate::FormatChoice::Json)
        .destination(crate::Destination::Writer(Box::new(memory.clone())))
        .build();
    logger.info_with(crate::fields! { "step" => 3, "password" => "hunter2", "sessionId" => "3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192" }, "step completed");
    let mut report = Report::default();
    let host = Identity::new(None, Some(crate::host_name()));
    let auditor = Auditor::new(Redactor::new(), host);
    auditor.audit_telemetry_dir(&settings.dir().unwrap(), &mut report, &mut |_| {});
    auditor.audit_reader(
        memory.text().as_bytes(),
        Path::new("log"),
        false,
        &mut report,
        &mut |_| {},
    );
    assert_eq!(report.files, 3, "a batch, the history, the log");
    assert!(report.is_clean(), "{:?}", report.findings);
}

/// Records one more event, so a batch is there beside the history.
fn metrics_again(settings: &crate::Settings) {
    let metrics = crate::Metrics::new(settings, "0.1.0");
    metrics.record_feature("cache.hit", 1).unwrap();
}

#[test]
fn the_history_is_audited_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("history")).unwrap();
    std::fs::write(
        dir.path().join("history/history.ndjson"),
        "{\"day\":\"2026-01-02\",\"kind\":\"feature\",\"name\":\"ghp_0123456789abcdefghijABCDEFGHIJ012345\",\"count\":1}\n",
    )
    .unwrap();
    let mut report = Report::default();
    auditor().audit_telemetry_dir(dir.path(), &mut report, &mut |_| {});
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert!(report.findings[0].file.ends_with("history/history.ndjson"));
}

#[test]
fn long_lines_are_read_in_pieces_and_counted_once() {
    let mut text = "x".repeat(MAX_PIECE * 2 + 10);
    text.push_str(" bob@example.org\nsecond line\n");
    let mut report = Report::default();
    auditor().audit_reader(
        text.as_bytes(),
        Path::new("big"),
        false,
        &mut report,
        &mut |_| {},
    );
    assert_eq!(report.lines, 2);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        (report.findings[0].line, report.findings[0].kind),
        (1, Kind::Email)
    );
}

#[test]
fn a_file_that_is_not_regular_is_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    crate::sys::mkfifo(&fifo).unwrap();
    let mut report = Report::default();
    auditor().audit_file(&fifo, &mut report, &mut |_| {});
    auditor().audit_file(dir.path(), &mut report, &mut |_| {});
    assert_eq!(report.unreadable.len(), 2);
    assert!(!report.is_clean());
}

#[test]
fn a_credential_forwarding_sends_is_found_whatever_its_shape() {
    let line = "collector said: invalid key qqqqzzzzwwww (retry later)";
    assert!(
        auditor().scan_line(line, false).is_empty(),
        "no shape to see"
    );
    let found = auditor()
        .with_known_secrets(["qqqqzzzzwwww"])
        .scan_line(line, false);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Kind::SecretShape);
    assert!(!found[0].1.contains("qqqqzzzz"), "{}", found[0].1);
    let debug = format!("{:?}", auditor().with_known_secrets(["qqqqzzzzwwww"]));
    assert!(!debug.contains("qqqq"), "{debug}");
}
