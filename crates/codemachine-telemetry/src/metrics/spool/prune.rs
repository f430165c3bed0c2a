//! The pruning role: deletes what an operator asks for, and says what it did and skipped.
//!
//! Batches are deleted whole, so a kept event is never separated from its batch. A segment a
//! writer still holds is kept, and so are outbox batches while a sender runs. Pruning never
//! stops half way: a file that cannot be deleted is reported and the rest goes on. It never
//! follows a link (a linked folder or file is reported, never entered), so it cannot delete
//! anything outside the telemetry folder.
//!
//! [`prune_into_history`] (telemetry on) first folds each batch's events into the history
//! (`metrics::history`), so the report still counts them; a part of an unfinished claim or
//! split is a copy of a batch still on disk and is deleted without being folded. [`prune`]
//! (telemetry off: deleting is allowed, writing is not) folds nothing.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Paths;
use super::outbox::{SenderLock, is_unfinished_part};
use super::reader::{
    BatchState, OddEntry, batch_files, is_held, is_real_folder, open_batch, read_lines,
};
use crate::metrics::event::Event;
use crate::metrics::history::{self, DayTallies};
use crate::terminal::describe_io;

/// What to delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only batches last written before this time. By default, regardless of age.
    pub older_than: Option<SystemTime>,
    /// Only rejected batches. By default, batches in every state.
    pub rejected_only: bool,
}

/// What `prune` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Batches deleted.
    pub batches: u64,
    /// Events they held.
    pub events: u64,
    /// Torn lines they held.
    pub torn: u64,
    /// Bytes freed.
    pub bytes: u64,
    /// Segments kept because a writer still holds them.
    pub kept_open: u64,
    /// Outbox batches kept because a sender is running.
    pub kept_sending: u64,
    /// Entries that are not ours, left alone.
    pub odd: Vec<OddEntry>,
    /// Files that could not be deleted, and why.
    pub failed: Vec<OddEntry>,
    /// Events added to the history before their batch was deleted.
    pub folded: u64,
    /// Why some events could not be added to the history (they were deleted all the same).
    pub history_error: Option<String>,
}

/// How long a purge waits for a running sender to finish.
const PURGE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Deletes the batches of the telemetry folder `dir` that `selection` picks, and leftovers of
/// interrupted steps (hidden files nobody holds). Writes nothing: for telemetry off.
pub fn prune(dir: &Path, selection: Selection) -> PruneReport {
    prune_with(dir, selection, false, false)
}

/// [`prune`], folding each batch's events into the history first (for telemetry on).
pub fn prune_into_history(dir: &Path, selection: Selection) -> PruneReport {
    prune_with(dir, selection, true, false)
}

/// How batches are folded while they are pruned.
struct Folding<'a> {
    dir: &'a Path,
    /// Holding the sender lock, no batch moves meanwhile: the history may be compacted.
    may_compact: bool,
    /// Parts of unfinished claims or splits: copies, never folded.
    copies: Vec<String>,
}

/// `lock_held`: the caller holds the sender lock already (a purge), so the outbox is free.
fn prune_with(dir: &Path, selection: Selection, fold: bool, lock_held: bool) -> PruneReport {
    let mut report = PruneReport::default();
    if !is_real_folder(dir, &mut report.odd) {
        return report;
    }
    let paths = Paths::new(dir);
    // With telemetry off (no fold) prune only deletes: it does not create the lock file; with
    // none there, no sender has run, and the outbox is free.
    let lock_file_missing = std::fs::symlink_metadata(paths.sender_lock()).is_err();
    let sender = if lock_held || (!fold && lock_file_missing) {
        None
    } else {
        SenderLock::try_acquire(&paths).ok().flatten()
    };
    let outbox_free = lock_held || sender.is_some() || (!fold && lock_file_missing);
    let folding = fold.then(|| Folding {
        dir,
        may_compact: sender.is_some(),
        copies: batch_files(&paths.outbox, BatchState::Outbox, &mut Vec::new())
            .into_iter()
            .map(|(id, _, _)| id)
            .filter(|id| is_unfinished_part(&paths, id))
            .collect(),
    });
    for state in BatchState::ALL {
        if selection.rejected_only && state != BatchState::Rejected {
            continue;
        }
        if state == BatchState::Outbox && !outbox_free {
            let busy = batch_files(paths.of(state), state, &mut Vec::new()).len();
            report.kept_sending += busy as u64;
            continue;
        }
        let folder = paths.of(state);
        prune_folder(folder, state, selection, folding.as_ref(), &mut report);
    }
    remove_leftovers(&paths, &mut report);
    report
}

