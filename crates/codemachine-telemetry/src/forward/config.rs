//! Forwarding settings: parsed and validated here, read from nowhere. The settings resolver
//! (flag, environment, config file, `OTEL_*` fallbacks) hands the values to
//! [`ForwardConfig::builder`]; this module never reads the environment.
//!
//! The one decision: every rule that protects the user is enforced by [`ForwardConfigBuilder::build`],
//! so a `ForwardConfig` that exists is safe to send with: HTTPS, or plain HTTP only to a loopback
//! host; headers that cannot inject a line; credentials held as [`Secret`]s.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::error::ForwardError;
use super::secret::{Headers, Secret};
use super::url::{Url, is_loopback_host, no_proxy_matches};
use crate::env_vars;

/// How long one request may take, connection and TLS included: the OTLP exporter default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout accepted: a background sender has a bounded lifetime.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// At most this many bytes of event lines in one batch (SPEC §3): under every common
/// collector's request limit (the OpenTelemetry Collector's default is 20 MiB).
pub const DEFAULT_MAX_BATCH_BYTES: usize = 1024 * 1024;
/// At most this many events in one batch (SPEC §3).
pub const DEFAULT_MAX_BATCH_EVENTS: usize = 5_000;
/// The largest batch size accepted: a client should not send more than 64 MiB in one request.
pub const MAX_BATCH_BYTES_LIMIT: usize = 64 * 1024 * 1024;
/// A CA bundle larger than this is refused (a file of a few hundred certificates is ~200 KiB).
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;
/// A word of a header value this long or longer is masked on its own wherever it appears
/// (shorter ones, like `Bearer`, are no secret and would mask ordinary words).
const MIN_MASKED_WORD: usize = 8;

/// The wire format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/HTTP with protobuf bodies, POST to `<endpoint>/v1/logs`.
    #[default]
    Otlp,
    /// OTLP/HTTP with JSON bodies (the OTLP JSON encoding rules), same path.
    OtlpJson,
    /// The event lines themselves (`application/x-ndjson`), POST to the endpoint as is.
    Ndjson,
}

impl Protocol {
    /// `otlp`, `otlp-json` or `ndjson`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Otlp => "otlp",
            Protocol::OtlpJson => "otlp-json",
            Protocol::Ndjson => "ndjson",
        }
    }

    /// The request's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Otlp => "application/x-protobuf",
            Protocol::OtlpJson => "application/json",
            Protocol::Ndjson => "application/x-ndjson",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = ForwardError;

    /// `otlp`, `otlp-json`, `ndjson` (any case, trimmed); the OTLP exporter's own names
    /// `http/protobuf` and `http/json` are read as `otlp` and `otlp-json`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "otlp" | "http/protobuf" => Ok(Protocol::Otlp),
            "otlp-json" | "http/json" => Ok(Protocol::OtlpJson),
            "ndjson" => Ok(Protocol::Ndjson),
            _ => Err(ForwardError::InvalidConfig {
                param: env_vars::TELEMETRY_PROTOCOL,
                reason: "expected otlp, otlp-json or ndjson".into(),
            }),
        }
    }
}

/// Request body compression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// gzip, with `Content-Encoding: gzip`.
    #[default]
    Gzip,
    /// The body as encoded.
    None,
}

impl Compression {
    /// `gzip` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::None => "none",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Compression {
    type Err = ForwardError;

    /// `gzip` or `none` (any case, trimmed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gzip" => Ok(Compression::Gzip),
            "none" => Ok(Compression::None),
            _ => Err(ForwardError::InvalidConfig {
                param: env_vars::TELEMETRY_COMPRESSION,
                reason: "expected gzip or none".into(),
            }),
        }
    }
}

