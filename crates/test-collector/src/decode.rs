//! Decoding what a client sent: gzip, then OTLP protobuf, OTLP/JSON (with the official
//! messages' serde support) or NDJSON, chosen by `Content-Type`.

use std::io::Read;

use flate2::read::GzDecoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

/// The most a decompressed body may hold (a bomb stops here).
const MAX_DECOMPRESSED: u64 = 256 * 1024 * 1024;

/// A request body as understood by the collector.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// An OTLP logs export (protobuf or JSON).
    Otlp(ExportLogsServiceRequest),
    /// NDJSON lines, each parsed.
    Ndjson(Vec<serde_json::Value>),
    /// No body.
    Empty,
    /// The body could not be decoded: why.
    Error(String),
}

impl Decoded {
    /// The records' `codemachine.record_id` (OTLP) or `id` (NDJSON), in order.
    pub fn record_ids(&self) -> Vec<String> {
        match self {
            Decoded::Otlp(req) => log_records(req)
                .filter_map(|r| string_attr(&r.attributes, "codemachine.record_id"))
                .collect(),
            Decoded::Ndjson(lines) => lines
                .iter()
                .filter_map(|l| l["id"].as_str().map(str::to_owned))
                .collect(),
            Decoded::Empty | Decoded::Error(_) => Vec::new(),
        }
    }

    /// How many records.
    pub fn record_count(&self) -> usize {
        match self {
            Decoded::Otlp(req) => log_records(req).count(),
            Decoded::Ndjson(lines) => lines.len(),
            Decoded::Empty | Decoded::Error(_) => 0,
        }
    }
}

/// Every log record of a request.
pub fn log_records(
    req: &ExportLogsServiceRequest,
) -> impl Iterator<Item = &opentelemetry_proto::tonic::logs::v1::LogRecord> {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
}

/// The string value of attribute `key`.
pub fn string_attr(
    attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    })
}

/// The integer value of attribute `key`.
pub fn int_attr(
    attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<i64> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::IntValue(n) => Some(*n),
            _ => None,
        }
    })
}

/// Undoes `Content-Encoding` (gzip or none).
pub fn decompress(encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>, String> {
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        None | Some("identity") => Ok(body.to_vec()),
        Some("gzip") => {
            let mut out = Vec::new();
            GzDecoder::new(body)
                .take(MAX_DECOMPRESSED)
                .read_to_end(&mut out)
                .map_err(|e| format!("gzip: {e}"))?;
            Ok(out)
        }
        Some(other) => Err(format!("unknown Content-Encoding {other}")),
    }
}

/// Decodes a (decompressed) body by its content type.
pub fn decode(content_type: Option<&str>, body: &[u8]) -> Decoded {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("protobuf") {
        return match ExportLogsServiceRequest::decode(body) {
            Ok(req) => Decoded::Otlp(req),
            Err(e) => Decoded::Error(format!("protobuf: {e}")),
        };
    }
    if body.is_empty() {
        return Decoded::Empty;
    }
    if ct.contains("ndjson") {
        let lines: Result<Vec<serde_json::Value>, _> = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(serde_json::from_slice)
            .collect();
        return match lines {
            Ok(lines) => Decoded::Ndjson(lines),
            Err(e) => Decoded::Error(format!("ndjson: {e}")),
        };
    }
    if ct.contains("json") {
        return match serde_json::from_slice::<ExportLogsServiceRequest>(body) {
            Ok(req) => Decoded::Otlp(req),
            Err(e) => Decoded::Error(format!("OTLP/JSON: {e}")),
        };
    }
    Decoded::Error(format!("unknown Content-Type {ct:?}"))
}
