//! From spool lines to a request body: OTLP/HTTP protobuf, OTLP/JSON, or the NDJSON lines as
//! they are; then gzip.
//!
//! The OTLP mapping (SPEC §3): one `ResourceLogs` per distinct resource (`service.name`
//! `codemachine`, `service.version` = the event's `cli_version`, `os.type`, `host.arch`,
//! `codemachine.anon_id`), one scope `codemachine.telemetry`, one `LogRecord` per event with
//! `time_unix_nano` from its `ts`, `event_name` `codemachine.command` or `codemachine.feature`
//! and the attributes `codemachine.record_id`, `codemachine.name`, `codemachine.duration_ms`,
//! `codemachine.exit_code` (when the event has them), `codemachine.count`,
//! `codemachine.session_id`. Protobuf uses the official generated messages; JSON is written by
//! hand to the OTLP JSON rules (lowerCamelCase names, 64-bit integers as strings) and checked
//! against the official decoder in the tests.
//!
//! A line that is not an event of a known schema (a torn last line, a foreign line) is never
//! sent: it is skipped and its index reported, so the caller decides what to keep.

use std::io::Write as _;

use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

use super::config::{Compression, Protocol};
use crate::log::json::write_str;
use crate::metrics::{Event, EventKind, MAX_NAME_LEN};

/// The instrumentation scope of every record.
pub const SCOPE_NAME: &str = "codemachine.telemetry";
/// `service.name` of every resource.
pub const SERVICE_NAME: &str = "codemachine";

/// Spool lines read as events, ready to be encoded whole or in parts.
#[derive(Debug, Clone)]
pub struct ParsedBatch<'a> {
    /// `(index of the line in the batch, the line without its newline, the event)`.
    pub events: Vec<(usize, &'a str, Event)>,
    /// Indexes of lines that are not events and will not be sent.
    pub skipped: Vec<usize>,
}