fn prune_folder(
    folder: &Path,
    state: BatchState,
    selection: Selection,
    folding: Option<&Folding<'_>>,
    report: &mut PruneReport,
) {
    for (id, _, path) in batch_files(folder, state, &mut report.odd) {
        let file = match open_batch(&path) {
            Ok(file) => file,
            Err(why) => {
                report.odd.push(OddEntry { path, why });
                continue;
            }
        };
        // Holding the lock, a writer cannot adopt the segment while it is read and deleted.
        if file.try_lock().is_err() {
            report.kept_open += 1;
            continue;
        }
        let Ok(meta) = file.metadata() else { continue };
        let old_enough = match (selection.older_than, meta.modified()) {
            (None, _) => true,
            (Some(cutoff), Ok(modified)) => modified < cutoff,
            (Some(_), Err(_)) => false,
        };
        if !old_enough {
            continue;
        }
        let (events, torn, tallies) = count_lines(&file, state);
        let folding = folding.filter(|f| state != BatchState::Torn && !f.copies.contains(&id));
        if let Some(folding) = folding {
            fold_before_deleting(folding, &id, &tallies, report);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                report.batches += 1;
                report.events += events;
                report.torn += torn;
                report.bytes += meta.len();
                if state == BatchState::Rejected {
                    let _ = std::fs::remove_file(folder.join(format!("{id}.json")));
                }
            }
            Err(e) => report.failed.push(OddEntry {
                path,
                why: describe_io(&e),
            }),
        }
        drop(file);
    }
}

/// Folds a batch into the history; a failure is reported and the batch deleted all the same
/// (the operator asked, and a full disk must still be prunable).
fn fold_before_deleting(
    folding: &Folding<'_>,
    id: &str,
    tallies: &DayTallies,
    report: &mut PruneReport,
) {
    match history::fold(folding.dir, id, tallies, folding.may_compact) {
        Ok(history::FoldOutcome::Folded) => report.folded += tallies.events,
        Ok(history::FoldOutcome::AlreadyFolded) => {}
        Err(e) => {
            report.history_error.get_or_insert(e.to_string());
        }
    }
}

/// The batch's events and other lines, and its events added up per day (for the history).
fn count_lines(file: &std::fs::File, state: BatchState) -> (u64, u64, DayTallies) {
    let (mut events, mut torn, mut tallies) = (0, 0, DayTallies::default());
    let Ok(copy) = file.try_clone() else {
        return (0, 0, tallies);
    };
    let _ = read_lines(copy, |line, whole| {
        let event = whole && state != BatchState::Torn;
        match event
            .then(|| Event::parse(String::from_utf8_lossy(line).trim_end()))
            .flatten()
        {
            Some(event) => {
                events += 1;
                tallies.add(&event);
            }
            None => torn += 1,
        }
    });
    (events, torn, tallies)
}

/// Hidden files of interrupted steps (a segment being born, a part or a reason being written)
/// whose maker is gone (nobody holds them).
fn remove_leftovers(paths: &Paths, report: &mut PruneReport) {
    for folder in [&paths.spool, &paths.outbox, &paths.rejected, &paths.torn] {
        for path in hidden_files(folder) {
            let Ok(file) = open_batch(&path) else {
                continue;
            };
            if is_held(&file) {
                continue;
            }
            let bytes = file.metadata().map_or(0, |m| m.len());
            if std::fs::remove_file(&path).is_ok() {
                report.bytes += bytes;
            }
        }
    }
}

