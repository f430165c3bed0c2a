//! Hostile input and odd state, against the real binary: no panic, no hang, no fail-open, and a
//! clear message with the right exit code for each. Future features add their cases here.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value as Json;

use crate::support::{codemachine, enabled, mkfifo, run, telemetry_dir, text, tool};

fn config_path(home: &Path) -> std::path::PathBuf {
    let path = home.join(".codemachine/telemetry.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    path
}

fn status(cmd: std::process::Command) -> (Option<i32>, Json) {
    let out = run(cmd, ["telemetry", "status", "--json"]);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json is JSON ({e}): {}", text(&out.stdout)));
    (out.status.code(), json)
}

/// Every line on stderr is one of ours (`error:`, `warning:`, `note:`) or part of clap's usage
/// text; no parser internals and no OS error said twice.
fn assert_clean_diagnostics(stderr: &str) {
    for bad in [
        "untagged enum",
        "expected u32",
        "expected struct",
        "os error",
        "panicked",
    ] {
        assert!(!stderr.contains(bad), "{bad:?} in: {stderr}");
    }
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let ours = ["error: ", "warning: ", "note: "]
            .iter()
            .any(|p| line.starts_with(p));
        let usage =
            line.starts_with("Usage:") || line.starts_with("For more") || line.starts_with("  ");
        assert!(ours || usage, "unexpected diagnostic line: {line:?}");
    }
}

