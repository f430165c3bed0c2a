//! JSON or pretty: the rules of `LOG_FORMAT`, production detection and terminal detection.
//!
//! `LOG_FORMAT` decides when it is set. Otherwise records are pretty only when the environment
//! is not production and they end up on a terminal; JSON in every other case, so a pipe, a file
//! or a production service always gets machine-readable lines. When pretty output is wanted but
//! cannot be set up (a build without the `pretty` feature, like a missing pino-pretty), the
//! logger says so in one `warn` record and goes on in JSON.

use std::str::FromStr;

use crate::error::Error;
use crate::settings::ColorChoice;

/// What the configuration asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FormatChoice {
    /// Pretty on a terminal outside production, JSON otherwise. The default.
    #[default]
    Auto,
    /// Always JSON lines.
    Json,
    /// Always pretty (colour only on a terminal).
    Pretty,
}

impl std::fmt::Display for FormatChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FormatChoice::Auto => "auto",
            FormatChoice::Json => "json",
            FormatChoice::Pretty => "pretty",
        })
    }
}

impl FromStr for FormatChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(FormatChoice::Json),
            "pretty" => Ok(FormatChoice::Pretty),
            "" | "auto" => Ok(FormatChoice::Auto),
            _ => Err(Error::InvalidConfig {
                param: crate::env_vars::LOG_FORMAT,
                reason: format!("{} is not json or pretty", crate::terminal::shown_value(s)),
            }),
        }
    }
}

/// What the logger actually writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rendering {
    Json,
    Pretty { color: bool },
}

/// The facts the choice depends on.
pub(crate) struct Surroundings {
    pub(crate) production: bool,
    pub(crate) terminal: bool,
    pub(crate) color: ColorChoice,
}

/// Returns the rendering, and why pretty output was wanted but is not used, if it was.
pub(crate) fn resolve(choice: FormatChoice, around: &Surroundings) -> (Rendering, Option<String>) {
    let wants_pretty = match choice {
        FormatChoice::Json => false,
        FormatChoice::Pretty => true,
        FormatChoice::Auto => !around.production && around.terminal,
    };
    if !wants_pretty {
        return (Rendering::Json, None);
    }
    if !cfg!(feature = "pretty") {
        let why = "pretty output is not available: this build has no pretty renderer \
                   (cargo feature `pretty`); continuing in JSON";
        return (Rendering::Json, Some(why.to_owned()));
    }
    let color = around.color.paints(around.terminal);
    (Rendering::Pretty { color }, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around(production: bool, terminal: bool) -> Surroundings {
        Surroundings {
            production,
            terminal,
            color: ColorChoice::Auto,
        }
    }

    #[test]
    fn auto_is_pretty_only_on_a_terminal_outside_production() {
        let auto = |p, t| resolve(FormatChoice::Auto, &around(p, t)).0;
        assert_eq!(auto(true, true), Rendering::Json);
        assert_eq!(auto(false, false), Rendering::Json);
        let expected = if cfg!(feature = "pretty") {
            Rendering::Pretty { color: true }
        } else {
            Rendering::Json
        };
        assert_eq!(auto(false, true), expected);
    }

    #[test]
    fn an_explicit_choice_wins_and_colour_needs_a_terminal() {
        assert_eq!(
            resolve(FormatChoice::Json, &around(false, true)).0,
            Rendering::Json
        );
        if cfg!(feature = "pretty") {
            let (r, why) = resolve(FormatChoice::Pretty, &around(true, false));
            assert_eq!((r, why), (Rendering::Pretty { color: false }, None));
        }
    }

    #[test]
    fn parses_log_format_values() {
        assert_eq!(
            " JSON ".parse::<FormatChoice>().unwrap(),
            FormatChoice::Json
        );
        assert_eq!(
            "pretty".parse::<FormatChoice>().unwrap(),
            FormatChoice::Pretty
        );
        assert!("prety".parse::<FormatChoice>().is_err());
    }
}
