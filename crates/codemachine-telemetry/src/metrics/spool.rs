//! The spool: recorded events on disk, as plain NDJSON, in files that are the batches forwarding
//! will send.
//!
//! # Layout (all folders `0700`, all files `0600`)
//!
//! ```text
//! telemetry/
//!   spool/<id>.ndjson            a segment: one writer's events, one per line
//!   spool/.<id>.creating         a segment being born (locked, then renamed to <id>.ndjson)
//!   state/salt, state/salt.lock  the anonymous id's salt (see identity.rs)
//!   state/refused                events refused at the size cap, counted
//! ```
//!
//! # Segments
//!
//! A process appends to one segment at a time, holding an exclusive `flock` on it for as long as
//! it writes. So no two processes ever write to the same file at once (no torn or interleaved
//! lines, whatever their number), and a segment is **at rest** exactly when its lock can be
//! taken: its writer closed it, exited, or was killed (the kernel drops the lock even on
//! `kill -9`).
//!
//! To open a segment, a writer first tries to **adopt** one at rest: the newest few segments
//! under [`MAX_SEGMENT_BYTES`] whose lock it can take, that are still in place (same inode at
//! the same path, so not pruned or moved away meanwhile) and that end with a whole line (a torn
//! tail is never glued to a new event). Only if none fits does it create a new one. Short
//! commands therefore share a few files instead of leaving one file each, which keeps listing
//! and measuring the spool cheap. A segment reaching [`MAX_SEGMENT_BYTES`] is closed and a new
//! one started. Forwarding takes a segment at rest, under its lock, out of `spool/` before its
//! first send; from then on the batch never changes, and its id is the batch id.
//!
//! A new segment is created under a hidden name, locked, then renamed into place: a reader can
//! never take the lock of a segment whose writer has not locked it yet.
//!
//! # What a crash leaves
//!
//! Each event is one `write` of a whole line. A crash during that write can leave a torn last
//! line (no newline, or not JSON). Readers skip such lines, count them (`status`), and leave them
//! where they are; `prune` removes them with their segment. A crash between creating and renaming
//! a segment leaves an empty hidden file, which `prune` removes.
//!
//! # The size cap
//!
//! Before a segment is created, and whenever a writer's allowance runs out, the spool's size is
//! measured. An event that would take it over the cap is refused, never written, and counted in
//! `state/refused`; old events are never evicted.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::event::Event;
use super::ids::time_ordered_id;
use super::storage::{Counter, FILE_MODE, ensure_dir, io_error};
use crate::error::{Error, Result};

/// A segment is closed and a new one started past this size: 1 MiB is about 4 000 events, one
/// request to a collector (well under OTLP's 4 MiB message default).
pub const MAX_SEGMENT_BYTES: u64 = 1024 * 1024;
/// How many of the newest segments a writer tries to adopt before creating one.
const ADOPT_CANDIDATES: usize = 8;
/// While refusing at the cap, the spool is measured again at most this often.
const REMEASURE_EVERY: Duration = Duration::from_secs(1);

pub(crate) const SPOOL_DIR: &str = "spool";
pub(crate) const STATE_DIR: &str = "state";
const REFUSED_FILE: &str = "refused";
const SEGMENT_SUFFIX: &str = ".ndjson";

/// The folders of a telemetry directory.
#[derive(Clone, Debug)]
pub(crate) struct Paths {
    pub(crate) spool: PathBuf,
    pub(crate) state: PathBuf,
}

impl Paths {
    pub(crate) fn new(telemetry_dir: &Path) -> Self {
        Paths {
            spool: telemetry_dir.join(SPOOL_DIR),
            state: telemetry_dir.join(STATE_DIR),
        }
    }

    pub(crate) fn refused(&self) -> Counter {
        Counter::new(self.state.join(REFUSED_FILE))
    }
}

/// Appends events to this process's segment.
pub(crate) struct SpoolWriter {
    paths: Paths,
    cap: u64,
    segment: Option<Segment>,
    /// When the spool was last measured, and what it held then.
    last_measured: Option<(Instant, u64)>,
}

