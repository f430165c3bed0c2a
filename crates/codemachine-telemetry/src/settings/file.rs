//! The config file, `$CODEMACHINE_HOME/telemetry.toml`: read safely, parsed tolerantly.
//!
//! **Reading never hangs and never eats memory.** The file is opened without blocking (a FIFO
//! without a writer would otherwise wait forever), refused unless it is a regular file (a FIFO, a
//! device such as `/dev/zero`, a folder), and read up to [`MAX_CONFIG_BYTES`]; binary content is
//! refused. Each refusal names the file.
//!
//! **Parsing keeps what it can.** Every problem (a syntax error, an unknown key, a wrong type) is
//! reported with its line, and the values that could be read are still returned. The one decision
//! a reader must know: the `[redact]` keys apply whenever that section can be read, whatever is
//! wrong elsewhere in the file, because dropping them would fail open (secrets the operator listed
//! would reach the logs). When they cannot be read at all, [`FileLayer::redact_unreadable`] says so.
//!
//! ```toml
//! max_spool_bytes = "64MiB"      # or a number of bytes
//! salt_rotation_days = 30        # 1 to 3650
//!
//! [redact]
//! keys = ["sessionKey"]          # added to the defaults
//! documented = "COMPLY-1234"     # where the extension is documented (or true)
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::values::{check_days, documented_reference, parse_size};
use crate::terminal::describe_io;

/// The largest config file read: a real one is a few hundred bytes.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What the file holds, as far as it could be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileLayer {
    /// `max_spool_bytes`.
    pub max_spool_bytes: Option<u64>,
    /// `salt_rotation_days`.
    pub salt_rotation_days: Option<u32>,
    /// `redact.keys`.
    pub redact_keys: Option<Vec<String>>,
    /// `redact.documented`: a reference, or `true` (kept as `"true"`); `None` for `false` and
    /// for an "off" word (`"false"`, `"no"`, …), which say it is not documented.
    pub redact_documented: Option<String>,
    /// True when the file exists but its `[redact]` keys could not be read (so redaction may be
    /// missing keys the operator listed).
    pub redact_unreadable: bool,
    /// The `[forward]` section's values, as written (the resolver checks them), each with its line.
    pub forward: Vec<FileValue>,
    /// `consent`: what `telemetry enable|disable` stored.
    pub consent: Option<super::switch::Mode>,
    /// `consent_date`: when.
    pub consent_date: Option<String>,
    /// Everything wrong with the file, each naming its line.
    pub problems: Vec<FileProblem>,
}

/// A value of the `[forward]` section: its key, its text (a table of headers is turned into the
/// `name=value,…` form), and its line.
#[derive(Clone, PartialEq, Eq)]
pub struct FileValue {
    /// The key, without `forward.`.
    pub key: &'static str,
    /// The value as text.
    pub text: String,
    /// The line it is on.
    pub line: usize,
}

impl std::fmt::Debug for FileValue {
    /// The text is not shown: `headers` and `endpoint` can hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileValue({} at line {})", self.key, self.line)
    }
}

/// The keys of the `[forward]` section.
pub const FORWARD_KEYS: [&str; 8] = [
    "endpoint",
    "protocol",
    "headers",
    "timeout_ms",
    "ca_file",
    "compression",
    "batch_max_bytes",
    "batch_max_events",
];

/// One thing wrong with the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// The line (from 1), when the problem has one.
    pub line: Option<usize>,
    /// What is wrong, in the user's terms.
    pub message: String,
}

/// Reads and parses the file at `path`: `Ok(None)` when there is no file, `Err` with the reason
/// when it cannot be read at all.
pub fn load(path: &Path) -> Result<Option<FileLayer>, String> {
    Ok(read_bounded(path)?.map(|text| parse(&text)))
}

/// The file's text; `Ok(None)` when it does not exist; `Err` with the reason it was refused.
pub fn read_bounded(path: &Path) -> Result<Option<String>, String> {
    Ok(read_bounded_with_metadata(path)?.map(|(text, _)| text))
}

