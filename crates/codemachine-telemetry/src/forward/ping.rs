//! `telemetry ping`: is the collector reachable, is its certificate trusted, does it accept our
//! requests — without sending any event.
//!
//! Two steps. First a TLS handshake of our own (through the proxy's `CONNECT` when there is
//! one), with the same roots as the forwarder, to show the certificate's subject, issuer and
//! expiry, which an HTTP client does not expose. Then one request through the forwarder's own
//! client: a POST of an *empty* export (an `ExportLogsServiceRequest` without records, `{"resourceLogs":[]}`
//! in JSON, an empty NDJSON body), with the configured headers and compression. Why not
//! `OPTIONS` or `HEAD`: an OTLP receiver routes only `POST /v1/logs` (the OpenTelemetry Collector
//! answers 405 to anything else), so their status would say nothing about the path, the
//! credentials or the content type; an empty export is a valid OTLP request that carries no data,
//! and its status is the one a batch would get.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message as _;
use rustls::pki_types::ServerName;

use super::cert::{CertificateInfo, describe_certificate};
use super::config::{Compression, ForwardConfig, Protocol};
use super::encode::{Body, gzip};
use super::retry::{Verdict, classify};
use super::transport::Client;
use super::url::Url;

/// What `ping` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingReport {
    /// The request URL, credentials masked.
    pub url: String,
    /// The proxy used, masked; `None` when connecting directly.
    pub proxy: Option<String>,
    /// The TLS handshake (`None` for a loopback `http://` endpoint), or why it failed.
    pub tls: Option<Result<TlsInfo, String>>,
    /// The probe request's answer, or why there was none.
    pub http: Result<HttpProbe, String>,
    /// What a batch sent now would get.
    pub verdict: Verdict,
}

impl PingReport {
    /// Whether a batch sent now would be delivered.
    pub fn is_ok(&self) -> bool {
        matches!(self.verdict, Verdict::Delivered { .. }) && !matches!(self.tls, Some(Err(_)))
    }
}

/// The server's side of the TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// How long connecting and the handshake took.
    pub handshake: Duration,
    /// `TLSv1.3` or `TLSv1.2`.
    pub protocol: String,
    /// The server's (leaf) certificate, when it could be read.
    pub certificate: Option<CertificateInfo>,
}

/// The answer to the probe request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProbe {
    /// The HTTP status.
    pub status: u16,
    /// From sending the request to the end of the answer (a new connection, TLS included).
    pub latency: Duration,
    /// The server's message, if any.
    pub message: Option<String>,
}

/// Probes the endpoint. Never panics and never takes much longer than twice the timeout.
pub fn ping(config: &ForwardConfig) -> PingReport {
    let url = config.request_url();
    let tls = (url.scheme == "https").then(|| tls_probe(config).map_err(|e| e.to_string()));
    let started = Instant::now();
    let outcome = Client::new(config).and_then(|client| client.post(&empty_body(config), "ping"));
    let latency = started.elapsed();
    let verdict = classify(&outcome);
    let http = match outcome {
        Ok(r) => Ok(HttpProbe {
            status: r.status,
            latency,
            message: r.message,
        }),
        Err(e) => Err(e.to_string()),
    };
    PingReport {
        url: url.masked(),
        proxy: config.proxy_masked(),
        tls,
        http,
        verdict,
    }
}

/// A valid request of the configured protocol that carries no event.
fn empty_body(config: &ForwardConfig) -> Body {
    let raw = match config.protocol() {
        Protocol::Otlp => ExportLogsServiceRequest::default().encode_to_vec(),
        Protocol::OtlpJson => br#"{"resourceLogs":[]}"#.to_vec(),
        Protocol::Ndjson => Vec::new(),
    };
    let (bytes, content_encoding) = match config.compression() {
        Compression::Gzip => (gzip(&raw), Some("gzip")),
        Compression::None => (raw, None),
    };
    Body {
        bytes,
        content_type: config.protocol().content_type(),
        content_encoding,
        events: 0,
    }
}

