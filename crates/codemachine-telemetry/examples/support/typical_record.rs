//! The typical record of SPEC §6, shared by the throughput example and the benchmark so that both
//! measure exactly the same thing.

use codemachine_telemetry::{Logger, fields};

/// The context every typical record carries.
pub fn with_typical_context(logger: &Logger) -> Logger {
    logger.with_context(fields! {
        "sessionId" => "3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192", "workflow" => "spec-to-code"
    })
}

/// Logs the typical record for step `i` (its three secrets must vanish).
pub fn log_typical(logger: &Logger, i: u64) {
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
