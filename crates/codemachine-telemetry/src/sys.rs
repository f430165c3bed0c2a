//! Operating-system plumbing: the only module with `unsafe` code.
//!
//! Each call is a thin, safe wrapper that returns `io::Result`, so callers decide what a failure
//! means (as ripgrep's `grep-cli` does for `hostname`). Randomness comes from the `getrandom`
//! crate, which uses the platform's kernel source (`getrandom(2)` on Linux, `getentropy` on
//! macOS); there is no weaker fallback: without randomness there is no salt and so no identity.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// The machine's host name (`gethostname(2)`), as pino reports it.
pub(crate) fn hostname() -> io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // gethostname may not NUL-terminate a truncated name: stop at the buffer's end then.
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Clears `O_NONBLOCK` on `file` (opened non-blocking so that the open itself could not wait).
pub(crate) fn set_blocking(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is a descriptor `file` owns for the duration of the call.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; only the status flags are changed.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `N` bytes from the kernel's random source. Fails rather than degrade to something guessable.
pub(crate) fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// The real user id of this process (`getuid(2)`, which cannot fail).
pub(crate) fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and no failure mode.
    unsafe { libc::getuid() }
}

/// Detaches this process from its parent's session and terminal and lowers its priority: a new
/// session (`setsid`, so a terminal's hangup or Ctrl-C never reaches it), `nice` 10, and every
/// inherited descriptor above stderr closed (so it holds no pipe or file of its parent's).
/// Each step is best effort: a sender that could not lower its priority still sends.
#[cfg(feature = "forward")]
pub(crate) fn detach_self() {
    // SAFETY: setsid and setpriority take no pointers; they only fail (harmlessly) when already
    // a group leader or not permitted.
    unsafe {
        libc::setsid();
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|fd| *fd > 2)
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        // SAFETY: closing a descriptor number; the directory handle used to list them is gone,
        // and nothing else in this fresh process holds descriptors above 2 it still needs.
        unsafe {
            libc::close(fd);
        }
    }
}

/// Kills this process with `SIGKILL` (a crash, for the failpoints): no destructor, no flush.
pub(crate) fn kill_self() -> ! {
    // SAFETY: kill and getpid take no pointers.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

/// A signal handler: it may only do async-signal-safe work (an atomic add, say).
pub(crate) type SignalHandler = extern "C" fn(libc::c_int);

/// Installs `handler` for `SIGHUP` unless the process already has a handler of its own; returns
/// whether it was installed.
pub(crate) fn install_sighup_handler(handler: SignalHandler) -> io::Result<bool> {
    // SAFETY: zeroed `sigaction` structures are valid "empty" values; `sigaction` is given valid
    // pointers for the duration of each call.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
            return Ok(false);
        }
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = handler as libc::sighandler_t;
        new.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut new.sa_mask);
        if libc::sigaction(libc::SIGHUP, &new, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(true)
}

/// Makes a FIFO (named pipe) at `path`, mode `0600`.
#[cfg(test)]
pub(crate) fn mkfifo(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_differ_and_hostname_reads() {
        let a: [u8; 16] = random_bytes().unwrap();
        let b: [u8; 16] = random_bytes().unwrap();
        assert_ne!(a, b);
        assert!(!hostname().unwrap().is_empty());
    }
}
