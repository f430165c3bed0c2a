//! File-system helpers shared by the spool and the identity: modes, folders, counters.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Every file under the telemetry folder: owner only.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Every folder under (and including) the telemetry folder: owner only.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Maps an I/O error to [`Error::Io`] naming `path`.
pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `dir` (and missing parents) with [`DIR_MODE`].
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(io_error(dir))
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

    /// The current value (0 when the file is absent or unreadable).
    pub(crate) fn get(&self) -> u64 {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Adds `n` and returns the new value.
    pub(crate) fn add(&self, n: u64) -> Result<u64> {
        let err = io_error(&self.path);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&self.path)
            .map_err(&err)?;
        file.lock().map_err(&err)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(&err)?;
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
    use std::os::unix::fs::PermissionsExt;

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
