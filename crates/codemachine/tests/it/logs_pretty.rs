//! `codemachine logs pretty`: JSON lines for people, everything else unchanged.

use std::io::Write;
use std::process::Stdio;

use crate::support::{codemachine, run, text, wait_bounded};

const INPUT: &str = concat!(
    r#"{"level":30,"time":1795816832123,"pid":7,"hostname":"box","service":"codemachine","step":3,"msg":"step completed"}"#,
    "\nnot json at all\n",
    r#"{"level":50,"time":1795816832124,"msg":"failed","err":{"type":"E","message":"boom","stack":"E: boom\n    at main"}}"#,
    "\n",
);

const EXPECTED: &str = "\
[2026-11-27T22:00:32.123Z] INFO (codemachine/7 on box): step completed
    step: 3
not json at all
[2026-11-27T22:00:32.124Z] ERROR: failed
    err: {
      \"type\": \"E\",
      \"message\": \"boom\",
      \"stack\":
          E: boom
              at main
    }
";

#[test]
fn renders_a_file() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("app.log");
    std::fs::write(&file, INPUT).unwrap();
    let out = run(
        codemachine(home.path()),
        ["logs".as_ref(), "pretty".as_ref(), file.as_os_str()],
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), EXPECTED);
}

#[test]
fn renders_stdin() {
    let home = tempfile::tempdir().unwrap();
    let mut child = codemachine(home.path())
        .args(["logs", "pretty"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(INPUT.as_bytes())
        .unwrap();
    assert!(wait_bounded(&mut child).success());
    assert_eq!(text(&child.wait_with_output().unwrap().stdout), EXPECTED);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        codemachine(home.path()),
        ["logs", "pretty", "/nonexistent/app.log"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/app.log"));
}

#[test]
fn colours_on_a_terminal_unless_no_color() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("app.log");
    std::fs::write(&file, INPUT).unwrap();
    let on_terminal = |no_color: bool| {
        let mut cmd = crate::support::tool("script", home.path());
        let command = format!(
            "{} logs pretty {}",
            env!("CARGO_BIN_EXE_codemachine"),
            file.display()
        );
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        text(&run(cmd, Vec::<&str>::new()).stdout)
    };
    let coloured = on_terminal(false);
    assert!(
        coloured.contains("\x1b[32mINFO\x1b[0m") && coloured.contains("\x1b[31mERROR\x1b[0m"),
        "{coloured:?}"
    );
    assert!(!on_terminal(true).contains('\x1b'));
}
