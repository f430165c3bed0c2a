use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::metrics::event::Event;

const BATCH: &str = "0123456789abcdef0123456789abcdef";

/// A command event on `day` (a date), `ms` long, ending with `code`.
fn command(day: &str, name: &str, ms: u64, code: i32) -> Event {
    let line = format!(
        "{{\"schema\":1,\"id\":\"{:032x}\",\"ts\":\"{day}T10:00:00.000Z\",\"kind\":\"command\",\"name\":\"{name}\",\"duration_ms\":{ms},\"exit_code\":{code},\"count\":1,\"session_id\":\"s\",\"anon_id\":\"a\",\"cli_version\":\"0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}",
        ms
    );
    Event::parse(&line).expect("a valid event")
}

fn tallies(events: &[Event]) -> DayTallies {
    let mut t = DayTallies::default();
    events.iter().for_each(|e| t.add(e));
    t
}

/// Every row of the history of `dir`, added up per key.
fn sums(dir: &Path) -> (BTreeMap<RowKey, Tally>, HistoryRead) {
    let mut rows: BTreeMap<RowKey, Tally> = BTreeMap::new();
    let read = read(dir, |k, t| rows.entry(k).or_default().merge(&t));
    (rows, read)
}

fn history_file(dir: &Path) -> PathBuf {
    dir.join("history").join(HISTORY_FILE)
}

#[test]
fn a_batch_folded_twice_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let events = [
        command("2026-01-02", "build", 100, 0),
        command("2026-01-02", "build", 300, 1),
        command("2026-01-03", "test", 5, 0),
    ];
    let t = tallies(&events);
    assert_eq!(
        fold(dir.path(), BATCH, &t, true).unwrap(),
        FoldOutcome::Folded
    );
    assert_eq!(
        fold(dir.path(), BATCH, &t, true).unwrap(),
        FoldOutcome::AlreadyFolded
    );
    let (rows, read) = sums(dir.path());
    assert_eq!(rows.len(), 2);
    let build = &rows[&(20_455, EventKind::Command, "build".to_owned())];
    assert_eq!((build.count, build.failures), (2, 1));
    assert_eq!((build.min_ms, build.max_ms), (Some(100), Some(300)));
    assert!(read.folded.contains(BATCH));
    assert_eq!(read.bad_lines, 0);
}

#[test]
fn a_torn_last_line_is_ignored_and_the_next_fold_starts_a_new_line() {
    let dir = tempfile::tempdir().unwrap();
    let t = tallies(&[command("2026-01-02", "build", 100, 0)]);
    fold(dir.path(), BATCH, &t, false).unwrap();
    let file = history_file(dir.path());
    let whole = std::fs::read(&file).unwrap();
    let mut torn = whole.clone();
    torn.extend_from_slice(&whole[..whole.len() / 2]); // a second fold, cut by a power loss
    std::fs::write(&file, &torn).unwrap();
    let other = "fedcba9876543210fedcba9876543210";
    fold(dir.path(), other, &t, false).unwrap();
    let (rows, read) = sums(dir.path());
    assert_eq!(read.bad_lines, 1, "the torn line, alone on its line");
    assert_eq!(rows.values().next().unwrap().count, 2);
    assert!(read.folded.contains(BATCH) && read.folded.contains(other));
}

#[test]
fn garbage_lines_are_skipped_and_counted_and_never_stop_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("history")).unwrap();
    std::fs::write(
        history_file(dir.path()),
        "not json\n{\"day\":\"2026-02-30\",\"kind\":\"command\",\"name\":\"x\",\"count\":1}\n\n\u{0}\u{1}binary\n{\"fold\":\"a\",\"rows\":[{\"nope\":1}]}\n",
    )
    .unwrap();
    let t = tallies(&[command("2026-01-02", "build", 100, 0)]);
    fold(dir.path(), BATCH, &t, false).unwrap();
    let (rows, read) = sums(dir.path());
    assert_eq!(read.bad_lines, 4);
    assert_eq!(rows.len(), 1);
}

