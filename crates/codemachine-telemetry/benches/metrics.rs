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

use codemachine_telemetry::{Metrics, Settings};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn scratch_settings(home: &std::path::Path) -> Settings {
    Settings::builder()
        .home(home)
        .telemetry(true)
        // Millions of iterations would otherwise meet the 64 MiB cap and measure refusals.
        .max_spool_bytes(u64::MAX / 2)
        .build()
}

fn metrics_group(c: &mut Criterion) {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch folder");
    let mut group = c.benchmark_group("metrics/record_event");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));

    let settings = scratch_settings(scratch.path());
    let metrics = Metrics::new(&settings, "0.1.0");
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
    let dir = settings.dir().expect("a scratch folder");
    codemachine_telemetry::metrics::spool::for_each_line(&dir, |_, l, _| {
        line.get_or_insert_with(|| format!("{l}\n").into_bytes());
    });
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
