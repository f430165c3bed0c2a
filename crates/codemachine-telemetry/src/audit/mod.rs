//! The audit: scans telemetry data and log files for what must never be there, and reports where,
//! without ever showing it.
//!
//! It looks for secrets with the same redactor as the logger (keys the redaction rule matches,
//! secret shapes), and for personal data: e-mail addresses, IP addresses, home-folder paths, the
//! current user's login name, this machine's host name inside metrics, long high-entropy strings
//! (see [`detect`]). Each [`Finding`] has its file, line, kind and an excerpt where every finding
//! of the line is replaced by its kind, so the report can be shared. Files are read as streams,
//! a line at a time and at most [`MAX_PIECE`] of a line at once: a 1 GiB log audits in bounded
//! memory.
//!
//! What is ours and expected is not a finding: the telemetry folder's `state/` (the salt, locks
//! and counters, which never leave the machine) is not scanned, and a log record's `pid` and
//! `hostname` fields are what the logger writes.

mod detect;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value as Json;

pub use detect::Identity;

use crate::metrics::spool::{
    BatchState, MAX_BATCH_FILE_BYTES, Paths, reader::batch_files, reader::open_batch,
};
use crate::redact::{REDACTED, Redactor};

/// The most of one line examined at once; a longer line is examined in pieces of this size.
pub const MAX_PIECE: usize = 1024 * 1024;

/// What was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An entry under a key the redaction rule matches.
    SecretKey,
    /// A secret shape (a token, a password in a URL, `password=…`).
    SecretShape,
    /// An e-mail address.
    Email,
    /// An IP address (not loopback).
    IpAddress,
    /// A path in someone's home folder.
    HomePath,
    /// The current user's login name.
    UserName,
    /// This machine's host name, inside metrics.
    HostName,
    /// A long random-looking string (a key or token of no known shape).
    HighEntropy,
}

impl Kind {
    /// `secret-key`, `email`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SecretKey => "secret-key",
            Kind::SecretShape => "secret-shape",
            Kind::Email => "email",
            Kind::IpAddress => "ip-address",
            Kind::HomePath => "home-path",
            Kind::UserName => "user-name",
            Kind::HostName => "host-name",
            Kind::HighEntropy => "high-entropy",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file.
    pub file: PathBuf,
    /// The line (from 1).
    pub line: u64,
    /// What it is.
    pub kind: Kind,
    /// The line around it, every finding replaced by `‹kind›`, at most 160 characters.
    pub excerpt: String,
}

/// What an audit read and found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Files read.
    pub files: u64,
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Everything found, in file and line order.
    pub findings: Vec<Finding>,
    /// Files that could not be read, and why.
    pub unreadable: Vec<(PathBuf, String)>,
}

impl Report {
    /// True when nothing was found and everything could be read.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.unreadable.is_empty()
    }
}

/// Scans text for findings.
#[derive(Clone)]
pub struct Auditor {
    redactor: Redactor,
    identity: Identity,
    known: Vec<String>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("redactor", &self.redactor)
            .field("identity", &self.identity)
            .field(
                "known",
                &format_args!("{} secrets, not shown", self.known.len()),
            )
            .finish()
    }
}

impl Auditor {
    /// An auditor with `redactor`'s rule (defaults plus the configured keys) and the names of
    /// this machine and user.
    pub fn new(redactor: Redactor, identity: Identity) -> Auditor {
        Auditor {
            redactor,
            identity,
            known: Vec::new(),
        }
    }

