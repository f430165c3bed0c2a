//! Redaction: always on, shared by logs and metrics.
//!
//! Two rules, applied everywhere a value is written (fields, context, errors, messages):
//! - **keys**: an object entry whose key names a secret is removed with its value, at
//!   any depth, arrays included;
//! - **shapes**: inside every string, the parts that look like a secret (tokens,
//!   keys, passwords in URLs, `password=…`) become `[REDACTED]`.
//!
//! The default keys cannot be turned off; callers can only add to them.

mod keys;
mod shapes;

use std::borrow::Cow;
use std::fmt;

use serde_json::Value as Json;

use keys::{KeyPattern, KeyRule};
pub use shapes::REDACTED;

/// Keys that are always redacted. The first four come from the original requirement; the rest
/// are the names secrets most often travel under in configuration and HTTP clients.
pub const DEFAULT_REDACT_KEYS: &[&str] = &[
    "password",
    "token",
    "authorization",
    "apiKey",
    "secret",
    "passwd",
    "cookie",
    "private_key",
    "secret_key",
    "access_key",
    "credentials",
];

/// Decides which keys and which parts of strings are secrets, and removes them.
///
/// Cheap to clone (the key list is small) and safe to share between threads.
#[derive(Clone)]
pub struct Redactor {
    rule: KeyRule,
    extra: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("extra_keys", &self.extra)
            .finish()
    }
}

impl Redactor {
    /// A redactor with the default keys ([`DEFAULT_REDACT_KEYS`]).
    pub fn new() -> Self {
        let mut rule = KeyRule::new();
        for pattern in DEFAULT_REDACT_KEYS
            .iter()
            .filter_map(|k| KeyPattern::new(k))
        {
            rule.add(pattern);
        }
        Redactor {
            rule,
            extra: Vec::new(),
        }
    }

    /// Adds keys to the list (blank entries and repeats are ignored). The defaults stay.
    pub fn add_keys<I, S>(&mut self, keys: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for key in keys {
            let Some(pattern) = KeyPattern::new(key.as_ref()) else {
                continue;
            };
            let listed = pattern.listed().to_owned();
            if self.rule.add(pattern) {
                self.extra.push(listed);
            }
        }
    }

    /// The keys added to the defaults, as they were given.
    pub fn extra_keys(&self) -> &[String] {
        &self.extra
    }

    /// Every key in force: the defaults, then the added ones.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.rule.patterns().iter().map(KeyPattern::listed)
    }

    /// True when an entry with this key must be removed.
    #[inline]
    pub fn is_secret_key(&self, key: &str) -> bool {
        self.rule.matches(key)
    }

    /// `text` with every secret-shaped part replaced by [`REDACTED`]; borrowed when clean.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        shapes::scrub(text, &self.rule)
    }

    /// Removes secret keys (at any depth) and scrubs every string of a JSON value, in place.
    pub fn redact_json(&self, value: &mut Json) {
        match value {
            Json::String(s) => {
                if let Cow::Owned(clean) = self.scrub(s) {
                    *s = clean;
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Json::Object(map) => {
                map.retain(|k, _| !self.is_secret_key(k));
                map.values_mut().for_each(|v| self.redact_json(v));
            }
            Json::Null | Json::Bool(_) | Json::Number(_) => {}
        }
    }
}

/// Splits a comma-separated key list (as in `TELEMETRY_REDACT_KEYS`), dropping blanks.
pub fn parse_key_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_rule_table() {
        let r = Redactor::new();
        let must = [
            "password",
            "Password",
            "PASSWORD",
            "token",
            "authorization",
            "Authorization",
            "apiKey",
            "API_KEY",
            "api-key",
            "x-api-key",
            "X-Api-Key",
            "accessToken",
            "access_token",
            "db_password",
            "dbPassword",
            "client-secret",
            "clientSecret",
            "AWS_SECRET_ACCESS_KEY",
            "secret",
            "passwd",
            "cookie",
            "Set-Cookie",
            "private_key",
            "privateKey",
            "secret_key",
            "access_key",
            "credentials",
            "awsCredentials",
            "refresh.token",
            "GITHUB_TOKEN",
            "APIKey",
            "oauth2Token",
            "proxy-authorization",
        ];
        let must_not = [
            "tokenCount",
            "inputTokens",
            "max_tokens",
            "tokenizer",
            "passwordHint",
            "tokens",
            "keyId",
            "key",
            "secretName",
            "cookies_enabled",
            "author",
            "authorized",
            "apiKeyId",
            "command",
            "step",
            "durationMs",
            "",
            "-",
        ];
        for key in must {
            assert!(r.is_secret_key(key), "{key} must be redacted");
        }
        for key in must_not {
            assert!(!r.is_secret_key(key), "{key} must survive");
        }
    }

    #[test]
    fn added_keys_extend_but_never_replace_the_defaults() {
        let mut r = Redactor::new();
        r.add_keys(["sessionKey", " ", "password", "sessionKey"]);
        assert!(r.is_secret_key("user_session_key"));
        assert!(r.is_secret_key("password"));
        assert_eq!(r.extra_keys(), ["sessionKey"]);
        assert_eq!(r.keys().count(), DEFAULT_REDACT_KEYS.len() + 1);
    }

    #[test]
    fn redact_json_removes_keys_at_any_depth_and_scrubs_strings() {
        let mut v = json!({
            "a": [{"token": 1, "keep": "password=hunter2"}],
            "nested": {"deeper": {"apiKey": "x", "tokenCount": 3}},
            "Authorization": "Bearer abc"
        });
        Redactor::new().redact_json(&mut v);
        assert_eq!(
            v,
            json!({
                "a": [{"keep": "password=[REDACTED]"}],
                "nested": {"deeper": {"tokenCount": 3}}
            })
        );
    }

    #[test]
    fn parses_comma_separated_key_lists() {
        assert_eq!(parse_key_list(" a, ,b ,"), ["a", "b"]);
    }
}
