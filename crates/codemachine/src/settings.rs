//! The binary's side of settings: its flags become the library resolver's flag layer; nothing
//! else here resolves anything.

use codemachine_telemetry::settings::Environment;
use codemachine_telemetry::{Flags, Settings};

/// The program's version, carried by every event it records.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every layer resolved once for this run: `flags` over the environment (read once, here) over
/// the config file over defaults.
pub fn resolve(flags: Flags) -> Settings {
    Settings::builder()
        .environment(Environment::capture())
        .flags(flags)
        .build()
}
