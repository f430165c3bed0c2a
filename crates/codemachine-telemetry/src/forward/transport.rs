//! One HTTP request to the collector and its typed outcome: a blocking client (ureq) on rustls,
//! no async runtime, that never panics and never reads more than it must.
//!
//! What it guarantees on every request: the configured headers, `Content-Type` per protocol,
//! `Content-Encoding: gzip` when compressed, `Idempotency-Key`, `User-Agent`; certificates
//! verified against Mozilla's roots plus the extra CA file; one deadline for the whole exchange
//! (connection, TLS, upload, answer); at most [`MAX_RESPONSE_BYTES`] of an answer read; redirects
//! followed only to the same origin (so never to plain `http://` from `https://`), re-sending the
//! same body, at most [`MAX_REDIRECTS`] times. The HTTP status is returned as is — what it means
//! for the batch is [`classify`](super::classify)'s business.

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message as _;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::config::{ForwardConfig, Protocol};
use super::encode::Body;
use super::error::ForwardError;
use super::url::Url;
use crate::env_vars;

/// At most this much of an answer is read (the OTLP specification's advice); the rest is
/// dropped with the connection.
pub const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// Same-origin redirects followed for one request.
pub const MAX_REDIRECTS: usize = 3;
/// The longest server message kept from an answer, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// The collector's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header as received (at most 64 characters), if any.
    pub retry_after: Option<String>,
    /// When the answer arrived (for a `Retry-After` date).
    pub received_at: SystemTime,
    /// Events the server rejected in an OTLP partial success, clamped to the events sent.
    pub rejected: u64,
    /// The server's message (an OTLP error or partial-success message, or the start of a text
    /// answer), control characters removed, at most 200 characters.
    pub message: Option<String>,
}

