//! A host command-line tool using the logger, local metrics and forwarding together.
//!
//! ```sh
//! TELEMETRY_ENABLED=1 cargo run -p codemachine-telemetry --example host_cli -- 3
//! cargo run -p codemachine -- telemetry inspect      # the events it recorded
//! ```
//! It runs N steps (first argument, default 3): each step is logged and counted as a feature, the
//! whole run is timed as one command. With telemetry disabled (the default) it behaves the same
//! and records nothing. With `TELEMETRY_ENDPOINT` set, it starts its own executable as a detached
//! sender when it ends (the hidden argument `--telemetry-sender` is that sender's entry point):
//! the library never assumes the `codemachine` binary.

use std::process::ExitCode;

use codemachine_telemetry::sender::{run_detached, start_detached};
use codemachine_telemetry::{Logger, Metrics, Settings, fields, install_panic_hook};

/// The hidden argument this host's detached sender is started with.
const SENDER_ARG: &str = "--telemetry-sender";

fn main() -> ExitCode {
    let settings = Settings::from_env();
    if std::env::args().nth(1).as_deref() == Some(SENDER_ARG) {
        run_detached(&settings);
        return ExitCode::SUCCESS;
    }
    let code = run(&settings);
    // After the command: a detached sender if one is due. Never waits, never fails the host.
    if let Ok(exe) = std::env::current_exe() {
        start_detached(&settings, &exe, [SENDER_ARG]);
    }
    code
}

fn run(settings: &Settings) -> ExitCode {
    let log = Logger::from_settings(settings, "host-cli");
    install_panic_hook(log.clone());
    let metrics = Metrics::new(settings, env!("CARGO_PKG_VERSION"));
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
