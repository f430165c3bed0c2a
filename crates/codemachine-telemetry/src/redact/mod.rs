//! Redaction: always on, shared by logs, `logs pretty`, metrics, the wire and diagnostics.
//!
//! Two rules, applied everywhere a value is written (fields, context, errors, messages):
//! - **keys** (`keys.rs`): an object entry whose key names a secret is removed with its value, at
//!   any depth, arrays included; booleans, `null`, counts under plural keys and a working
//!   directory under `pwd` stay. Name/value pairs (`{"name":"Authorization","value":…}`), Node's
//!   `rawHeaders`, entry lists (`[["password","…"]]`) and keys that hold a secret shape
//!   themselves are handled in `structure.rs`;
//! - **shapes** (`scan.rs` and the matchers beside it): inside every string, the parts that look
//!   like a secret (provider tokens, JWTs, private key blocks, `Authorization` and cookie
//!   headers, passwords in URLs, `key=value` text in its many notations) become `[REDACTED]`.
//!
//! The default keys cannot be turned off; callers can only add to them. Writers ask
//! [`Redactor::key_verdict`], which is cached per thread, so the per-record cost of the key rule
//! is a look-up.

mod ansi;
mod blocks;
mod cache;
mod flags;
mod keys;
mod markup;
mod notation;
mod pairs;
mod providers;
mod scan;
#[cfg(test)]
mod scrub_tests;
mod structure;
mod url;

use std::borrow::Cow;
use std::fmt;

use serde_json::Value as Json;

pub use blocks::LineScrubber;
use keys::{KeyPattern, KeyRule};
pub use keys::{KeyVerdict, ValueKind};
pub use providers::provider_prefixes;
pub use scan::REDACTED;
pub(crate) use structure::{
    is_entry_list, is_name_field, is_raw_header_list, is_raw_headers, is_value_field,
};

