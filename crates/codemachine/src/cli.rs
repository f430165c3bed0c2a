//! The command line, as clap types only; the commands live in `commands/`.
//!
//! Numbers are parsed here by our own parsers (not clap's), so a bad value gets a message in the
//! user's terms (`--duration-ms expects a whole number of milliseconds, 0 or more`) and a value of
//! any size is a usage error, never a panic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use codemachine_telemetry::{ColorChoice, Flags, FormatChoice, Threshold};

/// codemachine: structured logs and telemetry.
#[derive(Debug, Parser)]
#[command(name = "codemachine", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes; they are the flag layer of the settings (above the
/// environment).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
    #[arg(long, global = true, value_name = "WHEN")]
    pub color: Option<ColorArg>,
    /// The lowest level logged: trace, debug, info, warn, error, fatal or silent (overrides LOG_LEVEL).
    #[arg(long, global = true, value_name = "LEVEL", value_parser = parse_threshold)]
    pub log_level: Option<Threshold>,
    /// json or pretty (overrides LOG_FORMAT).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<FormatArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Json,
    Pretty,
}

impl GlobalArgs {
    /// The flag layer of the settings.
    pub fn flags(&self) -> Flags {
        Flags {
            color: self.color.map(|c| match c {
                ColorArg::Auto => ColorChoice::Auto,
                ColorArg::Always => ColorChoice::Always,
                ColorArg::Never => ColorChoice::Never,
            }),
            log_level: self.log_level,
            log_format: self.log_format.map(|f| match f {
                FormatArg::Json => FormatChoice::Json,
                FormatArg::Pretty => FormatChoice::Pretty,
            }),
        }
    }
}

fn parse_threshold(text: &str) -> Result<Threshold, String> {
    text.parse()
        .map_err(|_| "expected trace, debug, info, warn, error, fatal or silent".to_owned())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write one record through the logger (for scripts), or one per line of stdin (--stdin).
    ///
    /// The record goes where the logger's configuration sends it (stdout, or LOG_PATH), in JSON
    /// or pretty form, redacted like every other record. Exit code 1 if it could not be written.
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
    /// the same fields on every record) until input ends. Lines over 1 MiB are cut there and the
    /// record carries "truncated": true.
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
    /// Render JSON log lines for people, redacted; other lines pass through (redacted, with
    /// control characters shown escaped).
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
    /// Exit code 1 when the configuration has a problem.
    Status(JsonArgs),
    /// The buffered events (with --json, the NDJSON lines themselves). Reads only.
    Inspect(JsonArgs),
    /// Record exactly one event (for scripts and integrations).
    ///
    /// The name is an identifier: a-z, 0-9 and . _ : - (at most 64 characters). A command event
    /// needs --duration-ms and --exit-code; a feature event takes --count (default 1). Anything
    /// else is refused with exit code 2 and nothing is recorded. With telemetry off, nothing is
    /// recorded and the exit code is 0.
    Record(RecordArgs),
    /// Delete buffered batches: by age, the rejected ones, or all; batches still being written
    /// are kept. Works with telemetry off too.
    Prune(PruneArgs),
    /// Scan the telemetry folder (and the files given, e.g. the LOG_PATH file) for secrets and
    /// personal data: keys the redaction rule matches, secret shapes, e-mail and IP addresses,
    /// home-folder paths, your login name, this host's name inside metrics, long random strings.
    ///
    /// Each finding is shown with its file, line, kind and an excerpt where it is masked. Exit
    /// code 0 when clean, 1 on findings (or files that could not be read), 2 on usage errors.
    Audit(AuditArgs),
    /// Turn telemetry on for this user: the consent is written into the config file (with the
    /// date), keeping its comments and other settings.
    ///
    /// TELEMETRY_ENABLED and DO_NOT_TRACK still decide for the runs where they are set, and a
    /// machine policy can restrict it. Not retroactive: events recorded under `--local-only` stay
    /// on this machine.
    Enable(EnableArgs),
    /// Turn telemetry off for this user (written into the config file, with the date).
    Disable(DisableArgs),
    /// Send every pending batch now, in the foreground (overrides the backoff; waits out a
    /// server's Retry-After within the timeout; waits for a running sender rather than racing it).
    ///
    /// Exit code 1 if anything stays pending.
    Flush(FlushArgs),
    /// Test the collector: TLS (certificate subject, issuer, expiry), HTTP status and latency,
    /// with an empty request that carries no event.
    ///
    /// Exit code 1 if a batch sent now would not be delivered.
    Ping,
    /// The background sender a command starts (internal: started detached, never by hand).
    #[command(name = "__send", hide = true)]
    Send,
    /// Your own metrics: commands by runs, their median and 95th-percentile durations and
    /// failure rate, features used, activity per day. Reads only (works with telemetry off).
    ///
    /// Reads the buffered events (every state) and the local history of those delivered or
    /// pruned. A table with sparklines on a terminal, --json for machines, --html FILE for a
    /// self-contained page (inline charts; no script, font or image, nothing from the network).
    Report(ReportArgs),
    /// The operator's dry run: a representative session under your effective settings, in a
    /// scratch home (deleted afterwards), nothing sent.
    ///
    /// Shows the logs of a session full of secrets (JSON and for people), the buffered events,
    /// the exact payload that would be forwarded (headers masked), where each piece lives on disk,
    /// the audit of the session's logs and spool, and a verdict; exit code 1 if a secret got
    /// through, the audit found something or the configuration has a problem.
    DryRun(JsonArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Only the last DUR, in whole UTC days (from the day holding now - DUR): 45s, 90m, 12h, 30d,
    /// 2w. By default, everything.
    #[arg(long, value_name = "DUR", value_parser = crate::duration::parse)]
    pub since: Option<std::time::Duration>,
    /// Machine-readable output (the keys are listed in the README).
    #[arg(long)]
    pub json: bool,
    /// Write the report as one self-contained HTML page to FILE (created 0600; never through a
    /// link, never into anything but a regular file).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Record events but never forward them (they are kept apart, on this machine).
    #[arg(long)]
    pub local_only: bool,
}

#[derive(Debug, Args)]
pub struct DisableArgs {
    /// Also delete everything telemetry keeps in its folder: buffered events in every state, the
    /// salt of the anonymous id, counters. Files that are not telemetry's are left alone.
    #[arg(long)]
    pub purge: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// More files to scan (log files); they must exist.
    pub paths: Vec<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Give up after this many seconds (default 30); a request under way may finish first.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "30")]
    pub timeout: std::time::Duration,
    /// Move the rejected batches back first and send them too (also lifts a pause after a
    /// 401/403/404: use it once the endpoint or its credentials are fixed).
    #[arg(long)]
    pub rejected: bool,
    /// Also send the events held on this machine under a `local` consent or policy (consent is
    /// never retroactive otherwise).
    #[arg(long)]
    pub include_local: bool,
}

fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: u64 = whole(text, "a whole number of seconds, 1 to 86400")?;
    if (1..=86_400).contains(&secs) {
        Ok(std::time::Duration::from_secs(secs))
    } else {
        Err("expected a whole number of seconds, 1 to 86400".to_owned())
    }
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
    /// How long the command took, in milliseconds (command events).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_duration_ms)]
    pub duration_ms: Option<u64>,
    /// The command's exit code (command events).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_exit_code)]
    pub exit_code: Option<i32>,
    /// How many times the feature was used (feature events; default 1).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_count)]
    pub count: Option<u64>,
}

/// A whole number from `text`, or a message saying what `what` expects.
fn whole<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected {what}"));
    }
    t.parse()
        .map_err(|_| format!("out of range: expected {what}"))
}

fn parse_duration_ms(text: &str) -> Result<u64, String> {
    whole(text, "a whole number of milliseconds, 0 or more")
}

fn parse_exit_code(text: &str) -> Result<i32, String> {
    whole(text, "a whole number from -2147483648 to 2147483647")
}

fn parse_count(text: &str) -> Result<u64, String> {
    match whole::<u64>(text, "a whole number, 1 or more")? {
        0 => Err("expected a whole number, 1 or more".to_owned()),
        n => Ok(n),
    }
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).multiple(true).args(["older_than", "all", "rejected"]))]
pub struct PruneArgs {
    /// Delete batches last written longer ago than this: 45s, 90m, 12h, 30d, 2w.
    #[arg(long, value_name = "DUR", value_parser = crate::duration::parse)]
    pub older_than: Option<std::time::Duration>,
    /// Delete only batches the collector rejected (with --older-than: only the older ones).
    #[arg(long)]
    pub rejected: bool,
    /// Delete every batch that is not being written or sent.
    #[arg(long, conflicts_with = "older_than")]
    pub all: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_any_size_are_refused_with_a_message_in_the_users_terms() {
        assert_eq!(parse_duration_ms("12"), Ok(12));
        assert_eq!(parse_exit_code("-1"), Ok(-1));
        assert!(parse_duration_ms("-1").unwrap_err().contains("0 or more"));
        assert!(
            parse_duration_ms("99999999999999999999999")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            parse_exit_code("3000000000")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            parse_count("0").is_err() && parse_count("1e3").is_err() && parse_count("").is_err()
        );
        assert!(parse_threshold("loud").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