    /// Also finds these exact values (the credentials forwarding sends, whatever their shape):
    /// a collector that repeated one back must not leave it anywhere unnoticed.
    pub fn with_known_secrets<S: Into<String>>(
        mut self,
        secrets: impl IntoIterator<Item = S>,
    ) -> Auditor {
        self.known = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| !s.is_empty())
            .collect();
        self
    }

    /// Every file of the telemetry folder `dir` (batches in every state, rejection reasons and
    /// the local history; not `state/`), added to `report`.
    pub fn audit_telemetry_dir(
        &self,
        dir: &Path,
        report: &mut Report,
        progress: &mut dyn FnMut(u64),
    ) {
        let paths = Paths::new(dir);
        for state in BatchState::ALL {
            let folder = paths.of(state);
            let mut files: Vec<PathBuf> = batch_files(folder, state, &mut Vec::new())
                .into_iter()
                .map(|(_, _, path)| path)
                .collect();
            if state == BatchState::Rejected {
                files.extend(
                    files
                        .clone()
                        .iter()
                        .map(|p| p.with_extension("json"))
                        .filter(|p| p.exists()),
                );
            }
            files.sort();
            for path in files {
                self.audit_ours(&path, report, progress);
            }
        }
        let history = crate::metrics::history::history_file(dir);
        if std::fs::symlink_metadata(&history).is_ok() {
            self.audit_ours(&history, report, progress);
        }
    }

    /// A file of the telemetry folder (never through a link, never a FIFO), added to `report`.
    /// At most its first [`MAX_BATCH_FILE_BYTES`] are scanned: a bigger file is not one we wrote,
    /// and scanning all of it (a 2 GB sparse file) would only make the audit slow; it is reported.
    fn audit_ours(&self, path: &Path, report: &mut Report, progress: &mut dyn FnMut(u64)) {
        let file = match open_batch(path) {
            Ok(file) => file,
            Err(why) => return report.unreadable.push((path.to_owned(), why)),
        };
        let len = file.metadata().map_or(0, |m| m.len());
        self.audit_reader(
            file.take(MAX_BATCH_FILE_BYTES),
            path,
            true,
            report,
            progress,
        );
        if len > MAX_BATCH_FILE_BYTES {
            let why = format!(
                "{len} bytes, far more than a batch we write; its first {} MiB were scanned",
                MAX_BATCH_FILE_BYTES >> 20
            );
            report.unreadable.push((path.to_owned(), why));
        }
    }

    /// A file given by the operator (a `LOG_PATH` file, say), added to `report`.
    pub fn audit_file(&self, path: &Path, report: &mut Report, progress: &mut dyn FnMut(u64)) {
        match open_regular(path) {
            Ok(file) => self.audit_reader(file, path, false, report, progress),
            Err(why) => report.unreadable.push((path.to_owned(), why)),
        }
    }

    /// Reads `input` a line at a time (long lines in pieces) and records what it finds.
    pub fn audit_reader(
        &self,
        input: impl Read,
        path: &Path,
        metrics: bool,
        report: &mut Report,
        progress: &mut dyn FnMut(u64),
    ) {
        report.files += 1;
        let mut reader = BufReader::with_capacity(64 * 1024, input);
        let mut piece = Vec::new();
        let mut line_no = 1u64;
        loop {
            piece.clear();
            let read = match (&mut reader)
                .take(MAX_PIECE as u64)
                .read_until(b'\n', &mut piece)
            {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    report
                        .unreadable
                        .push((path.to_owned(), crate::terminal::describe_io(&e)));
                    break;
                }
            };
            report.bytes += read as u64;
            let ends_line = piece.ends_with(b"\n");
            if piece.iter().all(|b| *b == 0 || *b == b'\n') {
                // Zeros (a sparse or zero-filled stretch) hold no text to find anything in.
                line_no += u64::from(ends_line);
                report.lines += u64::from(ends_line);
                progress(report.bytes);
                continue;
            }
            let text = String::from_utf8_lossy(&piece);
            for (kind, excerpt) in self.scan_line(text.trim_end_matches(['\n', '\r']), metrics) {
                report.findings.push(Finding {
                    file: path.to_owned(),
                    line: line_no,
                    kind,
                    excerpt,
                });
            }
            if ends_line {
                line_no += 1;
                report.lines += 1;
            }
            progress(report.bytes);
        }
        if !piece.is_empty() && !piece.ends_with(b"\n") {
            report.lines += 1;
        }
    }

    /// The findings of one line, each with its masked excerpt.
    ///
    /// A JSON line is judged as structure first: entries the redactor removes are secret-key
    /// findings (their value never shown), and the rest of the record, re-written without them,
    /// is then scanned as text, so one secret is one finding.
    pub fn scan_line(&self, line: &str, metrics: bool) -> Vec<(Kind, String)> {
        let mut spans: Vec<(Kind, Range<usize>)> = Vec::new();
        let mut key_findings = Vec::new();
        let rest;
        let line = match serde_json::from_str::<Json>(line) {
            Ok(json) if json.is_object() || json.is_array() => {
                let mut redacted = json.clone();
                self.redactor.redact_json(&mut redacted);
                removed_keys(&json, &redacted, &mut key_findings);
                rest = without_removed(&json, &redacted).to_string();
                rest.as_str()
            }
            _ => line,
        };
        self.secret_shapes(line, &mut spans);
        // PII is looked for where no secret was found (a secret's parts are not also an e-mail).
        let mut pii = Vec::new();
        detect::detect(line, &self.identity, metrics, &mut pii);
        pii.retain(|(_, r)| !spans.iter().any(|(_, s)| overlaps(s, r)));
        spans.extend(pii);
        let mut out: Vec<(Kind, String)> = key_findings
            .into_iter()
            .map(|key| (Kind::SecretKey, excerpt_for_key(&key)))
            .collect();
        if !spans.is_empty() {
            let masked = mask(line, &spans);
            let mut kinds: Vec<Kind> = spans.iter().map(|(k, _)| *k).collect();
            kinds.sort();
            kinds.dedup();
            out.extend(kinds.into_iter().map(|k| (k, masked.clone())));
        }
        out
    }

    /// The parts of `line` the redactor scrubs, as ranges of the original text.
    fn secret_shapes(&self, line: &str, spans: &mut Vec<(Kind, Range<usize>)>) {
        for secret in &self.known {
            spans.extend(
                line.match_indices(secret.as_str())
                    .map(|(at, _)| (Kind::SecretShape, at..at + secret.len())),
            );
        }
        let scrubbed = self.redactor.scrub(line);
        if scrubbed == line {
            return;
        }
        // Walk both texts: equal prefixes and suffixes around each `[REDACTED]` locate the
        // original part it replaced.
        let (orig, new) = (line.as_bytes(), scrubbed.as_bytes());
        let (mut i, mut j) = (0, 0);
        while j < new.len() {
            if new[j..].starts_with(REDACTED.as_bytes())
                && !orig[i..].starts_with(REDACTED.as_bytes())
            {
                let after = &new[j + REDACTED.len()..];
                let next_marker = after
                    .windows(REDACTED.len())
                    .position(|w| w == REDACTED.as_bytes())
                    .unwrap_or(after.len());
                let anchor = &after[..next_marker.min(16)];
                let end = if anchor.is_empty() {
                    if next_marker == after.len() {
                        orig.len()
                    } else {
                        i
                    }
                } else {
                    orig[i..]
                        .windows(anchor.len())
                        .position(|w| w == anchor)
                        .map_or(orig.len(), |p| i + p)
                };
                spans.push((Kind::SecretShape, i..end.max(i)));
                i = end.max(i);
                j += REDACTED.len();
            } else {
                i += 1;
                j += 1;
            }
        }
        spans.retain(|(_, r)| !r.is_empty());
        if spans.is_empty() {
            spans.push((Kind::SecretShape, 0..line.len()));
        }
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Keys present in `original` whose entry is gone (or whose value changed into one without it)
/// in `redacted`, walking both.
fn removed_keys(original: &Json, redacted: &Json, out: &mut Vec<String>) {
    match (original, redacted) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    None => out.push(key.clone()),
                    Some(kept) => removed_keys(value, kept, out),
                }
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            for (x, y) in a.iter().zip(b) {
                removed_keys(x, y, out);
            }
        }
        _ => {}
    }
}

