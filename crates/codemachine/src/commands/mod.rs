//! One module per command, and the one place outcomes become exit codes.
//!
//! Exit codes: 0 success, 1 failure or findings, 2 usage error. Data goes to stdout, diagnostics
//! to stderr (see `output`); a closed stdout (EPIPE) is success, as in every well-behaved
//! filter. Every command outside the `telemetry` namespace records one `command` event (when
//! telemetry is on), a panic included (exit code 101).

mod audit;
mod bounded_lines;
mod consent;
mod dry_run;
mod flush;
mod inspect;
mod log;
mod logs_pretty;
mod ping;
mod prune;
mod record;
mod report;
mod status;

use std::io;
use std::process::ExitCode;

use codemachine_telemetry::{Metrics, Settings};

use crate::cli::{Command, LogsCommand, TelemetryCommand};
use crate::output;
use crate::settings::VERSION;
use crate::usage::USAGE;

/// Exit code of a successful command.
pub const SUCCESS: u8 = 0;
/// Exit code of a command that failed or found something.
pub const FAILURE: u8 = 1;

/// A mistake in how the command was called: reported with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs `command`, recording it when it is a host command, and returns the exit code.
pub fn run(command: Command, settings: &Settings) -> ExitCode {
    let name = command.metric_name();
    tell_problems(settings, &command);
    let mut timer = name.map(|name| Metrics::new(settings, VERSION).time_command(name));
    let code = match dispatch(command, settings) {
        Ok(code) => code,
        Err(err) => report(&err),
    };
    if let Some(timer) = timer.as_mut() {
        timer.exit_code(i32::from(code));
    }
    drop(timer);
    if name.is_some() {
        start_sender(settings);
    }
    ExitCode::from(code)
}

/// After a host command (its event recorded and its segment closed): a detached sender, if one is
/// due. Costs nothing when telemetry is off or no endpoint is configured, and never waits.
fn start_sender(settings: &Settings) {
    if let Ok(exe) = std::env::current_exe() {
        codemachine_telemetry::sender::start_detached(settings, &exe, ["telemetry", "__send"]);
    }
}

/// Says what in the configuration keeps redaction incomplete or telemetry off against the
/// user's wish (every command: it may affect what they see), unless the command reports it
/// itself.
fn tell_problems(settings: &Settings, command: &Command) {
    if let Some(warning) = settings.switch().warning() {
        output::warning(format_args!("{warning}"));
    }
    let reports_itself = matches!(
        command,
        Command::Telemetry(
            TelemetryCommand::Status(_) | TelemetryCommand::DryRun(_) | TelemetryCommand::Send
        )
    );
    if reports_itself {
        return;
    }
    for problem in settings.problems_to_tell() {
        output::warning(format_args!("{problem}"));
    }
}

fn dispatch(command: Command, settings: &Settings) -> anyhow::Result<u8> {
    match command {
        Command::Log(args) => log::run(args, settings),
        Command::Logs(LogsCommand::Pretty(args)) => logs_pretty::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Status(args)) => status::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Inspect(args)) => inspect::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Record(args)) => record::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Prune(args)) => prune::run(&args, settings),
        Command::Telemetry(TelemetryCommand::DryRun(args)) => dry_run::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Audit(args)) => audit::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Enable(args)) => consent::enable(&args, settings),
        Command::Telemetry(TelemetryCommand::Disable(args)) => consent::disable(&args, settings),
        Command::Telemetry(TelemetryCommand::Flush(args)) => flush::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Ping) => ping::run(settings),
        Command::Telemetry(TelemetryCommand::Report(args)) => report::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Send) => {
            codemachine_telemetry::sender::run_detached(settings);
            Ok(SUCCESS)
        }
    }
}

fn report(err: &anyhow::Error) -> u8 {
    if is_broken_pipe(err) {
        return SUCCESS;
    }
    match err.downcast_ref::<io::Error>() {
        // A bare I/O error is the command's own output failing (`> /dev/full`): name it.
        Some(io) => output::error(format_args!("cannot write the output: {}", describe_io(io))),
        None => output::error(format_args!("{err:#}")),
    }
    if err.downcast_ref::<UsageError>().is_some() {
        USAGE
    } else {
        FAILURE
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// `error` as people read it: the message without Rust's `(os error N)` suffix.
pub fn describe_io(error: &io::Error) -> String {
    codemachine_telemetry::terminal::describe_io(error)
}

/// Bytes for people: `512 B`, `1.5 KiB`, `64.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `1 event`, `2 events`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_counts_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(64 << 20), "64.0 MiB");
        assert_eq!(plural(1, "event", "events"), "1 event");
        assert_eq!(plural(0, "batch", "batches"), "0 batches");
    }
}