impl<'a> ParsedBatch<'a> {
    /// Reads each line (trailing `\n` or `\r\n` ignored; blank lines skipped without being
    /// counted).
    pub fn parse<S: AsRef<str>>(lines: &'a [S]) -> ParsedBatch<'a> {
        Self::from_lines(lines.iter().map(AsRef::as_ref))
    }

    /// As [`ParsedBatch::parse`], from any iterator of lines.
    pub fn from_lines(lines: impl IntoIterator<Item = &'a str>) -> ParsedBatch<'a> {
        let mut events = Vec::new();
        let mut skipped = Vec::new();
        for (index, line) in lines.into_iter().enumerate() {
            let line = line.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                continue;
            }
            match Event::parse(line).filter(|e| is_identifier(&e.name)) {
                Some(event) => events.push((index, line, event)),
                None => skipped.push(index),
            }
        }
        ParsedBatch { events, skipped }
    }
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The bytes to send (compressed when `content_encoding` says so).
    pub bytes: Vec<u8>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Content-Encoding`, when compressed.
    pub content_encoding: Option<&'static str>,
    /// Events in it.
    pub events: usize,
}

/// Encodes events for `protocol` and compresses the result.
pub fn encode(
    protocol: Protocol,
    compression: Compression,
    events: &[(usize, &str, Event)],
) -> Body {
    let raw = encode_uncompressed(protocol, events);
    let (bytes, content_encoding) = match compression {
        Compression::Gzip => (gzip(&raw), Some("gzip")),
        Compression::None => (raw, None),
    };
    Body {
        bytes,
        content_type: protocol.content_type(),
        content_encoding,
        events: events.len(),
    }
}

/// The body before compression: what a dry run shows.
pub fn encode_uncompressed(protocol: Protocol, events: &[(usize, &str, Event)]) -> Vec<u8> {
    match protocol {
        Protocol::Otlp => to_otlp(events.iter().map(|(_, _, e)| e)).encode_to_vec(),
        Protocol::OtlpJson => to_otlp_json(events.iter().map(|(_, _, e)| e)),
        Protocol::Ndjson => {
            let mut out = Vec::with_capacity(events.iter().map(|(_, l, _)| l.len() + 1).sum());
            for (_, line, _) in events {
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            out
        }
    }
}

/// gzip at the fastest level: on these repetitive bodies it still shrinks them ~10×, at several
/// times the speed of the default level.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The OTLP request for these events, with the official generated messages.
pub fn to_otlp<'e>(events: impl IntoIterator<Item = &'e Event>) -> ExportLogsServiceRequest {
    let mut resource_logs: Vec<ResourceLogs> = Vec::new();
    let mut keys: Vec<ResourceKey<'e>> = Vec::new();
    for event in events {
        let key = ResourceKey::of(event);
        let slot = match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                keys.push(key);
                resource_logs.push(new_resource_logs(event));
                resource_logs.len() - 1
            }
        };
        resource_logs[slot].scope_logs[0]
            .log_records
            .push(log_record(event));
    }
    ExportLogsServiceRequest { resource_logs }
}

/// What makes two events share a `ResourceLogs`.
#[derive(PartialEq, Eq)]
struct ResourceKey<'e> {
    anon_id: &'e str,
    version: &'e str,
    os: &'e str,
    arch: &'e str,
}

impl<'e> ResourceKey<'e> {
    fn of(e: &'e Event) -> Self {
        ResourceKey {
            anon_id: &e.anon_id,
            version: &e.cli_version,
            os: &e.os,
            arch: &e.arch,
        }
    }

    fn attributes(&self) -> [(&'static str, &'e str); 5] {
        [
            ("service.name", SERVICE_NAME),
            ("service.version", self.version),
            ("os.type", self.os),
            ("host.arch", self.arch),
            ("codemachine.anon_id", self.anon_id),
        ]
    }
}

fn new_resource_logs(event: &Event) -> ResourceLogs {
    let attributes = ResourceKey::of(event)
        .attributes()
        .into_iter()
        .map(|(k, v)| string_kv(k, v))
        .collect();
    ResourceLogs {
        resource: Some(Resource {
            attributes,
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }),
            log_records: Vec::new(),
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}

/// The record's attributes, in the documented order; absent values left out.
fn record_attributes(e: &Event) -> impl Iterator<Item = (&'static str, Attr<'_>)> {
    [
        Some(("codemachine.record_id", Attr::Str(&e.id))),
        Some(("codemachine.name", Attr::Str(&e.name))),
        e.duration_ms
            .map(|d| ("codemachine.duration_ms", Attr::Int(saturating_i64(d)))),
        e.exit_code.map(|c| ("codemachine.exit_code", Attr::Int(c))),
        Some(("codemachine.count", Attr::Int(saturating_i64(e.count)))),
        Some(("codemachine.session_id", Attr::Str(&e.session_id))),
    ]
    .into_iter()
    .flatten()
}

enum Attr<'e> {
    Str(&'e str),
    Int(i64),
}

fn log_record(e: &Event) -> LogRecord {
    // Sized once: `flatten` gives no useful size hint, and regrowing costs two allocations a
    // record.
    let mut attributes = Vec::with_capacity(6);
    attributes.extend(record_attributes(e).map(|(key, value)| match value {
        Attr::Str(s) => string_kv(key, s),
        Attr::Int(n) => KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(n)),
            }),
            ..Default::default()
        },
    }));
    LogRecord {
        time_unix_nano: event_time_nanos(e),
        event_name: event_name(e.kind).into(),
        attributes,
        ..Default::default()
    }
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// `codemachine.command` or `codemachine.feature`.
pub fn event_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Command => "codemachine.command",
        EventKind::Feature => "codemachine.feature",
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The event's time in Unix nanoseconds: its `ts`, else the time in its id, else 0 (unknown,
/// as OTLP defines it).
pub fn event_time_nanos(e: &Event) -> u64 {
    parse_rfc3339_nanos(&e.ts)
        .or_else(|| e.time_ms().map(|ms| ms.saturating_mul(1_000_000)))
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (UTC only, as events are written) in Unix nanoseconds.
pub fn parse_rfc3339_nanos(ts: &str) -> Option<u64> {
    let b = ts.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || !matches!(b[b.len() - 1], b'Z' | b'z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = std::str::from_utf8(b.get(r)?).ok()?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if year < 1970 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction = &b[19..b.len() - 1];
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..20 + digits.len())?;
            n * 10u64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Howard Hinnant's `days_from_civil`, for dates from 1970.
pub(crate) fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_identifier(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME_LEN
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b':' | b'-')
        })
}

/// The OTLP/JSON form of [`to_otlp`]: lowerCamelCase field names, 64-bit integers as decimal
/// strings, default values left out.
pub fn to_otlp_json<'e>(events: impl IntoIterator<Item = &'e Event>) -> Vec<u8> {
    let mut groups: Vec<(ResourceKey<'e>, Vec<&'e Event>)> = Vec::new();
    for event in events {
        let key = ResourceKey::of(event);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(event),
            None => groups.push((key, vec![event])),
        }
    }
    let mut out = Vec::with_capacity(64 + groups.iter().map(|(_, l)| l.len() * 420).sum::<usize>());
    out.extend_from_slice(b"{\"resourceLogs\":[");
    for (g, (key, list)) in groups.iter().enumerate() {
        if g > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"resource\":{\"attributes\":[");
        for (i, (k, v)) in key.attributes().into_iter().enumerate() {
            json_attr(&mut out, i, k, Attr::Str(v));
        }
        out.extend_from_slice(b"]},\"scopeLogs\":[{\"scope\":{\"name\":");
        write_str(&mut out, SCOPE_NAME);
        out.extend_from_slice(b",\"version\":");
        write_str(&mut out, env!("CARGO_PKG_VERSION"));
        out.extend_from_slice(b"},\"logRecords\":[");
        for (r, e) in list.iter().enumerate() {
            if r > 0 {
                out.push(b',');
            }
            json_record(&mut out, e);
        }
        out.extend_from_slice(b"]}]}");
    }
    out.extend_from_slice(b"]}");
    out
}

fn json_record(out: &mut Vec<u8>, e: &Event) {
    out.extend_from_slice(b"{\"timeUnixNano\":\"");
    out.extend_from_slice(itoa::Buffer::new().format(event_time_nanos(e)).as_bytes());
    out.extend_from_slice(b"\",\"eventName\":");
    write_str(out, event_name(e.kind));
    out.extend_from_slice(b",\"attributes\":[");
    for (i, (key, value)) in record_attributes(e).enumerate() {
        json_attr(out, i, key, value);
    }
    out.extend_from_slice(b"]}");
}

fn json_attr(out: &mut Vec<u8>, index: usize, key: &str, value: Attr<'_>) {
    if index > 0 {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"key\":");
    write_str(out, key);
    match value {
        Attr::Str(s) => {
            out.extend_from_slice(b",\"value\":{\"stringValue\":");
            write_str(out, s);
        }
        Attr::Int(n) => {
            out.extend_from_slice(b",\"value\":{\"intValue\":\"");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.push(b'"');
        }
    }
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;

    pub(crate) fn line(id: &str, kind: &str, name: &str, anon: &str, extra: &str) -> String {
        format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"2026-11-27T22:00:32.123Z\",\"kind\":\"{kind}\",\"name\":\"{name}\",{extra}\"count\":1,\"session_id\":\"{}\",\"anon_id\":\"{anon}\",\"cli_version\":\"1.2.3\",\"os\":\"linux\",\"arch\":\"x86_64\"}}",
            "5".repeat(32)
        )
    }

    fn attrs(r: &LogRecord) -> Vec<(String, V)> {
        r.attributes
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap().value.unwrap()))
            .collect()
    }

    #[test]
    fn maps_events_to_otlp_as_the_spec_says() {
        let a = line(
            &"1".repeat(32),
            "command",
            "logs.pretty",
            &"a".repeat(32),
            "\"duration_ms\":12,\"exit_code\":-1,",
        );
        let b = line(&"2".repeat(32), "feature", "x", &"b".repeat(32), "");
        let c = line(&"3".repeat(32), "feature", "y", &"a".repeat(32), "");
        let lines = [a.as_str(), "{\"torn", b.as_str(), "", c.as_str()];
        let batch = ParsedBatch::parse(&lines);
        assert_eq!(batch.skipped, [1]);
        let req = to_otlp(batch.events.iter().map(|(_, _, e)| e));
        assert_eq!(req.resource_logs.len(), 2, "one ResourceLogs per anon_id");
        let res = &req.resource_logs[0];
        let res_attrs: Vec<_> = res
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .map(|kv| {
                let Some(V::StringValue(s)) = kv.value.clone().unwrap().value else {
                    panic!()
                };
                (kv.key.clone(), s)
            })
            .collect();
        assert_eq!(
            res_attrs,
            [
                ("service.name".to_owned(), "codemachine".to_owned()),
                ("service.version".into(), "1.2.3".into()),
                ("os.type".into(), "linux".into()),
                ("host.arch".into(), "x86_64".into()),
                ("codemachine.anon_id".into(), "a".repeat(32)),
            ]
        );
        let scope = &res.scope_logs[0];
        assert_eq!(scope.scope.as_ref().unwrap().name, "codemachine.telemetry");
        assert_eq!(scope.log_records.len(), 2);
        let r = &scope.log_records[0];
        assert_eq!(r.time_unix_nano, 1_795_816_832_123_000_000);
        assert_eq!(r.event_name, "codemachine.command");
        assert_eq!(
            attrs(r),
            [
                (
                    "codemachine.record_id".to_owned(),
                    V::StringValue("1".repeat(32))
                ),
                (
                    "codemachine.name".into(),
                    V::StringValue("logs.pretty".into())
                ),
                ("codemachine.duration_ms".into(), V::IntValue(12)),
                ("codemachine.exit_code".into(), V::IntValue(-1)),
                ("codemachine.count".into(), V::IntValue(1)),
                (
                    "codemachine.session_id".into(),
                    V::StringValue("5".repeat(32))
                ),
            ]
        );
        let f = &scope.log_records[1];
        assert_eq!(f.event_name, "codemachine.feature");
        assert_eq!(attrs(f).len(), 4, "no duration or exit code for a feature");
    }

    #[test]
    fn protobuf_round_trips_through_the_official_messages() {
        let a = line(
            &"1".repeat(32),
            "command",
            "log",
            &"a".repeat(32),
            "\"duration_ms\":18446744073709551615,\"exit_code\":0,",
        );
        let lines = [a.as_str()];
        let batch = ParsedBatch::parse(&lines);
        let bytes = encode_uncompressed(Protocol::Otlp, &batch.events);
        let decoded = ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded, to_otlp(batch.events.iter().map(|(_, _, e)| e)));
        let r = &decoded.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(
            attrs(r)[2].1,
            V::IntValue(i64::MAX),
            "a u64 beyond i64 saturates"
        );
    }

    #[test]
    fn ndjson_sends_the_event_lines_verbatim_and_gzip_decodes_back() {
        let a = line(&"1".repeat(32), "command", "log", &"a".repeat(32), "");
        let crlf = format!("{a}\r\n");
        let lines = [crlf.as_str(), "garbage"];
        let batch = ParsedBatch::parse(&lines);
        let body = encode(Protocol::Ndjson, Compression::Gzip, &batch.events);
        assert_eq!(
            (body.content_type, body.content_encoding),
            ("application/x-ndjson", Some("gzip"))
        );
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(body.bytes.as_slice()),
            &mut plain,
        )
        .unwrap();
        assert_eq!(plain, format!("{a}\n").into_bytes());
        assert_eq!(batch.skipped, [1]);
    }

    #[test]
    fn json_is_well_formed_camel_case_with_64_bit_integers_as_strings() {
        let a = line(
            &"1".repeat(32),
            "command",
            "log",
            &"a".repeat(32),
            "\"duration_ms\":7,\"exit_code\":2,",
        );
        let b = line(&"2".repeat(32), "feature", "x", &"b".repeat(32), "");
        let lines = [a.as_str(), b.as_str()];
        let batch = ParsedBatch::parse(&lines);
        let json: serde_json::Value =
            serde_json::from_slice(&encode_uncompressed(Protocol::OtlpJson, &batch.events))
                .unwrap();
        let rec = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(rec["timeUnixNano"], "1795816832123000000");
        assert_eq!(rec["eventName"], "codemachine.command");
        assert_eq!(rec["attributes"][2]["key"], "codemachine.duration_ms");
        assert_eq!(rec["attributes"][2]["value"]["intValue"], "7");
        assert_eq!(
            json["resourceLogs"][1]["resource"]["attributes"][4]["value"]["stringValue"],
            "b".repeat(32)
        );
        assert_eq!(
            json["resourceLogs"][0]["scopeLogs"][0]["scope"]["name"],
            "codemachine.telemetry"
        );
    }

    #[test]
    fn timestamps_parse_to_nanoseconds() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nanos("2000-02-29T00:00:00.000Z"),
            Some(951_782_400_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_nanos("2026-11-27T22:00:32.123456789Z"),
            Some(1_795_816_832_123_456_789)
        );
        for bad in [
            "",
            "2026-11-27",
            "2026-11-27T22:00:32+01:00",
            "2026-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-27T22:00:32.Z",
            "2026-11-27T2x:00:32Z",
            "2026-11-27T22:00:32.1234567891Z",
        ] {
            assert_eq!(parse_rfc3339_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_that_are_not_identifiers_are_never_sent() {
        let bad = line(&"1".repeat(32), "command", "Has Space", &"a".repeat(32), "");
        let lines = [bad.as_str()];
        let batch = ParsedBatch::parse(&lines);
        assert!(batch.events.is_empty());
        assert_eq!(batch.skipped, [0]);
    }
}
