//! The whole `codemachine telemetry flush` command draining 30,000 buffered events to the
//! loopback HTTPS test collector (OTLP protobuf, gzip, TLS), in one run (SPEC §6: target
//! ≥ 100,000 events/s). The physical limits it is compared with (encoding, gzip, a TLS round trip
//! on its own) are measured by `cargo bench -p codemachine-telemetry --bench forward`.
//!
//! Each iteration copies a prepared telemetry folder (outside the timing), then times the real
//! binary from start to exit, collector decoding included (on the same 2 cores).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use codemachine_telemetry::{Metrics, Settings};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use test_collector::Collector;

const EVENTS: u64 = 30_000;

/// A home whose telemetry folder holds `EVENTS` recorded events, at rest.
fn prepared(template: &Path) {
    let settings = Settings::builder().home(template).telemetry(true).build();
    let metrics = Metrics::new(&settings, "0.1.0");
    for i in 0..EVENTS {
        let name = ["log", "logs.pretty", "build", "deploy"][(i % 4) as usize];
        metrics
            .record_command(name, Duration::from_millis(i % 5000), (i % 3) as i32)
            .expect("recorded");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn flush(home: &Path, collector: &Collector) {
    let status = Command::new(env!("CARGO_BIN_EXE_codemachine"))
        .args(["telemetry", "flush", "--timeout", "120"])
        .env_clear()
        .env("CODEMACHINE_HOME", home)
        .env("TELEMETRY_ENABLED", "1")
        .env("TELEMETRY_ENDPOINT", collector.url())
        .env("TELEMETRY_CA_FILE", collector.ca_file())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run flush");
    assert!(status.success());
}

fn flush_group(c: &mut Criterion) {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch");
    let template = scratch.path().join("template");
    prepared(&template);
    let collector = Collector::https();
    let first = scratch.path().join("check");
    copy_dir(&template, &first);
    flush(&first, &collector);
    assert_eq!(
        collector.record_ids().len() as u64,
        EVENTS,
        "every event arrives"
    );

    let mut group = c.benchmark_group("flush/30000_events");
    group.throughput(Throughput::Elements(EVENTS));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut round = 0;
    group.bench_function("otlp_gzip_https", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                round += 1;
                let home = scratch.path().join(format!("run-{round}"));
                copy_dir(&template, &home);
                let started = Instant::now();
                flush(&home, &collector);
                total += started.elapsed();
                let _ = std::fs::remove_dir_all(&home);
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, flush_group);
criterion_main!(benches);