struct Segment {
    file: File,
    path: PathBuf,
    /// The file's size: only the lock holder writes, so this is exact.
    size: u64,
    /// `size` may grow up to this before the spool must be measured again.
    limit: u64,
}

impl SpoolWriter {
    /// A writer for the telemetry folder `dir`; nothing is touched until the first append.
    pub(crate) fn new(dir: &Path, cap: u64) -> Self {
        SpoolWriter {
            paths: Paths::new(dir),
            cap,
            segment: None,
            last_measured: None,
        }
    }

    /// Writes one whole line (newline included) with one `write`.
    pub(crate) fn append(&mut self, line: &[u8], now_ms: u64) -> Result<()> {
        let len = line.len() as u64;
        if self.segment.is_none() {
            self.open_segment(len, now_ms)?;
        }
        self.ensure_allowance(len)?;
        let Some(segment) = self.segment.as_mut() else {
            return Err(self.refuse(len));
        };
        if let Err(source) = segment.file.write_all(line) {
            // Take back a partial line so the next event starts on a line of its own.
            let _ = segment.file.set_len(segment.size);
            let path = segment.path.clone();
            self.segment = None;
            return Err(Error::Io { path, source });
        }
        segment.size += len;
        if segment.size >= MAX_SEGMENT_BYTES {
            self.segment = None; // closing releases the lock: the segment is sealed
        }
        Ok(())
    }

    fn ensure_allowance(&mut self, len: u64) -> Result<()> {
        let Some(segment) = self.segment.as_ref() else {
            return Ok(());
        };
        if segment.size + len <= segment.limit {
            return Ok(());
        }
        let recently = self
            .last_measured
            .is_some_and(|(t, _)| t.elapsed() < REMEASURE_EVERY);
        if !recently {
            let used = measure(&self.paths.spool)?;
            self.last_measured = Some((Instant::now(), used));
            if let Some(segment) = self.segment.as_mut() {
                segment.limit = segment.size + self.cap.saturating_sub(used);
            }
        }
        match &self.segment {
            Some(s) if s.size + len <= s.limit => Ok(()),
            _ => Err(self.refuse(len)),
        }
    }

    fn open_segment(&mut self, first_line: u64, now_ms: u64) -> Result<()> {
        ensure_dir(&self.paths.spool)?;
        ensure_dir(&self.paths.state)?;
        let used = measure(&self.paths.spool)?;
        self.last_measured = Some((Instant::now(), used));
        if used + first_line > self.cap {
            return Err(self.refuse(first_line));
        }
        let limit = self.cap - used;
        if let Some((file, path, size)) = self.adoptable_segment(first_line) {
            self.segment = Some(Segment {
                file,
                path,
                size,
                limit: size + limit,
            });
            return Ok(());
        }
        let id = time_ordered_id(now_ms);
        let hidden = self.paths.spool.join(format!(".{id}.creating"));
        let path = self.paths.spool.join(format!("{id}{SEGMENT_SUFFIX}"));
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&hidden)
            .map_err(io_error(&hidden))?;
        file.lock().map_err(io_error(&hidden))?;
        std::fs::rename(&hidden, &path).map_err(io_error(&path))?;
        self.segment = Some(Segment {
            file,
            path,
            size: 0,
            limit,
        });
        Ok(())
    }

    /// A segment at rest that can take `first_line`, locked by this writer (see the module docs).
    fn adoptable_segment(&self, first_line: u64) -> Option<(File, PathBuf, u64)> {
        let paths = segment_paths(&self.paths.spool).ok()?;
        for path in paths.into_iter().rev().take(ADOPT_CANDIDATES) {
            let Ok(file) = OpenOptions::new().read(true).append(true).open(&path) else {
                continue;
            };
            if file.try_lock().is_err() {
                continue;
            }
            let Ok(meta) = file.metadata() else { continue };
            let still_there = std::fs::metadata(&path)
                .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
            let fits = meta.len() + first_line <= MAX_SEGMENT_BYTES;
            if still_there && fits && ends_with_whole_line(&file, meta.len()) {
                return Some((file, path, meta.len()));
            }
            // Dropping `file` releases the lock.
        }
        None
    }

    fn refuse(&self, len: u64) -> Error {
        let used = self.last_measured.map_or(self.cap, |(_, used)| used);
        // Counting is best effort: a spool too broken to count in still refuses.
        let _ = ensure_dir(&self.paths.state).and_then(|()| self.paths.refused().add(1));
        Error::SpoolFull {
            used,
            needed: len,
            cap: self.cap,
        }
    }
}

