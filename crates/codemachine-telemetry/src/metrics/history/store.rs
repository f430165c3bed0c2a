//! The history file on disk: folding a batch in, compacting, and reading it back (see the table
//! in [`super`] for what each step leaves after a crash).
//!
//! Writing happens only in [`fold`] (and the compaction it may run), under `history/lock`;
//! [`read`] never creates, locks or writes anything, so a report can read the history with
//! telemetry off. Nothing is ever opened through a link or blocked on a FIFO.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::tally::{DayTallies, RowKey, Tally, bucket_range};
use super::{COMPACT_AFTER_FOLDS, MAX_HISTORY_BYTES};
use crate::error::{Error, Result};
use crate::metrics::event::EventKind;
use crate::metrics::spool::reader::{is_real_folder, open_batch, read_lines_up_to};
use crate::metrics::spool::{BATCH_SUFFIX, OddEntry, Paths};
use crate::metrics::storage::{FILE_MODE, io_error, tighten};
use crate::time::{date_of_day, day_of_date, now_millis, rfc3339_millis};

const HISTORY_FILE: &str = "history.ndjson";
const COMPACTING_FILE: &str = ".history.ndjson.tmp";
const LOCK_FILE: &str = "lock";
/// A fold waits this long for another process's fold or compaction (each takes milliseconds).
const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_POLL: Duration = Duration::from_millis(10);
/// Longer lines are not ours: a fold line of a full batch (5,000 events, each its own day and
/// name) is well under 2 MiB.
const MAX_HISTORY_LINE: usize = 8 * 1024 * 1024;

/// One day of one name, as a line of the history (and inside a fold line).
#[derive(Debug, Serialize, Deserialize)]
struct RowLine {
    day: String,
    kind: EventKind,
    name: String,
    count: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    failures: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    durations_ms: Vec<(u64, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_ms: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RowLine {
    fn new((day, kind, name): &RowKey, tally: &Tally) -> Self {
        let durations_ms = tally
            .durations
            .buckets()
            .map(|(i, n)| (bucket_range(i).0, n))
            .collect();
        RowLine {
            day: date_of_day(*day),
            kind: *kind,
            name: name.clone(),
            count: tally.count,
            failures: tally.failures,
            durations_ms,
            min_ms: tally.min_ms,
            max_ms: tally.max_ms,
        }
    }

    /// The row, or `None` when its day is not a date.
    fn into_row(self) -> Option<(RowKey, Tally)> {
        let day = day_of_date(&self.day)?;
        let mut tally = Tally {
            count: self.count,
            failures: self.failures,
            min_ms: self.min_ms,
            max_ms: self.max_ms,
            ..Tally::default()
        };
        for (from_ms, n) in self.durations_ms {
            tally.durations.add(from_ms, n);
        }
        Some(((day, self.kind, self.name), tally))
    }
}

#[derive(Serialize)]
struct FoldLine<'a> {
    fold: &'a str,
    at: String,
    rows: Vec<RowLine>,
}

#[derive(Serialize)]
struct FoldedLine<'a> {
    folded: &'a str,
}

/// Any line of the history, as read.
#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Fold { fold: String, rows: Vec<RowLine> },
    Folded { folded: String },
    Row(RowLine),
}

/// What folding a batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldOutcome {
    /// Its rows and id are in the history now.
    Folded,
    /// Its id was there already (a fold before a crash): nothing was added.
    AlreadyFolded,
}

/// What reading the history found.
#[derive(Clone, Debug, Default)]
pub struct HistoryRead {
    /// The history file, when there is one that could be read.
    pub path: Option<PathBuf>,
    /// Rows read.
    pub rows: u64,
    /// Ids of the batches folded in: a batch still on disk with one of these ids is counted by
    /// the history already.
    pub folded: HashSet<String>,
    /// Lines that are not history lines (garbage, a torn last line): skipped.
    pub bad_lines: u64,
    /// The history's file or folder, when it is odd (a link, a FIFO, too large): not read.
    pub odd: Vec<OddEntry>,
}

/// The history file of the telemetry folder `dir`.
pub fn history_file(dir: &Path) -> PathBuf {
    Paths::new(dir).history.join(HISTORY_FILE)
}