/// [`read_bounded`], with the metadata of the very file that was read (its mode and owner, for
/// a writer that must keep them).
pub fn read_bounded_with_metadata(
    path: &Path,
) -> Result<Option<(String, std::fs::Metadata)>, String> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound && is_link(path) => {
            // A dotfile manager's link whose target moved: its settings (redaction keys
            // among them) would be silently absent, so it is a problem, not "no file".
            return Err("is a link to a file that does not exist; it was not read".to_owned());
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be opened: {}", describe_io(&e))),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {}", describe_io(&e)))?;
    if !meta.is_file() {
        return Err(format!(
            "is not a regular file ({}); it was not read",
            file_kind(&meta)
        ));
    }
    Ok(read_text(file)?.map(|text| (text, meta)))
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn read_text(file: File) -> Result<Option<String>, String> {
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {}", describe_io(&e)))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err("is larger than 1 MiB; it was not read".to_owned());
    }
    if bytes.contains(&0) {
        return Err("holds binary data (NUL bytes), not TOML text".to_owned());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "is not UTF-8 text".to_owned())
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

/// Parses the file's text, keeping every value that can be read.
pub fn parse(text: &str) -> FileLayer {
    let (table, errors) = DeTable::parse_recoverable(text);
    let mut layer = FileLayer::default();
    let at = |span: Range<usize>| Some(line_of(text, span.start));
    for error in &errors {
        layer.problems.push(FileProblem {
            line: error.span().and_then(&at),
            message: syntax_message(error.message()),
        });
    }
    let mut reader = Reader {
        text,
        layer: &mut layer,
    };
    reader.top_level(table.get_ref());
    if !errors.is_empty() {
        // Keys after a syntax error inside the section may have been lost: say so.
        let section = redact_section_range(text);
        layer.redact_unreadable |= errors
            .iter()
            .filter_map(|e| e.span())
            .any(|span| section.as_ref().is_some_and(|r| r.contains(&span.start)));
        if layer.redact_keys.is_none() {
            recover_redact_section(text, &mut layer);
        }
    }
    layer.problems.sort_by_key(|p| p.line);
    // A value the parser recovered from a broken line is garbage too: one problem a line.
    layer.problems.dedup_by_key(|p| p.line);
    layer
}

/// A TOML parser's message, made to read as a sentence about the file.
fn syntax_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    if first.is_empty() {
        "is not valid TOML".to_owned()
    } else {
        format!("is not valid TOML: {first}")
    }
}

struct Reader<'t, 'l> {
    text: &'t str,
    layer: &'l mut FileLayer,
}

const TOP_KEYS: &str =
    "consent, consent_date, max_spool_bytes, salt_rotation_days, [redact], [forward]";
const REDACT_KEYS: &str = "keys, documented";

impl Reader<'_, '_> {
    fn problem(&mut self, span: Range<usize>, message: String) {
        let line = Some(line_of(self.text, span.start));
        self.layer.problems.push(FileProblem { line, message });
    }

    fn top_level(&mut self, table: &DeTable<'_>) {
        for (key, value) in table.iter() {
            match key.get_ref().as_ref() {
                "max_spool_bytes" => self.max_spool_bytes(value),
                "salt_rotation_days" => self.salt_rotation_days(value),
                "redact" => self.redact(value),
                "forward" => self.forward(value),
                "consent" => self.consent(value),
                "consent_date" => self.consent_date(value),
                other => {
                    let message = format!(
                        "unknown key {} (known: {TOP_KEYS})",
                        crate::terminal::shown_value(other)
                    );
                    self.problem(key.span(), message);
                }
            }
        }
    }

