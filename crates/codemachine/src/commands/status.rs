//! `codemachine telemetry status [--json]`: whether telemetry is on and why, what is buffered,
//! and where every setting comes from.
//!
//! When telemetry is disabled the telemetry folder is not read at all (not even listed): the
//! buffered counts are then `null`. Exit code 1 when the configuration cannot be used.

use std::io::Write;

use anyhow::Result;
use codemachine_telemetry::config::{Setting, Source, TelemetryConfig};
use codemachine_telemetry::env_vars;
use codemachine_telemetry::log::DEFAULT_THRESHOLD;
use codemachine_telemetry::metrics::{self, spool};
use codemachine_telemetry::time::rfc3339_millis;
use codemachine_telemetry::{DEFAULT_REDACT_KEYS, LoggerConfig};
use serde_json::{Value as Json, json};

use super::{FAILURE, SUCCESS, human_bytes};
use crate::cli::JsonArgs;
use crate::settings::Settings;

/// What forwarding does in this version.
const FORWARDING: &str = "not available in this version: metrics stay local";

pub fn run(args: &JsonArgs, settings: &Settings) -> Result<u8> {
    let status = collect(settings)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?;
    } else {
        write_human(&mut out, &status)?;
    }
    Ok(if status["config_error"].is_null() {
        SUCCESS
    } else {
        FAILURE
    })
}

fn collect(settings: &Settings) -> Result<Json> {
    let log = LoggerConfig::from_env();
    let mut status = json!({
        "enabled": settings.switch.enabled,
        "decided_by": settings.switch.decided_by.to_string(),
        "dir": null,
        "config_file": null,
        "config_file_present": null,
        "config_error": null,
        "endpoint": null,
        "protocol": null,
        "forwarding": FORWARDING,
        "pending_events": null,
        "pending_batches": null,
        "open_batches": null,
        "rejected_batches": null,
        "dropped_events": null,
        "torn_lines": null,
        "spool_bytes": null,
        "max_spool_bytes": null,
        "last_error": null,
        "next_attempt": null,
        "anon_id": null,
        "anon_id_rotates_at": null,
        "redaction": {"default_keys": DEFAULT_REDACT_KEYS, "extra_keys": [], "documented": null},
        "log_destination": log.path.as_ref().map_or("stdout".to_owned(), |p| p.display().to_string()),
        "settings": {},
    });
    let config = match &settings.config {
        Ok(config) => config,
        Err(err) => {
            status["config_error"] = json!(err.to_string());
            return Ok(status);
        }
    };
    status["dir"] = json!(config.dir());
    status["config_file"] = json!(config.file());
    status["config_file_present"] = json!(config.file().is_file());
    status["max_spool_bytes"] = json!(config.max_spool_bytes.value);
    status["redaction"]["extra_keys"] = json!(config.redact_keys.value);
    status["redaction"]["documented"] = json!(config.redact_documented.value);
    status["settings"] = settings_json(config, &log);
    if settings.switch.enabled {
        add_spool(&mut status, config)?;
    }
    Ok(status)
}

fn setting<T: serde::Serialize>(s: &Setting<T>) -> Json {
    json!({"value": s.value, "source": s.source.to_string()})
}

fn settings_json(config: &TelemetryConfig, log: &LoggerConfig) -> Json {
    json!({
        "home": setting(&config.home),
        "max_spool_bytes": setting(&config.max_spool_bytes),
        "salt_rotation_days": setting(&config.salt_rotation_days),
        "redact_keys": setting(&config.redact_keys),
        "redact_documented": setting(&config.redact_documented),
        "log_level": env_setting(env_vars::LOG_LEVEL, log.threshold.unwrap_or(DEFAULT_THRESHOLD).to_string()),
        "log_path": env_setting(env_vars::LOG_PATH, log.path.as_ref().map_or("stdout".to_owned(), |p| p.display().to_string())),
        "log_format": env_setting(env_vars::LOG_FORMAT, format!("{:?}", log.format).to_lowercase()),
    })
}