#[test]
fn numbers_and_durations_of_any_size_are_usage_errors_never_panics() {
    let home = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32)] = &[
        (
            &["telemetry", "prune", "--older-than", "200000000000000d"],
            0,
        ),
        (
            &["telemetry", "prune", "--older-than", "300000000000000d"],
            2,
        ),
        (
            &[
                "telemetry",
                "prune",
                "--older-than",
                "99999999999999999999999999s",
            ],
            2,
        ),
        (&["telemetry", "prune", "--older-than", "-1d"], 2),
        (
            &[
                "telemetry",
                "record",
                "command",
                "x",
                "--duration-ms",
                "-1",
                "--exit-code",
                "0",
            ],
            2,
        ),
        (
            &[
                "telemetry",
                "record",
                "command",
                "x",
                "--duration-ms",
                "99999999999999999999",
                "--exit-code",
                "0",
            ],
            2,
        ),
        (
            &[
                "telemetry",
                "record",
                "command",
                "x",
                "--duration-ms",
                "1",
                "--exit-code",
                "99999999999",
            ],
            2,
        ),
        (&["telemetry", "record", "feature", "x", "--count", "0"], 2),
        (&["telemetry", "record", "command", "x"], 2),
        (
            &[
                "telemetry",
                "record",
                "command",
                "x",
                "--duration-ms",
                "5",
                "--exit-code",
                "-1",
            ],
            0,
        ),
    ];
    for (args, code) in cases {
        for cmd in [codemachine(home.path()), enabled(home.path())] {
            let out = run(cmd, *args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(*code), "{args:?}: {stderr}");
            assert_clean_diagnostics(&stderr);
            assert!(
                !stderr.contains("use '--"),
                "no tip to use -- for a number: {stderr}"
            );
        }
    }
    let out = run(
        codemachine(home.path()),
        [
            "telemetry",
            "record",
            "command",
            "x",
            "--duration-ms",
            "-1",
            "--exit-code",
            "0",
        ],
    );
    assert!(
        text(&out.stderr).contains("0 or more"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_config_file_that_is_not_a_plain_file_never_hangs_and_is_named() {
    let home = tempfile::tempdir().unwrap();
    let path = config_path(home.path());
    type Make<'a> = Box<dyn Fn() + 'a>;
    let odd: Vec<(&str, Make<'_>)> = vec![
        ("a FIFO", Box::new(|| mkfifo(&path))),
        (
            "a device",
            Box::new(|| std::os::unix::fs::symlink("/dev/zero", &path).unwrap()),
        ),
        ("a folder", Box::new(|| std::fs::create_dir(&path).unwrap())),
        (
            "larger than 1 MiB",
            Box::new(|| std::fs::write(&path, vec![b'#'; 2 << 20]).unwrap()),
        ),
        (
            "binary data",
            Box::new(|| std::fs::write(&path, b"a = 1\0\xff\xfe").unwrap()),
        ),
    ];
    for (what, make) in odd {
        let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir(&path));
        make();
        for cmd in [codemachine(home.path()), enabled(home.path())] {
            let out = run(cmd, ["log", "info", "unharmed"]);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
            assert!(text(&out.stdout).contains("\"msg\":\"unharmed\""), "{what}");
            assert!(
                stderr.contains(&path.display().to_string()) && stderr.contains(what),
                "{what}: {stderr}"
            );
            assert_clean_diagnostics(&stderr);
        }
        let (code, json) = status(enabled(home.path()));
        assert_eq!(code, Some(1), "{what}");
        assert_eq!(json["enabled"], false, "{what}: fails closed");
        assert_eq!(json["decided_by"], "configuration error", "{what}");
        assert!(
            json["problems"][0].as_str().unwrap().contains(what),
            "{what}: {json}"
        );
    }
    assert!(
        !telemetry_dir(home.path()).exists(),
        "nothing recorded under a broken configuration"
    );
}

#[test]
fn odd_entries_in_the_folder_are_skipped_reported_and_never_fatal() {
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "kept"],
    );
    let spool = telemetry_dir(home.path()).join("spool");
    let id = "0123456789abcdef0123456789abcdef";
    std::fs::create_dir(spool.join(format!("{id}.ndjson"))).unwrap();
    std::fs::write(spool.join("notes.txt"), "hello").unwrap();
    for cmd in [codemachine(home.path()), enabled(home.path())] {
        let (code, json) = status(cmd);
        assert_eq!(code, Some(0));
        assert_eq!(json["pending_events"], 1, "{json}");
        assert_eq!(json["odd_entries"].as_array().unwrap().len(), 2, "{json}");
    }
    let human = run(enabled(home.path()), ["telemetry", "status"]);
    assert!(
        text(&human.stdout).contains("a folder named like a batch"),
        "{}",
        text(&human.stdout)
    );
    let inspect = run(enabled(home.path()), ["telemetry", "inspect"]);
    assert_eq!(inspect.status.code(), Some(0));
    assert!(text(&inspect.stdout).contains("kept"));
    assert!(text(&inspect.stderr).contains("a folder named like a batch"));
    assert_clean_diagnostics(&text(&inspect.stderr));
    let prune = run(enabled(home.path()), ["telemetry", "prune", "--all"]);
    assert_eq!(prune.status.code(), Some(0), "{}", text(&prune.stderr));
    assert!(
        text(&prune.stdout).contains("pruned 1 batch: 1 event"),
        "{}",
        text(&prune.stdout)
    );
    assert!(spool.join(format!("{id}.ndjson")).is_dir(), "left alone");

    // The telemetry folder itself a file: reported, not fatal.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join(".codemachine")).unwrap();
    std::fs::write(telemetry_dir(other.path()), "not a folder").unwrap();
    let (code, json) = status(enabled(other.path()));
    assert_eq!(code, Some(0));
    assert!(
        json["odd_entries"][0]["why"]
            .as_str()
            .unwrap()
            .contains("a file where a folder should be")
    );
    for args in [
        &["telemetry", "inspect"][..],
        &["telemetry", "prune", "--all"][..],
    ] {
        let out = run(enabled(other.path()), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// The commands that read or write the telemetry folder, with telemetry on.
const FOLDER_COMMANDS: &[&[&str]] = &[
    &["log", "info", "hello"],
    &["telemetry", "record", "feature", "again"],
    &["telemetry", "status"],
    &["telemetry", "status", "--json"],
    &["telemetry", "inspect"],
    &["telemetry", "flush", "--timeout", "2"],
    &["telemetry", "audit"],
    &["telemetry", "prune", "--all"],
    &["telemetry", "disable", "--purge"],
];

#[test]
fn a_fifo_in_place_of_any_state_file_never_hangs_a_command() {
    for name in [
        "salt",
        "salt.lock",
        "refused",
        "forward.json",
        "sender.started",
        "sender.lock",
    ] {
        let home = tempfile::tempdir().unwrap();
        run(
            enabled(home.path()),
            ["telemetry", "record", "feature", "x"],
        );
        let path = telemetry_dir(home.path()).join("state").join(name);
        let _ = std::fs::remove_file(&path);
        mkfifo(&path);
        for args in FOLDER_COMMANDS {
            // `run` fails the test if the command hangs.
            let mut cmd = enabled(home.path());
            cmd.env("TELEMETRY_ENDPOINT", "https://127.0.0.1:9");
            let out = run(cmd, *args);
            let stderr = text(&out.stderr);
            assert!(
                out.status.code().is_some_and(|c| c <= 2),
                "{name} {args:?}: {:?} {stderr}",
                out.status
            );
            assert_clean_diagnostics(&stderr);
        }
    }
    // And status names it.
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "x"],
    );
    let salt = telemetry_dir(home.path()).join("state/salt");
    std::fs::remove_file(&salt).unwrap();
    mkfifo(&salt);
    let (_, json) = status(enabled(home.path()));
    assert!(
        json["odd_entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["why"].as_str().unwrap().contains("not a regular file")),
        "{json}"
    );
}

#[test]
fn a_huge_file_in_the_folder_is_audited_in_part_and_said_so() {
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "x"],
    );
    let huge = telemetry_dir(home.path()).join("spool/0123456789abcdef0123456789abcdef.ndjson");
    // 2 GB, sparse: reading all of it would take the audit minutes (`run` fails on a hang).
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    for args in [
        &["telemetry", "audit"][..],
        &["telemetry", "status"][..],
        &["telemetry", "inspect"][..],
    ] {
        let out = run(enabled(home.path()), args);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(enabled(home.path()), ["telemetry", "audit"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("nothing found, but 1 file was not fully read"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("far more than a batch we write"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn nothing_is_written_or_deleted_through_a_telemetry_folder_that_is_a_link() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(elsewhere.path().join("state")).unwrap();
    std::fs::write(elsewhere.path().join("state/salt"), "not yours").unwrap();
    std::fs::create_dir_all(home.path().join(".codemachine")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), telemetry_dir(home.path())).unwrap();
    let mut all = FOLDER_COMMANDS.to_vec();
    all.extend([&["telemetry", "dry-run"][..], &["telemetry", "enable"][..]]);
    for args in all {
        let out = run(enabled(home.path()), args);
        assert_clean_diagnostics(&text(&out.stderr));
        let mut names: Vec<String> = std::fs::read_dir(elsewhere.path().join("state"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["salt"],
            "{args:?} wrote or deleted through the link"
        );
        let top = std::fs::read_dir(elsewhere.path()).unwrap().count();
        assert_eq!(top, 1, "{args:?} created a folder through the link");
    }
    let (_, json) = status(enabled(home.path()));
    assert!(
        json["odd_entries"][0]["why"]
            .as_str()
            .unwrap()
            .contains("a link where a folder should be"),
        "{json}"
    );
}

#[test]
fn prune_never_follows_a_link_out_of_the_folder() {
    let home = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside
        .path()
        .join("0123456789abcdef0123456789abcdef.ndjson");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::create_dir_all(telemetry_dir(home.path())).unwrap();
    std::os::unix::fs::symlink(outside.path(), telemetry_dir(home.path()).join("spool")).unwrap();
    let out = run(enabled(home.path()), ["telemetry", "prune", "--all"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("a link"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn a_record_that_cannot_be_written_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = codemachine(home.path());
    cmd.stdout(std::fs::File::create("/dev/full").unwrap());
    let out = cmd.args(["log", "info", "m"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: the record could not be written: no space left on device"),
        "{stderr}"
    );
    // Every command's own output: exit 1, and the error says what could not be written.
    for args in [
        &["--help"][..],
        &["--version"][..],
        &["telemetry", "status"][..],
        &["telemetry", "status", "--json"][..],
        &["telemetry", "inspect"][..],
        &["telemetry", "dry-run"][..],
        &["telemetry", "report"][..],
    ] {
        let mut cmd = enabled(home.path());
        cmd.stdout(std::fs::File::create("/dev/full").unwrap());
        let out = cmd.args(args).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no space left on device") && !stderr.contains("os error"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_huge_stdin_line_is_cut_in_bounded_memory_and_marked() {
    let home = tempfile::tempdir().unwrap();
    // 100 MB on one line, under a 150 MB address-space limit: holding the line (let alone two
    // copies of it) would fail.
    let script = format!(
        "ulimit -v 150000; head -c 100000000 /dev/zero | tr '\\0' 'a' | {} log info --stdin | head -c 300",
        env!("CARGO_BIN_EXE_codemachine")
    );
    let mut cmd = tool("sh", home.path());
    cmd.args(["-c", &script]);
    let out = run(cmd, Vec::<&str>::new());
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("{\"level\":30"),
        "{stdout} {}",
        text(&out.stderr)
    );
    // A line cut at 1 MiB loses the word that ran into the cut: a token straddling it never
    // shows even in part.
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    for offset in [1, 10, 30] {
        let mut line = "word ".repeat(1024 * 1024 / 5);
        line.truncate(1024 * 1024 - offset);
        line.push_str(token);
        line.push_str(&" word".repeat(1000));
        let input = home.path().join("long.txt");
        std::fs::write(&input, format!("{line}\nnext line\n")).unwrap();
        let mut cmd = codemachine(home.path());
        cmd.stdin(std::fs::File::open(&input).unwrap());
        let out = run(cmd, ["log", "info", "--stdin"]);
        let records: Vec<Json> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["truncated"], true);
        let msg = records[0]["msg"].as_str().unwrap();
        assert!(
            msg.len() <= 1024 * 1024 && msg.len() > 1024 * 1024 - 64,
            "{}",
            msg.len()
        );
        assert!(!msg.contains("ghp_") && msg.ends_with("word "), "{offset}");
        assert_eq!(records[1]["msg"], "next line");
    }
    // `logs pretty` holds at most 16 MiB of one line, and says it cut the rest.
    let script = format!(
        "ulimit -v 150000; head -c 100000000 /dev/zero | tr '\\0' 'a' | {} logs pretty | tail -c 100",
        env!("CARGO_BIN_EXE_codemachine")
    );
    let mut cmd = tool("sh", home.path());
    cmd.args(["-c", &script]);
    let out = run(cmd, Vec::<&str>::new());
    assert!(
        text(&out.stdout).ends_with(" [line cut: longer than 16 MiB]\n"),
        "{} {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_private_key_piped_line_by_line_never_appears() {
    let home = tempfile::tempdir().unwrap();
    // An obviously fake key body; each line alone has no secret shape.
    let key = "deploying with\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefakefakefake\nZmFrZWZha2VmYWtlZmFrZWZha2VmYWtl\n-----END RSA PRIVATE KEY-----\ndone\n";
    let input = home.path().join("input.txt");
    std::fs::write(&input, key).unwrap();
    for command in ["log info --stdin", "logs pretty"] {
        let mut cmd = tool("sh", home.path());
        let script = format!(
            "{} {command} < {}",
            env!("CARGO_BIN_EXE_codemachine"),
            input.display()
        );
        cmd.args(["-c", &script]);
        let out = run(cmd, Vec::<&str>::new());
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command}: {}",
            text(&out.stderr)
        );
        for body in ["MIIEowIBAAKCAQEAfake", "ZmFrZWZha2Vm"] {
            assert!(!stdout.contains(body), "{command} leaked the key: {stdout}");
        }
        assert!(
            stdout.contains("deploying with") && stdout.contains("done"),
            "{stdout}"
        );
    }
}

#[test]
fn control_characters_from_data_never_reach_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("evil.log");
    std::fs::write(
        &file,
        "{\"level\":30,\"msg\":\"a\\u001b]0;pwned\\u0007\\r\\nINFO: forged\",\"k\":\"\\u0000\\u009b2J\"}\nplain \u{1b}[2J\u{7} line\r\n",
    )
    .unwrap();
    let out = run(
        codemachine(home.path()),
        ["logs".as_ref(), "pretty".as_ref(), file.as_os_str()],
    );
    let shown = text(&out.stdout);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(
        !shown.lines().any(|l| l.starts_with("INFO: forged")),
        "{shown}"
    );
    // The logger's own pretty output on a real terminal.
    let mut cmd = tool("script", home.path());
    let command = format!(
        "{} log info \"$(printf 'x\\033]0;t\\007y')\"",
        env!("CARGO_BIN_EXE_codemachine")
    );
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("NO_COLOR", "1");
    let shown = text(&run(cmd, Vec::<&str>::new()).stdout);
    assert!(shown.contains("x\\u{1b}]0;t\\u{7}y"), "{shown:?}");
}

#[test]
fn do_not_track_wins_even_when_malformed() {
    let home = tempfile::tempdir().unwrap();
    for value in ["maybe", "1", "yes please"] {
        let mut cmd = enabled(home.path());
        cmd.env("DO_NOT_TRACK", value);
        let (_, json) = status(cmd);
        assert_eq!(
            (json["enabled"].clone(), json["decided_by"].clone()),
            (Json::from(false), Json::from("DO_NOT_TRACK")),
            "{value}"
        );
        assert!(
            json["how_to_enable"]
                .as_str()
                .unwrap()
                .contains("unset DO_NOT_TRACK"),
            "{json}"
        );
    }
}

#[test]
fn impossible_settings_are_problems_and_status_stays_whole() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(config_path(home.path()), "salt_rotation_days = 0\n").unwrap();
    let (code, json) = status(enabled(home.path()));
    assert_eq!(code, Some(1));
    assert!(
        json["problems"][0]
            .as_str()
            .unwrap()
            .contains("telemetry.toml:1: salt_rotation_days"),
        "{json}"
    );
    std::fs::remove_file(config_path(home.path())).unwrap();
    for (name, value) in [
        ("TELEMETRY_SALT_ROTATION_DAYS", "2920000"),
        ("TELEMETRY_MAX_SPOOL_BYTES", "-1"),
    ] {
        let mut cmd = enabled(home.path());
        cmd.env(name, value);
        let (code, json) = status(cmd);
        assert_eq!(code, Some(1), "{name}");
        assert_eq!(json["enabled"], false, "{name}: no contradiction");
        assert!(
            json["dir"].is_string() && json["config_file"].is_string(),
            "{json}"
        );
        assert!(json["settings"].as_object().unwrap().len() >= 8, "{json}");
        assert!(
            json["problems"][0].as_str().unwrap().starts_with(name),
            "{json}"
        );
    }
}

#[test]
fn a_relative_home_is_made_absolute_and_wide_modes_are_tightened() {
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = enabled(scratch.path());
    cmd.current_dir(scratch.path())
        .env("CODEMACHINE_HOME", "rel");
    let (_, json) = status(cmd);
    let dir = json["dir"].as_str().unwrap();
    assert!(
        Path::new(dir).is_absolute() && dir.ends_with("rel/telemetry"),
        "{dir}"
    );

    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "one"],
    );
    let folder = telemetry_dir(home.path());
    let segment = std::fs::read_dir(folder.join("spool"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&segment, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "two"],
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tightened to 0700") && stderr.contains("tightened to 0600"),
        "{stderr}"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&folder), mode(&segment)), (0o700, 0o600));
}