/// Parses a timeout in milliseconds (`TELEMETRY_TIMEOUT_MS`, `OTEL_EXPORTER_OTLP_TIMEOUT`):
/// a whole number from 1 to 600000.
pub fn parse_timeout_ms(text: &str) -> Result<Duration, ForwardError> {
    let text = text.trim();
    let err = |reason: &str| ForwardError::InvalidConfig {
        param: env_vars::TELEMETRY_TIMEOUT_MS,
        reason: reason.to_owned(),
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("expected a whole number of milliseconds"));
    }
    match text.parse::<u64>() {
        Ok(ms) if ms >= 1 && ms <= MAX_TIMEOUT.as_millis() as u64 => Ok(Duration::from_millis(ms)),
        _ => Err(err("expected from 1 to 600000 milliseconds")),
    }
}

impl ForwardError {
    /// The same error, blamed on another setting (the resolver knows whether a value came from
    /// `TELEMETRY_HEADERS` or `OTEL_EXPORTER_OTLP_HEADERS`).
    pub fn for_param(self, name: &'static str) -> Self {
        match self {
            ForwardError::InvalidConfig { reason, .. } => ForwardError::InvalidConfig {
                param: name,
                reason,
            },
            ForwardError::CaFile { path, reason, .. } => ForwardError::CaFile {
                param: name,
                path,
                reason,
            },
            other => other,
        }
    }
}

/// An HTTPS proxy, its credentials masked when shown.
#[derive(Clone)]
pub(crate) struct ProxyUrl {
    /// As given (credentials included), for the client.
    pub(crate) raw: Secret,
    /// Parsed, for display and the CONNECT of `ping`.
    pub(crate) url: Url,
}

/// Validated forwarding settings. Built by [`ForwardConfig::builder`]; `Debug` masks secrets.
#[derive(Clone)]
pub struct ForwardConfig {
    endpoint: Url,
    request_url: Url,
    protocol: Protocol,
    headers: Headers,
    timeout: Duration,
    ca_file: Option<PathBuf>,
    extra_roots: Arc<Vec<CertificateDer<'static>>>,
    compression: Compression,
    max_batch_bytes: usize,
    max_batch_events: usize,
    proxy: Option<ProxyUrl>,
    proxy_bypassed: bool,
    user_agent: String,
}

impl ForwardConfig {
    /// Starts from the endpoint (`TELEMETRY_ENDPOINT`), every other setting at its default.
    pub fn builder(endpoint: impl Into<String>) -> ForwardConfigBuilder {
        ForwardConfigBuilder {
            endpoint: endpoint.into(),
            protocol: Protocol::default(),
            headers: Headers::new(),
            timeout: DEFAULT_TIMEOUT,
            ca_file: None,
            compression: Compression::default(),
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            max_batch_events: DEFAULT_MAX_BATCH_EVENTS,
            https_proxy: None,
            no_proxy: None,
            user_agent: default_user_agent(),
        }
    }

    /// The endpoint as configured, credentials and query masked: what `status` shows.
    pub fn endpoint_masked(&self) -> String {
        self.endpoint.masked()
    }

    /// Where and how batches go (the request URL, the protocol, every header with its value), as
    /// 16 hex digits of SHA-256: equal for the same destination, and revealing nothing of a header
    /// value. A batch rejected with 401/403/404 keeps it, so a change of endpoint or headers can
    /// be told and lift the pause.
    pub fn destination_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(self.request_url.to_request_string().as_bytes());
        hash.update([0]);
        hash.update(self.protocol.as_str().as_bytes());
        for (name, value) in self.headers.iter() {
            hash.update([0]);
            hash.update(name.to_ascii_lowercase().as_bytes());
            hash.update([0]);
            hash.update(value.expose().as_bytes());
        }
        hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The secrets this configuration sends (every header value, and each long word of one:
    /// the token of `Bearer <token>`), longest first: a collector that repeats one back in an
    /// error message must not get it written into the state, a rejection or `status`.
    pub fn sent_secrets(&self) -> Vec<&str> {
        let mut secrets: Vec<&str> = Vec::new();
        for (_, value) in self.headers.iter() {
            let value = value.expose().trim();
            secrets.push(value);
            secrets.extend(
                value
                    .split_whitespace()
                    .filter(|w| w.len() >= MIN_MASKED_WORD),
            );
        }
        secrets.retain(|s| s.len() >= MIN_MASKED_WORD);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        secrets
    }

    /// `text` with every secret this configuration sends replaced by `[REDACTED]`.
    pub fn mask_sent_secrets(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        for secret in self.sent_secrets() {
            if masked.contains(secret) {
                masked = masked.replace(secret, crate::redact::REDACTED);
            }
        }
        masked
    }

    /// The URL requests go to (`/v1/logs` appended for OTLP), masked.
    pub fn request_url_masked(&self) -> String {
        self.request_url.masked()
    }

    /// The wire format.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The extra headers, values masked when shown (credentials of the endpoint URL included, as
    /// `Authorization`).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The timeout of one request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The extra CA bundle, if any.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Request body compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The most bytes of event lines a batch should hold.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_bytes
    }

