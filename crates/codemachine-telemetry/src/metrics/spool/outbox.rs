//! The sending side: claim segments at rest for sending, acknowledge delivered batches, set
//! rejected ones aside, split a batch a collector found too large, re-queue.
//!
//! Every operation happens under the **sender lock** (`state/sender.lock`): an [`Outbox`]
//! exists only while its process holds it, so two senders (a background sender and a `flush`)
//! never send, claim or split the same batch at once. A sender killed mid-step leaves the lock
//! to the kernel, and the next [`Outbox::open`] first undoes what the step left half done (see
//! the table in [`super`]): parts of an unfinished claim or split are deleted, because their
//! origin is still there and none of them was sent yet. Each step is one atomic rename or an
//! fsynced write, in an order where a crash can only cause a batch to be sent again (same batch
//! id), never lost.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::fs::{Filesystem, RealFs};
use super::reader::{BatchState, OddEntry, batch_files, open_batch, read_lines};
use super::{BATCH_SUFFIX, Paths};
use crate::metrics::event::Event;
use crate::metrics::storage::{MAX_STATE_BYTES, open_state_file, read_state_file};

/// At most this many bytes of event lines in one batch: fits every common collector's request
/// limit (the OpenTelemetry Collector's default is 20 MiB; many gateways stop at 1–4 MiB).
pub const DEFAULT_BATCH_MAX_BYTES: u64 = 1024 * 1024;
/// At most this many events in one batch.
pub const DEFAULT_BATCH_MAX_EVENTS: u64 = 5_000;
/// How often a waiting sender tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// What went wrong on the sending side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// A file or folder operation failed; the step was not done (and can be tried again).
    #[error("{}: {}", path.display(), crate::terminal::describe_io(error))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
}

impl From<ClaimError> for crate::Error {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::Io { path, error } => crate::Error::Io { path, error },
        }
    }
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> ClaimError + '_ {
    move |error| ClaimError::Io {
        path: path.to_owned(),
        error,
    }
}

/// How large a batch may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Bytes of event lines (newlines included). At least one event always fits.
    pub max_bytes: u64,
    /// Events.
    pub max_events: u64,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_bytes: DEFAULT_BATCH_MAX_BYTES,
            max_events: DEFAULT_BATCH_MAX_EVENTS,
        }
    }
}

/// The lock only one sender holds.
#[derive(Debug)]
pub(crate) struct SenderLock {
    _file: File,
}

impl SenderLock {
    /// Takes the lock if nobody holds it; `Ok(None)` when another process does.
    pub(crate) fn try_acquire(paths: &Paths) -> io::Result<Option<SenderLock>> {
        let file = open_lock_file(paths)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SenderLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Waits up to `timeout` for the lock; `Ok(None)` when it stayed held.
    pub(crate) fn acquire_within(
        paths: &Paths,
        timeout: Duration,
    ) -> io::Result<Option<SenderLock>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(lock) = SenderLock::try_acquire(paths)? {
                return Ok(Some(lock));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(LOCK_POLL);
        }
    }
}

fn open_lock_file(paths: &Paths) -> io::Result<File> {
    paths.ensure(&paths.state).map_err(io::Error::other)?;
    open_state_file(&paths.sender_lock(), true)
}

/// A batch in the outbox: sealed, its id the batch id sent with every attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    id: String,
    path: PathBuf,
}

impl Batch {
    /// The batch id (sent as `Idempotency-Key`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every line, without newlines, unread as events (the sender classifies them while it
    /// encodes). A last line without a newline or an over-long line comes cut, as it is not an
    /// event anyway.
    pub fn lines(&self) -> io::Result<Vec<String>> {
        let file = open_batch(&self.path).map_err(io::Error::other)?;
        let mut lines = Vec::new();
        read_lines(file, |line, _| {
            lines.push(String::from_utf8_lossy(line).into_owned())
        })?;
        Ok(lines)
    }

