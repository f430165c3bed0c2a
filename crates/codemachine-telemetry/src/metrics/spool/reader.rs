//! The reading role: lists and reads batches in every state, for `status`, `inspect`, the audit
//! and the outbox.
//!
//! Reading never fails on one bad entry and never follows a link: a folder named like a batch,
//! an unreadable file, a link, a FIFO or a file that is not ours is skipped and reported as an
//! [`OddEntry`], and the rest is read. A line longer than [`MAX_LINE_BYTES`] is counted as torn
//! without being held in memory. While a writer holds a segment, its unfinished last line is
//! not counted at all (it is being written).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{BATCH_SUFFIX, Paths, batch_id};
use crate::metrics::event::Event;
use crate::terminal::describe_io;

/// Longer lines are not events (an event line is a few hundred bytes): they are counted as torn
/// and skipped without being kept in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Where a batch is in its life (see the module docs of [`super`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BatchState {
    /// In `spool/`: being written, or at rest waiting to be claimed.
    Spool,
    /// In `outbox/`: claimed, waiting to be sent (again).
    Outbox,
    /// In `rejected/`: refused by the collector, kept until an operator acts.
    Rejected,
    /// In `torn/`: lines that are not whole events, kept for manual pruning.
    Torn,
    /// In `local/`: recorded under a `local` consent or policy, held on this machine.
    Local,
}

impl BatchState {
    /// Every state, in the order they are read.
    pub const ALL: [BatchState; 5] = [
        BatchState::Spool,
        BatchState::Outbox,
        BatchState::Rejected,
        BatchState::Torn,
        BatchState::Local,
    ];

    /// `spool`, `outbox`, `rejected` or `torn`.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Spool => "spool",
            BatchState::Outbox => "outbox",
            BatchState::Rejected => "rejected",
            BatchState::Torn => "torn",
            BatchState::Local => "local",
        }
    }
}

/// One batch file, as read.
#[derive(Clone, Debug)]
pub struct BatchInfo {
    /// The batch id (its file name without `.ndjson`).
    pub id: String,
    /// Where it is.
    pub state: BatchState,
    /// Its file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Whole, valid events in it.
    pub events: u64,
    /// Lines that are not whole valid events (torn by a crash, or corrupted): kept, not counted
    /// as events.
    pub torn: u64,
    /// True while a writer still holds it (spool segments only).
    pub open: bool,
    /// Last modified.
    pub modified: Option<SystemTime>,
}

/// Something in the telemetry folder that is not a batch of ours: skipped, reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OddEntry {
    /// The entry.
    pub path: PathBuf,
    /// Why it was skipped.
    pub why: String,
}

/// What a read found.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Every batch read, oldest id first.
    pub batches: Vec<BatchInfo>,
    /// Every entry skipped.
    pub odd: Vec<OddEntry>,
}

impl Listing {
    /// The batches in `state`.
    pub fn in_state(&self, state: BatchState) -> impl Iterator<Item = &BatchInfo> {
        self.batches.iter().filter(move |b| b.state == state)
    }
}

/// Lists and counts every batch of the telemetry folder `dir` (a missing folder is empty).
pub fn list(dir: &Path) -> Listing {
    for_each_line(dir, |_, _, _| {})
}

/// Calls `visit` with every line of every batch (oldest id first), its state, and the event it
/// holds (`None` for a torn or corrupted line); returns what was read and skipped.
pub fn for_each_line(
    dir: &Path,
    mut visit: impl FnMut(BatchState, &str, Option<&Event>),
) -> Listing {
    for_each_batch_line(dir, |_, state, line, event| visit(state, line, event))
}

/// Like [`for_each_line`], with the id of the batch each line is in.
pub fn for_each_batch_line(
    dir: &Path,
    mut visit: impl FnMut(&str, BatchState, &str, Option<&Event>),
) -> Listing {
    let mut listing = Listing::default();
    if !is_real_folder(dir, &mut listing.odd) {
        return listing;
    }
    let paths = Paths::new(dir);
    let mut files = Vec::new();
    for state in BatchState::ALL {
        files.extend(batch_files(paths.of(state), state, &mut listing.odd));
    }
    odd_state_files(&paths, &mut listing.odd);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, state, path) in files {
        match read_batch(&path, state, id, &mut visit) {
            Ok(info) => listing.batches.push(info),
            Err(why) => listing.odd.push(OddEntry { path, why }),
        }
    }
    listing
}

