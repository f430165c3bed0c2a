//! Redaction of structures: which entries an object loses, beyond its own secret keys.
//!
//! - **Name/value pairs** are matched as keys: an object whose `name`, `key` or `k` (any case) is
//!   a secret key loses its `value`, `val` or `v` (HAR headers `{"name":"Authorization","value":…}`,
//!   AWS tags `{"Key":"password","Value":…}`, `{"k":"api_key","v":…}`).
//! - **`rawHeaders` / `rawTrailers`** (Node's alternating names and values, an array of strings):
//!   the value after a secret name becomes `[REDACTED]`, keeping the alternation; a last name
//!   without a value (an odd length) is scrubbed like any string.
//! - **Entry lists** (`Object.entries`, `dict.items()`, `fetch`'s `headers: [[name, value]]`: an
//!   array whose items are all two-item arrays starting with a string): the second item of a
//!   pair whose first is a secret key becomes `[REDACTED]`.
//! - An object key holding a secret shape removes its entry (that is part of
//!   [`Redactor::key_verdict`]).
//!
//! The same decisions are made by the record writer (`log/json.rs`) for borrowed fields and JSON
//! values, and here for [`Redactor::redact_json`], which works in place.

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

use super::keys::{KeyVerdict, ValueKind};
use super::{REDACTED, Redactor};

/// The first item of an entry-list pair longer than this is data, not a name.
const MAX_ENTRY_NAME: usize = 128;

/// `name`, `key` or `k`, any ASCII case: the name of a name/value pair.
pub(crate) fn is_name_field(key: &str) -> bool {
    key.eq_ignore_ascii_case("name")
        || key.eq_ignore_ascii_case("key")
        || key.eq_ignore_ascii_case("k")
}

/// `value`, `val` or `v`, any ASCII case: the value of a name/value pair.
pub(crate) fn is_value_field(key: &str) -> bool {
    key.eq_ignore_ascii_case("value")
        || key.eq_ignore_ascii_case("val")
        || key.eq_ignore_ascii_case("v")
}

/// True when `items` is an entry list: not empty, every item a two-item array starting with a
/// string (`[["password", "…"], ["host", "db"]]`).
pub(crate) fn is_entry_list(items: &[Json]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|item| matches!(item, Json::Array(pair) if pair.len() == 2 && pair[0].is_string()))
}

/// `rawHeaders` or `rawTrailers`, any ASCII case.
pub(crate) fn is_raw_headers(key: &str) -> bool {
    key.eq_ignore_ascii_case("rawHeaders") || key.eq_ignore_ascii_case("rawTrailers")
}

impl<'a> ValueKind<'a> {
    /// The kind of a JSON value.
    pub fn of_json(value: &'a Json) -> Self {
        match value {
            Json::Null => ValueKind::Null,
            Json::Bool(_) => ValueKind::Bool,
            Json::Number(_) => ValueKind::Number,
            Json::String(s) => ValueKind::Text(s),
            Json::Array(_) | Json::Object(_) if only_numbers(value) => ValueKind::Numbers,
            Json::Array(_) | Json::Object(_) => ValueKind::Other,
        }
    }
}

/// True for a number, or an array or object holding only such values.
fn only_numbers(value: &Json) -> bool {
    match value {
        Json::Number(_) => true,
        Json::Array(items) => items.iter().all(only_numbers),
        Json::Object(map) => map.values().all(only_numbers),
        _ => false,
    }
}

impl Redactor {
    /// The verdict on the secret name of a name/value object, if it has one.
    pub(crate) fn pair_name<'s>(
        &self,
        mut entries: impl Iterator<Item = (&'s str, Option<&'s str>)>,
    ) -> Option<KeyVerdict> {
        entries.find_map(|(k, v)| {
            let name = v.filter(|_| is_name_field(k))?;
            Some(self.key_verdict(name)).filter(|v| v.is_secret())
        })
    }

    /// The value that follows `name` in a `rawHeaders` array, redacted when `name` is secret.
    pub(crate) fn raw_header_value<'v>(&self, name: &str, value: &'v str) -> Cow<'v, str> {
        if self.key_verdict(name).removes(ValueKind::Text(value)) {
            Cow::Borrowed(REDACTED)
        } else {
            self.scrub(value)
        }
    }
}

/// True when `items` is Node's `rawHeaders` shape: strings (names and values alternating; an odd
/// length leaves a last name without a value, which is scrubbed like any string).
pub(crate) fn is_raw_header_list(items: &[Json]) -> bool {
    items.iter().all(Json::is_string)
}

impl Redactor {
    /// True when the second item of an entry-list pair named `name` is removed. Only the key
    /// rule counts here, on names that look like keys: an array of pairs is not always an object
    /// spelled out, so a first item that is text (or merely holds a secret shape) is scrubbed,
    /// and what follows it stays.
    pub(crate) fn removes_entry_value(&self, name: &str, value: &Json) -> bool {
        // A name is a key: short, made of letters, digits and `_ - . [ ] :` (a header name, an
        // identifier); text in first place (a PEM block, markup, a sentence) is data.
        let key_like = |b: u8| b.is_ascii_alphanumeric() || b"_-.[]:".contains(&b) || b >= 0x80;
        if name.len() > MAX_ENTRY_NAME || !name.bytes().all(key_like) {
            return false;
        }
        self.key_verdict(name)
            .with_shape(false)
            .removes(ValueKind::of_json(value))
    }
}

