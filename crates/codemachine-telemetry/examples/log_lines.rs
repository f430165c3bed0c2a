//! A host program that turns each line of its standard input into a log record.
//!
//! ```sh
//! printf 'first\nsecond\n' | LOG_PATH=/tmp/app.log cargo run -p codemachine-telemetry --example log_lines
//! ```
//! The logger is configured from the environment like any host's (`LOG_PATH`, `LOG_LEVEL`,
//! `LOG_FORMAT`, …); the tests use this program to drive a long-lived logger: FIFO readers that
//! go away, `SIGHUP` after log rotation, and a build without pretty output.

use std::io::BufRead;

use codemachine_telemetry::{Logger, fields};

fn main() {
    let logger = Logger::from_env("log-lines");
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let Ok(line) = line else { break };
        logger.info_with(fields! { "line" => n + 1 }, &line);
    }
}
