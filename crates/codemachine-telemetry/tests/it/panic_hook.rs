//! The panic hook in a real process: a `fatal` record, then the host's usual panic behaviour.

use std::process::{Command, Stdio};

use crate::support::{example, records, wait_bounded};

#[test]
fn a_panic_leaves_a_fatal_record_with_location_and_backtrace() {
    let mut child = Command::new(example("panicking_host"))
        .env("LOG_FORMAT", "json")
        .env_remove("LOG_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start panicking_host");
    let status = wait_bounded(&mut child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        status.code(),
        Some(101),
        "the exit code of a panic is unchanged"
    );
    let lines = records(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(lines.len(), 2);
    let fatal = &lines[1];
    assert_eq!(fatal["level"], 60);
    assert_eq!(fatal["msg"], "cannot continue: token=[REDACTED]");
    assert!(
        fatal["location"]
            .as_str()
            .unwrap()
            .contains("panicking_host.rs:")
    );
    assert_eq!(fatal["thread"], "main");
    assert_eq!(fatal["err"]["type"], "panic");
    let stack = fatal["err"]["stack"].as_str().unwrap();
    let first_frame = stack.lines().next().unwrap_or_default();
    assert!(
        first_frame.contains("panicking_host::main"),
        "the panic site comes first: {stack}"
    );
    assert!(
        !stack.contains("log_panic"),
        "the hook's own frames are trimmed: {stack}"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("panicked at"),
        "the previous hook still runs: {stderr}"
    );
}