    fn max_spool_bytes(&mut self, value: &Spanned<DeValue<'_>>) {
        let parsed = match value.get_ref() {
            DeValue::Integer(n) => integer(n)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| format!("{} is not a size in bytes (0 or more)", n.as_str())),
            DeValue::String(s) => parse_size(s),
            _ => Err("must be a number of bytes or a size such as \"64MiB\"".to_owned()),
        };
        match parsed {
            Ok(bytes) => self.layer.max_spool_bytes = Some(bytes),
            Err(reason) => self.problem(value.span(), format!("max_spool_bytes: {reason}")),
        }
    }

    fn salt_rotation_days(&mut self, value: &Spanned<DeValue<'_>>) {
        let parsed = match value.get_ref() {
            DeValue::Integer(n) => integer(n)
                .ok_or_else(|| format!("{} is too large", n.as_str()))
                .and_then(check_days),
            _ => Err("must be a whole number of days, such as 30".to_owned()),
        };
        match parsed {
            Ok(days) => self.layer.salt_rotation_days = Some(days),
            Err(reason) => self.problem(value.span(), format!("salt_rotation_days: {reason}")),
        }
    }

    fn redact(&mut self, value: &Spanned<DeValue<'_>>) {
        let DeValue::Table(table) = value.get_ref() else {
            self.layer.redact_unreadable = true;
            let message = "redact must be a table ([redact] with keys = [...])".to_owned();
            return self.problem(value.span(), message);
        };
        for (key, value) in table.iter() {
            match key.get_ref().as_ref() {
                "keys" => self.redact_keys(value),
                "documented" => self.redact_documented(value),
                other => {
                    let message = format!("unknown key `redact.{other}` (known: {REDACT_KEYS})");
                    self.problem(key.span(), message);
                }
            }
        }
    }

    fn consent(&mut self, value: &Spanned<DeValue<'_>>) {
        match value
            .get_ref()
            .as_str()
            .and_then(super::switch::Mode::parse)
        {
            Some(mode) => self.layer.consent = Some(mode),
            None => {
                let message = "consent must be \"on\", \"local\" or \"off\" (written by telemetry enable/disable)";
                self.problem(value.span(), message.to_owned());
            }
        }
    }

    fn consent_date(&mut self, value: &Spanned<DeValue<'_>>) {
        let date = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Datetime(d) => d.to_string(),
            _ => return self.problem(value.span(), "consent_date must be a date".to_owned()),
        };
        self.layer.consent_date = Some(date);
    }

    fn forward(&mut self, value: &Spanned<DeValue<'_>>) {
        let DeValue::Table(table) = value.get_ref() else {
            let message = "forward must be a table ([forward] with endpoint = \"https://…\")";
            return self.problem(value.span(), message.to_owned());
        };
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let Some(known) = FORWARD_KEYS.iter().find(|k| **k == name) else {
                let message = format!(
                    "unknown key `forward.{name}` (known: {})",
                    FORWARD_KEYS.join(", ")
                );
                self.problem(key.span(), message);
                continue;
            };
            match forward_text(value.get_ref()) {
                Some(text) => self.layer.forward.push(FileValue {
                    key: known,
                    text,
                    line: line_of(self.text, value.span().start),
                }),
                None => {
                    let message = format!("forward.{known} must be a string or a number");
                    self.problem(value.span(), message);
                }
            }
        }
    }

    fn redact_keys(&mut self, value: &Spanned<DeValue<'_>>) {
        let DeValue::Array(items) = value.get_ref() else {
            self.layer.redact_unreadable = true;
            let message = "redact.keys must be a list of strings, such as [\"sessionKey\"]";
            return self.problem(value.span(), message.to_owned());
        };
        let mut keys = Vec::new();
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(key) => keys.push(key.to_owned()),
                None => {
                    self.layer.redact_unreadable = true;
                    let message =
                        "redact.keys holds something that is not a string; it was skipped";
                    self.problem(item.span(), message.to_owned());
                }
            }
        }
        self.layer.redact_keys = Some(keys);
    }

    fn redact_documented(&mut self, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::String(s) if !s.trim().is_empty() => {
                // "false", "no", "off", "0" say it is not documented, as `false` does.
                self.layer.redact_documented = documented_reference(s);
            }
            DeValue::Boolean(true) => self.layer.redact_documented = Some("true".to_owned()),
            DeValue::Boolean(false) => self.layer.redact_documented = None,
            _ => {
                let message = "redact.documented must be a reference (\"COMPLY-1234\") or true";
                self.problem(value.span(), message.to_owned());
            }
        }
    }
}

/// A `[forward]` value as text: strings and whole numbers as they are, a table of strings as
/// `name=value,…` (the form of `TELEMETRY_HEADERS`, each part percent-encoded where needed).
fn forward_text(value: &DeValue<'_>) -> Option<String> {
    match value {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(n) => integer(n).map(|n| n.to_string()),
        DeValue::Table(table) => {
            let mut pairs = Vec::new();
            for (name, value) in table.iter() {
                let text = value.get_ref().as_str()?;
                pairs.push(format!(
                    "{}={}",
                    percent_encode(name.get_ref()),
                    percent_encode(text)
                ));
            }
            Some(pairs.join(","))
        }
        _ => None,
    }
}

