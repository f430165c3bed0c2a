//! Unit tests of the logger as a whole, writing into memory.

use serde_json::{Value as Json, json};

use super::*;
use crate::fields;

pub(crate) fn capturing(builder: LoggerBuilder) -> (Logger, MemoryWriter) {
    let out = MemoryWriter::default();
    let logger = builder
        .format(FormatChoice::Json)
        .destination(Destination::Writer(Box::new(out.clone())))
        .build();
    (logger, out)
}

/// The top-level keys of a JSON object line, in order and with repeats (which a map would hide).
fn keys_of(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(line).unwrap().0
}

fn typical(logger: &Logger, step: u64) {
    logger.info_with(
        fields! {
            "command" => "start",
            "step" => step & 15,
            "durationMs" => 1234.5,
            "exitCode" => 0,
            "agent" => fields! {
                "name" => "claude", "model" => "sonnet-4", "inputTokens" => 1200, "apiKey" => "sk-live-abc"
            },
            "password" => "hunter2",
            "token" => "tok_123",
        },
        "step completed",
    );
}

#[test]
fn the_typical_record_has_pinos_layout_and_loses_its_secrets() {
    let (logger, out) = capturing(Logger::builder());
    let child = logger.with_context(fields! {
        "sessionId" => "3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192", "workflow" => "spec-to-code"
    });
    typical(&child, 17);
    let line = &out.lines()[0];
    assert_eq!(
        keys_of(line),
        [
            "level",
            "time",
            "pid",
            "hostname",
            "service",
            "sessionId",
            "workflow",
            "command",
            "step",
            "durationMs",
            "exitCode",
            "agent",
            "msg"
        ]
    );
    let v: Json = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], 30);
    assert_eq!(v["pid"], std::process::id());
    assert_eq!(v["service"], "codemachine");
    assert_eq!(v["step"], 1);
    assert_eq!(v["durationMs"], 1234.5);
    assert_eq!(
        v["agent"],
        json!({"name": "claude", "model": "sonnet-4", "inputTokens": 1200})
    );
    assert_eq!(v["msg"], "step completed");
    for secret in ["sk-live-abc", "hunter2", "tok_123"] {
        assert!(!line.contains(secret), "{secret} leaked: {line}");
    }
    let now = crate::time::now_millis();
    let time = v["time"].as_u64().unwrap();
    assert!(time <= now && now - time < 60_000);
}

#[test]
fn core_fields_are_never_overwritten_and_keys_never_repeat() {
    let (logger, out) = capturing(Logger::builder().service("other"));
    let child = logger.with_context(fields! { "a" => 1, "level" => 99, "b" => 2 });
    let grandchild = child.with_context(fields! { "a" => 3, "c" => 4 });
    grandchild.warn_with(
        fields! { "msg" => "fake", "service" => "evil", "time" => 0, "b" => 5, "d" => 6, "d" => 7 },
        "real",
    );
    let line = &out.lines()[0];
    assert_eq!(
        keys_of(line),
        [
            "level", "time", "pid", "hostname", "service", "a", "c", "b", "d", "msg"
        ]
    );
    let v: Json = serde_json::from_str(line).unwrap();
    assert_eq!(
        (v["level"].clone(), v["service"].clone()),
        (json!(40), json!("other"))
    );
    assert_eq!(
        (v["a"].clone(), v["b"].clone(), v["d"].clone()),
        (json!(3), json!(5), json!(7))
    );
    assert_eq!(v["msg"], "real");
}

#[test]
fn context_is_redacted_once_bound() {
    let (logger, out) = capturing(Logger::builder().redact_keys(["tenant"]));
    let child = logger.with_context(fields! {
        "db_password" => "x", "tenant" => "acme", "url" => "https://u:hunter2@h/x", "n" => fields! { "token" => 1 }
    });
    child.info("m");
    let v: Json = serde_json::from_str(&out.lines()[0]).unwrap();
    assert_eq!(v.get("db_password"), None);
    assert_eq!(v.get("tenant"), None);
    assert_eq!(v["url"], "https://u:[REDACTED]@h/x");
    assert_eq!(v["n"], json!({}));
}

#[test]
fn the_threshold_filters_and_silent_writes_nothing() {
    let (logger, out) = capturing(Logger::builder().threshold(Threshold::At(Level::Warn)));
    logger.info("no");
    logger.error("yes");
    assert_eq!(out.lines().len(), 1);
    let (silent, out) = capturing(Logger::builder().threshold(Threshold::Silent));
    silent.fatal("no");
    assert!(out.lines().is_empty());
    assert!(!silent.enabled(Level::Fatal));
}

#[test]
fn non_finite_numbers_are_written_as_null() {
    let (logger, out) = capturing(Logger::builder());
    logger.info_with(
        fields! { "nan" => f64::NAN, "inf" => f64::NEG_INFINITY },
        "m",
    );
    let v: Json = serde_json::from_str(&out.lines()[0]).unwrap();
    assert_eq!(
        (v["nan"].clone(), v["inf"].clone()),
        (Json::Null, Json::Null)
    );
}

#[test]
fn errors_carry_type_message_stack_and_cause_and_default_the_message() {
    let (logger, out) = capturing(Logger::builder());
    let io = std::io::Error::other("disk on fire, token=abc");
    let err = ErrorRecord::new(&io);
    logger.log_error(
        Level::Error,
        &err,
        fields! { "err" => "shadowed", "op" => "save" },
        None,
    );
    let line = &out.lines()[0];
    assert_eq!(keys_of(line).iter().filter(|k| *k == "err").count(), 1);
    let v: Json = serde_json::from_str(line).unwrap();
    assert_eq!(v["err"]["type"], "std::io::error::Error");
    assert_eq!(v["err"]["message"], "disk on fire, token=[REDACTED]");
    assert!(
        v["err"]["stack"]
            .as_str()
            .unwrap()
            .contains("errors_carry_type_message")
    );
    assert_eq!(v["msg"], "disk on fire, token=[REDACTED]");
    assert_eq!(v["op"], "save");
}

#[test]
fn unusable_settings_are_reported_in_warn_records() {
    let settings = crate::Settings::builder()
        .environment(crate::settings::Environment::from_pairs([(
            "LOG_FORMAT",
            "fancy",
        )]))
        .build();
    let (_logger, out) = capturing(Logger::builder().config(settings.logger_config()));
    let v: Json = serde_json::from_str(&out.lines()[0]).unwrap();
    assert_eq!(v["level"], 40);
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains("\"fancy\" is not json or pretty")
    );
}

#[test]
fn debug_output_shows_no_record_content() {
    let (logger, _out) = capturing(Logger::builder().redact_keys(["pin"]));
    let child = logger.with_context(fields! { "user" => "someone@example.com" });
    let debug = format!("{child:?}");
    assert!(debug.contains("Writer") || debug.contains("writer"));
    assert!(!debug.contains("someone@example.com"));
}

#[test]
fn a_record_without_message_has_no_msg_key() {
    let (logger, out) = capturing(Logger::builder());
    logger.log_fields(Level::Info, fields! { "a" => 1 });
    assert_eq!(
        keys_of(&out.lines()[0]),
        ["level", "time", "pid", "hostname", "service", "a"]
    );
}