/// Deletes the history of the telemetry folder `dir` (for `disable --purge`): our files in it
/// (a link is removed, never followed), then the folder if nothing else is in it. Returns true
/// when no history is left.
pub fn remove(dir: &Path) -> bool {
    let folder = Paths::new(dir).history;
    if std::fs::symlink_metadata(&folder).is_err() {
        return true;
    }
    if !is_real_folder(&folder, &mut Vec::new()) {
        return false;
    }
    for name in [HISTORY_FILE, COMPACTING_FILE, LOCK_FILE] {
        let _ = std::fs::remove_file(folder.join(name));
    }
    std::fs::remove_dir(&folder).is_ok()
}

/// Reads the history of the telemetry folder `dir`, calling `visit` with every row (rows of one
/// day and name may come more than once: add them up). Creates, locks and writes nothing; a
/// missing history is empty.
pub fn read(dir: &Path, mut visit: impl FnMut(RowKey, Tally)) -> HistoryRead {
    let mut found = HistoryRead::default();
    let paths = Paths::new(dir);
    let file_path = paths.history.join(HISTORY_FILE);
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    if !exists(dir) || !exists(&paths.history) || !is_real_folder(dir, &mut Vec::new()) {
        return found;
    }
    if !is_real_folder(&paths.history, &mut found.odd) || !exists(&file_path) {
        return found;
    }
    let file = match open_readable(&file_path) {
        Ok(file) => file,
        Err(why) => {
            found.odd.push(OddEntry {
                path: file_path,
                why,
            });
            return found;
        }
    };
    match scan(file, &mut visit) {
        Ok(scan) => {
            found.rows = scan.rows;
            found.folded = scan.folded;
            found.bad_lines = scan.bad_lines;
            found.path = Some(file_path);
        }
        Err(e) => found.odd.push(OddEntry {
            path: file_path,
            why: format!("cannot be read: {}", crate::terminal::describe_io(&e)),
        }),
    }
    found
}

/// Opens the history for reading: a regular file (not a link, not a FIFO), within the bound.
fn open_readable(path: &Path) -> std::result::Result<File, String> {
    let file = open_batch(path)?;
    let len = file.metadata().map_or(0, |m| m.len());
    if len > MAX_HISTORY_BYTES {
        return Err(too_large(len));
    }
    Ok(file)
}

fn too_large(len: u64) -> String {
    format!(
        "{len} bytes, more than a history holds ({MAX_HISTORY_BYTES}): not read or written; remove it to start a new history"
    )
}

/// What a pass over the history found.
struct Scan {
    rows: u64,
    folded: HashSet<String>,
    fold_lines: usize,
    bad_lines: u64,
}

fn scan(file: File, mut visit: impl FnMut(RowKey, Tally)) -> io::Result<Scan> {
    let mut scan = Scan {
        rows: 0,
        folded: HashSet::new(),
        fold_lines: 0,
        bad_lines: 0,
    };
    let mut row = |line: RowLine, scan: &mut Scan| match line.into_row() {
        Some((key, tally)) => {
            scan.rows += 1;
            visit(key, tally);
        }
        None => scan.bad_lines += 1,
    };
    read_lines_up_to(file, MAX_HISTORY_LINE, |bytes, whole| {
        if whole && bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let parsed = whole.then(|| serde_json::from_slice::<Line>(bytes).ok());
        match parsed.flatten() {
            Some(Line::Fold { fold, rows }) => {
                scan.fold_lines += 1;
                scan.folded.insert(fold);
                rows.into_iter().for_each(|r| row(r, &mut scan));
            }
            Some(Line::Folded { folded }) => {
                scan.folded.insert(folded);
            }
            Some(Line::Row(line)) => row(line, &mut scan),
            None => scan.bad_lines += 1,
        }
    })?;
    Ok(scan)
}

/// Folds a batch's tallies into the history of the telemetry folder `dir`, once per batch id
/// (see the table in [`super`]). Call it before the batch is deleted. `may_compact` is for a
/// caller holding the sender lock (no batch moves between folders while it compacts).
pub fn fold(
    dir: &Path,
    batch_id: &str,
    tallies: &DayTallies,
    may_compact: bool,
) -> Result<FoldOutcome> {
    let paths = Paths::new(dir);
    paths.ensure(&paths.history)?;
    let _lock = HistoryLock::acquire(&paths.history)?;
    let file_path = paths.history.join(HISTORY_FILE);
    let created = std::fs::symlink_metadata(&file_path).is_err();
    let mut file = open_for_append(&file_path)?;
    let read_back = file.try_clone().and_then(|f| scan(f, |_, _| {}));
    let found = read_back.map_err(io_error(&file_path))?;
    if found.folded.contains(batch_id) {
        return Ok(FoldOutcome::AlreadyFolded);
    }
    let line = fold_line(batch_id, tallies, !ends_with_newline(&file));
    file.write_all(&line)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&file_path))?;
    if created {
        sync_dir(&paths.history)?;
    }
    crate::failpoint::hit("history.fold-written");
    if may_compact && found.fold_lines + 1 >= COMPACT_AFTER_FOLDS {
        compact(&paths)?;
    }
    Ok(FoldOutcome::Folded)
}

