//! One record, encoded as pino lays it out.
//!
//! `{"level","time","pid","hostname","service", <context…>, <fields…>, "err", "msg"}`: core
//! fields first and never repeated, context before fields, and of two entries with the same key
//! only the later one is written (a field beats the context, a later field beats an earlier one).
//! Keys that name secrets never reach the buffer.

use std::cell::RefCell;

use super::error_record::ErrorRecord;
use super::json::{
    is_repeated_later, pair_name, removes_field, same_key, write_field_value, write_scrubbed,
    write_str, write_u64,
};
use super::level::Level;
use super::value::Field;
use crate::redact::Redactor;

/// Keys the logger writes itself; callers' entries with these keys are dropped.
pub(crate) const CORE_KEYS: [&str; 6] = ["level", "time", "pid", "hostname", "service", "msg"];

/// The buffer a thread keeps between records; above this size it is given back after use, so
/// one huge record does not pin its memory for the life of the thread.
const KEPT_BUFFER_BYTES: usize = 64 * 1024;

pub(crate) fn is_core_key(key: &str) -> bool {
    CORE_KEYS.iter().any(|core| same_key(core, key))
}

/// What a logging call contributes to a record.
pub(crate) struct Record<'r> {
    pub(crate) level: Level,
    pub(crate) fields: &'r [Field<'r>],
    pub(crate) err: Option<&'r ErrorRecord>,
    pub(crate) msg: Option<&'r str>,
}

/// A logger's bound context, rendered once when it is bound.
#[derive(Default)]
pub(crate) struct Context {
    /// Each entry's key and its value already encoded (and redacted) as JSON.
    entries: Vec<(String, Vec<u8>)>,
    /// `,"k":v` for every entry, written as is when no field overrides a context key.
    joined: Vec<u8>,
}

impl Context {
    /// This context with `fields` merged in: a key already bound keeps its place and takes the
    /// new value; core and secret keys are dropped.
    pub(crate) fn merged(&self, fields: &[Field<'_>], redactor: &Redactor) -> Context {
        let mut entries = self.entries.clone();
        let pair = pair_name(fields, redactor);
        for (i, (key, value)) in fields.iter().enumerate() {
            if is_core_key(key)
                || is_repeated_later(fields, i)
                || removes_field(redactor, key, value, pair)
            {
                continue;
            }
            let mut encoded = Vec::new();
            write_field_value(&mut encoded, key, value, redactor);
            match entries.iter_mut().find(|(k, _)| same_key(k, key)) {
                Some(entry) => entry.1 = encoded,
                None => entries.push(((*key).to_owned(), encoded)),
            }
        }
        let mut joined = Vec::new();
        for (key, encoded) in &entries {
            write_entry_start(&mut joined, key);
            joined.extend_from_slice(encoded);
        }
        Context { entries, joined }
    }

    fn write(&self, buf: &mut Vec<u8>, fields: &[Field<'_>]) {
        let overridden = |key: &str| fields.iter().any(|(k, _)| same_key(k, key));
        if !self.entries.iter().any(|(k, _)| overridden(k)) {
            buf.extend_from_slice(&self.joined);
            return;
        }
        for (key, encoded) in self.entries.iter().filter(|(k, _)| !overridden(k)) {
            write_entry_start(buf, key);
            buf.extend_from_slice(encoded);
        }
    }
}

fn write_entry_start(buf: &mut Vec<u8>, key: &str) {
    buf.push(b',');
    write_str(buf, key);
    buf.push(b':');
}

/// Writes the whole record, newline included, into `buf`. `base` is the pre-encoded
/// `,"pid":…,"hostname":…,"service":…`.
pub(crate) fn encode(
    buf: &mut Vec<u8>,
    base: &[u8],
    context: &Context,
    redactor: &Redactor,
    time_ms: u64,
    record: &Record<'_>,
) {
    buf.extend_from_slice(level_prefix(record.level));
    write_u64(buf, time_ms);
    buf.extend_from_slice(base);
    context.write(buf, record.fields);
    write_fields(buf, record, redactor);
    if let Some(err) = record.err {
        buf.extend_from_slice(b",\"err\":");
        err.write(buf, redactor);
    }
    if let Some(msg) = record.msg.or(record.err.map(ErrorRecord::message)) {
        buf.extend_from_slice(b",\"msg\":");
        write_scrubbed(buf, msg, redactor);
    }
    buf.extend_from_slice(b"}\n");
}

/// `{"level":N,"time":` for each level, the start of every record.
fn level_prefix(level: Level) -> &'static [u8] {
    match level {
        Level::Trace => b"{\"level\":10,\"time\":",
        Level::Debug => b"{\"level\":20,\"time\":",
        Level::Info => b"{\"level\":30,\"time\":",
        Level::Warn => b"{\"level\":40,\"time\":",
        Level::Error => b"{\"level\":50,\"time\":",
        Level::Fatal => b"{\"level\":60,\"time\":",
    }
}

fn write_fields(buf: &mut Vec<u8>, record: &Record<'_>, redactor: &Redactor) {
    let pair = pair_name(record.fields, redactor);
    for (i, (key, value)) in record.fields.iter().enumerate() {
        let taken = is_core_key(key) || (record.err.is_some() && *key == "err");
        if taken || is_repeated_later(record.fields, i) || removes_field(redactor, key, value, pair)
        {
            continue;
        }
        write_entry_start(buf, key);
        write_field_value(buf, key, value, redactor);
    }
}

/// Runs `f` with this thread's cleared record buffer (a fresh one if it is already in use, as
/// when a panic hook logs while a record is being written).
pub(crate) fn with_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1024));
    }
    let mut f = Some(f);
    let mut run = |buf: &mut Vec<u8>| {
        buf.clear();
        // `run` is called at most once below: either on the shared buffer or on a fresh one.
        let result = (f.take().expect("buffer closure runs once"))(buf);
        if buf.capacity() > KEPT_BUFFER_BYTES {
            *buf = Vec::with_capacity(1024);
        }
        result
    };
    let shared = BUFFER.try_with(|cell| cell.try_borrow_mut().ok().map(|mut b| run(&mut b)));
    match shared {
        Ok(Some(result)) => result,
        _ => run(&mut Vec::new()),
    }
}
