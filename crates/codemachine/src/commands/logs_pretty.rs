//! `codemachine logs pretty [FILE]`: JSON lines rendered for people.
//!
//! Lines that are not JSON objects (and bytes that are not UTF-8) pass through unchanged, so the
//! command can sit on any mixed stream. Colour when stdout is a terminal and `NO_COLOR` is unset.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};

use anyhow::{Context, Result};
use codemachine_telemetry::env_vars::NO_COLOR;
use codemachine_telemetry::log::pretty::render_line;

use crate::cli::PrettyArgs;

pub fn run(args: &PrettyArgs) -> Result<u8> {
    let input: Box<dyn BufRead> = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let file =
                File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            Box::new(BufReader::new(file))
        }
        _ => Box::new(io::stdin().lock()),
    };
    let stdout = io::stdout();
    let color = stdout.is_terminal() && std::env::var_os(NO_COLOR).is_none_or(|v| v.is_empty());
    let mut out = BufWriter::new(stdout.lock());
    render_stream(input, &mut out, color)?;
    out.flush().context("cannot write to stdout")?;
    Ok(super::SUCCESS)
}

fn render_stream(mut input: impl BufRead, out: &mut impl Write, color: bool) -> Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .context("cannot read input")?
            == 0
        {
            return Ok(());
        }
        let rendered = std::str::from_utf8(&line)
            .ok()
            .and_then(|text| render_line(text, color));
        match rendered {
            Some(text) => out.write_all(text.as_bytes()),
            None => out.write_all(&line),
        }
        .context("cannot write to stdout")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_json_and_passes_everything_else_through() {
        let input: &[u8] =
            b"{\"level\":30,\"msg\":\"hi\"}\nnot json\n\xff\xfe raw\nlast without newline";
        let mut out = Vec::new();
        render_stream(input, &mut out, false).unwrap();
        assert_eq!(
            out,
            b"INFO: hi\nnot json\n\xff\xfe raw\nlast without newline"
        );
    }
}
