//! The switch: is telemetry on (and, when on, may its events leave the machine), and what
//! decided it.
//!
//! Order (SPEC §2, §4, §8), first that speaks decides:
//! 1. `DO_NOT_TRACK` set to anything but an "off" word: off (an opt-out is honoured even when
//!    malformed);
//! 2. the machine policy's `telemetry = "off"`: off;
//! 3. `TELEMETRY_ENABLED`, for this run (a recognised word decides; anything else is off, with a
//!    warning: fail closed, a typo never turns collection on);
//! 4. the consent stored by `telemetry enable [--local-only] | disable` (`on`, `local`, `off`);
//! 5. the default: off.
//!
//! Then the policy's `telemetry = "local"` caps "on" to "local" (recorded, never forwarded), and a
//! configuration that cannot be used turns a "yes" into "no" (see
//! [`Switch::refused_by_configuration`]).

use std::fmt;

use super::env::Environment;
use super::values::on_off;
use crate::env_vars::{DO_NOT_TRACK, TELEMETRY_ENABLED};

/// Whether telemetry is on, whether its events may be forwarded, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    mode: Mode,
    decided_by: Decision,
}

/// What telemetry may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Nothing is recorded.
    Off,
    /// Events are recorded and kept on this machine, apart from the others, never forwarded
    /// unless an operator asks (`flush --include-local`).
    Local,
    /// Events are recorded, and forwarded when an endpoint is configured.
    On,
}

impl Mode {
    /// `off`, `local` or `on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Local => "local",
            Mode::On => "on",
        }
    }

    /// Reads `on`, `local`, `off` (any case, trimmed).
    pub fn parse(text: &str) -> Option<Mode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "on" => Some(Mode::On),
            "local" => Some(Mode::Local),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

/// The consent `telemetry enable|disable` stored in the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// What the user chose.
    pub mode: Mode,
    /// When (as written, RFC 3339), if the file says.
    pub date: Option<String>,
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
    /// The machine policy (its file): off, or capped to local.
    Policy {
        /// The policy file that decided.
        file: String,
        /// Its `telemetry` rule.
        rule: String,
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
    /// The consent stored with `telemetry enable|disable`.
    Consent(Consent),
    /// Nothing decided: off (telemetry is opt-in).
    Default,
    /// Telemetry was asked for, but the configuration cannot be used: off until it is fixed.
    ConfigurationError,
    /// Set by the embedding program through the API.
    Api,
}

impl Decision {
    /// The short name `status --json` reports under `decided_by`: `policy`, `DO_NOT_TRACK`,
    /// `TELEMETRY_ENABLED`, `consent`, `default`, `configuration error` or `api`.
    pub fn key(&self) -> &'static str {
        match self {
            Decision::DoNotTrack { .. } => DO_NOT_TRACK,
            Decision::Policy { .. } => "policy",
            Decision::TelemetryEnabled { .. } | Decision::Unrecognised { .. } => TELEMETRY_ENABLED,
            Decision::Consent(_) => "consent",
            Decision::Default => "default",
            Decision::ConfigurationError => "configuration error",
            Decision::Api => "api",
        }
    }

    /// What a person can do to turn telemetry on, if anything short of changing what decided.
    pub fn how_to_enable(&self) -> Option<String> {
        match self {
            Decision::Default | Decision::Consent(_) => Some(
                "run `codemachine telemetry enable` (or set TELEMETRY_ENABLED=1 for one run)"
                    .into(),
            ),
            Decision::Unrecognised { .. } => {
                Some(format!("set {TELEMETRY_ENABLED} to 1, true, yes or on"))
            }
            Decision::TelemetryEnabled { .. } => Some(format!("set {TELEMETRY_ENABLED}=1")),
            Decision::DoNotTrack { .. } => Some(format!("unset {DO_NOT_TRACK} (it opts out)")),
            Decision::Policy { .. } => {
                Some("ask the machine's administrator (a policy decides)".into())
            }
            Decision::ConfigurationError => Some("fix the configuration (telemetry status)".into()),
            Decision::Api => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::DoNotTrack { value } => write!(
                f,
                "{DO_NOT_TRACK}={}",
                crate::terminal::shown_value(value).trim_matches('"')
            ),
            Decision::Policy { file, rule } => {
                write!(f, "the machine policy {file} (telemetry = {rule:?})")
            }
            Decision::TelemetryEnabled { value } => write!(f, "{TELEMETRY_ENABLED}={value}"),
            Decision::Unrecognised { value } => write!(
                f,
                "{TELEMETRY_ENABLED}={} is not a recognised value (1, true, yes, on / 0, false, no, off)",
                crate::terminal::shown_value(value)
            ),
            Decision::Consent(Consent { mode, date }) => match date {
                Some(date) => write!(f, "your consent ({}, given {date})", mode.as_str()),
                None => write!(f, "your consent ({})", mode.as_str()),
            },
            Decision::Default => write!(
                f,
                "{TELEMETRY_ENABLED} is not set and no consent was given (telemetry is opt-in)"
            ),
            Decision::ConfigurationError => {
                f.write_str("the configuration cannot be used (see telemetry status)")
            }
            Decision::Api => f.write_str("set by the program"),
        }
    }
}

/// The policy's cap on the switch: the most it allows, and the file that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    /// `Off`, `Local` or `On` (`user`: no cap).
    pub mode: Mode,
    /// The file.
    pub file: String,
}

