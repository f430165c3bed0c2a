//! Helpers: locating example programs, bounded waits, reading records.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Every wait in these tests gives up after this long: a hang fails the test instead of
/// blocking the suite (the behaviour under test is "returns at once", not "returns within N s").
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// The path of an example program of this crate, built by `cargo test`.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/it-… → target/<profile>/examples/<name>
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test`, which builds the examples",
        path.display()
    );
    path
}

/// Waits for `child` to exit; kills it and fails the test if it is still running after
/// [`HANG_LIMIT`].
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HANG_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {HANG_LIMIT:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The JSON records among `text`'s lines.
pub fn records(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}
