//! Redaction fuzzing: random nested payloads with secrets at random depths, in random cases and
//! naming styles, never leak; look-alike keys (`tokenCount`, …) and their values survive.
//!
//! Expectations come from how a key was generated (secret, look-alike or plain), never from the
//! redactor itself, so the test cannot agree with a wrong rule.

use codemachine_telemetry::{
    Destination, Field, FormatChoice, Logger, MemoryWriter, Redactor, Value,
};
use proptest::prelude::*;
use serde_json::{Map, Value as Json};

/// Secret names as words; a generated key is these words in some style, maybe with a prefix.
const SECRET_WORDS: &[&[&str]] = &[
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
    &["access", "token"],
];
const PREFIXES: &[&str] = &["", "db", "client", "x", "aws", "github", "refresh", "user"];
const LOOK_ALIKES: &[&str] = &[
    "tokenCount",
    "tokenizer",
    "passwordHint",
    "token_count",
    "secretName",
    "authorId",
    "apiKeyId",
    "keyId",
    "passwordLength",
    "tokenLimit",
    "author",
    "Password-Policy",
];

#[derive(Clone, Copy, Debug)]
enum Kind {
    Secret,
    LookAlike,
    Plain,
}

#[derive(Clone, Debug)]
enum Tree {
    Leaf,
    Object(Vec<(Kind, String, Tree)>),
    Array(Vec<Tree>),
}

fn styled(words: &[&str], style: u8) -> String {
    let cap = |w: &str| w[..1].to_uppercase() + &w[1..];
    match style % 7 {
        0 => words.join("_"),
        1 => words.join("_").to_uppercase(),
        2 => words.join("-"),
        3 => words.iter().map(|w| cap(w)).collect::<Vec<_>>().join("-"),
        4 => words.join("."),
        5 => words.iter().map(|w| cap(w)).collect(),
        _ => words[0].to_owned() + &words[1..].iter().map(|w| cap(w)).collect::<String>(),
    }
}

fn secret_key() -> impl Strategy<Value = String> {
    (0..SECRET_WORDS.len(), 0..PREFIXES.len(), any::<u8>()).prop_map(|(w, p, style)| {
        let mut words: Vec<&str> = Vec::new();
        if !PREFIXES[p].is_empty() {
            words.push(PREFIXES[p]);
        }
        words.extend_from_slice(SECRET_WORDS[w]);
        styled(&words, style)
    })
}

fn key() -> impl Strategy<Value = (Kind, String)> {
    prop_oneof![
        2 => secret_key().prop_map(|k| (Kind::Secret, k)),
        2 => proptest::sample::select(LOOK_ALIKES).prop_map(|k| (Kind::LookAlike, k.to_owned())),
        3 => (0u32..1000).prop_map(|n| (Kind::Plain, format!("field{n}"))),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    Just(Tree::Leaf).prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 1..6).prop_map(|entries| Tree::Object(
                entries.into_iter().map(|((k, n), t)| (k, n, t)).collect()
            )),
            prop::collection::vec(inner, 1..4).prop_map(Tree::Array),
        ]
    })
}

/// Markers that must vanish (under a secret key) and markers that must stay.
#[derive(Default)]
struct Expect {
    gone: Vec<String>,
    kept: Vec<String>,
    next: u32,
}

impl Expect {
    fn leaf(&mut self, under_secret: bool) -> Json {
        self.next += 1;
        let marker = format!("M{:06}X", self.next);
        if under_secret {
            &mut self.gone
        } else {
            &mut self.kept
        }
        .push(marker.clone());
        Json::String(marker)
    }

    fn build(&mut self, tree: &Tree, under_secret: bool) -> Json {
        match tree {
            Tree::Leaf => self.leaf(under_secret),
            Tree::Array(items) => {
                Json::Array(items.iter().map(|t| self.build(t, under_secret)).collect())
            }
            Tree::Object(entries) => {
                let mut map = Map::new();
                for (kind, key, child) in entries {
                    if map.contains_key(key) {
                        continue; // a repeated key would overwrite the first: skip it
                    }
                    let secret = under_secret || matches!(kind, Kind::Secret);
                    map.insert(key.clone(), self.build(child, secret));
                }
                Json::Object(map)
            }
        }
    }
}

fn logged(payload: &Map<String, Json>) -> String {
    let out = MemoryWriter::default();
    let logger = Logger::builder()
        .format(FormatChoice::Json)
        .destination(Destination::Writer(Box::new(out.clone())))
        .build();
    let fields: Vec<Field<'_>> = payload
        .iter()
        .map(|(k, v)| (k.as_str(), Value::Json(v)))
        .collect();
    logger
        .with_context(&fields[..fields.len() / 2])
        .info_with(&fields[fields.len() / 2..], "m");
    out.text()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn secrets_never_leak_and_look_alikes_survive(
        entries in prop::collection::vec((key(), tree()), 1..8)
    ) {
        let mut expect = Expect::default();
        let root = Tree::Object(entries.into_iter().map(|((k, n), t)| (k, n, t)).collect());
        let Json::Object(payload) = expect.build(&root, false) else { unreachable!() };

        let line = logged(&payload);
        let mut redacted = Json::Object(payload.clone());
        Redactor::new().redact_json(&mut redacted);
        let in_place = redacted.to_string();

        for out in [&line, &in_place] {
            for marker in &expect.gone {
                prop_assert!(!out.contains(marker.as_str()), "{marker} leaked: {out}");
            }
            for marker in &expect.kept {
                prop_assert!(out.contains(marker.as_str()), "{marker} lost: {out}");
            }
        }
    }
}
