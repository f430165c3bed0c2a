//! Command lines that do not parse: clap's message, with the user's words masked.
//!
//! clap quotes the word it could not place (`unexpected argument 'hunter2' found`), and that
//! word can be a secret typed in the wrong place. So every value clap quotes that is not a flag
//! name is replaced by its length, a flag's `=value` part is masked the same way, and the whole
//! message then goes through the redactor like every diagnostic. The command line is recorded
//! as a `usage-error` event (never its words) when telemetry is on.

use std::process::ExitCode;
use std::time::Instant;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use codemachine_telemetry::{Metrics, Settings};

use crate::output;
use crate::settings::VERSION;

/// Exit code of a command called the wrong way.
pub const USAGE: u8 = 2;

/// Prints `err` (help and version as they are) and records the usage error.
pub fn report(err: &clap::Error, settings: &Settings, started: Instant) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        return match err.print() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                output::error(format_args!(
                    "cannot write the output: {}",
                    codemachine_telemetry::terminal::describe_io(&e)
                ));
                ExitCode::FAILURE
            }
            _ => ExitCode::SUCCESS,
        };
    }
    if let Some(warning) = settings.switch().warning() {
        output::warning(format_args!("{warning}"));
    }
    let rendered = masked(err);
    output::raw_stderr(&rendered);
    let code = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        USAGE
    } else {
        u8::try_from(err.exit_code()).unwrap_or(USAGE)
    };
    if !in_telemetry_namespace() {
        // A failure to record was said on stderr by the library; the exit code stays 2.
        let _ = Metrics::new(settings, VERSION).record_command(
            "usage-error",
            started.elapsed(),
            i32::from(code),
        );
    }
    ExitCode::from(code)
}

/// True when the command line names the `telemetry` namespace (whose commands never record
/// events about themselves, even when they were called the wrong way).
fn in_telemetry_namespace() -> bool {
    std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "telemetry")
}

/// clap's rendered message with every quoted value masked.
fn masked(err: &clap::Error) -> String {
    let mut text = err.render().to_string();
    for (kind, value) in err.context() {
        if !matches!(
            kind,
            ContextKind::InvalidArg | ContextKind::InvalidValue | ContextKind::InvalidSubcommand
        ) {
            continue;
        }
        let words = match value {
            ContextValue::String(s) => vec![s.as_str()],
            ContextValue::Strings(list) => list.iter().map(String::as_str).collect(),
            _ => continue,
        };
        for word in words {
            let shown = mask(word);
            if shown == word {
                continue;
            }
            text = text.replace(&format!("'{word}'"), &format!("'{shown}'"));
            text = text.replace(&format!("'-- {word}'"), &format!("'-- {shown}'"));
            if word.len() >= MASK_ANYWHERE {
                // Wherever else clap repeats it (its tips do).
                text = text.replace(word, &shown);
            }
        }
    }
    text
}

/// A masked word this long is masked wherever it appears in the message, not only quoted
/// (shorter words could be parts of clap's own text, and are no secret).
const MASK_ANYWHERE: usize = 8;

/// A flag name stays (`--colour`), and so does an argument's placeholder (`<KIND>`); a flag's
/// value and any other word become their length. A flag name is `-` or `--` and then small
/// letters and inner `-` (at most 32), as every flag of ours is: anything else starting with
/// `-` (`-----BEGIN …`, `--S3cr3t`, a value with spaces) is treated as a value, masked.
fn mask(word: &str) -> String {
    let hidden = |w: &str| format!("<{} characters, not shown>", w.chars().count());
    if word.starts_with('<') && word.ends_with('>') && !word[1..word.len() - 1].contains(['<', '>'])
    {
        return word.to_owned();
    }
    let (name, value) = word.split_once('=').unwrap_or((word, ""));
    if !is_flag_name(name) {
        return hidden(word);
    }
    match word.split_once('=') {
        Some(_) => format!("{name}={}", hidden(value)),
        None => word.to_owned(),
    }
}

fn is_flag_name(word: &str) -> bool {
    let name = word
        .strip_prefix("--")
        .or_else(|| word.strip_prefix('-'))
        .unwrap_or("");
    (1..=32).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn message(args: &[&str]) -> String {
        let err = crate::cli::Cli::try_parse_from(args).unwrap_err();
        masked(&err)
    }

    #[test]
    fn stray_words_and_flag_values_are_never_repeated() {
        let text = message(&["codemachine", "log", "info", "m", "hunter2"]);
        assert!(
            !text.contains("hunter2") && text.contains("7 characters"),
            "{text}"
        );
        let text = message(&["codemachine", "telemetry", "s3cr3t-word"]);
        assert!(!text.contains("s3cr3t"), "{text}");
        let text = message(&["codemachine", "log", "info", "m", "--pass=hunter2"]);
        assert!(!text.contains("hunter2"), "{text}");
        let text = message(&[
            "codemachine",
            "telemetry",
            "record",
            "command",
            "x",
            "--duration-ms",
            "abc",
        ]);
        assert!(
            !text.contains("'abc'") && text.contains("0 or more"),
            "{text}"
        );
    }

    #[test]
    fn values_that_start_with_a_dash_are_masked_wherever_clap_repeats_them() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
        for args in [
            vec!["codemachine", "log", "info", key],
            vec!["codemachine", "log", key],
            vec!["codemachine", "log", "info", "m", "--field", key],
            vec!["codemachine", "--color", key, "log", "info", "m"],
            vec!["codemachine", "telemetry", "record", "feature", key],
            vec!["codemachine", "log", "info", "m", "--hunter2hunter2 secret"],
            vec!["codemachine", "log", "info", "m", "-pS3cr3tPassw0rd!"],
            vec!["codemachine", "log", "info", "m", "--S3cr3tPassw0rd"],
            vec!["codemachine", "log", "info", "m", "--hunter2hunter2"],
        ] {
            let text = message(&args);
            for part in ["b3BlbnNzaC1rZXkt", "hunter2hunter2", "S3cr3tPassw0rd"] {
                assert!(!text.contains(part), "{args:?}: {text}");
            }
        }
    }

    #[test]
    fn flag_names_stay_for_suggestions() {
        let text = message(&["codemachine", "--colour", "never", "log", "info", "m"]);
        assert!(
            text.contains("--colour") && text.contains("--color"),
            "{text}"
        );
    }
}
