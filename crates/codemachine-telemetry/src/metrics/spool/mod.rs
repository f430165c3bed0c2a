//! The spool: recorded events on disk, as plain NDJSON, from the moment they are recorded until a
//! collector acknowledges them (or an operator prunes them).
//!
//! # Layout (all folders `0700`, all files `0600`)
//!
//! ```text
//! telemetry/
//!   spool/<id>.ndjson        a segment: one writer's events, one per line (open or at rest)
//!   spool/.<id>.creating     a segment being born (locked, then renamed to <id>.ndjson)
//!   outbox/<id>.ndjson       a batch claimed for sending: sealed, never changed again
//!   rejected/<id>.ndjson     a batch the collector refused (kept until an operator acts)
//!   rejected/<id>.json       why it was refused (status, time)
//!   torn/<id>.ndjson         lines that are not whole events, set aside when a segment is claimed
//!   local/<id>.ndjson        segments recorded under a `local` consent or policy: held here, never
//!                            claimed for sending unless an operator asks (`flush --include-local`)
//!   state/salt, salt.lock    the anonymous id's salt (see identity.rs)
//!   state/refused            events refused at the size cap, counted
//!   state/sender.lock        held by the one process sending (flush or background sender)
//!   history/history.ndjson   per-day aggregates of batches delivered or pruned (see `history`)
//! ```
//!
//! # The roles
//!
//! - [`writer`]: appends events to segments in `spool/` (one writer per segment, by `flock`).
//! - [`reader`]: lists and reads every state for `status`, `inspect` and the audit; odd entries
//!   (a folder named like a batch, an unreadable file, a link) are skipped and reported.
//! - [`outbox`]: the sending side: claims segments at rest into `outbox/`, acknowledges delivered
//!   batches, sets rejected ones aside, splits a batch a collector found too large, re-queues.
//! - [`prune`]: deletes what an operator asks for, reporting what it did and skipped.
//! - [`fs`]: the file-system calls the writer and the outbox make, behind a trait so tests can
//!   inject a full disk, a short write or a failed rename in-process.
//!
//! # A batch's life, step by step
//!
//! | step | how | a crash just before / after leaves |
//! |---|---|---|
//! | record | one `write` of a whole line to the writer's locked segment | no line / a whole line (a torn line at worst, skipped and counted) |
//! | rest | the writer closes the segment or dies: the kernel drops the lock | — |
//! | claim | under the sender lock and the segment's lock: `rename(spool/<id>, outbox/<id>)`, both folders fsynced | the segment in `spool/` / the batch in `outbox/` |
//! | claim, split | when a segment exceeds the batch limits or holds torn lines: parts written to hidden files, fsynced, renamed to `outbox/<id>-p<k>`, the folder fsynced, then the segment unlinked | the segment and some parts: the next claim (same sender lock, nothing of it sent yet) deletes the parts and starts again |
//! | send | read-only | the batch in `outbox/`, sent again next time (same batch id: a duplicate, never a loss) |
//! | delivered | unlink `outbox/<id>` after a 2xx | the batch, sent again / nothing |
//! | rejected | reason written (temp file, fsync, rename), then `rename(outbox/<id>, rejected/<id>)` | the batch in `outbox/` (sent again) / set aside |
//! | too large (413) | both halves written as `outbox/<id>.0` and `<id>.1` (fsynced, renamed), then the batch unlinked; each half is then a batch of its own | batch and halves: the halves are deleted (none was sent yet) and the batch sent again |
//!
//! Nothing is deleted before the step it depends on is durable, and nothing is deleted at all
//! except after a 2xx or by `prune`. Every sending step happens under `state/sender.lock`, so two
//! processes never send the same batch at once, and a sender killed mid-step leaves its lock to
//! the kernel.
//!
//! # The size cap
//!
//! The cap counts every state (`spool/`, `outbox/`, `rejected/`, `torn/`, `local/`) and the
//! history (`history/`, which never leaves the machine). Before a segment is
//! created, and whenever a writer's allowance runs out, the folder is measured; an event that
//! would take it over the cap is refused, never written, and counted in `state/refused`; old
//! events are never evicted.

