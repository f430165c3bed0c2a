//! A loopback collector for tests: OTLP/HTTP (protobuf and JSON) and NDJSON over HTTPS (a test
//! CA made at run time) or plain HTTP, that decodes every request with the official OTLP
//! messages, records it, and answers from a script of faults.
//!
//! ```no_run
//! use test_collector::{Collector, Fault};
//!
//! let collector = Collector::https();
//! collector.script([Fault::Status(503), Fault::Status(200)]);
//! // … point the client at collector.url() with collector.ca_file() as its extra CA …
//! let first = &collector.requests()[0];
//! assert_eq!(first.header("idempotency-key"), Some("batch-1"));
//! ```
//!
//! The HTTP/1.1 server is written by hand (one thread per connection, keep-alive, bodies by
//! `Content-Length` or chunked) so that every fault can be produced exactly: resets, stalls,
//! slow or endless bodies, malformed answers.

mod decode;
pub mod external;
mod http;
mod proxy;
mod tls;

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use decode::{Decoded, decode, decompress, int_attr, log_records, string_attr};
pub use opentelemetry_proto::tonic as otlp;
pub use proxy::{ConnectProxy, Tunnel};
pub use tls::TestCa;

/// One answer the collector gives, or one way it misbehaves.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// This status, with an empty OTLP response for a 2xx (in the request's encoding) and a
    /// short text otherwise.
    Status(u16),
    /// 200 with an OTLP partial success.
    PartialSuccess {
        /// `rejected_log_records` (any value, even negative).
        rejected: i64,
        /// `error_message`.
        message: String,
    },
    /// This status with a `Retry-After` header (any text).
    RetryAfter(u16, String),
    /// A redirect status with this `Location`.
    Redirect(u16, String),
    /// Any status, headers and body.
    Reply {
        /// The status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body (`Content-Length` is added).
        body: Vec<u8>,
    },
    /// These bytes and nothing else, then the connection is closed (malformed answers).
    Raw(Vec<u8>),
    /// The connection is reset (RST) right after the request is read.
    Reset,
    /// Nothing is answered for this long, then the connection is closed.
    Stall(Duration),
    /// 200 whose body (`len` bytes) arrives one byte every `delay`.
    SlowBody {
        /// Body length.
        len: usize,
        /// Pause between bytes.
        delay: Duration,
    },
    /// 200 announcing `Content-Length: declared` and sending zeros until the client hangs up
    /// (at most 256 MiB are written).
    HugeBody {
        /// The announced length.
        declared: u64,
    },
}

/// A request as the collector received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST`, …
    pub method: String,
    /// The request target (`/v1/logs`).
    pub path: String,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as sent (possibly compressed).
    pub raw_body: Vec<u8>,
    /// The body after `Content-Encoding` was undone (empty if that failed).
    pub body: Vec<u8>,
    /// The decoded payload.
    pub decoded: Decoded,
    /// Which connection (0, 1, …) carried it.
    pub connection: usize,
}

impl Received {
    /// The first header of this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The records' ids, in order.
    pub fn record_ids(&self) -> Vec<String> {
        self.decoded.record_ids()
    }

    /// The OTLP request, if the body was one.
    pub fn otlp(&self) -> Option<&otlp::collector::logs::v1::ExportLogsServiceRequest> {
        match &self.decoded {
            Decoded::Otlp(r) => Some(r),
            _ => None,
        }
    }
}

/// What the connection threads share with the handle.
pub(crate) struct Shared {
    pub(crate) script: Mutex<VecDeque<Fault>>,
    pub(crate) requests: Mutex<Vec<Received>>,
    pub(crate) arrived: Condvar,
    pub(crate) connections: AtomicUsize,
    pub(crate) tls_failures: AtomicUsize,
    pub(crate) huge_bytes_written: AtomicU64,
    pub(crate) max_records: Option<usize>,
    pub(crate) stop: AtomicBool,
}

/// How the collector listens.
#[derive(Debug, Clone)]
pub struct CollectorBuilder {
    https: bool,
    names: Vec<String>,
    trusted: bool,
    not_after: (i32, u8, u8),
    max_records: Option<usize>,
    ipv6: bool,
}

impl CollectorBuilder {
    /// Plain HTTP instead of HTTPS (loopback only, as everything here).
    pub fn plain_http(mut self) -> Self {
        self.https = false;
        self
    }