/// Why the TLS probe failed.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("proxy: {0}")]
    Proxy(String),
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    #[error("no answer within the timeout")]
    TimedOut,
}

fn tls_probe(config: &ForwardConfig) -> Result<TlsInfo, ProbeError> {
    let url = config.request_url();
    let deadline = Instant::now() + config.timeout();
    let started = Instant::now();
    let mut tcp = match config.effective_proxy() {
        Some(proxy) => connect_via_proxy(&proxy.url, url, deadline)?,
        None => connect(&url.host, url.port, deadline)?,
    };
    let name = url
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let name = ServerName::try_from(name).map_err(|e| ProbeError::Handshake(e.to_string()))?;
    let mut conn = rustls::ClientConnection::new(client_config(config)?, name)
        .map_err(|e| ProbeError::Handshake(e.to_string()))?;
    while conn.is_handshaking() {
        set_timeouts(&tcp, deadline)?;
        conn.complete_io(&mut tcp).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ProbeError::TimedOut,
            _ => ProbeError::Handshake(crate::terminal::describe_io(&e)),
        })?;
    }
    let handshake = started.elapsed();
    let protocol = conn
        .protocol_version()
        .and_then(|v| v.as_str())
        .unwrap_or("TLS")
        .replace("TLSv1_", "TLSv1.");
    let certificate = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| describe_certificate(leaf.as_ref()));
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
    Ok(TlsInfo {
        handshake,
        protocol,
        certificate,
    })
}

fn client_config(config: &ForwardConfig) -> Result<Arc<rustls::ClientConfig>, ProbeError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    roots.add_parsable_certificates(config.extra_roots().iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Handshake(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(client))
}

fn remaining(deadline: Instant) -> Result<Duration, ProbeError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(ProbeError::TimedOut)
}

fn set_timeouts(tcp: &TcpStream, deadline: Instant) -> Result<(), ProbeError> {
    let left = remaining(deadline)?;
    tcp.set_read_timeout(Some(left))
        .and_then(|()| tcp.set_write_timeout(Some(left)))
        .map_err(|e| ProbeError::Connect(crate::terminal::describe_io(&e)))
}

fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (bare, port).to_socket_addrs().map_err(|e| {
        ProbeError::Connect(format!(
            "cannot resolve the host name: {}",
            crate::terminal::describe_io(&e)
        ))
    })?;
    let mut last = ProbeError::Connect("the host name has no address".into());
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = ProbeError::Connect(crate::terminal::describe_io(&e)),
        }
    }
    Err(last)
}

/// A tunnel through an `http://` proxy (`CONNECT host:port`), with its credentials if any.
fn connect_via_proxy(
    proxy: &Url,
    target: &Url,
    deadline: Instant,
) -> Result<TcpStream, ProbeError> {
    if proxy.scheme != "http" {
        return Err(ProbeError::Proxy(
            "the certificate probe supports http:// proxies only".into(),
        ));
    }
    let mut tcp = connect(&proxy.host, proxy.port, deadline)?;
    set_timeouts(&tcp, deadline)?;
    let authority = format!("{}:{}", target.host, target.port);
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some((user, password)) = &proxy.userinfo {
        let pair = format!(
            "{}:{}",
            user.expose(),
            password.as_ref().map_or("", |p| p.expose())
        );
        request.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            super::config::base64(pair.as_bytes())
        ));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .map_err(|e| ProbeError::Proxy(crate::terminal::describe_io(&e)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 {
            return Err(ProbeError::Proxy("answer headers too long".into()));
        }
        match tcp.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => return Err(ProbeError::Proxy("closed the connection".into())),
            Err(e) => return Err(ProbeError::Proxy(crate::terminal::describe_io(&e))),
        }
    }
    let status_line = String::from_utf8_lossy(&head);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(ProbeError::Proxy(format!("CONNECT answered {status:?}")));
    }
    Ok(tcp)
}