#[test]
fn record_under_a_broken_configuration_says_so_and_succeeds() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(config_path(home.path()), "max_spool_bytes = \"lots\"\n").unwrap();
    let out = run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "x"],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("note: telemetry is off (decided by configuration error)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("max_spool_bytes"),
        "the problem is named: {stderr}"
    );
    assert!(!telemetry_dir(home.path()).exists());
}

#[test]
fn diagnostics_never_echo_secrets_or_parser_internals() {
    let home = tempfile::tempdir().unwrap();
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    let cases: Vec<Vec<&str>> = vec![
        vec!["log", "db password=hunter2", "m"],
        vec!["log", "info", "m", token],
        vec!["log", "info", "m", "--json", "{\"password\": \"hunter2\""],
        vec!["telemetry", "hunter2"],
        vec!["telemetry", "record", "feature", token],
        vec!["--color", "hunter2", "log", "info", "m"],
        vec![
            "log",
            "info",
            "m",
            "-----BEGIN PRIVATE KEY-----\nhunter2hunter2\n-----END PRIVATE KEY-----",
        ],
        vec!["log", "info", "m", "--hunter2"],
    ];
    for args in cases {
        let out = run(enabled(home.path()), &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            !stderr.contains("hunter2") && !stderr.contains("ghp_0123"),
            "{args:?}: {stderr}"
        );
        assert_clean_diagnostics(&stderr);
    }
    // Settings that echo their value, in both forms of status and in the dry run's JSON.
    let policy = home.path().join("policy.toml");
    std::fs::write(
        &policy,
        "endpoint = \"https://u:hunter2policy@127.0.0.1:9/?token=hunter2query\"\n",
    )
    .unwrap();
    for args in [
        &["telemetry", "status"][..],
        &["telemetry", "status", "--json"][..],
        &["telemetry", "dry-run", "--json"][..],
    ] {
        let mut cmd = codemachine(home.path());
        cmd.env("LOG_LEVEL", "password=hunter2")
            .env("TELEMETRY_ENABLED", "token=hunter2")
            .env("LOG_FORMAT", "secret=hunter2")
            .env("TELEMETRY_ENDPOINT", "https://127.0.0.1:9/#token=hunter2")
            .env("CODEMACHINE_POLICY_FILE", &policy);
        let out = run(cmd, args);
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(!all.contains("hunter2"), "{args:?}: {all}");
        assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?}: {all}");
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    let out = run(
        codemachine(home.path()),
        ["log", "info", "m", "--json", &deep],
    );
    assert!(text(&out.stderr).contains("deeper than 127 levels"));
    let out = run(
        codemachine(home.path()),
        ["log", "info", "m", "--json", "{\"a\":1e400}"],
    );
    assert!(text(&out.stderr).contains("too large"));
    let folder = home.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let out = run(
        codemachine(home.path()),
        ["logs".as_ref(), "pretty".as_ref(), folder.as_os_str()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("cannot read {}: it is a folder", folder.display()))
    );
}

