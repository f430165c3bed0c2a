//! The forwarder against the loopback test collector (and real collectors): every status,
//! `Retry-After` form and fault of SPEC §7, each payload decoded and compared field by field.

mod faults;
mod hostile;
mod payload;
mod ping;
mod proxy;
mod real_collectors;
mod redirects_and_tls;

use std::time::Duration;

use codemachine_telemetry::forward::{
    BatchReport, Client, ForwardConfig, ForwardConfigBuilder, send_batch,
};
use test_collector::Collector;

/// A timeout short enough for stall tests, long enough for a loaded 2-core machine.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

/// `n` event lines: ids `000…0001`…, commands and features, two anonymous ids.
pub fn lines(n: usize) -> Vec<String> {
    (1..=n).map(line).collect()
}

/// Event number `i` as a spool line.
pub fn line(i: usize) -> String {
    let command = i % 2 == 1;
    let extra = if command {
        format!("\"duration_ms\":{},\"exit_code\":{},", i * 10, i % 3)
    } else {
        String::new()
    };
    format!(
        "{{\"schema\":1,\"id\":\"{i:032x}\",\"ts\":\"2026-11-27T22:00:{:02}.{:03}Z\",\"kind\":\"{}\",\"name\":\"{}\",{extra}\"count\":{},\"session_id\":\"{}\",\"anon_id\":\"{}\",\"cli_version\":\"1.2.3\",\"os\":\"linux\",\"arch\":\"x86_64\"}}",
        i % 60,
        i % 1000,
        if command { "command" } else { "feature" },
        if command { "logs.pretty" } else { "export.csv" },
        if command { 1 } else { i },
        "5".repeat(32),
        if i.is_multiple_of(4) {
            "b".repeat(32)
        } else {
            "a".repeat(32)
        },
    )
}

/// The id of event `i`.
pub fn id(i: usize) -> String {
    format!("{i:032x}")
}

/// Settings for `collector`: its CA trusted, a short timeout.
pub fn config(collector: &Collector) -> ForwardConfigBuilder {
    ForwardConfig::builder(collector.url())
        .ca_file(collector.ca_file())
        .timeout(TIMEOUT)
}

/// A client for `collector` with default settings.
pub fn client(collector: &Collector) -> Client {
    Client::new(&config(collector).build().expect("valid settings")).expect("a client")
}

/// Sends `n` events as batch `batch`.
pub fn send(client: &Client, batch: &str, n: usize) -> BatchReport {
    send_batch(client, batch, &lines(n))
}
