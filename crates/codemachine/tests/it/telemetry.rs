//! Local metrics through the real binary: recording, the operator commands, concurrency, crashes,
//! the cap, broken surroundings and permissions.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value as Json;

use crate::support::{enabled, recorded_events, run, telemetry_dir, text};

fn status_json(home: &Path) -> Json {
    let out = run(enabled(home), ["telemetry", "status", "--json"]);
    serde_json::from_slice(&out.stdout).expect("status --json prints JSON")
}

#[test]
fn host_commands_record_themselves_and_telemetry_commands_do_not() {
    let home = tempfile::tempdir().unwrap();
    let out = run(enabled(home.path()), ["log", "info", "hello"]);
    assert!(out.status.success() && out.stderr.is_empty());
    assert!(
        text(&out.stdout).contains("\"msg\":\"hello\""),
        "the host's output is unchanged"
    );
    assert_eq!(
        run(enabled(home.path()), ["logs", "pretty", "/nonexistent"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(enabled(home.path()), ["log", "loud", "m"])
            .status
            .code(),
        Some(2)
    );
    run(enabled(home.path()), ["telemetry", "status"]);
    run(enabled(home.path()), ["telemetry", "dry-run"]);
    let events = recorded_events(home.path());
    let seen: Vec<(String, i64)> = events
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["exit_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("log".into(), 0),
            ("logs.pretty".into(), 1),
            ("log".into(), 2)
        ]
    );
    for e in &events {
        assert_eq!(e["kind"], "command");
        assert!(e["duration_ms"].is_u64() && e["count"] == 1);
    }
}

#[test]
fn record_writes_exactly_one_event_and_refuses_free_text() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        enabled(home.path()),
        [
            "telemetry",
            "record",
            "command",
            "build",
            "--duration-ms",
            "1500",
            "--exit-code",
            "-3",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        enabled(home.path()),
        [
            "telemetry",
            "record",
            "feature",
            "export.csv",
            "--count",
            "4",
        ],
    );
    assert!(out.status.success());
    for bad in [
        vec!["feature", "/home/someone/secret.txt"],
        vec!["feature", "Has Spaces"],
        vec!["feature", "ghp_0123456789abcdefghijABCDEFGHIJ012345"],
        vec!["feature", "ok", "--duration-ms", "3"],
        vec!["bogus", "ok"],
    ] {
        let mut args = vec!["telemetry", "record"];
        args.extend(&bad);
        let out = run(enabled(home.path()), &args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!text(&out.stderr).contains("someone") && !text(&out.stderr).contains("ghp_"));
    }
    let events = recorded_events(home.path());
    assert_eq!(events.len(), 2);
    assert_eq!(
        (
            &events[0]["name"],
            &events[0]["duration_ms"],
            &events[0]["exit_code"]
        ),
        (&Json::from("build"), &Json::from(1500), &Json::from(-3))
    );
    assert_eq!(
        (&events[1]["kind"], &events[1]["count"]),
        (&Json::from("feature"), &Json::from(4))
    );
    assert!(events[1].get("duration_ms").is_none());
    let keys: Vec<&str> = events[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "schema",
            "id",
            "ts",
            "kind",
            "name",
            "duration_ms",
            "exit_code",
            "count",
            "session_id",
            "anon_id",
            "cli_version",
            "os",
            "arch"
        ]
    );
}

#[test]
fn eight_processes_recording_at_once_lose_and_tear_nothing() {
    let home = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        for p in 0..8 {
            let home = home.path();
            s.spawn(move || {
                for i in 0..250 {
                    let name = format!("p{p}.e{i}");
                    let out = run(enabled(home), ["telemetry", "record", "feature", &name]);
                    assert!(out.status.success(), "{}", text(&out.stderr));
                }
            });
        }
    });
    let events = recorded_events(home.path());
    assert_eq!(events.len(), 2000);
    let names: std::collections::HashSet<&str> =
        events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    let ids: std::collections::HashSet<&str> =
        events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!((names.len(), ids.len()), (2000, 2000));
    let status = status_json(home.path());
    assert_eq!(
        (
            status["pending_events"].as_u64(),
            status["torn_lines"].as_u64()
        ),
        (Some(2000), Some(0))
    );
    // Every line on disk, read directly, is a whole event.
    for entry in std::fs::read_dir(telemetry_dir(home.path()).join("spool")).unwrap() {
        let content = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(content.ends_with('\n'));
        for line in content.lines() {
            serde_json::from_str::<Json>(line).expect("every line is valid JSON");
        }
    }
}

