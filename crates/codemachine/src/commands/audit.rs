//! `codemachine telemetry audit [PATH…] [--json]`: secrets and personal data in the telemetry
//! folder and the files given, found without being shown.
//!
//! Reads only (with telemetry off too: an operator asked). Streams every file, with progress on
//! a terminal for big ones. Exit code 0 when clean, 1 on findings or unreadable files, 2 when a
//! given path is not a file that can be read.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::Result;
use codemachine_telemetry::audit::{Auditor, Identity, Report};
use codemachine_telemetry::{Redactor, Settings};

use super::{FAILURE, SUCCESS, UsageError, human_bytes, plural};
use crate::cli::AuditArgs;
use crate::output::{self, clean};

pub fn run(args: &AuditArgs, settings: &Settings) -> Result<u8> {
    for path in &args.paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            UsageError(format!(
                "cannot audit {}: {}",
                path.display(),
                super::describe_io(&e)
            ))
        })?;
        if !meta.is_file() {
            return Err(UsageError(format!(
                "cannot audit {}: not a regular file",
                path.display()
            ))
            .into());
        }
    }
    let mut redactor = Redactor::new();
    redactor.add_keys(settings.redact_keys().value());
    let identity = Identity::new(
        settings.login_name().map(str::to_owned),
        Some(codemachine_telemetry::host_name()),
    );
    let mut auditor = Auditor::new(redactor, identity);
    if let codemachine_telemetry::settings::forwarding::Forwarding::Ready(config) =
        settings.forwarding()
    {
        auditor = auditor.with_known_secrets(config.sent_secrets());
    }
    let mut report = Report::default();
    let mut progress = Progress::new();
    if let Some(dir) = settings.dir() {
        auditor.audit_telemetry_dir(&dir, &mut report, &mut |bytes| progress.show(bytes));
    }
    for path in &args.paths {
        auditor.audit_file(path, &mut report, &mut |bytes| progress.show(bytes));
    }
    progress.done();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", crate::output::json(&JsonReport::of(&report))?)?;
    } else {
        write_human(&mut out, &report)?;
    }
    out.flush()?;
    for (path, why) in &report.unreadable {
        output::error(format_args!("not fully audited: {}: {why}", path.display()));
    }
    Ok(if report.is_clean() { SUCCESS } else { FAILURE })
}

fn write_human(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    for f in &report.findings {
        writeln!(
            out,
            "{}:{}: {}: {}",
            clean(&f.file.display().to_string()),
            f.line,
            f.kind.as_str(),
            clean(&f.excerpt)
        )?;
    }
    let verdict = match (report.findings.len(), report.unreadable.len()) {
        (0, 0) => "clean".to_owned(),
        (0, n) => format!(
            "nothing found, but {} not fully read (below)",
            plural(n as u64, "file was", "files were")
        ),
        (found, _) => plural(found as u64, "finding", "findings"),
    };
    writeln!(
        out,
        "audited {} ({}, {}): {verdict}",
        plural(report.files, "file", "files"),
        plural(report.lines, "line", "lines"),
        human_bytes(report.bytes)
    )
}

/// `--json`: the findings and the counts.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    clean: bool,
    files: u64,
    lines: u64,
    bytes: u64,
    findings: &'a [codemachine_telemetry::audit::Finding],
    unreadable: Vec<serde_json::Value>,
}

impl<'a> JsonReport<'a> {
    fn of(report: &'a Report) -> Self {
        JsonReport {
            clean: report.is_clean(),
            files: report.files,
            lines: report.lines,
            bytes: report.bytes,
            findings: &report.findings,
            unreadable: report
                .unreadable
                .iter()
                .map(|(p, why)| serde_json::json!({"file": p, "why": why}))
                .collect(),
        }
    }
}

/// `scanned 120.0 MiB…` on a terminal, twice a second, for audits that take a while.
struct Progress {
    started: Instant,
    last: Instant,
    terminal: bool,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Progress {
            started: now,
            last: now,
            terminal: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    fn show(&mut self, bytes: u64) {
        if !self.terminal
            || self.started.elapsed().as_millis() < 500
            || self.last.elapsed().as_millis() < 500
        {
            return;
        }
        self.last = Instant::now();
        self.shown = true;
        let _ = write!(std::io::stderr(), "\rscanned {}…", human_bytes(bytes));
    }

    fn done(&self) {
        if self.shown {
            let _ = writeln!(std::io::stderr());
        }
    }
}
