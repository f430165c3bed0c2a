//! Generators of secret-bearing text and keys for redaction property tests, reusable by any test
//! crate (include it with `#[path = "…/redaction_gen.rs"] mod redaction_gen;`): it depends only on
//! `proptest` and `std`, never on the redactor, so its expectations cannot agree with a wrong rule.
//!
//! - [`secret_text`]: one secret shape (provider token, JWT, private key block, `Authorization`,
//!   cookie, URL credentials, token users and query parameters, key/value text in every notation
//!   of SPEC §1 and of `docs/logging.md`: XML elements, HTML attributes, multipart fields,
//!   percent-encoded JSON, HTML entities, escaped and fullwidth separators, flags with a space,
//!   values on the next indented line, name/value pairs written as text) behind a prefix class (escapes, terminal colour codes and OSC 8
//!   hyperlinks, quotes, separators, glued letters or digits, `_`) inside a context (plain,
//!   quoted, JSON-escaped, coloured, in a query string…). Each secret part is a unique **canary**.
//! - [`secret_key`]: a listed key under a normalisation trick (case, separators, zero-width
//!   characters, BOM, soft hyphen, NBSP, fullwidth letters, numbers, plurals, run-together forms,
//!   suffix words).
//! - [`leaks`]: the 8-character windows of canaries found in an output.

use proptest::prelude::*;

/// One generated piece of text and the canaries that must not survive in any output.
#[derive(Clone, Debug)]
pub struct Secret {
    pub text: String,
    pub canaries: Vec<String>,
}

/// Every canary window of 8 characters that appears in `output`.
pub fn leaks(output: &str, canaries: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for canary in canaries {
        let chars: Vec<char> = canary.chars().collect();
        for window in chars.windows(8) {
            let w: String = window.iter().collect();
            if output.contains(&w) {
                found.push(format!("{w} (of {canary})"));
                break;
            }
        }
    }
    found
}

/// A deterministic generator of canary bodies (splitmix64).
#[derive(Clone, Debug)]
pub struct Bodies(u64);

impl Bodies {
    pub fn new(seed: u64) -> Self {
        Bodies(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `len` characters from `alphabet`, with at least one digit, capital and small letter when
    /// the alphabet has them (real tokens are random; so are canaries).
    pub fn body(&mut self, alphabet: &str, len: usize) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        let mut out: Vec<char> = (0..len)
            .map(|_| a[(self.next() % a.len() as u64) as usize])
            .collect();
        let classes: [fn(&char) -> bool; 3] = [
            char::is_ascii_digit,
            char::is_ascii_uppercase,
            char::is_ascii_lowercase,
        ];
        for (n, class) in classes.iter().enumerate() {
            let missing = !out.iter().any(class);
            if let Some(c) = a
                .iter()
                .find(|c| class(c))
                .filter(|_| missing && len > 3 * n + 2)
            {
                out[3 * n + 1] = *c;
            }
        }
        out.into_iter().collect()
    }
}

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const DASHED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub const HEX: &str = "0123456789abcdef";
pub const UPPER_B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// How a provider token may be preceded: `Anywhere` tokens are found glued to letters too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glue {
    Anywhere,
    /// Found after a non-alphanumeric byte or an escape (and after a letter/digit hump when the
    /// prefix starts with a capital).
    Boundary,
}

