//! `codemachine telemetry dry-run`: the operator's dry run.
//!
//! A representative session under the operator's effective settings (their redaction keys,
//! limits and logger settings from every layer), with telemetry on, in a scratch home that is
//! deleted afterwards: the user's own telemetry folder is never touched, and nothing is sent.
//! 1. the logger writes the representative record (the benchmarks' one, secrets included);
//! 2. the session records command and feature events into the scratch spool;
//! 3. the JSON line, its pretty form and the buffered event lines are shown;
//! 4. the verdict: no secret value and no key the operator added in the log line or the events,
//!    every event holding only the schema's keys, and a configuration without problems. Exit 1
//!    if anything fails.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use codemachine_telemetry::log::pretty::render_line;
use codemachine_telemetry::metrics::{EVENT_KEYS, spool};
use codemachine_telemetry::{
    Destination, FormatChoice, Logger, MemoryWriter, Metrics, Settings, fields,
};

use super::{FAILURE, SUCCESS};
use crate::output::clean;
use crate::settings::VERSION;

/// The secret values of the representative record: none may appear in the output.
const SECRETS: [&str; 3] = ["sk-live-abc", "hunter2", "tok_123"];

pub fn run(settings: &Settings) -> Result<u8> {
    let scratch = ScratchHome::create()?;
    let session = settings.relocated(scratch.path());
    let line = representative_line(&session);
    let events = record_session(&session)?;
    let findings = audit(settings, &line, &events);
    let mut out = io::stdout().lock();
    write_report(&mut out, settings, &line, &events)?;
    if findings.is_empty() {
        writeln!(
            out,
            "\nVerdict: PASS, no secret value or added key in the logs or events, events hold only the schema's keys, and the configuration has no problem."
        )?;
        out.flush()?;
        return Ok(SUCCESS);
    }
    writeln!(out, "\nVerdict: FAIL")?;
    for finding in &findings {
        writeln!(out, "  - {}", clean(finding))?;
    }
    out.flush().context("cannot write to stdout")?;
    Ok(FAILURE)
}

fn write_report(
    out: &mut impl Write,
    settings: &Settings,
    line: &str,
    events: &[String],
) -> io::Result<()> {
    writeln!(
        out,
        "codemachine telemetry dry-run (your settings, a scratch home deleted afterwards; nothing is sent)"
    )?;
    let added = settings.redact_keys().value();
    writeln!(
        out,
        "\nSettings: redaction keys added: {}",
        if added.is_empty() {
            "none".to_owned()
        } else {
            clean(&added.join(", "))
        }
    )?;
    writeln!(
        out,
        "\n1. A program logs, with context {{sessionId, workflow}}:"
    )?;
    writeln!(
        out,
        "   fields {{command: \"start\", step: 3, durationMs: 1234.5, exitCode: 0,\n           \
         agent: {{name, model, inputTokens, apiKey: \"sk-live-abc\"}}, password: \"hunter2\", token: \"tok_123\"}}"
    )?;
    writeln!(
        out,
        "\n   The logger writes (JSON, one line):\n{}",
        clean(line.trim_end())
    )?;
    let pretty = render_line(line, false).unwrap_or_default();
    writeln!(
        out,
        "\n   Rendered for people (LOG_FORMAT=pretty):\n{pretty}"
    )?;
    writeln!(
        out,
        "2. The session's buffered events (telemetry inspect --json):"
    )?;
    for event in events {
        writeln!(out, "{}", clean(event))?;
    }
    writeln!(
        out,
        "\n3. Forwarding: no endpoint is configured in this version's dry run; the events above stay local."
    )
}

fn representative_line(settings: &Settings) -> String {
    let captured = MemoryWriter::default();
    let logger = Logger::builder()
        .config(settings.logger_config())
        .format(FormatChoice::Json)
        .destination(Destination::Writer(Box::new(captured.clone())))
        .build();
    let run = logger.with_context(fields! {
        "sessionId" => "3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192", "workflow" => "spec-to-code"
    });
    run.info_with(
        fields! {
            "command" => "start", "step" => 3, "durationMs" => 1234.5, "exitCode" => 0,
            "agent" => fields! {
                "name" => "claude", "model" => "sonnet-4", "inputTokens" => 1200, "apiKey" => "sk-live-abc"
            },
            "password" => "hunter2", "token" => "tok_123",
        },
        "step completed",
    );
    // Settings that could not be used come first as `warn` records; the session's record is last.
    captured.lines().pop().unwrap_or_default()
}

/// Records a short session and returns the event lines as stored.
fn record_session(settings: &Settings) -> Result<Vec<String>> {
    let metrics = Metrics::new(settings, VERSION);
    metrics.record_command("log", Duration::from_millis(3), 0)?;
    metrics.record_feature("export.csv", 2)?;
    metrics.record_command("logs.pretty", Duration::from_millis(41), 1)?;
    drop(metrics);
    let dir = settings
        .dir()
        .context("the scratch home has a telemetry folder")?;
    let mut lines = Vec::new();
    spool::for_each_line(&dir, |_, line, _| lines.push(line.to_owned()));
    Ok(lines)
}

/// What is wrong with the outputs or the configuration, if anything.
fn audit(settings: &Settings, log_line: &str, events: &[String]) -> Vec<String> {
    let mut findings: Vec<String> = settings
        .problems()
        .iter()
        .map(|p| format!("configuration problem: {p}"))
        .collect();
    let outputs = || std::iter::once(log_line).chain(events.iter().map(String::as_str));
    for secret in SECRETS {
        if outputs().any(|o| o.contains(secret)) {
            findings.push(format!(
                "a secret value of the representative record ({} characters) was written",
                secret.len()
            ));
        }
    }
    for key in settings.redact_keys().value() {
        if outputs().any(|o| o.contains(&format!("\"{key}\":"))) {
            findings.push(format!("the added redaction key {key:?} was written"));
        }
    }
    findings.extend(event_findings(events));
    findings
}

fn event_findings(events: &[String]) -> Vec<String> {
    let mut findings = Vec::new();
    for event in events {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(event) {
            Ok(map) => findings.extend(
                map.keys()
                    .filter(|k| !EVENT_KEYS.contains(&k.as_str()))
                    .map(|k| format!("an event holds a key outside the schema: {k}")),
            ),
            Err(_) => findings.push("an event line is not JSON".to_owned()),
        }
    }
    if events.len() != 3 {
        findings.push(format!(
            "3 events were recorded but {} were read back",
            events.len()
        ));
    }
    findings
}

/// A private folder under the system's temporary folder, removed when dropped.
struct ScratchHome(PathBuf);

impl ScratchHome {
    fn create() -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("codemachine-dry-run-{}-{nanos}", std::process::id());
        let path = std::env::temp_dir().join(name);
        // `create` (not `create_all`) fails if the folder exists: it is never someone else's.
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("cannot create the scratch home {}", path.display()))?;
        Ok(ScratchHome(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
