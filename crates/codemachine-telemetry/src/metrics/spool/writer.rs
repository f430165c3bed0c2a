//! The writing role: appends events to segments in `spool/`.
//!
//! A process appends to one segment at a time, holding an exclusive `flock` on it for as long as
//! it writes. So no two processes ever write to the same file at once (no torn or interleaved
//! lines, whatever their number), and a segment is **at rest** exactly when its lock can be
//! taken: its writer closed it, exited, or was killed (the kernel drops the lock even on
//! `kill -9`).
//!
//! To open a segment, a writer first tries to **adopt** one at rest: the newest few segments
//! under [`MAX_SEGMENT_BYTES`] whose lock it can take, that are still in place (same inode at the
//! same path, so not claimed or pruned meanwhile), that are regular files of ours and that end
//! with a whole line (a torn tail is never glued to a new event). Only if none fits does it create
//! a new one, under a hidden name, locked, then renamed into place (so a reader can never take the
//! lock of a segment whose writer has not locked it yet). Short commands therefore share a few
//! files instead of leaving one file each. A segment reaching [`MAX_SEGMENT_BYTES`] is closed.
//!
//! Each event is one `write` of a whole line. A write that fails part-way (a full disk) is taken
//! back (the file is cut to its previous length), so the next event starts on a line of its own.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fs::{Filesystem, RealFs};
use super::{BATCH_SUFFIX, MAX_SEGMENT_BYTES, Paths, batch_id, measure};
use crate::error::{Error, Result};
use crate::metrics::ids::time_ordered_id;
use crate::metrics::storage::{FILE_MODE, io_error, tighten};

/// How many of the newest segments a writer tries to adopt before creating one.
const ADOPT_CANDIDATES: usize = 8;
/// While refusing at the cap, the folder is measured again at most this often.
const REMEASURE_EVERY: Duration = Duration::from_secs(1);

/// Appends events to this process's segment.
pub(crate) struct SpoolWriter {
    paths: Paths,
    /// `spool/`, or `local/` for events held on this machine.
    folder: PathBuf,
    cap: u64,
    fs: Arc<dyn Filesystem>,
    segment: Option<Segment>,
    /// When the folder was last measured, and what it held then.
    last_measured: Option<(Instant, u64)>,
}

struct Segment {
    file: File,
    path: PathBuf,
    /// The file's size: only the lock holder writes, so this is exact.
    size: u64,
    /// `size` may grow up to this before the folder must be measured again.
    limit: u64,
}

impl SpoolWriter {
    /// A writer for the telemetry folder `dir`; nothing is touched until the first append.
    pub(crate) fn new(dir: &Path, cap: u64) -> Self {
        SpoolWriter::with_fs(dir, cap, Arc::new(RealFs))
    }

    pub(crate) fn with_fs(dir: &Path, cap: u64, fs: Arc<dyn Filesystem>) -> Self {
        let paths = Paths::new(dir);
        SpoolWriter {
            folder: paths.spool.clone(),
            paths,
            cap,
            fs,
            segment: None,
            last_measured: None,
        }
    }

    /// This writer, writing into `local/`: events held on this machine (a `local` consent).
    pub(crate) fn held(mut self) -> Self {
        self.folder = self.paths.local.clone();
        self
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
        if let Err(error) = self.fs.append(&mut segment.file, line) {
            // Take back a partial line so the next event starts on a line of its own.
            let _ = segment.file.set_len(segment.size);
            let path = segment.path.clone();
            self.segment = None;
            return Err(Error::Io { path, error });
        }
        segment.size += len;
        if segment.size >= MAX_SEGMENT_BYTES {
            self.segment = None; // closing releases the lock: the segment is at rest
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
            let used = measure(&self.paths).map_err(io_error(&self.paths.root))?;
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
        self.paths.ensure(&self.folder)?;
        self.paths.ensure(&self.paths.state)?;
        let used = measure(&self.paths).map_err(io_error(&self.paths.root))?;
        self.last_measured = Some((Instant::now(), used));
        if used.saturating_add(first_line) > self.cap {
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
        let (file, path) = self.create_segment(now_ms)?;
        self.segment = Some(Segment {
            file,
            path,
            size: 0,
            limit,
        });
        Ok(())
    }

    fn create_segment(&self, now_ms: u64) -> Result<(File, PathBuf)> {
        let id = time_ordered_id(now_ms).map_err(io_error(&self.folder))?;
        let hidden = self.folder.join(format!(".{id}.creating"));
        let path = self.folder.join(format!("{id}{BATCH_SUFFIX}"));
        let file = self.fs.create_new(&hidden).map_err(io_error(&hidden))?;
        let placed = file
            .lock()
            .and_then(|()| self.fs.rename(&hidden, &path))
            .map_err(io_error(&path));
        if placed.is_err() {
            let _ = std::fs::remove_file(&hidden);
        }
        placed.map(|()| (file, path))
    }

    /// A segment at rest that can take `first_line`, locked by this writer (see the module docs).
    fn adoptable_segment(&self, first_line: u64) -> Option<(File, PathBuf, u64)> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(batch_id)
                    .is_some()
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .rev()
            .take(ADOPT_CANDIDATES)
            .find_map(|path| self.adopt(path, first_line))
    }

    fn adopt(&self, path: PathBuf, first_line: u64) -> Option<(File, PathBuf, u64)> {
        let file = self.fs.open_append(&path).ok()?;
        file.try_lock().ok()?;
        let meta = file.metadata().ok()?;
        let still_there = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
        let ours = meta.is_file() && meta.uid() == crate::sys::current_uid();
        let fits = meta.len() + first_line <= MAX_SEGMENT_BYTES;
        if !(still_there && ours && fits && ends_with_whole_line(&file, meta.len())) {
            return None; // dropping `file` releases the lock
        }
        tighten(&path, &meta, FILE_MODE).ok()?;
        Some((file, path, meta.len()))
    }

    fn refuse(&self, len: u64) -> Error {
        let used = self.last_measured.map_or(self.cap, |(_, used)| used);
        // Counting is best effort: a spool too broken to count in still refuses.
        let _ = self
            .paths
            .ensure(&self.paths.state)
            .and_then(|()| self.paths.refused().add(1));
        Error::SpoolFull {
            used,
            needed: len,
            cap: self.cap,
        }
    }

    #[cfg(test)]
    pub(crate) fn segment_path(&self) -> Option<&Path> {
        self.segment.as_ref().map(|s| s.path.as_path())
    }
}

fn ends_with_whole_line(file: &File, len: u64) -> bool {
    let mut last = [0u8; 1];
    len == 0 || (file.read_at(&mut last, len - 1).is_ok() && last[0] == b'\n')
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use super::super::fs::{FaultyFs, Op};
    use super::super::reader::list;
    use super::super::test_lines::line;
    use super::*;

    fn events_in(dir: &Path) -> u64 {
        list(dir).batches.iter().map(|b| b.events).sum()
    }

    #[test]
    fn a_writer_holds_its_segment_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        writer.append(&line(2), 1).unwrap();
        let before = list(dir.path()).batches;
        assert_eq!(
            (before.len(), before[0].events, before[0].open),
            (1, 2, true)
        );
        drop(writer);
        assert!(!list(dir.path()).batches[0].open);
    }

