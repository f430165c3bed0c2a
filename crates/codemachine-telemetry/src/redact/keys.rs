//! The key rule (SPEC §1, v2): which object keys name a secret, and what their values may keep.
//!
//! A key is normalised (format characters such as zero-width spaces, the BOM and soft hyphens
//! dropped, then Unicode NFKC), split into words at every non-alphanumeric character, at camelCase
//! humps (read on the original case) and at letter/digit boundaries (`b64` and `base64` stay whole),
//! and each word is fully case-folded; purely numeric words are dropped. It matches a listed key
//! when, after trailing suffix words (`confirmation`, `new`, `pem`, `base64`, …) are set aside,
//! - its last words equal the listed key's words, the last one also in plural or singular form; or
//! - its last word ends with the listed key's words run together, for listed keys of 5 letters or
//!   more (`apikey`, `PGPASSWORD`; not `bypass`).
//!
//! The decision the writers need is more than yes/no: a plural key holding only numbers is a count
//! (`max_tokens: 8192`) and a bare `pwd` holding a path is the working directory. [`KeyVerdict`]
//! carries those facts and [`KeyVerdict::removes`] applies them to a value. Verdicts are pure
//! functions of the key bytes, so the redactor caches them (see `cache.rs`).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use unicode_normalization::UnicodeNormalization;

/// Words that may follow a listed key without changing what it names
/// (`password_confirmation`, `private_key_pem`, `ENCRYPTION_KEY_BASE64`).
const SUFFIX_WORDS: [&str; 11] = [
    "confirmation",
    "confirm",
    "new",
    "old",
    "current",
    "value",
    "pem",
    "b64",
    "base64",
    "hex",
    "raw",
];

/// Listed keys with at least this many letters also match run together at the end of a word.
const RUN_TOGETHER_MIN_LETTERS: usize = 5;

/// What the key rule says about one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyVerdict {
    secret: bool,
    plural: bool,
    workdir: bool,
    header: bool,
    cookie: bool,
    shaped: bool,
}

/// The kind of value an entry holds, as far as the key rule cares.
#[derive(Clone, Copy, Debug)]
pub enum ValueKind<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// An object or array holding only numbers (at any depth).
    Numbers,
    /// A string.
    Text(&'a str),
    /// Any other object or array.
    Other,
}

impl KeyVerdict {
    /// The verdict on a key that names nothing secret.
    pub const EMPTY: KeyVerdict = KeyVerdict {
        secret: false,
        plural: false,
        workdir: false,
        header: false,
        cookie: false,
        shaped: false,
    };

    /// True when a string value under this key is removed (the key names a secret, or holds a
    /// secret shape itself).
    pub fn is_secret(self) -> bool {
        self.secret || self.shaped
    }

    /// True when the key's last word is a plural (`tokens`): such a key holding only numbers is
    /// a count.
    pub fn is_plural(self) -> bool {
        self.plural
    }

    /// True when an entry with this key and this value is removed.
    pub fn removes(self, value: ValueKind<'_>) -> bool {
        if self.shaped {
            return true;
        }
        if !self.secret {
            return false;
        }
        match value {
            ValueKind::Null | ValueKind::Bool => false,
            ValueKind::Number | ValueKind::Numbers => !self.plural,
            ValueKind::Text(s) => !self.keeps_text(s),
            ValueKind::Other => true,
        }
    }

    /// True when this (secret) key's string value is one of the kept exceptions: a count held as
    /// digits under a plural key, a path under `pwd`.
    pub(crate) fn keeps_text(self, s: &str) -> bool {
        self.keeps_bytes(s.as_bytes())
    }

    /// [`KeyVerdict::keeps_text`] on bytes (a value found in text).
    pub(crate) fn keeps_bytes(self, s: &[u8]) -> bool {
        (self.plural && is_digit_string(s)) || (self.workdir && is_path(s))
    }

    /// True for `Authorization`-like keys, whose text value runs to the end of the header.
    pub(crate) fn is_header(self) -> bool {
        self.header
    }

    /// True for `Cookie`/`Set-Cookie`, whose text value is a list of `name=value` pairs.
    pub(crate) fn is_cookie(self) -> bool {
        self.cookie
    }

    pub(crate) fn with_shape(mut self, shaped: bool) -> Self {
        self.shaped = shaped;
        self
    }
}