impl Response {
    /// `HTTP 503` with the server's message, for `status`'s last error.
    pub fn describe(&self) -> String {
        match &self.message {
            Some(m) => format!("HTTP {}: {m}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// A client for one collector: one connection pool, the settings fixed at creation.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    config: Arc<ForwardConfig>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for these settings. Fails only when the proxy URL cannot be used.
    pub fn new(config: &ForwardConfig) -> Result<Client, ForwardError> {
        let proxy =
            match config.effective_proxy() {
                Some(p) => Some(ureq::Proxy::new(p.raw.expose()).map_err(|_| {
                    ForwardError::InvalidConfig {
                        param: env_vars::HTTPS_PROXY,
                        reason: format!("{} is not a usable proxy URL", p.url.masked()),
                    }
                })?),
                None => None,
            };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .https_only(config.request_url().scheme == "https")
            .timeout_global(Some(config.timeout()))
            .user_agent(config.user_agent())
            .proxy(proxy)
            .tls_config(tls_config(config))
            .build()
            .new_agent();
        Ok(Client {
            agent,
            config: Arc::new(config.clone()),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ForwardConfig {
        &self.config
    }

    /// POSTs `body` with `Idempotency-Key: key`. Never panics; every failure short of an HTTP
    /// status is a [`ForwardError`]. Each exchange (a followed redirect is another) has the
    /// configured timeout.
    pub fn post(&self, body: &Body, key: &str) -> Result<Response, ForwardError> {
        self.post_before(body, key, None)
    }

    /// [`Client::post`], giving up at `deadline` as well: each exchange's timeout is the shorter
    /// of the configured one and the time left (a `flush --timeout`, a sender's bounded life).
    pub fn post_before(
        &self,
        body: &Body,
        key: &str,
        deadline: Option<Instant>,
    ) -> Result<Response, ForwardError> {
        check_key(key)?;
        let mut url = self.config.request_url().clone();
        let mut last_status = 0;
        for _ in 0..=MAX_REDIRECTS {
            let timeout = self.timeout_before(deadline)?;
            let (response, location) = self.post_once(&url, body, key, timeout)?;
            let Some(location) = location else {
                return Ok(response);
            };
            last_status = response.status;
            url = self.follow(&url, response.status, &location)?;
        }
        Err(ForwardError::Redirect {
            status: last_status,
            location: url.masked(),
            reason: "too many redirects",
        })
    }

    /// The configured timeout, shortened to what is left before `deadline`.
    fn timeout_before(&self, deadline: Option<Instant>) -> Result<Duration, ForwardError> {
        let configured = self.config.timeout();
        let Some(deadline) = deadline else {
            return Ok(configured);
        };
        match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(configured.min(left)),
            _ => Err(ForwardError::Timeout {
                after: Duration::ZERO,
            }),
        }
    }

    /// Where a redirect leads, if it is one we follow: 301, 302, 307 or 308 (a POST stays a
    /// POST with the same body and key) to the same origin.
    fn follow(&self, from: &Url, status: u16, location: &str) -> Result<Url, ForwardError> {
        let refuse = |location: String, reason| ForwardError::Redirect {
            status,
            location,
            reason,
        };
        let Some(to) = from.join(location) else {
            return Err(refuse(
                "(unreadable Location)".into(),
                "the target is not a URL",
            ));
        };
        if to.scheme == "http" && from.scheme == "https" {
            return Err(refuse(to.masked(), "it leads to plain http://"));
        }
        if !to.same_origin(from) {
            return Err(refuse(to.masked(), "it leads to another origin"));
        }
        Ok(to)
    }

    /// One exchange; the second value is the `Location` of a redirect to consider.
    fn post_once(
        &self,
        url: &Url,
        body: &Body,
        key: &str,
        timeout: Duration,
    ) -> Result<(Response, Option<String>), ForwardError> {
        let mut request = self
            .agent
            .post(url.to_request_string())
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", body.content_type)
            .header("Idempotency-Key", key);
        if let Some(encoding) = body.content_encoding {
            request = request.header("Content-Encoding", encoding);
        }
        for (name, value) in self.config.headers().iter() {
            request = request.header(name, value.expose());
        }
        let mut response = request
            .send(body.bytes.as_slice())
            .map_err(|e| self.error(e, timeout))?;
        let received_at = SystemTime::now();
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(64).collect::<String>())
        };
        let retry_after = header("retry-after");
        let content_type = header("content-type").unwrap_or_default();
        let location = if matches!(status, 301 | 302 | 307 | 308) {
            response
                .headers()
                .get("location")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        } else {
            None
        };
        // A body that cannot be read (too long, too slow, cut) does not change the status: the
        // collector has already said what it did with the batch.
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .unwrap_or_default();
        let (rejected, message) = read_answer(
            self.config.protocol(),
            status,
            &content_type,
            &answer,
            body.events,
        );
        // A collector may repeat a credential it refused ("invalid api key: …").
        let message = message.map(|m| self.config.mask_sent_secrets(&m));
        let response = Response {
            status,
            retry_after,
            received_at,
            rejected,
            message,
        };
        Ok((response, location))
    }

    /// A ureq error as ours, without anything that could carry a secret.
    fn error(&self, e: ureq::Error, timeout: Duration) -> ForwardError {
        match e {
            ureq::Error::Timeout(_) => ForwardError::Timeout { after: timeout },
            ureq::Error::HostNotFound => ForwardError::Dns {
                detail: "host not found".into(),
            },
            ureq::Error::ConnectionFailed => ForwardError::Connect {
                detail: "connection failed".into(),
            },
            // rustls reports a refused certificate through the I/O layer.
            ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => {
                ForwardError::Tls {
                    detail: io.to_string(),
                }
            }
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionRefused => ForwardError::Connect {
                    detail: crate::terminal::describe_io(&io),
                },
                ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                    ForwardError::Timeout { after: timeout }
                }
                _ => ForwardError::Network {
                    detail: crate::terminal::describe_io(&io),
                },
            },
            ureq::Error::Tls(detail) => ForwardError::Tls {
                detail: detail.into(),
            },
            ureq::Error::Rustls(e) => ForwardError::Tls {
                detail: e.to_string(),
            },
            ureq::Error::Protocol(e) => ForwardError::Protocol {
                detail: e.to_string(),
            },
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => ForwardError::InvalidConfig {
                param: env_vars::TELEMETRY_ENDPOINT,
                reason: "the request URL or a header was refused by the HTTP client".into(),
            },
            ureq::Error::InvalidProxyUrl => ForwardError::InvalidConfig {
                param: env_vars::HTTPS_PROXY,
                reason: "not a usable proxy URL".into(),
            },
            other => ForwardError::Network {
                detail: other.to_string(),
            },
        }
    }
}

/// Mozilla's roots, plus the extra CA file's certificates when there is one.
fn tls_config(config: &ForwardConfig) -> TlsConfig {
    let roots = if config.extra_roots().is_empty() {
        RootCerts::WebPki
    } else {
        let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()));
        let extra = config
            .extra_roots()
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned());
        RootCerts::from(mozilla.chain(extra))
    };
    TlsConfig::builder().root_certs(roots).build()
}

/// An `Idempotency-Key` is 1 to 200 visible ASCII characters.
fn check_key(key: &str) -> Result<(), ForwardError> {
    if key.is_empty() || key.len() > 200 {
        return Err(ForwardError::InvalidBatchId {
            reason: "it must be 1 to 200 characters",
        });
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ForwardError::InvalidBatchId {
            reason: "it must be visible ASCII (no space or control character)",
        });
    }
    Ok(())
}

