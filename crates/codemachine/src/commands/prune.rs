//! `codemachine telemetry prune [--older-than DUR] [--rejected] [--all]`: deletes buffered
//! batches, whole, and says what it did.
//!
//! Works with telemetry off (an operator asked; deleting our own data is always allowed). Batches
//! still held by a running writer or sender are kept and reported; entries that are not ours
//! (and links) are left alone and reported; a file that cannot be deleted is reported and the
//! rest goes on. Exit code 1 if anything could not be deleted. With telemetry on, the events of
//! each batch are first added to the local history (so `telemetry report` still counts them);
//! with it off nothing is written, only deleted.

use std::time::SystemTime;

use anyhow::Result;
use codemachine_telemetry::Settings;
use codemachine_telemetry::metrics::spool::{self, Selection};

use super::{FAILURE, SUCCESS, human_bytes, plural};
use crate::cli::PruneArgs;
use crate::output;

pub fn run(args: &PruneArgs, settings: &Settings) -> Result<u8> {
    let Some(dir) = settings.dir() else {
        anyhow::bail!("there is no telemetry folder: neither CODEMACHINE_HOME nor HOME is set");
    };
    let selection = Selection {
        // A cut-off before the epoch: nothing is that old.
        older_than: args.older_than.map(|age| {
            SystemTime::now()
                .checked_sub(age)
                .unwrap_or(SystemTime::UNIX_EPOCH)
        }),
        rejected_only: args.rejected,
    };
    codemachine_telemetry::failpoint::arm(settings.failpoint());
    let report = if settings.switch().enabled() {
        spool::prune_into_history(&dir, selection)
    } else {
        spool::prune(&dir, selection)
    };
    println!(
        "pruned {}: {}, {}, {} freed",
        plural(report.batches, "batch", "batches"),
        plural(report.events, "event", "events"),
        plural(report.torn, "torn line", "torn lines"),
        human_bytes(report.bytes)
    );
    if report.kept_open > 0 {
        println!(
            "kept {} still being written",
            plural(report.kept_open, "batch", "batches")
        );
    }
    if report.kept_sending > 0 {
        println!(
            "kept {} a sender holds",
            plural(report.kept_sending, "batch", "batches")
        );
    }
    if report.folded > 0 {
        println!(
            "kept {} in the local history (telemetry report)",
            plural(report.folded, "event", "events")
        );
    }
    if let Some(why) = &report.history_error {
        output::warning(format_args!(
            "the local history could not be updated (telemetry report will miss those events): {why}"
        ));
    }
    for odd in &report.odd {
        output::warning(format_args!(
            "left alone {}: {}",
            odd.path.display(),
            odd.why
        ));
    }
    for failed in &report.failed {
        output::error(format_args!(
            "cannot delete {}: {}",
            failed.path.display(),
            failed.why
        ));
    }
    Ok(if report.failed.is_empty() {
        SUCCESS
    } else {
        FAILURE
    })
}
