//! The switch: is telemetry on, and what decided it.
//!
//! Order (SPEC §2, §4): `DO_NOT_TRACK` set to anything but an "off" word disables whatever else is
//! set (an opt-out is honoured even when malformed); then `TELEMETRY_ENABLED` (a recognised word
//! decides, anything else disables with a warning: fail closed, a typo never turns collection on);
//! then the default, off. A configuration that cannot be used turns a "yes" into "no" (the
//! resolver applies that, see [`Switch::refused_by_configuration`]). The machine policy and the
//! stored consent of later versions slot in here, in that order, between `DO_NOT_TRACK` and the
//! default.

use std::fmt;

use super::env::Environment;
use super::values::on_off;
use crate::env_vars::{DO_NOT_TRACK, TELEMETRY_ENABLED};

/// Whether telemetry is on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    enabled: bool,
    decided_by: Decision,
}

/// What decided the switch.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// `DO_NOT_TRACK` holds an opt-out (anything but an "off" word): off.
    DoNotTrack {
        /// The variable's value, trimmed.
        value: String,
    },
    /// `TELEMETRY_ENABLED` holds a recognised on or off word.
    TelemetryEnabled {
        /// The variable's value, trimmed.
        value: String,
    },
    /// `TELEMETRY_ENABLED` holds something else: off, with a warning.
    Unrecognised {
        /// The variable's value.
        value: String,
    },
    /// Nothing decided: off (telemetry is opt-in).
    Default,
    /// Telemetry was asked for, but the configuration cannot be used: off until it is fixed.
    ConfigurationError,
    /// Set by the embedding program through the API.
    Api,
}

impl Decision {
    /// The short name `status --json` reports under `decided_by`: `DO_NOT_TRACK`,
    /// `TELEMETRY_ENABLED`, `default`, `configuration error` or `api`.
    pub fn key(&self) -> &'static str {
        match self {
            Decision::DoNotTrack { .. } => DO_NOT_TRACK,
            Decision::TelemetryEnabled { .. } | Decision::Unrecognised { .. } => TELEMETRY_ENABLED,
            Decision::Default => "default",
            Decision::ConfigurationError => "configuration error",
            Decision::Api => "api",
        }
    }

    /// What a person can do to turn telemetry on, if anything short of changing what decided.
    pub fn how_to_enable(&self) -> Option<String> {
        match self {
            Decision::Default => Some(format!("set {TELEMETRY_ENABLED}=1")),
            Decision::Unrecognised { .. } => {
                Some(format!("set {TELEMETRY_ENABLED} to 1, true, yes or on"))
            }
            Decision::TelemetryEnabled { .. } => Some(format!("set {TELEMETRY_ENABLED}=1")),
            Decision::DoNotTrack { .. } => Some(format!("unset {DO_NOT_TRACK} (it opts out)")),
            Decision::ConfigurationError => Some("fix the configuration (telemetry status)".into()),
            Decision::Api => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::DoNotTrack { value } => write!(f, "{DO_NOT_TRACK}={value}"),
            Decision::TelemetryEnabled { value } => write!(f, "{TELEMETRY_ENABLED}={value}"),
            Decision::Unrecognised { value } => write!(
                f,
                "{TELEMETRY_ENABLED}={value:?} is not a recognised value (1, true, yes, on / 0, false, no, off)"
            ),
            Decision::Default => write!(f, "{TELEMETRY_ENABLED} is not set (telemetry is opt-in)"),
            Decision::ConfigurationError => {
                f.write_str("the configuration cannot be used (see telemetry status)")
            }
            Decision::Api => f.write_str("set by the program"),
        }
    }
}

impl Switch {
    /// The switch the environment decides.
    pub fn from_environment(env: &Environment) -> Switch {
        if let Some(value) = env.text(DO_NOT_TRACK).map(|v| v.trim().to_owned())
            && on_off(&value) != Some(false)
        {
            return Switch::off(Decision::DoNotTrack { value });
        }
        let Some(value) = env.text(TELEMETRY_ENABLED) else {
            return Switch::off(Decision::Default);
        };
        match on_off(&value) {
            Some(enabled) => Switch {
                enabled,
                decided_by: Decision::TelemetryEnabled {
                    value: value.trim().to_owned(),
                },
            },
            None => Switch::off(Decision::Unrecognised { value }),
        }
    }

    /// A switch set by the program: on or off, decided by [`Decision::Api`].
    pub fn api(enabled: bool) -> Switch {
        Switch {
            enabled,
            decided_by: Decision::Api,
        }
    }

    fn off(decided_by: Decision) -> Switch {
        Switch {
            enabled: false,
            decided_by,
        }
    }

    /// This switch when the configuration cannot be used: a "yes" becomes "no".
    pub(crate) fn refused_by_configuration(self) -> Switch {
        if self.enabled {
            Switch::off(Decision::ConfigurationError)
        } else {
            self
        }
    }

    /// True when telemetry records.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// What decided.
    pub fn decided_by(&self) -> &Decision {
        &self.decided_by
    }

    /// The warning to print (once per process), when `TELEMETRY_ENABLED` was not understood.
    pub fn warning(&self) -> Option<String> {
        matches!(self.decided_by, Decision::Unrecognised { .. })
            .then(|| format!("telemetry is off: {}", self.decided_by))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switch(enabled: Option<&str>, dnt: Option<&str>) -> Switch {
        let mut pairs = Vec::new();
        pairs.extend(enabled.map(|v| (TELEMETRY_ENABLED, v)));
        pairs.extend(dnt.map(|v| (DO_NOT_TRACK, v)));
        Switch::from_environment(&Environment::from_pairs(pairs))
    }

    #[test]
    fn recognised_words_decide_and_everything_else_disables() {
        for v in ["1", "true", "TRUE", " yes ", "On"] {
            assert!(switch(Some(v), None).enabled(), "{v}");
        }
        for v in ["0", "false", "No", "off"] {
            let s = switch(Some(v), None);
            assert!(!s.enabled() && s.warning().is_none(), "{v}");
            assert_eq!(s.decided_by().key(), "TELEMETRY_ENABLED");
        }
        for v in ["", "  "] {
            assert_eq!(switch(Some(v), None).decided_by(), &Decision::Default);
        }
        let garbage = switch(Some("enable"), None);
        assert!(!garbage.enabled());
        assert!(
            garbage
                .warning()
                .unwrap()
                .contains("\"enable\" is not a recognised value")
        );
    }

    #[test]
    fn do_not_track_wins_even_when_malformed() {
        for dnt in ["1", "true", "maybe", "yes please", "2"] {
            let s = switch(Some("1"), Some(dnt));
            assert!(!s.enabled(), "{dnt}");
            assert_eq!(s.decided_by().key(), "DO_NOT_TRACK");
        }
        for dnt in ["0", "false", "no", "OFF", "", " "] {
            assert!(switch(Some("1"), Some(dnt)).enabled(), "{dnt}");
        }
    }

    #[test]
    fn a_configuration_error_turns_only_a_yes_into_a_no() {
        let on = switch(Some("1"), None).refused_by_configuration();
        assert_eq!(
            (on.enabled(), on.decided_by().key()),
            (false, "configuration error")
        );
        let dnt = switch(Some("1"), Some("1")).refused_by_configuration();
        assert_eq!(dnt.decided_by().key(), "DO_NOT_TRACK");
    }
}
