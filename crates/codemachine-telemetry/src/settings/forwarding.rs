//! Forwarding settings: the collector's endpoint and how to reach it, from every layer.
//!
//! Order for each value: `TELEMETRY_*` environment > config file (`[forward]`) >
//! `OTEL_EXPORTER_OTLP_LOGS_*` > `OTEL_EXPORTER_OTLP_*`. The `OTEL_*` values apply only when the
//! OTEL endpoint (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT`) names
//! the same origin as ours: a user's vendor key in `OTEL_EXPORTER_OTLP_HEADERS` never goes to our
//! collector, and an OTEL endpoint alone never turns forwarding on. Every value is checked by
//! [`ForwardConfig::builder`]; one that cannot be used is a problem that keeps the events local
//! (never a reason to send somewhere else or without the settings the operator wrote).

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use super::env::Environment;
use super::file::FileLayer;
use super::values::parse_size;
use super::{Effect, Problem, Setting, Source};
use crate::env_vars as ev;
use crate::forward::{
    Compression, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_EVENTS, DEFAULT_TIMEOUT, ForwardConfig,
    Headers, Protocol, parse_timeout_ms, same_origin,
};

/// Where events go.
#[derive(Clone, Debug)]
pub enum Forwarding {
    /// No endpoint is configured: events stay on this machine, and no connection is ever made.
    Local,
    /// Events are forwarded with these settings.
    Ready(Box<ForwardConfig>),
    /// An endpoint is configured but a setting cannot be used: events stay local until it is
    /// fixed (see the settings' problems).
    Invalid {
        /// The endpoint as configured, credentials masked when it parses at all.
        endpoint: String,
    },
    /// The machine policy does not allow the configured endpoint: events stay local.
    Refused {
        /// The endpoint as configured, masked.
        endpoint: String,
        /// Why (which policy, what it allows).
        reason: String,
    },
}

/// The forwarding part of the settings, with each value's source for `status`.
#[derive(Clone, Debug)]
pub struct ForwardSettings {
    forwarding: Forwarding,
    rows: Vec<(&'static str, Json, Source)>,
}

impl ForwardSettings {
    /// Stops forwarding unless the configured endpoint is the one the machine policy allows
    /// (`allowed`: `Ok(None)` when no policy restricts it, `Err` when policies conflict).
    pub(super) fn enforce_policy(
        &mut self,
        allowed: Result<Option<(&str, &std::path::Path)>, String>,
        problems: &mut Vec<Problem>,
    ) {
        let Forwarding::Ready(config) = &self.forwarding else {
            return;
        };
        let reason = match allowed {
            Ok(None) => return,
            Err(conflict) => format!("{conflict}: forwarding stops"),
            Ok(Some((endpoint, file))) => {
                let same = ForwardConfig::builder(endpoint.trim())
                    .protocol(config.protocol())
                    .build()
                    .is_ok_and(|allowed| allowed.request_url().same_request(config.request_url()));
                if same {
                    return;
                }
                format!(
                    "the machine policy {} allows only {}: forwarding to {} stops",
                    file.display(),
                    masked_endpoint(endpoint),
                    config.endpoint_masked()
                )
            }
        };
        problems.push(Problem::new(
            "machine policy",
            reason.clone(),
            Effect::ForwardingOff,
        ));
        let endpoint = config.endpoint_masked();
        self.forwarding = Forwarding::Refused { endpoint, reason };
    }

    /// Stops forwarding because the machine policy allows none (`telemetry = "local"` or
    /// `"off"`): nothing is sent while it is in force, not even what was recorded before it, and
    /// not what is held locally (`flush --include-local`). No endpoint: nothing to stop.
    pub(super) fn refuse_by_policy(&mut self, reason: String) {
        let endpoint = match &self.forwarding {
            Forwarding::Ready(config) => config.endpoint_masked(),
            Forwarding::Invalid { endpoint } | Forwarding::Refused { endpoint, .. } => {
                endpoint.clone()
            }
            Forwarding::Local => return,
        };
        self.forwarding = Forwarding::Refused { endpoint, reason };
    }

    /// No endpoint: events stay local.
    pub(super) fn local() -> ForwardSettings {
        ForwardSettings {
            forwarding: Forwarding::Local,
            rows: vec![("endpoint", Json::Null, Source::Default)],
        }
    }

    /// Where events go.
    pub fn forwarding(&self) -> &Forwarding {
        &self.forwarding
    }