#[test]
fn a_torn_last_line_is_skipped_counted_and_kept() {
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "before"],
    );
    let spool = telemetry_dir(home.path()).join("spool");
    let segment = std::fs::read_dir(&spool)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let torn = b"{\"schema\":1,\"id\":\"01a2";
    std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap()
        .write_all(torn)
        .unwrap();
    let out = run(enabled(home.path()), ["log", "info", "still works"]);
    assert!(out.status.success() && out.stderr.is_empty());
    let inspect = run(enabled(home.path()), ["telemetry", "inspect", "--json"]);
    assert_eq!(text(&inspect.stdout).lines().count(), 2);
    assert!(
        text(&inspect.stderr).contains("note: 1 torn or corrupted line skipped"),
        "{}",
        text(&inspect.stderr)
    );
    assert_eq!(status_json(home.path())["torn_lines"], 1);
    assert!(
        std::fs::read(&segment).unwrap().ends_with(torn),
        "kept for manual pruning"
    );
    let prune = run(enabled(home.path()), ["telemetry", "prune", "--all"]);
    assert!(
        text(&prune.stdout).contains("pruned 2 batches: 2 events, 1 torn line, "),
        "{}",
        text(&prune.stdout)
    );
    assert_eq!(status_json(home.path())["pending_events"], 0);
}