    /// The event lines, without newlines. Lines that are not events (the file was damaged
    /// after it was claimed) are returned apart, so the caller can keep them aside.
    pub fn read(&self) -> io::Result<(Vec<String>, Vec<String>)> {
        let file = open_batch(&self.path).map_err(io::Error::other)?;
        let (mut events, mut other) = (Vec::new(), Vec::new());
        read_lines(file, |line, whole| {
            let text = String::from_utf8_lossy(line).into_owned();
            match whole && Event::parse(text.trim_end()).is_some() {
                true => events.push(text),
                false => other.push(text),
            }
        })?;
        Ok((events, other))
    }
}

/// Why a batch was rejected, kept beside it in `rejected/<id>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The HTTP status, if there was one.
    pub status: Option<u16>,
    /// What happened, in a sentence.
    pub reason: String,
    /// When (epoch milliseconds).
    pub at_ms: u64,
    /// True for a status that pauses sending until the endpoint or headers change (401, 403,
    /// 404): such batches are re-queued when the destination changes.
    pub pauses: bool,
    /// A fingerprint of the destination (endpoint and headers) that rejected it.
    pub destination: String,
}

/// What a claim moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimReport {
    /// Batches now in the outbox.
    pub batches: u64,
    /// Events they hold.
    pub events: u64,
    /// Lines that were not events, set aside in `torn/`.
    pub torn: u64,
    /// Entries skipped.
    pub odd: Vec<OddEntry>,
}

/// The outbox, held by this process (see the module docs).
pub struct Outbox {
    paths: Paths,
    fs: Arc<dyn Filesystem>,
    _lock: SenderLock,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("dir", &self.paths.root)
            .finish()
    }
}

impl Outbox {
    /// Takes the sender lock of the telemetry folder `dir` (waiting up to `wait`), then undoes
    /// what an interrupted sender left half done. `Ok(None)` when another sender holds the lock.
    pub fn open(dir: &Path, wait: Duration) -> Result<Option<Outbox>, ClaimError> {
        Outbox::open_with(dir, wait, Arc::new(RealFs))
    }

    pub(crate) fn open_with(
        dir: &Path,
        wait: Duration,
        fs: Arc<dyn Filesystem>,
    ) -> Result<Option<Outbox>, ClaimError> {
        let paths = Paths::new(dir);
        let lock = SenderLock::acquire_within(&paths, wait).map_err(io_at(&paths.state))?;
        let Some(lock) = lock else { return Ok(None) };
        let outbox = Outbox {
            paths,
            fs,
            _lock: lock,
        };
        outbox.recover()?;
        Ok(Some(outbox))
    }

    /// Deletes parts whose origin is still in place: their claim or replacement never finished,
    /// so none of them was sent, and the origin will be claimed or sent again.
    fn recover(&self) -> Result<(), ClaimError> {
        for (id, _, path) in batch_files(&self.paths.outbox, BatchState::Outbox, &mut Vec::new()) {
            if is_unfinished_part(&self.paths, &id) {
                self.fs.remove(&path).map_err(io_at(&path))?;
            }
        }
        Ok(())
    }

    /// Moves every segment at rest from `spool/` into the outbox, split to `limits` (lines that
    /// are not events go to `torn/`).
    pub fn claim(&self, limits: BatchLimits) -> Result<ClaimReport, ClaimError> {
        self.claim_from(BatchState::Spool, limits)
    }

    /// Moves every segment at rest from `local/` (events held under a `local` consent) into the
    /// outbox: only when an operator asks (`flush --include-local`).
    pub fn claim_held(&self, limits: BatchLimits) -> Result<ClaimReport, ClaimError> {
        self.claim_from(BatchState::Local, limits)
    }

    fn claim_from(
        &self,
        state: BatchState,
        limits: BatchLimits,
    ) -> Result<ClaimReport, ClaimError> {
        let mut report = ClaimReport::default();
        let folder = self.paths.of(state).to_owned();
        let mut segments = batch_files(&folder, state, &mut report.odd);
        segments.sort();
        if segments.is_empty() {
            return Ok(report);
        }
        self.paths
            .ensure(&self.paths.outbox)
            .map_err(|e| io_at(&self.paths.outbox)(io::Error::other(e)))?;
        for (id, _, path) in segments {
            self.claim_segment(&id, &path, &folder, limits, &mut report)?;
        }
        Ok(report)
    }

