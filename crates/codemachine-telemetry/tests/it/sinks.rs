//! A long-lived logger in a real process: FIFO readers that go away, rotation with `SIGHUP`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::support::{
    example, mkfifo, open_fifo_reader, read_line, records, wait_bounded, wait_until,
};

fn log_lines(log_path: &std::path::Path) -> std::process::Child {
    Command::new(example("log_lines"))
        .env("LOG_PATH", log_path)
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start log_lines")
}

#[test]
fn a_fifo_reader_closing_mid_stream_sends_the_rest_to_stdout_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("logs.fifo");
    mkfifo(&fifo);
    let mut reader = open_fifo_reader(&fifo);
    let mut child = log_lines(&fifo);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "one").unwrap();
    let first = read_line(&mut reader);
    assert_eq!(records(&first)[0]["msg"], "one");
    drop(reader);
    writeln!(stdin, "two\nthree").unwrap();
    drop(stdin);
    let status = wait_bounded(&mut child);
    let output = child.wait_with_output().unwrap();
    assert!(status.success(), "exit status {status}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let msgs: Vec<_> = records(&stdout).iter().map(|r| r["msg"].clone()).collect();
    assert_eq!(msgs, ["two", "three"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write to LOG_PATH"), "{stderr}");
}

#[test]
fn sighup_after_rotation_reopens_log_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let mut child = log_lines(&path);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "before").unwrap();
    wait_until("the first record", || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.ends_with('\n'))
    });
    std::fs::rename(&path, &rotated).unwrap();
    // SAFETY: signalling a child process this test started and still owns.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) },
        0
    );
    writeln!(stdin, "after").unwrap();
    drop(stdin);
    let status = wait_bounded(&mut child);
    assert!(
        status.success(),
        "SIGHUP must not end the process: {status}"
    );
    let old = records(&std::fs::read_to_string(&rotated).unwrap());
    let new = records(&std::fs::read_to_string(&path).unwrap());
    assert_eq!((old.len(), old[0]["msg"].as_str()), (1, Some("before")));
    assert_eq!((new.len(), new[0]["msg"].as_str()), (1, Some("after")));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let output = child.wait_with_output().unwrap();
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}
