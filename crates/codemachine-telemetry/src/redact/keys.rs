//! The key rule: which object keys name a secret.
//!
//! A key is split into words (camelCase, snake_case, kebab-case, dots, spaces); it matches a listed
//! key when its last words equal that key's words, ignoring case. So `db_password`, `x-api-key` and
//! `AWS_SECRET_ACCESS_KEY` match, while `tokenCount`, `inputTokens` and `passwordHint` do not: the
//! last word decides, which keeps counters and hints that merely start with a secret's name.

/// Keys longer than this many words are judged on their last `MAX_WORDS` words, which is all the
/// rule looks at (no listed key comes close to this length).
const MAX_WORDS: usize = 16;

/// One listed key, kept as its lower-case words.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyPattern {
    listed: String,
    words: Vec<String>,
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
        Some(KeyPattern {
            listed: listed.trim().to_owned(),
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

    fn matches_suffix(&self, key_words: &[&str]) -> bool {
        key_words.len() >= self.words.len()
            && key_words[key_words.len() - self.words.len()..]
                .iter()
                .zip(&self.words)
                .all(|(k, p)| k.eq_ignore_ascii_case(p))
    }
}

/// True when `key` ends with the words of one of `patterns`.
pub(crate) fn matches_any(patterns: &[KeyPattern], key: &str) -> bool {
    // Fast path: almost every key fails on its last word, which costs one backward scan.
    let Some(last) = last_word(key) else {
        return false;
    };
    if !patterns
        .iter()
        .any(|p| p.last_word().eq_ignore_ascii_case(last))
    {
        return false;
    }
    let mut words = [""; MAX_WORDS];
    let n = last_words(key, &mut words);
    let key_words = &words[..n];
    patterns.iter().any(|p| p.matches_suffix(key_words))
}

/// Fills the start of `out` with the last (at most [`MAX_WORDS`]) words of `key`, in order,
/// returning how many were written.
fn last_words<'k>(key: &'k str, out: &mut [&'k str; MAX_WORDS]) -> usize {
    let mut n = 0;
    for word in split_words(key) {
        if n == MAX_WORDS {
            out.copy_within(1.., 0);
            out[MAX_WORDS - 1] = word;
        } else {
            out[n] = word;
            n += 1;
        }
    }
    n
}

fn last_word(key: &str) -> Option<&str> {
    split_words(key).last()
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

fn is_separator(b: u8) -> bool {
    b.is_ascii_punctuation() || b.is_ascii_whitespace()
}

/// A new word starts at `i` on `aB` and on the last capital of `ABc`.
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
    fn last_words_keeps_the_tail_of_long_keys_in_order() {
        let key = (0..20)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join("_");
        let mut out = [""; MAX_WORDS];
        let n = last_words(&key, &mut out);
        assert_eq!(n, MAX_WORDS);
        assert_eq!(out[0], "w4");
        assert_eq!(out[MAX_WORDS - 1], "w19");
        let n = last_words("a_b_c", &mut out);
        assert_eq!(&out[..n], ["a", "b", "c"]);
    }

    #[test]
    fn a_pattern_without_words_is_refused() {
        assert!(KeyPattern::new(" - ").is_none());
        assert_eq!(KeyPattern::new(" apiKey ").unwrap().listed(), "apiKey");
    }
}
