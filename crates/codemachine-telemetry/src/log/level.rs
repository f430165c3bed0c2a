//! Levels, numbered as pino numbers them.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A record's severity. The number is what goes on the wire (`"level":30`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// 10: step-by-step detail.
    Trace = 10,
    /// 20: information for debugging.
    Debug = 20,
    /// 30: the normal course of events.
    Info = 30,
    /// 40: something unexpected that the program handled.
    Warn = 40,
    /// 50: an operation failed.
    Error = 50,
    /// 60: the program cannot go on.
    Fatal = 60,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// pino's number for the level.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The lower-case name (`info`).
    pub fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// The level with this pino number, if it is one.
    pub fn from_number(n: u64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| u64::from(l.number()) == n)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = Error;

    /// Parses a level name, ignoring case and surrounding white space.
    fn from_str(s: &str) -> Result<Level, Error> {
        let name = s.trim();
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::InvalidLevel {
                value: s.to_owned(),
            })
    }
}

/// The lowest level a logger writes: a level, or `silent` for nothing at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Records at this level or above are written.
    At(Level),
    /// Nothing is written.
    Silent,
}

/// By default, `info`.
pub const DEFAULT_THRESHOLD: Threshold = Threshold::At(Level::Info);

impl Threshold {
    /// True when a record at `level` is written.
    pub fn allows(self, level: Level) -> bool {
        match self {
            Threshold::At(min) => level >= min,
            Threshold::Silent => false,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::At(level) => level.fmt(f),
            Threshold::Silent => f.write_str("silent"),
        }
    }
}

impl FromStr for Threshold {
    type Err = Error;

    /// A level name or `silent`, ignoring case.
    fn from_str(s: &str) -> Result<Threshold, Error> {
        if s.trim().eq_ignore_ascii_case("silent") {
            return Ok(Threshold::Silent);
        }
        s.parse().map(Threshold::At)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_carry_pino_numbers_and_parse_from_names() {
        let numbers: Vec<u8> = Level::ALL.iter().map(|l| l.number()).collect();
        assert_eq!(numbers, [10, 20, 30, 40, 50, 60]);
        assert_eq!(" WARN ".parse::<Level>().unwrap(), Level::Warn);
        assert!("verbose".parse::<Level>().is_err());
        assert_eq!(Level::from_number(50), Some(Level::Error));
        assert_eq!(Level::from_number(35), None);
    }

    #[test]
    fn silent_threshold_allows_nothing() {
        let silent: Threshold = "Silent".parse().unwrap();
        assert!(Level::ALL.iter().all(|l| !silent.allows(*l)));
        let warn: Threshold = "warn".parse().unwrap();
        assert!(!warn.allows(Level::Info) && warn.allows(Level::Fatal));
    }
}
