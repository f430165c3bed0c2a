//! The hand-written HTTP/1.1 side: accept, TLS, read requests, answer per the script.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use prost::Message;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::decode::{Decoded, decode, decompress};
use crate::{Fault, Received, Shared};

/// Longest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted.
const MAX_BODY: usize = 128 * 1024 * 1024;
/// An idle connection is closed after this long.
const IDLE: Duration = Duration::from_secs(30);
/// A `HugeBody` stops after this much even if the client keeps reading.
const HUGE_CAP: u64 = 256 * 1024 * 1024;

pub(crate) fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    shared: Arc<Shared>,
) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(tcp) = stream else { continue };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst);
        let (tls, shared) = (tls.clone(), Arc::clone(&shared));
        std::thread::spawn(move || {
            let _ = serve(tcp, tls, &shared, id);
        });
    }
}

fn serve(
    tcp: TcpStream,
    tls: Option<Arc<ServerConfig>>,
    shared: &Shared,
    id: usize,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(IDLE))?;
    tcp.set_nodelay(true)?;
    let raw = tcp.try_clone()?;
    match tls {
        Some(config) => {
            let conn = ServerConnection::new(config).map_err(io::Error::other)?;
            let mut stream = StreamOwned::new(conn, tcp);
            while stream.conn.is_handshaking() {
                if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                    shared.tls_failures.fetch_add(1, Ordering::SeqCst);
                    return Err(e);
                }
            }
            handle(&mut stream, &raw, shared, id)
        }
        None => {
            let mut tcp = tcp;
            handle(&mut tcp, &raw, shared, id)
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn handle<S: Read + Write>(
    stream: &mut S,
    raw: &TcpStream,
    shared: &Shared,
    id: usize,
) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(stream, &mut buf)? else {
            return Ok(());
        };
        let decompressed = decompress(request.header("content-encoding"), &request.body);
        let decoded = match &decompressed {
            Ok(body) => decode(request.header("content-type"), body),
            Err(e) => Decoded::Error(e.clone()),
        };
        let records = decoded.record_count();
        let json = request
            .header("content-type")
            .is_some_and(|ct| ct.contains("json") && !ct.contains("ndjson"));
        let received = Received {
            method: request.method,
            path: request.path,
            headers: request.headers,
            raw_body: request.body,
            body: decompressed.unwrap_or_default(),
            decoded,
            connection: id,
        };
        shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(received);
        shared.arrived.notify_all();
        let fault = if shared.max_records.is_some_and(|max| records > max) {
            Fault::Status(413)
        } else {
            shared
                .script
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
                .unwrap_or(Fault::Status(200))
        };
        if !respond(stream, raw, shared, fault, json)? {
            return Ok(());
        }
    }
}

/// Reads one request; `None` at a clean end of the connection.
fn read_request<S: Read + Write>(stream: &mut S, buf: &mut Vec<u8>) -> io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::other("request head too long"));
        }
        if fill(stream, buf)? == 0 {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    if request
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        stream.flush()?;
    }
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    request.body = if chunked {
        read_chunked(stream, buf)?
    } else {
        let len: usize = request
            .header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        read_exact(stream, buf, len)?
    };
    Ok(Some(request))
}

fn fill<S: Read>(stream: &mut S, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = match stream.read(&mut chunk) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
        Err(e) => return Err(e),
    };
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn read_exact<S: Read>(stream: &mut S, buf: &mut Vec<u8>, len: usize) -> io::Result<Vec<u8>> {
    if len > MAX_BODY {
        return Err(io::Error::other("request body too large"));
    }
    while buf.len() < len {
        if fill(stream, buf)? == 0 {
            return Err(io::Error::other("body cut short"));
        }
    }
    Ok(buf.drain(..len).collect())
}

fn read_chunked<S: Read>(stream: &mut S, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            if fill(stream, buf)? == 0 {
                return Err(io::Error::other("chunked body cut short"));
            }
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        buf.drain(..line_end + 2);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            while find(buf, b"\r\n").is_none() {
                if fill(stream, buf)? == 0 {
                    break;
                }
            }
            if let Some(i) = find(buf, b"\r\n") {
                buf.drain(..i + 2);
            }
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(io::Error::other("request body too large"));
        }
        body.extend(read_exact(stream, buf, size + 2)?.into_iter().take(size));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes the answer; `false` when the connection must close.
fn respond<S: Write>(
    stream: &mut S,
    raw: &TcpStream,
    shared: &Shared,
    fault: Fault,
    json: bool,
) -> io::Result<bool> {
    let otlp_type = if json {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    let otlp_body = |response: ExportLogsServiceResponse| {
        if json {
            serde_json::to_vec(&response).unwrap_or_default()
        } else {
            response.encode_to_vec()
        }
    };
    match fault {
        Fault::Status(status) if (200..300).contains(&status) => {
            let body = otlp_body(ExportLogsServiceResponse::default());
            write_response(stream, status, &[("Content-Type", otlp_type)], &body)?;
        }
        Fault::Status(status) => {
            let body = format!("status {status}");
            write_response(
                stream,
                status,
                &[("Content-Type", "text/plain")],
                body.as_bytes(),
            )?;
        }
        Fault::PartialSuccess { rejected, message } => {
            let body = otlp_body(ExportLogsServiceResponse {
                partial_success: Some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: message,
                }),
            });
            write_response(stream, 200, &[("Content-Type", otlp_type)], &body)?;
        }
        Fault::RetryAfter(status, value) => {
            write_response(stream, status, &[("Retry-After", &value)], b"slow down")?;
        }
        Fault::Redirect(status, location) => {
            write_response(stream, status, &[("Location", &location)], b"")?;
        }
        Fault::Reply {
            status,
            headers,
            body,
        } => {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            write_response(stream, status, &headers, &body)?;
        }
        Fault::Raw(bytes) => {
            stream.write_all(&bytes)?;
            stream.flush()?;
            return Ok(false);
        }
        Fault::Reset => {
            socket2::SockRef::from(raw).set_linger(Some(Duration::ZERO))?;
            return Ok(false);
        }
        Fault::Stall(duration) => {
            std::thread::sleep(duration);
            return Ok(false);
        }
        Fault::SlowBody { len, delay } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: {otlp_type}\r\n\r\n"
            );
            stream.write_all(head.as_bytes())?;
            stream.flush()?;
            for _ in 0..len {
                std::thread::sleep(delay);
                stream.write_all(b"\0")?;
                stream.flush()?;
            }
            return Ok(false);
        }
        Fault::HugeBody { declared } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: {otlp_type}\r\n\r\n"
            );
            stream.write_all(head.as_bytes())?;
            let zeros = vec![0u8; 64 * 1024];
            let mut written = 0u64;
            while written < declared.min(HUGE_CAP) {
                if stream
                    .write_all(&zeros)
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    break;
                }
                written += zeros.len() as u64;
                shared.huge_bytes_written.store(written, Ordering::SeqCst);
            }
            return Ok(false);
        }
    }
    Ok(true)
}

fn write_response<S: Write>(
    stream: &mut S,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