#[test]
fn usage_errors_of_host_commands_are_recorded_without_their_words() {
    let home = tempfile::tempdir().unwrap();
    let out = run(enabled(home.path()), ["lgo", "info", "hunter2"]);
    assert_eq!(out.status.code(), Some(2));
    run(enabled(home.path()), ["telemetry", "bogus"]);
    let events = crate::support::recorded_events(home.path());
    assert_eq!(
        events.len(),
        1,
        "the telemetry namespace records nothing: {events:?}"
    );
    assert_eq!(
        (events[0]["name"].as_str(), events[0]["exit_code"].as_i64()),
        (Some("usage-error"), Some(2))
    );
    assert!(!serde_json::to_string(&events).unwrap().contains("lgo"));
}

#[test]
fn colour_follows_the_flag_no_color_and_a_dumb_terminal() {
    let home = tempfile::tempdir().unwrap();
    let on_terminal = |flag: &str, vars: &[(&str, &str)]| {
        let mut cmd = tool("script", home.path());
        let command = format!(
            "{} {flag} log info hello",
            env!("CARGO_BIN_EXE_codemachine")
        );
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        text(&run(cmd, Vec::<&str>::new()).stdout)
    };
    assert!(on_terminal("", &[]).contains('\x1b'));
    assert!(!on_terminal("", &[("TERM", "dumb")]).contains('\x1b'));
    assert!(!on_terminal("--color never", &[]).contains('\x1b'));
    assert!(!on_terminal("", &[("NO_COLOR", " ")]).contains('\x1b'));
    let piped = run(
        codemachine(home.path()),
        [
            "--color",
            "always",
            "--log-format",
            "pretty",
            "log",
            "info",
            "hi",
        ],
    );
    assert!(
        text(&piped.stdout).contains('\x1b'),
        "--color always paints into a pipe"
    );
}

#[test]
fn inspect_has_headers_and_status_counts_read_well() {
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "one"],
    );
    let out = run(codemachine(home.path()), ["telemetry", "inspect"]);
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("TIME") && shown.contains("NAME") && shown.contains("1 event in "),
        "{shown}"
    );
    let human = text(&run(codemachine(home.path()), ["telemetry", "status"]).stdout);
    assert!(human.contains("1 event in 1 batch"), "{human}");
}

#[test]
fn a_home_that_does_not_exist_is_never_created() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("nonexistent/home");
    for args in [
        &["log", "info", "x"][..],
        &["telemetry", "record", "feature", "x"][..],
        &["telemetry", "enable"][..],
    ] {
        let mut cmd = enabled(&missing);
        cmd.env("TELEMETRY_ENDPOINT", "https://127.0.0.1:9");
        let out = run(cmd, args);
        assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?}");
        assert_clean_diagnostics(&text(&out.stderr));
    }
    assert!(
        !scratch.path().join("nonexistent").exists(),
        "nothing above the telemetry folder's parent is created"
    );
}