#[test]
fn the_cap_refuses_new_events_counts_them_and_leaves_host_commands_alone() {
    let home = tempfile::tempdir().unwrap();
    let capped = || {
        let mut cmd = enabled(home.path());
        cmd.env("TELEMETRY_MAX_SPOOL_BYTES", "1KiB");
        cmd
    };
    let mut recorded = 0;
    while run(capped(), ["telemetry", "record", "feature", "fill"])
        .status
        .success()
    {
        recorded += 1;
        assert!(recorded < 10, "the cap never refused");
    }
    let refused = run(capped(), ["telemetry", "record", "feature", "fill"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("full"),
        "{}",
        text(&refused.stderr)
    );
    let host = run(capped(), ["log", "info", "at the cap"]);
    assert_eq!(host.status.code(), Some(0));
    assert!(text(&host.stdout).contains("at the cap"));
    assert!(text(&host.stderr).lines().count() <= 1);
    let status = status_json(home.path());
    assert_eq!(status["pending_events"], recorded);
    assert_eq!(
        status["refused_events"], 3,
        "two refused records and the host command"
    );
}

#[test]
fn an_unusable_folder_or_missing_home_changes_nothing_for_host_commands() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".codemachine")).unwrap();
    // A file where the folder should be: creating it fails, even for root.
    std::fs::write(telemetry_dir(home.path()), b"not a folder").unwrap();
    let out = run(enabled(home.path()), ["log", "info", "unharmed"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("\"msg\":\"unharmed\""));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );

    let mut no_home = enabled(home.path());
    no_home.env_remove("HOME");
    let out = run(no_home, ["log", "info", "homeless"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("homeless"));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    let mut no_home = enabled(home.path());
    no_home.env_remove("HOME");
    let status = run(no_home, ["telemetry", "status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(text(&status.stdout).contains("neither CODEMACHINE_HOME nor HOME"));
}

#[test]
fn a_broken_config_file_disables_host_telemetry_and_fails_status() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".codemachine/telemetry.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "salt_rotation_days = 7\nmax_spool_bytes = [\n").unwrap();
    let out = run(enabled(home.path()), ["log", "info", "fine"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("fine"));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1);
    assert!(
        stderr.contains(&format!("{}:", config.display())) && stderr.contains(":2:"),
        "{stderr}"
    );
    assert!(!telemetry_dir(home.path()).exists());
    let status = run(enabled(home.path()), ["telemetry", "status", "--json"]);
    assert_eq!(status.status.code(), Some(1));
    let json: Json = serde_json::from_slice(&status.stdout).unwrap();
    assert!(
        json["problems"][0].as_str().unwrap().contains(":2:"),
        "{json}"
    );
    assert_eq!(json["decided_by"], "configuration error");
    assert_eq!(json["enabled"], false);
}

#[test]
fn status_reports_every_key_and_setting_source() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".codemachine/telemetry.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "salt_rotation_days = 7\n[redact]\nkeys = [\"tenant\"]\n",
    )
    .unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "one"],
    );
    let mut cmd = enabled(home.path());
    cmd.env("TELEMETRY_MAX_SPOOL_BYTES", "2MiB");
    let out = run(cmd, ["telemetry", "status", "--json"]);
    assert!(out.status.success());
    let s: Json = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "enabled",
        "decided_by",
        "dir",
        "endpoint",
        "protocol",
        "pending_events",
        "pending_batches",
        "rejected_batches",
        "rejected_events",
        "held_events",
        "refused_events",
        "server_rejected_events",
        "torn_lines",
        "last_error",
        "last_success",
        "next_attempt",
        "forwarding_withheld",
        "redact_keys",
        "anon_id",
        "anon_id_rotates",
        "log_destination",
        "policy",
    ] {
        assert!(s.get(key).is_some(), "status lacks {key}");
    }
    assert_eq!(
        (
            s["enabled"].clone(),
            s["pending_events"].clone(),
            s["pending_batches"].clone()
        ),
        (Json::from(true), Json::from(1), Json::from(1))
    );
    assert_eq!(s["decided_by"], "TELEMETRY_ENABLED");
    assert_eq!(s["decision"], "TELEMETRY_ENABLED=1");
    assert_eq!(
        s["settings"]["max_spool_bytes"]["source"],
        "environment (TELEMETRY_MAX_SPOOL_BYTES)"
    );
    assert_eq!(s["settings"]["max_spool_bytes"]["value"], 2 << 20);
    assert_eq!(s["settings"]["salt_rotation_days"]["source"], "config file");
    assert_eq!(
        s["settings"]["log_level"],
        serde_json::json!({"value": "info", "source": "default"})
    );
    assert_eq!(
        s["settings"]["redact_keys"]["value"],
        serde_json::json!(["tenant"])
    );
    assert_eq!(s["anon_id"], recorded_events(home.path())[0]["anon_id"]);
    let human = text(&run(enabled(home.path()), ["telemetry", "status"]).stdout);
    assert!(
        human.contains("Telemetry    on: TELEMETRY_ENABLED=1")
            && human.contains("Buffered     1 event in 1 batch (0 being written)"),
        "{human}"
    );
}

#[test]
fn folders_and_files_are_private() {
    let home = tempfile::tempdir().unwrap();
    run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "one"],
    );
    let mut stack = vec![telemetry_dir(home.path())];
    let mut seen = 0;
    while let Some(path) = stack.pop() {
        let meta = std::fs::metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        seen += 1;
    }
    assert!(seen >= 5, "folder, spool, state, a segment and the salt");
}

#[test]
fn a_recorder_killed_with_sigkill_leaves_whole_lines_and_a_sealed_batch() {
    let home = tempfile::tempdir().unwrap();
    // A long-lived host recording as fast as it can, killed mid-stream.
    let mut host = std::process::Command::new(crate::support::example_host())
        .arg("100000000")
        .env_clear()
        .env("HOME", home.path())
        .env("TELEMETRY_ENABLED", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::support::wait_until_events(home.path(), 500);
    // SAFETY: signalling a child process this test started and still owns.
    assert_eq!(
        unsafe { libc::kill(host.id() as libc::pid_t, libc::SIGKILL) },
        0
    );
    host.wait().unwrap();
    let status = status_json(home.path());
    assert_eq!(
        status["open_batches"], 0,
        "the kernel released the killed writer's lock"
    );
    assert!(status["pending_events"].as_u64().unwrap() >= 500);
    assert!(
        status["torn_lines"].as_u64().unwrap() <= 1,
        "at most the line being written"
    );
    let out = run(
        enabled(home.path()),
        ["telemetry", "record", "feature", "after"],
    );
    assert!(
        out.status.success(),
        "a later run is not broken by the crash"
    );
}