/// Provider tokens: prefix, body alphabet, body length, where they may start.
pub const PROVIDERS: &[(&str, &str, usize, Glue)] = &[
    ("ghp_", ALNUM, 36, Glue::Anywhere),
    ("gho_", ALNUM, 36, Glue::Anywhere),
    ("ghs_", ALNUM, 36, Glue::Anywhere),
    ("github_pat_", ALNUM, 82, Glue::Anywhere),
    ("glpat-", DASHED, 20, Glue::Anywhere),
    ("glrt-", DASHED, 20, Glue::Anywhere),
    ("xoxb-", DASHED, 40, Glue::Anywhere),
    ("xoxp-", DASHED, 60, Glue::Anywhere),
    ("xapp-", DASHED, 40, Glue::Anywhere),
    ("sk-proj-", DASHED, 120, Glue::Anywhere),
    ("sk-svcacct-", DASHED, 120, Glue::Anywhere),
    ("sk-ant-api03-", DASHED, 95, Glue::Anywhere),
    ("key-", HEX, 32, Glue::Boundary),
    ("sk-", ALNUM, 48, Glue::Boundary),
    ("sk_live_", ALNUM, 24, Glue::Anywhere),
    ("rk_test_", ALNUM, 24, Glue::Anywhere),
    ("whsec_", ALNUM, 32, Glue::Anywhere),
    ("AKIA", UPPER_B32, 16, Glue::Boundary),
    ("ASIA", UPPER_B32, 16, Glue::Boundary),
    ("AIza", DASHED, 35, Glue::Boundary),
    ("ya29.", DASHED, 60, Glue::Anywhere),
    ("GOCSPX-", DASHED, 28, Glue::Anywhere),
    ("npm_", ALNUM, 36, Glue::Anywhere),
    ("pypi-AgEIcHlwaS5vcmc", DASHED, 70, Glue::Anywhere),
    ("SK", HEX, 32, Glue::Boundary),
    ("hf_", ALNUM, 34, Glue::Anywhere),
    ("dop_v1_", HEX, 64, Glue::Anywhere),
    ("shpat_", HEX, 32, Glue::Anywhere),
    ("lin_api_", ALNUM, 40, Glue::Anywhere),
    ("glc_", ALNUM, 40, Glue::Anywhere),
    ("pplx-", ALNUM, 48, Glue::Anywhere),
    ("sntryu_", HEX, 64, Glue::Anywhere),
    ("hvs.", DASHED, 95, Glue::Anywhere),
    ("AGE-SECRET-KEY-1", UPPER_B32, 58, Glue::Anywhere),
    ("dapi", HEX, 32, Glue::Anywhere),
    ("PMAK-", HEX, 59, Glue::Anywhere),
    ("rubygems_", HEX, 48, Glue::Anywhere),
    ("ATATT3", DASHED, 186, Glue::Anywhere),
];

/// Text keys of SPEC §1 with the number of letters (short ones are not matched run together).
pub const TEXT_KEYS: &[&str] = &[
    "password",
    "token",
    "apiKey",
    "secret",
    "passwd",
    "private_key",
    "secret_key",
    "access_key",
    "credentials",
    "pwd",
    "pass",
    "passphrase",
    "auth",
    "jwt",
    "otp",
    "mnemonic",
    "connection_string",
    "ssh_key",
    "signing_key",
    "client_secret",
    "access_token",
    "api_key",
    "db_password",
    "x-api-key",
];

/// What goes before a shape.
pub const PREFIXES: &[&str] = &[
    "",
    " ",
    "\n",
    "\\n",
    "\\t",
    "\\r\\n",
    "\\u0022",
    "\\x22",
    "%0A",
    "%22",
    "%3D",
    "_",
    "\"",
    "'",
    "(",
    "[",
    "{",
    ",",
    ";",
    ":",
    "=",
    "/",
    "|",
    "<",
    "`",
    "\\\"",
    // Terminal escape sequences, whose last byte is often a letter (`m`).
    "\x1b[33m",
    "\x1b[0;32;1m",
    "\x1b[38:2:255:0:0m",
    "\x1b(B",
    "\x1b]8;;https://example.com\x1b\\",
    "\u{9b}1m",
    "\\u001b[33m",
    "\\033[1m",
    "\x07",
];
/// Glued letters or digits (only for shapes found anywhere; see [`Glue`]).
pub const GLUED: &[&str] = &["xyz", "Q", "123", "a1"];

/// The shapes, each built from bodies; returns the text and its canaries.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Provider(usize),
    Jwt,
    Pem {
        escaped: bool,
        label: usize,
    },
    Putty,
    Authorization {
        scheme: usize,
        space: usize,
    },
    Cookie,
    Url {
        form: usize,
    },
    KeyValue {
        key: usize,
        notation: usize,
    },
    /// OpenAI's legacy key, `sk-` + 20 + `T3BlbkFJ` + 20 (found glued to text before it).
    OpenAiLegacy,
    /// A URL whose user, with no password, is a token (16 characters or more).
    TokenUser {
        len: usize,
    },
    /// A credential in a URL's query (`?key=`, `&code=`, `&X-Amz-Signature=`…).
    UrlParam {
        key: usize,
        form: usize,
    },
}

