//! What telemetry adds to a command's wall time (SPEC §6), in one run.
//!
//! Group `command/wall_time`: the real binary runs `codemachine log info …` (output captured
//! through a pipe and drained) in a scratch home:
//! - `telemetry_disabled`: the floor;
//! - `telemetry_enabled_local`: the command records its event (target: + ≤ 1 ms, median);
//! - `endpoint_<kind>`: telemetry on with a collector that refuses connections, cannot be
//!   routed to, accepts connections but never answers (black hole), or stalls every answer
//!   (slow) (target: + ≤ 2 ms, median). A detached sender is started at most once every 30 s and
//!   not at all during a backoff, so this is the steady state of a command run again and again;
//! - `endpoint_unreachable_spawning`: the same, with the sender's schedule cleared before each
//!   run, so that every run starts a detached sender (the worst case: the start itself).

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use test_collector::{Collector, Fault};

fn run(home: &Path, vars: &[(&str, String)]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codemachine"));
    cmd.args(["log", "info", "benchmark", "--field", "step=1"])
        .env_clear()
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run codemachine");
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut out)
        .expect("read");
    assert!(child.wait().expect("wait").success());
}

fn forwarding(endpoint: String, ca: Option<&Path>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("TELEMETRY_ENABLED", "1".to_owned()),
        ("TELEMETRY_ENDPOINT", endpoint),
    ];
    vars.push(("TELEMETRY_TIMEOUT_MS", "2000".to_owned()));
    if let Some(ca) = ca {
        vars.push(("TELEMETRY_CA_FILE", ca.display().to_string()));
    }
    vars
}

fn clear_schedule(home: &Path) {
    let state = home.join(".codemachine/telemetry/state");
    let _ = std::fs::remove_file(state.join("sender.started"));
    let _ = std::fs::remove_file(state.join("forward.json"));
}

fn command_group(c: &mut Criterion) {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch");
    let home = |name: &str| {
        let path = scratch.path().join(name);
        std::fs::create_dir_all(&path).expect("home");
        path
    };
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr");
    // Bound and listening, never accepting: connections complete, nothing is ever answered.
    let black_hole = TcpListener::bind("127.0.0.1:0").expect("black hole");
    let slow = Collector::https();
    slow.script((0..10_000).map(|_| Fault::Stall(Duration::from_secs(5))));
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "telemetry_disabled",
            vec![("TELEMETRY_ENABLED", "0".to_owned())],
        ),
        (
            "telemetry_enabled_local",
            vec![("TELEMETRY_ENABLED", "1".to_owned())],
        ),
        (
            "endpoint_refusing",
            forwarding(format!("https://{closed}"), None),
        ),
        (
            "endpoint_unreachable",
            forwarding("https://192.0.2.1:4318".to_owned(), None),
        ),
        (
            "endpoint_black_hole",
            forwarding(
                format!("https://{}", black_hole.local_addr().expect("addr")),
                None,
            ),
        ),
        (
            "endpoint_slow",
            forwarding(slow.url(), Some(slow.ca_file())),
        ),
    ];
    let mut group = c.benchmark_group("command/wall_time");
    group
        .sample_size(60)
        .measurement_time(Duration::from_secs(8));
    for (name, vars) in &cases {
        let home = home(name);
        group.bench_function(*name, |b| b.iter(|| run(&home, vars)));
    }
    let spawning = home("endpoint_unreachable_spawning");
    let vars = forwarding("https://192.0.2.1:4318".to_owned(), None);
    group.bench_function("endpoint_unreachable_spawning", |b| {
        b.iter_batched(
            || clear_schedule(&spawning),
            |()| run(&spawning, &vars),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, command_group);
criterion_main!(benches);
