//! `codemachine telemetry prune [--older-than DUR] [--all]`: deletes buffered batches.
//!
//! Batches (segments) are deleted whole: by age, those last written before the cut-off; with
//! `--all`, every one not being written. Batches still held by a running writer are left alone
//! and reported.

use std::time::{Duration, SystemTime};

use anyhow::Result;
use codemachine_telemetry::metrics::spool;

use super::{FAILURE, SUCCESS, UsageError, human_bytes, note};
use crate::cli::PruneArgs;
use crate::settings::Settings;

pub fn run(args: &PruneArgs, settings: &Settings) -> Result<u8> {
    let cutoff = match &args.older_than {
        Some(text) => Some(SystemTime::now() - parse_duration(text)?),
        None => None,
    };
    if !settings.switch.enabled {
        note(format_args!(
            "telemetry is disabled ({}): the telemetry folder is not opened. Run with TELEMETRY_ENABLED=1 to prune it",
            settings.switch.decided_by.summary()
        ));
        return Ok(FAILURE);
    }
    let config = settings.config()?;
    let report = spool::prune(&config.dir(), cutoff)?;
    println!(
        "pruned {} batches: {} events, {} torn lines, {} freed",
        report.segments,
        report.events,
        report.torn,
        human_bytes(report.bytes)
    );
    if report.skipped_open > 0 {
        println!("kept {} batches still being written", report.skipped_open);
    }
    Ok(SUCCESS)
}

/// `45s`, `90m`, `12h`, `30d`, `2w`.
fn parse_duration(text: &str) -> Result<Duration, UsageError> {
    let t = text.trim();
    let invalid = || {
        UsageError(format!(
            "--older-than {text:?} is not a duration (examples: 30d, 12h, 90m)"
        ))
    };
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
    let n: u64 = t[..unit_at].parse().map_err(|_| invalid())?;
    let seconds = match &t[unit_at..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(invalid()),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        for bad in ["", "d", "10", "10y", "-1d", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
