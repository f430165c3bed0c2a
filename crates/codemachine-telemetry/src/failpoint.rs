//! Failpoints: named steps of the batch life cycle (and of folding batches into the history) where a test can have this process killed
//! with `SIGKILL`, exactly as a crash would, to prove that a crash at any step loses nothing.
//!
//! Off unless `CODEMACHINE_FAILPOINT` names a step (a testing hook: an operator has no reason to
//! set it). The steps are listed in [`STEPS`]; the crash tests in `crates/codemachine/tests/it/`
//! kill the real binary at each of them.

use std::sync::OnceLock;

/// Every step that can be armed.
pub const STEPS: &[&str] = &[
    "claim.renamed",
    "claim.parts-written",
    "send.delivered",
    "ack.removed",
    "reject.reason-written",
    "reject.moved",
    "replace.parts-written",
    "requeue.moved",
    "history.fold-written",
    "history.compact-written",
    "history.compacted",
];

static ARMED: OnceLock<Option<String>> = OnceLock::new();

/// Arms `step` for this process (the first call wins; `None` arms nothing).
pub fn arm(step: Option<&str>) {
    let _ = ARMED.set(step.map(str::to_owned));
}

/// Kills this process with `SIGKILL` if `step` is armed.
pub(crate) fn hit(step: &str) {
    if ARMED.get().and_then(Option::as_deref) == Some(step) {
        crate::sys::kill_self();
    }
}
