//! Settings resolution in one place: the switch (environment only) and the telemetry
//! configuration (flags > environment > config file > defaults, see the library's `config`).

use codemachine_telemetry::{Error, Metrics, Switch, TelemetryConfig};

use crate::commands::note;

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

impl Settings {
    /// Says once, on stderr, what makes telemetry or redaction settings unusable for this run:
    /// an unrecognised switch value (every command), and for host commands a configuration that
    /// cannot be used (telemetry is then off) or a broken config file (its redaction keys are
    /// then not applied).
    pub fn warn_about_problems(&self, host_command: bool) {
        if let Some(warning) = self.switch.warning() {
            note(format_args!("warning: {warning}"));
        }
        let Err(err) = &self.config else { return };
        if !host_command {
            return; // the telemetry commands report it themselves
        }
        if self.switch.enabled {
            note(format_args!(
                "warning: telemetry disabled for this run: {err}"
            ));
        } else if matches!(err, Error::ConfigFile { .. }) {
            note(format_args!(
                "warning: {err}; its redaction keys are not applied"
            ));
        }
    }

    /// Metrics for a host command: enabled only with the switch on and a usable configuration.
    pub fn metrics(&self) -> Metrics {
        match (&self.config, self.switch.enabled) {
            (Ok(config), true) => Metrics::enabled(config.clone(), VERSION),
            _ => Metrics::disabled(),
        }
    }

    /// The telemetry configuration, or why it cannot be used.
    pub fn config(&self) -> anyhow::Result<&TelemetryConfig> {
        self.config
            .as_ref()
            .map_err(|e| anyhow::anyhow!("telemetry configuration: {e}"))
    }

    /// Keys the configuration adds to redaction (environment and config file).
    pub fn redact_keys(&self) -> &[String] {
        self.config
            .as_ref()
            .map_or(&[], |c| c.redact_keys.value.as_slice())
    }
}
