//! The sender: forwards the outbox's batches to the collector and moves each by its verdict.
//!
//! The batch life cycle on disk (claim, acknowledge, reject, replace) belongs to the spool's
//! outbox (`metrics::spool::outbox`, whose module documentation has the step-by-step table of
//! what a crash leaves); the wire belongs to [`crate::forward`]. This module runs them: one run in
//! the foreground ([`send_pending`], what `telemetry flush` does), a detached process a host
//! starts after a command ([`start_detached`] / [`run_detached`]), or a thread with a bounded
//! wait at exit ([`BackgroundSender`]). The library never assumes the `codemachine` binary: a
//! host wires its own executable to [`run_detached`] (see `examples/host_cli.rs`).
//!
//! ```text
//!  spool/ ──claim──► outbox/ ──send──► 2xx ──────────────► deleted
//!                      ▲  │           429/5xx/network ───► stays (backoff, Retry-After)
//!                      │  │           413 ──────────────► split, each part settled on its own
//!                      │  └────────── other status ─────► rejected/ (401/403/404 also pause)
//!                      └── flush --rejected, or a new endpoint/headers after a pause
//! ```

mod background;
mod run;
mod state;

pub use background::{
    BackgroundSender, DETACHED_LIFETIME, MIN_START_INTERVAL, is_due, run_detached, start_detached,
};
pub use run::{Progress, SendOptions, SendReport, Stop, send_pending};
pub use state::{ForwardState, Pause};
