//! The command line, as clap types only; the commands live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// codemachine: structured logs and telemetry.
#[derive(Debug, Parser)]
#[command(name = "codemachine", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write one record through the logger (for scripts).
    ///
    /// The record goes where the logger's configuration sends it (stdout, or LOG_PATH), in JSON
    /// or pretty form, redacted like every other record.
    Log(LogArgs),
    /// Work with log lines.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Telemetry operator commands.
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// trace, debug, info, warn, error or fatal.
    pub level: String,
    /// The record's `msg`.
    pub message: String,
    /// A field as key=value (the value is a string); repeat for more. Later keys win.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// A JSON object whose entries become fields (before any --field).
    #[arg(long, value_name = "OBJECT")]
    pub json: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Render JSON log lines for people; lines that are not JSON pass through unchanged.
    Pretty(PrettyArgs),
}

#[derive(Debug, Args)]
pub struct PrettyArgs {
    /// The file to read; standard input when absent or `-`.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TelemetryCommand {
    /// The operator's dry run: shows what the logger writes for a representative record,
    /// secrets removed, and checks that none survived. Nothing is sent anywhere.
    DryRun,
}
