//! `codemachine telemetry dry-run [--json]`: the operator's dry run, and the README's main job.
//!
//! A representative session under the operator's effective settings (their redaction keys,
//! limits, logger and forwarding settings from every layer), with telemetry on, in a scratch home
//! deleted afterwards: the user's own telemetry folder is never touched, and nothing is sent.
//! It shows, under headings: the settings in force; the session's logs (an info record, a warning
//! and an error with a cause chain, secrets included everywhere) as JSON lines and for people;
//! the buffered events; the exact payload that would be forwarded (decoded for `otlp`, as sent
//! for `otlp-json` and `ndjson`; headers masked); where each piece lives on disk; the audit of
//! the session's logs and spool; and a verdict. Exit 1 when a secret or an added key got through,
//! the audit found something, an event holds a key outside the schema, or the configuration has
//! a problem. `--json` gives the same for CI pipelines that gate on it.

mod report;
mod session;

use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use codemachine_telemetry::Settings;

use super::{FAILURE, SUCCESS};
use crate::cli::JsonArgs;

pub fn run(args: &JsonArgs, settings: &Settings) -> Result<u8> {
    let scratch = session::ScratchHome::create()?;
    let session = session::run(settings, scratch.path())?;
    let findings = session.findings(settings);
    let mut out = io::stdout().lock();
    if args.json {
        let json = report::json(settings, &session, &findings);
        writeln!(out, "{}", crate::output::json(&json)?)?;
    } else {
        let color = settings.color().value().paints(io::stdout().is_terminal());
        report::human(&mut out, settings, &session, &findings, color)?;
    }
    out.flush()?;
    Ok(if findings.is_empty() {
        SUCCESS
    } else {
        FAILURE
    })
}