fn ends_with_whole_line(file: &File, len: u64) -> bool {
    let mut last = [0u8; 1];
    len == 0 || (file.read_at(&mut last, len - 1).is_ok() && last[0] == b'\n')
}

/// Bytes held by the files of the spool folder (0 when it does not exist).
pub(crate) fn measure(spool: &Path) -> Result<u64> {
    let entries = match std::fs::read_dir(spool) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error(spool)(e)),
    };
    Ok(entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum())
}

/// One segment, as a reader sees it.
#[derive(Clone, Debug)]
pub struct SegmentInfo {
    /// The segment's id (the batch id).
    pub id: String,
    /// Its file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Whole, valid events in it.
    pub events: u64,
    /// Lines that are not whole valid events (torn by a crash, or corrupted): kept, not counted
    /// as events.
    pub torn: u64,
    /// True while a writer still holds it.
    pub open: bool,
    /// Last modified.
    pub modified: Option<SystemTime>,
}

/// Every segment of the spool, oldest first.
pub fn segments(telemetry_dir: &Path) -> Result<Vec<SegmentInfo>> {
    let spool = Paths::new(telemetry_dir).spool;
    let mut infos = Vec::new();
    for path in segment_paths(&spool)? {
        infos.push(read_segment(&path, None, |_, _| {})?);
    }
    Ok(infos)
}

/// Calls `visit` with every line of every segment, oldest first, and the event it holds (or
/// `None` for a torn or corrupted line).
pub fn for_each_line(
    telemetry_dir: &Path,
    mut visit: impl FnMut(&str, Option<&Event>),
) -> Result<()> {
    let spool = Paths::new(telemetry_dir).spool;
    for path in segment_paths(&spool)? {
        read_segment(&path, None, &mut visit)?;
    }
    Ok(())
}

fn segment_paths(spool: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(spool) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(spool)(e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_segment_name(p))
        .collect();
    paths.sort();
    Ok(paths)
}

fn is_segment_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| !n.starts_with('.') && n.ends_with(SEGMENT_SUFFIX))
}

/// True when a writer holds the segment (its lock cannot be taken).
fn is_open(file: &File) -> bool {
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// Reads a segment; `known_open` says whether a writer holds it when the caller knows (a caller
/// holding the lock itself would otherwise see its own lock).
fn read_segment(
    path: &Path,
    known_open: Option<bool>,
    mut visit: impl FnMut(&str, Option<&Event>),
) -> Result<SegmentInfo> {
    let file = File::open(path).map_err(io_error(path))?;
    let open = known_open.unwrap_or_else(|| is_open(&file));
    let metadata = file.metadata().map_err(io_error(path))?;
    let mut info = SegmentInfo {
        id: segment_id(path),
        path: path.to_owned(),
        bytes: metadata.len(),
        events: 0,
        torn: 0,
        open,
        modified: metadata.modified().ok(),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        let whole = line.ends_with(b"\n");
        if !whole && open {
            break; // the writer is still writing this line
        }
        let text = String::from_utf8_lossy(&line);
        let event = if whole {
            Event::parse(text.trim_end())
        } else {
            None
        };
        match &event {
            Some(_) => info.events += 1,
            None => info.torn += 1,
        }
        visit(text.trim_end_matches('\n'), event.as_ref());
    }
    Ok(info)
}

fn segment_id(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
        .unwrap_or_default()
        .to_owned()
}

/// What `prune` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Segments deleted.
    pub segments: u64,
    /// Events they held.
    pub events: u64,
    /// Torn lines they held.
    pub torn: u64,
    /// Bytes freed.
    pub bytes: u64,
    /// Segments left alone because a writer still holds them.
    pub skipped_open: u64,
}