    #[test]
    fn a_torn_segment_is_not_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        let path = writer.segment_path().unwrap().to_owned();
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
        assert_ne!(writer.segment_path().unwrap(), path);
        drop(writer);
        assert!(
            std::fs::read(&path).unwrap().ends_with(torn),
            "the torn line is kept"
        );
        assert_eq!(events_in(dir.path()), 2);
    }

    #[test]
    fn later_writers_adopt_a_segment_at_rest_instead_of_creating_one() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..5 {
            let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
            writer.append(&line(n), 1).unwrap();
        }
        let batches = list(dir.path()).batches;
        assert_eq!((batches.len(), batches[0].events), (1, 5));
        let mut holder = SpoolWriter::new(dir.path(), 1 << 20);
        holder.append(&line(10), 1).unwrap();
        let mut other = SpoolWriter::new(dir.path(), 1 << 20);
        other.append(&line(11), 1).unwrap();
        assert_eq!(
            list(dir.path()).batches.len(),
            2,
            "a held segment is not shared"
        );
    }

    #[test]
    fn a_wide_segment_is_tightened_when_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(1), 1).unwrap();
        let path = writer.segment_path().unwrap().to_owned();
        drop(writer);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        writer.append(&line(2), 1).unwrap();
        assert_eq!(writer.segment_path().unwrap(), path);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            FILE_MODE
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
        assert_eq!(events_in(dir.path()), 3);
    }

    #[test]
    fn the_cap_counts_batches_in_every_state() {
        let dir = tempfile::tempdir().unwrap();
        let one = line(1).len() as u64;
        let paths = Paths::new(dir.path());
        for folder in [&paths.outbox, &paths.rejected] {
            std::fs::create_dir_all(folder).unwrap();
            std::fs::write(
                folder.join("0123456789abcdef0123456789abcdef.ndjson"),
                line(1),
            )
            .unwrap();
        }
        let mut writer = SpoolWriter::new(dir.path(), one * 3);
        writer.append(&line(2), 1).unwrap();
        assert!(matches!(
            writer.append(&line(3), 1),
            Err(Error::SpoolFull { .. })
        ));
    }

    #[test]
    fn a_full_segment_is_closed_and_the_writer_rolls_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 64 << 20);
        let big = line(0);
        let per_segment = MAX_SEGMENT_BYTES.div_ceil(big.len() as u64);
        for _ in 0..per_segment + 1 {
            writer.append(&big, 1).unwrap();
        }
        let batches = list(dir.path()).batches;
        assert_eq!(batches.len(), 2);
        let at_rest: Vec<_> = batches.iter().filter(|s| !s.open).collect();
        assert_eq!((at_rest.len(), at_rest[0].events), (1, per_segment));
    }

    #[test]
    fn a_short_write_is_taken_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let fs = Arc::new(FaultyFs::new(Op::Append, 1));
        let mut writer = SpoolWriter::with_fs(dir.path(), 1 << 20, fs);
        writer.append(&line(1), 1).unwrap();
        assert!(matches!(writer.append(&line(2), 1), Err(Error::Io { .. })));
        writer.append(&line(3), 1).unwrap();
        drop(writer);
        let listing = list(dir.path());
        let torn: u64 = listing.batches.iter().map(|b| b.torn).sum();
        assert_eq!((events_in(dir.path()), torn), (2, 0));
    }

    #[test]
    fn a_failed_rename_at_creation_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let fs = Arc::new(FaultyFs::new(Op::Rename, 0));
        let mut writer = SpoolWriter::with_fs(dir.path(), 1 << 20, fs);
        assert!(writer.append(&line(1), 1).is_err());
        let left = std::fs::read_dir(dir.path().join("spool")).unwrap().count();
        assert_eq!(left, 0);
        writer.append(&line(2), 1).unwrap();
        assert_eq!(events_in(dir.path()), 1);
    }

    #[test]
    fn a_link_in_place_of_the_spool_folder_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("spool")).unwrap();
        let mut writer = SpoolWriter::new(dir.path(), 1 << 20);
        assert!(writer.append(&line(1), 1).is_err());
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }
}
