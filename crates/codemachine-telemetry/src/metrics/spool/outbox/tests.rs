//! The outbox's steps, and what a failure at each step leaves.

use std::collections::BTreeMap;

use super::super::fs::{FaultyFs, Op};
use super::super::reader::{BatchState, list};
use super::super::test_lines::line;
use super::super::writer::SpoolWriter;
use super::*;

const NOW: Duration = Duration::ZERO;

fn record(dir: &Path, range: std::ops::Range<u64>) {
    let mut writer = SpoolWriter::new(dir, 1 << 30);
    for n in range {
        writer.append(&line(n), 1).unwrap();
    }
}

/// Event names in each state, counted (a duplicate shows as a count of 2).
fn names_by_state(dir: &Path) -> BTreeMap<(BatchState, String), u32> {
    let mut seen = BTreeMap::new();
    super::super::reader::for_each_line(dir, |state, _, event| {
        if let Some(e) = event {
            *seen.entry((state, e.name.clone())).or_insert(0) += 1;
        }
    });
    seen
}

fn names_in(dir: &Path, state: BatchState) -> Vec<String> {
    names_by_state(dir)
        .into_iter()
        .filter(|((s, _), _)| *s == state)
        .flat_map(|((_, name), n)| std::iter::repeat_n(name, n as usize))
        .collect()
}

fn open(dir: &Path) -> Outbox {
    Outbox::open(dir, NOW)
        .unwrap()
        .expect("the sender lock is free")
}

#[test]
fn claim_moves_segments_at_rest_and_leaves_held_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut holder = SpoolWriter::new(dir.path(), 1 << 30);
    holder.append(&line(9), 1).unwrap();
    record(dir.path(), 0..3);
    let outbox = open(dir.path());
    let report = outbox.claim(BatchLimits::default()).unwrap();
    assert_eq!((report.batches, report.events), (1, 3));
    assert_eq!(outbox.pending().len(), 1);
    assert_eq!(names_in(dir.path(), BatchState::Spool), ["f9"]);
    assert_eq!(names_in(dir.path(), BatchState::Outbox).len(), 3);
}

#[test]
fn claim_splits_to_the_limits_and_sets_torn_lines_aside() {
    let dir = tempfile::tempdir().unwrap();
    record(dir.path(), 0..10);
    let segment = list(dir.path()).batches[0].path.clone();
    append_raw(&segment, b"{\"torn\":");
    let outbox = open(dir.path());
    let limits = BatchLimits {
        max_bytes: 1 << 20,
        max_events: 3,
    };
    let report = outbox.claim(limits).unwrap();
    assert_eq!((report.batches, report.events, report.torn), (4, 10, 1));
    let sizes: Vec<u64> = list(dir.path())
        .in_state(BatchState::Outbox)
        .map(|b| b.events)
        .collect();
    assert_eq!(sizes, [3, 3, 3, 1]);
    assert_eq!(
        list(dir.path())
            .in_state(BatchState::Torn)
            .map(|b| b.torn)
            .sum::<u64>(),
        1
    );
    assert!(!segment.exists());
    let by_bytes = BatchLimits {
        max_bytes: line(20).len() as u64 * 2,
        max_events: 100,
    };
    record(dir.path(), 20..25);
    assert_eq!(outbox.claim(by_bytes).unwrap().batches, 3);
}

#[test]
fn acknowledge_reject_requeue_and_split() {
    let dir = tempfile::tempdir().unwrap();
    record(dir.path(), 0..4);
    let outbox = open(dir.path());
    outbox.claim(BatchLimits::default()).unwrap();
    let batch = outbox.pending().remove(0);
    let (first, second) = outbox.split(&batch).unwrap().unwrap();
    assert_eq!(
        (
            first.read().unwrap().0.len(),
            second.read().unwrap().0.len()
        ),
        (2, 2)
    );
    assert!(first.id().ends_with("-h0") && second.id().ends_with("-h1"));
    assert_eq!(outbox.pending(), [first.clone(), second.clone()]);
    let rejection = Rejection {
        status: Some(401),
        reason: "unauthorised".into(),
        at_ms: 1,
        pauses: true,
        destination: "a".into(),
    };
    outbox.reject(&first, &rejection).unwrap();
    outbox.acknowledge(&second).unwrap();
    assert!(outbox.pending().is_empty());
    assert_eq!(rejections(dir.path()), [(first.id().to_owned(), rejection)]);
    assert_eq!(names_in(dir.path(), BatchState::Rejected).len(), 2);
    assert_eq!(
        outbox
            .requeue(|r| r.is_some_and(|r| r.destination == "b"))
            .unwrap(),
        0
    );
    assert_eq!(outbox.requeue(|r| r.is_some_and(|r| r.pauses)).unwrap(), 1);
    assert_eq!(names_in(dir.path(), BatchState::Outbox).len(), 2);
    assert!(rejections(dir.path()).is_empty());
    let single = outbox.split(&outbox.pending()[0]).unwrap().unwrap();
    assert!(
        outbox.split(&single.0).unwrap().is_none(),
        "one event cannot be split"
    );
}

#[test]
fn one_sender_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let held = open(dir.path());
    assert!(Outbox::open(dir.path(), NOW).unwrap().is_none());
    let waited = Outbox::open(dir.path(), Duration::from_millis(60)).unwrap();
    assert!(waited.is_none());
    drop(held);
    assert!(Outbox::open(dir.path(), NOW).unwrap().is_some());
}

/// A failure at every step of claim and split, then recovery: every event is in the outbox
/// exactly once (nothing was sent, so there is no reason for a duplicate), none lost.
#[test]
fn a_failure_at_any_step_loses_and_duplicates_nothing_after_recovery() {
    for op in [Op::Create, Op::Append, Op::Sync, Op::Rename, Op::Remove] {
        for nth in 0..12 {
            let dir = tempfile::tempdir().unwrap();
            record(dir.path(), 0..7);
            let segment = list(dir.path()).batches[0].path.clone();
            append_raw(&segment, b"torn");
            let limits = BatchLimits {
                max_bytes: 1 << 20,
                max_events: 2,
            };
            {
                let faulty = Arc::new(FaultyFs::new(op, nth));
                let outbox = Outbox::open_with(dir.path(), NOW, faulty).unwrap().unwrap();
                if outbox.claim(limits).is_ok()
                    && let Some(batch) = outbox.pending().first()
                {
                    let _ = outbox.split(batch);
                }
            }
            let outbox = open(dir.path());
            outbox.claim(limits).unwrap();
            let mut names = names_in(dir.path(), BatchState::Outbox);
            names.sort();
            let expected: Vec<String> = (0..7).map(|n| format!("f{n}")).collect();
            assert_eq!(names, expected, "{op:?} #{nth}");
            assert!(
                names_in(dir.path(), BatchState::Spool).is_empty(),
                "{op:?} #{nth}"
            );
        }
    }
}

#[test]
fn a_batch_damaged_after_its_claim_keeps_its_events_and_its_other_lines() {
    let dir = tempfile::tempdir().unwrap();
    record(dir.path(), 0..2);
    let outbox = open(dir.path());
    outbox.claim(BatchLimits::default()).unwrap();
    let batch = outbox.pending().remove(0);
    append_raw(batch.path(), b"garbage\n");
    let (events, other) = batch.read().unwrap();
    assert_eq!((events.len(), &other), (2, &vec!["garbage".to_owned()]));
    outbox.set_aside(&batch, &other).unwrap();
    assert_eq!(
        list(dir.path())
            .in_state(BatchState::Torn)
            .map(|b| b.torn)
            .sum::<u64>(),
        1
    );
}