/// The state files that are there but are not regular files (a link, a FIFO, a folder): they
/// are never read or written, and said so.
fn odd_state_files(paths: &Paths, odd: &mut Vec<OddEntry>) {
    if !is_real_folder(&paths.state, odd) {
        return;
    }
    for name in super::STATE_FILES {
        let path = paths.state.join(name);
        let why = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => "a link; not followed",
            Ok(meta) if !meta.is_file() => "not a regular file; not read or written",
            _ => continue,
        };
        odd.push(OddEntry {
            path,
            why: why.to_owned(),
        });
    }
}

/// True when `dir` is a folder (not a link to one); a missing folder is simply empty.
pub(crate) fn is_real_folder(dir: &Path, odd: &mut Vec<OddEntry>) -> bool {
    let why = match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => return true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
        Ok(meta) if meta.file_type().is_symlink() => {
            "a link where a folder should be; not followed".to_owned()
        }
        Ok(_) => "a file where a folder should be".to_owned(),
        Err(e) => format!("cannot be read: {}", describe_io(&e)),
    };
    odd.push(OddEntry {
        path: dir.to_owned(),
        why,
    });
    false
}

/// The batch files of one state folder, as `(id, state, path)`; everything else in it is odd.
pub(crate) fn batch_files(
    folder: &Path,
    state: BatchState,
    odd: &mut Vec<OddEntry>,
) -> Vec<(String, BatchState, PathBuf)> {
    if !is_real_folder(folder, odd) {
        return Vec::new();
    }
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) => {
            let why = format!("cannot be listed: {}", describe_io(&e));
            odd.push(OddEntry {
                path: folder.to_owned(),
                why,
            });
            return Vec::new();
        }
    };
    let mut files = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        match classify(&name, state) {
            Name::Batch => {
                files.push((batch_id(&name).unwrap_or_default().to_owned(), state, path))
            }
            Name::Ours => {}
            Name::Foreign => odd.push(OddEntry {
                path,
                why: "not a file telemetry writes".to_owned(),
            }),
        }
    }
    files
}

enum Name {
    Batch,
    /// A file of ours that is not a batch (a segment being created, a rejection's reason).
    Ours,
    Foreign,
}

fn classify(name: &str, state: BatchState) -> Name {
    if batch_id(name).is_some() {
        return Name::Batch;
    }
    let creating = name.starts_with('.') && (name.ends_with(".creating") || name.ends_with(".tmp"));
    let reason = state == BatchState::Rejected
        && name
            .strip_suffix(".json")
            .is_some_and(|stem| batch_id(&format!("{stem}{BATCH_SUFFIX}")).is_some());
    if creating || reason {
        Name::Ours
    } else {
        Name::Foreign
    }
}

/// Opens a batch file without following a link or blocking on a FIFO, and checks it is a
/// regular file.
pub(crate) fn open_batch(path: &Path) -> Result<File, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => "a link; not followed".to_owned(),
            _ => format!("cannot be read: {}", describe_io(&e)),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {}", describe_io(&e)))?;
    if meta.is_dir() {
        return Err("a folder named like a batch".to_owned());
    }
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    Ok(file)
}

fn read_batch(
    path: &Path,
    state: BatchState,
    id: String,
    visit: &mut impl FnMut(&str, BatchState, &str, Option<&Event>),
) -> Result<BatchInfo, String> {
    let file = open_batch(path)?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {}", describe_io(&e)))?;
    if let Some(why) = super::oversized(meta.len()) {
        return Err(why);
    }
    let open = matches!(state, BatchState::Spool | BatchState::Local) && is_held(&file);
    let mut info = BatchInfo {
        id: id.clone(),
        state,
        path: path.to_owned(),
        bytes: meta.len(),
        events: 0,
        torn: 0,
        open,
        modified: meta.modified().ok(),
    };
    let counted = read_lines(file, |line, whole| {
        let text = String::from_utf8_lossy(line);
        let event = match (whole, state) {
            (true, BatchState::Torn) | (false, _) => None,
            (true, _) => Event::parse(text.trim_end()),
        };
        match &event {
            Some(_) => info.events += 1,
            None if !whole && open => return, // the writer is still writing this line
            None => info.torn += 1,
        }
        visit(&id, state, &text, event.as_ref());
    });
    counted.map_err(|e| format!("cannot be read: {}", describe_io(&e)))?;
    Ok(info)
}

