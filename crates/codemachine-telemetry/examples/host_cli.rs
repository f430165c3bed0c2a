//! A host command-line tool using the logger and local metrics together.
//!
//! ```sh
//! TELEMETRY_ENABLED=1 cargo run -p codemachine-telemetry --example host_cli -- 3
//! cargo run -p codemachine -- telemetry inspect      # the events it recorded
//! ```
//! It runs N steps (first argument, default 3): each step is logged and counted as a feature, the
//! whole run is timed as one command. With telemetry disabled (the default) it behaves the same
//! and records nothing.

use std::process::ExitCode;

use codemachine_telemetry::{Logger, Metrics, fields, install_panic_hook};

fn main() -> ExitCode {
    let log = Logger::from_env("host-cli");
    install_panic_hook(log.clone());
    let metrics = Metrics::from_env(env!("CARGO_PKG_VERSION"));
    let mut command = metrics.time_command("host-cli.run");

    let steps: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let run = log.with_context(fields! { "run" => metrics.session_id().unwrap_or("local") });
    for step in 0..steps {
        run.info_with(fields! { "step" => step }, "step done");
        // A telemetry failure is reported once by the library and never stops the host.
        let _ = metrics.record_feature("host-cli.step", 1);
    }
    run.info_with(fields! { "steps" => steps }, "run complete");
    command.exit_code(0);
    ExitCode::SUCCESS
}