const PEM_LABELS: &[&str] = &[
    "RSA PRIVATE KEY",
    "PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "EC PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "PGP PRIVATE KEY BLOCK",
];
const SCHEMES: &[&str] = &[
    "Bearer", "Basic", "ApiKey", "SSWS", "OAuth", "Token", "Digest", "DPoP",
];
const SPACES: &[&str] = &[" ", "\t", "  ", " \t"];

/// Notations of key/value text: `{k}` is the key, `{v}` the value.
pub const NOTATIONS: &[&str] = &[
    "{k}={v}",
    "{k} = {v}",
    "{k}:{v}",
    "{k}: {v}",
    "{k} : {v}",
    "\"{k}\": \"{v}\"",
    "\"{k}\" : \"{v}\"",
    "'{k}': b'{v}'",
    "\"{k}\"=>\"{v}\"",
    "{k} => {v}",
    "{k}[0]={v}",
    "user[{k}]={v}",
    "{\\\"{k}\\\":\\\"{v}\\\"}",
    "?{k}={v}&page=2",
    "{k}={v};Server=x",
    "{\"{k}\":[\"{v}\"]}",
    "{k} := {v}",
    "{k} <- \"{v}\"",
    "{k}%3D{v}%26x%3D1",
    "--{k}={v}",
    "{k}=\"{v}\"",
    "{\"{k}\": {\"inner\": \"{v}\"}}",
    "<{k}>{v}</{k}>",
    "<{k} enc=\"no\"><![CDATA[{v}]]></{k}>",
    "<input name=\"{k}\" value=\"{v}\">",
    "<input value='{v}' name='{k}'/>",
    "Content-Disposition: form-data; name=\"{k}\"\\r\\n\\r\\n{v}\\r\\n--b",
    "%7B%22{k}%22%3A%22{v}%22%7D",
    "{k}%3a%20{v}",
    "user%5B{k}%5D%3D{v}",
    "{&quot;{k}&quot;:&quot;{v}&quot;}",
    "{k}&#61;{v}",
    "{k}&#x3D;{v}&amp;x=1",
    "{k}\\u003d{v}",
    "{k}\\x3d{v}",
    "{k}\\u003a {v}",
    "{k}\u{FF1D}{v}",
    "{k}\u{FF1A} {v}",
    "{k}=<{v}>",
    "{k}==={v}",
    "{\\\"{k}\\\":\\n  \\\"{v}\\\"}",
    "\x1b[0;34;1m\"{k}\"\x1b[0m\x1b[1;39m:\x1b[0m \x1b[0;32m\"{v}\"\x1b[0m",
    // Flags with a space: the next word is the value.
    "--{k} {v}",
    "-{k}\t\"{v}\"",
    // The value on the next, indented line (JSON-escaped YAML).
    "{k}:\\n  {v}",
    "{k}=\\n\\t{v}",
    "{k}: |\\n    {v}",
    // Name/value pairs written as text.
    "{\"name\":\"{k}\",\"value\":\"{v}\"}",
    "{\\\"Name\\\":\\\"{k}\\\",\\\"Value\\\":\\\"{v}\\\"}",
    "{'Key': '{k}', 'Value': '{v}'}",
    "{\"value\": \"{v}\", \"name\": \"{k}\"}",
    "{ \"k\" : \"{k}\" ,\\n \"v\" : \"{v}\" }",
    "env:\\n- name: {k}\\n  value: {v}",
];

/// Query parameters that hold a credential inside a URL.
pub const URL_PARAMS: &[&str] = &[
    "key",
    "code",
    "Signature",
    "X-Amz-Signature",
    "X-Goog-Signature",
    "sig",
    "access_token",
    "refresh_token",
    "client_secret",
    "code_verifier",
];

