//! Running the real binary with a clean, controlled environment.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A wait that gives up after this long fails the test as a hang.
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// Environment variables the binary reads; cleared so the developer's own settings never leak
/// into a test.
const CLEARED: &[&str] = &[
    "LOG_LEVEL",
    "LOG_PATH",
    "LOG_FORMAT",
    "CODEMACHINE_ENV",
    "NODE_ENV",
    "NO_COLOR",
    "TELEMETRY_REDACT_KEYS",
    "TELEMETRY_ENABLED",
    "DO_NOT_TRACK",
    "CODEMACHINE_HOME",
];

/// `codemachine` with a cleared environment and a scratch home.
pub fn codemachine(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codemachine"));
    for name in CLEARED {
        cmd.env_remove(name);
    }
    cmd.env("HOME", home).stdin(Stdio::null());
    cmd
}

/// Runs to completion (bounded), returning the output.
pub fn run<I, S>(mut cmd: Command, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemachine");
    wait_bounded(&mut child);
    child.wait_with_output().expect("collect output")
}

/// Waits for `child`; kills it and fails the test after [`HANG_LIMIT`].
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HANG_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("codemachine did not exit within {HANG_LIMIT:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// A record with its volatile values (time, pid, hostname) replaced by placeholders, so whole
/// lines can be compared.
pub fn normalized(line: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    for (key, placeholder) in [("time", "<time>"), ("pid", "<pid>"), ("hostname", "<host>")] {
        if let Some(slot) = v.get_mut(key) {
            *slot = serde_json::Value::from(placeholder);
        }
    }
    v.to_string()
}