/// Deletes sealed segments last written before `cutoff` (all sealed segments when `None`), and
/// leftovers of interrupted segment creation. A segment is deleted whole, so an event is never
/// lost while a newer one in its segment is kept.
pub fn prune(telemetry_dir: &Path, cutoff: Option<SystemTime>) -> Result<PruneReport> {
    let spool = Paths::new(telemetry_dir).spool;
    let mut report = PruneReport::default();
    for path in segment_paths(&spool)? {
        let file = File::open(&path).map_err(io_error(&path))?;
        if file.try_lock().is_err() {
            report.skipped_open += 1;
            continue;
        }
        // Holding the lock, the segment cannot be reopened by a writer: it is sealed for good.
        let info = read_segment(&path, Some(false), |_, _| {})?;
        let old_enough = match (cutoff, info.modified) {
            (None, _) => true,
            (Some(cutoff), Some(modified)) => modified < cutoff,
            (Some(_), None) => false,
        };
        if old_enough {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
            report.segments += 1;
            report.events += info.events;
            report.torn += info.torn;
            report.bytes += info.bytes;
        }
    }
    remove_abandoned_creations(&spool, &mut report)?;
    Ok(report)
}

/// Hidden `.creating` files whose creator died before renaming them (they are unlocked).
fn remove_abandoned_creations(spool: &Path, report: &mut PruneReport) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(spool) else {
        return Ok(());
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let is_creation = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') && n.ends_with(".creating"));
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if is_creation && file.try_lock().is_ok() {
            report.bytes += file.metadata().map_or(0, |m| m.len());
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64) -> Vec<u8> {
        let id = format!("{:012x}{:020x}", 1_700_000_000_000u64 + n, n);
        format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"2023-11-14T22:13:20.000Z\",\"kind\":\"feature\",\"name\":\"f{n}\",\"count\":1,\"session_id\":\"s\",\"anon_id\":\"a\",\"cli_version\":\"0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}\n"
        )
        .into_bytes()
    }

    #[test]
    fn a_writer_holds_its_segment_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        writer.append(&line(2), 1).unwrap();
        let before = segments(dir.path()).unwrap();
        assert_eq!(
            (before.len(), before[0].events, before[0].open),
            (1, 2, true)
        );
        assert_eq!(prune(dir.path(), None).unwrap().skipped_open, 1);
        drop(writer);
        let after = segments(dir.path()).unwrap();
        assert!(!after[0].open);
        let report = prune(dir.path(), None).unwrap();
        assert_eq!((report.segments, report.events), (1, 2));
        assert!(segments(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn spool_skips_torn_last_line_and_keeps_reading() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        let path = writer.segment.as_ref().unwrap().path.clone();
        drop(writer);
        let torn = &line(2)[..40];
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(torn)
            .unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(3), 2).unwrap();
        assert_ne!(
            writer.segment.as_ref().unwrap().path,
            path,
            "a torn segment is not adopted"
        );
        drop(writer);
        let infos = segments(dir.path()).unwrap();
        assert_eq!(infos.iter().map(|s| s.events).sum::<u64>(), 2);
        assert_eq!(infos.iter().map(|s| s.torn).sum::<u64>(), 1);
        let mut seen = Vec::new();
        for_each_line(dir.path(), |_, e| seen.push(e.map(|e| e.name.clone()))).unwrap();
        assert_eq!(seen, [Some("f1".into()), None, Some("f3".into())]);
        assert!(
            std::fs::read(&path).unwrap().ends_with(torn),
            "the torn line is kept"
        );
    }

    #[test]
    fn later_writers_adopt_a_segment_at_rest_instead_of_creating_one() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..5 {
            let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
            writer.append(&line(n), 1).unwrap();
        }
        let infos = segments(dir.path()).unwrap();
        assert_eq!((infos.len(), infos[0].events), (1, 5));
        let mut holder = SpoolWriter::new(dir.path(), 1 << 20);
        holder.append(&line(10), 1).unwrap();
        let mut other = SpoolWriter::new(dir.path(), 1 << 20);
        other.append(&line(11), 1).unwrap();
        assert_eq!(
            segments(dir.path()).unwrap().len(),
            2,
            "a held segment is not shared"
        );
    }

    #[test]
    fn the_cap_refuses_new_events_counts_them_and_keeps_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let one = line(1).len() as u64;
        let mut writer = SpoolWriter::new(dir.path(), one * 3);
        for n in 0..3 {
            writer.append(&line(n), 1).unwrap();
        }
        for n in 3..5 {
            assert!(matches!(
                writer.append(&line(n), 1),
                Err(Error::SpoolFull { .. })
            ));
        }
        drop(writer);
        let mut other = SpoolWriter::new(dir.path(), one * 3);
        assert!(matches!(
            other.append(&line(9), 1),
            Err(Error::SpoolFull { .. })
        ));
        assert_eq!(Paths::new(dir.path()).refused().get(), 3);
        assert_eq!(segments(dir.path()).unwrap()[0].events, 3);
    }

    #[test]
    fn a_full_segment_is_sealed_and_the_writer_rolls_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 64 << 20);
        let big = line(0);
        let per_segment = MAX_SEGMENT_BYTES.div_ceil(big.len() as u64);
        for _ in 0..per_segment + 1 {
            writer.append(&big, 1).unwrap();
        }
        let infos = segments(dir.path()).unwrap();
        assert_eq!(infos.len(), 2);
        let sealed: Vec<_> = infos.iter().filter(|s| !s.open).collect();
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].events, per_segment);
    }

    #[test]
    fn prune_by_age_keeps_recent_segments_and_clears_abandoned_creations() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        std::fs::write(dir.path().join("spool/.x.creating"), b"").unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let kept = prune(dir.path(), Some(hour_ago)).unwrap();
        assert_eq!(kept.segments, 0);
        assert!(!dir.path().join("spool/.x.creating").exists());
        let later = SystemTime::now() + Duration::from_secs(1);
        assert_eq!(prune(dir.path(), Some(later)).unwrap().segments, 1);
    }
}

