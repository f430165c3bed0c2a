//! `telemetry status` as a typed value: the library works it out, the binary only renders it.
//!
//! Reading the status never creates or writes anything: with telemetry off it still reads what
//! is already in the telemetry folder (an operator asked), but a missing folder stays missing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value as Json;

use crate::log::describe_destination;
use crate::metrics::spool::{self, BatchState, Listing};
use crate::metrics::{current_identity, refused_events};
use crate::redact::DEFAULT_REDACT_KEYS;
use crate::settings::Settings;
use crate::time::rfc3339_millis;

/// Everything `status` reports. The JSON keys are the contract of `status --json` (SPEC §5).
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// True when host commands record events.
    pub enabled: bool,
    /// `off`, `local` (recorded, never forwarded) or `on`.
    pub mode: &'static str,
    /// What decided: `DO_NOT_TRACK`, `TELEMETRY_ENABLED`, `default`, `configuration error`, …
    pub decided_by: &'static str,
    /// The decision in a sentence.
    pub decision: String,
    /// How to turn telemetry on, when it is off.
    pub how_to_enable: Option<String>,
    /// The telemetry folder.
    pub dir: Option<PathBuf>,
    /// The config file, and whether it exists.
    pub config_file: Option<PathBuf>,
    /// True when the config file exists.
    pub config_file_present: bool,
    /// Everything in the configuration that cannot be used.
    pub problems: Vec<String>,
    /// The collector's endpoint (credentials masked), if one is configured.
    pub endpoint: Option<String>,
    /// `otlp`, `otlp-json` or `ndjson`, when forwarding is configured.
    pub protocol: Option<String>,
    /// What happens to events, in a sentence.
    pub forwarding: String,
    /// Why forwarding is withheld, if it is.
    pub forwarding_withheld: Option<String>,
    /// Events waiting to be forwarded (in `spool/` and `outbox/`).
    pub pending_events: u64,
    /// Batches they are in.
    pub pending_batches: u64,
    /// Of those, segments a writer still holds.
    pub open_batches: u64,
    /// Batches the collector refused, kept.
    pub rejected_batches: u64,
    /// Events in them.
    pub rejected_events: u64,
    /// Events held locally under a `local` consent (never forwarded unless asked).
    pub held_events: u64,
    /// Events refused at the size cap.
    pub refused_events: u64,
    /// Events a collector dropped in an OTLP partial success.
    pub server_rejected_events: u64,
    /// Lines that are not whole events (torn by a crash or corrupted), kept.
    pub torn_lines: u64,
    /// Bytes in the folder, counted by the cap.
    pub spool_bytes: u64,
    /// The cap.
    pub max_spool_bytes: u64,
    /// The last forwarding error, if any.
    pub last_error: Option<String>,
    /// When a batch was last delivered.
    pub last_success: Option<String>,
    /// When the next attempt is due.
    pub next_attempt: Option<String>,
    /// The default redaction keys.
    pub redact_default_keys: Vec<&'static str>,
    /// Keys added to them.
    pub redact_keys: Vec<String>,
    /// Where their addition is documented.
    pub redact_documented: Option<String>,
    /// Where log records go.
    pub log_destination: String,
    /// The current anonymous id (none before the first event).
    pub anon_id: Option<String>,
    /// When it rotates.
    pub anon_id_rotates: Option<String>,
    /// The machine policy (files and rules), when there is one.
    pub policy: Option<Json>,
    /// Entries of the telemetry folder that were skipped (not ours, links, unreadable).
    pub odd_entries: Vec<OddEntryStatus>,
    /// Every setting with its value and source.
    pub settings: BTreeMap<&'static str, SettingStatus>,
}

/// A skipped entry.
#[derive(Clone, Debug, Serialize)]
pub struct OddEntryStatus {
    /// The entry.
    pub path: PathBuf,
    /// Why it was skipped.
    pub why: String,
}

/// A setting's value and source.
#[derive(Clone, Debug, Serialize)]
pub struct SettingStatus {
    /// The effective value.
    pub value: Json,
    /// Where it came from.
    pub source: String,
}

impl Status {
    /// Works out the status under `settings`, reading (never writing) the telemetry folder.
    pub fn collect(settings: &Settings) -> Status {
        let switch = settings.switch();
        let dir = settings.dir();
        let listing = dir.as_deref().map(spool::list).unwrap_or_default();
        let mut status = Status {
            enabled: switch.enabled(),
            mode: switch.mode().as_str(),
            decided_by: switch.decided_by().key(),
            decision: switch.decided_by().to_string(),
            how_to_enable: (!switch.enabled())
                .then(|| switch.decided_by().how_to_enable())
                .flatten(),
            config_file: settings.config_file(),
            config_file_present: settings.config_file_present(),
            problems: settings
                .problems()
                .iter()
                .map(ToString::to_string)
                .collect(),
            endpoint: None,
            protocol: None,
            forwarding: "no endpoint is configured: events stay on this machine".to_owned(),
            forwarding_withheld: None,
            max_spool_bytes: *settings.max_spool_bytes().value(),
            redact_default_keys: DEFAULT_REDACT_KEYS.to_vec(),
            redact_keys: settings.redact_keys().value().clone(),
            redact_documented: settings.redact_documented().value().clone(),
            log_destination: describe_destination(settings.logger_config().path.as_deref()),
            policy: settings.policy().to_json(),
            settings: settings
                .table()
                .into_iter()
                .map(|(name, value, source)| {
                    let source = source.to_string();
                    (name, SettingStatus { value, source })
                })
                .collect(),
            ..Status::empty(dir.clone())
        };
        status.add_listing(&listing);
        if let Some(dir) = &dir {
            // The history is counted by the cap too (it never leaves the machine).
            let history = spool::Paths::new(dir).history;
            status.spool_bytes += spool::measure_dir(&history).unwrap_or(0);
        }
        #[cfg(feature = "forward")]
        status.add_forwarding(settings);
        if let Some(dir) = &dir {
            status.refused_events = refused_events(dir);
            let identity = current_identity(dir, *settings.salt_rotation_days().value());
            if let Some(identity) = identity {
                status.anon_id = Some(identity.anon_id);
                status.anon_id_rotates = Some(rfc3339_millis(identity.rotates_at_ms));
            }
        }
        status
    }

