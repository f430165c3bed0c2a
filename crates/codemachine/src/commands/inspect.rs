//! `codemachine telemetry inspect [--json]`: the buffered events.
//!
//! `--json` prints the stored lines exactly as they are on disk (valid events only); torn or
//! corrupted lines are counted on stderr. Disabled telemetry means the folder is not opened:
//! the command says so and exits 1.

use std::io::Write;

use anyhow::Result;
use codemachine_telemetry::metrics::spool;

use super::{FAILURE, SUCCESS, note};
use crate::cli::JsonArgs;
use crate::settings::Settings;

pub fn run(args: &JsonArgs, settings: &Settings) -> Result<u8> {
    if !settings.switch.enabled {
        note(format_args!(
            "telemetry is disabled ({}): the telemetry folder is not opened. Run with TELEMETRY_ENABLED=1 to inspect it",
            settings.switch.decided_by.summary()
        ));
        return Ok(FAILURE);
    }
    let config = settings.config()?;
    let mut out = std::io::stdout().lock();
    let (mut events, mut torn) = (0u64, 0u64);
    let mut failed = None;
    spool::for_each_line(&config.dir(), |line, event| {
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
                "{}  {:<7}  {:<24}  {:>10}  {:>5}  {:>5}",
                event.ts,
                event.kind,
                event.name,
                event.duration_ms.map_or("-".into(), |d| format!("{d} ms")),
                event.exit_code.map_or("-".into(), |c| c.to_string()),
                event.count
            )
        };
        if let Err(e) = written {
            failed.get_or_insert(e);
        }
    })?;
    if let Some(err) = failed {
        return Err(err.into());
    }
    if !args.json {
        writeln!(out, "{events} events in {}", config.dir().display())?;
    }
    if torn > 0 {
        note(format_args!(
            "{torn} torn or corrupted lines skipped (kept on disk; `telemetry prune` removes them)"
        ));
    }
    Ok(SUCCESS)
}