#[test]
fn odd_things_in_place_of_the_history_are_reported_and_never_written_through() {
    let t = tallies(&[command("2026-01-02", "build", 100, 0)]);
    // A FIFO: neither read (no hang) nor written.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("history")).unwrap();
    crate::sys::mkfifo(&history_file(dir.path())).unwrap();
    assert!(fold(dir.path(), BATCH, &t, true).is_err());
    let (_, read) = sums(dir.path());
    assert!(
        read.odd[0].why.contains("not a regular file"),
        "{:?}",
        read.odd
    );
    // A link to a file elsewhere: never followed.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::create_dir(dir.path().join("history")).unwrap();
    std::os::unix::fs::symlink(&victim, history_file(dir.path())).unwrap();
    assert!(
        fold(dir.path(), BATCH, &t, true)
            .unwrap_err()
            .to_string()
            .contains("link")
    );
    assert!(sums(dir.path()).1.odd[0].why.contains("link"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // Too large to be ours.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("history")).unwrap();
    let huge = File::create(history_file(dir.path())).unwrap();
    huge.set_len(MAX_HISTORY_BYTES + 1).unwrap();
    assert!(fold(dir.path(), BATCH, &t, true).is_err());
    let (rows, read) = sums(dir.path());
    assert!(rows.is_empty() && read.odd[0].why.contains("more than a history holds"));
    // The history folder is a link.
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("history")).unwrap();
    assert!(fold(dir.path(), BATCH, &t, true).is_err());
    assert!(sums(dir.path()).1.odd[0].why.contains("link"));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn compaction_keeps_every_sum_and_only_the_ids_of_batches_still_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path());
    std::fs::create_dir_all(&paths.outbox).unwrap();
    let ids: Vec<String> = (0..COMPACT_AFTER_FOLDS as u64 + 3)
        .map(|n| format!("{n:032x}"))
        .collect();
    let still_there = &ids[1];
    std::fs::write(paths.outbox.join(format!("{still_there}.ndjson")), "").unwrap();
    let mut expected: BTreeMap<RowKey, Tally> = BTreeMap::new();
    for (n, id) in ids.iter().enumerate() {
        let day = format!("2026-01-{:02}", n % 5 + 1);
        let t = tallies(&[command(&day, "build", n as u64 * 37, (n % 3) as i32)]);
        for (k, v) in &t.rows {
            expected.entry(k.clone()).or_default().merge(v);
        }
        fold(dir.path(), id, &t, true).unwrap();
    }
    let text = std::fs::read_to_string(history_file(dir.path())).unwrap();
    assert!(
        text.lines().filter(|l| l.starts_with("{\"fold\"")).count() < COMPACT_AFTER_FOLDS,
        "compacted: {text}"
    );
    let (rows, read) = sums(dir.path());
    assert_eq!(rows, expected);
    assert!(
        read.folded.contains(still_there),
        "kept: its batch is on disk"
    );
    assert!(
        !read.folded.contains(&ids[0]),
        "forgotten: its batch is gone"
    );
    assert!(
        read.folded.contains(ids.last().unwrap()),
        "folded after the compaction"
    );
    assert_eq!(
        fold(dir.path(), still_there, &tallies(&[]), true).unwrap(),
        FoldOutcome::AlreadyFolded
    );
}

#[test]
fn reading_creates_nothing_and_files_are_private() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("telemetry");
    let (rows, read) = sums(&dir);
    assert!(rows.is_empty() && read.odd.is_empty() && read.path.is_none());
    assert!(!dir.exists());
    std::fs::create_dir(&dir).unwrap();
    sums(&dir);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    fold(
        &dir,
        BATCH,
        &tallies(&[command("2026-01-02", "b", 1, 0)]),
        true,
    )
    .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("history")), 0o700);
    assert_eq!(mode(&history_file(&dir)), 0o600);
    assert_eq!(mode(&dir.join("history/lock")), 0o600);
}
