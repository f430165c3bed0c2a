//! What arrives: headers, paths and every field of every record, for each protocol.

use codemachine_telemetry::forward::{Compression, Headers, Protocol, Verdict, send_batch};
use test_collector::otlp::common::v1::any_value::Value;
use test_collector::{Collector, Decoded, Received, int_attr, string_attr};

use super::{client, config, id, line, lines, send};

fn resource_attr(r: &test_collector::otlp::logs::v1::ResourceLogs, key: &str) -> Option<String> {
    string_attr(&r.resource.as_ref()?.attributes, key)
}

/// Checks an OTLP request against events `1..=n` field by field.
fn assert_otlp_matches(received: &Received, n: usize) {
    let req = received
        .otlp()
        .unwrap_or_else(|| panic!("not OTLP: {:?}", received.decoded));
    // Events 4, 8, … have anonymous id b…b: two resources, in order of first appearance.
    assert_eq!(req.resource_logs.len(), if n >= 4 { 2 } else { 1 });
    let mut seen = Vec::new();
    for resource in &req.resource_logs {
        assert_eq!(
            resource_attr(resource, "service.name").as_deref(),
            Some("codemachine")
        );
        assert_eq!(
            resource_attr(resource, "service.version").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(resource_attr(resource, "os.type").as_deref(), Some("linux"));
        assert_eq!(
            resource_attr(resource, "host.arch").as_deref(),
            Some("x86_64")
        );
        let anon = resource_attr(resource, "codemachine.anon_id").unwrap();
        assert_eq!(resource.scope_logs.len(), 1);
        let scope = &resource.scope_logs[0];
        assert_eq!(scope.scope.as_ref().unwrap().name, "codemachine.telemetry");
        for record in &scope.log_records {
            let rid = string_attr(&record.attributes, "codemachine.record_id").unwrap();
            let i = usize::from_str_radix(&rid, 16).unwrap();
            seen.push(i);
            let command = i % 2 == 1;
            assert_eq!(
                anon,
                if i.is_multiple_of(4) {
                    "b".repeat(32)
                } else {
                    "a".repeat(32)
                }
            );
            let ts = 1_795_816_800_000_000_000u64
                + (i % 60) as u64 * 1_000_000_000
                + (i % 1000) as u64 * 1_000_000;
            assert_eq!(record.time_unix_nano, ts, "record {i}");
            assert_eq!(
                record.event_name,
                if command {
                    "codemachine.command"
                } else {
                    "codemachine.feature"
                }
            );
            let a = &record.attributes;
            assert_eq!(
                string_attr(a, "codemachine.name").as_deref(),
                Some(if command { "logs.pretty" } else { "export.csv" })
            );
            assert_eq!(
                int_attr(a, "codemachine.count"),
                Some(if command { 1 } else { i as i64 })
            );
            assert_eq!(
                string_attr(a, "codemachine.session_id"),
                Some("5".repeat(32))
            );
            if command {
                assert_eq!(int_attr(a, "codemachine.duration_ms"), Some(i as i64 * 10));
                assert_eq!(int_attr(a, "codemachine.exit_code"), Some((i % 3) as i64));
                assert_eq!(a.len(), 6);
            } else {
                assert_eq!(a.len(), 4, "no duration or exit code for a feature");
            }
            for kv in a {
                assert!(matches!(
                    kv.value.as_ref().unwrap().value,
                    Some(Value::StringValue(_) | Value::IntValue(_))
                ));
            }
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=n).collect::<Vec<_>>());
}

#[test]
fn otlp_protobuf_batches_arrive_gzipped_with_every_header_and_field() {
    let collector = Collector::https();
    let headers = Headers::parse("x-api-key=k%2C1,X-Tenant=t").unwrap();
    let client = codemachine_telemetry::forward::Client::new(
        &config(&collector)
            .headers(headers)
            .user_agent("codemachine/9.9.9")
            .build()
            .unwrap(),
    )
    .unwrap();
    let report = send(&client, "0195f0c1a2b3deadbeefcafe01234567", 9);
    assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
    assert_eq!(report.requests, 1);
    let [r] = collector.requests().try_into().unwrap();
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/logs"));
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(
        r.header("idempotency-key"),
        Some("0195f0c1a2b3deadbeefcafe01234567")
    );
    assert_eq!(r.header("user-agent"), Some("codemachine/9.9.9"));
    assert_eq!(r.header("x-api-key"), Some("k,1"));
    assert_eq!(r.header("x-tenant"), Some("t"));
    assert!(r.raw_body.len() < r.body.len(), "the body is compressed");
    assert_otlp_matches(&r, 9);
}

#[test]
fn otlp_json_is_read_by_the_official_decoder_field_by_field() {
    let collector = Collector::https();
    let c = codemachine_telemetry::forward::Client::new(
        &config(&collector)
            .protocol(Protocol::OtlpJson)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        send(&c, "b1", 12).verdict(),
        Verdict::Delivered { server_rejected: 0 }
    );
    let [r] = collector.requests().try_into().unwrap();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.path, "/v1/logs");
    assert_otlp_matches(&r, 12);
    // The raw JSON follows the OTLP JSON rules.
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let record = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert!(
        record["timeUnixNano"].is_string(),
        "64-bit integers are strings"
    );
    assert!(record["attributes"][2]["value"]["intValue"].is_string());
    assert!(
        record.get("time_unix_nano").is_none(),
        "lowerCamelCase names"
    );
}