mod fs;
pub mod outbox;
pub mod prune;
pub mod reader;
pub(crate) mod writer;

use std::path::{Path, PathBuf};

pub use outbox::{Batch, BatchLimits, ClaimError, Outbox};
pub use prune::{PruneReport, PurgeReport, Selection, prune, prune_into_history, purge};
pub use reader::{
    BatchInfo, BatchState, Listing, OddEntry, for_each_batch_line, for_each_line, list,
};
pub(crate) use writer::SpoolWriter;

use super::storage::{Counter, ensure_dir};

/// A segment is closed and a new one started past this size: 1 MiB is about 4 000 events, one
/// request to a collector (well under OTLP's 4 MiB message default).
pub const MAX_SEGMENT_BYTES: u64 = 1024 * 1024;

/// A file named like a batch but bigger than this is not one we wrote (segments close at
/// [`MAX_SEGMENT_BYTES`]): it is listed as odd and never read, claimed or sent; prune deletes it.
pub const MAX_BATCH_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a batch file of `len` bytes is not read, when it is bigger than any we write.
pub(crate) fn oversized(len: u64) -> Option<String> {
    (len > MAX_BATCH_FILE_BYTES).then(|| {
        format!(
            "{len} bytes, far more than a batch we write ({} MiB at most); not read",
            MAX_BATCH_FILE_BYTES >> 20
        )
    })
}

const SPOOL_DIR: &str = "spool";
const OUTBOX_DIR: &str = "outbox";
const REJECTED_DIR: &str = "rejected";
const TORN_DIR: &str = "torn";
const LOCAL_DIR: &str = "local";
const HISTORY_DIR: &str = "history";
pub(crate) const STATE_DIR: &str = "state";
const REFUSED_FILE: &str = "refused";
const SENDER_LOCK_FILE: &str = "sender.lock";
/// The files of `state/` (each small, read to a bound, never through a link).
pub(crate) const STATE_FILES: &[&str] = &[
    "salt",
    "salt.lock",
    REFUSED_FILE,
    "forward.json",
    "sender.started",
    SENDER_LOCK_FILE,
];
/// Every batch file ends so.
pub(crate) const BATCH_SUFFIX: &str = ".ndjson";

/// The folders of a telemetry directory.
#[derive(Clone, Debug)]
pub(crate) struct Paths {
    pub(crate) root: PathBuf,
    pub(crate) spool: PathBuf,
    pub(crate) outbox: PathBuf,
    pub(crate) rejected: PathBuf,
    pub(crate) torn: PathBuf,
    pub(crate) local: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) history: PathBuf,
}

impl Paths {
    pub(crate) fn new(telemetry_dir: &Path) -> Self {
        Paths {
            root: telemetry_dir.to_owned(),
            spool: telemetry_dir.join(SPOOL_DIR),
            outbox: telemetry_dir.join(OUTBOX_DIR),
            rejected: telemetry_dir.join(REJECTED_DIR),
            torn: telemetry_dir.join(TORN_DIR),
            local: telemetry_dir.join(LOCAL_DIR),
            state: telemetry_dir.join(STATE_DIR),
            history: telemetry_dir.join(HISTORY_DIR),
        }
    }

    /// Creates `folder` (one of these folders) when missing, after checking the telemetry folder
    /// itself: a telemetry folder that is a link (or not a folder) is refused, so nothing is
    /// written or created through it.
    ///
    /// The telemetry folder and the one holding it (`~/.codemachine`) are created when missing,
    /// but never the home folder above them: a `HOME` that does not exist (`/nonexistent`) is a
    /// failure, not a folder to make.
    pub(crate) fn ensure(&self, folder: &Path) -> crate::error::Result<()> {
        if std::fs::symlink_metadata(&self.root).is_err()
            && let Some(home) = self.root.parent().and_then(Path::parent)
            && !home.as_os_str().is_empty()
            && !home.is_dir()
        {
            let missing = std::io::Error::other(
                "this home folder does not exist; telemetry creates nothing above its own folder",
            );
            return Err(super::storage::io_error(home)(missing));
        }
        ensure_dir(&self.root)?;
        if folder != self.root {
            ensure_dir(folder)?;
        }
        Ok(())
    }

