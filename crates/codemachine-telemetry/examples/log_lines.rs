//! A host program that turns each line of its standard input into a log record.
//!
//! ```sh
//! printf 'first\nsecond\n' | LOG_PATH=/tmp/app.log cargo run -p codemachine-telemetry --example log_lines
//! ```
//! The logger is configured from the environment like any host's (`LOG_PATH`, `LOG_LEVEL`,
//! `LOG_FORMAT`, …). The tests build it without the `pretty` feature to check the fallback to
//! JSON; `codemachine log info --stdin` does the same job in the binary.

use std::io::BufRead;

use codemachine_telemetry::{Logger, fields};

fn main() {
    let logger = Logger::from_env("log-lines");
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let Ok(line) = line else { break };
        logger.info_with(fields! { "line" => n + 1 }, &line);
    }
}