    fn claim_segment(
        &self,
        id: &str,
        path: &Path,
        folder: &Path,
        limits: BatchLimits,
        report: &mut ClaimReport,
    ) -> Result<(), ClaimError> {
        let file = match open_batch(path) {
            Ok(file) => file,
            Err(why) => {
                report.odd.push(OddEntry {
                    path: path.to_owned(),
                    why,
                });
                return Ok(());
            }
        };
        if let Some(why) = file.metadata().ok().and_then(|m| super::oversized(m.len())) {
            report.odd.push(OddEntry {
                path: path.to_owned(),
                why,
            });
            return Ok(());
        }
        if file.try_lock().is_err() || !still_in_place(&file, path) {
            return Ok(()); // a writer holds it, or it moved meanwhile
        }
        let (events, torn) = split_lines(&file).map_err(io_at(path))?;
        let chunks = chunk(&events, limits);
        report.events += events.len() as u64;
        report.torn += torn.len() as u64;
        if torn.is_empty() && chunks.len() == 1 {
            // The common case: the segment is one batch as it is.
            let to = self.paths.outbox.join(format!("{id}{BATCH_SUFFIX}"));
            self.fs.rename(path, &to).map_err(io_at(&to))?;
            crate::failpoint::hit("claim.renamed");
            self.sync_dirs(&[&self.paths.outbox, folder])?;
            report.batches += 1;
            return Ok(());
        }
        for (k, lines) in chunks.iter().enumerate() {
            self.write_durably(&self.paths.outbox, &format!("{id}-p{k}"), lines)?;
            report.batches += 1;
        }
        if !torn.is_empty() {
            self.paths
                .ensure(&self.paths.torn)
                .map_err(|e| io_at(&self.paths.torn)(io::Error::other(e)))?;
            let torn: Vec<&str> = torn.iter().map(String::as_str).collect();
            self.write_durably(&self.paths.torn, id, &torn)?;
        }
        self.sync_dirs(&[&self.paths.outbox, &self.paths.torn])?;
        crate::failpoint::hit("claim.parts-written");
        self.fs.remove(path).map_err(io_at(path))?;
        self.sync_dirs(&[folder])
    }

    /// Writes `lines` as `<folder>/<name>.ndjson` through a hidden file, fsynced, then renamed.
    fn write_durably(&self, folder: &Path, name: &str, lines: &[&str]) -> Result<(), ClaimError> {
        let hidden = folder.join(format!(".{name}.tmp"));
        let target = folder.join(format!("{name}{BATCH_SUFFIX}"));
        let _ = std::fs::remove_file(&hidden); // a leftover of an earlier, interrupted try
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        let written = self.fs.create_new(&hidden).and_then(|mut file| {
            self.fs.append(&mut file, text.as_bytes())?;
            self.fs.sync(&file)
        });
        let placed = written.and_then(|()| self.fs.rename(&hidden, &target));
        if let Err(error) = placed {
            let _ = std::fs::remove_file(&hidden);
            return Err(ClaimError::Io {
                path: target,
                error,
            });
        }
        Ok(())
    }

    fn sync_dirs(&self, dirs: &[&Path]) -> Result<(), ClaimError> {
        for dir in dirs {
            if dir.exists() {
                self.fs.sync_dir(dir).map_err(io_at(dir))?;
            }
        }
        Ok(())
    }

    /// The batches waiting to be sent, oldest first.
    pub fn pending(&self) -> Vec<Batch> {
        let mut files = batch_files(&self.paths.outbox, BatchState::Outbox, &mut Vec::new());
        files.sort();
        files
            .into_iter()
            .map(|(id, _, path)| Batch { id, path })
            .collect()
    }

