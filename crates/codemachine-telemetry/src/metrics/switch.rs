//! The opt-in switch: `TELEMETRY_ENABLED`, overridden by `DO_NOT_TRACK`. Environment only.
//!
//! Fail closed: a value that is neither truthy nor falsey disables telemetry (with one warning),
//! because a typo must never turn collection on.

use std::fmt;

use crate::env_vars::{DO_NOT_TRACK, TELEMETRY_ENABLED};

/// Whether telemetry is on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    /// True when local metrics are collected.
    pub enabled: bool,
    /// What decided it.
    pub decided_by: Decision,
}

/// What decided the switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `TELEMETRY_ENABLED` is unset or empty (the default: off).
    Unset,
    /// `TELEMETRY_ENABLED` holds a truthy or falsey value.
    Enabled(String),
    /// `TELEMETRY_ENABLED` holds something else: off, with a warning.
    Unrecognised(String),
    /// `DO_NOT_TRACK` is truthy: off whatever `TELEMETRY_ENABLED` says.
    DoNotTrack(String),
    /// Set by the program (the library API), not by the environment.
    Program,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Unset => write!(f, "{TELEMETRY_ENABLED} is not set (telemetry is opt-in)"),
            Decision::Enabled(v) => write!(f, "{TELEMETRY_ENABLED}={v}"),
            Decision::Unrecognised(v) => write!(
                f,
                "{TELEMETRY_ENABLED}={v:?} is not a recognised value (use 1/true/yes/on or 0/false/no/off); disabled"
            ),
            Decision::DoNotTrack(v) => write!(f, "{DO_NOT_TRACK}={v}"),
            Decision::Program => f.write_str("the program"),
        }
    }
}

impl Decision {
    /// A short form for notes (`TELEMETRY_ENABLED is not set`), without the advice the full form
    /// gives.
    pub fn summary(&self) -> String {
        match self {
            Decision::Unset => format!("{TELEMETRY_ENABLED} is not set"),
            Decision::Unrecognised(_) => format!("{TELEMETRY_ENABLED} has an unrecognised value"),
            other => other.to_string(),
        }
    }
}

/// Parsed switch value.
fn truthiness(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "" | "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Switch {
    /// Reads the two variables from the process environment.
    pub fn from_env() -> Switch {
        Switch::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the two variables through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Switch {
        if let Some(dnt) = get(DO_NOT_TRACK).filter(|v| truthiness(v) == Some(true)) {
            return Switch {
                enabled: false,
                decided_by: Decision::DoNotTrack(dnt.trim().to_owned()),
            };
        }
        let Some(value) = get(TELEMETRY_ENABLED).filter(|v| !v.trim().is_empty()) else {
            return Switch {
                enabled: false,
                decided_by: Decision::Unset,
            };
        };
        match truthiness(&value) {
            Some(enabled) => Switch {
                enabled,
                decided_by: Decision::Enabled(value.trim().to_owned()),
            },
            None => Switch {
                enabled: false,
                decided_by: Decision::Unrecognised(value),
            },
        }
    }

    /// The warning to print once, if the value was not recognised.
    pub fn warning(&self) -> Option<String> {
        matches!(self.decided_by, Decision::Unrecognised(_)).then(|| self.decided_by.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switch(enabled: Option<&str>, dnt: Option<&str>) -> Switch {
        Switch::from_lookup(|name| match name {
            TELEMETRY_ENABLED => enabled.map(str::to_owned),
            DO_NOT_TRACK => dnt.map(str::to_owned),
            _ => None,
        })
    }

    #[test]
    fn truthy_values_enable_and_everything_else_disables() {
        for v in ["1", "true", "TRUE", " yes ", "On"] {
            assert!(switch(Some(v), None).enabled, "{v}");
        }
        for v in ["0", "false", "No", "off", "", "  "] {
            assert!(!switch(Some(v), None).enabled, "{v}");
            assert!(switch(Some(v), None).warning().is_none());
        }
        assert_eq!(switch(None, None).decided_by, Decision::Unset);
    }

    #[test]
    fn garbage_disables_and_warns() {
        let s = switch(Some("enable"), None);
        assert!(!s.enabled);
        assert!(
            s.warning()
                .unwrap()
                .contains("\"enable\" is not a recognised value")
        );
    }

    #[test]
    fn do_not_track_wins() {
        let s = switch(Some("1"), Some("1"));
        assert!(!s.enabled);
        assert_eq!(s.decided_by, Decision::DoNotTrack("1".into()));
        assert!(switch(Some("1"), Some("0")).enabled);
        assert!(switch(Some("1"), Some("nonsense")).enabled);
    }
}
