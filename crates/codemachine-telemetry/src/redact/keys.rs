//! The key rule: which object keys name a secret.
//!
//! A key is split into words (camelCase, snake_case, kebab-case, dots, spaces); it matches a listed
//! key when its last words equal that key's words, ignoring case. So `db_password`, `x-api-key` and
//! `AWS_SECRET_ACCESS_KEY` match, while `tokenCount`, `inputTokens` and `passwordHint` do not: the
//! last word decides, which keeps counters and hints that merely start with a secret's name.

/// One listed key, kept as its lower-case words.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyPattern {
    listed: String,
    words: Vec<String>,
    /// Length and first byte of the last word, kept inline so that most keys are turned away
    /// without following a pointer.
    last_len: usize,
    last_first: u8,
}

impl KeyPattern {
    /// Returns `None` for a key with no words (empty, or only separators).
    pub(crate) fn new(listed: &str) -> Option<Self> {
        let words: Vec<String> = split_words(listed)
            .map(|w| w.to_ascii_lowercase())
            .collect();
        if words.is_empty() {
            return None;
        }
        let last = words.last()?.as_bytes();
        Some(KeyPattern {
            listed: listed.trim().to_owned(),
            last_len: last.len(),
            last_first: last[0],
            words,
        })
    }

    /// The key as it was listed.
    pub(crate) fn listed(&self) -> &str {
        &self.listed
    }

    fn last_word(&self) -> &str {
        // `new` refuses patterns without words.
        self.words.last().map_or("", String::as_str)
    }

    /// True when the key whose words, last first, are `key_words_rev` ends with this pattern.
    fn matches_rev<'k>(&self, key_words_rev: impl Iterator<Item = &'k str>) -> bool {
        let mut key_words = key_words_rev;
        self.words
            .iter()
            .rev()
            .all(|p| key_words.next().is_some_and(|k| k.eq_ignore_ascii_case(p)))
    }
}

/// The listed keys, with an index that turns most keys away after one look-up.
#[derive(Clone)]
pub(crate) struct KeyRule {
    patterns: Vec<KeyPattern>,
    /// For each ASCII first byte of a pattern's last word, a bit per last-word length (lengths
    /// from 31 up share bit 31).
    last_words: [u32; 128],
}

fn length_bit(len: usize) -> u32 {
    1 << len.min(31)
}

impl KeyRule {
    pub(crate) fn new() -> Self {
        KeyRule {
            patterns: Vec::new(),
            last_words: [0; 128],
        }
    }

    /// Adds a pattern; false when it was already there.
    pub(crate) fn add(&mut self, pattern: KeyPattern) -> bool {
        if self.patterns.contains(&pattern) {
            return false;
        }
        if let Some(slot) = self.last_words.get_mut(usize::from(pattern.last_first)) {
            *slot |= length_bit(pattern.last_len);
        }
        self.patterns.push(pattern);
        true
    }

    pub(crate) fn patterns(&self) -> &[KeyPattern] {
        &self.patterns
    }

    /// True when `key` ends with the words of one of the patterns.
    ///
    /// Hot: every key of every record comes here. Words are read from the end and only as far
    /// as a pattern needs, so most keys cost one short backward scan and one table look-up.
    #[inline]
    pub(crate) fn matches(&self, key: &str) -> bool {
        let Some(last) = last_word(key) else {
            return false;
        };
        let first = last.as_bytes()[0].to_ascii_lowercase();
        let possible = self
            .last_words
            .get(usize::from(first))
            .is_none_or(|lengths| lengths & length_bit(last.len()) != 0);
        possible
            && self.patterns.iter().any(|p| {
                p.last_len == last.len()
                    && p.last_first == first
                    && p.last_word().eq_ignore_ascii_case(last)
                    && (p.words.len() == 1 || p.matches_rev(words_rev(key)))
            })
    }
}

/// The words of `key` from the last to the first, with the boundaries of [`split_words`].
fn words_rev(key: &str) -> impl Iterator<Item = &str> {
    let mut rest = key;
    std::iter::from_fn(move || {
        let (start, end) = last_word_bounds(rest.as_bytes())?;
        let word = &rest[start..end];
        rest = &rest[..start];
        Some(word)
    })
}

#[inline]
fn last_word(key: &str) -> Option<&str> {
    last_word_bounds(key.as_bytes()).map(|(start, end)| &key[start..end])
}

/// Where the last word of `bytes` starts and ends.
#[inline]
fn last_word_bounds(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut end = bytes.len();
    while end > 0 && is_separator(bytes[end - 1]) {
        end -= 1;
    }
    if end == 0 {
        return None;
    }
    let mut start = end - 1;
    while start > 0 && !is_separator(bytes[start - 1]) && !is_word_boundary(bytes, start) {
        start -= 1;
    }
    Some((start, end))
}

/// The words of a key: runs of letters and digits, split at separators and at case changes
/// (`apiKey` → `api`, `Key`; `APIKey` → `API`, `Key`; `oauth2Token` → `oauth2`, `Token`).
pub(crate) fn split_words(key: &str) -> impl Iterator<Item = &str> {
    let bytes = key.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < bytes.len() && is_separator(bytes[start]) {
            start += 1;
        }
        if start >= bytes.len() {
            return None;
        }
        let begin = start;
        let mut i = begin + 1;
        while i < bytes.len() && !is_separator(bytes[i]) && !is_word_boundary(bytes, i) {
            i += 1;
        }
        start = i;
        Some(&key[begin..i])
    })
}

#[inline]
fn is_separator(b: u8) -> bool {
    SEPARATORS[usize::from(b)]
}

/// ASCII punctuation and white space.
static SEPARATORS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_punctuation() || c.is_ascii_whitespace();
        b += 1;
    }
    table
};

/// A new word starts at `i` on `aB` and on the last capital of `ABc`.
#[inline]
fn is_word_boundary(bytes: &[u8], i: usize) -> bool {
    let (prev, cur) = (bytes[i - 1], bytes[i]);
    if !cur.is_ascii_uppercase() {
        return false;
    }
    if prev.is_ascii_lowercase() || prev.is_ascii_digit() {
        return true;
    }
    prev.is_ascii_uppercase() && bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(key: &str) -> Vec<&str> {
        split_words(key).collect()
    }

    #[test]
    fn splits_every_naming_style_into_words() {
        assert_eq!(words("apiKey"), ["api", "Key"]);
        assert_eq!(words("API_KEY"), ["API", "KEY"]);
        assert_eq!(words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(words("APIKey"), ["API", "Key"]);
        assert_eq!(words("oauth2Token"), ["oauth2", "Token"]);
        assert_eq!(words("db.password"), ["db", "password"]);
        assert_eq!(words("--password"), ["password"]);
        assert_eq!(words("__"), Vec::<&str>::new());
    }

    #[test]
    fn backward_words_agree_with_the_forward_split() {
        for key in [
            "apiKey",
            "API_KEY",
            "APIKey",
            "x-api-key--",
            "oauth2Token",
            "a",
            "ÄpiKey",
            "key2Z",
            "ABCdEF",
            "--",
        ] {
            let mut backward: Vec<&str> = words_rev(key).collect();
            backward.reverse();
            assert_eq!(backward, words(key), "{key}");
        }
    }

    #[test]
    fn a_pattern_without_words_is_refused() {
        assert!(KeyPattern::new(" - ").is_none());
        assert_eq!(KeyPattern::new(" apiKey ").unwrap().listed(), "apiKey");
    }
}
