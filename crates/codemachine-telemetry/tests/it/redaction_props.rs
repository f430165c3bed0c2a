//! Redaction fuzzing (SPEC §7): secrets in every shape, behind every prefix class, inside every
//! notation, at random depths, in values and object keys, under generated variants of every listed
//! key — never leak into the logger's JSON, its pretty rendering, `Redactor::redact_json` or the
//! line scrubber; look-alike keys (`tokenCount`, …) keep their values.
//!
//! Expectations come from how a case was generated (`redaction_gen.rs`), never from the redactor.

use codemachine_telemetry::redact::LineScrubber;
use codemachine_telemetry::{
    Destination, Field, FormatChoice, Logger, MemoryWriter, Redactor, Value,
};
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

use crate::redaction_gen::{LOOK_ALIKES, Secret, leaks, secret_key, secret_text};

/// One node of a generated payload.
#[derive(Clone, Debug)]
enum Tree {
    /// A string holding a secret shape.
    Text(Secret),
    /// A string that must survive.
    Plain,
    Object(Vec<(Entry, Tree)>),
    Array(Vec<Tree>),
}

/// How an object entry is keyed.
#[derive(Clone, Debug)]
enum Entry {
    /// A listed key variant: its value (every string below it) must go.
    SecretKey(String),
    /// A key holding a secret shape: the entry must go.
    ShapedKey(Secret),
    /// A look-alike: its value stays.
    LookAlike(&'static str),
    Plain(u32),
    /// `{"name": <secret key>, "value": …}`.
    NameValue(String),
    /// `rawHeaders: [name, value, …]` with a secret name.
    RawHeaders(String),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        3 => secret_key().prop_map(Entry::SecretKey),
        1 => secret_text().prop_map(Entry::ShapedKey),
        2 => proptest::sample::select(LOOK_ALIKES).prop_map(Entry::LookAlike),
        3 => (0u32..1000).prop_map(Entry::Plain),
        1 => secret_key().prop_map(Entry::NameValue),
        1 => secret_key().prop_map(Entry::RawHeaders),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![2 => secret_text().prop_map(Tree::Text), 1 => Just(Tree::Plain)];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec((entry(), inner.clone()), 1..5).prop_map(Tree::Object),
            prop::collection::vec(inner, 1..4).prop_map(Tree::Array),
        ]
    })
}

/// Canaries that must vanish and markers that must stay.
#[derive(Default)]
struct Expect {
    gone: Vec<String>,
    kept: Vec<String>,
    next: u32,
}

impl Expect {
    fn marker(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:07}Zq", self.next)
    }

    /// A string: under a secret key every string is a canary; elsewhere, plain strings must stay.
    fn leaf(&mut self, tree: &Tree, under_secret: bool) -> Json {
        let (text, canaries) = match tree {
            Tree::Text(s) => (s.text.clone(), s.canaries.clone()),
            _ if under_secret => {
                let m = self.marker("Cn");
                (m.clone(), vec![m])
            }
            _ => {
                let m = self.marker("Kp");
                self.kept.push(m.clone());
                (m, Vec::new())
            }
        };
        self.gone.extend(canaries);
        Json::String(text)
    }

    fn build(&mut self, tree: &Tree, under_secret: bool) -> Json {
        match tree {
            Tree::Text(_) | Tree::Plain => self.leaf(tree, under_secret),
            Tree::Array(items) => {
                Json::Array(items.iter().map(|t| self.build(t, under_secret)).collect())
            }
            Tree::Object(entries) => {
                let mut map = Map::new();
                for (entry, child) in entries {
                    self.insert(&mut map, entry, child, under_secret);
                }
                Json::Object(map)
            }
        }
    }

    fn insert(
        &mut self,
        map: &mut Map<String, Json>,
        entry: &Entry,
        child: &Tree,
        under_secret: bool,
    ) {
        let repeated = |k: &str| map.contains_key(k);
        match entry {
            Entry::SecretKey(k) if repeated(k) => return,
            Entry::ShapedKey(s) if repeated(&s.text) => return,
            Entry::LookAlike(k) if repeated(k) => return,
            Entry::Plain(n) if repeated(&format!("field{n}")) => return,
            Entry::RawHeaders(_) if repeated("rawHeaders") => return,
            _ => {}
        }
        let (key, value) = match entry {
            Entry::SecretKey(k) => (k.clone(), self.build(child, true)),
            Entry::ShapedKey(s) => {
                self.gone.extend(s.canaries.iter().cloned());
                // The whole entry goes, so nothing below it is expected to stay.
                (s.text.clone(), self.build(child, true))
            }
            Entry::LookAlike(k) => ((*k).to_owned(), self.build(child, under_secret)),
            Entry::Plain(n) => (format!("field{n}"), self.build(child, under_secret)),
            Entry::NameValue(k) => {
                let value = self.build(child, true);
                let key = self.marker("nv");
                (key, json!({"name": k, "value": value}))
            }
            Entry::RawHeaders(k) => {
                let secret = self.marker("Rh");
                self.gone.push(secret.clone());
                (
                    "rawHeaders".to_owned(),
                    json!(["Host", "example.com", k, secret]),
                )
            }
        };
        map.insert(key, value);
    }
}

