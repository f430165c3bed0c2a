//! Parsing setting values written by people: sizes, days, on/off words, colour choices.
//!
//! Each parser returns the reason a value was refused in the user's terms (what was expected,
//! with examples), never a parser's internals; the caller adds which setting it was.

use std::fmt;
use std::str::FromStr;

/// The longest a salt may live: ten years is already far past any useful rotation, and it keeps
/// every date derived from it printable.
pub const MAX_SALT_ROTATION_DAYS: u32 = 3650;

/// `67108864`, `64MiB`, `512 KiB`, `1GiB` (also `K`, `KB`, `M`, `MB`, `G`, `GB`, `T`, `TiB`, all
/// read as powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits_end);
    let not_a_size = || {
        format!(
            "{} is not a size (examples: 67108864, 64MiB, 512KiB)",
            crate::terminal::shown_value(t)
        )
    };
    if number.is_empty() {
        return Err(not_a_size());
    }
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(not_a_size()),
    };
    let too_large = || {
        format!(
            "{} is too large (at most 16 EiB)",
            crate::terminal::shown_value(t)
        )
    };
    let n: u64 = number.parse().map_err(|_| too_large())?;
    n.checked_mul(factor).ok_or_else(too_large)
}

/// A whole number of days from 1 to [`MAX_SALT_ROTATION_DAYS`].
pub fn parse_days(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let reason = || {
        format!(
            "{} is not a whole number of days from 1 to {MAX_SALT_ROTATION_DAYS} (example: 30)",
            crate::terminal::shown_value(t)
        )
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(reason());
    }
    match t.parse::<u32>() {
        Ok(days) if (1..=MAX_SALT_ROTATION_DAYS).contains(&days) => Ok(days),
        _ => Err(reason()),
    }
}

/// Checks a number of days read as a number (from the config file).
pub fn check_days(days: i128) -> Result<u32, String> {
    u32::try_from(days)
        .ok()
        .filter(|d| (1..=MAX_SALT_ROTATION_DAYS).contains(d))
        .ok_or_else(|| {
            format!("{days} is not a whole number of days from 1 to {MAX_SALT_ROTATION_DAYS}")
        })
}

/// An on/off word: `Some(true)` for `1`, `true`, `yes`, `on`; `Some(false)` for `0`, `false`,
/// `no`, `off` and the empty string; `None` for anything else. Trimmed, any case.
pub fn on_off(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "" | "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Where an extension of the redaction list is documented (`redact.documented`,
/// `TELEMETRY_REDACT_DOCUMENTED`): a reference such as `COMPLY-1234` or a link, kept as written
/// (trimmed); an "on" word (`true`, `yes`, `on`, `1`) as `"true"`; an "off" word (`false`, `no`,
/// `off`, `0`) or nothing means **not documented** (`None`): a value that says no never counts as
/// a reference.
pub fn documented_reference(value: &str) -> Option<String> {
    match on_off(value) {
        Some(true) => Some("true".to_owned()),
        Some(false) => None,
        None => Some(value.trim().to_owned()),
    }
}

/// When output may carry colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set or `TERM` is `dumb`. The default.
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to paint output that goes to a terminal (`true`) or elsewhere (`false`).
    pub fn paints(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Auto => terminal,
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

impl fmt::Display for ColorChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColorChoice::Auto => "auto",
            ColorChoice::Always => "always",
            ColorChoice::Never => "never",
        })
    }
}

impl FromStr for ColorChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ColorChoice::Auto),
            "always" => Ok(ColorChoice::Always),
            "never" => Ok(ColorChoice::Never),
            _ => Err(format!("{s:?} is not auto, always or never")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_units_and_refuse_overflow_with_a_clear_reason() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size(" 512 kib "), Ok(512 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("2T"), Ok(2 << 40));
        for bad in ["lots", "5PB", "", "-1", "1.5MiB", "0x10"] {
            assert!(
                parse_size(bad).unwrap_err().contains("is not a size"),
                "{bad}"
            );
        }
        for huge in ["99999999999999999999999", "20000000TiB"] {
            assert!(
                parse_size(huge).unwrap_err().contains("too large"),
                "{huge}"
            );
        }
    }

    #[test]
    fn days_are_bounded() {
        assert_eq!(parse_days("30"), Ok(30));
        for bad in [
            "0",
            "-1",
            "30d",
            "",
            "3651",
            "2920000",
            "99999999999999999999",
        ] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
        assert_eq!(check_days(7), Ok(7));
        assert!(check_days(0).is_err() && check_days(-3).is_err() && check_days(1 << 40).is_err());
    }

    #[test]
    fn on_off_words() {
        for v in ["1", "true", "TRUE", " yes ", "On"] {
            assert_eq!(on_off(v), Some(true), "{v}");
        }
        for v in ["0", "false", "No", "off", "", "  "] {
            assert_eq!(on_off(v), Some(false), "{v}");
        }
        assert_eq!(on_off("maybe"), None);
    }

    #[test]
    fn a_documented_reference_is_a_reference_or_a_yes_and_never_a_no() {
        for no in ["false", "FALSE", " 0 ", "no", "Off", "", "   "] {
            assert_eq!(documented_reference(no), None, "{no:?}");
        }
        for yes in ["true", "1", "Yes", " on "] {
            assert_eq!(
                documented_reference(yes).as_deref(),
                Some("true"),
                "{yes:?}"
            );
        }
        assert_eq!(
            documented_reference(" COMPLY-1234 ").as_deref(),
            Some("COMPLY-1234")
        );
        assert_eq!(
            documented_reference("https://wiki.example/redaction").as_deref(),
            Some("https://wiki.example/redaction")
        );
    }

    #[test]
    fn colour_choices() {
        assert_eq!("Always".parse(), Ok(ColorChoice::Always));
        assert!("sometimes".parse::<ColorChoice>().is_err());
        assert!(ColorChoice::Auto.paints(true) && !ColorChoice::Auto.paints(false));
        assert!(ColorChoice::Always.paints(false) && !ColorChoice::Never.paints(true));
    }
}
