//! The scrubber under fuzzing: it never panics, scrubbing is idempotent, the line scrubber and
//! the JSON redactor never panic either, and no input is slow (libFuzzer's `-timeout` flags a
//! unit that takes too long, which is how a quadratic path would show).

#![no_main]

use std::sync::OnceLock;

use codemachine_telemetry::Redactor;
use codemachine_telemetry::redact::LineScrubber;
use libfuzzer_sys::fuzz_target;

fn redactor() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(|| {
        let mut r = Redactor::new();
        r.add_keys(["sessionKey", "Пароль"]);
        r
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = redactor();
    let once = r.scrub(&text);
    let twice = r.scrub(&once);
    assert_eq!(once, twice, "scrubbing twice changed the text");
    assert!(once.len() <= text.len() + 10 * (text.len() / 2 + 1));

    let mut lines = LineScrubber::new(r);
    for line in text.lines() {
        let _ = lines.scrub_line(line);
    }
    let _ = r.key_verdict(&text);
    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text) {
        r.redact_json(&mut value);
        let again = value.clone();
        r.redact_json(&mut value);
        assert_eq!(value, again, "redacting JSON twice changed it");
    }
});
