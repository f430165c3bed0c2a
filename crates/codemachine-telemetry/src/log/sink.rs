//! Where records go: stdout, a `LOG_PATH` file or FIFO, or a caller's writer.
//!
//! The decision a reader must know: **the logger never blocks on opening and never dies of its
//! output.** A path that cannot be opened (a FIFO without a reader included: it is opened
//! non-blocking, which fails at once instead of waiting) and a write that fails (EPIPE when the
//! reader goes away, ENOSPC, …) each give one warning on stderr, and the records go to stdout
//! from then on. A `SIGHUP` (see [`sighup`](super::sighup)) reopens the path, which also ends a
//! fallback once the path works again.
//!
//! Each record is handed to the OS in one `write` before the logging call returns: no buffer to
//! lose at exit or on `kill -9`. Stdout goes through `std::io::stdout()` so the records keep
//! their place among the program's own output. After the FIFO is opened it is switched back to
//! blocking mode: a slow reader slows the program down rather than losing records.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::sighup;
use crate::diag;

/// Files the logger creates are readable by their owner only: logs can hold personal data.
const LOG_FILE_MODE: u32 = 0o600;
/// Folders it creates on the way to `LOG_PATH`, for the same reason.
const LOG_DIR_MODE: u32 = 0o700;

/// Where a logger writes.
pub enum Destination {
    /// The process's standard output.
    Stdout,
    /// A file (appended, created `0600` with missing parent folders) or a FIFO; reopened on
    /// `SIGHUP`. Falls back to stdout, with one warning, when it cannot be opened or written.
    Path(PathBuf),
    /// Any writer (tests, embedding): each record is one `write_all` call.
    Writer(Box<dyn Write + Send>),
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Stdout => f.write_str("Stdout"),
            Destination::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Destination::Writer(_) => f.write_str("Writer"),
        }
    }
}

enum Out {
    Stdout,
    File(File),
    Writer(Box<dyn Write + Send>),
}

struct State {
    out: Out,
    hup_seen: u64,
    stdout_closed: bool,
    /// The first failure that kept a record from reaching any destination, until taken.
    lost: Option<io::Error>,
}

pub(crate) struct Sink {
    state: Mutex<State>,
    path: Option<PathBuf>,
}

impl Sink {
    pub(crate) fn open(destination: Destination) -> Sink {
        let (out, path) = match destination {
            Destination::Stdout => (Out::Stdout, None),
            Destination::Writer(w) => (Out::Writer(w), None),
            Destination::Path(path) => {
                sighup::install_handler();
                (open_or_fall_back(&path), Some(path))
            }
        };
        let state = State {
            out,
            hup_seen: sighup::generation(),
            stdout_closed: false,
            lost: None,
        };
        Sink {
            state: Mutex::new(state),
            path,
        }
    }

    /// True when the records end up on a terminal (which decides pretty output).
    pub(crate) fn is_terminal(&self) -> bool {
        match &self.lock().out {
            Out::Stdout => io::stdout().is_terminal(),
            Out::File(f) => f.is_terminal(),
            Out::Writer(_) => false,
        }
    }

    /// A description for diagnostics and `status`: `stdout`, the path, or `writer`.
    pub(crate) fn describe(&self) -> String {
        match (&self.path, &self.lock().out) {
            (Some(path), Out::File(_)) => path.display().to_string(),
            (Some(path), _) => format!("stdout (fallback from {})", path.display()),
            (None, Out::Writer(_)) => "writer".to_owned(),
            (None, _) => "stdout".to_owned(),
        }
    }

    /// Hands one whole record to the OS.
    pub(crate) fn write(&self, record: &[u8]) {
        let mut state = self.lock();
        if let Some(path) = &self.path {
            let generation = sighup::generation();
            if generation != state.hup_seen {
                state.hup_seen = generation;
                reopen(&mut state, path);
            }
        }
        let failed = match &mut state.out {
            Out::File(file) => file.write_all(record).err(),
            Out::Writer(w) => {
                // A caller's writer reports its own failures; there is nowhere better to go.
                let _ = w.write_all(record);
                None
            }
            Out::Stdout => None,
        };
        if let Some(err) = failed {
            let path = self.path.as_deref().unwrap_or(Path::new("?"));
            diag::warn(format_args!(
                "cannot write to LOG_PATH {}: {}; logging to stdout",
                path.display(),
                crate::terminal::describe_io(&err)
            ));
            state.out = Out::Stdout;
        }
        if matches!(state.out, Out::Stdout) {
            write_stdout(&mut state, record);
        }
    }

