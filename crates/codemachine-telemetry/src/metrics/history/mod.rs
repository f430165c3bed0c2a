//! The history: per-day aggregates of the events that have left the spool (delivered to a
//! collector, or pruned), kept so that `telemetry report` can still show them. It never leaves
//! the machine (the sender reads batches only) and the size cap counts it.
//!
//! It does not own the events themselves (the spool does) nor the report (`crate::report`
//! reads it); the one decision to know is that **a fold records the batch id in the same
//! write as the batch's aggregates**, so a fold is idempotent per batch and a crash at any point
//! never counts a batch twice nor loses it.
//!
//! # Layout (folder `0700`, files `0600`, plain NDJSON: `jq` reads it)
//!
//! ```text
//! history/history.ndjson           one JSON object a line (below)
//! history/lock                     held while a fold or a compaction changes the file
//! history/.history.ndjson.tmp      a compaction being written
//! ```
//!
//! Three kinds of line:
//!
//! ```text
//! {"day":"2026-11-27","kind":"command","name":"build","count":12,"failures":1,"durations_ms":[[1024,3],[1280,9]],"min_ms":1002,"max_ms":1490}
//! {"fold":"<batch id>","at":"2026-11-27T22:00:32.123Z","rows":[<row>,…]}
//! {"folded":"<batch id>"}
//! ```
//!
//! A **row** adds up one UTC day of one command or feature: `count` (events, each weighing its
//! `count`), `failures` (runs with a non-zero exit code), `durations_ms` (`[bucket's lowest
//! millisecond, runs]` for every bucket with runs, see [`tally`]), the shortest and longest
//! run. A **fold** line is a batch's rows and its id, appended in one write. A **folded** line
//! keeps, after a compaction, the id of a batch folded but still on disk.
//!
//! # A fold, step by step
//!
//! | step | how | a crash just after leaves |
//! |---|---|---|
//! | check | under `history/lock`, the file is read: a batch whose id is in a fold or folded line was folded already, and nothing is done | — |
//! | append | the fold line, rows and id together, in one `write` (starting a new line if a crash tore the last one), then fsync (`history.fold-written`) | the fold durable and the batch still on disk: the report skips a batch whose id the history holds, the next delivery or prune of it skips the fold and deletes it |
//! | delete | the caller deletes the batch: `Outbox::acknowledge` after a 2xx, or `prune` | — |
//! | compact | after every [`COMPACT_AFTER_FOLDS`] folds, by a process holding the sender lock: rows merged per day and name, the ids of batches still on disk kept as folded lines, written to a hidden file, fsynced (`history.compact-written`), renamed over the file (`history.compacted`), the folder fsynced | the hidden file (deleted by the next compaction) and the old history / the new one |
//!
//! A write torn by a power cut leaves a last line that is not whole: it is ignored (its batch is
//! still on disk, so it is folded again), and the next fold starts on a new line. A fold that
//! cannot be written (a full disk, a history that is not a regular file or is over
//! [`MAX_HISTORY_BYTES`]) is an error the caller reports; delivery and pruning go on without it,
//! since keeping a batch to protect the report would resend it or keep the disk full.

mod store;
pub mod tally;

pub use store::{FoldOutcome, HistoryRead, fold, history_file, read, remove};
pub use tally::{DayTallies, Histogram, RowKey, Tally};

/// A history file larger than this is not read or written (a year of twenty commands a day is
/// about 1 MiB): it is not ours, or something went wrong, and the operator is told.
pub const MAX_HISTORY_BYTES: u64 = 16 * 1024 * 1024;
/// The history is compacted after this many fold lines, so that it grows with days and names,
/// not with batches.
pub const COMPACT_AFTER_FOLDS: usize = 32;