#[test]
fn ndjson_posts_the_lines_verbatim_to_the_endpoint_as_is() {
    let collector = Collector::https();
    let settings = codemachine_telemetry::forward::ForwardConfig::builder(format!(
        "{}/ingest/events?src=cli",
        collector.url()
    ))
    .ca_file(collector.ca_file())
    .protocol(Protocol::Ndjson)
    .compression(Compression::None)
    .build()
    .unwrap();
    let c = codemachine_telemetry::forward::Client::new(&settings).unwrap();
    let mut batch = lines(3);
    batch.insert(1, "{\"torn".into());
    let report = send_batch(&c, "nd-1", &batch);
    assert_eq!(report.skipped_lines, [1]);
    assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
    let [r] = collector.requests().try_into().unwrap();
    assert_eq!(r.path, "/ingest/events?src=cli");
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(
        r.body,
        format!("{}\n{}\n{}\n", line(1), line(2), line(3)).into_bytes()
    );
    assert!(matches!(r.decoded, Decoded::Ndjson(ref l) if l.len() == 3));
}

#[test]
fn credentials_in_the_endpoint_travel_as_basic_auth_and_never_show() {
    let collector = Collector::https();
    let url = collector
        .url()
        .replace("https://", "https://user:s3cr%40t@");
    let settings = codemachine_telemetry::forward::ForwardConfig::builder(url)
        .ca_file(collector.ca_file())
        .build()
        .unwrap();
    let c = codemachine_telemetry::forward::Client::new(&settings).unwrap();
    assert!(!format!("{c:?}{settings:?}").contains("s3cr"));
    send(&c, "b", 1);
    let [r] = collector.requests().try_into().unwrap();
    assert_eq!(
        r.header("authorization"),
        Some("Basic dXNlcjpzM2NyQHQ="),
        "user:s3cr@t"
    );
}

#[test]
fn a_batch_of_only_torn_lines_is_kept_aside_and_nothing_is_sent() {
    let collector = Collector::https();
    let report = send_batch(&client(&collector), "b", &["{\"torn", "not json"]);
    assert!(matches!(
        report.verdict(),
        Verdict::Rejected {
            pause: false,
            status: None,
            ..
        }
    ));
    assert_eq!(report.skipped_lines, [0, 1]);
    assert_eq!(collector.requests().len(), 0);
}

#[test]
fn partial_success_is_delivered_with_the_rejected_count_clamped() {
    use test_collector::Fault::PartialSuccess;
    for (protocol, rejected, expected) in [
        (Protocol::Otlp, 3, 3),
        (Protocol::Otlp, -7, 0),
        (Protocol::Otlp, i64::MAX, 10),
        (Protocol::OtlpJson, 4, 4),
        (Protocol::OtlpJson, i64::MIN, 0),
        (Protocol::OtlpJson, 1_000_000, 10),
    ] {
        let collector = Collector::https();
        collector.script([PartialSuccess {
            rejected,
            message: "dropped\nsome".into(),
        }]);
        let c = codemachine_telemetry::forward::Client::new(
            &config(&collector).protocol(protocol).build().unwrap(),
        )
        .unwrap();
        let report = send(&c, "b", 10);
        assert_eq!(
            report.verdict(),
            Verdict::Delivered {
                server_rejected: expected
            },
            "{protocol} {rejected}"
        );
        assert_eq!(
            collector.requests().len(),
            1,
            "a partial success is not retried"
        );
    }
}

#[test]
fn record_ids_arrive_once_each_whatever_the_protocol() {
    for protocol in [Protocol::Otlp, Protocol::OtlpJson, Protocol::Ndjson] {
        let collector = Collector::https();
        let c = codemachine_telemetry::forward::Client::new(
            &config(&collector).protocol(protocol).build().unwrap(),
        )
        .unwrap();
        send(&c, "b", 50);
        let mut ids = collector.record_ids();
        if protocol == Protocol::Ndjson {
            assert_eq!(
                ids,
                (1..=50).map(id).collect::<Vec<_>>(),
                "lines in their order"
            );
        }
        // OTLP groups records by resource (anonymous id), each group in line order.
        ids.sort();
        assert_eq!(ids, (1..=50).map(id).collect::<Vec<_>>(), "{protocol}");
    }
}
