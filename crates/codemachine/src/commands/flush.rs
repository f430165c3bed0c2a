//! `codemachine telemetry flush [--timeout SECS] [--rejected]`: every pending batch now, in the
//! foreground.
//!
//! It overrides the backoff but waits out a server's `Retry-After` that ends within the timeout,
//! and waits for a running background sender rather than racing it (one sender at a time). On a
//! terminal, long flushes show their progress on stderr. Exit code 1 if anything stays pending or
//! was rejected (or sending is paused or withheld); with telemetry off it sends nothing, says so,
//! and exits 0.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::Result;
use codemachine_telemetry::Settings;
use codemachine_telemetry::sender::{SendOptions, SendReport, Stop, send_pending};

use super::{FAILURE, SUCCESS, plural};
use crate::cli::FlushArgs;
use crate::output;

pub fn run(args: &FlushArgs, settings: &Settings) -> Result<u8> {
    if !settings.switch().enabled() {
        output::note(format_args!(
            "telemetry is off (decided by {}): nothing sent",
            settings.switch().decided_by().key()
        ));
        return Ok(SUCCESS);
    }
    let mut options = SendOptions::flush(args.timeout);
    options.requeue_rejected = args.rejected;
    options.include_local = args.include_local;
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let mut shown = false;
    let mut progress = |r: &SendReport| {
        if terminal && started.elapsed().as_secs() >= 1 {
            shown = true;
            let _ = write!(
                std::io::stderr(),
                "\r{} sent, {} delivered…",
                plural(r.delivered_batches, "batch", "batches"),
                plural(r.delivered_events, "event", "events")
            );
        }
    };
    let report = send_pending(settings, options, &mut progress)?;
    if shown {
        let _ = writeln!(std::io::stderr());
    }
    println!(
        "delivered {} ({}); {} rejected; {} pending",
        plural(report.delivered_batches, "batch", "batches"),
        plural(report.delivered_events, "event", "events"),
        plural(report.rejected_batches, "batch", "batches"),
        plural(report.pending_batches, "batch", "batches"),
    );
    if report.server_rejected > 0 {
        output::warning(format_args!(
            "the collector dropped {} of them (an OTLP partial success)",
            plural(report.server_rejected, "event", "events")
        ));
    }
    if report.rejected_batches > 0 {
        output::error(format_args!(
            "the collector rejected {}: set aside in the telemetry folder (see telemetry status; flush --rejected sends them again)",
            plural(report.rejected_batches, "batch", "batches")
        ));
        explain(&report.stop, report.pending_batches);
        return Ok(FAILURE);
    }
    Ok(explain(&report.stop, report.pending_batches))
}

/// Says why the flush stopped, and turns it into the exit code.
fn explain(stop: &Stop, pending: u64) -> u8 {
    match stop {
        Stop::Done | Stop::OutOfTime | Stop::NotDue { .. } | Stop::Retry(_) if pending == 0 => {
            SUCCESS
        }
        Stop::Done => SUCCESS,
        Stop::Off(why) => {
            output::error(format_args!("nothing sent: {why}"));
            FAILURE
        }
        Stop::Withheld(why) => {
            output::error(format_args!("forwarding is withheld: {why}"));
            FAILURE
        }
        Stop::Busy => {
            output::error(format_args!(
                "another sender kept the outbox busy for the whole timeout"
            ));
            FAILURE
        }
        Stop::NotDue { at_ms } => {
            let at = codemachine_telemetry::time::rfc3339_millis(*at_ms);
            output::error(format_args!(
                "the collector asked to wait until {at}, past the timeout"
            ));
            FAILURE
        }
        Stop::Paused(why) => {
            output::error(format_args!(
                "sending is paused: {why}; fix the endpoint or its headers, or run telemetry flush --rejected once fixed"
            ));
            FAILURE
        }
        Stop::Retry(why) => {
            output::error(format_args!(
                "the collector is not taking batches now: {why}; they stay pending"
            ));
            FAILURE
        }
        Stop::OutOfTime => {
            output::error(format_args!(
                "the timeout ran out with batches left; run flush again"
            ));
            FAILURE
        }
    }
}
