//! File-system helpers shared by the spool, the identity and the sender's state: modes, folders,
//! counters, and the one way a small state file is opened.
//!
//! Whatever sits in the telemetry folder is treated as possibly planted: a state file is opened
//! without following a link (`O_NOFOLLOW`) and without blocking (`O_NONBLOCK`, so a FIFO in its
//! place cannot hang a command), then checked to be a regular file, and read to a bound.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Every file under the telemetry folder: owner only.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Every folder under (and including) the telemetry folder: owner only.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Maps an I/O error to [`Error::Io`] naming `path`.
pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |error| Error::Io {
        path: path.to_owned(),
        error,
    }
}

/// Creates `dir` (and missing parents) with [`DIR_MODE`]. An existing folder that others can
/// read or write is tightened to [`DIR_MODE`] (and said so); a link in its place is refused, so
/// nothing is ever written through a link planted in the telemetry folder.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => return tighten(dir, &meta, DIR_MODE),
        Ok(meta) if meta.file_type().is_symlink() => {
            let refused = std::io::Error::other("it is a link; nothing is written through it");
            return Err(io_error(dir)(refused));
        }
        Ok(_) => {
            let refused = std::io::Error::other("it is not a folder");
            return Err(io_error(dir)(refused));
        }
        Err(_) => {}
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(io_error(dir))
}

/// Opens the state file `path` to read it and, with `create`, to write it (created with
/// [`FILE_MODE`] when missing): never through a link, never blocking, regular files only.
pub(crate) fn open_state_file(path: &Path, create: bool) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(create)
        .create(create)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::other("it is a link; not followed"),
            _ => e,
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    Ok(file)
}

/// The text of the small state file `path`, at most `max` bytes of it (`None` when it is
/// missing, not a regular file, a link, or unreadable).
pub(crate) fn read_state_file(path: &Path, max: u64) -> Option<String> {
    let file = open_state_file(path, false).ok()?;
    let mut text = String::new();
    file.take(max).read_to_string(&mut text).ok()?;
    Some(text)
}

/// The most of a state file (a counter, the salt, the sender's state, a rejection reason) ever
/// read: they are a few hundred bytes.
pub(crate) const MAX_STATE_BYTES: u64 = 64 * 1024;

/// Narrows `path`'s permissions to `mode` when group or others have any, with a warning.
pub(crate) fn tighten(path: &Path, meta: &std::fs::Metadata, mode: u32) -> Result<()> {
    let found = meta.permissions().mode() & 0o777;
    if found & !mode == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_error(path))?;
    crate::diag::warn(format_args!(
        "{} was {found:04o}, wider than telemetry data should be; tightened to {mode:04o}",
        path.display()
    ));
    Ok(())
}

/// A number kept in a file and changed under an exclusive lock, so that concurrent processes
/// never lose an increment.
pub(crate) struct Counter {
    path: PathBuf,
}

impl Counter {
    pub(crate) fn new(path: PathBuf) -> Self {
        Counter { path }
    }

    /// The current value (0 when the file is absent, unreadable or not a regular file).
    pub(crate) fn get(&self) -> u64 {
        read_state_file(&self.path, MAX_STATE_BYTES)
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Adds `n` and returns the new value.
    pub(crate) fn add(&self, n: u64) -> Result<u64> {
        let err = io_error(&self.path);
        let mut file = open_state_file(&self.path, true).map_err(&err)?;
        file.lock().map_err(&err)?;
        let mut text = String::new();
        (&mut file)
            .take(MAX_STATE_BYTES)
            .read_to_string(&mut text)
            .map_err(&err)?;
        let value = text.trim().parse::<u64>().unwrap_or(0).saturating_add(n);
        file.seek(SeekFrom::Start(0)).map_err(&err)?;
        file.set_len(0).map_err(&err)?;
        file.write_all(value.to_string().as_bytes()).map_err(&err)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..25 {
                        Counter::new(path.clone()).add(1).unwrap();
                    }
                });
            }
        });
        assert_eq!(Counter::new(path.clone()).get(), 100);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            FILE_MODE
        );
    }

    #[test]
    fn wide_folders_are_tightened_and_links_refused() {
        let dir = tempfile::tempdir().unwrap();
        let wide = dir.path().join("wide");
        std::fs::create_dir(&wide).unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_dir(&wide).unwrap();
        assert_eq!(
            std::fs::metadata(&wide).unwrap().permissions().mode() & 0o777,
            DIR_MODE
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&wide, &link).unwrap();
        assert!(ensure_dir(&link).unwrap_err().to_string().contains("link"));
    }

    #[test]
    fn folders_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b");
        ensure_dir(&deep).unwrap();
        assert_eq!(
            std::fs::metadata(&deep).unwrap().permissions().mode() & 0o777,
            DIR_MODE
        );
    }
}
