//! Settings resolution in one place: the switch (environment only) and the telemetry
//! configuration (flags > environment > config file > defaults, see the library's `config`).

use codemachine_telemetry::{Switch, TelemetryConfig};

/// The program's version, carried by every event it records.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Settings {
    pub switch: Switch,
    pub config: Result<TelemetryConfig, codemachine_telemetry::Error>,
}

impl Settings {
    /// Reads the environment and the config file (which lives outside the telemetry folder, so
    /// reading it is allowed even when telemetry is disabled).
    pub fn from_env() -> Self {
        Settings {
            switch: Switch::from_env(),
            config: TelemetryConfig::from_env(),
        }
    }
}