fn hidden_files(folder: &Path) -> Vec<PathBuf> {
    if !is_real_folder(folder, &mut Vec::new()) {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with('.') && (n.ends_with(".creating") || n.ends_with(".tmp"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::reader::list;
    use super::super::test_lines::line;
    use super::super::writer::SpoolWriter;
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn all() -> Selection {
        Selection::default()
    }

    #[test]
    fn held_segments_are_kept_and_the_rest_deleted_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        writer.append(&line(2), 1).unwrap();
        assert_eq!(prune(dir.path(), all()).kept_open, 1);
        drop(writer);
        let report = prune(dir.path(), all());
        assert_eq!((report.batches, report.events), (1, 2));
        assert!(list(dir.path()).batches.is_empty());
    }

    #[test]
    fn by_age_keeps_recent_batches_and_clears_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        std::fs::write(dir.path().join("spool/.x.creating"), b"").unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let kept = prune(
            dir.path(),
            Selection {
                older_than: Some(hour_ago),
                ..all()
            },
        );
        assert_eq!(kept.batches, 0);
        assert!(!dir.path().join("spool/.x.creating").exists());
        let later = SystemTime::now() + Duration::from_secs(1);
        assert_eq!(
            prune(
                dir.path(),
                Selection {
                    older_than: Some(later),
                    ..all()
                }
            )
            .batches,
            1
        );
    }

    #[test]
    fn rejected_only_touches_rejected_batches_and_their_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        for folder in [&paths.outbox, &paths.rejected] {
            std::fs::create_dir_all(folder).unwrap();
            std::fs::write(folder.join(format!("{ID}.ndjson")), line(1)).unwrap();
        }
        std::fs::write(paths.rejected.join(format!("{ID}.json")), "{}").unwrap();
        let report = prune(
            dir.path(),
            Selection {
                rejected_only: true,
                ..all()
            },
        );
        assert_eq!((report.batches, report.events), (1, 1));
        assert!(paths.outbox.join(format!("{ID}.ndjson")).exists());
        assert_eq!(std::fs::read_dir(&paths.rejected).unwrap().count(), 0);
    }

    #[test]
    fn links_are_never_followed_out_of_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join(format!("{ID}.ndjson"));
        std::fs::write(&victim, line(1)).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("spool")).unwrap();
        std::fs::create_dir(dir.path().join("outbox")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(format!("outbox/{ID}-p1.ndjson")))
            .unwrap();
        let report = prune(dir.path(), all());
        assert_eq!(report.batches, 0);
        assert_eq!(report.odd.len(), 2, "{:?}", report.odd);
        assert!(victim.exists(), "nothing outside the folder is deleted");
    }

    /// The counts the history of `dir` holds, per feature name.
    fn history_counts(dir: &Path) -> std::collections::BTreeMap<String, u64> {
        let mut counts = std::collections::BTreeMap::new();
        history::read(dir, |(_, _, name), tally| {
            *counts.entry(name).or_default() += tally.count;
        });
        counts
    }

    #[test]
    fn pruning_with_telemetry_on_folds_each_batch_once_and_never_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        std::fs::create_dir_all(&paths.spool).unwrap();
        std::fs::create_dir_all(&paths.outbox).unwrap();
        std::fs::create_dir_all(&paths.torn).unwrap();
        let other = "fedcba9876543210fedcba9876543210";
        std::fs::write(
            paths.spool.join(format!("{ID}.ndjson")),
            [line(1), line(1)].concat(),
        )
        .unwrap();
        // A part of an unfinished claim of that segment: a copy of its first event.
        std::fs::write(paths.outbox.join(format!("{ID}-p0.ndjson")), line(1)).unwrap();
        std::fs::write(paths.outbox.join(format!("{other}.ndjson")), line(2)).unwrap();
        std::fs::write(paths.torn.join(format!("{other}.ndjson")), b"{\"torn\n").unwrap();
        let report = prune_into_history(dir.path(), all());
        assert_eq!((report.batches, report.folded), (4, 3));
        assert_eq!(report.history_error, None);
        let counts = history_counts(dir.path());
        assert_eq!(
            counts.get("f1"),
            Some(&2),
            "the copy is not counted: {counts:?}"
        );
        assert_eq!(counts.get("f2"), Some(&1));
    }

    #[test]
    fn pruning_with_telemetry_off_writes_no_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        let report = prune(dir.path(), all());
        assert_eq!((report.batches, report.folded), (1, 0));
        assert!(!dir.path().join("history").exists());
    }

    #[test]
    fn a_history_that_cannot_be_written_is_reported_and_the_batch_deleted_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        std::fs::write(
            dir.path().join("history"),
            "a file where a folder should be",
        )
        .unwrap();
        let report = prune_into_history(dir.path(), all());
        assert_eq!((report.batches, report.folded), (1, 0));
        assert!(report.history_error.unwrap().contains("history"));
    }

    #[test]
    fn odd_entries_do_not_stop_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        std::fs::create_dir(dir.path().join(format!("spool/{ID}.ndjson"))).unwrap();
        let report = prune(dir.path(), all());
        assert_eq!((report.batches, report.odd.len()), (1, 1));
        assert!(dir.path().join(format!("spool/{ID}.ndjson")).is_dir());
    }
}

/// What `purge` did: the pruning of every batch, and what was left because it is not ours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// The batches deleted (every state, `local/` included).
    pub pruned: PruneReport,
    /// State files deleted (the salt among them: the anonymous id goes with it).
    pub state_files: u64,
    /// True when the local history is gone too (`history/`).
    pub history_removed: bool,
    /// True when the telemetry folder itself is gone (nothing but our files was in it).
    pub folder_removed: bool,
}

