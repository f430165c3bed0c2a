//! `codemachine telemetry report [--since DUR] [--json] [--html FILE]`: renders the library's
//! typed report (`codemachine_telemetry::report`) as a table, JSON or a page.
//!
//! Reads only, with telemetry off too (an operator asked; a missing folder is an empty report,
//! never created). The page is written where the user said, and only there: never through a
//! link, never into a FIFO, a device or a folder (see `page_file`). What was skipped (torn lines,
//! odd entries, a wrong clock) is said on stderr, as `inspect` does.

mod html;
mod page_file;
mod table;

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use codemachine_telemetry::Settings;
use codemachine_telemetry::report::{Report, ReportOptions};

use super::{SUCCESS, human_bytes, plural};
use crate::cli::ReportArgs;
use crate::output;

pub fn run(args: &ReportArgs, settings: &Settings) -> Result<u8> {
    let dir = settings.dir();
    let options = ReportOptions::new().since(args.since);
    let report = Report::collect(dir.as_deref(), &options);
    if let Some(path) = &args.html {
        if dir
            .as_deref()
            .is_some_and(|dir| page_file::is_inside(path, dir))
        {
            anyhow::bail!(
                "the page was not written to {}: it is inside the telemetry folder, which the report only reads; write it elsewhere",
                path.display()
            );
        }
        let page = html::page(&report);
        page_file::write(path, page.as_bytes())
            .with_context(|| format!("the page was not written to {}", path.display()))?;
        if !args.json {
            println!(
                "wrote {} ({})",
                path.display(),
                human_bytes(page.len() as u64)
            );
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", crate::output::json(&report)?)?;
    } else if args.html.is_none() {
        let color = settings
            .color()
            .value()
            .paints(std::io::stdout().is_terminal());
        table::write(&mut out, &report, color)?;
    }
    out.flush()?;
    tell_skipped(&report);
    Ok(SUCCESS)
}

/// Says on stderr what the figures leave out, and why.
fn tell_skipped(report: &Report) {
    let s = &report.skipped;
    let counts = [
        (
            s.torn_lines,
            "torn or corrupted line",
            "torn or corrupted lines",
        ),
        (
            s.history_lines,
            "unreadable history line",
            "unreadable history lines",
        ),
        (
            s.undated_events,
            "event without a readable time",
            "events without a readable time",
        ),
        (
            s.future_events,
            "event stamped in the future (a wrong clock?)",
            "events stamped in the future (a wrong clock?)",
        ),
    ];
    for (n, one, many) in counts {
        if n > 0 {
            output::note(format_args!("{} left out", plural(n, one, many)));
        }
    }
    for entry in &s.entries {
        output::warning(format_args!(
            "skipped {}: {}",
            entry.path.display(),
            entry.why
        ));
    }
}
