//! Certificates (trusted, untrusted, wrong host, no extra CA) and redirects (same origin, other
//! origin, plain http, too many).

use codemachine_telemetry::forward::{Client, ForwardConfig, Verdict};
use test_collector::{Collector, Fault};

use super::{TIMEOUT, client, id, send};

fn retry_reason(collector: &Collector, config: ForwardConfig) -> String {
    let report = send(&Client::new(&config).unwrap(), "b", 2);
    assert!(
        collector.requests().is_empty(),
        "nothing reaches a server we do not trust"
    );
    match report.verdict() {
        Verdict::Retry { reason, .. } => reason,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_and_retried() {
    let collector = Collector::builder().untrusted().start();
    let config = ForwardConfig::builder(collector.url())
        .ca_file(collector.ca_file())
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let reason = retry_reason(&collector, config);
    assert!(
        reason.starts_with("TLS failed") && reason.contains("UnknownIssuer"),
        "{reason}"
    );
    // The server side notices the refused handshake on its own thread: a bounded wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while collector.tls_failures() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(collector.tls_failures() >= 1);
}

#[test]
fn without_the_extra_ca_the_test_ca_is_not_trusted() {
    let collector = Collector::https();
    let config = ForwardConfig::builder(collector.url())
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let reason = retry_reason(&collector, config);
    assert!(reason.contains("UnknownIssuer"), "{reason}");
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let collector = Collector::builder()
        .cert_names(&["collector.other.example"])
        .start();
    for url in [collector.url(), collector.localhost_url()] {
        let config = ForwardConfig::builder(url)
            .ca_file(collector.ca_file())
            .timeout(TIMEOUT)
            .build()
            .unwrap();
        let reason = retry_reason(&collector, config);
        assert!(reason.contains("not valid for name"), "{reason}");
    }
}

#[test]
fn an_expired_certificate_is_refused() {
    let collector = Collector::builder().not_after(2020, 1, 1).start();
    let config = ForwardConfig::builder(collector.url())
        .ca_file(collector.ca_file())
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let reason = retry_reason(&collector, config);
    assert!(reason.contains("certificate expired"), "{reason}");
}

#[test]
fn same_origin_redirects_are_followed_with_the_same_body_and_key() {
    for status in [301, 302, 307, 308] {
        let collector = Collector::https();
        collector.script([Fault::Redirect(status, "/moved/v1/logs".into())]);
        let report = send(&client(&collector), "key-1", 3);
        assert_eq!(
            report.verdict(),
            Verdict::Delivered { server_rejected: 0 },
            "{status}"
        );
        let requests = collector.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].path, "/moved/v1/logs");
        assert_eq!(requests[1].method, "POST");
        assert_eq!(requests[1].header("idempotency-key"), Some("key-1"));
        assert_eq!(
            requests[1].record_ids(),
            (1..=3).map(id).collect::<Vec<_>>()
        );
        assert_eq!(requests[0].raw_body, requests[1].raw_body);
    }
}

#[test]
fn redirects_to_another_origin_or_to_plain_http_are_not_followed() {
    let elsewhere = Collector::https();
    let plain = Collector::plain_http();
    let collector = Collector::https();
    let port = collector.addr().port();
    let targets = [
        format!("{}/v1/logs", elsewhere.url()),
        format!("http://127.0.0.1:{port}/v1/logs"),
        format!("{}/v1/logs", plain.url()),
        format!("https://user:hunter2@localhost:{port}/v1/logs"),
        "//evil.example/v1/logs".to_owned(),
    ];
    for target in targets {
        collector.script([Fault::Redirect(308, target.clone())]);
        let report = send(&client(&collector), "b", 2);
        let Verdict::Rejected {
            pause: false,
            status: Some(308),
            reason,
        } = report.verdict()
        else {
            panic!("{target}: {:?}", report.verdict());
        };
        assert!(reason.contains("redirect not followed"), "{reason}");
        assert!(!reason.contains("hunter2"), "{reason}");
    }
    assert!(elsewhere.requests().is_empty() && plain.requests().is_empty());
}

#[test]
fn see_other_and_endless_redirects_are_not_followed() {
    let collector = Collector::https();
    collector.script([Fault::Redirect(303, "/elsewhere".into())]);
    assert!(matches!(
        send(&client(&collector), "b", 1).verdict(),
        Verdict::Rejected {
            status: Some(303),
            ..
        }
    ));
    collector.script(std::iter::repeat_n(
        Fault::Redirect(307, "/again".into()),
        10,
    ));
    let report = send(&client(&collector), "b", 1);
    assert!(
        matches!(report.verdict(), Verdict::Rejected { ref reason, .. } if reason.contains("too many redirects")),
        "{:?}",
        report.verdict()
    );
    assert_eq!(
        collector.requests().len(),
        1 + 4,
        "the first request and three redirects"
    );
}
