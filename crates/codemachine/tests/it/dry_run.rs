//! `codemachine telemetry dry-run`.

use crate::support::{codemachine, run, text};

#[test]
fn shows_the_redacted_record_and_a_passing_verdict_without_touching_home() {
    let home = tempfile::tempdir().unwrap();
    let out = run(codemachine(home.path()), ["telemetry", "dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let json_line = stdout
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with("{\"level\":30"))
        .expect("the JSON record is shown");
    let record: serde_json::Value = serde_json::from_str(json_line).unwrap();
    assert_eq!(record["agent"]["inputTokens"], 1200);
    assert!(record.get("password").is_none() && record.get("token").is_none());
    assert!(!json_line.contains("sk-live-abc"));
    assert!(stdout.contains("Verdict: PASS"));
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("{\"schema\":1"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["log", "export.csv", "logs.pretty"]);
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "nothing written to home"
    );
}
