//! `codemachine telemetry ping`: the collector's reachability without sending any event: TLS
//! (protocol, handshake time, certificate subject, issuer and expiry), then an empty request with
//! the configured headers (status and latency), and what a batch sent now would get.
//!
//! Allowed with telemetry off (an operator asked: SPEC §2). Exit code 1 if a batch sent now
//! would not be delivered, or no endpoint is configured.

use anyhow::Result;
use codemachine_telemetry::Settings;
use codemachine_telemetry::forward::{PingReport, Verdict, ping};
use codemachine_telemetry::settings::forwarding::Forwarding;
use codemachine_telemetry::time::rfc3339_millis;

use super::{FAILURE, SUCCESS};
use crate::output::{self, clean};

pub fn run(settings: &Settings) -> Result<u8> {
    let config = match settings.forwarding() {
        Forwarding::Ready(config) => config,
        Forwarding::Local => {
            output::error(format_args!(
                "no endpoint is configured (TELEMETRY_ENDPOINT or [forward] endpoint): events stay local"
            ));
            return Ok(FAILURE);
        }
        Forwarding::Refused { reason, .. } => {
            output::error(format_args!("not pinged: {reason}"));
            return Ok(FAILURE);
        }
        Forwarding::Invalid { endpoint } => {
            output::error(format_args!(
                "the forwarding settings for {endpoint} cannot be used (see telemetry status)"
            ));
            return Ok(FAILURE);
        }
    };
    let report = ping(config);
    print_report(&report);
    Ok(if report.is_ok() { SUCCESS } else { FAILURE })
}

fn print_report(report: &PingReport) {
    println!("{:<10} {}", "Endpoint", clean(&report.url));
    if let Some(proxy) = &report.proxy {
        println!("{:<10} {}", "Proxy", clean(proxy));
    }
    match &report.tls {
        None => println!("{:<10} none (plain http:// to loopback)", "TLS"),
        Some(Ok(tls)) => {
            println!(
                "{:<10} {} in {} ms",
                "TLS",
                tls.protocol,
                tls.handshake.as_millis()
            );
            if let Some(cert) = &tls.certificate {
                println!("{:<10} {}", "Subject", clean(&cert.subject));
                println!("{:<10} {}", "Issuer", clean(&cert.issuer));
                println!(
                    "{:<10} {}",
                    "Expires",
                    rfc3339_millis(cert.not_after.saturating_mul(1000))
                );
            }
        }
        Some(Err(why)) => println!("{:<10} FAILED: {}", "TLS", clean(why)),
    }
    match &report.http {
        Ok(probe) => {
            let message = probe
                .message
                .as_deref()
                .map(|m| format!(" ({})", clean(m)))
                .unwrap_or_default();
            println!(
                "{:<10} HTTP {} in {} ms{message}",
                "Answer",
                probe.status,
                probe.latency.as_millis()
            );
        }
        Err(why) => println!("{:<10} none: {}", "Answer", clean(why)),
    }
    let verdict = match &report.verdict {
        Verdict::Delivered { .. } => "reachable: a batch sent now would be delivered".to_owned(),
        Verdict::Retry { reason, .. } => {
            format!("not now: a batch would be kept and retried ({reason})")
        }
        Verdict::Rejected {
            pause: true,
            reason,
            ..
        } => format!("refused: sending would pause ({reason})"),
        Verdict::Rejected { reason, .. } => {
            format!("refused: a batch would be set aside ({reason})")
        }
        Verdict::Split => "the collector finds even an empty request too large".to_owned(),
    };
    println!("{:<10} {}", "Verdict", clean(&verdict));
}