/// `1200`, not empty, ASCII digits only.
fn is_digit_string(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// A working directory: `/…`, `~…` or a drive letter (`C:\…`, `C:/…`).
fn is_path(b: &[u8]) -> bool {
    match b {
        [b'/' | b'~', ..] => true,
        [d, b':', b'\\' | b'/', ..] => d.is_ascii_alphabetic(),
        _ => false,
    }
}

/// One listed key, kept as its normalised words.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyPattern {
    listed: String,
    words: Vec<String>,
    /// The words run together, when long enough to be matched that way.
    joined: Option<String>,
}

impl KeyPattern {
    /// Returns `None` for a key with no words (empty, only separators or only numbers).
    pub(crate) fn new(listed: &str) -> Option<Self> {
        let words = key_words(listed);
        if words.is_empty() {
            return None;
        }
        let joined: String = words.concat();
        let letters = joined.chars().filter(|c| c.is_alphabetic()).count();
        Some(KeyPattern {
            listed: listed.trim().to_owned(),
            joined: (letters >= RUN_TOGETHER_MIN_LETTERS).then_some(joined),
            words,
        })
    }

    /// The key as it was listed.
    pub(crate) fn listed(&self) -> &str {
        &self.listed
    }

    fn last(&self) -> &str {
        // `new` refuses patterns without words.
        self.words.last().map_or("", String::as_str)
    }

    /// `Some(plural)` when `core` (a key's words, suffix words set aside) ends with this pattern.
    fn matches_end(&self, core: &[String]) -> Option<bool> {
        let (last, before) = core.split_last()?;
        let n = self.words.len();
        let words_match =
            before.len() + 1 >= n && before[before.len() + 1 - n..] == self.words[..n - 1];
        if let Some(plural) = word_form(last, self.last()).filter(|_| words_match) {
            return Some(plural);
        }
        let joined = self.joined.as_deref()?;
        let plural = is_plural(last);
        let singular = last.strip_suffix("es").or_else(|| last.strip_suffix('s'));
        let ends = |w: &str| w.ends_with(joined);
        (ends(last) || singular.is_some_and(ends) || plural_ends(last, joined)).then_some(plural)
    }
}

/// True when `word` ends with `joined` in a singular form (`joined` listed as a plural such as
/// `credentials`, the word ending in `credential`).
fn plural_ends(word: &str, joined: &str) -> bool {
    joined
        .strip_suffix('s')
        .is_some_and(|single| word.len() > single.len() && word.ends_with(single))
}

/// `Some(plural)` when `word` is `listed`, its plural or (for a plural listed key) its singular.
fn word_form(word: &str, listed: &str) -> Option<bool> {
    if word == listed {
        return Some(is_plural(word));
    }
    if matches!(word.strip_prefix(listed), Some("s" | "es")) {
        return Some(true);
    }
    (listed.strip_suffix('s') == Some(word)).then_some(false)
}

/// `tokens`, `passes`, `credentials`: ends with `s` but not `ss` (`pass` is singular).
fn is_plural(word: &str) -> bool {
    word.ends_with('s') && !word.ends_with("ss")
}

/// Every rule ever built gets its own id, so cached verdicts of one rule are never served for
/// another.
static NEXT_RULE_ID: AtomicU64 = AtomicU64::new(1);

/// The listed keys.
#[derive(Clone)]
pub(crate) struct KeyRule {
    patterns: Vec<KeyPattern>,
    id: u64,
}