/// Deletes everything this library keeps in the telemetry folder `dir`: every batch in every
/// state, the salt, counters and the sender's state, the local history, then the folders left
/// empty. Entries that are not ours are left (and reported); batches a writer or sender still
/// holds are kept.
pub fn purge(dir: &Path) -> PurgeReport {
    // A running sender is waited for (a little), so it cannot deliver and fold into a history
    // this purge has just deleted.
    let paths = Paths::new(dir);
    let has_state = is_real_folder(dir, &mut Vec::new())
        && std::fs::symlink_metadata(&paths.state).is_ok_and(|m| m.is_dir());
    let lock = if has_state {
        SenderLock::acquire_within(&paths, PURGE_WAIT)
            .ok()
            .flatten()
    } else {
        None
    };
    let pruned = prune_with(dir, Selection::default(), false, lock.is_some());
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        // A link (or a file) in the telemetry folder's place: nothing is deleted through it.
        return PurgeReport {
            pruned,
            state_files: 0,
            history_removed: false,
            folder_removed: false,
        };
    }
    let mut state_files = 0;
    if is_real_folder(&paths.state, &mut Vec::new()) {
        for name in super::STATE_FILES {
            if std::fs::remove_file(paths.state.join(name)).is_ok() {
                state_files += 1;
            }
        }
        for path in hidden_files(&paths.state) {
            let _ = std::fs::remove_file(path);
        }
    }
    for folder in [
        &paths.spool,
        &paths.outbox,
        &paths.rejected,
        &paths.torn,
        &paths.local,
        &paths.state,
    ] {
        // Only an empty folder goes: anything left in it is not ours, or still held.
        let _ = std::fs::remove_dir(folder);
    }
    let history_removed = history::remove(dir);
    let folder_removed = std::fs::remove_dir(dir).is_ok() || !dir.exists();
    PurgeReport {
        pruned,
        state_files,
        history_removed,
        folder_removed,
    }
}

#[cfg(test)]
mod purge_tests {
    use super::super::test_lines::line;
    use super::super::writer::SpoolWriter;
    use super::*;

    #[test]
    fn purge_deletes_only_our_files() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = dir.path().join("telemetry");
        let mut writer = SpoolWriter::new(&telemetry, 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        let mut held = SpoolWriter::new(&telemetry, 1 << 20).held();
        held.append(&line(2), 1).unwrap();
        drop(held);
        std::fs::write(telemetry.join("state/salt"), "{}").unwrap();
        std::fs::write(telemetry.join("spool/notes.txt"), "mine, not yours").unwrap();
        let tallies = history::DayTallies::default();
        history::fold(
            &telemetry,
            "0123456789abcdef0123456789abcdef",
            &tallies,
            true,
        )
        .unwrap();
        let report = purge(&telemetry);
        assert!(report.history_removed && !telemetry.join("history").exists());
        assert_eq!((report.pruned.batches, report.pruned.events), (2, 2));
        assert!(report.state_files >= 1);
        assert!(!report.folder_removed, "a foreign file keeps its folder");
        assert_eq!(
            std::fs::read_to_string(telemetry.join("spool/notes.txt")).unwrap(),
            "mine, not yours"
        );
        assert!(!telemetry.join("state").exists() && !telemetry.join("local").exists());
        std::fs::remove_file(telemetry.join("spool/notes.txt")).unwrap();
        assert!(purge(&telemetry).folder_removed);
        assert!(!telemetry.exists());
    }

    #[test]
    fn purge_waits_for_a_running_sender_then_deletes_the_outbox_too() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = dir.path().join("telemetry");
        let mut writer = SpoolWriter::new(&telemetry, 1 << 20);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        let paths = Paths::new(&telemetry);
        let spooled = batch_files(&paths.spool, BatchState::Spool, &mut Vec::new());
        std::fs::create_dir_all(&paths.outbox).unwrap();
        std::fs::rename(
            &spooled[0].2,
            paths.outbox.join(spooled[0].2.file_name().unwrap()),
        )
        .unwrap();
        let sender = SenderLock::try_acquire(&paths).unwrap().unwrap();
        let started = std::time::Instant::now();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(sender);
        });
        let report = purge(&telemetry);
        release.join().unwrap();
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(300),
            "it waited"
        );
        assert_eq!((report.pruned.batches, report.pruned.kept_sending), (1, 0));
    }
}
