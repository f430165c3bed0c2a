//! The command line, as clap types only; the commands live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// codemachine: structured logs and telemetry.
#[derive(Debug, Parser)]
#[command(name = "codemachine", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write one record through the logger (for scripts), or one per line of stdin (--stdin).
    ///
    /// The record goes where the logger's configuration sends it (stdout, or LOG_PATH), in JSON
    /// or pretty form, redacted like every other record.
    Log(LogArgs),
    /// Work with log lines.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Telemetry operator commands (these never record events themselves).
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
}

impl Command {
    /// The event name this command is recorded under; `None` for the `telemetry` namespace.
    pub fn metric_name(&self) -> Option<&'static str> {
        match self {
            Command::Log(_) => Some("log"),
            Command::Logs(LogsCommand::Pretty(_)) => Some("logs.pretty"),
            Command::Telemetry(_) => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// trace, debug, info, warn, error or fatal.
    pub level: String,
    /// The record's `msg`.
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub message: Option<String>,
    /// Instead of MESSAGE, write one record per line of standard input (each line its `msg`,
    /// the same fields on every record) until input ends.
    #[arg(long)]
    pub stdin: bool,
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
    /// Whether telemetry is on and why, the folder, what is buffered, and every setting's source.
    ///
    /// Exit code 1 when the configuration cannot be used.
    Status(JsonArgs),
    /// The buffered events (with --json, the NDJSON lines themselves).
    Inspect(JsonArgs),
    /// Record exactly one event (for scripts and integrations).
    ///
    /// The name is an identifier: a-z, 0-9 and . _ : - (at most 64 characters). Anything else is
    /// refused with exit code 2 and nothing is recorded.
    Record(RecordArgs),
    /// Delete buffered batches, by age or all of them; batches still being written are kept.
    Prune(PruneArgs),
    /// The operator's dry run: a representative session with telemetry enabled in a scratch
    /// home (deleted afterwards). Shows the log line for a record full of secrets, the buffered
    /// events, and a verdict; exit code 1 if a secret or an unknown key got through. Nothing is
    /// sent anywhere.
    DryRun,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RecordKind {
    /// A command ran.
    Command,
    /// A feature was used.
    Feature,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// What the event counts.
    pub kind: RecordKind,
    /// The command or feature name (an identifier).
    pub name: String,
    /// How long the command took (commands only).
    #[arg(long, value_name = "N")]
    pub duration_ms: Option<u64>,
    /// The command's exit code (commands only).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub exit_code: Option<i32>,
    /// How many times (default 1).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u64,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["older_than", "all"]))]
pub struct PruneArgs {
    /// Delete batches last written longer ago than this: 30d, 12h, 90m, 45s, 2w.
    #[arg(long, value_name = "DUR")]
    pub older_than: Option<String>,
    /// Delete every batch that is not being written.
    #[arg(long)]
    pub all: bool,
}
