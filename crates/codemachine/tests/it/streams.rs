//! A long-lived logger in the real binary (`codemachine log --stdin`): FIFO readers that go away
//! mid-stream, and rotation with `SIGHUP`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{HANG_LIMIT, codemachine, fifo_with_reader, text, wait_bounded};

fn log_stdin(home: &Path, log_path: &Path) -> Child {
    codemachine(home)
        .args(["log", "info", "--stdin"])
        .env("LOG_PATH", log_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemachine log --stdin")
}

fn messages(lines: &str) -> Vec<String> {
    lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("a JSON record")["msg"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Reads from a non-blocking FIFO until a whole line has arrived (bounded).
fn read_line(reader: &mut File) -> String {
    let deadline = Instant::now() + HANG_LIMIT;
    let mut got = Vec::new();
    while !got.contains(&b'\n') {
        assert!(Instant::now() < deadline, "no line arrived on the FIFO");
        let mut chunk = [0u8; 4096];
        if let Ok(n) = reader.read(&mut chunk) {
            got.extend_from_slice(&chunk[..n]);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    String::from_utf8(got).unwrap()
}

#[test]
fn a_fifo_reader_closing_mid_stream_sends_the_rest_to_stdout_with_one_warning() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("logs.fifo");
    let mut reader = fifo_with_reader(&fifo);
    let mut child = log_stdin(home.path(), &fifo);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "one").unwrap();
    assert_eq!(messages(&read_line(&mut reader)), ["one"]);
    drop(reader);
    writeln!(stdin, "two\nthree").unwrap();
    drop(stdin);
    let status = wait_bounded(&mut child);
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(status.success(), "exit status {status}: {stderr}");
    assert_eq!(
        messages(&text(&output.stdout)),
        ["two", "three"],
        "stderr: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write to LOG_PATH"), "{stderr}");
}

#[test]
fn sighup_after_rotation_reopens_log_path() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("app.log");
    let rotated = home.path().join("app.log.1");
    let mut child = log_stdin(home.path(), &path);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "before").unwrap();
    let deadline = Instant::now() + HANG_LIMIT;
    while !std::fs::read_to_string(&path).is_ok_and(|t| t.ends_with('\n')) {
        assert!(Instant::now() < deadline, "the first record never arrived");
        std::thread::sleep(Duration::from_millis(2));
    }
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
    assert_eq!(
        messages(&std::fs::read_to_string(&rotated).unwrap()),
        ["before"]
    );
    assert_eq!(
        messages(&std::fs::read_to_string(&path).unwrap()),
        ["after"]
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let output = child.wait_with_output().unwrap();
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}
