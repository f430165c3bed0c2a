//! `codemachine telemetry dry-run`: the operator's dry run.
//!
//! Until local metrics and forwarding exist, the dry run demonstrates the logger: it logs the
//! representative record (the one the benchmarks use, secrets included) into memory, shows the
//! JSON line and its pretty form, and checks that no secret survived. Nothing is written to disk
//! and nothing is sent.

use std::io::{self, Write};

use anyhow::{Context, Result};
use codemachine_telemetry::log::pretty::render_line;
use codemachine_telemetry::{Destination, FormatChoice, Logger, MemoryWriter, fields};

/// The secret values of the representative record: none may appear in the output.
const SECRETS: [&str; 3] = ["sk-live-abc", "hunter2", "tok_123"];

pub fn run() -> Result<u8> {
    let line = representative_line();
    let leaked: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| line.contains(s))
        .collect();
    let pretty = render_line(&line, false).unwrap_or_default();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "codemachine telemetry dry-run (nothing is written to disk or sent)"
    )?;
    writeln!(
        out,
        "\nA program logs, with context {{sessionId, workflow}}:"
    )?;
    writeln!(
        out,
        "  fields {{command: \"start\", step: 3, durationMs: 1234.5, exitCode: 0,\n          \
         agent: {{name, model, inputTokens, apiKey: \"sk-live-abc\"}}, password: \"hunter2\", token: \"tok_123\"}}"
    )?;
    writeln!(
        out,
        "\nThe logger writes (JSON, one line):\n{}",
        line.trim_end()
    )?;
    writeln!(out, "\nRendered for people (LOG_FORMAT=pretty):\n{pretty}")?;
    if leaked.is_empty() {
        writeln!(out, "Verdict: PASS, no secret value reached the output.")?;
        return Ok(super::SUCCESS);
    }
    writeln!(
        out,
        "Verdict: FAIL, secrets reached the output: {}",
        leaked.len()
    )?;
    out.flush().context("cannot write to stdout")?;
    Ok(super::FAILURE)
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
