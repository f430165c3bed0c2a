//! `codemachine log <level> <message> [--field k=v]… [--json '{…}']`: one record; with `--stdin`
//! instead of a message, one record per line of standard input (like logger(1)), through one
//! long-lived logger: rotation (`SIGHUP`) and a FIFO reader going away are handled mid-stream.
//!
//! Bad input never echoes the values it was given (they may be secrets): the error names the
//! option and what was wrong with it. A record that could not be written anywhere (stdout is
//! `/dev/full`) is an error, exit 1: writing it is the command's whole job.

use anyhow::{Context, Result};
use codemachine_telemetry::redact::LineScrubber;
use codemachine_telemetry::{
    DEFAULT_SERVICE, Field, Level, Logger, Settings, Value, install_panic_hook,
};
use serde_json::{Map, Value as Json};

use super::bounded_lines::read_bounded_line;
use super::{UsageError, describe_io};
use crate::cli::LogArgs;

/// The longest line `--stdin` turns into one record; the rest of a longer line is skipped (not
/// held in memory) and the record says `"truncated": true`.
pub const MAX_STDIN_LINE: usize = 1024 * 1024;

pub fn run(args: LogArgs, settings: &Settings) -> Result<u8> {
    let level: Level = args.level.parse().map_err(|_| {
        UsageError(
            "unknown level (expected trace, debug, info, warn, error or fatal; the value given is not repeated)"
                .to_owned(),
        )
    })?;
    let entries = entries(args.json.as_deref(), &args.fields)?;
    let logger = Logger::from_settings(settings, DEFAULT_SERVICE);
    install_panic_hook(logger.clone());
    let fields: Vec<Field<'_>> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), Value::Json(v)))
        .collect();
    match &args.message {
        Some(message) => logger.log(level, &fields, message),
        None => log_lines(&logger, level, &fields)?,
    }
    match logger.take_write_error() {
        // A reader that went away (`| head`) is not a failure of ours.
        Some(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        Some(err) => anyhow::bail!("the record could not be written: {}", describe_io(&err)),
        None => {}
    }
    Ok(super::SUCCESS)
}

/// One record per line of stdin; bytes that are not UTF-8 are replaced, never fatal. Lines go
/// through a [`LineScrubber`] first, so a private key piped line by line is redacted from the
/// line that opens its block to the one that ends it (one line alone shows no secret shape).
fn log_lines(logger: &Logger, level: Level, fields: &[Field<'_>]) -> Result<()> {
    let mut input = std::io::stdin().lock();
    let mut scrubber = LineScrubber::new(logger.redactor());
    let mut line = Vec::new();
    let truncated: Vec<Field<'_>> = fields
        .iter()
        .copied()
        .chain([("truncated", Value::Bool(true))])
        .collect();
    loop {
        let Some(cut) = read_bounded_line(&mut input, &mut line, MAX_STDIN_LINE)
            .context("cannot read stdin")?
        else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&line);
        let msg = scrubber.scrub_line(text.trim_end_matches(['\n', '\r']));
        logger.log(level, if cut { &truncated } else { fields }, &msg);
    }
}

/// The `--json` object's entries, then each `--field`, in order (later keys win downstream).
fn entries(json: Option<&str>, fields: &[String]) -> Result<Vec<(String, Json)>, UsageError> {
    let mut entries: Vec<(String, Json)> = match json {
        Some(text) => parse_object(text)?.into_iter().collect(),
        None => Vec::new(),
    };
    for field in fields {
        let (key, value) = field.split_once('=').ok_or_else(|| {
            UsageError("--field expects KEY=VALUE, and one was given without '='".to_owned())
        })?;
        if key.is_empty() {
            return Err(UsageError("--field has an empty key".to_owned()));
        }
        entries.push((key.to_owned(), Json::from(value)));
    }
    Ok(entries)
}

fn parse_object(text: &str) -> Result<Map<String, Json>, UsageError> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(UsageError("--json must be a JSON object ({…})".to_owned())),
        Err(e) => Err(UsageError(format!(
            "--json is not valid JSON: {} (line {}, column {})",
            describe(&e),
            e.line(),
            e.column()
        ))),
    }
}

/// What is wrong with the JSON, in the user's terms and without the offending text.
fn describe(e: &serde_json::Error) -> &'static str {
    let text = e.to_string();
    if text.contains("recursion limit") {
        return "it nests deeper than 127 levels";
    }
    if text.contains("number out of range") {
        return "a number is too large for JSON (beyond ±1.8e308)";
    }
    match e.classify() {
        serde_json::error::Category::Eof => "it ends too early",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "a read error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_entries_come_first_and_fields_follow_in_order() {
        let e = entries(
            Some(r#"{"a":1,"b":{"c":true}}"#),
            &["b=x".into(), "d=1=2".into()],
        )
        .unwrap();
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "b", "d"]);
        assert_eq!(e[3].1, Json::from("1=2"));
    }

    #[test]
    fn bad_input_is_refused_without_echoing_it() {
        for (json, fields) in [
            (Some("{\"password\": \"hunter2\""), vec![]),
            (Some("[\"hunter2\"]"), vec![]),
            (None, vec!["hunter2".to_owned()]),
            (None, vec!["=hunter2".to_owned()]),
        ] {
            let err = entries(json, &fields).unwrap_err();
            assert!(!err.0.contains("hunter2"), "{}", err.0);
        }
    }

    #[test]
    fn deep_nesting_and_huge_numbers_are_named_for_what_they_are() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = parse_object(&format!("{{\"a\":{deep}}}")).unwrap_err();
        assert!(err.0.contains("deeper than 127"), "{}", err.0);
        let err = parse_object("{\"a\":1e400}").unwrap_err();
        assert!(err.0.contains("too large"), "{}", err.0);
    }
}