    /// The most events a batch should hold.
    pub fn max_batch_events(&self) -> usize {
        self.max_batch_events
    }

    /// The proxy requests go through, masked; `None` when there is none or the endpoint is
    /// exempt (`NO_PROXY`, or a loopback endpoint).
    pub fn proxy_masked(&self) -> Option<String> {
        self.effective_proxy().map(|p| p.url.masked())
    }

    /// Whether a proxy was configured but the endpoint bypasses it.
    pub fn proxy_bypassed(&self) -> bool {
        self.proxy_bypassed
    }

    /// `User-Agent` of every request.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    pub(crate) fn request_url(&self) -> &Url {
        &self.request_url
    }

    pub(crate) fn extra_roots(&self) -> &Arc<Vec<CertificateDer<'static>>> {
        &self.extra_roots
    }

    pub(crate) fn effective_proxy(&self) -> Option<&ProxyUrl> {
        self.proxy.as_ref().filter(|_| !self.proxy_bypassed)
    }
}

impl fmt::Debug for ForwardConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardConfig")
            .field("endpoint", &self.endpoint_masked())
            .field("protocol", &self.protocol)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("ca_file", &self.ca_file)
            .field("compression", &self.compression)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("max_batch_events", &self.max_batch_events)
            .field("proxy", &self.proxy.as_ref().map(|p| p.url.masked()))
            .field("proxy_bypassed", &self.proxy_bypassed)
            .finish()
    }
}

/// Builds a [`ForwardConfig`]; every rule is checked by [`build`](ForwardConfigBuilder::build).
#[derive(Clone)]
pub struct ForwardConfigBuilder {
    endpoint: String,
    protocol: Protocol,
    headers: Headers,
    timeout: Duration,
    ca_file: Option<PathBuf>,
    compression: Compression,
    max_batch_bytes: usize,
    max_batch_events: usize,
    https_proxy: Option<Secret>,
    no_proxy: Option<String>,
    user_agent: String,
}

