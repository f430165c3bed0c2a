//! Integration tests of the library, driving real processes built from its examples.
//!
//! The examples are built by `cargo test` itself; the helpers find them beside this binary.

#[cfg(feature = "forward")]
mod forward;
mod panic_hook;
mod pretty_fallback;
mod redaction_corpus;
mod redaction_gen;
mod redaction_props;
mod support;