    /// The collector took `batch` (a 2xx): it is deleted.
    pub fn acknowledge(&self, batch: &Batch) -> Result<(), ClaimError> {
        match self.fs.remove(&batch.path) {
            Ok(()) => {}
            // Pruned meanwhile: delivered all the same.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_at(&batch.path)(e)),
        }
        self.sync_dirs(&[&self.paths.outbox])
    }

    /// The collector refused `batch`: its reason is written, then it is moved to `rejected/`.
    pub fn reject(&self, batch: &Batch, rejection: &Rejection) -> Result<(), ClaimError> {
        let folder = &self.paths.rejected;
        self.paths
            .ensure(folder)
            .map_err(|e| io_at(folder)(io::Error::other(e)))?;
        let reason = serde_json::to_string(rejection).unwrap_or_default();
        self.write_file_durably(folder, &format!("{}.json", batch.id), &reason)?;
        crate::failpoint::hit("reject.reason-written");
        let to = folder.join(format!("{}{BATCH_SUFFIX}", batch.id));
        self.fs.rename(&batch.path, &to).map_err(io_at(&to))?;
        crate::failpoint::hit("reject.moved");
        self.sync_dirs(&[folder, &self.paths.outbox])
    }

    fn write_file_durably(&self, folder: &Path, name: &str, text: &str) -> Result<(), ClaimError> {
        let hidden = folder.join(format!(".{name}.tmp"));
        let target = folder.join(name);
        let _ = std::fs::remove_file(&hidden);
        let written = self.fs.create_new(&hidden).and_then(|mut file| {
            self.fs.append(&mut file, text.as_bytes())?;
            self.fs.sync(&file)
        });
        let placed = written.and_then(|()| self.fs.rename(&hidden, &target));
        placed.map_err(|error| {
            let _ = std::fs::remove_file(&hidden);
            ClaimError::Io {
                path: target,
                error,
            }
        })
    }

    /// Replaces `batch` by `parts` (each an id and its event lines), for a batch a collector took
    /// only in part: the parts are written durably first, then the batch is deleted. Part ids
    /// must extend the batch's (`<id>.0`, `<id>.1.0`, … as the forwarder sends them), so that
    /// recovery can tell an unfinished replacement.
    pub fn replace(
        &self,
        batch: &Batch,
        parts: &[(String, Vec<&str>)],
    ) -> Result<Vec<Batch>, ClaimError> {
        let mut written = Vec::new();
        for (id, lines) in parts {
            let well_formed = id
                .strip_prefix(batch.id.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
                && super::batch_id(&format!("{id}{BATCH_SUFFIX}")).is_some();
            if !well_formed {
                let error = io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a part id must extend its batch's",
                );
                return Err(ClaimError::Io {
                    path: self.paths.outbox.join(id),
                    error,
                });
            }
            self.write_durably(&self.paths.outbox, id, lines)?;
            let path = self.paths.outbox.join(format!("{id}{BATCH_SUFFIX}"));
            written.push(Batch {
                id: id.clone(),
                path,
            });
        }
        self.sync_dirs(&[&self.paths.outbox])?;
        crate::failpoint::hit("replace.parts-written");
        self.fs.remove(&batch.path).map_err(io_at(&batch.path))?;
        self.sync_dirs(&[&self.paths.outbox])?;
        Ok(written)
    }

    /// Sets aside, in `torn/`, lines of a batch that are not events (found when it was read for
    /// sending), so the batch can be sent with its events only.
    pub fn set_aside(&self, batch: &Batch, lines: &[String]) -> Result<(), ClaimError> {
        let folder = &self.paths.torn;
        self.paths
            .ensure(folder)
            .map_err(|e| io_at(folder)(io::Error::other(e)))?;
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.write_durably(folder, &format!("{}-x", batch.id), &lines)
    }