/// The spool's life cycle against a model: whatever the interleaving of writers opening,
/// appending, closing and pruning, every event appended is either still readable or was
/// counted by a prune, exactly once, and no line is ever torn.
#[cfg(test)]
mod model_tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Append(usize),
        Close(usize),
        PruneAll,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..3usize).prop_map(Op::Append),
            2 => (0..3usize).prop_map(Op::Close),
            1 => Just(Op::PruneAll),
        ]
    }

    fn line(n: u64) -> Vec<u8> {
        let id = format!("{:012x}{:020x}", 1_700_000_000_000u64, n);
        format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"2023-11-14T22:13:20.000Z\",\"kind\":\"feature\",\"name\":\"f\",\"count\":1,\"session_id\":\"s\",\"anon_id\":\"a\",\"cli_version\":\"0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}\n"
        )
        .into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn nothing_is_lost_or_torn(ops in prop::collection::vec(op(), 1..60)) {
            let dir = tempfile::tempdir().unwrap();
            let mut writers: Vec<Option<SpoolWriter>> = vec![None, None, None];
            let (mut appended, mut pruned, mut next) = (0u64, 0u64, 0u64);
            for op in ops {
                match op {
                    Op::Append(w) => {
                        let writer = writers[w].get_or_insert_with(|| SpoolWriter::new(dir.path(), 1 << 30));
                        next += 1;
                        writer.append(&line(next), 1).unwrap();
                        appended += 1;
                    }
                    Op::Close(w) => writers[w] = None,
                    Op::PruneAll => pruned += prune(dir.path(), None).unwrap().events,
                }
            }
            let (mut ids, mut read, mut torn) = (std::collections::HashSet::new(), 0u64, 0u64);
            for_each_line(dir.path(), |_, e| match e {
                Some(e) => {
                    read += 1;
                    ids.insert(e.id.clone());
                }
                None => torn += 1,
            })
            .unwrap();
            prop_assert_eq!(torn, 0);
            prop_assert_eq!(ids.len() as u64, read, "no event is read twice");
            prop_assert_eq!(read + pruned, appended);
        }
    }
}
