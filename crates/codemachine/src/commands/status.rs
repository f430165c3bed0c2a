//! `codemachine telemetry status [--json]`: renders the library's typed status.
//!
//! With telemetry off the folder is still read (never created or written): an operator asked.
//! Exit code 1 when the configuration has a problem that touches telemetry or redaction.

use std::io::Write;

use anyhow::Result;
use codemachine_telemetry::Settings;
use codemachine_telemetry::status::Status;

use super::{FAILURE, SUCCESS, human_bytes, plural};
use crate::cli::JsonArgs;
use crate::output::clean;

pub fn run(args: &JsonArgs, settings: &Settings) -> Result<u8> {
    let status = Status::collect(settings);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", crate::output::json(&status)?)?;
    } else {
        write_human(&mut out, &status)?;
    }
    out.flush()?;
    Ok(if Status::has_error(settings) {
        FAILURE
    } else {
        SUCCESS
    })
}

/// One `Label       value` row; every value is cleaned (scrubbed, controls escaped).
fn row(out: &mut impl Write, label: &str, value: &str) -> std::io::Result<()> {
    writeln!(out, "{label:<12} {}", clean(value))
}

fn more(out: &mut impl Write, value: &str) -> std::io::Result<()> {
    row(out, "", value)
}

fn write_human(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    let state = match s.mode {
        "local" => "on, local only (recorded, never forwarded)",
        "on" => "on",
        _ => "off",
    };
    row(out, "Telemetry", &format!("{state}: {}", s.decision))?;
    if let Some(how) = &s.how_to_enable {
        more(out, &format!("to turn it on: {how}"))?;
    }
    let shown = |p: &Option<std::path::PathBuf>| {
        p.as_ref().map_or("none (no home folder)".to_owned(), |p| {
            p.display().to_string()
        })
    };
    row(out, "Folder", &shown(&s.dir))?;
    let present = if s.config_file_present {
        "present"
    } else {
        "absent: defaults apply"
    };
    row(
        out,
        "Config file",
        &format!("{} ({present})", shown(&s.config_file)),
    )?;
    write_problems(out, s)?;
    row(out, "Forwarding", &s.forwarding)?;
    if let Some(endpoint) = &s.endpoint {
        let protocol = s.protocol.as_deref().unwrap_or("-");
        more(out, &format!("endpoint {endpoint} ({protocol})"))?;
    }
    if let Some(why) = &s.forwarding_withheld {
        more(out, &format!("withheld: {why}"))?;
    }
    if let Some(error) = &s.last_error {
        more(out, &format!("last error: {error}"))?;
    }
    for (label, value) in [
        ("last delivery", &s.last_success),
        ("next attempt", &s.next_attempt),
    ] {
        if let Some(value) = value {
            more(out, &format!("{label}: {value}"))?;
        }
    }
    if s.server_rejected_events > 0 {
        more(
            out,
            &format!(
                "{} dropped by collectors (partial success)",
                plural(s.server_rejected_events, "event", "events")
            ),
        )?;
    }
    write_buffered(out, s)?;
    write_identity(out, s)?;
    write_redaction(out, s)?;
    row(out, "Logs", &s.log_destination)?;
    write_policy(out, s)?;
    write_odd(out, s)?;
    write_settings(out, s)
}

fn write_problems(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    if s.problems.is_empty() {
        return row(out, "Problems", "none");
    }
    for (i, problem) in s.problems.iter().enumerate() {
        row(out, if i == 0 { "Problems" } else { "" }, problem)?;
    }
    Ok(())
}

fn write_buffered(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    row(
        out,
        "Buffered",
        &format!(
            "{} in {} ({} being written), {} of {}",
            plural(s.pending_events, "event", "events"),
            plural(s.pending_batches, "batch", "batches"),
            s.open_batches,
            human_bytes(s.spool_bytes),
            human_bytes(s.max_spool_bytes),
        ),
    )?;
    more(
        out,
        &format!(
            "{} rejected ({}), {} refused at the cap, {} kept",
            plural(s.rejected_batches, "batch", "batches"),
            plural(s.rejected_events, "event", "events"),
            plural(s.refused_events, "event", "events"),
            plural(s.torn_lines, "torn line", "torn lines"),
        ),
    )
}

fn write_identity(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    match (&s.anon_id, &s.anon_id_rotates) {
        (Some(id), Some(rotates)) => {
            row(out, "Identity", &format!("anon_id {id}, rotates {rotates}"))
        }
        _ => row(out, "Identity", "none yet (made with the first event)"),
    }
}

fn write_redaction(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    let added = if s.redact_keys.is_empty() {
        "none added".to_owned()
    } else {
        format!("added: {}", s.redact_keys.join(", "))
    };
    let documented = match &s.redact_documented {
        Some(reference) => format!("documented: {reference}"),
        None if s.redact_keys.is_empty() => "nothing to document".to_owned(),
        None => "not documented".to_owned(),
    };
    row(
        out,
        "Redaction",
        &format!(
            "{} default keys; {added} ({documented})",
            s.redact_default_keys.len()
        ),
    )
}

fn write_policy(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    let Some(files) = s.policy.as_ref().and_then(|p| p["files"].as_array()) else {
        return row(out, "Policy", "none (no machine policy file)");
    };
    for (i, file) in files.iter().enumerate() {
        let path = file["path"].as_str().unwrap_or("?");
        let text = match file["ignored_because"].as_str() {
            Some(why) => format!("{path}: IGNORED: {why}"),
            None => {
                let rules = &file["rules"];
                let mut parts = Vec::new();
                for key in ["telemetry", "endpoint", "max_spool_bytes"] {
                    if !rules[key].is_null() {
                        let value = rules[key]
                            .as_str()
                            .map_or_else(|| rules[key].to_string(), str::to_owned);
                        parts.push(format!("{key} = {value}"));
                    }
                }
                if let Some(keys) = rules["redact_keys"].as_array().filter(|k| !k.is_empty()) {
                    let keys: Vec<&str> = keys.iter().filter_map(|k| k.as_str()).collect();
                    parts.push(format!("redact keys {}", keys.join(", ")));
                }
                format!(
                    "{path}: {}",
                    if parts.is_empty() {
                        "no rule".to_owned()
                    } else {
                        parts.join("; ")
                    }
                )
            }
        };
        row(out, if i == 0 { "Policy" } else { "" }, &text)?;
    }
    Ok(())
}

fn write_odd(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    for (i, odd) in s.odd_entries.iter().enumerate() {
        let label = if i == 0 { "Skipped" } else { "" };
        row(out, label, &format!("{}: {}", odd.path.display(), odd.why))?;
    }
    Ok(())
}

fn write_settings(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    writeln!(out, "\n{:<20} {:<40} SOURCE", "SETTING", "VALUE")?;
    for (name, setting) in &s.settings {
        let value = match &setting.value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        writeln!(out, "{name:<20} {:<40} {}", clean(&value), setting.source)?;
    }
    Ok(())
}