/// URLs with a query: `{k}` the parameter, `{v}` its value.
const URL_PARAM_FORMS: &[&str] = &[
    "https://api.example.com/v1/x?{k}={v}&page=2",
    "GET /oauth/callback?state=af0ifjsl&{k}={v} HTTP/1.1",
    "https:\\/\\/h.example\\/p?a=1&{k}={v}",
    "<a href=\"https://h.example/p?x=1&amp;{k}={v}\">",
];

/// URL forms: `{u}` user, `{p}` password.
const URL_FORMS: &[&str] = &[
    "https://{u}:{p}@db.example.com/x",
    "postgres://{u}:{p}@db:5432/app",
    "//{u}:{p}@host/path",
    "https:\\/\\/{u}:{p}@host\\/x",
    "redis://:{p}@cache:6379",
    "https://{u}:{p}@host",
];

impl Shape {
    /// The text of this shape and its canaries.
    pub fn build(self, bodies: &mut Bodies) -> Secret {
        match self {
            Shape::Provider(n) => {
                let (prefix, alphabet, len, _) = PROVIDERS[n % PROVIDERS.len()];
                let body = bodies.body(alphabet, len);
                secret(format!("{prefix}{body}"), vec![body])
            }
            Shape::Jwt => {
                let (h, p, s) = (
                    bodies.body(ALNUM, 30),
                    bodies.body(ALNUM, 40),
                    bodies.body(DASHED, 43),
                );
                secret(format!("eyJ{h}.eyJ{p}.{s}"), vec![h, p, s])
            }
            Shape::Pem { escaped, label } => {
                let label = PEM_LABELS[label % PEM_LABELS.len()];
                let lines = [
                    bodies.body(B64, 64),
                    bodies.body(B64, 64),
                    bodies.body(B64, 20),
                ];
                let nl = if escaped { "\\n" } else { "\n" };
                let text = format!(
                    "-----BEGIN {label}-----{nl}{}{nl}-----END {label}-----",
                    lines.join(nl)
                );
                secret(text, lines.to_vec())
            }
            Shape::Putty => {
                let (public, private, mac) = (
                    bodies.body(B64, 40),
                    bodies.body(B64, 40),
                    bodies.body(HEX, 64),
                );
                let text = format!(
                    "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 1\n{public}\nPrivate-Lines: 1\n{private}\nPrivate-MAC: {mac}"
                );
                secret(text, vec![private, mac])
            }
            Shape::Authorization { scheme, space } => {
                let cred = bodies.body(DASHED, 32);
                let scheme = SCHEMES[scheme % SCHEMES.len()];
                let space = SPACES[space % SPACES.len()];
                let header = if scheme == "Basic" {
                    "Proxy-Authorization"
                } else {
                    "Authorization"
                };
                secret(format!("{header}:{space}{scheme}{space}{cred}"), vec![cred])
            }
            Shape::Cookie => {
                let (a, b) = (bodies.body(ALNUM, 24), bodies.body(ALNUM, 24));
                secret(
                    format!("Cookie: theme=dark; a={a}; sessionid={b}"),
                    vec![a, b],
                )
            }
            Shape::Url { form } => {
                let body = bodies.body(ALNUM, 24);
                let special = ["@", "#", "/", "?", "'", "\"", ""][form % 7];
                let password = format!("{}{special}{}", &body[..12], &body[12..]);
                let text = URL_FORMS[form % URL_FORMS.len()]
                    .replace("{u}", "app")
                    .replace("{p}", &password);
                secret(text, vec![body[..12].to_owned(), body[12..].to_owned()])
            }
            Shape::KeyValue { key, notation } => {
                let value = bodies.body(ALNUM, 24);
                let key = TEXT_KEYS[key % TEXT_KEYS.len()];
                let text = NOTATIONS[notation % NOTATIONS.len()]
                    .replace("{k}", key)
                    .replace("{v}", &value);
                secret(text, vec![value])
            }
            Shape::OpenAiLegacy => {
                let (a, b) = (bodies.body(ALNUM, 20), bodies.body(ALNUM, 20));
                secret(format!("sk-{a}T3BlbkFJ{b}"), vec![a, b])
            }
            Shape::TokenUser { len } => {
                let user = bodies.body(ALNUM, 16 + len % 8);
                secret(format!("https://{user}@github.com/o/r.git"), vec![user])
            }
            Shape::UrlParam { key, form } => {
                let value = bodies.body(DASHED, 24);
                let text = URL_PARAM_FORMS[form % URL_PARAM_FORMS.len()]
                    .replace("{k}", URL_PARAMS[key % URL_PARAMS.len()])
                    .replace("{v}", &value);
                secret(text, vec![value])
            }
        }
    }

