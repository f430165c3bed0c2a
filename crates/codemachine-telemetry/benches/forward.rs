//! The physical limits of forwarding, in one run (SPEC §6: the `flush` drain, target ≥ 100,000
//! events/s with otlp + gzip + TLS, is compared with these).
//!
//! Group `forward/5000_events`, each iteration handling one full batch of 5,000 events:
//! - `parse_lines`: reading the spool lines as events (serde);
//! - `encode_otlp_protobuf`: parsed events to an `ExportLogsServiceRequest`, protobuf bytes;
//! - `gzip`: compressing that body (fastest level, as sent);
//! - `encode_otlp_json`: parsed events to OTLP/JSON bytes;
//! - `send_batch_https`: the whole `send_batch` (parse, encode, gzip, POST over a kept-alive TLS
//!   connection, answer) to the loopback test collector, which decompresses and decodes every
//!   request on its side of the same 2 cores;
//! - `tls_round_trip_empty`: one POST of an empty export and its answer on the same kept-alive
//!   TLS connection: the floor under any request.

use std::hint::black_box;
use std::time::Duration;

use codemachine_telemetry::forward::{
    Body, Client, ForwardConfig, ParsedBatch, Protocol, Verdict, encode_uncompressed, gzip,
    send_batch,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use test_collector::Collector;

const EVENTS: usize = 5_000;

/// A realistic spool line: a command event with every field.
fn line(i: usize) -> String {
    format!(
        "{{\"schema\":1,\"id\":\"0195f0c1a2b3{i:020x}\",\"ts\":\"2026-11-27T22:00:32.123Z\",\"kind\":\"command\",\"name\":\"logs.pretty\",\"duration_ms\":{},\"exit_code\":0,\"count\":1,\"session_id\":\"8702098358fca1baca5a67b4a7b00e50\",\"anon_id\":\"c69557dae91f9c1a67d0e7268940dc5d\",\"cli_version\":\"0.1.0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}",
        i % 5000
    )
}

fn forward_group(c: &mut Criterion) {
    let lines: Vec<String> = (0..EVENTS).map(line).collect();
    let parsed = ParsedBatch::parse(&lines);
    let protobuf = encode_uncompressed(Protocol::Otlp, &parsed.events);
    let compressed = gzip(&protobuf);
    eprintln!(
        "5000 events: {} bytes of lines, {} bytes of protobuf, {} gzipped, {} of JSON",
        lines.iter().map(|l| l.len() + 1).sum::<usize>(),
        protobuf.len(),
        compressed.len(),
        encode_uncompressed(Protocol::OtlpJson, &parsed.events).len()
    );

    let mut group = c.benchmark_group("forward/5000_events");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.measurement_time(Duration::from_secs(4));
    group.sample_size(20);
    group.bench_function("parse_lines", |b| {
        b.iter(|| ParsedBatch::parse(black_box(&lines)).events.len())
    });
    group.bench_function("encode_otlp_protobuf", |b| {
        b.iter(|| encode_uncompressed(Protocol::Otlp, black_box(&parsed.events)))
    });
    group.bench_function("gzip", |b| b.iter(|| gzip(black_box(&protobuf))));
    group.bench_function("encode_otlp_json", |b| {
        b.iter(|| encode_uncompressed(Protocol::OtlpJson, black_box(&parsed.events)))
    });

    let collector = Collector::https();
    let config = ForwardConfig::builder(collector.url())
        .ca_file(collector.ca_file())
        .build()
        .expect("valid settings");
    let client = Client::new(&config).expect("a client");
    group.bench_function("send_batch_https", |b| {
        b.iter(|| {
            let report = send_batch(&client, "0195f0c1a2b3deadbeefcafe01234567", &lines);
            assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
        })
    });
    let empty = Body {
        bytes: Vec::new(),
        content_type: Protocol::Otlp.content_type(),
        content_encoding: None,
        events: 0,
    };
    group.throughput(Throughput::Elements(1));
    group.bench_function("tls_round_trip_empty", |b| {
        b.iter(|| assert_eq!(client.post(&empty, "rtt").map(|r| r.status).ok(), Some(200)))
    });
    group.finish();
}

criterion_group!(benches, forward_group);
criterion_main!(benches);
