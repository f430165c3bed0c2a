//! Disabled means untouched: no file or folder under the telemetry folder created, opened or
//! written, and no socket, by any command, checked by tracing the real binary's system calls.

use std::path::Path;
use std::process::Command;

use crate::support::{codemachine, required_tool, run, telemetry_dir, text};

/// The ways telemetry ends up disabled, as environment settings.
const DISABLED: &[(&str, &[(&str, &str)])] = &[
    ("unset", &[]),
    ("zero", &[("TELEMETRY_ENABLED", "0")]),
    ("false", &[("TELEMETRY_ENABLED", "false")]),
    ("garbage", &[("TELEMETRY_ENABLED", "definitely")]),
    (
        "do-not-track",
        &[("TELEMETRY_ENABLED", "1"), ("DO_NOT_TRACK", "1")],
    ),
];

/// Every command, as arguments.
const COMMANDS: &[&[&str]] = &[
    &["log", "info", "hello"],
    &["logs", "pretty"],
    &["telemetry", "status"],
    &["telemetry", "status", "--json"],
    &["telemetry", "inspect"],
    &["telemetry", "record", "feature", "export"],
    &["telemetry", "prune", "--all"],
    &["telemetry", "dry-run"],
];

fn traced(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> (String, String) {
    let trace = home.join("trace.txt");
    let mut cmd = Command::new(required_tool("strace"));
    cmd.args(["-f", "-qq", "-s", "4096", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_codemachine"));
    let base = codemachine(home);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run(cmd, args);
    let syscalls = std::fs::read_to_string(&trace).expect("strace wrote its trace");
    std::fs::remove_file(&trace).unwrap();
    (syscalls, text(&out.stderr))
}

#[test]
fn no_command_touches_the_telemetry_folder_or_the_network_when_disabled() {
    let home = tempfile::tempdir().unwrap();
    let folder = telemetry_dir(home.path()).display().to_string();
    for (case, vars) in DISABLED {
        for args in COMMANDS {
            let (syscalls, stderr) = traced(home.path(), vars, args);
            for line in syscalls.lines() {
                let touches_folder =
                    line.contains(&format!("{folder}/")) || line.contains(&format!("{folder}\""));
                assert!(
                    !touches_folder,
                    "{case} {args:?} touched the telemetry folder: {line}"
                );
                let network = ["socket(", "connect(", "sendto(", "sendmsg("]
                    .iter()
                    .any(|c| line.contains(c));
                assert!(!network, "{case} {args:?} used the network: {line}");
            }
            let warnings = stderr
                .lines()
                .filter(|l| l.contains("not a recognised value"))
                .count();
            assert_eq!(
                warnings,
                usize::from(*case == "garbage"),
                "{case} {args:?}: {stderr}"
            );
        }
    }
    assert!(!telemetry_dir(home.path()).exists());
    assert!(
        !home.path().join(".codemachine").exists(),
        "not even the parent is created"
    );
}

#[test]
fn the_trace_does_see_the_folder_when_enabled() {
    // The check above must be able to fail: with telemetry on, the same trace shows the folder.
    let home = tempfile::tempdir().unwrap();
    let folder = telemetry_dir(home.path()).display().to_string();
    let (syscalls, _) = traced(
        home.path(),
        &[("TELEMETRY_ENABLED", "1")],
        &["log", "info", "x"],
    );
    assert!(syscalls.lines().any(|l| l.contains(&format!("{folder}/"))));
}
