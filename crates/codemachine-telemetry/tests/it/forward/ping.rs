//! `ping`: TLS details, status and latency, and no event sent.

use codemachine_telemetry::forward::{ForwardConfig, Headers, Protocol, Verdict, ping};
use test_collector::{Collector, Decoded, Fault};

use super::{TIMEOUT, config};

#[test]
fn ping_reports_the_certificate_status_and_latency_without_sending_data() {
    for protocol in [Protocol::Otlp, Protocol::OtlpJson, Protocol::Ndjson] {
        let collector = Collector::builder().not_after(2031, 1, 2).start();
        let report = ping(&config(&collector).protocol(protocol).build().unwrap());
        assert!(report.is_ok(), "{report:?}");
        let tls = report.tls.clone().unwrap().unwrap();
        let cert = tls.certificate.unwrap();
        assert_eq!(cert.subject, "CN=localhost");
        assert_eq!(cert.issuer, "CN=codemachine test CA, O=codemachine tests");
        assert_eq!(cert.not_after, 1_925_078_400, "2031-01-02T00:00:00Z");
        assert!(tls.protocol.starts_with("TLSv1."), "{}", tls.protocol);
        let http = report.http.clone().unwrap();
        assert_eq!(http.status, 200);
        assert!(http.latency < TIMEOUT);
        let [r] = collector.requests().try_into().unwrap();
        assert_eq!(
            r.decoded.record_count(),
            0,
            "{protocol}: no event in a ping"
        );
        assert!(
            matches!(r.decoded, Decoded::Otlp(_) | Decoded::Empty),
            "{:?}",
            r.decoded
        );
        assert_eq!(r.method, "POST");
    }
}

#[test]
fn ping_shows_what_a_batch_would_get() {
    let collector = Collector::https();
    collector.script([Fault::Status(401)]);
    let report = ping(
        &config(&collector)
            .headers(Headers::parse("authorization=Bearer%20nope").unwrap())
            .build()
            .unwrap(),
    );
    assert!(!report.is_ok());
    assert_eq!(report.http.as_ref().unwrap().status, 401);
    assert!(matches!(
        report.verdict,
        Verdict::Rejected { pause: true, .. }
    ));
    assert!(!format!("{report:?}").contains("nope"));
}

#[test]
fn ping_names_the_tls_failure() {
    let collector = Collector::builder().cert_names(&["other.example"]).start();
    let report = ping(&config(&collector).build().unwrap());
    assert!(!report.is_ok());
    let err = report.tls.unwrap().unwrap_err();
    assert!(err.contains("not valid for name"), "{err}");
    assert!(matches!(report.verdict, Verdict::Retry { .. }));
    assert!(collector.requests().is_empty());
}

#[test]
fn ping_of_a_loopback_http_endpoint_has_no_tls_step() {
    let collector = Collector::plain_http();
    let report = ping(&ForwardConfig::builder(collector.url()).build().unwrap());
    assert!(report.is_ok() && report.tls.is_none(), "{report:?}");
}

#[test]
fn ping_of_a_closed_port_says_so_quickly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = ping(
        &ForwardConfig::builder(format!("https://127.0.0.1:{port}"))
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    );
    assert!(report.tls.unwrap().unwrap_err().contains("cannot connect"));
    assert!(report.http.unwrap_err().contains("connect"));
}

#[test]
fn ping_of_a_black_hole_gives_up_within_two_timeouts() {
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", hole.local_addr().unwrap().port());
    let started = std::time::Instant::now();
    let report = ping(
        &ForwardConfig::builder(url)
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    );
    assert!(started.elapsed() < 2 * TIMEOUT + std::time::Duration::from_secs(3));
    assert_eq!(
        report.tls.unwrap().unwrap_err(),
        "no answer within the timeout"
    );
    assert!(report.http.unwrap_err().contains("within 1500 ms"));
}