/// True when a writer holds the file's lock.
pub(crate) fn is_held(file: &File) -> bool {
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// Calls `on_line(bytes, whole)` for each line (without its newline); `whole` is false for an
/// over-long line (its first [`MAX_LINE_BYTES`] are given) and for a last line without newline.
pub(crate) fn read_lines(file: File, on_line: impl FnMut(&[u8], bool)) -> io::Result<()> {
    read_lines_up_to(file, MAX_LINE_BYTES, on_line)
}

/// [`read_lines`] with lines cut at `max_line` bytes.
pub(crate) fn read_lines_up_to(
    file: File,
    max_line: usize,
    mut on_line: impl FnMut(&[u8], bool),
) -> io::Result<()> {
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut overlong = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            if !line.is_empty() || overlong {
                on_line(&line, false);
            }
            return Ok(());
        }
        let (part, used, ends) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = max_line.saturating_sub(line.len());
        overlong |= part.len() > room;
        line.extend_from_slice(&part[..part.len().min(room)]);
        reader.consume(used);
        if ends {
            on_line(&line, !overlong);
            line.clear();
            overlong = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::test_lines::line;
    use super::super::writer::SpoolWriter;
    use super::*;

    fn names(odd: &[OddEntry]) -> Vec<String> {
        odd.iter()
            .map(|o| o.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn torn_and_over_long_lines_are_counted_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 30);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        let segment = list(dir.path()).batches[0].path.clone();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&segment)
            .unwrap();
        file.write_all(&vec![b'x'; MAX_LINE_BYTES * 3]).unwrap();
        file.write_all(b"\n").unwrap();
        file.write_all(&line(2)).unwrap();
        file.write_all(&line(3)[..30]).unwrap();
        let mut seen = Vec::new();
        let listing = for_each_line(dir.path(), |_, text, e| {
            seen.push((text.len(), e.map(|e| e.name.clone())));
        });
        assert_eq!((listing.batches[0].events, listing.batches[0].torn), (2, 2));
        assert_eq!(
            seen[1].0, MAX_LINE_BYTES,
            "an over-long line is cut, not held whole"
        );
        assert_eq!(seen[2].1.as_deref(), Some("f2"));
    }

    #[test]
    fn odd_entries_are_skipped_and_reported_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 30);
        writer.append(&line(1), 1).unwrap();
        drop(writer);
        let spool = dir.path().join("spool");
        let id = "0123456789abcdef0123456789abcdef";
        std::fs::create_dir(spool.join(format!("{id}.ndjson"))).unwrap();
        std::fs::write(spool.join("notes.txt"), "x").unwrap();
        let elsewhere = tempfile::NamedTempFile::new().unwrap();
        let link = format!("{id}-p1.ndjson");
        std::os::unix::fs::symlink(elsewhere.path(), spool.join(&link)).unwrap();
        let fifo = format!("{id}-p2.ndjson");
        crate::sys::mkfifo(&spool.join(&fifo)).unwrap();
        std::fs::write(spool.join(".x.creating"), "").unwrap();
        let listing = list(dir.path());
        assert_eq!(listing.batches.len(), 1);
        assert_eq!(listing.batches[0].events, 1);
        let mut odd = names(&listing.odd);
        odd.sort();
        assert_eq!(
            odd,
            [
                format!("{id}-p1.ndjson"),
                format!("{id}-p2.ndjson"),
                format!("{id}.ndjson"),
                "notes.txt".to_owned()
            ]
        );
        let why: Vec<&str> = listing.odd.iter().map(|o| o.why.as_str()).collect();
        assert!(
            why.iter().any(|w| w.contains("folder named like a batch")),
            "{why:?}"
        );
        assert!(why.iter().any(|w| w.contains("link")), "{why:?}");
    }

    #[test]
    fn a_file_or_link_in_place_of_a_folder_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let telemetry = dir.path().join("telemetry");
        std::fs::write(&telemetry, "oops").unwrap();
        let listing = list(&telemetry);
        assert!(listing.batches.is_empty());
        assert!(
            listing.odd[0]
                .why
                .contains("a file where a folder should be")
        );
        std::fs::remove_file(&telemetry).unwrap();
        std::fs::create_dir(&telemetry).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), telemetry.join("outbox")).unwrap();
        assert!(list(&telemetry).odd[0].why.contains("link"));
        assert!(list(&dir.path().join("absent")).odd.is_empty());
    }
}
