//! Logs the typical record (SPEC §6) N times to a path and reports the rate.
//!
//! ```sh
//! cargo run --release -p codemachine-telemetry --example logger_throughput -- 1000000 /dev/null
//! ```
//! The last line printed is `{"records":N,"secs":S,"per_sec":R}`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use codemachine_telemetry::{Destination, FormatChoice, Logger, fields};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(count), Some(path)) = (args.next().and_then(|n| n.parse::<u64>().ok()), args.next())
    else {
        eprintln!("usage: logger_throughput <records> <path>");
        return ExitCode::from(2);
    };
    let logger = Logger::builder()
        .format(FormatChoice::Json)
        .destination(Destination::Path(PathBuf::from(path)))
        .build()
        .with_context(fields! {
            "sessionId" => "3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192", "workflow" => "spec-to-code"
        });
    let started = Instant::now();
    for i in 0..count {
        logger.info_with(
            fields! {
                "command" => "start",
                "step" => i & 15,
                "durationMs" => 1234.5,
                "exitCode" => 0,
                "agent" => fields! {
                    "name" => "claude", "model" => "sonnet-4", "inputTokens" => 1200, "apiKey" => "sk-live-abc"
                },
                "password" => "hunter2",
                "token" => "tok_123",
            },
            "step completed",
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let per_sec = if secs > 0.0 { count as f64 / secs } else { 0.0 };
    println!("{{\"records\":{count},\"secs\":{secs:.6},\"per_sec\":{per_sec:.0}}}");
    ExitCode::SUCCESS
}
