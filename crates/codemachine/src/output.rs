//! What the program says to people on stderr: `error:`, `warning:` and `note:` lines, as cargo
//! writes them.
//!
//! Every diagnostic is scrubbed by the redactor (defaults plus the configured keys: a message may
//! repeat a value the user gave) and has its control characters shown escaped (a value cannot
//! drive the terminal). The prefix is coloured when stderr is a terminal and colour is allowed
//! (`--color`, `NO_COLOR`, `TERM=dumb`). Writing never fails the command.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use codemachine_telemetry::terminal::escape_controls;
use codemachine_telemetry::{Redactor, Settings};

struct Reporter {
    redactor: Redactor,
    color: bool,
}

static REPORTER: OnceLock<Reporter> = OnceLock::new();

/// Sets the redaction keys and colour rule for the rest of the run (first call wins).
pub fn init(settings: &Settings) {
    let mut redactor = Redactor::new();
    redactor.add_keys(settings.redact_keys().value());
    let color = settings
        .color()
        .value()
        .paints(std::io::stderr().is_terminal());
    let _ = REPORTER.set(Reporter { redactor, color });
}

fn reporter() -> &'static Reporter {
    REPORTER.get_or_init(|| Reporter {
        redactor: Redactor::new(),
        color: false,
    })
}

/// `text` as it may be shown: secrets scrubbed, control characters escaped.
pub fn clean(text: &str) -> String {
    let scrubbed = reporter().redactor.scrub(text);
    escape_controls(&scrubbed).into_owned()
}

/// `value` as pretty JSON for stdout, every string in it scrubbed (a status or a report repeats
/// values the user gave, which may hold secrets; JSON escapes control characters itself).
pub fn json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let mut json = serde_json::to_value(value)?;
    scrub_strings(&mut json, &reporter().redactor);
    serde_json::to_string_pretty(&json)
}

fn scrub_strings(json: &mut serde_json::Value, redactor: &Redactor) {
    match json {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(scrubbed) = redactor.scrub(s) {
                *s = scrubbed;
            }
        }
        serde_json::Value::Array(items) => {
            items
                .iter_mut()
                .for_each(|item| scrub_strings(item, redactor));
        }
        serde_json::Value::Object(map) => {
            map.values_mut()
                .for_each(|item| scrub_strings(item, redactor));
        }
        _ => {}
    }
}

/// Like [`clean`], keeping line breaks (for multi-line messages such as usage text). The text is
/// scrubbed whole before it is split, so a private key whose lines run across the message goes
/// as one block.
pub fn clean_lines(text: &str) -> String {
    reporter()
        .redactor
        .scrub(text)
        .split('\n')
        .map(|line| escape_controls(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when diagnostics are coloured.
pub fn color() -> bool {
    reporter().color
}

/// `error: …` (bold red on a terminal).
pub fn error(message: fmt::Arguments<'_>) {
    say("error", "\x1b[1;31m", message);
}

/// `warning: …` (bold yellow).
pub fn warning(message: fmt::Arguments<'_>) {
    say("warning", "\x1b[1;33m", message);
}

/// `note: …` (bold cyan): information, not a problem.
pub fn note(message: fmt::Arguments<'_>) {
    say("note", "\x1b[1;36m", message);
}

fn say(prefix: &str, style: &str, message: fmt::Arguments<'_>) {
    let text = clean(&codemachine_telemetry::terminal::without_os_error_numbers(
        &message.to_string(),
    ));
    let mut stderr = std::io::stderr().lock();
    let _ = if color() {
        writeln!(stderr, "{style}{prefix}:\x1b[0m {text}")
    } else {
        writeln!(stderr, "{prefix}: {text}")
    };
}

/// Writes an already-rendered multi-line text on stderr, cleaned line by line.
pub fn raw_stderr(text: &str) {
    let _ = write!(std::io::stderr().lock(), "{}", clean_lines(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_key_in_a_multi_line_message_shows_no_body_line() {
        let text = "error: unexpected argument '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nZmFrZWZha2VmYWtlZmFrZQ\n-----END PRIVATE KEY-----' found\n\nUsage: x";
        let shown = clean_lines(text);
        assert!(
            !shown.contains("MIIEvQIB") && !shown.contains("ZmFrZWZh"),
            "{shown}"
        );
        assert!(shown.ends_with("Usage: x"), "{shown}");
    }

    #[test]
    fn json_for_stdout_has_every_string_scrubbed() {
        let value = serde_json::json!({
            "endpoint": "https://u:S3cr3tPolicyPw@127.0.0.1:9",
            "rules": [{"why": "unknown log level \"password=QkT5rW8zN3pL\""}],
            "count": 3,
        });
        let text = json(&value).unwrap();
        assert!(
            !text.contains("S3cr3tPolicyPw") && !text.contains("QkT5rW8zN3pL"),
            "{text}"
        );
        assert!(text.contains("\"count\": 3"), "{text}");
    }

    #[test]
    fn diagnostics_are_scrubbed_and_escaped() {
        let text = clean(
            "db password=hunter2 \u{1b}]0;pwned\u{7} ghp_0123456789abcdefghijABCDEFGHIJ012345",
        );
        assert!(
            !text.contains("hunter2") && !text.contains("ghp_0123"),
            "{text}"
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert_eq!(clean_lines("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert_eq!(
            codemachine_telemetry::terminal::without_os_error_numbers(
                "x: No space left on device (os error 28); y (os error z)"
            ),
            "x: No space left on device; y (os error z)"
        );
    }
}
