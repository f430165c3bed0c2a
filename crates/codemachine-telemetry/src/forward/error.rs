//! The forwarder's one error type: a setting that cannot be used, a batch that cannot be sent, or
//! a request that got no usable HTTP response. Each variant says whether trying again later can
//! help ([`ForwardError::is_retryable`]).
//!
//! An HTTP status is not an error: a 503 is an expected answer, turned into a
//! [`Verdict`](super::Verdict) by [`classify`](super::classify) together with these errors.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong before or while sending one request, short of an HTTP status.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// A setting that cannot be used. `reason` never repeats a secret (a header value, a
    /// password in a URL): it names what is wrong and the expected form.
    #[error("invalid {param}: {reason}")]
    InvalidConfig {
        /// The setting, as the user knows it (an environment variable).
        param: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The extra CA bundle cannot be read or holds no certificate.
    #[error("{param} {}: {reason}", path.display())]
    CaFile {
        /// The setting that named the file.
        param: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS or HTTP client cannot be set up with these settings.
    #[error("cannot set up the HTTPS client: {reason}")]
    Client {
        /// What went wrong.
        reason: String,
    },
    /// A batch id that cannot be sent as an `Idempotency-Key` header.
    #[error("invalid batch id: {reason}")]
    InvalidBatchId {
        /// Why.
        reason: &'static str,
    },
    /// The host name of the endpoint (or of the proxy) could not be resolved.
    #[error("cannot resolve the collector's host name: {detail}")]
    Dns {
        /// What the resolver said.
        detail: String,
    },
    /// No connection could be made (refused, unreachable).
    #[error("cannot connect to the collector: {detail}")]
    Connect {
        /// What the system said.
        detail: String,
    },
    /// The request took longer than the configured timeout.
    #[error("no answer from the collector within {} ms", after.as_millis())]
    Timeout {
        /// The configured timeout.
        after: Duration,
    },
    /// The connection failed during the exchange (reset, closed early).
    #[error("the connection to the collector failed: {detail}")]
    Network {
        /// What the system said.
        detail: String,
    },
    /// The TLS handshake failed: a certificate that is not trusted, has expired or names another
    /// host, or a protocol mismatch.
    #[error("TLS failed: {detail}")]
    Tls {
        /// What rustls said.
        detail: String,
    },
    /// The collector's answer is not HTTP/1.1 we can read.
    #[error("unreadable answer from the collector: {detail}")]
    Protocol {
        /// What was wrong.
        detail: String,
    },
    /// The collector redirected to a place we do not follow: another origin, plain `http://`, or
    /// too many hops. The target is shown with its credentials masked.
    #[error("redirect not followed ({status} to {location}): {reason}")]
    Redirect {
        /// The redirect status.
        status: u16,
        /// The `Location`, masked.
        location: String,
        /// Why it was not followed.
        reason: &'static str,
    },
}

impl ForwardError {
    /// Whether the same request can succeed later without anyone changing a setting: network
    /// failures are (a collector comes back), configuration problems and refused redirects are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            ForwardError::Dns { .. }
            | ForwardError::Connect { .. }
            | ForwardError::Timeout { .. }
            | ForwardError::Network { .. }
            | ForwardError::Tls { .. }
            | ForwardError::Protocol { .. } => true,
            ForwardError::InvalidConfig { .. }
            | ForwardError::CaFile { .. }
            | ForwardError::Client { .. }
            | ForwardError::InvalidBatchId { .. }
            | ForwardError::Redirect { .. } => false,
        }
    }
}