    /// The settings' values (secrets masked) and sources, for `status`.
    pub fn rows(&self) -> &[(&'static str, Json, Source)] {
        &self.rows
    }
}

/// A value and its source, before it is checked.
struct Raw {
    text: String,
    source: Source,
    subject: String,
}

struct Layers<'a> {
    env: &'a Environment,
    file: Option<&'a FileLayer>,
    file_path: String,
    /// True when the OTEL endpoint names our endpoint's origin.
    otel_applies: bool,
}

impl Layers<'_> {
    /// The first layer that has a value for this setting.
    fn pick(
        &self,
        env: &'static str,
        file_key: &str,
        otel: Option<(&'static str, &'static str)>,
    ) -> Option<Raw> {
        if let Some(text) = self.env.text(env) {
            return Some(Raw {
                text,
                source: Source::Env(env),
                subject: env.to_owned(),
            });
        }
        if let Some(value) = self
            .file
            .and_then(|f| f.forward.iter().find(|v| v.key == file_key))
        {
            let subject = format!("{}:{}: forward.{file_key}", self.file_path, value.line);
            return Some(Raw {
                text: value.text.clone(),
                source: Source::ConfigFile,
                subject,
            });
        }
        let (logs, general) = otel.filter(|_| self.otel_applies)?;
        [logs, general].into_iter().find_map(|name| {
            let text = self.env.text(name)?;
            Some(Raw {
                text,
                source: Source::Env(name),
                subject: name.to_owned(),
            })
        })
    }
}

/// Resolves the forwarding settings; unusable values are added to `problems`.
pub(super) fn resolve(
    env: &Environment,
    file: Option<&FileLayer>,
    file_path: String,
    problems: &mut Vec<Problem>,
) -> ForwardSettings {
    let endpoint = Layers {
        env,
        file,
        file_path: file_path.clone(),
        otel_applies: false,
    }
    .pick(ev::TELEMETRY_ENDPOINT, "endpoint", None);
    let Some(endpoint) = endpoint else {
        return ForwardSettings::local();
    };
    let otel_endpoint = env
        .text(ev::OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)
        .or_else(|| env.text(ev::OTEL_EXPORTER_OTLP_ENDPOINT));
    let layers = Layers {
        env,
        file,
        file_path,
        otel_applies: otel_endpoint.is_some_and(|o| same_origin(o.trim(), endpoint.text.trim())),
    };
    let mut resolver = Resolver {
        layers: &layers,
        problems,
        rows: Vec::new(),
        failed: false,
    };
    let config = resolver.config(&endpoint);
    let rows = resolver.rows;
    let forwarding = match config {
        Some(config) => Forwarding::Ready(Box::new(config)),
        None => Forwarding::Invalid {
            endpoint: masked_endpoint(&endpoint.text),
        },
    };
    ForwardSettings { forwarding, rows }
}

/// The endpoint as shown when it cannot be used: credentials (anything before an `@`) masked.
fn masked_endpoint(text: &str) -> String {
    let text = text.trim();
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***@{}", &text[..scheme_end + 3], &text[at + 1..])
        }
        _ => text.to_owned(),
    }
}

struct Resolver<'a, 'p> {
    layers: &'a Layers<'a>,
    problems: &'p mut Vec<Problem>,
    rows: Vec<(&'static str, Json, Source)>,
    failed: bool,
}

impl Resolver<'_, '_> {
    fn problem(&mut self, subject: String, message: String) {
        self.failed = true;
        self.problems
            .push(Problem::new(subject, message, Effect::ForwardingOff));
    }

    /// A setting parsed with `parse`, or its default (a value that cannot be parsed is a problem).
    fn setting<T>(
        &mut self,
        (env, key, otel): (
            &'static str,
            &'static str,
            Option<(&'static str, &'static str)>,
        ),
        parse: impl Fn(&str) -> Result<T, String>,
        default: T,
    ) -> Setting<T> {
        let Some(raw) = self.layers.pick(env, key, otel) else {
            return Setting::new(default, Source::Default);
        };
        match parse(&raw.text) {
            Ok(value) => Setting::new(value, raw.source),
            Err(reason) => {
                self.problem(raw.subject, reason);
                Setting::new(default, raw.source)
            }
        }
    }