/// A logger setting: read from `name` when that variable is set, the default otherwise.
fn env_setting(name: &'static str, value: String) -> Json {
    let from_env = std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let source = if from_env {
        Source::Env(name)
    } else {
        Source::Default
    };
    json!({"value": value, "source": source.to_string()})
}

fn add_spool(status: &mut Json, config: &TelemetryConfig) -> Result<()> {
    let segments = spool::segments(&config.dir())?;
    let sealed = segments.iter().filter(|s| !s.open).count();
    status["pending_events"] = json!(segments.iter().map(|s| s.events).sum::<u64>());
    status["pending_batches"] = json!(sealed);
    status["open_batches"] = json!(segments.len() - sealed);
    status["rejected_batches"] = json!(0);
    status["dropped_events"] = json!(metrics::refused_events(config));
    status["torn_lines"] = json!(segments.iter().map(|s| s.torn).sum::<u64>());
    status["spool_bytes"] = json!(segments.iter().map(|s| s.bytes).sum::<u64>());
    if let Some(identity) = metrics::current_identity(config) {
        status["anon_id"] = json!(identity.anon_id);
        status["anon_id_rotates_at"] = json!(rfc3339_millis(identity.rotates_at_ms));
    }
    Ok(())
}

fn write_human(out: &mut impl Write, s: &Json) -> std::io::Result<()> {
    let text = |v: &Json| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let on = if s["enabled"] == true {
        "enabled"
    } else {
        "disabled"
    };
    writeln!(out, "Telemetry:   {on} ({})", text(&s["decided_by"]))?;
    if let Some(err) = s["config_error"].as_str() {
        writeln!(out, "Config:      ERROR: {err}")?;
        writeln!(
            out,
            "             telemetry is disabled for host commands until this is fixed"
        )?;
        return Ok(());
    }
    let present = if s["config_file_present"] == true {
        "present"
    } else {
        "absent: defaults apply"
    };
    writeln!(out, "Folder:      {}", text(&s["dir"]))?;
    writeln!(out, "Config file: {} ({present})", text(&s["config_file"]))?;
    writeln!(out, "Forwarding:  {}", text(&s["forwarding"]))?;
    write_spool(out, s)?;
    let extra = s["redaction"]["extra_keys"].as_array().map_or(0, Vec::len);
    writeln!(
        out,
        "Redaction:   {} default keys + {extra} added {} (override documented: {})",
        DEFAULT_REDACT_KEYS.len(),
        s["redaction"]["extra_keys"],
        if s["redaction"]["documented"] == true {
            "yes"
        } else {
            "no"
        }
    )?;
    writeln!(out, "Logs:        {}", text(&s["log_destination"]))?;
    writeln!(out, "Settings:")?;
    if let Some(map) = s["settings"].as_object() {
        for (name, setting) in map {
            writeln!(
                out,
                "  {name:<20} {:<40} {}",
                setting["value"].to_string(),
                text(&setting["source"])
            )?;
        }
    }
    Ok(())
}

fn write_spool(out: &mut impl Write, s: &Json) -> std::io::Result<()> {
    if s["enabled"] != true {
        return writeln!(out, "Spool:       not read while telemetry is disabled");
    }
    let n = |key: &str| s[key].as_u64().unwrap_or(0);
    writeln!(
        out,
        "Spool:       {} events in {} batches ({} being written), {} of {}",
        n("pending_events"),
        n("pending_batches") + n("open_batches"),
        n("open_batches"),
        human_bytes(n("spool_bytes")),
        human_bytes(n("max_spool_bytes")),
    )?;
    writeln!(
        out,
        "             {} torn lines kept, {} events refused at the cap",
        n("torn_lines"),
        n("dropped_events")
    )?;
    match s["anon_id"].as_str() {
        Some(id) => writeln!(
            out,
            "Identity:    anon_id {id}, rotates at {}",
            s["anon_id_rotates_at"].as_str().unwrap_or("?")
        ),
        None => writeln!(out, "Identity:    none yet (made with the first event)"),
    }
}
