//! Hostile settings, gathered in one place: each refused with a clear message that repeats no
//! secret, or accepted with its secret masked everywhere.

use codemachine_telemetry::forward::{Client, ForwardConfig, Headers};

fn refused(endpoint: &str) -> String {
    ForwardConfig::builder(endpoint)
        .build()
        .expect_err(endpoint)
        .to_string()
}

#[test]
fn plain_http_to_a_remote_or_look_alike_host_is_refused_clearly() {
    for endpoint in [
        "http://example.com",
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com:4318",
        "http://10.0.0.1",
        "http://[::ffff:127.0.0.1]",
        "http://0x7f.0.0.1",
    ] {
        let err = refused(endpoint);
        assert!(err.starts_with("invalid TELEMETRY_ENDPOINT: "), "{err}");
        assert!(
            err.contains("use https://") || err.contains("host[:port]"),
            "{endpoint}: {err}"
        );
    }
}

#[test]
fn credentials_in_the_endpoint_are_masked_in_every_output() {
    let config = ForwardConfig::builder("https://alice:hunter2@collector.example/otlp?token=abc")
        .build()
        .unwrap();
    let client = Client::new(&config).unwrap();
    let shown = [
        format!("{config:?}"),
        format!("{client:?}"),
        config.endpoint_masked(),
        config.request_url_masked(),
        config.headers().masked(),
        format!("{}", config.headers()),
        format!("{:?}", config.headers()),
    ];
    for text in &shown {
        assert!(
            !text.contains("hunter2") && !text.contains("alice") && !text.contains("abc"),
            "{text}"
        );
    }
    assert_eq!(
        config.endpoint_masked(),
        "https://***:***@collector.example/otlp?***"
    );
    assert_eq!(
        config.request_url_masked(),
        "https://***:***@collector.example/otlp/v1/logs?***"
    );
    // Refused endpoints do not repeat them either.
    let err = refused("http://alice:hunter2@example.com");
    assert!(!err.contains("hunter2") && !err.contains("alice"), "{err}");
    let err = refused("https://alice:hunter2@exa mple.com");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn header_injection_is_impossible() {
    for text in [
        "x-key=abc\r\nX-Evil: 1",
        "x-key=abc%0d%0aX-Evil:%201",
        "x-key=abc%0AX-Evil: 1",
        "x-key=\u{0}",
        "X-Evil: 1\r\n=v",
    ] {
        let err = Headers::parse(text).expect_err(text).to_string();
        assert!(!err.contains("abc"), "{err}");
    }
}

#[test]
fn non_ascii_is_refused_with_a_hint_not_mangled() {
    let err = refused("https://collectör.example");
    assert!(err.contains("punycode"), "{err}");
    let err = Headers::parse("x-name=Jos%C3%A9").unwrap_err().to_string();
    assert!(err.contains("printable ASCII"), "{err}");
    assert!(Headers::parse("nämé=1").is_err());
    assert!(
        ForwardConfig::builder("https://xn--collectr-n4a.example")
            .build()
            .is_ok()
    );
}
