//! The process environment, read once.
//!
//! This is the only place in the library that reads environment variables: [`Environment::capture`]
//! copies the variables named in [`env_vars::ALL`] into a snapshot, and everything downstream reads
//! the snapshot. Tests and embedders build one from pairs instead ([`Environment::from_pairs`]), so
//! no test has to change the real environment of its process.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::env_vars;

/// A snapshot of the variables the library reads.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: HashMap<&'static str, OsString>,
}

impl Environment {
    /// Reads every variable of [`env_vars::ALL`] from the process environment, once.
    pub fn capture() -> Environment {
        let vars = env_vars::ALL
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|value| (*name, value)))
            .collect();
        Environment { vars }
    }

    /// An environment holding only `pairs`; names the library does not read are ignored.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Environment
    where
        K: AsRef<str>,
        V: AsRef<OsStr>,
    {
        let vars = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                let name = env_vars::ALL.iter().find(|n| **n == k.as_ref())?;
                Some((*name, v.as_ref().to_owned()))
            })
            .collect();
        Environment { vars }
    }

    /// The raw value of `name`, if the variable is present (even empty).
    pub fn raw(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(name).map(OsString::as_os_str)
    }

    /// The value of `name` as text (invalid UTF-8 replaced), when it is present and not blank.
    /// Unset and blank mean the same thing for every setting.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(|v| v.to_string_lossy().into_owned())
            .filter(|v| !v.trim().is_empty())
    }

    /// The value of `name` as a path, when it is present and not empty (not trimmed: a path may
    /// hold spaces).
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.raw(name).filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    /// True when `name` is present with a non-empty value (blanks count: `NO_COLOR=" "` is set,
    /// as no-color.org reads it).
    pub fn is_set_non_empty(&self, name: &str) -> bool {
        self.raw(name).is_some_and(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_are_unset_for_text_but_present_for_no_color() {
        let env =
            Environment::from_pairs([("LOG_LEVEL", " "), ("NO_COLOR", " "), ("NOT_OURS", "x")]);
        assert_eq!(env.text("LOG_LEVEL"), None);
        assert!(env.is_set_non_empty("NO_COLOR"));
        assert_eq!(env.raw("NOT_OURS"), None);
    }

    #[test]
    fn paths_keep_their_spaces() {
        let env = Environment::from_pairs([("LOG_PATH", " a b ")]);
        assert_eq!(env.path("LOG_PATH"), Some(PathBuf::from(" a b ")));
    }
}