/// Keys that are always redacted. The first four come from the original requirement; the rest
/// are the names secrets most often travel under in configuration, HTTP clients and CLIs.
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
    "pwd",
    "pass",
    "passphrase",
    "auth",
    "jwt",
    "bearer",
    "otp",
    "mnemonic",
    "connection_string",
    "ssh_key",
    "signing_key",
    "encryption_key",
    "master_key",
    "hmac_key",
    "client_key",
    "subscription_key",
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

    /// What the key rule says about an object key: whether it names a secret (or holds a secret
    /// shape itself), and the exceptions its values may claim. Cached per thread: the writers
    /// call this for every key of every record.
    #[inline]
    pub fn key_verdict(&self, key: &str) -> KeyVerdict {
        cache::verdict(self.rule.id() << 1 | 1, key, || {
            let shaped = matches!(scan::scrub(key, &self.rule), Cow::Owned(_));
            self.rule.judge(key).with_shape(shaped)
        })
    }

    /// True when a string value under this key is removed (booleans, `null` and the key rule's
    /// exceptions may still stay: see [`Redactor::removes_entry`]).
    #[inline]
    pub fn is_secret_key(&self, key: &str) -> bool {
        self.key_verdict(key).is_secret()
    }

    /// True when an object entry with this key and this kind of value is removed.
    #[inline]
    pub fn removes_entry(&self, key: &str, value: ValueKind<'_>) -> bool {
        self.key_verdict(key).removes(value)
    }

    /// `text` with every secret-shaped part replaced by [`REDACTED`]; borrowed when clean.
    /// Scrubbing twice changes nothing more than scrubbing once.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        scan::scrub(text, &self.rule)
    }

    /// Removes secret entries (at any depth, name/value pairs and `rawHeaders` included) and
    /// scrubs every string of a JSON value, in place.
    pub fn redact_json(&self, value: &mut Json) {
        structure::redact_json(self, value);
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

    /// Keys whose string values must go.
    const SECRET_KEYS: &[&str] = &[
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
        "credential",
        "awsCredentials",
        "refresh.token",
        "GITHUB_TOKEN",
        "APIKey",
        "oauth2Token",
        "proxy-authorization",
        "passwords",
        "apiKeys",
        "private_keys",
        "password1",
        "password[0]",
        "Password_2",
        "apikey",
        "APIKEY",
        "authtoken",
        "clientsecret",
        "PGPASSWORD",
        "pwd",
        "PWD",
        "MYSQL_PWD",
        "pass",
        "passphrase",
        "auth",
        "jwt",
        "bearer",
        "otp",
        "mnemonic",
        "connection_string",
        "ssh_key",
        "signing_key",
        "encryption_key",
        "master_key",
        "hmac_key",
        "client_key",
        "subscription_key",
        "password_confirmation",
        "passwordConfirm",
        "private_key_pem",
        "token_value",
        "ENCRYPTION_KEY_BASE64",
        "new_password",
        "user[password]",
        "pass\u{200B}word",
        "\u{FEFF}password",
        "pass\u{00AD}word",
        "db\u{00A0}password",
        "ＰＡＳＳＷＯＲＤ",
        "tokens",
        "inputTokens",
        "max_tokens",
        "cookies",
        "secrets",
        "session_cookie",
        "api_key_hex",
        "sshKeys",
    ];

    /// Keys whose values stay.
    const KEPT_KEYS: &[&str] = &[
        "tokenCount",
        "tokenizer",
        "passwordHint",
        "password_policy",
        "keyId",
        "key",
        "secretName",
        "cookies_enabled",
        "author",
        "authorized",
        "authority",
        "apiKeyId",
        "command",
        "step",
        "durationMs",
        "bypass",
        "compass",
        "passport",
        "token_count",
        "passwordLength",
        "value",
        "name",
        "",
        "-",
        "123",
        "tokenLimit",
    ];

    #[test]
    fn key_rule_table() {
        let r = Redactor::new();
        for key in SECRET_KEYS {
            assert!(r.is_secret_key(key), "{key:?} must be redacted");
        }
        for key in KEPT_KEYS {
            assert!(!r.is_secret_key(key), "{key:?} must survive");
        }
    }

    #[test]
    fn values_are_judged_with_their_key() {
        let r = Redactor::new();
        let removes = |k: &str, v: ValueKind<'_>| r.removes_entry(k, v);
        assert!(!removes("hasPassword", ValueKind::Bool));
        assert!(!removes("secret", ValueKind::Bool));
        assert!(!removes("password", ValueKind::Null));
        assert!(removes("password", ValueKind::Number));
        assert!(!removes("max_tokens", ValueKind::Number));
        assert!(!removes("input_tokens", ValueKind::Text("1200")));
        assert!(removes("input_tokens", ValueKind::Text("abc")));
        assert!(!removes("tokens", ValueKind::Numbers));
        assert!(removes("access_tokens", ValueKind::Other));
        assert!(!removes("passes", ValueKind::Number));
        assert!(!removes("PWD", ValueKind::Text("/home/alice/proj")));
        assert!(!removes("pwd", ValueKind::Text("C:\\work")));
        assert!(removes("MYSQL_PWD", ValueKind::Text("/x")));
        assert!(removes("PWD", ValueKind::Text("hunter2")));
        assert!(removes("postgres://app:hunter2@db/x", ValueKind::Bool));
    }

    #[test]
    fn added_keys_extend_but_never_replace_the_defaults() {
        let mut r = Redactor::new();
        r.add_keys(["sessionKey", " ", "password", "sessionKey", "Пароль"]);
        assert!(r.is_secret_key("user_session_key"));
        assert!(r.is_secret_key("password"));
        assert!(r.is_secret_key("ПАРОЛЬ"));
        assert_eq!(r.extra_keys(), ["sessionKey", "Пароль"]);
        assert_eq!(r.keys().count(), DEFAULT_REDACT_KEYS.len() + 2);
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