impl ForwardConfigBuilder {
    /// The wire format (`TELEMETRY_PROTOCOL`). By default, [`Protocol::Otlp`].
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Extra request headers (`TELEMETRY_HEADERS`, parsed by [`Headers::parse`]). By default,
    /// none.
    pub fn headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// The timeout of one request, connection and TLS included (`TELEMETRY_TIMEOUT_MS`, parsed
    /// by [`parse_timeout_ms`]); from 1 ms to [`MAX_TIMEOUT`]. By default, [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A PEM file of CA certificates trusted in addition to Mozilla's roots
    /// (`TELEMETRY_CA_FILE`); read by `build`. By default, none.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Request body compression (`TELEMETRY_COMPRESSION`). By default, [`Compression::Gzip`].
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The most bytes of event lines a batch holds. By default, [`DEFAULT_MAX_BATCH_BYTES`].
    pub fn max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes;
        self
    }

    /// The most events a batch holds. By default, [`DEFAULT_MAX_BATCH_EVENTS`].
    pub fn max_batch_events(mut self, events: usize) -> Self {
        self.max_batch_events = events;
        self
    }

    /// The proxy for HTTPS requests, the value of `HTTPS_PROXY` (`http://[user:pass@]host:port`;
    /// `https://` proxies too). An empty value is no proxy. By default, none.
    pub fn https_proxy(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.https_proxy = (!url.trim().is_empty()).then(|| Secret::new(url.trim()));
        self
    }

    /// Hosts that bypass the proxy, the value of `NO_PROXY` (read like curl: see
    /// [`no_proxy_matches`]). A loopback endpoint always bypasses it. By default, none.
    pub fn no_proxy(mut self, list: impl Into<String>) -> Self {
        self.no_proxy = Some(list.into());
        self
    }

    /// The `User-Agent` header. By default, `codemachine/<this library's version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Checks every setting and reads the CA file. Refused: an endpoint that is not an
    /// `https://` URL (or `http://` to `127.0.0.0/8`, `[::1]`, `localhost`), a timeout or batch
    /// size out of range, an unreadable or empty CA file, a malformed proxy URL, a `User-Agent`
    /// that is not printable ASCII.
    pub fn build(self) -> Result<ForwardConfig, ForwardError> {
        let param = env_vars::TELEMETRY_ENDPOINT;
        let endpoint = Url::parse(&self.endpoint, param)?;
        if endpoint.scheme == "http" && !endpoint.is_loopback() {
            return Err(ForwardError::InvalidConfig {
                param,
                reason: format!(
                    "{} is plain http:// to a host that is not loopback; use https:// (http:// is only for 127.0.0.0/8, [::1] and localhost)",
                    endpoint.masked()
                ),
            });
        }
        let mut headers = self.headers;
        if let Some((user, password)) = &endpoint.userinfo
            && !headers.contains("authorization")
        {
            let pair = format!(
                "{}:{}",
                user.expose(),
                password.as_ref().map_or("", |p| p.expose())
            );
            headers.insert(
                "Authorization",
                format!("Basic {}", base64(pair.as_bytes())),
            )?;
        }
        check_range(self.timeout, self.max_batch_bytes, self.max_batch_events)?;
        if self.user_agent.is_empty() || !self.user_agent.bytes().all(|b| (0x20..0x7f).contains(&b))
        {
            return Err(ForwardError::InvalidConfig {
                param: "user agent",
                reason: "must be printable ASCII".into(),
            });
        }
        let extra_roots = match &self.ca_file {
            Some(path) => load_ca_file(path)?,
            None => Vec::new(),
        };
        let proxy = self.https_proxy.map(|raw| parse_proxy(&raw)).transpose()?;
        let proxy_bypassed = proxy.is_some()
            && (is_loopback_host(&endpoint.host)
                || self
                    .no_proxy
                    .as_deref()
                    .is_some_and(|list| no_proxy_matches(list, &endpoint.host)));
        let request_url = match self.protocol {
            Protocol::Otlp | Protocol::OtlpJson => endpoint.with_otlp_logs_path(),
            Protocol::Ndjson => endpoint.clone(),
        };
        Ok(ForwardConfig {
            endpoint,
            request_url,
            protocol: self.protocol,
            headers,
            timeout: self.timeout,
            ca_file: self.ca_file,
            extra_roots: Arc::new(extra_roots),
            compression: self.compression,
            max_batch_bytes: self.max_batch_bytes,
            max_batch_events: self.max_batch_events,
            proxy,
            proxy_bypassed,
            user_agent: self.user_agent,
        })
    }
}

impl fmt::Debug for ForwardConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = Url::parse(&self.endpoint, "endpoint")
            .map_or_else(|_| "(invalid)".to_owned(), |u| u.masked());
        f.debug_struct("ForwardConfigBuilder")
            .field("endpoint", &endpoint)
            .field("protocol", &self.protocol)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

fn default_user_agent() -> String {
    format!("codemachine/{}", env!("CARGO_PKG_VERSION"))
}