    /// True when letters glued in front still leave the shape recognisable.
    pub fn allows_glue(self) -> bool {
        match self {
            Shape::Provider(n) => PROVIDERS[n % PROVIDERS.len()].3 == Glue::Anywhere,
            // A key glued to letters is another word (`xyzpwd`, `xyzapi_key`); only a single
            // listed word of 5 letters or more still matches, run together (`xyzpassword`).
            // A flag glued to a word is no flag (`xyz--password v`).
            Shape::KeyValue { key, notation } => {
                let k = TEXT_KEYS[key % TEXT_KEYS.len()];
                let n = NOTATIONS[notation % NOTATIONS.len()];
                let single_long = k.len() >= 5 && k.chars().all(|c| c.is_ascii_lowercase());
                let flag_with_space = n.starts_with('-') && !n.contains('=');
                !flag_with_space && (!n.starts_with("{k}") && !n.starts_with("--") || single_long)
            }
            _ => true,
        }
    }
}

fn secret(text: String, canaries: Vec<String>) -> Secret {
    Secret { text, canaries }
}

pub fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => (0..PROVIDERS.len()).prop_map(Shape::Provider),
        1 => Just(Shape::Jwt),
        1 => (any::<bool>(), 0..PEM_LABELS.len()).prop_map(|(escaped, label)| Shape::Pem { escaped, label }),
        1 => Just(Shape::Putty),
        1 => (0..SCHEMES.len(), 0..SPACES.len()).prop_map(|(scheme, space)| Shape::Authorization { scheme, space }),
        1 => Just(Shape::Cookie),
        1 => (0..42usize).prop_map(|form| Shape::Url { form }),
        4 => (0..TEXT_KEYS.len(), 0..NOTATIONS.len()).prop_map(|(key, notation)| Shape::KeyValue { key, notation }),
        1 => Just(Shape::OpenAiLegacy),
        1 => (0..8usize).prop_map(|len| Shape::TokenUser { len }),
        1 => (0..URL_PARAMS.len(), 0..URL_PARAM_FORMS.len()).prop_map(|(key, form)| Shape::UrlParam { key, form }),
    ]
}

/// Where the shape sits: `{s}` is the prefix and the shape.
pub const CONTEXTS: &[&str] = &[
    "{s}",
    "note: {s} (end)",
    "\"{s}\"",
    "'{s}'",
    "{\\\"msg\\\":\\\"{s}\\\"}",
    "see [{s}]",
    "url?q={s}&x=1",
    "line one\n{s}\nline three",
    "\x1b[33m{s}\x1b[0m done",
    "\x1b]8;;https://example.com\x1b\\{s}\x1b]8;;\x1b\\",
    "\\u001b[1m{s}\\u001b[0m",
];

/// A secret shape behind a prefix class, in a context.
pub fn secret_text() -> impl Strategy<Value = Secret> {
    (
        shape(),
        0..PREFIXES.len() + GLUED.len(),
        0..CONTEXTS.len(),
        any::<u64>(),
    )
        .prop_map(|(shape, prefix, context, seed)| {
            let mut bodies = Bodies::new(seed);
            let built = shape.build(&mut bodies);
            let prefix = if prefix < PREFIXES.len() || !shape.allows_glue() {
                PREFIXES[prefix % PREFIXES.len()]
            } else {
                GLUED[prefix - PREFIXES.len()]
            };
            let text = CONTEXTS[context].replace("{s}", &format!("{prefix}{}", built.text));
            Secret {
                text,
                canaries: built.canaries,
            }
        })
}

