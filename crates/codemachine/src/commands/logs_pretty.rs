//! `codemachine logs pretty [FILE]`: JSON lines rendered for people.
//!
//! It renders other programs' logs too, so it redacts like the logger: every JSON record goes
//! through the redactor (keys, shapes, name/value pairs) before it is rendered, and a line that
//! is not a JSON object passes through scrubbed, with control characters shown escaped (so it can
//! neither leak a secret nor drive the terminal). Plain lines are scrubbed as a stream, so a
//! private key split over lines is redacted from its first line to its last. A line longer than
//! [`MAX_LINE`] is cut at the last white space before it (the rest is skipped, not held, and a
//! note says so: a secret cut in two could lose the shape that redacts it). Colour follows
//! `--color`, `NO_COLOR` and `TERM=dumb`, on a terminal only by default.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};
use codemachine_telemetry::log::pretty::render_record;
use codemachine_telemetry::redact::LineScrubber;
use codemachine_telemetry::terminal::escape_controls;
use codemachine_telemetry::{Redactor, Settings};
use serde_json::{Map, Value as Json};

use super::bounded_lines::{read_bounded_line, without_partial_word};
use super::describe_io;
use crate::cli::PrettyArgs;

/// The longest line rendered; the rest of a longer one is skipped.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// What replaces the skipped rest of a line longer than [`MAX_LINE`].
const CUT_NOTE: &str = " [line cut: longer than 16 MiB]";

pub fn run(args: &PrettyArgs, settings: &Settings) -> Result<u8> {
    let (input, name): (Box<dyn BufRead>, String) = match &args.file {
        Some(path) if path.as_os_str() != "-" => (open(path)?, path.display().to_string()),
        _ => (Box::new(io::stdin().lock()), "stdin".to_owned()),
    };
    let stdout = io::stdout();
    let color = settings.color().value().paints(stdout.is_terminal());
    let mut redactor = Redactor::new();
    redactor.add_keys(settings.redact_keys().value());
    let mut out = BufWriter::new(stdout.lock());
    render_stream(input, &mut out, &Renderer { redactor, color }, &name)?;
    out.flush().context("cannot write to stdout")?;
    Ok(super::SUCCESS)
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), describe_io(&e)))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        anyhow::bail!("cannot read {}: it is a folder", path.display());
    }
    Ok(Box::new(BufReader::new(file)))
}

struct Renderer {
    redactor: Redactor,
    color: bool,
}

impl Renderer {
    /// The line as it is shown: a record rendered, anything else scrubbed (as part of the
    /// stream `lines` follows) and escaped.
    fn render(&self, line: &[u8], cut: bool, lines: &mut LineScrubber<'_>) -> String {
        let text = String::from_utf8_lossy(if cut {
            without_partial_word(line)
        } else {
            line
        });
        let body = text.trim_end_matches(['\n', '\r']);
        if !cut
            && !lines.in_block()
            && let Ok(mut record) = serde_json::from_str::<Map<String, Json>>(body)
        {
            // The record's text still moves the block state: a key logged one line per
            // record opens a block here, and the records up to its end are redacted whole.
            lines.observe_line(body);
            let mut value = Json::Object(std::mem::take(&mut record));
            self.redactor.redact_json(&mut value);
            if let Json::Object(record) = value {
                return render_record(&record, self.color);
            }
        }
        let scrubbed = lines.scrub_line(body);
        let mut shown = escape_tabs_kept(&scrubbed);
        if cut {
            shown.push_str(CUT_NOTE);
        }
        if cut || line.ends_with(b"\n") {
            shown.push('\n');
        }
        shown
    }
}

/// Control characters escaped, except tabs (which cannot move to another line or drive the
/// terminal, and are common in plain logs).
fn escape_tabs_kept(text: &str) -> String {
    text.split('\t')
        .map(|part| escape_controls(part).into_owned())
        .collect::<Vec<_>>()
        .join("\t")
}

fn render_stream(
    mut input: impl BufRead,
    out: &mut impl Write,
    renderer: &Renderer,
    name: &str,
) -> Result<()> {
    let mut line = Vec::new();
    let mut lines = LineScrubber::new(&renderer.redactor);
    loop {
        let cut = read_bounded_line(&mut input, &mut line, MAX_LINE)
            .map_err(|e| anyhow::anyhow!("cannot read {name}: {}", describe_io(&e)))?;
        let Some(cut) = cut else {
            return Ok(());
        };
        out.write_all(renderer.render(&line, cut, &mut lines).as_bytes())
            .context("cannot write to stdout")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(input: &[u8]) -> String {
        let renderer = Renderer {
            redactor: Redactor::new(),
            color: false,
        };
        let mut out = Vec::new();
        render_stream(input, &mut out, &renderer, "test").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_json_and_passes_everything_else_through_cleaned() {
        let out = rendered(b"{\"level\":30,\"msg\":\"hi\"}\nnot json\tok\n\xff\xfe raw\x1b[2J\nlast without newline");
        assert_eq!(
            out,
            "INFO: hi\nnot json\tok\n\u{fffd}\u{fffd} raw\\u{1b}[2J\nlast without newline"
        );
    }

    #[test]
    fn records_and_plain_lines_are_redacted() {
        let out = rendered(
            b"{\"msg\":\"use ghp_0123456789abcdefghijABCDEFGHIJ012345\",\"password\":\"hunter2\",\"ok\":1}\nplain password=hunter2\n",
        );
        assert!(
            !out.contains("hunter2") && !out.contains("ghp_0123"),
            "{out}"
        );
        assert!(out.contains("ok: 1"), "{out}");
    }

    #[test]
    fn a_private_key_split_over_lines_is_redacted_from_first_line_to_last() {
        let out = rendered(
            b"loading key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n{\"msg\":\"json inside\"}\n-----END OPENSSH PRIVATE KEY-----\nafter\n",
        );
        assert!(!out.contains("b3BlbnNzaC1rZXkt"), "{out}");
        assert!(!out.contains("json inside"), "{out}");
        assert!(
            out.starts_with("loading key\n") && out.ends_with("\nafter\n"),
            "{out}"
        );
    }

    #[test]
    fn a_private_key_logged_one_record_per_line_is_redacted_whole() {
        let out = rendered(
            b"{\"level\":30,\"msg\":\"-----BEGIN PRIVATE KEY-----\"}\n{\"level\":30,\"msg\":\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\"}\n{\"level\":30,\"msg\":\"-----END PRIVATE KEY-----\"}\n{\"level\":30,\"msg\":\"after\"}\n",
        );
        assert!(!out.contains("MIIEvQIBADAN"), "{out}");
        assert!(out.ends_with("INFO: after\n"), "{out}");
    }
}
