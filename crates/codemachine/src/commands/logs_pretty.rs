//! `codemachine logs pretty [FILE]`: JSON lines rendered for people.
//!
//! It renders other programs' logs too, so it redacts like the logger: every JSON record goes
//! through the redactor (keys, shapes, name/value pairs) before it is rendered, and a line that
//! is not a JSON object passes through scrubbed, with control characters shown escaped (so it can
//! neither leak a secret nor drive the terminal). Colour follows `--color`, `NO_COLOR` and
//! `TERM=dumb`, on a terminal only by default.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};
use codemachine_telemetry::log::pretty::render_record;
use codemachine_telemetry::terminal::escape_controls;
use codemachine_telemetry::{Redactor, Settings};
use serde_json::{Map, Value as Json};

use super::describe_io;
use crate::cli::PrettyArgs;

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
    /// The line as it is shown: a record rendered, anything else scrubbed and escaped.
    fn render(&self, line: &[u8]) -> String {
        let text = String::from_utf8_lossy(line);
        let body = text.trim_end_matches(['\n', '\r']);
        if let Ok(mut record) = serde_json::from_str::<Map<String, Json>>(body) {
            let mut value = Json::Object(std::mem::take(&mut record));
            self.redactor.redact_json(&mut value);
            if let Json::Object(record) = value {
                return render_record(&record, self.color);
            }
        }
        let scrubbed = self.redactor.scrub(body);
        let mut shown = escape_tabs_kept(&scrubbed);
        if line.ends_with(b"\n") {
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
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|e| anyhow::anyhow!("cannot read {name}: {}", describe_io(&e)))?;
        if read == 0 {
            return Ok(());
        }
        out.write_all(renderer.render(&line).as_bytes())
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
}
