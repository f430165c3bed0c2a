//! Scrubbing cost per byte (SPEC §6, issue 6), beside a plain scan of the same buffer.
//!
//! Group `redact/1MiB`, each over the same 1 MiB buffers:
//! - `memchr_like`: counting one byte value, the cost of merely reading the buffer;
//! - `scrub_prose`: ordinary log text (no secret);
//! - `scrub_adversarial`: text packed with triggers (`password=`, `://`, `-----BEGIN`, brackets,
//!   quotes, backslashes, `%`, token prefixes) and some real (fake) secrets.
//!
//! Criterion reports throughput; ns per byte is the inverse.

use std::hint::black_box;

use codemachine_telemetry::Redactor;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MIB: usize = 1 << 20;

fn filled(units: &[&str]) -> String {
    let mut text = String::with_capacity(MIB + 256);
    let mut n = 0;
    while text.len() < MIB {
        text.push_str(units[n % units.len()]);
        n += 1;
    }
    text
}

fn prose() -> String {
    filled(&[
        "2026-11-28T10:00:00Z INFO step completed in 1234 ms for session 3f9c2a1e-7b4d-4c8e ",
        "workflow spec-to-code started by alice on devbox with model sonnet-4 and 12 agents; ",
        "GET https://api.example.com/v1/items?page=2 returned 200 after 3 retries. ",
    ])
}

fn adversarial() -> String {
    filled(&[
        "password=",
        "a://",
        "-----BEGIN ",
        "[",
        "{",
        "\"",
        "\\",
        "%",
        "%3D",
        "//u:",
        "token: \"",
        "eyJhbGciOi.",
        "sk-",
        "ghp_",
        "AKIA",
        "Bearer ",
        "Cookie: a=1; ",
        "user[password]=hunter2&",
        " ghp_0123456789abcdefghijABCDEFGHIJ012345 ",
        "é=ü:",
        "https://u:p@ss@host/x ",
        "Authorization: Basic dXNlcjpw\n",
        "'k': b'v', ",
    ])
}

fn redact_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("redact/1MiB");
    group.throughput(Throughput::Bytes(MIB as u64));
    group.sample_size(20);
    let redactor = Redactor::new();
    let (prose, adversarial) = (prose(), adversarial());
    group.bench_function("memchr_like", |b| {
        b.iter(|| {
            black_box(adversarial.as_bytes())
                .iter()
                .filter(|&&x| x == b'=')
                .count()
        })
    });
    group.bench_function("scrub_prose", |b| {
        b.iter(|| redactor.scrub(black_box(&prose)).len())
    });
    group.bench_function("scrub_adversarial", |b| {
        b.iter(|| redactor.scrub(black_box(&adversarial)).len())
    });
    group.finish();
}

criterion_group!(benches, redact_group);
criterion_main!(benches);