    fn empty(dir: Option<PathBuf>) -> Status {
        Status {
            enabled: false,
            mode: "off",
            decided_by: "default",
            decision: String::new(),
            how_to_enable: None,
            dir,
            config_file: None,
            config_file_present: false,
            problems: Vec::new(),
            endpoint: None,
            protocol: None,
            forwarding: String::new(),
            forwarding_withheld: None,
            pending_events: 0,
            pending_batches: 0,
            open_batches: 0,
            rejected_batches: 0,
            rejected_events: 0,
            held_events: 0,
            refused_events: 0,
            server_rejected_events: 0,
            torn_lines: 0,
            spool_bytes: 0,
            max_spool_bytes: 0,
            last_error: None,
            last_success: None,
            next_attempt: None,
            redact_default_keys: Vec::new(),
            redact_keys: Vec::new(),
            redact_documented: None,
            log_destination: String::new(),
            anon_id: None,
            anon_id_rotates: None,
            policy: None,
            odd_entries: Vec::new(),
            settings: BTreeMap::new(),
        }
    }

    fn add_listing(&mut self, listing: &Listing) {
        for batch in &listing.batches {
            self.spool_bytes += batch.bytes;
            self.torn_lines += batch.torn;
            match batch.state {
                BatchState::Spool | BatchState::Outbox => {
                    self.pending_events += batch.events;
                    self.pending_batches += 1;
                    self.open_batches += u64::from(batch.open);
                }
                BatchState::Rejected => {
                    self.rejected_batches += 1;
                    self.rejected_events += batch.events;
                }
                BatchState::Torn => {}
                BatchState::Local => self.held_events += batch.events,
            }
        }
        self.odd_entries = listing
            .odd
            .iter()
            .map(|o| OddEntryStatus {
                path: o.path.clone(),
                why: o.why.clone(),
            })
            .collect();
    }

    #[cfg(feature = "forward")]
    fn add_forwarding(&mut self, settings: &Settings) {
        use crate::sender::ForwardState;
        use crate::settings::forwarding::Forwarding;
        self.forwarding_withheld = settings.forwarding_withheld();
        let state = settings
            .dir()
            .map(|d| ForwardState::load(&crate::metrics::spool::Paths::new(&d).state))
            .unwrap_or_default();
        let time = |ms: Option<u64>| ms.map(rfc3339_millis);
        self.last_error = state.last_error.clone();
        self.last_success = time(state.last_success_ms);
        self.next_attempt = time(state.next_attempt_ms.max(state.retry_after_until_ms));
        self.server_rejected_events = state.server_rejected_events;
        self.forwarding = match settings.forwarding() {
            Forwarding::Local => return,
            Forwarding::Refused { endpoint, reason } => {
                self.endpoint = Some(endpoint.clone());
                format!("refused: {reason}; events stay on this machine")
            }
            Forwarding::Invalid { endpoint } => {
                self.endpoint = Some(endpoint.clone());
                "not possible: a forwarding setting cannot be used (see the problems); events stay on this machine".to_owned()
            }
            Forwarding::Ready(config) => {
                self.endpoint = Some(config.request_url_masked());
                self.protocol = Some(config.protocol().to_string());
                let paused = state
                    .paused
                    .as_ref()
                    .filter(|p| p.destination == config.destination_fingerprint());
                match (paused, &self.forwarding_withheld) {
                    (Some(p), _) => format!(
                        "paused since {}: {}; fix the endpoint or headers, or run telemetry flush --rejected",
                        rfc3339_millis(p.since_ms),
                        p.reason
                    ),
                    (None, Some(_)) => {
                        "withheld (see below); events stay on this machine".to_owned()
                    }
                    (None, None) if !self.enabled => {
                        "configured, but telemetry is off: nothing is sent".to_owned()
                    }
                    (None, None) if settings.switch().mode() == crate::settings::Mode::Local => {
                        "local only: nothing is sent in the background; telemetry flush sends what was recorded before, flush --include-local what is held".to_owned()
                    }
                    (None, None) => {
                        "on: batches are sent in the background after commands".to_owned()
                    }
                }
            }
        };
    }

    /// True when `status` should exit 1: the configuration has a problem that touches telemetry
    /// or redaction.
    pub fn has_error(settings: &Settings) -> bool {
        settings.has_configuration_error()
    }
}
