//! Real recorded events validate against the published schema (`docs/event.schema.json`).

use serde_json::Value as Json;

use crate::support::{enabled, recorded_events, run};

fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/event.schema.json");
    let schema: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the published schema is a valid JSON Schema")
}

#[test]
fn recorded_events_match_the_published_schema() {
    let home = tempfile::tempdir().unwrap();
    run(enabled(home.path()), ["log", "info", "x"]);
    run(enabled(home.path()), ["logs", "pretty", "/nonexistent"]);
    run(
        enabled(home.path()),
        [
            "telemetry",
            "record",
            "feature",
            "export:csv",
            "--count",
            "12",
        ],
    );
    run(
        enabled(home.path()),
        [
            "telemetry",
            "record",
            "command",
            "deploy",
            "--duration-ms",
            "9",
            "--exit-code",
            "101",
        ],
    );
    let validator = schema();
    let events = recorded_events(home.path());
    assert_eq!(events.len(), 4);
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{event}: {errors:?}");
    }
}

#[test]
fn the_schema_rejects_what_events_must_never_hold() {
    let validator = schema();
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "ok"],
    );
    let good = recorded_events(home.path()).remove(0);
    let mutations: [(&str, Json); 4] = [
        ("name", Json::from("/home/someone/notes.txt")),
        ("args", Json::from("--password hunter2")),
        ("kind", Json::from("crash")),
        ("anon_id", Json::from("not-a-hash")),
    ];
    for (key, value) in mutations {
        let mut bad = good.clone();
        bad[key] = value;
        assert!(!validator.is_valid(&bad), "{key} should be refused");
    }
}
