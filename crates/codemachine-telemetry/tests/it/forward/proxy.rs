//! `HTTPS_PROXY` and `NO_PROXY`: requests and the ping probe go through a `CONNECT` tunnel with
//! the proxy's credentials; a `NO_PROXY` host or a loopback endpoint goes direct.

use codemachine_telemetry::forward::{Client, ForwardConfig, Verdict, ping};
use test_collector::{Collector, ConnectProxy};

use super::{TIMEOUT, send};

/// A collector whose certificate names `collector.test`, a name only the proxy can reach.
fn remote_collector() -> (Collector, String) {
    let collector = Collector::builder().cert_names(&["collector.test"]).start();
    let url = format!("https://collector.test:{}", collector.addr().port());
    (collector, url)
}

#[test]
fn requests_and_ping_go_through_the_proxy_with_its_credentials() {
    let (collector, url) = remote_collector();
    let proxy = ConnectProxy::start();
    let proxy_url = proxy
        .url()
        .replace("http://", "http://proxyuser:pr0xy-pass@");
    let config = ForwardConfig::builder(url)
        .ca_file(collector.ca_file())
        .timeout(TIMEOUT)
        .https_proxy(proxy_url)
        .no_proxy("localhost,.internal.example")
        .build()
        .unwrap();
    assert!(!format!("{config:?}").contains("pr0xy"));
    assert!(
        config
            .proxy_masked()
            .unwrap()
            .starts_with("http://***:***@127.0.0.1:")
    );
    let report = send(&Client::new(&config).unwrap(), "b", 3);
    assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
    assert_eq!(collector.requests().len(), 1);
    let pinged = ping(&config);
    assert!(pinged.is_ok(), "{pinged:?}");
    assert_eq!(
        pinged.tls.unwrap().unwrap().certificate.unwrap().subject,
        "CN=collector.test"
    );
    let tunnels = proxy.tunnels();
    assert!(tunnels.len() >= 2, "{tunnels:?}");
    let port = collector.addr().port();
    for t in tunnels {
        assert_eq!(t.target, format!("collector.test:{port}"));
        assert_eq!(
            t.authorization.as_deref(),
            Some("Basic cHJveHl1c2VyOnByMHh5LXBhc3M=")
        );
    }
}

#[test]
fn no_proxy_hosts_and_loopback_endpoints_go_direct() {
    let (collector, url) = remote_collector();
    let proxy = ConnectProxy::start();
    let config = ForwardConfig::builder(url)
        .ca_file(collector.ca_file())
        .timeout(TIMEOUT)
        .https_proxy(proxy.url())
        .no_proxy("collector.test")
        .build()
        .unwrap();
    assert!(config.proxy_masked().is_none());
    // Direct, `collector.test` does not resolve: retried, and the proxy never asked.
    assert!(matches!(
        send(&Client::new(&config).unwrap(), "b", 1).verdict(),
        Verdict::Retry { .. }
    ));
    let loopback = Collector::https();
    let config = ForwardConfig::builder(loopback.url())
        .ca_file(loopback.ca_file())
        .https_proxy(proxy.url())
        .build()
        .unwrap();
    assert!(config.proxy_bypassed());
    assert_eq!(
        send(&Client::new(&config).unwrap(), "b", 1).verdict(),
        Verdict::Delivered { server_rejected: 0 }
    );
    assert!(proxy.tunnels().is_empty());
}
