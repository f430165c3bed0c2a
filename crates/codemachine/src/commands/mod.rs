//! One module per command, and the one place errors become exit codes.
//!
//! Exit codes: 0 success, 1 failure or findings, 2 usage error (clap's own usage errors exit 2
//! too). Data goes to stdout, diagnostics to stderr; a closed stdout (EPIPE) is success, as in
//! every well-behaved filter.

mod dry_run;
mod log;
mod logs_pretty;

use std::io;
use std::process::ExitCode;

use crate::cli::{Command, LogsCommand, TelemetryCommand};

/// A mistake in how the command was called: reported with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs `command` and turns its outcome into the process's exit code.
pub fn run(command: Command) -> ExitCode {
    let outcome = match command {
        Command::Log(args) => log::run(args),
        Command::Logs(LogsCommand::Pretty(args)) => logs_pretty::run(&args),
        Command::Telemetry(TelemetryCommand::DryRun) => dry_run::run(),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => report(&err),
    }
}

fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let usage = err.downcast_ref::<UsageError>().is_some();
    let _ = eprint_error(err);
    ExitCode::from(if usage { 2 } else { 1 })
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