/// Listed keys as words (SPEC §1).
pub const LISTED_KEYS: &[&[&str]] = &[
    &["password"],
    &["token"],
    &["authorization"],
    &["api", "key"],
    &["secret"],
    &["passwd"],
    &["cookie"],
    &["private", "key"],
    &["secret", "key"],
    &["access", "key"],
    &["credentials"],
    &["pwd"],
    &["pass"],
    &["passphrase"],
    &["auth"],
    &["jwt"],
    &["bearer"],
    &["otp"],
    &["mnemonic"],
    &["connection", "string"],
    &["ssh", "key"],
    &["signing", "key"],
    &["encryption", "key"],
    &["master", "key"],
    &["hmac", "key"],
    &["client", "key"],
    &["subscription", "key"],
];

const KEY_PREFIXES: &[&str] = &["", "db", "client", "x", "aws", "github", "refresh", "user"];
const SUFFIXES: &[&str] = &[
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

/// A listed key's words under a normalisation trick.
pub fn secret_key() -> impl Strategy<Value = String> {
    (
        0..LISTED_KEYS.len(),
        0..KEY_PREFIXES.len(),
        0u8..16,
        0..SUFFIXES.len() + 1,
        0u8..8,
    )
        .prop_map(|(k, prefix, style, suffix, trick)| {
            let mut words: Vec<String> = Vec::new();
            let pre = KEY_PREFIXES[prefix];
            let run_together_ok = LISTED_KEYS[k].concat().len() >= 5;
            if !pre.is_empty() {
                words.push(pre.to_owned());
            }
            words.extend(LISTED_KEYS[k].iter().map(|w| (*w).to_owned()));
            if trick == 1 && run_together_ok {
                // Run together with what precedes: `PGPASSWORD`, `clientsecret`.
                let joined = words.concat();
                words = vec![joined];
            }
            if trick == 2 {
                // A plural (`credentials` has its singular instead).
                let last = words.pop().unwrap_or_default();
                words.push(match last.strip_suffix('s') {
                    Some(single) if last == "credentials" => single.to_owned(),
                    _ if last.ends_with('s') => format!("{last}es"),
                    _ => format!("{last}s"),
                });
            }
            if suffix < SUFFIXES.len() && trick != 2 {
                words.push(SUFFIXES[suffix].to_owned());
            }
            let key = styled(&words, style);
            decorate(key, trick)
        })
}

/// Words in a naming style.
pub fn styled(words: &[String], style: u8) -> String {
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next().map_or(String::new(), |f| {
            f.to_uppercase().collect::<String>() + c.as_str()
        })
    };
    match style % 10 {
        0 => words.join("_"),
        1 => words.join("_").to_uppercase(),
        2 => words.join("-"),
        3 => words.iter().map(|w| cap(w)).collect::<Vec<_>>().join("-"),
        4 => words.join("."),
        5 => words.iter().map(|w| cap(w)).collect(),
        6 => words.join(" "),
        7 => words.join("\u{00A0}"),
        8 => words.join("__"),
        _ => words[0].clone() + &words[1..].iter().map(|w| cap(w)).collect::<String>(),
    }
}

/// Invisible and compatibility tricks on a key.
fn decorate(key: String, trick: u8) -> String {
    let mid = key
        .char_indices()
        .nth(key.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    match trick {
        3 => format!("{}\u{200B}{}", &key[..mid], &key[mid..]),
        4 => format!("\u{FEFF}{key}"),
        5 => format!("{}\u{00AD}{}", &key[..mid], &key[mid..]),
        6 => key
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
                c => c,
            })
            .collect(),
        7 => format!("{key}[2]"),
        _ => key,
    }
}

/// Keys that look like secret keys and must keep their (non-count) values.
pub const LOOK_ALIKES: &[&str] = &[
    "tokenCount",
    "tokenizer",
    "passwordHint",
    "token_count",
    "secretName",
    "cookies_enabled",
    "authorId",
    "apiKeyId",
    "keyId",
    "passwordLength",
    "tokenLimit",
    "author",
    "Password-Policy",
    "password_policy",
    "bypass",
    "compass",
    "passport",
];