fn logger(out: &MemoryWriter) -> Logger {
    Logger::builder()
        .format(FormatChoice::Json)
        .destination(Destination::Writer(Box::new(out.clone())))
        .build()
}

/// The payload logged: half of it as context, half as fields, `msg` holding more secrets.
fn logged(payload: &Map<String, Json>, msg: &str) -> String {
    let out = MemoryWriter::default();
    let fields: Vec<Field<'_>> = payload
        .iter()
        .map(|(k, v)| (k.as_str(), Value::Json(v)))
        .collect();
    logger(&out)
        .with_context(&fields[..fields.len() / 2])
        .info_with(&fields[fields.len() / 2..], msg);
    out.text()
}

fn check(outputs: &[(&str, &str)], expect: &Expect) -> Result<(), TestCaseError> {
    for (name, out) in outputs {
        let found = leaks(out, &expect.gone);
        prop_assert!(found.is_empty(), "{name} leaked {found:?}:\n{out}");
    }
    for (name, out) in outputs.iter().filter(|(n, _)| *n != "lines") {
        for marker in &expect.kept {
            prop_assert!(
                out.contains(marker.as_str()),
                "{name} lost {marker}:\n{out}"
            );
        }
    }
    Ok(())
}

/// 384 cases by default; `REDACTION_CASES=20000` for a long hostile run.
fn config() -> ProptestConfig {
    let cases = std::env::var("REDACTION_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(384);
    ProptestConfig::with_cases(cases)
}

/// The pretty rendering of `lines` (nothing to check in a build without the `pretty` feature).
fn pretty_of(lines: &str) -> String {
    #[cfg(feature = "pretty")]
    let pretty = lines
        .lines()
        .filter_map(|l| codemachine_telemetry::log::pretty::render_line(l, false))
        .collect();
    #[cfg(not(feature = "pretty"))]
    let pretty = {
        let _ = lines;
        String::new()
    };
    pretty
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secrets_never_leak_and_look_alikes_survive(
        entries in prop::collection::vec((entry(), tree()), 1..6),
        message in prop::collection::vec(secret_text(), 1..4),
    ) {
        let mut expect = Expect::default();
        let root = Tree::Object(entries);
        let Json::Object(payload) = expect.build(&root, false) else { unreachable!() };
        for s in &message {
            expect.gone.extend(s.canaries.iter().cloned());
        }
        let msg: String = message.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" | ");

        let line = logged(&payload, &msg);
        let pretty = pretty_of(&line);
        let mut in_place = Json::Object(payload.clone());
        let redactor = Redactor::new();
        redactor.redact_json(&mut in_place);
        let in_place = in_place.to_string();
        let mut scrubber = LineScrubber::new(&redactor);
        let lines: Vec<String> = msg.lines().map(|l| scrubber.scrub_line(l).into_owned()).collect();

        check(
            &[("json", &line), ("pretty", &pretty), ("redact_json", &in_place), ("lines", &lines.join("\n"))],
            &expect,
        )?;
    }

    #[test]
    fn every_shape_is_scrubbed_from_text_and_stays_scrubbed(secret in secret_text()) {
        let redactor = Redactor::new();
        let once = redactor.scrub(&secret.text).into_owned();
        let found = leaks(&once, &secret.canaries);
        prop_assert!(found.is_empty(), "leaked {found:?}: {once}");
        prop_assert_eq!(redactor.scrub(&once).into_owned(), once);
    }

    #[test]
    fn every_key_variant_is_a_secret_key(key in secret_key()) {
        let redactor = Redactor::new();
        prop_assert!(redactor.is_secret_key(&key), "{key:?} was kept");
        let mut texts = vec![format!("{{\"{key}\": \"Zq9SecretValue1\"}}")];
        if !key.contains(char::is_whitespace) {
            texts.push(format!("{key}=Zq9SecretValue1"));
        }
        for text in texts {
            prop_assert!(!redactor.scrub(&text).contains("Zq9SecretValue1"), "{text:?} leaked");
        }
    }
}
