//! The dry run, written for people (aligned, coloured on a terminal, plain when piped) or as JSON.

use std::io::{self, Write};

use codemachine_telemetry::Settings;
use codemachine_telemetry::settings::forwarding::Forwarding;
use serde_json::{Value as Json, json};

use super::session::Session;
use crate::output::clean;

struct Style {
    color: bool,
}

impl Style {
    fn heading(&self, n: &str, text: &str) -> String {
        match self.color {
            true => format!("\x1b[1m{n}  {text}\x1b[0m"),
            false => format!("{n}  {text}"),
        }
    }

    fn verdict(&self, pass: bool) -> String {
        match (self.color, pass) {
            (true, true) => "\x1b[1;32mPASS\x1b[0m".to_owned(),
            (true, false) => "\x1b[1;31mFAIL\x1b[0m".to_owned(),
            (false, true) => "PASS".to_owned(),
            (false, false) => "FAIL".to_owned(),
        }
    }
}

fn indented(out: &mut impl Write, text: &str) -> io::Result<()> {
    for line in text.lines() {
        writeln!(out, "    {}", clean(line))?;
    }
    Ok(())
}

pub fn human(
    out: &mut impl Write,
    settings: &Settings,
    session: &Session,
    findings: &[String],
    color: bool,
) -> io::Result<()> {
    let style = Style { color };
    writeln!(
        out,
        "codemachine telemetry dry-run: your settings, a scratch home deleted afterwards, nothing sent\n"
    )?;
    writeln!(out, "{}", style.heading("0", "Settings in force"))?;
    for (label, value) in settings_rows(settings) {
        writeln!(out, "    {label:<14} {}", clean(&value))?;
    }
    writeln!(
        out,
        "\n{}",
        style.heading(
            "1",
            "Logs: an info record, a warning, an error with its cause (secrets in all three)"
        )
    )?;
    writeln!(out, "    As written (JSON lines):")?;
    for line in &session.log_lines {
        writeln!(out, "    {}", clean(line))?;
    }
    writeln!(out, "\n    For people (LOG_FORMAT=pretty):")?;
    indented(out, &session.pretty)?;
    writeln!(
        out,
        "\n{}",
        style.heading("2", "Buffered events (telemetry inspect --json)")
    )?;
    for event in &session.events {
        writeln!(out, "    {}", clean(event))?;
    }
    write_payload(out, &style, session)?;
    writeln!(out, "\n{}", style.heading("4", "Where each piece lives"))?;
    for (what, here, real) in &session.places {
        writeln!(out, "    {what:<20} for real:  {}", clean(real))?;
        writeln!(out, "    {:<20} dry run:   {}", "", clean(here))?;
    }
    let audit = &session.audit;
    let verdict = if audit.findings.is_empty() {
        "clean".to_owned()
    } else {
        crate::commands::plural(audit.findings.len() as u64, "finding", "findings")
    };
    writeln!(
        out,
        "\n{}",
        style.heading(
            "5",
            "Audit of the session's logs and spool (telemetry audit)"
        )
    )?;
    writeln!(
        out,
        "    {} files, {} lines: {verdict}",
        audit.files, audit.lines
    )?;
    for f in &audit.findings {
        writeln!(
            out,
            "    {}:{}: {}: {}",
            clean(&f.file.display().to_string()),
            f.line,
            f.kind.as_str(),
            clean(&f.excerpt)
        )?;
    }
    writeln!(out)?;
    if findings.is_empty() {
        writeln!(
            out,
            "Verdict: {}: no secret or added key in the logs, events or payload; events hold only the schema's keys; the audit is clean; the configuration has no problem.",
            style.verdict(true)
        )
    } else {
        writeln!(out, "Verdict: {}", style.verdict(false))?;
        for finding in findings {
            writeln!(out, "  - {}", clean(finding))?;
        }
        Ok(())
    }
}

fn write_payload(out: &mut impl Write, style: &Style, session: &Session) -> io::Result<()> {
    let p = &session.payload;
    writeln!(
        out,
        "\n{}",
        style.heading("3", "The payload that would be forwarded (nothing is sent)")
    )?;
    match &p.url {
        Some(url) => writeln!(out, "    POST {}", clean(url))?,
        None => writeln!(
            out,
            "    No endpoint is configured: nothing would leave this machine. With one (TELEMETRY_ENDPOINT), the default request would be:"
        )?,
    }
    writeln!(
        out,
        "    Content-Type: {}{}   Idempotency-Key: <batch id>",
        p.protocol.content_type(),
        if p.compression.as_str() == "gzip" {
            "   Content-Encoding: gzip"
        } else {
            ""
        }
    )?;
    if !p.headers.is_empty() {
        writeln!(out, "    Headers: {}", clean(&p.headers))?;
    }
    let shown = match p.protocol.as_str() {
        "otlp" => "protobuf on the wire, shown decoded in its OTLP/JSON form",
        _ => "as sent",
    };
    writeln!(
        out,
        "    Body ({}; {} bytes, {} on the wire):",
        shown, p.raw_bytes, p.wire_bytes
    )?;
    indented(out, &p.readable)
}

fn settings_rows(settings: &Settings) -> Vec<(&'static str, String)> {
    let switch = settings.switch();
    let yours = if switch.enabled() {
        "on".to_owned()
    } else {
        format!("off: {}", switch.decided_by())
    };
    let added = settings.redact_keys().value();
    let redaction = match (added.is_empty(), settings.redact_documented().value()) {
        (true, _) => "the defaults".to_owned(),
        (false, Some(doc)) => format!("the defaults + {} (documented: {doc})", added.join(", ")),
        (false, None) => format!(
            "the defaults + {} (not documented: forwarding would be withheld)",
            added.join(", ")
        ),
    };
    let forwarding = match settings.forwarding() {
        Forwarding::Local => "none: events stay on this machine".to_owned(),
        Forwarding::Ready(config) => {
            format!("{} ({})", config.request_url_masked(), config.protocol())
        }
        Forwarding::Invalid { endpoint } => format!("{endpoint}: a setting cannot be used"),
        Forwarding::Refused { reason, .. } => reason.clone(),
    };
    let problems = if settings.problems().is_empty() {
        "none".to_owned()
    } else {
        settings
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    vec![
        ("telemetry", format!("on for this dry run (yours: {yours})")),
        ("redaction", redaction),
        ("forwarding", forwarding),
        ("problems", problems),
    ]
}

pub fn json(settings: &Settings, session: &Session, findings: &[String]) -> Json {
    let p = &session.payload;
    json!({
        "verdict": if findings.is_empty() { "pass" } else { "fail" },
        "findings": findings,
        "settings": settings_rows(settings).into_iter().map(|(k, v)| (k.to_owned(), Json::from(v))).collect::<serde_json::Map<_, _>>(),
        "logs": session.log_lines.iter().map(|l| serde_json::from_str::<Json>(l).unwrap_or(Json::from(l.as_str()))).collect::<Vec<_>>(),
        "events": session.events.iter().map(|l| serde_json::from_str::<Json>(l).unwrap_or(Json::from(l.as_str()))).collect::<Vec<_>>(),
        "payload": {
            "url": p.url,
            "protocol": p.protocol.as_str(),
            "compression": p.compression.as_str(),
            "headers": p.headers,
            "bytes": p.raw_bytes,
            "wire_bytes": p.wire_bytes,
            "body": p.readable,
        },
        "places": session.places.iter().map(|(w, here, real)| json!({"what": w, "dry_run": here, "real": real})).collect::<Vec<_>>(),
        "audit": {"files": session.audit.files, "lines": session.audit.lines, "findings": session.audit.findings},
    })
}