pub(crate) fn redact_json(redactor: &Redactor, value: &mut Json) {
    match value {
        Json::String(s) => {
            if let Cow::Owned(clean) = redactor.scrub(s) {
                *s = clean;
            }
        }
        Json::Array(items) if is_entry_list(items) => redact_entries(redactor, items),
        Json::Array(items) => items.iter_mut().for_each(|v| redact_json(redactor, v)),
        Json::Object(map) => redact_object(redactor, map),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

fn redact_object(redactor: &Redactor, map: &mut Map<String, Json>) {
    let pair = redactor.pair_name(map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    map.retain(|k, v| {
        let kind = ValueKind::of_json(v);
        let paired = pair.is_some_and(|p| is_value_field(k) && p.removes(kind));
        !(paired || redactor.removes_entry(k, kind))
    });
    for (key, value) in map.iter_mut() {
        match value {
            Json::Array(items) if is_raw_headers(key) && is_raw_header_list(items) => {
                redact_raw_headers(redactor, items);
            }
            _ => redact_json(redactor, value),
        }
    }
}

fn redact_entries(redactor: &Redactor, items: &mut [Json]) {
    for item in items {
        let Json::Array(pair) = item else { continue };
        let secret = match (&pair[0], &pair[1]) {
            (Json::String(name), value) => redactor.removes_entry_value(name, value),
            _ => false,
        };
        if secret {
            pair[1] = Json::String(REDACTED.to_owned());
        }
        redact_json(redactor, item);
    }
}

fn redact_raw_headers(redactor: &Redactor, items: &mut [Json]) {
    let mut pairs = items.chunks_exact_mut(2);
    for pair in &mut pairs {
        let [name, value] = pair else { continue };
        let (Json::String(n), Json::String(v)) = (&*name, &*value) else {
            continue;
        };
        let new_value = redactor.raw_header_value(n, v).into_owned();
        let new_name = redactor.scrub(n).into_owned();
        *name = Json::String(new_name);
        *value = Json::String(new_value);
    }
    pairs
        .into_remainder()
        .iter_mut()
        .for_each(|last| redact_json(redactor, last));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redacted(mut v: Json) -> Json {
        Redactor::new().redact_json(&mut v);
        v
    }

    #[test]
    fn name_value_pairs_lose_the_value_of_a_secret_name() {
        let har = json!({"headers": [
            {"name": "Authorization", "value": "Bearer abc"},
            {"name": "Accept", "value": "json"}
        ]});
        assert_eq!(
            redacted(har),
            json!({"headers": [{"name": "Authorization"}, {"name": "Accept", "value": "json"}]})
        );
        let tag = json!({"Key": "password", "Value": "hunter2"});
        assert_eq!(redacted(tag), json!({"Key": "password"}));
        let count = json!({"name": "tokens", "value": 12});
        assert_eq!(redacted(count.clone()), count);
    }

    #[test]
    fn raw_headers_keep_their_alternation() {
        let v = json!({"rawHeaders": ["Host", "x", "Cookie", "sid=1", "X-Api-Key", "k"]});
        assert_eq!(
            redacted(v),
            json!({"rawHeaders": ["Host", "x", "Cookie", "[REDACTED]", "X-Api-Key", "[REDACTED]"]})
        );
    }

    #[test]
    fn short_and_spelled_out_pair_fields_count_as_name_value_pairs() {
        for (pair, kept) in [
            (
                json!({"k": "api_key", "v": "s3cr3t"}),
                json!({"k": "api_key"}),
            ),
            (
                json!({"key": "api_key", "val": "s3cr3t"}),
                json!({"key": "api_key"}),
            ),
            (
                json!({"Key": "password", "Value": "s3cr3t"}),
                json!({"Key": "password"}),
            ),
            (
                json!({"k": "host", "v": "db"}),
                json!({"k": "host", "v": "db"}),
            ),
        ] {
            assert_eq!(redacted(pair), kept);
        }
    }

    #[test]
    fn entry_lists_lose_the_values_of_secret_names() {
        let v = json!({"headers": [["Authorization", "Basic abc"], ["Accept", "json"], ["password", 1234]]});
        assert_eq!(
            redacted(v),
            json!({"headers": [["Authorization", "[REDACTED]"], ["Accept", "json"], ["password", "[REDACTED]"]]})
        );
        let not_entries = json!([["password", "a", "b"], "x"]);
        assert_eq!(redacted(not_entries.clone()), not_entries);
        let counts = json!([["tokens", 12], ["hasPassword", true]]);
        assert_eq!(redacted(counts.clone()), counts);
    }

    #[test]
    fn odd_raw_headers_keep_their_pairs_and_scrub_the_last_name() {
        let v = json!({"rawHeaders": ["X-Api-Key", "k123", "password=hunter2"]});
        assert_eq!(
            redacted(v),
            json!({"rawHeaders": ["X-Api-Key", "[REDACTED]", "password=[REDACTED]"]})
        );
    }

    #[test]
    fn secret_shaped_keys_remove_their_entry() {
        let v = json!({"postgres://app:hunter2@db/x": "down", "ok": 1});
        assert_eq!(redacted(v), json!({"ok": 1}));
    }

    #[test]
    fn counts_booleans_and_working_directories_stay() {
        let v = json!({
            "max_tokens": 8192, "usage": {"tokens": {"input": 1200, "output": 80}},
            "passes": 12, "hasPassword": true, "secret": false, "x": null,
            "PWD": "/home/alice/proj", "MYSQL_PWD": "hunter2", "access_tokens": ["abc"],
            "input_tokens": "1200"
        });
        assert_eq!(
            redacted(v),
            json!({
                "max_tokens": 8192, "usage": {"tokens": {"input": 1200, "output": 80}},
                "passes": 12, "hasPassword": true, "secret": false, "x": null,
                "PWD": "/home/alice/proj", "input_tokens": "1200"
            })
        );
    }
}
