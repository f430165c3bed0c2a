//! A host program that installs the panic hook and then panics.
//!
//! ```sh
//! cargo run -p codemachine-telemetry --example panicking_host
//! ```
//! Before the usual panic message on stderr, the log gets a `fatal` record with the message,
//! `location`, `thread` and the backtrace under `err.stack`; the exit code stays 101.

use codemachine_telemetry::{Logger, install_panic_hook};

fn main() {
    let logger = Logger::from_env("panicking-host");
    install_panic_hook(logger.clone());
    logger.info("about to fail");
    let token = "abc123";
    panic!("cannot continue: token={token}");
}
