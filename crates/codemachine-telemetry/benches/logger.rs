//! The logger beside the physical limit and a peer, in one run (SPEC §6).
//!
//! Group `logger/typical_record`, one `write` per record to `/dev/null` each:
//! - `codemachine`: the typical record through our logger (context, nested fields, three
//!   secrets removed, scrubbing of every string);
//! - `physical_limit`: the same-length pre-formatted line written with one `write`;
//! - `tracing_subscriber_json`: tracing-subscriber's JSON formatter with the same context (as a
//!   span) and fields (flattened: tracing has no nested values), with no redaction at all.
//!
//! Targets: ours ≥ 25 % of the physical limit's rate and ≥ 4× tracing-subscriber's.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;

use codemachine_telemetry::{Destination, FormatChoice, Logger, MemoryWriter};

#[path = "../examples/support/typical_record.rs"]
mod typical_record;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typical_record::{log_typical, with_typical_context};

const DEV_NULL: &str = "/dev/null";

/// The exact line our logger writes for the typical record, to size the physical limit.
fn typical_line() -> Vec<u8> {
    let out = MemoryWriter::default();
    let logger = Logger::builder()
        .format(FormatChoice::Json)
        .destination(Destination::Writer(Box::new(out.clone())))
        .build();
    log_typical(&with_typical_context(&logger), 7);
    out.bytes()
}

fn dev_null() -> File {
    OpenOptions::new()
        .append(true)
        .open(DEV_NULL)
        .expect("open /dev/null")
}

fn logger_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("logger/typical_record");
    group.throughput(Throughput::Elements(1));

    let ours = with_typical_context(
        &Logger::builder()
            .format(FormatChoice::Json)
            .destination(Destination::Path(DEV_NULL.into()))
            .build(),
    );
    let mut i = 0u64;
    group.bench_function("codemachine", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            log_typical(&ours, black_box(i));
        })
    });

    let line = typical_line();
    let file = dev_null();
    group.bench_function("physical_limit", |b| {
        b.iter(|| {
            (&file)
                .write_all(black_box(&line))
                .expect("write /dev/null")
        })
    });

    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(Arc::new(dev_null()))
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            "session",
            sessionId = "3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192",
            workflow = "spec-to-code"
        );
        let _entered = span.enter();
        let mut i = 0u64;
        group.bench_function("tracing_subscriber_json", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                tracing::info!(
                    command = "start",
                    step = black_box(i) & 15,
                    durationMs = 1234.5,
                    exitCode = 0,
                    agent.name = "claude",
                    agent.model = "sonnet-4",
                    agent.inputTokens = 1200,
                    agent.apiKey = "sk-live-abc",
                    password = "hunter2",
                    token = "tok_123",
                    "step completed"
                );
            })
        });
    });
    group.finish();
}

criterion_group!(benches, logger_group);
criterion_main!(benches);
