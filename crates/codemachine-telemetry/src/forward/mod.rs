//! Forwarding buffered events to a collector: the wire layer (SPEC §3).
//!
//! What this module owns: settings validation ([`ForwardConfig`]), encoding event lines to a
//! request body ([`encode()`]: OTLP/HTTP protobuf, OTLP/JSON or NDJSON, gzip), one request and its
//! typed outcome ([`Client`]), what that outcome means for the batch ([`classify`] → [`Verdict`])
//! and when to try again ([`Backoff`], [`parse_retry_after`]), one batch end to end with `413`
//! splitting ([`send_batch`]), and the reachability probe ([`ping()`]).
//!
//! What it does not own: reading the environment (the settings resolver feeds the builder),
//! the batch life cycle on disk, the background sender. Those move files by [`Verdict`]; nothing
//! here touches the spool, sleeps, or retries on its own.
//!
//! ```no_run
//! use codemachine_telemetry::forward::{Client, ForwardConfig, Verdict, send_batch};
//!
//! let config = ForwardConfig::builder("https://collector.example:4318").build()?;
//! let client = Client::new(&config)?;
//! let lines = std::fs::read_to_string("batch.ndjson")?;
//! let lines: Vec<&str> = lines.lines().collect();
//! match send_batch(&client, "0195f0c1a2b3deadbeefcafe01234567", &lines).verdict() {
//!     Verdict::Delivered { server_rejected } => { /* delete the batch, count server_rejected */ }
//!     Verdict::Retry { retry_after, .. } => { /* keep it; next attempt after Backoff/retry_after */ }
//!     Verdict::Rejected { pause, .. } => { /* move it aside; stop sending if pause */ }
//!     Verdict::Split => unreachable!("send_batch resolves splits"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cert;
mod config;
mod encode;
mod error;
mod ping;
mod retry;
mod secret;
mod send;
mod transport;
mod url;

pub use cert::{CertificateInfo, describe_certificate};
pub use config::{
    Compression, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_EVENTS, DEFAULT_TIMEOUT, ForwardConfig,
    ForwardConfigBuilder, MAX_BATCH_BYTES_LIMIT, MAX_CA_FILE_BYTES, MAX_TIMEOUT, Protocol,
    parse_timeout_ms,
};
pub use encode::{
    Body, ParsedBatch, SCOPE_NAME, SERVICE_NAME, encode, encode_uncompressed, event_name,
    event_time_nanos, gzip, parse_rfc3339_nanos, to_otlp, to_otlp_json,
};
pub use error::ForwardError;
pub use ping::{HttpProbe, PingReport, TlsInfo, ping};
pub use retry::{
    Backoff, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP, MAX_RETRY_AFTER, Verdict, classify,
    parse_retry_after,
};
pub use secret::{Headers, MASK, Secret};
pub use send::{BatchReport, MAX_REQUESTS_PER_BATCH, Part, send_batch, send_batch_before};
pub use transport::{Client, MAX_REDIRECTS, MAX_RESPONSE_BYTES, Response};
pub use url::{OTLP_LOGS_PATH, no_proxy_matches, same_origin};

/// The official OTLP messages this module encodes with, for tests and tools that decode them.
pub use opentelemetry_proto::tonic as otlp;
