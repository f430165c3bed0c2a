//! Logs the typical record (SPEC §6) N times to a path and reports the rate.
//!
//! ```sh
//! cargo run --release -p codemachine-telemetry --example logger_throughput -- 1000000 /dev/null
//! ```
//! The last line printed is `{"records":N,"secs":S,"per_sec":R}`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use codemachine_telemetry::{Destination, FormatChoice, Logger};

#[path = "support/typical_record.rs"]
mod typical_record;
use typical_record::{log_typical, with_typical_context};

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
        .build();
    let logger = with_typical_context(&logger);
    let started = Instant::now();
    for i in 0..count {
        log_typical(&logger, i);
    }
    let secs = started.elapsed().as_secs_f64();
    let per_sec = if secs > 0.0 { count as f64 / secs } else { 0.0 };
    // Not `println!`, which panics when stdout is closed (`| head`).
    let _ = writeln!(
        std::io::stdout(),
        "{{\"records\":{count},\"secs\":{secs:.6},\"per_sec\":{per_sec:.0}}}"
    );
    ExitCode::SUCCESS
}
