//! What telemetry adds to a command's wall time (SPEC §6), in one run.
//!
//! Group `command/wall_time`: the real binary runs `codemachine log info …` (output to
//! `/dev/null`) in a scratch home, with telemetry disabled and enabled (local only: the command
//! records its `command` event in the spool). Target: enabled − disabled ≤ 1 ms, median.

use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn run(home: &std::path::Path, telemetry: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_codemachine"))
        .args(["log", "info", "benchmark", "--field", "step=1"])
        .env_clear()
        .env("HOME", home)
        .env("TELEMETRY_ENABLED", telemetry)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run codemachine");
    assert!(status.success());
}

fn command_group(c: &mut Criterion) {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch home");
    let mut group = c.benchmark_group("command/wall_time");
    group
        .sample_size(60)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("telemetry_disabled", |b| b.iter(|| run(home.path(), "0")));
    group.bench_function("telemetry_enabled_local", |b| {
        b.iter(|| run(home.path(), "1"))
    });
    group.finish();
}

criterion_group!(benches, command_group);
criterion_main!(benches);