    /// The lock only one sender holds (`state/sender.lock`).
    pub(crate) fn sender_lock(&self) -> PathBuf {
        self.state.join(SENDER_LOCK_FILE)
    }

    pub(crate) fn refused(&self) -> Counter {
        Counter::new(self.state.join(REFUSED_FILE))
    }

    /// The folder holding batches in `state`.
    pub(crate) fn of(&self, state: BatchState) -> &Path {
        match state {
            BatchState::Spool => &self.spool,
            BatchState::Outbox => &self.outbox,
            BatchState::Rejected => &self.rejected,
            BatchState::Torn => &self.torn,
            BatchState::Local => &self.local,
        }
    }

    /// Every folder the size cap counts: every state, and the history.
    pub(crate) fn counted(&self) -> [&Path; 6] {
        [
            &self.spool,
            &self.outbox,
            &self.rejected,
            &self.torn,
            &self.local,
            &self.history,
        ]
    }
}

/// The batch id of a batch file's name (`<id>.ndjson`), if the name is one of ours: 32 lower-case
/// hex digits, then parts such as `-p1` (a claim's part) or `.0.1` (a split's part), at most 128
/// characters.
pub(crate) fn batch_id(file_name: &str) -> Option<&str> {
    let id = file_name.strip_suffix(BATCH_SUFFIX)?;
    let (head, tail) = (id.get(..32)?, &id[32..]);
    let hex = head
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let parts = tail
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let separated = tail.is_empty() || tail.starts_with('-') || tail.starts_with('.');
    let no_empty_part = !tail.contains("..") && !tail.ends_with('.') && !tail.ends_with('-');
    (hex && parts && separated && no_empty_part && id.len() <= 128).then_some(id)
}

/// Bytes held by the files of every counted folder (missing folders hold nothing; links and
/// other odd entries are not followed).
pub(crate) fn measure(paths: &Paths) -> std::io::Result<u64> {
    let mut total = 0;
    for dir in paths.counted() {
        total += measure_dir(dir)?;
    }
    Ok(total)
}

/// Bytes held by the files of one folder (missing: none; links are not followed).
pub(crate) fn measure_dir(dir: &Path) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    Ok(entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum())
}

#[cfg(test)]
pub(crate) mod test_lines {
    //! Event lines for the spool's tests.

    /// A valid event line (newline included) whose name and id carry `n`.
    pub(crate) fn line(n: u64) -> Vec<u8> {
        let id = format!("{:012x}{:020x}", 1_700_000_000_000u64 + n, n);
        format!(
            "{{\"schema\":1,\"id\":\"{id}\",\"ts\":\"2023-11-14T22:13:20.000Z\",\"kind\":\"feature\",\"name\":\"f{n}\",\"count\":1,\"session_id\":\"s\",\"anon_id\":\"a\",\"cli_version\":\"0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}\n"
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_names_are_ours_only() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(batch_id(&format!("{id}.ndjson")), Some(id));
        assert!(batch_id(&format!("{id}-p2.0.1.ndjson")).is_some());
        for bad in [
            "x.ndjson",
            ".0123456789abcdef0123456789abcdef.ndjson",
            "0123456789ABCDEF0123456789abcdef.ndjson",
            "0123456789abcdef0123456789abcdef_x.ndjson",
            "0123456789abcdef0123456789abcdef.json",
            "0123456789abcdef0123456789abcdef/../x.ndjson",
            "0123456789abcdef0123456789abcdef...ndjson",
            "0123456789abcdef0123456789abcdef..0.ndjson",
        ] {
            assert_eq!(batch_id(bad), None, "{bad}");
        }
    }
}
