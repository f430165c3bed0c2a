//! `codemachine telemetry enable [--local-only]` and `codemachine telemetry disable [--purge]`:
//! the user's consent, stored in the config file (SPEC §8).
//!
//! What each prints is what will actually happen, on stdout, in one line: after writing the
//! consent, the settings are resolved again (the same environment, the file as now written, the
//! machine policy), so the line comes from the resolver that every later run uses, not from a
//! second copy of its precedence. When the environment (`DO_NOT_TRACK`, `TELEMETRY_ENABLED`), a
//! machine policy or a configuration problem decides otherwise than the consent just given, the
//! line says the consent is stored and what happens here instead.
//!
//! `disable --purge` deletes the data even when the consent cannot be stored (a broken or
//! protected config file): a user asking to delete gets their data deleted, then exit 1 says why
//! the consent was not written.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use codemachine_telemetry::metrics::spool;
use codemachine_telemetry::settings::consent::write_consent;
use codemachine_telemetry::settings::{Decision, Mode, Switch};
use codemachine_telemetry::time::{now_millis, rfc3339_millis};
use codemachine_telemetry::{Flags, Settings};

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
    println!("{}", outcome(mode, &file, &resolved_again()));
    Ok(SUCCESS)
}

pub fn disable(args: &DisableArgs, settings: &Settings) -> Result<u8> {
    let stored = store(settings, Mode::Off);
    if let Ok(file) = &stored {
        println!("{}", outcome(Mode::Off, file, &resolved_again()));
    }
    if !args.purge {
        return stored.map(|_| SUCCESS);
    }
    let purged = purge(settings);
    match stored {
        Ok(_) => purged.map(|()| SUCCESS),
        Err(not_stored) if purged.is_ok() => Err(not_stored
            .context("the telemetry data was purged, but the consent (off) could not be stored")),
        Err(not_stored) => Err(not_stored),
    }
}

/// Deletes everything telemetry keeps, and says what it did.
fn purge(settings: &Settings) -> Result<()> {
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
    Ok(())
}

/// Writes the consent with today's date; returns the file.
fn store(settings: &Settings, mode: Mode) -> Result<PathBuf> {
    let file = settings
        .config_file()
        .context("there is no config file to write to: neither CODEMACHINE_HOME nor HOME is set")?;
    write_consent(&file, mode, &rfc3339_millis(now_millis()))?;
    Ok(file)
}

/// The switch the next run in this environment gets, now that the consent is written. Flags do
/// not touch the switch, so none are given.
fn resolved_again() -> Switch {
    crate::settings::resolve(Flags::default()).switch().clone()
}

/// The line that says what the consent just written (`wanted`, in `file`) changes here.
fn outcome(wanted: Mode, file: &Path, now: &Switch) -> String {
    let file = file.display();
    let as_asked = matches!(now.decided_by(), Decision::Consent(_))
        || (wanted == Mode::Off && now.mode() == Mode::Off);
    if as_asked {
        let what = match wanted {
            Mode::On => {
                "telemetry is on for you: events are recorded (and forwarded when an endpoint is configured)"
            }
            Mode::Local => {
                "telemetry is on for you, local only: events are recorded and never forwarded"
            }
            Mode::Off => "telemetry is off for you: nothing is recorded",
        };
        return format!("{what}; consent written to {file}");
    }
    format!(
        "your consent ({}) is stored in {file}; {}",
        wanted.as_str(),
        instead(wanted, now)
    )
}

/// What happens here instead of the consent, and what decides it.
fn instead(wanted: Mode, now: &Switch) -> String {
    let here = match now.mode() {
        Mode::Off => "telemetry stays off here",
        Mode::Local => "recorded locally only",
        Mode::On => "telemetry is on here",
    };
    let why = match now.decided_by() {
        Decision::DoNotTrack { value } => format!("DO_NOT_TRACK={value} is set"),
        Decision::Policy { file, rule } if rule == "off" => {
            format!("the machine policy {file} allows no telemetry")
        }
        // Only TELEMETRY_ENABLED turns on what the user just turned off; the policy then keeps
        // it local and is named as what decided, so both are said.
        Decision::Policy { file, .. } if wanted == Mode::Off => format!(
            "TELEMETRY_ENABLED is set, and decides the runs where it is set (the machine policy {file} allows no forwarding)"
        ),
        Decision::Policy { file, .. } => {
            format!("the machine policy {file} allows no forwarding")
        }
        Decision::TelemetryEnabled { value } => {
            format!("TELEMETRY_ENABLED={value} is set, and decides the runs where it is set")
        }
        Decision::Unrecognised { value } => format!(
            "TELEMETRY_ENABLED={value:?} is set (not a recognised value), and decides the runs where it is set"
        ),
        Decision::ConfigurationError => {
            "the configuration cannot be used until it is fixed (see telemetry status)".to_owned()
        }
        other => other.to_string(),
    };
    format!("{here}: {why}")
}