/// `,` `=` `%` and controls percent-encoded, so a table value survives the `name=value,…` form.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ',' | '=' | '%' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_control() && (c as u32) < 0x80 => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn integer(n: &toml::de::DeInteger<'_>) -> Option<i128> {
    i128::from_str_radix(n.as_str(), n.radix()).ok()
}

/// When the document as a whole does not parse, the `[redact]` section is parsed on its own
/// (from its header to the next header), so a mistake elsewhere never drops its keys.
fn recover_redact_section(text: &str, layer: &mut FileLayer) {
    let Some(section) = redact_section(text) else {
        // No `[redact]` header: if the word appears at all, the keys may be somewhere we cannot
        // read, and saying so is the safe side.
        layer.redact_unreadable |= text.contains("redact");
        return;
    };
    let Ok(table) = DeTable::parse(section) else {
        layer.redact_unreadable = true;
        return;
    };
    let mut recovered = FileLayer::default();
    let mut reader = Reader {
        text: section,
        layer: &mut recovered,
    };
    reader.top_level(table.get_ref());
    layer.redact_keys = recovered.redact_keys;
    layer.redact_documented = layer
        .redact_documented
        .take()
        .or(recovered.redact_documented);
    layer.redact_unreadable |= recovered.redact_unreadable || layer.redact_keys.is_none();
}

/// The text of the `[redact]` section, header included.
fn redact_section(text: &str) -> Option<&str> {
    redact_section_range(text).map(|r| &text[r])
}