impl KeyRule {
    pub(crate) fn new() -> Self {
        KeyRule {
            patterns: Vec::new(),
            id: NEXT_RULE_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Adds a pattern; false when it was already there.
    pub(crate) fn add(&mut self, pattern: KeyPattern) -> bool {
        if self.patterns.iter().any(|p| p.words == pattern.words) {
            return false;
        }
        self.patterns.push(pattern);
        self.id = NEXT_RULE_ID.fetch_add(1, Ordering::Relaxed);
        true
    }

    pub(crate) fn patterns(&self) -> &[KeyPattern] {
        &self.patterns
    }

    /// This rule's identity (changes whenever a key is added).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The verdict on `key`, computed (not cached: see `Redactor::key_verdict`).
    pub(crate) fn judge(&self, key: &str) -> KeyVerdict {
        super::scan::work(4 * key.len() + 16);
        let words = key_words(key);
        let suffixes = words
            .iter()
            .rev()
            .take_while(|w| SUFFIX_WORDS.contains(&w.as_str()))
            .count();
        for strip in 0..=suffixes.min(words.len().saturating_sub(1)) {
            let core = &words[..words.len() - strip];
            if let Some(plural) = self.patterns.iter().find_map(|p| p.matches_end(core)) {
                let last = core.last().map_or("", String::as_str);
                return KeyVerdict {
                    secret: true,
                    plural: plural && strip == 0,
                    workdir: words.len() == 1 && words[0] == "pwd",
                    header: last.ends_with("authorization"),
                    cookie: last.starts_with("cookie"),
                    shaped: false,
                };
            }
        }
        KeyVerdict::default()
    }
}

/// The key's words: normalised, split, case-folded, numbers dropped (see the module docs).
pub(crate) fn key_words(key: &str) -> Vec<String> {
    let normal = normalise(key);
    split_words(&normal)
        .into_iter()
        .filter(|w| !w.chars().all(char::is_numeric))
        .map(fold)
        .collect()
}

/// Terminal escape sequences become separators, format characters are dropped, then NFKC, then
/// the look-alikes of the listed keys' letters are folded (ASCII keys without escapes are
/// returned as they are).
fn normalise(key: &str) -> Cow<'_, str> {
    let key = if super::ansi::has_raw(key) {
        Cow::Owned(super::ansi::strip(key))
    } else {
        Cow::Borrowed(key)
    };
    if key.is_ascii() {
        return key;
    }
    let visible: String = key.chars().filter(|c| !is_format_char(*c)).collect();
    let nfkc: String = visible
        .nfkc()
        .filter(|c| !is_format_char(*c))
        .map(fold_confusable)
        .collect();
    Cow::Owned(nfkc)
}

/// Letters that look like the Latin letters of the listed keys (Cyrillic, Greek, small capitals:
/// `pаssword` with a Cyrillic `а`, `ᴘᴀssword`), folded to those letters. Only characters that
/// look alike in the usual fonts are folded, so a word in another script still reads as itself
/// unless every letter of it is a look-alike.
fn fold_confusable(c: char) -> char {
    match c {
        'а' | 'ɑ' | 'α' | 'ᴀ' => 'a',
        'А' | 'Α' => 'A',
        'в' | 'ʙ' => 'b',
        'В' | 'Β' => 'B',
        'с' | 'ϲ' | 'ᴄ' => 'c',
        'С' | 'Ϲ' => 'C',
        'ԁ' | 'ᴅ' => 'd',
        'е' | 'ε' | 'ᴇ' => 'e',
        'Е' | 'Ε' => 'E',
        'һ' | 'ʜ' => 'h',
        'Н' | 'Η' => 'H',
        'і' | 'ι' | 'ɪ' => 'i',
        'І' | 'Ι' => 'I',
        'ј' | 'ᴊ' => 'j',
        'Ј' => 'J',
        'κ' | 'ᴋ' => 'k',
        'К' | 'Κ' => 'K',
        'ʟ' => 'l',
        'М' | 'Μ' | 'ᴍ' => 'M',
        'ո' | 'ɴ' => 'n',
        'Ν' => 'N',
        'о' | 'ο' | 'ᴏ' => 'o',
        'О' | 'Ο' => 'O',
        'р' | 'ρ' | 'ᴘ' => 'p',
        'Р' | 'Ρ' => 'P',
        'ԛ' => 'q',
        'ʀ' => 'r',
        'ѕ' | 'ꜱ' => 's',
        'Ѕ' => 'S',
        'т' | 'τ' | 'ᴛ' => 't',
        'Т' | 'Τ' => 'T',
        'υ' | 'ᴜ' => 'u',
        'ѵ' | 'ν' | 'ᴠ' => 'v',
        'ԝ' | 'ᴡ' => 'w',
        'х' | 'χ' => 'x',
        'Х' | 'Χ' => 'X',
        'у' | 'ʏ' => 'y',
        'ᴢ' => 'z',
        'Ζ' => 'Z',
        c => c,
    }
}

fn fold(word: &str) -> String {
    if word.is_ascii() {
        word.to_ascii_lowercase()
    } else {
        caseless::default_case_fold_str(word)
    }
}

/// Format and other default-ignorable characters (Unicode `Cf` and `Default_Ignorable_Code_Point`):
/// invisible, so they must not split or disguise a key.
fn is_format_char(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x0600..=0x0605
            | 0x06DD
            | 0x070F
            | 0x08E2
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Separator,
    Upper,
    Lower,
    Digit,
}

fn class(c: char) -> CharClass {
    if c.is_numeric() {
        CharClass::Digit
    } else if !c.is_alphanumeric() {
        CharClass::Separator
    } else if c.is_uppercase() {
        CharClass::Upper
    } else {
        CharClass::Lower
    }
}

/// The words of a normalised key, in their original case.
fn split_words(key: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = key.char_indices().collect();
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for (n, &(at, c)) in chars.iter().enumerate() {
        let here = class(c);
        if here == CharClass::Separator {
            if let Some(s) = start.take() {
                words.push(&key[s..at]);
            }
            continue;
        }
        match start {
            None => start = Some(at),
            Some(s) if starts_word(key, s, &chars, n) => {
                words.push(&key[s..at]);
                start = Some(at);
            }
            Some(_) => {}
        }
    }
    if let Some(s) = start {
        words.push(&key[s..]);
    }
    words
}

/// True when a new word starts at `chars[n]` inside the word that began at byte `word_start`.
fn starts_word(key: &str, word_start: usize, chars: &[(usize, char)], n: usize) -> bool {
    let prev = class(chars[n - 1].1);
    let here = class(chars[n].1);
    let next = chars.get(n + 1).map(|&(_, c)| class(c));
    match (prev, here) {
        (CharClass::Lower, CharClass::Upper) => true,
        (CharClass::Upper, CharClass::Upper) => next == Some(CharClass::Lower),
        (CharClass::Upper | CharClass::Lower, CharClass::Digit) => {
            !is_base64_word(&key[word_start..chars[n].0], &key[chars[n].0..])
        }
        (CharClass::Digit, CharClass::Upper | CharClass::Lower) => true,
        _ => false,
    }
}

/// `b` or `base` followed by `64`: the words `b64` and `base64` stay whole.
fn is_base64_word(letters: &str, rest: &str) -> bool {
    (letters.eq_ignore_ascii_case("b") || letters.eq_ignore_ascii_case("base"))
        && rest.starts_with("64")
        && !rest[2..].starts_with(|c: char| c.is_numeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(key: &str) -> Vec<String> {
        key_words(key)
    }

    #[test]
    fn splits_every_naming_style_into_folded_words() {
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("API_KEY"), ["api", "key"]);
        assert_eq!(words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("oauth2Token"), ["oauth", "token"]);
        assert_eq!(words("password1"), ["password"]);
        assert_eq!(words("password[0]"), ["password"]);
        assert_eq!(words("Password_2"), ["password"]);
        assert_eq!(
            words("ENCRYPTION_KEY_BASE64"),
            ["encryption", "key", "base64"]
        );
        assert_eq!(words("keyB64"), ["key", "b64"]);
        assert_eq!(words("base64url"), ["base64", "url"]);
        assert_eq!(words("__"), Vec::<String>::new());
    }

    #[test]
    fn invisible_and_compatibility_characters_do_not_disguise_a_key() {
        assert_eq!(words("pass\u{200B}word"), ["password"]);
        assert_eq!(words("\u{FEFF}password"), ["password"]);
        assert_eq!(words("pass\u{00AD}word"), ["password"]);
        assert_eq!(words("db\u{00A0}password"), ["db", "password"]);
        assert_eq!(words("ＰＡＳＳＷＯＲＤ"), ["password"]);
        assert_eq!(words("STRASSE"), words("straße"));
        assert_eq!(words("ᴘᴀssword"), ["password"]);
        assert_eq!(words("p\u{0430}ssword"), ["password"]);
        assert_eq!(words("\x1b[1mapi_key\x1b[0m"), ["api", "key"]);
        assert_eq!(words("Пароль"), words("ПАРОЛЬ"));
    }

    #[test]
    fn a_pattern_without_words_is_refused() {
        assert!(KeyPattern::new(" - ").is_none());
        assert!(KeyPattern::new("123").is_none());
        assert_eq!(KeyPattern::new(" apiKey ").unwrap().listed(), "apiKey");
    }

    #[test]
    fn paths_and_digit_strings_are_recognised() {
        for path in ["/home/alice", "~/proj", "C:\\Users", "d:/x"] {
            assert!(is_path(path.as_bytes()), "{path}");
        }
        for not in ["hunter2", "C:", "", "12:/"] {
            assert!(!is_path(not.as_bytes()), "{not}");
        }
        assert!(is_digit_string(b"1200"));
        assert!(!is_digit_string(b"12a") && !is_digit_string(b""));
    }
}
