//! `codemachine log <level> <message> [--field k=v]… [--json '{…}']`: one record; with `--stdin`
//! instead of a message, one record per line of standard input (like logger(1)), through one
//! long-lived logger: rotation (`SIGHUP`) and a FIFO reader going away are handled mid-stream.
//!
//! Bad input never echoes the values it was given (they may be secrets): the error names the
//! option and what was wrong with it.

use std::io::BufRead;

use anyhow::{Context, Result};
use codemachine_telemetry::{
    DEFAULT_SERVICE, Field, Level, Logger, LoggerConfig, Value, install_panic_hook,
};
use serde_json::{Map, Value as Json};

use super::UsageError;
use crate::cli::LogArgs;
use crate::settings::Settings;

pub fn run(args: LogArgs, settings: &Settings) -> Result<u8> {
    let level: Level = args.level.parse().map_err(|e| UsageError(format!("{e}")))?;
    let entries = entries(args.json.as_deref(), &args.fields)?;
    let logger = Logger::builder()
        .config(LoggerConfig::from_env())
        .service(DEFAULT_SERVICE)
        .redact_keys(settings.redact_keys().iter().cloned())
        .build();
    install_panic_hook(logger.clone());
    let fields: Vec<Field<'_>> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), Value::Json(v)))
        .collect();
    match &args.message {
        Some(message) => logger.log(level, &fields, message),
        None => log_lines(&logger, level, &fields)?,
    }
    Ok(super::SUCCESS)
}

/// One record per line of stdin; bytes that are not UTF-8 are replaced, never fatal.
fn log_lines(logger: &Logger, level: Level, fields: &[Field<'_>]) -> Result<()> {
    let mut input = std::io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .context("cannot read stdin")?
            == 0
        {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        logger.log(level, fields, text.trim_end_matches(['\n', '\r']));
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
            "--json is not valid JSON ({} at line {} column {})",
            describe(&e),
            e.line(),
            e.column()
        ))),
    }
}

/// What kind of JSON error this is, without the offending text.
fn describe(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "read error",
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
}
