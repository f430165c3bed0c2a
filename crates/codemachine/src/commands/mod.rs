//! One module per command, and the one place outcomes become exit codes.
//!
//! Exit codes: 0 success, 1 failure or findings, 2 usage error (clap's own usage errors exit 2
//! too). Data goes to stdout, diagnostics to stderr; a closed stdout (EPIPE) is success, as in
//! every well-behaved filter. Every command outside the `telemetry` namespace records one
//! `command` event (when telemetry is enabled), a panic included (exit code 101).

mod dry_run;
mod inspect;
mod log;
mod logs_pretty;
mod prune;
mod record;
mod status;

use std::io;
use std::process::ExitCode;

use crate::cli::{Command, LogsCommand, TelemetryCommand};
use crate::settings::Settings;

/// Exit code of a successful command.
pub const SUCCESS: u8 = 0;
/// Exit code of a command that failed or found something.
pub const FAILURE: u8 = 1;
/// Exit code of a command called the wrong way.
pub const USAGE: u8 = 2;

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
pub fn run(command: Command) -> ExitCode {
    let settings = Settings::from_env();
    let name = command.metric_name();
    settings.warn_about_problems(name.is_some());
    let mut timer = name.map(|name| settings.metrics().time_command(name));
    let code = match dispatch(command, &settings) {
        Ok(code) => code,
        Err(err) => report(&err),
    };
    if let Some(timer) = timer.as_mut() {
        timer.exit_code(i32::from(code));
    }
    drop(timer);
    ExitCode::from(code)
}

fn dispatch(command: Command, settings: &Settings) -> anyhow::Result<u8> {
    match command {
        Command::Log(args) => log::run(args, settings),
        Command::Logs(LogsCommand::Pretty(args)) => logs_pretty::run(&args),
        Command::Telemetry(TelemetryCommand::Status(args)) => status::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Inspect(args)) => inspect::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Record(args)) => record::run(&args, settings),
        Command::Telemetry(TelemetryCommand::Prune(args)) => prune::run(&args, settings),
        Command::Telemetry(TelemetryCommand::DryRun) => dry_run::run(),
    }
}

fn report(err: &anyhow::Error) -> u8 {
    if is_broken_pipe(err) {
        return SUCCESS;
    }
    let usage = err.downcast_ref::<UsageError>().is_some();
    let _ = eprint_error(err);
    if usage { USAGE } else { FAILURE }
}

fn eprint_error(err: &anyhow::Error) -> io::Result<()> {
    use std::io::Write;
    writeln!(io::stderr().lock(), "codemachine: error: {err:#}")
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Writes a note for the operator on stderr (never fails the command).
pub fn note(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(io::stderr().lock(), "codemachine: {message}");
}

/// Bytes for people: `512 B`, `1.5 KiB`, `64.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(64 << 20), "64.0 MiB");
    }
}
