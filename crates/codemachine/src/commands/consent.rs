//! `codemachine telemetry enable [--local-only]` and `codemachine telemetry disable [--purge]`:
//! the user's consent, stored in the config file (SPEC §8).
//!
//! What each says afterwards is what will actually happen: the environment (`TELEMETRY_ENABLED`,
//! `DO_NOT_TRACK`) still decides the runs where it is set, and a machine policy can restrict; both
//! are named when they override the consent just given.

use anyhow::{Context, Result};
use codemachine_telemetry::Settings;
use codemachine_telemetry::metrics::spool;
use codemachine_telemetry::settings::consent::write_consent;
use codemachine_telemetry::settings::{Decision, Mode};
use codemachine_telemetry::time::{now_millis, rfc3339_millis};

use super::{SUCCESS, human_bytes, plural};
use crate::cli::{DisableArgs, EnableArgs};
use crate::output;

pub fn enable(args: &EnableArgs, settings: &Settings) -> Result<u8> {
    let mode = if args.local_only {
        Mode::Local
    } else {
        Mode::On
    };
    let file = store(settings, mode)?;
    let what = match mode {
        Mode::Local => {
            "telemetry is on for you, local only: events are recorded and never forwarded"
        }
        _ => {
            "telemetry is on for you: events are recorded (and forwarded when an endpoint is configured)"
        }
    };
    println!("{what}; consent written to {}", file.display());
    tell_overrides(settings, mode);
    Ok(SUCCESS)
}

pub fn disable(args: &DisableArgs, settings: &Settings) -> Result<u8> {
    let file = store(settings, Mode::Off)?;
    println!(
        "telemetry is off for you; consent written to {}",
        file.display()
    );
    tell_overrides(settings, Mode::Off);
    if args.purge {
        let Some(dir) = settings.dir() else {
            anyhow::bail!(
                "there is no telemetry folder to purge: neither CODEMACHINE_HOME nor HOME is set"
            );
        };
        let report = spool::purge(&dir);
        println!(
            "purged {}: {}, {} freed; {}",
            plural(report.pruned.batches, "batch", "batches"),
            plural(report.pruned.events, "event", "events"),
            human_bytes(report.pruned.bytes),
            if report.folder_removed {
                "the telemetry folder is gone"
            } else {
                "some entries were kept (below)"
            }
        );
        for odd in &report.pruned.odd {
            output::warning(format_args!(
                "left alone {}: {}",
                odd.path.display(),
                odd.why
            ));
        }
        if report.pruned.kept_open + report.pruned.kept_sending > 0 {
            output::warning(format_args!(
                "a running command still holds some batches: run disable --purge again when it ends"
            ));
        }
    }
    Ok(SUCCESS)
}

/// Writes the consent with today's date; returns the file.
fn store(settings: &Settings, mode: Mode) -> Result<std::path::PathBuf> {
    let file = settings
        .config_file()
        .context("there is no config file to write to: neither CODEMACHINE_HOME nor HOME is set")?;
    write_consent(&file, mode, &rfc3339_millis(now_millis()))?;
    Ok(file)
}

/// Names what still decides otherwise than the consent just given.
fn tell_overrides(settings: &Settings, mode: Mode) {
    match settings.switch().decided_by() {
        Decision::DoNotTrack { value } => output::note(format_args!(
            "DO_NOT_TRACK={value} is set in this environment: telemetry stays off where it is"
        )),
        Decision::TelemetryEnabled { value } | Decision::Unrecognised { value } => {
            output::note(format_args!(
                "TELEMETRY_ENABLED={value} is set in this environment: it decides the runs where it is set"
            ))
        }
        Decision::Policy { file, rule } if mode != Mode::Off => output::note(format_args!(
            "the machine policy {file} allows at most {rule:?}: it decides over your consent"
        )),
        _ => {}
    }
}
