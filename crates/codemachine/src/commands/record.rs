//! `codemachine telemetry record command <name> --duration-ms N --exit-code N` and
//! `codemachine telemetry record feature <name> [--count N]`: records exactly one event.
//!
//! An invalid event (a name that is not an identifier, a command without its duration or exit
//! code, options of the other kind) is a usage error (exit 2) and nothing is recorded, whether
//! telemetry is on or not. With telemetry off, or a configuration that keeps it off, nothing is
//! recorded, the reason is said on stderr, and the exit code is 0: a script must not break
//! because its user opted out or an operator's file is broken (`telemetry status` exits 1 for
//! the operator).

use anyhow::{Context, Result};
use codemachine_telemetry::metrics::Recorded;
use codemachine_telemetry::{Error, Metrics, NewEvent, Redactor, Settings};

use super::{SUCCESS, UsageError};
use crate::cli::{RecordArgs, RecordKind};
use crate::output;
use crate::settings::VERSION;

pub fn run(args: &RecordArgs, settings: &Settings) -> Result<u8> {
    let event = event(args)?;
    event
        .validate(&Redactor::new())
        .map_err(|e| UsageError(e.to_string()))?;
    if !settings.switch().enabled() {
        output::note(format_args!(
            "telemetry is off (decided by {}): nothing recorded",
            settings.switch().decided_by().key()
        ));
        return Ok(SUCCESS);
    }
    match Metrics::new(settings, VERSION)
        .without_warnings()
        .record(event)
    {
        Ok(Recorded::Stored) => {
            println!("recorded 1 {} event: {}", event.kind(), event.name());
            Ok(SUCCESS)
        }
        Ok(Recorded::Off) => Ok(SUCCESS),
        Err(Error::InvalidName { reason }) => {
            Err(UsageError(format!("invalid event name: {reason}")).into())
        }
        Err(err) => Err(err).context("nothing recorded"),
    }
}

fn event(args: &RecordArgs) -> Result<NewEvent<'_>, UsageError> {
    match args.kind {
        RecordKind::Command => {
            if args.count.is_some_and(|c| c != 1) {
                return Err(UsageError(
                    "a command event counts one run: --count applies to feature events".into(),
                ));
            }
            let (Some(duration_ms), Some(exit_code)) = (args.duration_ms, args.exit_code) else {
                return Err(UsageError(
                    "a command event needs --duration-ms and --exit-code".into(),
                ));
            };
            Ok(NewEvent::Command {
                name: &args.name,
                duration_ms,
                exit_code,
            })
        }
        RecordKind::Feature if args.duration_ms.is_some() || args.exit_code.is_some() => Err(
            UsageError("--duration-ms and --exit-code apply to command events only".into()),
        ),
        RecordKind::Feature => Ok(NewEvent::Feature {
            name: &args.name,
            count: args.count.unwrap_or(1),
        }),
    }
}