    /// The first failure that kept a record from being written anywhere since the last call.
    pub(crate) fn take_lost(&self) -> Option<io::Error> {
        self.lock().lost.take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as valid as before: keep logging.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn write_stdout(state: &mut State, record: &[u8]) {
    if state.stdout_closed {
        return;
    }
    let Err(err) = io::stdout().lock().write_all(record) else {
        return;
    };
    // A closed stdout (EPIPE) has no fallback left: stop trying. Other failures (a full disk)
    // may pass, so later records try again. Either way the loss is kept for the caller.
    if err.kind() == io::ErrorKind::BrokenPipe {
        state.stdout_closed = true;
    }
    state.lost.get_or_insert(err);
}

fn reopen(state: &mut State, path: &Path) {
    match open_log_path(path) {
        Ok(file) => state.out = Out::File(file),
        Err(err) => diag::warn(format_args!(
            "cannot reopen LOG_PATH {}: {}; keeping the previous destination",
            path.display(),
            describe_open_error(&err)
        )),
    }
}

fn open_or_fall_back(path: &Path) -> Out {
    match open_log_path(path) {
        Ok(file) => Out::File(file),
        Err(err) => {
            diag::warn(format_args!(
                "cannot open LOG_PATH {}: {}; logging to stdout",
                path.display(),
                describe_open_error(&err)
            ));
            Out::Stdout
        }
    }
}

/// Where records for `path` would go, worked out without opening or creating anything (for
/// `status`): the path, or stdout with the reason the path cannot be used.
pub fn describe_destination(path: Option<&Path>) -> String {
    use std::os::unix::fs::FileTypeExt;
    let Some(path) = path else {
        return "stdout".to_owned();
    };
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_fifo() => {
            format!("{shown} (a FIFO: stdout while it has no reader)")
        }
        Ok(m) if m.is_dir() => format!("stdout (LOG_PATH {shown} is a folder)"),
        Ok(m) if m.permissions().readonly() => {
            format!("{shown} (read-only: stdout if it cannot be written)")
        }
        Ok(_) => format!("{shown} (appended)"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            format!("{shown} (created with the first record)")
        }
        Err(e) => format!(
            "stdout (LOG_PATH {shown}: {})",
            crate::terminal::describe_io(&e)
        ),
    }
}

fn describe_open_error(err: &io::Error) -> String {
    if err.raw_os_error() == Some(libc::ENXIO) {
        "it is a FIFO with no reader".to_owned()
    } else {
        crate::terminal::describe_io(err)
    }
}

/// Opens `path` for appending without ever blocking (a FIFO without a reader fails with
/// ENXIO), then makes the descriptor blocking again so every record is written whole.
fn open_log_path(path: &Path) -> io::Result<File> {
    if let Some(parent) = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.exists())
    {
        DirBuilder::new()
            .recursive(true)
            .mode(LOG_DIR_MODE)
            .create(parent)?;
    }
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(LOG_FILE_MODE)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    crate::sys::set_blocking(&file)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mkfifo(path: &Path) {
        crate::sys::mkfifo(path).unwrap();
    }

    #[test]
    fn creates_parent_folders_and_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/app.log");
        let sink = Sink::open(Destination::Path(path.clone()));
        sink.write(b"{\"n\":1}\n");
        sink.write(b"{\"n\":2}\n");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"n\":1}\n{\"n\":2}\n"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, LOG_FILE_MODE);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, LOG_DIR_MODE);
        assert_eq!(sink.describe(), path.display().to_string());
    }

    #[test]
    fn a_fifo_without_reader_falls_back_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        mkfifo(&path);
        let sink = Sink::open(Destination::Path(path.clone()));
        assert!(sink.describe().starts_with("stdout (fallback from"));
    }

    #[test]
    fn a_reader_going_away_switches_to_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        mkfifo(&path);
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let sink = Sink::open(Destination::Path(path.clone()));
        sink.write(b"first\n");
        drop(reader);
        sink.write(b"second\n");
        assert!(sink.describe().starts_with("stdout (fallback from"));
    }

    #[test]
    fn reopen_after_sighup_follows_a_renamed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let sink = Sink::open(Destination::Path(path.clone()));
        sink.write(b"old\n");
        std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        sighup::request_reopen();
        sink.write(b"new\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let rotated = std::fs::read_to_string(dir.path().join("app.log.1")).unwrap();
        assert_eq!(rotated, "old\n");
    }
}
