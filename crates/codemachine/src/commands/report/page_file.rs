//! Writing the page where the user asked, and nowhere else.
//!
//! The file is opened without following a link (`O_NOFOLLOW`: a link planted at the path, to
//! `/etc/passwd` say, is refused, not written through) and without blocking (`O_NONBLOCK`: a
//! FIFO without a reader is refused at once instead of hanging). Only a regular file with no
//! other hard link is written: a FIFO with a reader, a device (`/dev/full`) or a folder is
//! refused. A new file is created `0600`; an existing one is tightened to `0600`, then replaced.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Result, bail};

use crate::commands::describe_io;

/// The mode of the page: it tells what commands you run.
const PAGE_MODE: u32 = 0o600;

/// Writes `bytes` to `path` (see the module docs for what is refused).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false) // not before we know it is a regular file
        .mode(PAGE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| anyhow::anyhow!(why_not_opened(&e)))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("it is not a regular file (a FIFO, a device or a socket); nothing was written");
    }
    if meta.nlink() > 1 {
        bail!(
            "it has other hard links, so writing would change another file too; nothing was written"
        );
    }
    if meta.permissions().mode() & 0o777 != PAGE_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(PAGE_MODE))?;
    }
    file.set_len(0)?;
    file.write_all(bytes)?;
    file.flush()?;
    Ok(())
}

/// True when `path` would be a file inside the folder `dir` (links resolved): the report never
/// writes into the telemetry folder. The folder is compared by device and inode with each
/// folder above the page, so nothing in the telemetry folder is resolved or read for it.
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    let Ok(folder) = std::fs::metadata(dir) else {
        return false; // no telemetry folder: nothing to protect
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(parent) = parent.canonicalize() else {
        return false; // a parent that does not exist cannot be written into anyway
    };
    parent.ancestors().any(|above| {
        std::fs::metadata(above).is_ok_and(|m| m.dev() == folder.dev() && m.ino() == folder.ino())
    })
}

fn why_not_opened(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => {
            "it is a symbolic link, which is never followed; nothing was written".into()
        }
        Some(libc::EISDIR) => "it is a folder".into(),
        Some(libc::ENXIO) => "it is a FIFO with no reader; nothing was written".into(),
        _ => describe_io(e),
    }
}