    /// The names the certificate is valid for. By default `localhost`, `127.0.0.1`, `::1`;
    /// give another name to test a certificate for the wrong host.
    pub fn cert_names(mut self, names: &[&str]) -> Self {
        self.names = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// Serve a certificate signed by a CA other than the one [`Collector::ca_file`] holds.
    pub fn untrusted(mut self) -> Self {
        self.trusted = false;
        self
    }

    /// The certificate's end of validity. By default 2049-12-31.
    pub fn not_after(mut self, year: i32, month: u8, day: u8) -> Self {
        self.not_after = (year, month, day);
        self
    }

    /// Requests holding more records than this are answered 413 (before the script is
    /// consulted), like a collector with a request size limit.
    pub fn max_records_per_request(mut self, n: usize) -> Self {
        self.max_records = Some(n);
        self
    }

    /// Listen on `[::1]` instead of `127.0.0.1`.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// Starts listening on an ephemeral loopback port.
    pub fn start(self) -> Collector {
        let ca = TestCa::new("codemachine test CA");
        let dir = tempfile::tempdir().expect("a scratch folder");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.pem).expect("write the CA file");
        let tls = self.https.then(|| {
            let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
            if self.trusted {
                ca.server_config(&names, self.not_after)
            } else {
                TestCa::new("someone else's CA").server_config(&names, self.not_after)
            }
        });
        let bind = if self.ipv6 { "[::1]:0" } else { "127.0.0.1:0" };
        let listener = TcpListener::bind(bind).expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let shared = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            connections: AtomicUsize::new(0),
            tls_failures: AtomicUsize::new(0),
            huge_bytes_written: AtomicU64::new(0),
            max_records: self.max_records,
            stop: AtomicBool::new(false),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || http::accept_loop(listener, tls, shared))
        };
        Collector {
            addr,
            https: self.https,
            shared,
            accept: Some(accept),
            ca_pem: ca.pem,
            ca_file,
            _dir: dir,
        }
    }
}

/// A running collector; stops when dropped.
pub struct Collector {
    addr: SocketAddr,
    https: bool,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    ca_pem: String,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Collector {
    /// A builder: HTTPS, certificate for `localhost`/`127.0.0.1`/`::1` from a fresh test CA.
    pub fn builder() -> CollectorBuilder {
        CollectorBuilder {
            https: true,
            names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            trusted: true,
            not_after: (2049, 12, 31),
            max_records: None,
            ipv6: false,
        }
    }

    /// An HTTPS collector with the default certificate.
    pub fn https() -> Collector {
        Collector::builder().start()
    }

    /// A plain-HTTP collector.
    pub fn plain_http() -> Collector {
        Collector::builder().plain_http().start()
    }

    /// `https://127.0.0.1:<port>` (or `http://…`, `[::1]`).
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `https://localhost:<port>`.
    pub fn localhost_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://localhost:{}", self.addr.port())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The test CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A file holding [`Collector::ca_pem`] (removed with the collector).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Appends answers: each request takes the next one; when none is left, requests get
    /// `Fault::Status(200)`.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(faults);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until at least `n` requests have arrived (or `timeout` passed) and returns them.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        let mut requests = self
            .shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while requests.len() < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            requests = self
                .shared
                .arrived
                .wait_timeout(requests, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        requests.clone()
    }

    /// Every record id received, in arrival order.
    pub fn record_ids(&self) -> Vec<String> {
        self.requests()
            .iter()
            .flat_map(Received::record_ids)
            .collect()
    }

    /// Connections accepted (TLS failures included).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes that failed (a client refusing our certificate).
    pub fn tls_failures(&self) -> usize {
        self.shared.tls_failures.load(Ordering::SeqCst)
    }

    /// Bytes of [`Fault::HugeBody`] bodies written before the clients hung up.
    pub fn huge_bytes_written(&self) -> u64 {
        self.shared.huge_bytes_written.load(Ordering::SeqCst)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; connection threads end with their clients.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn exchange(collector: &Collector, request: &[u8]) -> String {
        let mut tcp = TcpStream::connect(collector.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.write_all(request).unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tcp.read(&mut answer).unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    }

    #[test]
    fn decodes_a_chunked_gzipped_ndjson_request_and_follows_the_script() {
        let collector = Collector::plain_http();
        collector.script([Fault::RetryAfter(503, "7".into())]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n").unwrap();
        let body = gz.finish().unwrap();
        let (first, second) = body.split_at(10);
        let mut request = b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nIdempotency-Key: k1\r\n\r\n".to_vec();
        for chunk in [first, second] {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        let answer = exchange(&collector, &request);
        assert!(
            answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{answer}"
        );
        assert!(answer.contains("Retry-After: 7\r\n"), "{answer}");
        let [r] = collector.requests().try_into().unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/ingest"));
        assert_eq!(r.header("Idempotency-Key"), Some("k1"));
        assert_eq!(r.record_ids(), ["a", "b"]);
        // The script is used up: the default answer is 200.
        let answer = exchange(&collector, b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    }

    #[test]
    fn undecodable_bodies_are_recorded_as_errors() {
        let collector = Collector::plain_http();
        let answer = exchange(
            &collector,
            b"POST /v1/logs HTTP/1.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: 3\r\n\r\n\xff\xff\xff",
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(matches!(collector.requests()[0].decoded, Decoded::Error(_)));
    }

    #[test]
    fn the_ca_file_holds_the_ca_that_signs_the_server_certificate() {
        let collector = Collector::https();
        let pem = std::fs::read_to_string(collector.ca_file()).unwrap();
        assert_eq!(pem, collector.ca_pem());
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(collector.url().starts_with("https://127.0.0.1:"));
    }
}
