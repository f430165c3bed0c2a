//! `codemachine telemetry record command|feature <name> [--duration-ms N] [--exit-code N]
//! [--count N]`: records exactly one event.
//!
//! An invalid name (or options that do not fit the kind) is a usage error (exit 2) and nothing
//! is recorded. With telemetry disabled nothing is recorded either, and the command says so but
//! succeeds: a script must not break because its user opted out.

use anyhow::{Context, Result};
use codemachine_telemetry::{Error, EventKind, Metrics, Redactor, metrics};

use super::{SUCCESS, UsageError, note};
use crate::cli::{RecordArgs, RecordKind};
use crate::settings::{Settings, VERSION};

pub fn run(args: &RecordArgs, settings: &Settings) -> Result<u8> {
    let kind = check_args(args)?;
    if !settings.switch.enabled {
        note(format_args!(
            "telemetry is disabled ({}): nothing recorded",
            settings.switch.decided_by.summary()
        ));
        return Ok(SUCCESS);
    }
    let metrics = Metrics::enabled(settings.config()?.clone(), VERSION);
    let exit_code = args.exit_code;
    let duration = args.duration_ms;
    match metrics.record(kind, &args.name, duration, exit_code, args.count) {
        Ok(()) => {
            println!("recorded 1 {} event: {}", kind, args.name);
            Ok(SUCCESS)
        }
        Err(Error::InvalidName { reason }) => {
            Err(UsageError(format!("invalid event name: {reason}")).into())
        }
        Err(err) => Err(err).context("nothing recorded"),
    }
}

fn check_args(args: &RecordArgs) -> Result<EventKind, UsageError> {
    metrics::validate_name(&args.name, &Redactor::new()).map_err(|e| UsageError(e.to_string()))?;
    match args.kind {
        RecordKind::Command => Ok(EventKind::Command),
        RecordKind::Feature if args.duration_ms.is_some() || args.exit_code.is_some() => Err(
            UsageError("--duration-ms and --exit-code apply to command events only".into()),
        ),
        RecordKind::Feature => Ok(EventKind::Feature),
    }
}
