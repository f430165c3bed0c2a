//! Recording one event beside the physical limit, in one run (SPEC §6).
//!
//! Group `metrics/record_event`, both into files in the same scratch folder:
//! - `codemachine`: `Metrics::record_feature` (validation, redaction check of the name, id and
//!   time, encoding, the cap's bookkeeping, one `write` to this process's segment);
//! - `physical_limit`: the same-length event line appended with one `write` each.
//!
//! Target: ours ≥ 50 % of the physical limit's rate.

use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use codemachine_telemetry::config::{Setting, Source};
use codemachine_telemetry::{Metrics, TelemetryConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn scratch_config(home: &std::path::Path) -> TelemetryConfig {
    let home = home.to_string_lossy().into_owned();
    let mut config = TelemetryConfig::resolve(|n| (n == "CODEMACHINE_HOME").then(|| home.clone()))
        .expect("a scratch configuration");
    // Millions of iterations would otherwise meet the 64 MiB cap and measure refusals.
    config.max_spool_bytes = Setting {
        value: u64::MAX / 2,
        source: Source::Flag("bench"),
    };
    config
}

fn metrics_group(c: &mut Criterion) {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch folder");
    let mut group = c.benchmark_group("metrics/record_event");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));

    let config = scratch_config(scratch.path());
    let metrics = Metrics::enabled(config.clone(), "0.1.0");
    metrics
        .record_feature("bench.feature", 1)
        .expect("first event");
    group.bench_function("codemachine", |b| {
        b.iter(|| {
            metrics
                .record_feature(black_box("bench.feature"), 1)
                .expect("recorded")
        })
    });

    let mut line = None;
    codemachine_telemetry::metrics::spool::for_each_line(&config.dir(), |l, _| {
        line.get_or_insert_with(|| format!("{l}\n").into_bytes());
    })
    .expect("read the spool");
    let line = line.expect("one event line");
    let path = scratch.path().join("physical.ndjson");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("open");
    group.bench_function("physical_limit", |b| {
        b.iter(|| (&file).write_all(black_box(&line)).expect("append"))
    });
    group.finish();
}

criterion_group!(benches, metrics_group);
criterion_main!(benches);
