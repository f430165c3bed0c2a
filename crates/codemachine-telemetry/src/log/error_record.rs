//! Errors as structured records: `{"type", "message", "stack", "cause": {…}}`.
//!
//! Unlike pino, which folds causes into one string, the cause chain stays a nested structure so
//! that each level can be queried. Every string in it is scrubbed when written.

use std::backtrace::Backtrace;
use std::error::Error as StdError;

use serde_json::Value as Json;

use super::json::{write_json_field, write_scrubbed, write_str};
use crate::redact::{Redactor, ValueKind, is_value_field};

/// Causes deeper than this are cut (a chain this long is almost surely a cycle).
const MAX_CAUSES: usize = 32;

/// An error ready to be logged under `err`.
#[derive(Clone)]
pub struct ErrorRecord {
    type_name: String,
    message: String,
    stack: Option<String>,
    extra: Vec<(String, Json)>,
    cause: Option<Box<ErrorRecord>>,
}

impl ErrorRecord {
    /// Captures `err`, its cause chain and a backtrace of the current call site.
    pub fn new<E: StdError + 'static>(err: &E) -> Self {
        let mut record = ErrorRecord::chain(err, MAX_CAUSES);
        record.type_name = std::any::type_name::<E>().to_owned();
        record.stack = Some(capture_stack());
        record
    }

    /// Like [`ErrorRecord::new`] for an error known only as a trait object; its type name is
    /// recovered for common standard-library errors and is `Error` otherwise.
    pub fn from_dyn(err: &(dyn StdError + 'static)) -> Self {
        let mut record = ErrorRecord::chain(err, MAX_CAUSES);
        record.stack = Some(capture_stack());
        record
    }

    /// A record built from its parts, for errors that do not implement `std::error::Error`
    /// (panics, errors received from another process). No backtrace is attached.
    pub fn from_parts(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorRecord {
            type_name: type_name.into(),
            message: message.into(),
            stack: None,
            extra: Vec::new(),
            cause: None,
        }
    }

    /// Uses the error's own stack (one captured where it was raised) instead of the logging
    /// call site's. By default, the stack is captured when the record is created.
    pub fn stack(mut self, stack: impl Into<String>) -> Self {
        self.stack = Some(stack.into());
        self
    }

    /// Adds a property of the error (an HTTP status, the URL it was fetching, …), written inside
    /// `err` after `stack`. Redacted like every field: secret keys removed, strings scrubbed.
    /// Core keys of `err` (`type`, `message`, `stack`, `cause`) are ignored. By default, none.
    pub fn field(mut self, key: impl Into<String>, value: Json) -> Self {
        let key = key.into();
        if !["type", "message", "stack", "cause"].contains(&key.as_str()) {
            self.extra.retain(|(k, _)| *k != key);
            self.extra.push((key, value));
        }
        self
    }

    /// The error's message (the default `msg` of its record).
    pub fn message(&self) -> &str {
        &self.message
    }

    fn chain(err: &(dyn StdError + 'static), depth: usize) -> Self {
        ErrorRecord {
            type_name: dyn_type_name(err).to_owned(),
            message: err.to_string(),
            stack: None,
            extra: Vec::new(),
            cause: err
                .source()
                .filter(|_| depth > 1)
                .map(|cause| Box::new(ErrorRecord::chain(cause, depth - 1))),
        }
    }

    /// Writes the record as a JSON object, every string scrubbed.
    pub(crate) fn write(&self, buf: &mut Vec<u8>, redactor: &Redactor) {
        buf.extend_from_slice(b"{\"type\":");
        write_str(buf, &self.type_name);
        buf.extend_from_slice(b",\"message\":");
        write_scrubbed(buf, &self.message, redactor);
        if let Some(stack) = &self.stack {
            buf.extend_from_slice(b",\"stack\":");
            write_scrubbed(buf, stack, redactor);
        }
        let pair = redactor.pair_name(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (key, value) in self.extra.iter().filter(|(k, v)| {
            let kind = ValueKind::of_json(v);
            let paired = pair.is_some_and(|p| is_value_field(k) && p.removes(kind));
            !(paired || redactor.removes_entry(k, kind))
        }) {
            buf.push(b',');
            write_str(buf, key);
            buf.push(b':');
            write_json_field(buf, key, value, redactor);
        }
        if let Some(cause) = &self.cause {
            buf.extend_from_slice(b",\"cause\":");
            cause.write(buf, redactor);
        }
        buf.push(b'}');
    }
}

/// Symbols of the frames that end the capture's own part of a backtrace: the capture functions
/// of this module and the panic entry points. Frames up to the last of these are dropped.
/// (Broad prefixes such as `std::panicking::` would also match the `catch_unwind` frames far
/// below the caller, so only these exact entry points are used.)
const MACHINERY: [&str; 6] = [
    "codemachine_telemetry::log::error_record::capture_stack",
    "codemachine_telemetry::log::error_record::ErrorRecord::new",
    "codemachine_telemetry::log::error_record::ErrorRecord::from_dyn",
    "core::panicking::panic",
    "std::panicking::begin_panic",
    "rust_begin_unwind",
];

/// A backtrace of the caller, without the frames of the capture itself: the first frame shown is
/// the code that logged (or panicked).
pub(crate) fn capture_stack() -> String {
    trim_machinery(&Backtrace::force_capture().to_string())
}

/// Drops the leading frames whose symbol is machinery (see [`MACHINERY`]); keeps everything when
/// symbols are missing.
fn trim_machinery(backtrace: &str) -> String {
    let mut frames: Vec<String> = Vec::new();
    for line in backtrace.lines() {
        let starts_frame = line
            .trim_start()
            .split_once(": ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        match frames.last_mut() {
            Some(frame) if !starts_frame => {
                frame.push('\n');
                frame.push_str(line);
            }
            _ => frames.push(line.to_owned()),
        }
    }
    let is_machinery = |frame: &String| {
        let symbol = frame.lines().next().unwrap_or_default();
        MACHINERY.iter().any(|m| symbol.contains(m))
    };
    let first_kept = frames.iter().rposition(is_machinery).map_or(0, |i| i + 1);
    if first_kept >= frames.len() {
        return backtrace.to_owned();
    }
    frames[first_kept..].join("\n")
}

/// The type of an error seen only through `dyn Error`, for the errors that are common causes.
fn dyn_type_name(err: &(dyn StdError + 'static)) -> &'static str {
    macro_rules! known {
        ($($t:ty),*) => {$(
            if err.is::<$t>() {
                return std::any::type_name::<$t>();
            }
        )*};
    }
    known!(
        std::io::Error,
        std::num::ParseIntError,
        std::num::ParseFloatError,
        std::str::Utf8Error,
        std::string::FromUtf8Error,
        std::fmt::Error,
        serde_json::Error,
        crate::Error
    );
    "Error"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("loading config failed for token=abc123")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn keeps_the_cause_chain_as_structure_and_scrubs_it() {
        let inner = std::io::Error::new(std::io::ErrorKind::NotFound, "no file; password=hunter2");
        let record = ErrorRecord::new(&Outer(inner));
        let mut buf = Vec::new();
        record.write(&mut buf, &Redactor::new());
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert!(v["type"].as_str().unwrap().ends_with("Outer"));
        assert_eq!(v["message"], "loading config failed for token=[REDACTED]");
        assert!(
            v["stack"]
                .as_str()
                .unwrap()
                .contains("keeps_the_cause_chain")
        );
        assert_eq!(v["cause"]["type"], "std::io::error::Error");
        assert_eq!(v["cause"]["message"], "no file; password=[REDACTED]");
        assert!(v["cause"].get("cause").is_none());
    }

    #[test]
    fn extra_fields_are_redacted_like_any_field() {
        let record = ErrorRecord::from_parts("HttpError", "401")
            .field("status", 401.into())
            .field(
                "headers",
                serde_json::json!({"Authorization": "Bearer x", "accept": "json"}),
            )
            .field("url", "https://u:hunter2@api.example/x".into())
            .field("apiKey", "k".into())
            .field("message", "ignored".into());
        let mut buf = Vec::new();
        record.write(&mut buf, &Redactor::new());
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            r#"{"type":"HttpError","message":"401","status":401,"headers":{"accept":"json"},"url":"https://u:[REDACTED]@api.example/x"}"#
        );
    }

    #[test]
    fn machinery_frames_are_trimmed_and_unknown_ones_kept() {
        let bt = "   0: std::backtrace::Backtrace::create\n             at /x.rs:1:1\n   1: codemachine_telemetry::log::panic::log_panic\n   2: core::panicking::panic_fmt\n   3: my_app::main\n             at src/main.rs:3:5\n   4: std::rt::lang_start";
        // `std::panicking::catch_unwind` below the caller is not machinery.
        assert_eq!(
            trim_machinery(bt),
            "   3: my_app::main\n             at src/main.rs:3:5\n   4: std::rt::lang_start"
        );
        let unknown = "   0: <unknown>\n   1: <unknown>";
        assert_eq!(trim_machinery(unknown), unknown);
    }

    #[derive(Debug)]
    struct Loop;
    impl fmt::Display for Loop {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("loop")
        }
    }
    impl StdError for Loop {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&Loop)
        }
    }

    #[test]
    fn a_cyclic_chain_is_cut() {
        let mut depth = 0;
        let mut node = Some(&ErrorRecord::new(&Loop)).cloned();
        while let Some(n) = node {
            depth += 1;
            node = n.cause.map(|c| *c);
        }
        assert_eq!(depth, MAX_CAUSES);
    }
}
