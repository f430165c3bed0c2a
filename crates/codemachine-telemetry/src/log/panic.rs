//! A panic hook that leaves a `fatal` record behind.
//!
//! The record has the panic message as `msg`, `location` (`file:line:column`), `thread`, and an
//! `err` of type `panic` whose `stack` is the backtrace. It is written (one `write`, nothing
//! buffered) before the previous hook runs, so the host's usual panic output and exit status are
//! unchanged.

use std::any::Any;
use std::cell::Cell;
use std::panic::PanicHookInfo;

use super::error_record::capture_stack;
use super::{ErrorRecord, Level, Logger};
use crate::fields;

/// Installs the hook; the hook that was in place keeps running after ours.
pub fn install_panic_hook(logger: Logger) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        log_panic(&logger, info);
        previous(info);
    }));
}

fn log_panic(logger: &Logger, info: &PanicHookInfo<'_>) {
    thread_local! {
        static LOGGING: Cell<bool> = const { Cell::new(false) };
    }
    // A panic inside the logger while it reports a panic must not recurse.
    if LOGGING.with(|l| l.replace(true)) {
        return;
    }
    let message = payload_text(info.payload());
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    let thread = std::thread::current();
    let err = ErrorRecord::from_parts("panic", message).stack(capture_stack());
    logger.log_error(
        Level::Fatal,
        &err,
        fields! { "location" => location.as_ref(), "thread" => thread.name().unwrap_or("<unnamed>") },
        None,
    );
    LOGGING.with(|l| l.set(false));
}

fn payload_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}
