//! Disabled means untouched: no file or folder under the telemetry folder created, opened or
//! written, and no socket, by any host command (and `telemetry record`, `dry-run`), checked by
//! tracing the real binary's system calls. The operator commands an operator runs on purpose
//! (`status`, `inspect`, `report`, `prune`) may look at what is there, but never create or write
//! anything.

use std::path::Path;

use crate::support::{enabled, report_json, run, telemetry_dir, text, tool};

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

/// Every command, as arguments, and whether it may read the folder (operator commands).
const COMMANDS: &[(&[&str], bool)] = &[
    (&["log", "info", "hello"], false),
    (&["logs", "pretty"], false),
    (&["bogus-command"], false),
    (&["telemetry", "record", "feature", "export"], false),
    (&["telemetry", "dry-run"], false),
    (&["telemetry", "status"], true),
    (&["telemetry", "status", "--json"], true),
    (&["telemetry", "inspect"], true),
    (&["telemetry", "report"], true),
    (&["telemetry", "report", "--json", "--since", "30d"], true),
    (&["telemetry", "prune", "--all"], true),
];

/// System calls that create, write or remove something.
const WRITING: &[&str] = &[
    "mkdir", "O_CREAT", "O_WRONLY", "O_RDWR", "rename", "unlink", "rmdir", "symlink", "chmod",
    "link(",
];

fn traced(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> (String, String) {
    let trace = home.join("trace.txt");
    let mut cmd = tool("strace", home);
    cmd.args(["-f", "-qq", "-s", "4096", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_codemachine"));
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run(cmd, args);
    let syscalls = std::fs::read_to_string(&trace).expect("strace wrote its trace");
    std::fs::remove_file(&trace).unwrap();
    (syscalls, text(&out.stderr))
}

/// A `write` names a descriptor, not a path: a path in its data is output (the dry run prints
/// where events would go), not a touch.
fn writes_to_a_descriptor(line: &str) -> bool {
    let call = line.split_whitespace().nth(1).unwrap_or("");
    ["write(", "writev(", "pwrite64("]
        .iter()
        .any(|c| call.starts_with(c))
}

#[test]
fn no_command_touches_the_telemetry_folder_or_the_network_when_disabled() {
    let home = tempfile::tempdir().unwrap();
    let folder = telemetry_dir(home.path()).display().to_string();
    for (case, vars) in DISABLED {
        for (args, may_read) in COMMANDS {
            let (syscalls, stderr) = traced(home.path(), vars, args);
            for line in syscalls.lines() {
                let touches_folder = !writes_to_a_descriptor(line)
                    && (line.contains(&format!("{folder}/"))
                        || line.contains(&format!("{folder}\"")));
                let writes = WRITING.iter().any(|w| line.contains(w));
                assert!(
                    !touches_folder || (*may_read && !writes),
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

#[test]
fn the_report_reads_a_populated_folder_and_writes_nothing_in_it_when_disabled() {
    let home = tempfile::tempdir().unwrap();
    let folder = telemetry_dir(home.path()).display().to_string();
    // Events in the history (pruned with telemetry on) and in the spool.
    for name in ["one", "two"] {
        run(
            enabled(home.path()),
            ["telemetry", "record", "feature", name],
        );
    }
    run(enabled(home.path()), ["telemetry", "prune", "--all"]);
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "three"],
    );
    let page = home.path().join("page.html").display().to_string();
    for (case, vars) in DISABLED {
        for args in [
            &["telemetry", "report"][..],
            &["telemetry", "report", "--json"],
            &["telemetry", "report", "--html", &page],
        ] {
            let (syscalls, _) = traced(home.path(), vars, args);
            let read_history = syscalls
                .lines()
                .any(|l| l.contains("history/history.ndjson"));
            assert!(read_history, "{case} {args:?} read the history");
            for line in syscalls.lines().filter(|l| l.contains(&folder)) {
                let writes = WRITING.iter().any(|w| line.contains(w));
                assert!(
                    !writes,
                    "{case} {args:?} wrote in the telemetry folder: {line}"
                );
            }
        }
        let mut cmd = crate::support::codemachine(home.path());
        cmd.envs(vars.iter().copied());
        assert_eq!(report_json(cmd, &[])["totals"]["features"], 3, "{case}");
    }
    assert!(
        std::fs::metadata(&page).is_ok(),
        "the page, outside the folder, is written"
    );
}

#[test]
fn prune_only_deletes_in_a_populated_folder_when_disabled() {
    let home = tempfile::tempdir().unwrap();
    let folder = telemetry_dir(home.path()).display().to_string();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "kept"],
    );
    let lock = telemetry_dir(home.path()).join("state/sender.lock");
    assert!(!lock.exists());
    for (case, vars) in DISABLED {
        let (syscalls, _) = traced(
            home.path(),
            vars,
            &["telemetry", "prune", "--older-than", "1000d"],
        );
        for line in syscalls.lines().filter(|l| l.contains(&folder)) {
            let creates = ["mkdir", "O_CREAT", "O_WRONLY", "O_RDWR", "rename"]
                .iter()
                .any(|w| line.contains(w));
            assert!(!creates, "{case}: prune created or wrote: {line}");
        }
    }
    assert!(!lock.exists(), "no lock file made with telemetry off");
}
