//! Records for people: a pino-pretty-like rendering that keeps every field.
//!
//! ```text
//! [2026-11-27T22:00:32.123Z] INFO (codemachine/4242 on devbox): step completed
//!     sessionId: "3f9c2a1e-…"
//!     agent: {
//!       "name": "claude"
//!     }
//! ```
//! The header holds `time` (as UTC, to the millisecond), the level, `service`/`pid` on
//! `hostname`, and `msg`; every other key follows on its own indented line, objects spread over
//! lines and `stack` strings printed as their own lines, as pino-pretty does. Used by the logger
//! in pretty mode and by `codemachine logs pretty`; a line that is not a JSON object is not
//! rendered (the caller passes it through).
//!
//! Every piece of text taken from the record goes through
//! [`escape_controls`](crate::terminal::escape_controls): an escape sequence, a bell, a carriage
//! return or a newline inside a value is shown escaped, so no record can drive the terminal or
//! forge a line. Rendering does not redact: the logger's own lines already are, and
//! `logs pretty` redacts what it reads before rendering it.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

use super::level::Level;
use crate::terminal::escape_controls;
use crate::time::rfc3339_millis;

const RESET: &str = "\x1b[0m";
const CYAN: &str = "\x1b[36m";
const GRAY: &str = "\x1b[90m";

/// Keys shown in the header rather than as their own lines.
const HEADER_KEYS: [&str; 6] = ["level", "time", "pid", "hostname", "service", "msg"];

/// Renders one JSON line for people, newline included; `None` when it is not a JSON object.
pub fn render_line(line: &str, color: bool) -> Option<String> {
    let record: Map<String, Json> = serde_json::from_str(line.trim_end()).ok()?;
    Some(render_record(&record, color))
}

/// Renders one parsed record for people, newline included.
pub fn render_record(record: &Map<String, Json>, color: bool) -> String {
    let mut out = String::with_capacity(256);
    write_header(&mut out, record, color);
    for (key, value) in record
        .iter()
        .filter(|(k, _)| !HEADER_KEYS.contains(&k.as_str()))
    {
        out.push_str("    ");
        write_entry(&mut out, key, value, 4, color, false);
        out.push('\n');
    }
    out
}

/// Text from the record, safe to show.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text)
}

fn write_header(out: &mut String, record: &Map<String, Json>, color: bool) {
    match record.get("time") {
        Some(Json::Number(n)) if n.as_u64().is_some() => {
            let _ = write!(out, "[{}] ", rfc3339_millis(n.as_u64().unwrap_or(0)));
        }
        Some(Json::String(s)) => {
            let _ = write!(out, "[{}] ", shown(s));
        }
        Some(other) => {
            let _ = write!(out, "[{}] ", shown(&other.to_string()));
        }
        None => {}
    }
    let (label, paint) = level_label(record.get("level"));
    paint_into(out, &label, paint.filter(|_| color));
    write_origin(out, record);
    out.push(':');
    if let Some(msg) = record.get("msg") {
        out.push(' ');
        let text = msg.as_str().map_or_else(|| msg.to_string(), str::to_owned);
        paint_into(out, &shown(&text), Some(CYAN).filter(|_| color));
    }
    out.push('\n');
}

/// ` (service/pid on hostname)`, with whatever parts the record has.
fn write_origin(out: &mut String, record: &Map<String, Json>) {
    let text = |k: &str| {
        record
            .get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let who = match (text("service").or_else(|| text("name")), text("pid")) {
        (Some(s), Some(p)) => Some(format!("{s}/{p}")),
        (s, p) => s.or(p),
    };
    let place = match (who, text("hostname")) {
        (Some(w), Some(h)) => Some(format!("{w} on {h}")),
        (w, h) => w.or(h),
    };
    if let Some(place) = place {
        let _ = write!(out, " ({})", shown(&place));
    }
}

fn level_label(level: Option<&Json>) -> (String, Option<&'static str>) {
    let level = match level {
        Some(Json::Number(n)) => n.as_u64().and_then(Level::from_number),
        Some(Json::String(s)) => s.parse().ok(),
        _ => None,
    };
    match level {
        Some(l) => (l.name().to_ascii_uppercase(), Some(level_color(l))),
        None => ("USERLVL".to_owned(), None),
    }
}

fn level_color(level: Level) -> &'static str {
    match level {
        Level::Trace => GRAY,
        Level::Debug => "\x1b[34m",
        Level::Info => "\x1b[32m",
        Level::Warn => "\x1b[33m",
        Level::Error => "\x1b[31m",
        Level::Fatal => "\x1b[41m",
    }
}

