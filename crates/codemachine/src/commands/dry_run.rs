//! `codemachine telemetry dry-run`: the operator's dry run.
//!
//! A representative session with telemetry enabled, in a scratch home that is deleted afterwards
//! (the user's own telemetry folder is never touched, and nothing is sent):
//! 1. the logger writes the representative record (the benchmarks' one, secrets included);
//! 2. the session records command and feature events into the scratch spool;
//! 3. the JSON line, its pretty form and the buffered event lines are shown;
//! 4. the verdict: no secret value in the log line or the events, and every event holds only
//!    the schema's keys. Exit 1 if anything fails the check.
//!
//! Forwarding is not built yet, so there is no payload to show.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use codemachine_telemetry::log::pretty::render_line;
use codemachine_telemetry::metrics::spool;
use codemachine_telemetry::{
    Destination, FormatChoice, Logger, MemoryWriter, Metrics, TelemetryConfig, fields,
};

use super::{FAILURE, SUCCESS};
use crate::settings::VERSION;

/// The secret values of the representative record: none may appear in the output.
const SECRETS: [&str; 3] = ["sk-live-abc", "hunter2", "tok_123"];
/// The keys an event may hold (docs/event.schema.json).
const EVENT_KEYS: [&str; 13] = [
    "schema",
    "id",
    "ts",
    "kind",
    "name",
    "duration_ms",
    "exit_code",
    "count",
    "session_id",
    "anon_id",
    "cli_version",
    "os",
    "arch",
];

pub fn run() -> Result<u8> {
    let line = representative_line();
    let scratch = ScratchHome::create()?;
    let events = record_session(scratch.path())?;
    let findings = audit(&line, &events);
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "codemachine telemetry dry-run (a scratch home, deleted afterwards; nothing is sent)"
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
        line.trim_end()
    )?;
    let pretty = render_line(&line, false).unwrap_or_default();
    writeln!(
        out,
        "\n   Rendered for people (LOG_FORMAT=pretty):\n{pretty}"
    )?;
    writeln!(
        out,
        "2. The session's buffered events (telemetry inspect --json):"
    )?;
    for event in &events {
        writeln!(out, "{event}")?;
    }
    writeln!(
        out,
        "\n3. Forwarding: not available in this version; the events above stay local."
    )?;
    if findings.is_empty() {
        writeln!(
            out,
            "\nVerdict: PASS, no secret value in the logs or events, and events hold only the schema's keys."
        )?;
        return Ok(SUCCESS);
    }
    writeln!(out, "\nVerdict: FAIL")?;
    for finding in &findings {
        writeln!(out, "  - {finding}")?;
    }
    out.flush().context("cannot write to stdout")?;
    Ok(FAILURE)
}

fn representative_line() -> String {
    let captured = MemoryWriter::default();
    let logger = Logger::builder()
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
    captured.text()
}

/// Records a short session in `home` and returns the event lines as stored.
fn record_session(home: &Path) -> Result<Vec<String>> {
    let home_text = home.to_string_lossy().into_owned();
    let config =
        TelemetryConfig::resolve(|name| (name == "CODEMACHINE_HOME").then(|| home_text.clone()))
            .context("scratch configuration")?;
    let metrics = Metrics::enabled(config.clone(), VERSION);
    metrics.record_command("log", Duration::from_millis(3), 0)?;
    metrics.record_feature("export.csv", 2)?;
    metrics.record_command("logs.pretty", Duration::from_millis(41), 1)?;
    drop(metrics);
    let mut lines = Vec::new();
    spool::for_each_line(&config.dir(), |line, _| lines.push(line.to_owned()))?;
    Ok(lines)
}

/// What is wrong with the outputs, if anything.
fn audit(log_line: &str, events: &[String]) -> Vec<String> {
    let mut findings = Vec::new();
    for secret in SECRETS {
        if log_line.contains(secret) || events.iter().any(|e| e.contains(secret)) {
            findings.push(format!(
                "a secret value of the representative record ({} characters) was written",
                secret.len()
            ));
        }
    }
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