/// The OTLP `google.rpc.Status` an OTLP/HTTP server answers errors with (message only).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// The rejected count of an OTLP partial success (clamped to `0..=sent`) and a message.
pub(crate) fn read_answer(
    protocol: Protocol,
    status: u16,
    content_type: &str,
    answer: &[u8],
    sent: usize,
) -> (u64, Option<String>) {
    let sent = sent as u64;
    if answer.is_empty() {
        return (0, None);
    }
    let json = content_type.contains("json");
    let otlp = protocol != Protocol::Ndjson;
    let success = (200..300).contains(&status);
    let (rejected, message) = match (success, otlp, json) {
        (true, true, true) => json_partial_success(answer),
        (true, true, false) => match ExportLogsServiceResponse::decode(answer) {
            Ok(r) => r.partial_success.map_or((0, None), |p| {
                (p.rejected_log_records, Some(p.error_message))
            }),
            Err(_) => (0, Some("unreadable OTLP response".into())),
        },
        (false, _, false) if otlp && content_type.contains("protobuf") => {
            match RpcStatus::decode(answer) {
                Ok(s) => (0, Some(s.message)),
                Err(_) => (0, None),
            }
        }
        (false, _, true) => (0, json_message(answer)),
        (false, _, false) => (0, Some(String::from_utf8_lossy(answer).into_owned())),
        (true, false, _) => (0, None),
    };
    let rejected = u64::try_from(rejected).unwrap_or(0).min(sent);
    (
        rejected,
        message.map(|m| clean(&m)).filter(|m| !m.is_empty()),
    )
}

fn json_partial_success(answer: &[u8]) -> (i64, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(answer) else {
        return (0, Some("unreadable OTLP response".into()));
    };
    let partial = &value["partialSuccess"];
    let rejected = match &partial["rejectedLogRecords"] {
        // Beyond i64 (or a float): saturated, then clamped to what was sent by the caller.
        serde_json::Value::Number(n) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().map_or(0, |f| f as i64)),
        serde_json::Value::String(s) => s.parse::<i64>().unwrap_or(0),
        _ => 0,
    };
    let message = partial["errorMessage"].as_str().map(str::to_owned);
    (rejected, message)
}

fn json_message(answer: &[u8]) -> Option<String> {
    let value = serde_json::from_slice::<serde_json::Value>(answer).ok()?;
    value["message"]
        .as_str()
        .or_else(|| value["error"].as_str())
        .map(str::to_owned)
}

/// Control characters (bidirectional controls too) replaced by spaces, trimmed, at most [`MAX_MESSAGE_CHARS`].
fn clean(message: &str) -> String {
    let cleaned: String = message
        .chars()
        .map(|c| {
            if crate::terminal::is_terminal_control(c) {
                ' '
            } else {
                c
            }
        })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    cleaned.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;

    fn partial(rejected: i64) -> Vec<u8> {
        ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: "bad\r\nrecords\u{1b}[31m".into(),
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn partial_success_counts_are_clamped_to_what_was_sent() {
        let pb = "application/x-protobuf";
        assert_eq!(read_answer(Protocol::Otlp, 200, pb, &partial(3), 10).0, 3);
        assert_eq!(read_answer(Protocol::Otlp, 200, pb, &partial(-5), 10).0, 0);
        assert_eq!(
            read_answer(Protocol::Otlp, 200, pb, &partial(i64::MAX), 10).0,
            10
        );
        let (_, message) = read_answer(Protocol::Otlp, 200, pb, &partial(1), 10);
        assert_eq!(message.as_deref(), Some("bad  records [31m"));
        let (n, message) = read_answer(Protocol::Otlp, 200, pb, b"\xff\xff\xff garbage", 10);
        assert_eq!(
            (n, message.as_deref()),
            (0, Some("unreadable OTLP response"))
        );
        let js = "application/json";
        let j = |s: &str| read_answer(Protocol::OtlpJson, 200, js, s.as_bytes(), 10).0;
        assert_eq!(j(r#"{"partialSuccess":{"rejectedLogRecords":"4"}}"#), 4);
        assert_eq!(j(r#"{"partialSuccess":{"rejectedLogRecords":2}}"#), 2);
        assert_eq!(j(r#"{"partialSuccess":{"rejectedLogRecords":-2}}"#), 0);
        assert_eq!(j(r#"{"partialSuccess":{"rejectedLogRecords":1e300}}"#), 10);
        assert_eq!(
            j(r#"{"partialSuccess":{"rejectedLogRecords":99999999999999999999}}"#),
            10
        );
        assert_eq!(j(r#"{"partialSuccess":{}}"#), 0);
        assert_eq!(j("not json"), 0);
        assert_eq!(
            read_answer(Protocol::Ndjson, 200, "text/plain", b"ok", 10),
            (0, None)
        );
    }

    #[test]
    fn error_messages_are_read_from_rpc_status_json_or_text() {
        let status = RpcStatus {
            code: 16,
            message: "invalid API key".into(),
        }
        .encode_to_vec();
        let pb = read_answer(Protocol::Otlp, 401, "application/x-protobuf", &status, 1);
        assert_eq!(pb.1.as_deref(), Some("invalid API key"));
        let js = read_answer(
            Protocol::OtlpJson,
            400,
            "application/json",
            br#"{"code":3,"message":"bad"}"#,
            1,
        );
        assert_eq!(js.1.as_deref(), Some("bad"));
        let long = "x".repeat(10_000);
        let text = read_answer(Protocol::Ndjson, 500, "text/plain", long.as_bytes(), 1);
        assert_eq!(text.1.unwrap().len(), 200);
    }

    #[test]
    fn idempotency_keys_cannot_inject_headers() {
        assert!(check_key("0195f0c1a2b3.0.1").is_ok());
        for bad in ["", "a b", "a\r\nX: 1", "é", &"k".repeat(201)] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
