//! The file-system calls of the spool's writing roles, behind a trait.
//!
//! [`RealFs`] makes the calls; tests wrap it in [`FaultyFs`] to fail a chosen call (a full disk
//! on the third append, a short write, a failed rename) in-process, without a real full disk.
//! Every file is created `0600` and opened with `O_NOFOLLOW`: a link planted in the telemetry
//! folder is never written through.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::metrics::storage::FILE_MODE;

/// What the spool asks of the file system.
pub(crate) trait Filesystem: Send + Sync + fmt::Debug {
    /// Creates `path` (it must not exist) for appending.
    fn create_new(&self, path: &Path) -> io::Result<File>;
    /// Opens an existing file for reading and appending.
    fn open_append(&self, path: &Path) -> io::Result<File>;
    /// Writes all of `bytes` at the end of `file`.
    fn append(&self, file: &mut File, bytes: &[u8]) -> io::Result<()>;
    /// Flushes `file` to the disk.
    fn sync(&self, file: &File) -> io::Result<()>;
    /// Renames `from` to `to` atomically (same file system).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Flushes the folder `dir` (so renames and removals in it are durable).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RealFs;

impl Filesystem for RealFs {
    fn create_new(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    }

    fn open_append(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .append(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }

    fn append(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
pub(crate) use faulty::{FaultyFs, Op};

#[cfg(test)]
mod faulty {
    use std::sync::Mutex;

    use super::*;

    /// The kinds of call [`FaultyFs`] can fail.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Op {
        Create,
        Append,
        Sync,
        Rename,
        Remove,
    }

    /// [`RealFs`], except that the `nth` call (from 0) of kind `op` fails with `ENOSPC`; an
    /// append that fails first writes half of its bytes (a short write).
    #[derive(Debug)]
    pub(crate) struct FaultyFs {
        op: Op,
        remaining: Mutex<Option<usize>>,
    }

    impl FaultyFs {
        pub(crate) fn new(op: Op, nth: usize) -> Self {
            FaultyFs {
                op,
                remaining: Mutex::new(Some(nth)),
            }
        }

        /// True when this call of kind `op` is the one to fail.
        fn fails(&self, op: Op) -> bool {
            if op != self.op {
                return false;
            }
            let mut remaining = self.remaining.lock().unwrap();
            match *remaining {
                Some(0) => {
                    *remaining = None;
                    true
                }
                Some(n) => {
                    *remaining = Some(n - 1);
                    false
                }
                None => false,
            }
        }
    }

    fn full() -> io::Error {
        io::Error::from_raw_os_error(libc::ENOSPC)
    }

    impl Filesystem for FaultyFs {
        fn create_new(&self, path: &Path) -> io::Result<File> {
            if self.fails(Op::Create) {
                return Err(full());
            }
            RealFs.create_new(path)
        }

        fn open_append(&self, path: &Path) -> io::Result<File> {
            RealFs.open_append(path)
        }

        fn append(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
            if self.fails(Op::Append) {
                file.write_all(&bytes[..bytes.len() / 2])?;
                return Err(full());
            }
            RealFs.append(file, bytes)
        }

        fn sync(&self, file: &File) -> io::Result<()> {
            if self.fails(Op::Sync) {
                return Err(full());
            }
            RealFs.sync(file)
        }

        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            if self.fails(Op::Rename) {
                return Err(full());
            }
            RealFs.rename(from, to)
        }

        fn remove(&self, path: &Path) -> io::Result<()> {
            if self.fails(Op::Remove) {
                return Err(full());
            }
            RealFs.remove(path)
        }

        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            RealFs.sync_dir(dir)
        }
    }
}