impl Switch {
    /// The switch the layers decide: the environment, the stored consent, the policy's cap.
    pub fn resolve(env: &Environment, consent: Option<&Consent>, cap: Option<&Cap>) -> Switch {
        if let Some(value) = env.text(DO_NOT_TRACK).map(|v| v.trim().to_owned())
            && on_off(&value) != Some(false)
        {
            return Switch::new(Mode::Off, Decision::DoNotTrack { value });
        }
        if let Some(cap) = cap.filter(|c| c.mode == Mode::Off) {
            return Switch::new(Mode::Off, policy(cap));
        }
        let chosen = Switch::chosen(env, consent);
        match cap {
            Some(cap) if chosen.mode > cap.mode => Switch::new(cap.mode, policy(cap)),
            _ => chosen,
        }
    }

    /// The environment's switch alone (no consent, no policy).
    pub fn from_environment(env: &Environment) -> Switch {
        Switch::resolve(env, None, None)
    }

    /// `TELEMETRY_ENABLED` for this run, else the stored consent, else off.
    fn chosen(env: &Environment, consent: Option<&Consent>) -> Switch {
        if let Some(value) = env.text(TELEMETRY_ENABLED) {
            return match on_off(&value) {
                Some(on) => {
                    let mode = if on { Mode::On } else { Mode::Off };
                    Switch::new(
                        mode,
                        Decision::TelemetryEnabled {
                            value: value.trim().to_owned(),
                        },
                    )
                }
                None => Switch::new(Mode::Off, Decision::Unrecognised { value }),
            };
        }
        match consent {
            Some(consent) => Switch::new(consent.mode, Decision::Consent(consent.clone())),
            None => Switch::new(Mode::Off, Decision::Default),
        }
    }

    /// A switch set by the program: on or off, decided by [`Decision::Api`].
    pub fn api(enabled: bool) -> Switch {
        Switch::new(if enabled { Mode::On } else { Mode::Off }, Decision::Api)
    }

    fn new(mode: Mode, decided_by: Decision) -> Switch {
        Switch { mode, decided_by }
    }

    /// This switch when the configuration cannot be used: a "yes" becomes "no".
    pub(crate) fn refused_by_configuration(self) -> Switch {
        if self.enabled() {
            Switch::new(Mode::Off, Decision::ConfigurationError)
        } else {
            self
        }
    }

    /// True when telemetry records (on or local).
    pub fn enabled(&self) -> bool {
        self.mode != Mode::Off
    }

    /// Off, local or on.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// True when events are recorded but kept on this machine (a `local` consent or policy).
    pub fn local_only(&self) -> bool {
        self.mode == Mode::Local
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

fn policy(cap: &Cap) -> Decision {
    let rule = match cap.mode {
        Mode::Off => "off",
        Mode::Local => "local",
        Mode::On => "user",
    };
    Decision::Policy {
        file: cap.file.clone(),
        rule: rule.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(enabled: Option<&str>, dnt: Option<&str>) -> Environment {
        let mut pairs = Vec::new();
        pairs.extend(enabled.map(|v| (TELEMETRY_ENABLED, v)));
        pairs.extend(dnt.map(|v| (DO_NOT_TRACK, v)));
        Environment::from_pairs(pairs)
    }

    fn switch(enabled: Option<&str>, dnt: Option<&str>) -> Switch {
        Switch::from_environment(&env(enabled, dnt))
    }

    fn consent(mode: Mode) -> Consent {
        Consent {
            mode,
            date: Some("2026-11-28T09:00:00Z".into()),
        }
    }

    fn cap(mode: Mode) -> Cap {
        Cap {
            mode,
            file: "/etc/codemachine/policy.toml".into(),
        }
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

    /// The precedence matrix of SPEC §4 and §8: DO_NOT_TRACK > policy off > environment >
    /// consent > default, then the policy's local cap.
    #[test]
    fn precedence_matrix() {
        use Mode::{Local, Off, On};
        type Row = (
            Option<&'static str>,
            Option<&'static str>,
            Option<Mode>,
            Option<Mode>,
            Mode,
            &'static str,
        );
        let rows: &[Row] = &[
            // (TELEMETRY_ENABLED, DO_NOT_TRACK, consent, policy cap, mode, decided by)
            (None, None, None, None, Off, "default"),
            (None, None, Some(On), None, On, "consent"),
            (None, None, Some(Local), None, Local, "consent"),
            (None, None, Some(Off), None, Off, "consent"),
            (Some("1"), None, Some(Off), None, On, "TELEMETRY_ENABLED"),
            (Some("0"), None, Some(On), None, Off, "TELEMETRY_ENABLED"),
            (Some("1"), None, Some(Local), None, On, "TELEMETRY_ENABLED"),
            (Some("1"), Some("1"), Some(On), None, Off, "DO_NOT_TRACK"),
            (None, Some("1"), Some(On), None, Off, "DO_NOT_TRACK"),
            (Some("1"), None, None, Some(Off), Off, "policy"),
            (None, None, Some(On), Some(Off), Off, "policy"),
            (Some("1"), None, None, Some(Local), Local, "policy"),
            (None, None, Some(On), Some(Local), Local, "policy"),
            (None, None, Some(Local), Some(Local), Local, "consent"),
            (None, None, Some(Off), Some(Local), Off, "consent"),
            (Some("1"), None, None, Some(On), On, "TELEMETRY_ENABLED"),
            (Some("1"), Some("1"), None, Some(Local), Off, "DO_NOT_TRACK"),
        ];
        for (enabled, dnt, stored, policy, mode, by) in rows {
            let stored = stored.map(consent);
            let policy = policy.map(cap);
            let s = Switch::resolve(&env(*enabled, *dnt), stored.as_ref(), policy.as_ref());
            assert_eq!(
                (s.mode(), s.decided_by().key()),
                (*mode, *by),
                "{enabled:?} {dnt:?} {stored:?} {policy:?}"
            );
        }
    }
}