    /// Moves rejected batches that `pick` chooses back into the outbox; returns how many.
    pub fn requeue(&self, pick: impl Fn(Option<&Rejection>) -> bool) -> Result<u64, ClaimError> {
        let folder = &self.paths.rejected;
        let mut moved = 0;
        for (id, _, path) in batch_files(folder, BatchState::Rejected, &mut Vec::new()) {
            let reason_path = folder.join(format!("{id}.json"));
            let reason = read_state_file(&reason_path, MAX_STATE_BYTES)
                .and_then(|t| serde_json::from_str::<Rejection>(&t).ok());
            if !pick(reason.as_ref()) {
                continue;
            }
            self.paths
                .ensure(&self.paths.outbox)
                .map_err(|e| io_at(&self.paths.outbox)(io::Error::other(e)))?;
            let to = self.paths.outbox.join(format!("{id}{BATCH_SUFFIX}"));
            self.fs.rename(&path, &to).map_err(io_at(&to))?;
            crate::failpoint::hit("requeue.moved");
            let _ = self.fs.remove(&reason_path);
            moved += 1;
        }
        if moved > 0 {
            self.sync_dirs(&[&self.paths.outbox, folder])?;
        }
        Ok(moved)
    }
}

/// True when a batch the part `id` was made from is still there: the segment of a claim's part
/// (`<id>-p<k>`, in `spool/` or `local/`), or any batch it is a part of (`<id>.<k>…`, in `outbox/`). Such a
/// part is a copy of events its origin still holds: its claim or split never finished, nothing
/// of it was sent, and the next sender deletes it.
pub(crate) fn is_unfinished_part(paths: &Paths, id: &str) -> bool {
    let exists = |dir: &Path, name: &str| dir.join(format!("{name}{BATCH_SUFFIX}")).exists();
    let mut name = id;
    while let Some((origin, _)) = name.rsplit_once('.') {
        if exists(&paths.outbox, origin) {
            return true;
        }
        name = origin;
    }
    name.rsplit_once("-p")
        .is_some_and(|(segment, _)| exists(&paths.spool, segment) || exists(&paths.local, segment))
}

/// The reasons kept for the rejected batches of the telemetry folder `dir`.
pub fn rejections(dir: &Path) -> Vec<(String, Rejection)> {
    let folder = Paths::new(dir).rejected;
    batch_files(&folder, BatchState::Rejected, &mut Vec::new())
        .into_iter()
        .filter_map(|(id, _, _)| {
            let text = read_state_file(&folder.join(format!("{id}.json")), MAX_STATE_BYTES)?;
            Some((id, serde_json::from_str(&text).ok()?))
        })
        .collect()
}

fn still_in_place(file: &File, path: &Path) -> bool {
    let (Ok(held), Ok(there)) = (file.metadata(), std::fs::symlink_metadata(path)) else {
        return false;
    };
    held.ino() == there.ino() && held.dev() == there.dev()
}

/// The segment's lines: valid events, and everything else.
fn split_lines(file: &File) -> io::Result<(Vec<String>, Vec<String>)> {
    let (mut events, mut other) = (Vec::new(), Vec::new());
    read_lines(file.try_clone()?, |line, whole| {
        let text = String::from_utf8_lossy(line).into_owned();
        match whole && Event::parse(text.trim_end()).is_some() {
            true => events.push(text),
            false => other.push(text),
        }
    })?;
    Ok((events, other))
}

/// Consecutive runs of `lines` within `limits` (at least one line each; none for no lines).
fn chunk(lines: &[String], limits: BatchLimits) -> Vec<Vec<&str>> {
    if lines.is_empty() {
        return Vec::new();
    }
    let mut chunks: Vec<Vec<&str>> = vec![Vec::new()];
    let mut bytes = 0u64;
    for line in lines {
        let len = line.len() as u64 + 1;
        let current = chunks.last().map_or(0, |c| c.len()) as u64;
        if current > 0 && (bytes + len > limits.max_bytes || current >= limits.max_events) {
            chunks.push(Vec::new());
            bytes = 0;
        }
        bytes += len;
        if let Some(last) = chunks.last_mut() {
            last.push(line);
        }
    }
    chunks
}

/// Writes `text` to `file` (used by tests that damage batches).
#[cfg(test)]
pub(crate) fn append_raw(path: &Path, text: &[u8]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text).unwrap();
}

#[cfg(test)]
mod tests;
