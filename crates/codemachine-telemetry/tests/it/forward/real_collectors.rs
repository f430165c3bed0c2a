//! Cross-checks with real collectors (filled in below).
