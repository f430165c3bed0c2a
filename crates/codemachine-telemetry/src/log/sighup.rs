//! `SIGHUP` asks every file logger to reopen its `LOG_PATH` (what logrotate sends).
//!
//! The handler only bumps a generation counter (an atomic add, async-signal-safe); each sink
//! compares the counter with the one it last saw before its next write and reopens then. The
//! handler is installed only when `SIGHUP` still has its default or ignored disposition: a host
//! program with its own handler keeps it and calls [`request_reopen`] from there.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_sighup(_signal: libc::c_int) {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Makes every logger writing to a file reopen it before its next record, as `SIGHUP` does.
pub fn request_reopen() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Installs the handler once per process, unless the host already handles `SIGHUP`.
pub(crate) fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Without the handler, rotation needs a restart: worth a warning, not a failure.
        if let Err(err) = crate::sys::install_sighup_handler(on_sighup) {
            crate::diag::warn(format_args!(
                "cannot handle SIGHUP for log rotation: {}",
                crate::terminal::describe_io(&err)
            ));
        }
    });
}