fn check_range(timeout: Duration, bytes: usize, events: usize) -> Result<(), ForwardError> {
    let err = |param, reason: &str| {
        Err(ForwardError::InvalidConfig {
            param,
            reason: reason.to_owned(),
        })
    };
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return err(
            env_vars::TELEMETRY_TIMEOUT_MS,
            "expected from 1 to 600000 milliseconds",
        );
    }
    if bytes == 0 || bytes > MAX_BATCH_BYTES_LIMIT {
        return err("max batch bytes", "expected from 1 byte to 64 MiB");
    }
    if events == 0 {
        return err("max batch events", "expected at least 1");
    }
    Ok(())
}

fn parse_proxy(raw: &Secret) -> Result<ProxyUrl, ForwardError> {
    let text = raw.expose();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&with_scheme, env_vars::HTTPS_PROXY)?;
    Ok(ProxyUrl {
        raw: Secret::new(with_scheme),
        url,
    })
}

/// Reads a PEM bundle: a regular file (opened without blocking, so a FIFO cannot hang us), at
/// most [`MAX_CA_FILE_BYTES`], holding at least one certificate, every one of them parsable.
fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ForwardError> {
    let fail = |reason: String| ForwardError::CaFile {
        param: env_vars::TELEMETRY_CA_FILE,
        path: path.to_owned(),
        reason,
    };
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| fail(e.to_string()))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(fail("larger than 1 MiB".into()));
    }
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not a PEM certificate bundle ({e})")))?;
    if certs.is_empty() {
        return Err(fail(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    let (_, ignored) = store.add_parsable_certificates(certs.iter().cloned());
    if ignored > 0 {
        return Err(fail(format!("{ignored} certificate(s) cannot be parsed")));
    }
    Ok(certs)
}

/// Standard base64 with padding (for `Authorization: Basic`).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(endpoint: &str) -> Result<ForwardConfig, ForwardError> {
        ForwardConfig::builder(endpoint).build()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = build("https://collector.example").unwrap();
        assert_eq!(c.protocol(), Protocol::Otlp);
        assert_eq!(c.compression(), Compression::Gzip);
        assert_eq!(c.timeout(), Duration::from_secs(10));
        assert_eq!((c.max_batch_bytes(), c.max_batch_events()), (1 << 20, 5000));
        assert_eq!(c.request_url_masked(), "https://collector.example/v1/logs");
        assert!(c.user_agent().starts_with("codemachine/"));
        let nd = ForwardConfig::builder("https://c.example/ingest")
            .protocol(Protocol::Ndjson)
            .build()
            .unwrap();
        assert_eq!(nd.request_url_masked(), "https://c.example/ingest");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:4318",
            "http://127.9.9.9",
            "http://[::1]:1",
            "http://localhost:8",
        ] {
            assert!(build(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "http://10.0.0.1",
            "http://[::ffff:127.0.0.1]",
        ] {
            let err = build(bad).unwrap_err().to_string();
            assert!(err.contains("use https://"), "{bad}: {err}");
        }
    }

    #[test]
    fn endpoint_credentials_become_basic_auth_and_are_masked_everywhere() {
        let c = build("https://user:pa55word@h.example/x").unwrap();
        assert_eq!(c.endpoint_masked(), "https://***:***@h.example/x");
        assert_eq!(c.headers().masked(), "Authorization (values not shown)");
        let (_, value) = c.headers().iter().next().unwrap();
        assert_eq!(
            value.expose(),
            format!("Basic {}", base64(b"user:pa55word"))
        );
        assert_eq!(value.expose(), "Basic dXNlcjpwYTU1d29yZA==");
        let debug = format!(
            "{c:?} {:?}",
            ForwardConfig::builder("https://user:pa55word@h.example")
        );
        assert!(
            !debug.contains("pa55word") && !debug.contains("dXNlc"),
            "{debug}"
        );
        let err = build("http://user:pa55word@example.com")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pa55word") && err.contains("***"), "{err}");
    }

    #[test]
    fn parsers_accept_the_documented_values() {
        assert_eq!("OTLP".parse::<Protocol>().unwrap(), Protocol::Otlp);
        assert_eq!(
            " otlp-json ".parse::<Protocol>().unwrap(),
            Protocol::OtlpJson
        );
        assert_eq!("http/protobuf".parse::<Protocol>().unwrap(), Protocol::Otlp);
        assert_eq!("ndjson".parse::<Protocol>().unwrap(), Protocol::Ndjson);
        assert!("grpc".parse::<Protocol>().is_err());
        assert_eq!("GZIP".parse::<Compression>().unwrap(), Compression::Gzip);
        assert_eq!("none".parse::<Compression>().unwrap(), Compression::None);
        assert!("zstd".parse::<Compression>().is_err());
        assert_eq!(
            parse_timeout_ms(" 2500 ").unwrap(),
            Duration::from_millis(2500)
        );
        for bad in [
            "0",
            "-1",
            "1.5",
            "",
            "600001",
            "99999999999999999999999",
            "10s",
        ] {
            assert!(parse_timeout_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_can_be_blamed_on_the_setting_the_value_came_from() {
        let err = Headers::parse("x")
            .unwrap_err()
            .for_param("OTEL_EXPORTER_OTLP_HEADERS");
        assert!(
            err.to_string()
                .starts_with("invalid OTEL_EXPORTER_OTLP_HEADERS:")
        );
    }

    #[test]
    fn proxy_is_bypassed_for_loopback_and_no_proxy_hosts() {
        let with = |endpoint: &str, no_proxy: &str| {
            ForwardConfig::builder(endpoint)
                .https_proxy("http://u:secret@proxy.corp:3128")
                .no_proxy(no_proxy)
                .build()
                .unwrap()
        };
        let c = with("https://collector.example", "");
        assert_eq!(
            c.proxy_masked().as_deref(),
            Some("http://***:***@proxy.corp:3128")
        );
        assert!(!format!("{c:?}").contains("secret"));
        assert!(
            with("https://collector.example", ".example")
                .proxy_masked()
                .is_none()
        );
        assert!(with("http://127.0.0.1:9", "").proxy_bypassed());
        let schemeless = ForwardConfig::builder("https://h.example")
            .https_proxy("proxy:8080")
            .build();
        assert_eq!(
            schemeless.unwrap().proxy_masked().as_deref(),
            Some("http://proxy:8080")
        );
        assert!(
            ForwardConfig::builder("https://h.example")
                .https_proxy("socks5://p")
                .build()
                .is_err()
        );
    }

    #[test]
    fn ranges_are_checked() {
        let b = || ForwardConfig::builder("https://h.example");
        assert!(b().timeout(Duration::ZERO).build().is_err());
        assert!(b().timeout(Duration::from_secs(601)).build().is_err());
        assert!(b().max_batch_events(0).build().is_err());
        assert!(b().max_batch_bytes(0).build().is_err());
        assert!(b().max_batch_bytes(65 << 20).build().is_err());
        assert!(b().user_agent("x\r\nEvil: 1").build().is_err());
    }

    #[test]
    fn ca_file_must_be_a_readable_bundle_of_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let b = |p: &Path| {
            ForwardConfig::builder("https://h.example")
                .ca_file(p)
                .build()
        };
        let missing = b(&dir.path().join("missing.pem")).unwrap_err().to_string();
        assert!(
            missing.starts_with("TELEMETRY_CA_FILE ") && missing.contains("missing.pem"),
            "{missing}"
        );
        assert!(
            b(dir.path())
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "hello\n").unwrap();
        assert!(
            b(&empty)
                .unwrap_err()
                .to_string()
                .contains("holds no PEM certificate")
        );
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(b(&garbage).is_err());
        let fifo = dir.path().join("fifo");
        crate::sys::mkfifo(&fifo).unwrap();
        assert!(
            b(&fifo)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; 2 << 20]).unwrap();
        assert!(
            b(&big)
                .unwrap_err()
                .to_string()
                .contains("larger than 1 MiB")
        );
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