/// The fold line (newline included), after a newline when a crash left the last line torn.
fn fold_line(batch_id: &str, tallies: &DayTallies, after_torn_line: bool) -> Vec<u8> {
    let line = FoldLine {
        fold: batch_id,
        at: rfc3339_millis(now_millis()),
        rows: tallies
            .rows
            .iter()
            .map(|(k, t)| RowLine::new(k, t))
            .collect(),
    };
    let mut bytes = Vec::new();
    if after_torn_line {
        bytes.push(b'\n');
    }
    // Serialising plain structs of strings and numbers cannot fail.
    let _ = serde_json::to_writer(&mut bytes, &line);
    bytes.push(b'\n');
    bytes
}

fn ends_with_newline(file: &File) -> bool {
    let len = file.metadata().map_or(0, |m| m.len());
    let mut last = [b'\n'];
    len == 0 || (file.read_at(&mut last, len - 1).is_ok() && last[0] == b'\n')
}

/// Opens (creating it `0600`) the history for appending: a regular file within the bound, never
/// through a link, never blocking on a FIFO; tightened if it is wider than `0600`.
fn open_for_append(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused(path, "it is a link; nothing is written through it"),
            _ => io_error(path)(e),
        })?;
    let meta = file.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(refused(path, "it is not a regular file"));
    }
    if meta.len() > MAX_HISTORY_BYTES {
        return Err(refused(path, &too_large(meta.len())));
    }
    tighten(path, &meta, FILE_MODE)?;
    Ok(file)
}

fn refused(path: &Path, why: &str) -> Error {
    io_error(path)(io::Error::other(why.to_owned()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// Rewrites the history as merged rows, keeping the ids of folded batches still on disk.
fn compact(paths: &Paths) -> Result<()> {
    let file_path = paths.history.join(HISTORY_FILE);
    let file = open_readable(&file_path).map_err(|why| refused(&file_path, &why))?;
    let mut rows: BTreeMap<RowKey, Tally> = BTreeMap::new();
    let found = scan(file, |key, tally| {
        rows.entry(key).or_default().merge(&tally)
    })
    .map_err(io_error(&file_path))?;
    let mut live: Vec<&String> = found
        .folded
        .iter()
        .filter(|id| batch_on_disk(paths, id))
        .collect();
    live.sort();
    let hidden = paths.history.join(COMPACTING_FILE);
    let written = write_compacted(&hidden, &rows, &live);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&hidden);
        return Err(io_error(&hidden)(e));
    }
    crate::failpoint::hit("history.compact-written");
    std::fs::rename(&hidden, &file_path).map_err(io_error(&file_path))?;
    crate::failpoint::hit("history.compacted");
    sync_dir(&paths.history)
}

fn write_compacted(
    hidden: &Path,
    rows: &BTreeMap<RowKey, Tally>,
    live: &[&String],
) -> io::Result<()> {
    let _ = std::fs::remove_file(hidden); // a leftover of an interrupted compaction
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(hidden)?;
    let mut out = BufWriter::new(file);
    for (key, tally) in rows {
        serde_json::to_writer(&mut out, &RowLine::new(key, tally))?;
        out.write_all(b"\n")?;
    }
    for id in live {
        serde_json::to_writer(&mut out, &FoldedLine { folded: id })?;
        out.write_all(b"\n")?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// True when a batch named `id` is in a folder a batch with events can be in.
fn batch_on_disk(paths: &Paths, id: &str) -> bool {
    let name = format!("{id}{BATCH_SUFFIX}");
    [&paths.spool, &paths.outbox, &paths.rejected, &paths.local]
        .iter()
        .any(|dir| std::fs::symlink_metadata(dir.join(&name)).is_ok())
}

/// The lock a fold or compaction holds on the history (a file of its own, as a compaction
/// replaces the history file).
struct HistoryLock {
    _file: File,
}

impl HistoryLock {
    fn acquire(folder: &Path) -> Result<HistoryLock> {
        let path = folder.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
            .map_err(io_error(&path))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(HistoryLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(LOCK_POLL);
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(refused(&path, "another process held it for 10 seconds"));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_error(&path)(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests;
