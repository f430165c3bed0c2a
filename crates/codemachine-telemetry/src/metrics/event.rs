//! The event: one JSON object a line, schema version 1 (published in `docs/events.md` and
//! `docs/event.schema.json`).
//!
//! There is no free-text field: `name` is an identifier, everything else is a number or a value
//! this library generates. Arguments, paths and file contents cannot enter an event.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::log::json::{write_str, write_u64};
use crate::redact::Redactor;
use crate::time::write_rfc3339_millis;

/// The version of the event format written in every event's `schema`.
pub const SCHEMA_VERSION: u64 = 1;
/// Every key an event line may hold, in the order they are written (the published schema's
/// `properties`, checked by a test).
pub const EVENT_KEYS: [&str; 13] = [
    "schema",
    "id",
    "ts",
    "kind",
    "name",
    "duration_ms",
    "exit_code",
    "count",
    "session_id",
    "anon_id",
    "cli_version",
    "os",
    "arch",
];
/// The longest event name.
pub const MAX_NAME_LEN: usize = 64;

/// What an event counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A command ran (with its duration and exit code).
    Command,
    /// A feature was used (`count` times).
    Feature,
}

impl EventKind {
    /// `command` or `feature`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Command => "command",
            EventKind::Feature => "feature",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded event, as stored in the spool.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// [`SCHEMA_VERSION`].
    pub schema: u64,
    /// Unique id (32 hex digits, time-ordered).
    pub id: String,
    /// When it was recorded: RFC 3339, UTC, milliseconds.
    pub ts: String,
    /// `command` or `feature`.
    pub kind: EventKind,
    /// The command or feature, an identifier.
    pub name: String,
    /// How long the command took, in milliseconds.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// The command's exit code.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// How many times (1 for a command).
    pub count: u64,
    /// Random per process.
    pub session_id: String,
    /// Keyed hash of the machine fingerprint under the current salt.
    pub anon_id: String,
    /// Version of the program that recorded it.
    pub cli_version: String,
    /// `linux`, `macos`, …
    pub os: String,
    /// `x86_64`, `aarch64`, …
    pub arch: String,
}

impl Event {
    /// Parses one spool line.
    pub fn parse(line: &str) -> Option<Event> {
        serde_json::from_str::<Event>(line)
            .ok()
            .filter(|e| e.schema == SCHEMA_VERSION)
    }

    /// The event's time in epoch milliseconds, read from its id.
    pub fn time_ms(&self) -> Option<u64> {
        super::ids::id_time_ms(&self.id)
    }
}

/// What the recorder writes around each event: the parts that do not change in a process.
pub(crate) struct EventContext {
    pub(crate) session_id: String,
    pub(crate) anon_id: String,
    pub(crate) cli_version: String,
}

/// An event to record, as the host program describes it.
///
/// A command event always carries its duration and exit code, a feature event a count of at
/// least one: an event that says nothing is not an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewEvent<'a> {
    /// A command ran.
    Command {
        /// The command (an identifier, see [`validate_name`]).
        name: &'a str,
        /// How long it took.
        duration_ms: u64,
        /// How it ended (101 for a panic).
        exit_code: i32,
    },
    /// A feature was used.
    Feature {
        /// The feature (an identifier).
        name: &'a str,
        /// How many times (at least 1).
        count: u64,
    },
}

impl<'a> NewEvent<'a> {
    /// The event's name.
    pub fn name(&self) -> &'a str {
        match self {
            NewEvent::Command { name, .. } | NewEvent::Feature { name, .. } => name,
        }
    }

    /// `command` or `feature`.
    pub fn kind(&self) -> EventKind {
        match self {
            NewEvent::Command { .. } => EventKind::Command,
            NewEvent::Feature { .. } => EventKind::Feature,
        }
    }

    /// Checks the name and the count (the event's only free-form parts).
    pub fn validate(&self, redactor: &Redactor) -> Result<()> {
        validate_name(self.name(), redactor)?;
        if let NewEvent::Feature { count: 0, .. } = self {
            return Err(Error::InvalidEvent {
                reason: "a feature event counts at least one use",
            });
        }
        Ok(())
    }
}

/// The variable part of an event line.
pub(crate) struct EventLine<'a> {
    pub(crate) id: &'a str,
    pub(crate) time_ms: u64,
    pub(crate) kind: EventKind,
    pub(crate) name: &'a str,
    pub(crate) duration_ms: Option<u64>,
    pub(crate) exit_code: Option<i32>,
    pub(crate) count: u64,
}

impl<'a> EventLine<'a> {
    /// The line for `event`, recorded at `time_ms` under `id`.
    pub(crate) fn new(id: &'a str, time_ms: u64, event: &NewEvent<'a>) -> Self {
        let (duration_ms, exit_code, count) = match *event {
            NewEvent::Command {
                duration_ms,
                exit_code,
                ..
            } => (Some(duration_ms), Some(exit_code), 1),
            NewEvent::Feature { count, .. } => (None, None, count),
        };
        EventLine {
            id,
            time_ms,
            kind: event.kind(),
            name: event.name(),
            duration_ms,
            exit_code,
            count,
        }
    }
}