fn paint_into(out: &mut String, text: &str, color: Option<&str>) {
    match color {
        Some(c) => {
            out.push_str(c);
            out.push_str(text);
            out.push_str(RESET);
        }
        None => out.push_str(text),
    }
}

/// `key: value`; nested keys are quoted like JSON, `stack` strings become indented lines.
fn write_entry(
    out: &mut String,
    key: &str,
    value: &Json,
    indent: usize,
    color: bool,
    quoted: bool,
) {
    let name = if quoted {
        Json::from(key).to_string()
    } else {
        key.to_owned()
    };
    paint_into(out, &shown(&name), Some(GRAY).filter(|_| color));
    match (key, value) {
        ("stack", Json::String(stack)) => {
            out.push(':');
            for line in stack.lines() {
                out.push('\n');
                pad(out, indent + 4);
                out.push_str(&shown(line));
            }
        }
        _ => {
            out.push_str(": ");
            write_value(out, value, indent, color);
        }
    }
}

fn write_value(out: &mut String, value: &Json, indent: usize, color: bool) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, indent + 2);
                write_entry(out, k, v, indent + 2, color, true);
            }
            out.push('\n');
            pad(out, indent);
            out.push('}');
        }
        Json::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, indent + 2);
                write_value(out, v, indent + 2, color);
            }
            out.push('\n');
            pad(out, indent);
            out.push(']');
        }
        other => out.push_str(&shown(&other.to_string())),
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_fields_and_error_stacks() {
        let line = r#"{"level":50,"time":1795816832123,"pid":7,"hostname":"box","service":"codemachine","agent":{"name":"claude","tags":[1]},"err":{"type":"E","message":"boom","stack":"E: boom\n  at main"},"msg":"failed"}"#;
        let expected = "\
[2026-11-27T22:00:32.123Z] ERROR (codemachine/7 on box): failed
    agent: {
      \"name\": \"claude\",
      \"tags\": [
        1
      ]
    }
    err: {
      \"type\": \"E\",
      \"message\": \"boom\",
      \"stack\":
          E: boom
            at main
    }
";
        assert_eq!(render_line(line, false).unwrap(), expected);
    }

    #[test]
    fn colours_level_and_message_only_when_asked() {
        let line = r#"{"level":30,"msg":"hi"}"#;
        assert_eq!(render_line(line, false).unwrap(), "INFO: hi\n");
        let colored = render_line(line, true).unwrap();
        assert!(colored.contains("\x1b[32mINFO\x1b[0m") && colored.contains("\x1b[36mhi\x1b[0m"));
    }

    #[test]
    fn control_characters_from_data_are_shown_escaped_and_cannot_forge_a_line() {
        let line = r#"{"level":30,"time":"\u001b]0;t\u0007","hostname":"h\r","msg":"a\nINFO: forged\u009b2J","k\u001b[31m":"\u009b31m","stack":"x\u001b[2Jy"}"#;
        let out = render_line(line, false).unwrap();
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert_eq!(out.lines().filter(|l| l.contains("forged")).count(), 1);
        assert!(!out.lines().any(|l| l.starts_with("INFO: forged")), "{out}");
    }

    #[test]
    fn refuses_lines_that_are_not_json_objects() {
        assert_eq!(render_line("plain text", false), None);
        assert_eq!(render_line("[1,2]", false), None);
        assert_eq!(
            render_line(r#"{"level":"warn"}"#, false).unwrap(),
            "WARN:\n"
        );
    }
}