/// `original` without the entries `redacted` lost (the strings left as they were).
fn without_removed(original: &Json, redacted: &Json) -> Json {
    match (original, redacted) {
        (Json::Object(a), Json::Object(b)) => Json::Object(
            a.iter()
                .filter_map(|(k, v)| b.get(k).map(|kept| (k.clone(), without_removed(v, kept))))
                .collect(),
        ),
        (Json::Array(a), Json::Array(b)) => Json::Array(
            a.iter()
                .zip(b)
                .map(|(x, y)| without_removed(x, y))
                .collect(),
        ),
        (original, _) => original.clone(),
    }
}

/// `‹secret-key› under "key"` (the key shown, at most 60 characters, the value never).
fn excerpt_for_key(key: &str) -> String {
    let shown: String = key.chars().take(60).collect();
    format!(
        "‹secret-key› under {:?}",
        crate::terminal::escape_controls(&shown)
    )
}

/// `line` with every span replaced by `‹kind›`, cut to 160 characters around the first one.
fn mask(line: &str, spans: &[(Kind, Range<usize>)]) -> String {
    let mut sorted: Vec<&(Kind, Range<usize>)> = spans.iter().collect();
    sorted.sort_by_key(|(_, r)| r.start);
    let mut out = String::new();
    let mut at = 0;
    let mut first = None;
    for (kind, range) in sorted {
        let start = floor_char(line, range.start.max(at));
        let end = floor_char(line, range.end.max(start));
        if start > at || at == 0 {
            out.push_str(&line[at..start]);
        }
        first.get_or_insert(out.len());
        out.push('‹');
        out.push_str(kind.as_str());
        out.push('›');
        at = at.max(end);
    }
    out.push_str(&line[at..]);
    let centre = first.unwrap_or(0);
    let start = floor_char(&out, centre.saturating_sub(60));
    let end = floor_char(&out, (start + 160).min(out.len()));
    let mut cut = String::new();
    if start > 0 {
        cut.push('…');
    }
    cut.push_str(&out[start..end]);
    if end < out.len() {
        cut.push('…');
    }
    crate::terminal::escape_controls(&cut).into_owned()
}

fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn open_regular(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| crate::terminal::describe_io(&e))?;
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        Ok(m) if m.is_dir() => Err("it is a folder".to_owned()),
        Ok(_) => Err("not a regular file (a FIFO or a device): not read".to_owned()),
        Err(e) => Err(crate::terminal::describe_io(&e)),
    }
}

#[cfg(test)]
mod tests;