/// Writes the event line, newline included, with keys in the documented order.
pub(crate) fn encode(buf: &mut Vec<u8>, event: &EventLine<'_>, ctx: &EventContext) {
    buf.extend_from_slice(b"{\"schema\":");
    write_u64(buf, SCHEMA_VERSION);
    buf.extend_from_slice(b",\"id\":");
    write_str(buf, event.id);
    buf.extend_from_slice(b",\"ts\":\"");
    write_rfc3339_millis(buf, event.time_ms);
    buf.push(b'"');
    buf.extend_from_slice(b",\"kind\":");
    write_str(buf, event.kind.as_str());
    buf.extend_from_slice(b",\"name\":");
    write_str(buf, event.name);
    if let Some(ms) = event.duration_ms {
        buf.extend_from_slice(b",\"duration_ms\":");
        write_u64(buf, ms);
    }
    if let Some(code) = event.exit_code {
        buf.extend_from_slice(b",\"exit_code\":");
        buf.extend_from_slice(itoa::Buffer::new().format(code).as_bytes());
    }
    buf.extend_from_slice(b",\"count\":");
    write_u64(buf, event.count);
    for (key, value) in [
        ("session_id", &ctx.session_id),
        ("anon_id", &ctx.anon_id),
        ("cli_version", &ctx.cli_version),
    ] {
        buf.push(b',');
        write_str(buf, key);
        buf.push(b':');
        write_str(buf, value);
    }
    buf.extend_from_slice(b",\"os\":");
    write_str(buf, std::env::consts::OS);
    buf.extend_from_slice(b",\"arch\":");
    write_str(buf, std::env::consts::ARCH);
    buf.extend_from_slice(b"}\n");
}

/// Checks that `name` is an identifier (`[a-z0-9][a-z0-9._:-]{0,63}`) and does not look like a
/// secret to `redactor` (an API key is a valid identifier too).
pub fn validate_name(name: &str, redactor: &Redactor) -> Result<()> {
    let bytes = name.as_bytes();
    let reason = if bytes.is_empty() {
        Some("it is empty")
    } else if bytes.len() > MAX_NAME_LEN {
        Some("it is longer than 64 characters")
    } else if !(bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit()) {
        Some("it must start with a lower-case letter or a digit")
    } else if !bytes.iter().all(|b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b':' | b'-')
    }) {
        Some("only a-z, 0-9 and . _ : - are allowed (no spaces, capitals, paths or free text)")
    } else if redactor.scrub(name) != name {
        Some("it looks like a secret")
    } else if looks_like_an_address(name) {
        Some("it looks like an IP address or a host name (personal data, never an event name)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName { reason }),
        None => Ok(()),
    }
}

/// Top-level domains that end a host name and never a feature's name.
const HOST_ENDINGS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "arpa",
    "local",
    "localdomain",
    "lan",
    "internal",
    "intranet",
    "corp",
    "home",
    "localhost",
];

/// An IPv4 address (four numbers), an IPv6 address (hexadecimal groups around `::` or seven
/// `:`), or a host name (two labels or more ending in a domain such as `com` or `internal`).
fn looks_like_an_address(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let ipv4 = labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()));
    let groups = name.split(':').count();
    let ipv6 = (name.contains("::") || groups == 8)
        && groups >= 3
        && name
            .split(':')
            .all(|g| g.len() <= 4 && g.bytes().all(|b| b.is_ascii_hexdigit()));
    let host = labels.len() >= 2 && labels.last().is_some_and(|end| HOST_ENDINGS.contains(end));
    ipv4 || ipv6 || host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_host_names_are_not_event_names() {
        let redactor = Redactor::new();
        for bad in [
            "192.168.1.10",
            "10.0.0.1",
            "fe80::1",
            "2001:db8:0:0:0:0:0:1",
            "alice.example.com",
            "build-7.corp",
            "db.internal",
            "printer.local",
        ] {
            assert!(validate_name(bad, &redactor).is_err(), "{bad}");
        }
        for good in [
            "export.csv",
            "agent.run",
            "v1.2.3",
            "step:build",
            "cache:hit:warm",
            "a:b:c",
            "run.dev",
            "1.2.3.4.5",
            "deploy.prod",
        ] {
            assert!(validate_name(good, &redactor).is_ok(), "{good}");
        }
    }

    fn ctx() -> EventContext {
        EventContext {
            session_id: "s".repeat(32),
            anon_id: "a".repeat(32),
            cli_version: "0.1.0".into(),
        }
    }

    #[test]
    fn encodes_the_documented_layout_and_parses_back() {
        let mut buf = Vec::new();
        let id = "0195f0c1a2b3".to_owned() + &"0".repeat(20);
        let event = EventLine {
            id: &id,
            time_ms: 1_795_816_832_123,
            kind: EventKind::Command,
            name: "log",
            duration_ms: Some(12),
            exit_code: Some(-1),
            count: 1,
        };
        encode(&mut buf, &event, &ctx());
        let line = String::from_utf8(buf).unwrap();
        assert!(line.starts_with(&format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"2026-11-27T22:00:32.123Z\",\"kind\":\"command\",\"name\":\"log\",\"duration_ms\":12,\"exit_code\":-1,\"count\":1,\"session_id\":"
        )));
        assert!(line.ends_with("}\n"));
        let parsed = Event::parse(line.trim_end()).unwrap();
        assert_eq!(
            (parsed.kind, parsed.exit_code, parsed.os.as_str()),
            (EventKind::Command, Some(-1), std::env::consts::OS)
        );
    }

    #[test]
    fn the_key_list_is_the_published_schemas() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../../docs/event.schema.json")).unwrap();
        let published: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(published, EVENT_KEYS);
    }

    #[test]
    fn names_must_be_identifiers_and_not_secrets() {
        let r = Redactor::new();
        for ok in [
            "log",
            "logs.pretty",
            "a",
            "feature:export-csv",
            "9lives",
            &"x".repeat(64),
        ] {
            assert!(validate_name(ok, &r).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Log",
            "-x",
            "has space",
            "/etc/passwd",
            "a\nb",
            "ünï",
            &"x".repeat(65),
            "sk-proj-abcdefghijklmnop1234",
            "token=abc",
        ] {
            assert!(validate_name(bad, &r).is_err(), "{bad}");
        }
    }
}