    fn config(&mut self, endpoint: &Raw) -> Option<ForwardConfig> {
        let protocol = self.setting(
            (ev::TELEMETRY_PROTOCOL, "protocol", None),
            |t| t.parse::<Protocol>().map_err(reason),
            Protocol::default(),
        );
        let headers = self.setting(
            (
                ev::TELEMETRY_HEADERS,
                "headers",
                Some((
                    ev::OTEL_EXPORTER_OTLP_LOGS_HEADERS,
                    ev::OTEL_EXPORTER_OTLP_HEADERS,
                )),
            ),
            |t| Headers::parse(t).map_err(reason),
            Headers::new(),
        );
        let timeout = self.setting(
            (
                ev::TELEMETRY_TIMEOUT_MS,
                "timeout_ms",
                Some((
                    ev::OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
                    ev::OTEL_EXPORTER_OTLP_TIMEOUT,
                )),
            ),
            |t| parse_timeout_ms(t).map_err(reason),
            DEFAULT_TIMEOUT,
        );
        let ca_file = self.setting(
            (
                ev::TELEMETRY_CA_FILE,
                "ca_file",
                Some((
                    ev::OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
                    ev::OTEL_EXPORTER_OTLP_CERTIFICATE,
                )),
            ),
            |t| Ok(Some(PathBuf::from(t.trim()))),
            None,
        );
        let compression = self.setting(
            (
                ev::TELEMETRY_COMPRESSION,
                "compression",
                Some((
                    ev::OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
                    ev::OTEL_EXPORTER_OTLP_COMPRESSION,
                )),
            ),
            |t| t.parse::<Compression>().map_err(reason),
            Compression::default(),
        );
        let max_bytes = self.setting(
            (ev::TELEMETRY_BATCH_MAX_BYTES, "batch_max_bytes", None),
            |t| parse_size(t).and_then(|n| usize::try_from(n).map_err(|_| "too large".to_owned())),
            DEFAULT_MAX_BATCH_BYTES,
        );
        let max_events = self.setting(
            (ev::TELEMETRY_BATCH_MAX_EVENTS, "batch_max_events", None),
            parse_count,
            DEFAULT_MAX_BATCH_EVENTS,
        );
        let env = self.layers.env;
        let proxy = env
            .text(ev::HTTPS_PROXY)
            .or_else(|| env.text(ev::HTTPS_PROXY_LOWER));
        let no_proxy = env
            .text(ev::NO_PROXY)
            .or_else(|| env.text(ev::NO_PROXY_LOWER));
        let mut builder = ForwardConfig::builder(endpoint.text.trim())
            .protocol(*protocol.value())
            .headers(headers.value().clone())
            .timeout(*timeout.value())
            .compression(*compression.value())
            .max_batch_bytes(*max_bytes.value())
            .max_batch_events(*max_events.value());
        if let Some(path) = ca_file.value() {
            builder = builder.ca_file(path.clone());
        }
        if let Some(proxy) = &proxy {
            builder = builder.https_proxy(proxy.clone());
        }
        if let Some(list) = &no_proxy {
            builder = builder.no_proxy(list.clone());
        }
        let built = builder.build();
        let shown = match &built {
            Ok(config) => json!(config.endpoint_masked()),
            Err(_) => json!(masked_endpoint(&endpoint.text)),
        };
        self.rows = vec![
            ("endpoint", shown, endpoint.source),
            (
                "protocol",
                json!(protocol.value().as_str()),
                protocol.source(),
            ),
            ("headers", json!(headers.value().masked()), headers.source()),
            (
                "timeout_ms",
                json!(timeout.value().as_millis() as u64),
                timeout.source(),
            ),
            ("ca_file", json!(ca_file.value()), ca_file.source()),
            (
                "compression",
                json!(compression.value().as_str()),
                compression.source(),
            ),
            (
                "batch_max_bytes",
                json!(max_bytes.value()),
                max_bytes.source(),
            ),
            (
                "batch_max_events",
                json!(max_events.value()),
                max_events.source(),
            ),
        ];
        if let Ok(config) = &built {
            let proxy = config.proxy_masked();
            let source = if env.text(ev::HTTPS_PROXY).is_some() {
                ev::HTTPS_PROXY
            } else {
                ev::HTTPS_PROXY_LOWER
            };
            if let Some(proxy) = proxy {
                self.rows
                    .push(("https_proxy", json!(proxy), Source::Env(source)));
            }
        }
        match built {
            Ok(config) if !self.failed => Some(config),
            Ok(_) => None,
            Err(e) => {
                self.problem(endpoint.subject.clone(), reason(e));
                None
            }
        }
    }
}

fn reason(e: crate::forward::ForwardError) -> String {
    let text = e.to_string();
    // "invalid TELEMETRY_X: reason" — the subject already names the setting.
    match text.split_once(": ") {
        Some((head, rest)) if head.starts_with("invalid ") => rest.to_owned(),
        _ => text,
    }
}

fn parse_count(text: &str) -> Result<usize, String> {
    let t = text.trim();
    match t.parse::<usize>() {
        Ok(n) if n >= 1 && t.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!(
            "{} is not a whole number of events, 1 or more",
            crate::terminal::shown_value(t)
        )),
    }
}
