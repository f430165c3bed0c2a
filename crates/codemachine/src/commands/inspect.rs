//! `codemachine telemetry inspect [--json]`: the buffered events, in every state.
//!
//! Reads only (with telemetry off too: an operator asked; a missing folder is not created).
//! `--json` prints the stored lines exactly as they are on disk (valid events only); torn or
//! corrupted lines and skipped entries are counted on stderr.

use std::io::Write;

use anyhow::Result;
use codemachine_telemetry::Settings;
use codemachine_telemetry::metrics::spool;

use super::{SUCCESS, plural};
use crate::cli::JsonArgs;
use crate::output::{self, clean};

pub fn run(args: &JsonArgs, settings: &Settings) -> Result<u8> {
    let Some(dir) = settings.dir() else {
        anyhow::bail!("there is no telemetry folder: neither CODEMACHINE_HOME nor HOME is set");
    };
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(
            out,
            "{:<24}  {:<8}  {:<7}  {:<28}  {:>10}  {:>5}  {:>5}",
            "TIME", "STATE", "KIND", "NAME", "DURATION", "EXIT", "COUNT"
        )?;
    }
    let (mut events, mut torn) = (0u64, 0u64);
    let mut failed = None;
    let listing = spool::for_each_line(&dir, |state, line, event| {
        let Some(event) = event else {
            torn += 1;
            return;
        };
        events += 1;
        let written = if args.json {
            writeln!(out, "{line}")
        } else {
            writeln!(
                out,
                "{:<24}  {:<8}  {:<7}  {:<28}  {:>10}  {:>5}  {:>5}",
                clean(&event.ts),
                state.as_str(),
                event.kind,
                clean(&event.name),
                event.duration_ms.map_or("-".into(), |d| format!("{d} ms")),
                event.exit_code.map_or("-".into(), |c| c.to_string()),
                event.count
            )
        };
        if let Err(e) = written {
            failed.get_or_insert(e);
        }
    });
    if let Some(err) = failed {
        return Err(err.into());
    }
    if !args.json {
        writeln!(
            out,
            "{} in {}",
            plural(events, "event", "events"),
            dir.display()
        )?;
    }
    out.flush()?;
    if torn > 0 {
        output::note(format_args!(
            "{} skipped (kept on disk; `telemetry prune` removes them)",
            plural(torn, "torn or corrupted line", "torn or corrupted lines")
        ));
    }
    for odd in &listing.odd {
        output::warning(format_args!("skipped {}: {}", odd.path.display(), odd.why));
    }
    Ok(SUCCESS)
}
