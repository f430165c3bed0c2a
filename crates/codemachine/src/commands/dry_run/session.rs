//! The dry run's session: what a program logs and records under the operator's settings, in a
//! scratch home, and what would be forwarded.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use codemachine_telemetry::audit::{Auditor, Identity, Report};
use codemachine_telemetry::forward::{
    Compression, ParsedBatch, Protocol, encode_uncompressed, gzip,
};
use codemachine_telemetry::log::pretty::render_line;
use codemachine_telemetry::metrics::{EVENT_KEYS, spool};
use codemachine_telemetry::settings::forwarding::Forwarding;
use codemachine_telemetry::{
    Destination, ErrorRecord, FormatChoice, Level, Logger, MemoryWriter, Metrics, Redactor,
    Settings, fields,
};

use crate::settings::VERSION;

/// Every secret the session puts in its records: none may appear in any output.
pub const SECRETS: [&str; 6] = [
    "sk-live-abc",
    "hunter2",
    "tok_123",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345",
    "s3cr3t-db-pass",
    "AKIAIOSFODNN7EXAMPLE",
];

/// What the session produced.
pub struct Session {
    /// Its log records, as written (JSON lines).
    pub log_lines: Vec<String>,
    /// The same, for people.
    pub pretty: String,
    /// The event lines, as buffered.
    pub events: Vec<String>,
    /// What would be forwarded.
    pub payload: Payload,
    /// Where things are, in the scratch home and for real.
    pub places: Vec<(&'static str, String, String)>,
    /// The audit of the session's logs and spool.
    pub audit: Report,
}

/// The request that would be sent (nothing is).
pub struct Payload {
    /// The endpoint, masked; `None` when none is configured (the default protocol is shown).
    pub url: Option<String>,
    pub protocol: Protocol,
    pub compression: Compression,
    /// The configured headers, masked.
    pub headers: String,
    /// The body as readable text (protobuf shown decoded, as its OTLP/JSON form).
    pub readable: String,
    /// Bytes on the wire before and after compression.
    pub raw_bytes: usize,
    pub wire_bytes: usize,
}

/// A private folder under the system's temporary folder, removed when dropped.
pub struct ScratchHome(PathBuf);

impl ScratchHome {
    pub fn create() -> Result<Self> {
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

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A failure of the session's database, with a secret-laden cause, as programs log them.
#[derive(Debug)]
struct ConnectError(std::io::Error);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot reach postgres://app:s3cr3t-db-pass@db.internal:5432/app")
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

pub fn run(settings: &Settings, scratch: &Path) -> Result<Session> {
    let session = settings.relocated(scratch);
    let log_lines = log(&session);
    let pretty = log_lines
        .iter()
        .filter_map(|l| render_line(l, false))
        .collect();
    let events = record(&session)?;
    let log_file = scratch.join("session.log");
    std::fs::write(&log_file, log_lines.join("\n") + "\n")
        .context("cannot write the session's log")?;
    let audit = audit(settings, &session, &log_file);
    Ok(Session {
        payload: payload(settings, &events),
        places: places(settings, &session),
        log_lines,
        pretty,
        events,
        audit,
    })
}

/// The session's records: the benchmarks' typical record, a warning, and an error with a cause.
fn log(settings: &Settings) -> Vec<String> {
    let config = settings.logger_config();
    // Settings the logger could not use come first, as `warn` records: not the session's.
    let warnings = config.problems.len();
    let captured = MemoryWriter::default();
    let logger = Logger::builder()
        .config(config)
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
    run.warn_with(
        fields! { "retry" => 2, "url" => "https://api.example.com/v1?access_token=tok_123" },
        "retrying with GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345",
    );
    let cause = std::io::Error::other("auth failed for key AKIAIOSFODNN7EXAMPLE");
    // The record keeps the first frames of its stack: the rest is the Rust runtime, the same in
    // every program, and would bury the session on screen.
    let stack = std::backtrace::Backtrace::force_capture().to_string();
    let short: Vec<&str> = stack.lines().take(8).collect();
    let err = ErrorRecord::new(&ConnectError(cause)).stack(short.join("\n"));
    run.log_error(Level::Error, &err, fields! { "op" => "migrate" }, None);
    captured.lines().into_iter().skip(warnings).collect()
}

/// Records a short session and returns the event lines as stored.
fn record(settings: &Settings) -> Result<Vec<String>> {
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

fn payload(settings: &Settings, events: &[String]) -> Payload {
    let parsed = ParsedBatch::parse(events);
    let (url, protocol, compression, headers) = match settings.forwarding() {
        Forwarding::Ready(config) => (
            Some(config.request_url_masked()),
            config.protocol(),
            config.compression(),
            config.headers().masked(),
        ),
        _ => (None, Protocol::Otlp, Compression::Gzip, String::new()),
    };
    let raw = encode_uncompressed(protocol, &parsed.events);
    let readable = match protocol {
        Protocol::Otlp => pretty_json(&encode_uncompressed(Protocol::OtlpJson, &parsed.events)),
        Protocol::OtlpJson => pretty_json(&raw),
        Protocol::Ndjson => String::from_utf8_lossy(&raw).into_owned(),
    };
    let wire_bytes = match compression {
        Compression::Gzip => gzip(&raw).len(),
        Compression::None => raw.len(),
    };
    Payload {
        url,
        protocol,
        compression,
        headers,
        readable,
        raw_bytes: raw.len(),
        wire_bytes,
    }
}

fn pretty_json(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

/// `(what, where in this session, where for real)`.
fn places(real: &Settings, session: &Settings) -> Vec<(&'static str, String, String)> {
    let show =
        |p: Option<PathBuf>| p.map_or("(no home folder)".to_owned(), |p| p.display().to_string());
    let logs = real
        .logger_config()
        .path
        .map_or("stdout (LOG_PATH unset)".to_owned(), |p| {
            p.display().to_string()
        });
    let (scratch_dir, real_dir) = (session.dir(), real.dir());
    let join = |d: &Option<PathBuf>, tail: &str| show(d.as_ref().map(|d| d.join(tail)));
    vec![
        ("logs", "session.log in the scratch home".to_owned(), logs),
        (
            "events",
            join(&scratch_dir, "spool/"),
            join(&real_dir, "spool/"),
        ),
        (
            "batches to send",
            join(&scratch_dir, "outbox/"),
            join(&real_dir, "outbox/"),
        ),
        (
            "salt (never leaves)",
            join(&scratch_dir, "state/salt"),
            join(&real_dir, "state/salt"),
        ),
        (
            "settings",
            "yours, read from every layer".to_owned(),
            show(real.config_file()),
        ),
    ]
}

fn audit(real: &Settings, session: &Settings, log_file: &Path) -> Report {
    let mut redactor = Redactor::new();
    redactor.add_keys(real.redact_keys().value());
    let identity = Identity::new(
        real.login_name().map(str::to_owned),
        Some(codemachine_telemetry::host_name()),
    );
    let auditor = Auditor::new(redactor, identity);
    let mut report = Report::default();
    if let Some(dir) = session.dir() {
        auditor.audit_telemetry_dir(&dir, &mut report, &mut |_| {});
    }
    auditor.audit_file(log_file, &mut report, &mut |_| {});
    report
}

impl Session {
    /// What is wrong with the outputs or the configuration, if anything.
    pub fn findings(&self, settings: &Settings) -> Vec<String> {
        let mut findings: Vec<String> = settings
            .problems()
            .iter()
            .map(|p| format!("configuration problem: {p}"))
            .collect();
        let outputs = || {
            self.log_lines
                .iter()
                .map(String::as_str)
                .chain(self.events.iter().map(String::as_str))
                .chain([self.pretty.as_str(), self.payload.readable.as_str()])
        };
        for secret in SECRETS {
            if outputs().any(|o| o.contains(secret)) {
                findings.push(format!(
                    "a secret of the session ({} characters) was written",
                    secret.len()
                ));
            }
        }
        for key in settings.redact_keys().value() {
            if outputs().any(|o| o.contains(&format!("\"{key}\":"))) {
                findings.push(format!("the added redaction key {key:?} was written"));
            }
        }
        for event in &self.events {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(event) {
                Ok(map) => findings.extend(
                    map.keys()
                        .filter(|k| !EVENT_KEYS.contains(&k.as_str()))
                        .map(|k| format!("an event holds a key outside the schema: {k}")),
                ),
                Err(_) => findings.push("an event line is not JSON".to_owned()),
            }
        }
        if self.events.len() != 3 {
            findings.push(format!(
                "3 events were recorded but {} were read back",
                self.events.len()
            ));
        }
        findings.extend(self.audit.findings.iter().map(|f| {
            format!(
                "the audit found {} in {} line {}: {}",
                f.kind.as_str(),
                f.file.display(),
                f.line,
                f.excerpt
            )
        }));
        findings
    }
}