/// Where the `[redact]` section is: from its header to the next header or the end.
fn redact_section_range(text: &str) -> Option<Range<usize>> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let header = line.trim_start().starts_with('[');
        match start {
            None if header && line.trim() == "[redact]" => start = Some(offset),
            Some(begin) if header => return Some(begin..offset),
            _ => {}
        }
        offset += line.len();
    }
    start.map(|begin| begin..text.len())
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(layer: &FileLayer) -> Vec<Option<usize>> {
        layer.problems.iter().map(|p| p.line).collect()
    }

    #[test]
    fn reads_every_key() {
        let layer = parse(
            "max_spool_bytes = \"1MiB\"\nsalt_rotation_days = 7\n[redact]\nkeys = [\"pin\"]\ndocumented = \"T-1\"\n",
        );
        assert_eq!(layer.max_spool_bytes, Some(1 << 20));
        assert_eq!(layer.salt_rotation_days, Some(7));
        assert_eq!(layer.redact_keys, Some(vec!["pin".to_owned()]));
        assert_eq!(layer.redact_documented.as_deref(), Some("T-1"));
        assert!(layer.problems.is_empty() && !layer.redact_unreadable);
        assert_eq!(
            parse("[redact]\ndocumented = true")
                .redact_documented
                .as_deref(),
            Some("true")
        );
    }

    #[test]
    fn a_documented_value_that_says_no_is_not_documented() {
        for no in ["false", "\"false\"", "\"no\"", "\"OFF\"", "\"0\""] {
            let layer = parse(&format!("[redact]\nkeys = [\"pin\"]\ndocumented = {no}\n"));
            assert_eq!(layer.redact_documented, None, "{no}");
            assert!(layer.problems.is_empty(), "{no}: {:?}", layer.problems);
        }
        for yes in ["true", "\"yes\""] {
            let layer = parse(&format!("[redact]\ndocumented = {yes}\n"));
            assert_eq!(layer.redact_documented.as_deref(), Some("true"), "{yes}");
        }
    }

    #[test]
    fn the_forward_section_is_kept_as_text_with_lines() {
        let layer = parse(
            "[forward]\nendpoint = \"https://c.example\"\ntimeout_ms = 500\nheaders = { \"x-api-key\" = \"a,b=c\" }\nbogus = 1\n",
        );
        let mut values: Vec<(&str, &str, usize)> = layer
            .forward
            .iter()
            .map(|v| (v.key, v.text.as_str(), v.line))
            .collect();
        values.sort_by_key(|v| v.2);
        assert_eq!(
            values,
            [
                ("endpoint", "https://c.example", 2),
                ("timeout_ms", "500", 3),
                ("headers", "x-api-key=a%2Cb%3Dc", 4)
            ]
        );
        assert!(
            layer.problems[0]
                .message
                .contains("unknown key `forward.bogus`")
        );
        assert!(
            !format!("{:?}", layer.forward).contains("c.example"),
            "Debug hides values"
        );
    }

    #[test]
    fn problems_name_their_line_in_the_users_terms() {
        let layer = parse("salt_rotation_days = 0\nmax_spool_byte = 3\nmax_spool_bytes = -1\n");
        assert_eq!(lines(&layer), [Some(1), Some(2), Some(3)]);
        let text: Vec<&str> = layer.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(text[0].contains("from 1 to 3650"), "{text:?}");
        assert!(
            text[1].contains("unknown key \"max_spool_byte\""),
            "{text:?}"
        );
        assert!(text[2].contains("-1 is not a size"), "{text:?}");
        for message in text {
            assert!(
                !message.contains("expected") && !message.contains("enum"),
                "{message}"
            );
        }
    }

    #[test]
    fn redaction_keys_survive_every_other_mistake() {
        let wrong_value = parse("salt_rotation_days = \"30d\"\n[redact]\nkeys = [\"pin\"]\n");
        assert_eq!(wrong_value.redact_keys, Some(vec!["pin".to_owned()]));
        let broken_syntax =
            parse("salt_rotation_days = [\n\n[redact]\nkeys = [\"pin\", \"otp2\"]\n");
        assert_eq!(
            broken_syntax.redact_keys,
            Some(vec!["pin".to_owned(), "otp2".to_owned()])
        );
        assert!(!broken_syntax.problems.is_empty());
        let garbage_line = parse("this is not toml\n[redact]\nkeys = [\"pin\"]\n");
        assert_eq!(garbage_line.redact_keys, Some(vec!["pin".to_owned()]));
    }

    #[test]
    fn unreadable_redaction_keys_are_flagged() {
        assert!(parse("[redact]\nkeys = \"pin\"\n").redact_unreadable);
        assert!(parse("[redact]\nkeys = [\"pin\", 3]\n").redact_unreadable);
        assert!(parse("[redact]\nkeys = [\"pin\"\n").redact_unreadable);
        assert!(parse("redact = 3").redact_unreadable);
        assert!(!parse("salt_rotation_days = 3").redact_unreadable);
    }

    #[test]
    fn huge_and_deep_values_are_problems_not_panics() {
        let deep = format!("x = {}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(!parse(&deep).problems.is_empty());
        assert!(!parse("max_spool_bytes = 1e400").problems.is_empty());
        assert!(
            !parse("max_spool_bytes = 99999999999999999999999999")
                .problems
                .is_empty()
        );
        assert!(
            !parse("salt_rotation_days = 99999999999999999999999999999999999999999")
                .problems
                .is_empty()
        );
    }

    #[test]
    fn odd_files_are_refused_with_a_reason_and_never_block() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_bounded(&dir.path().join("absent")), Ok(None));
        assert!(read_bounded(dir.path()).unwrap_err().contains("a folder"));
        assert!(
            read_bounded(Path::new("/dev/zero"))
                .unwrap_err()
                .contains("a device")
        );
        let fifo = dir.path().join("fifo");
        crate::sys::mkfifo(&fifo).unwrap();
        assert!(read_bounded(&fifo).unwrap_err().contains("a FIFO"));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        assert!(
            read_bounded(&big)
                .unwrap_err()
                .contains("larger than 1 MiB")
        );
        let binary = dir.path().join("binary");
        std::fs::write(&binary, b"a = 1\0\xff").unwrap();
        assert!(read_bounded(&binary).unwrap_err().contains("binary"));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(read_bounded(&link).unwrap_err().contains("a device"));
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("moved-away.toml"), &dangling).unwrap();
        assert!(
            read_bounded(&dangling)
                .unwrap_err()
                .contains("a link to a file that does not exist")
        );
        assert_eq!(read_bounded(&dir.path().join("absent")), Ok(None));
    }
}
