//! `codemachine telemetry report` over a 100 MB spool (about 330,000 events in 100 batches,
//! three commands and a feature over 30 days), in one run.
//!
//! Group `report/100MB_spool`, the page cache warm:
//! - `read_only`: reading every batch file to the end, nothing else (the physical limit);
//! - `serde_json_value_per_line`: reading and parsing every line into a `serde_json::Value`
//!   (what any JSON reader pays);
//! - `telemetry_report_json`: the whole command, from start to exit (parsing each line as an
//!   event, adding it up, printing the JSON report);
//! - `jq_peer`: `jq -c` picking the kind, name and duration of every line (a streaming peer
//!   that does not even add anything up), when `jq` is installed.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SPOOL_BYTES: usize = 100_000_000;
const FILES: usize = 100;
const DAY_MS: u64 = 86_400_000;

/// A home whose telemetry folder holds `SPOOL_BYTES` of event lines; returns the batch files.
fn prepared(home: &Path) -> Vec<PathBuf> {
    let spool = home.join(".codemachine/telemetry/spool");
    std::fs::create_dir_all(&spool).expect("mkdir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let mut n = 0u64;
    (0..FILES)
        .map(|f| {
            let mut bytes = Vec::with_capacity(SPOOL_BYTES / FILES + 512);
            while bytes.len() < SPOOL_BYTES / FILES {
                bytes.extend_from_slice(line(now - n % 30 * DAY_MS, n).as_bytes());
                n += 1;
            }
            let path = spool.join(format!("{f:032x}.ndjson"));
            std::fs::write(&path, bytes).expect("write a batch");
            path
        })
        .collect()
}

fn line(ms: u64, n: u64) -> String {
    let ts = codemachine_telemetry::time::rfc3339_millis(ms);
    let tail = "\"session_id\":\"3f9c2a1e7b4d4c8e9a112d5e6f708192\",\"anon_id\":\"c69557dae91f9c1a67d0e7268940dc5d\",\"cli_version\":\"0.1.0\",\"os\":\"linux\",\"arch\":\"x86_64\"}\n";
    let id = format!("{:012x}{n:020x}", ms & 0xffff_ffff_ffff);
    match n % 4 {
        3 => format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"{ts}\",\"kind\":\"feature\",\"name\":\"export.csv\",\"count\":{},{tail}",
            n % 5 + 1
        ),
        k => format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"{ts}\",\"kind\":\"command\",\"name\":\"{}\",\"duration_ms\":{},\"exit_code\":{},\"count\":1,{tail}",
            ["build", "test", "logs.pretty"][k as usize],
            n * 7919 % 20_000,
            u8::from(n.is_multiple_of(13))
        ),
    }
}

fn report(home: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_codemachine"))
        .args(["telemetry", "report", "--json"])
        .env_clear()
        .env("HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run report");
    assert!(status.success());
}

fn jq_available() -> bool {
    Command::new("jq")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn report_group(c: &mut Criterion) {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch");
    let files = prepared(scratch.path());
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let mut group = c.benchmark_group("report/100MB_spool");
    group.throughput(Throughput::Bytes(bytes));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("read_only", |b| {
        b.iter(|| {
            let mut buf = vec![0u8; 1 << 16];
            for path in &files {
                let mut file = std::fs::File::open(path).expect("open");
                while file.read(&mut buf).expect("read") > 0 {}
            }
        })
    });
    group.bench_function("serde_json_value_per_line", |b| {
        b.iter(|| {
            let mut parsed = 0u64;
            for path in &files {
                let reader = BufReader::new(std::fs::File::open(path).expect("open"));
                for l in reader.lines() {
                    let v: serde_json::Value =
                        serde_json::from_str(&l.expect("a line")).expect("JSON");
                    parsed += u64::from(v.is_object());
                }
            }
            parsed
        })
    });
    group.bench_function("telemetry_report_json", |b| {
        b.iter(|| report(scratch.path()))
    });
    if jq_available() {
        group.bench_function("jq_peer", |b| {
            b.iter(|| {
                let status = Command::new("jq")
                    .arg("-c")
                    .arg("[.kind, .name, .duration_ms]")
                    .args(&files)
                    .stdout(Stdio::null())
                    .status()
                    .expect("run jq");
                assert!(status.success());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, report_group);
criterion_main!(benches);
