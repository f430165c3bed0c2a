//! Consent that persists (`telemetry enable|disable`) and the machine policy, through the real
//! binary: round trips through the config file, the precedence of environment, consent,
//! DO_NOT_TRACK and policy, trusted and untrusted policy files (as root and as an unprivileged
//! user), each rule enforced, the endpoint allow-list against the loopback collector.

use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use test_collector::Collector;

use crate::support::{
    codemachine, enabled, mkfifo, recorded_events, run, telemetry_dir, text, tool, wait_bounded,
};

fn config_file(home: &Path) -> PathBuf {
    home.join(".codemachine/telemetry.toml")
}

fn status(mut cmd: Command) -> (Option<i32>, Json) {
    cmd.args(["telemetry", "status", "--json"]);
    let out = run(cmd, Vec::<&str>::new());
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).expect("status --json"),
    )
}

fn policy(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn with_policy(home: &Path, file: &Path) -> Command {
    let mut cmd = codemachine(home);
    cmd.env("CODEMACHINE_POLICY_FILE", file);
    cmd
}

#[test]
fn consent_round_trips_through_the_config_file_keeping_its_comments() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".codemachine")).unwrap();
    std::fs::write(
        config_file(home.path()),
        "# chosen by Alice\nsalt_rotation_days = 7 # weekly\n",
    )
    .unwrap();
    for (args, mode, recorded_where) in [
        (vec!["telemetry", "enable"], "on", "pending_events"),
        (
            vec!["telemetry", "enable", "--local-only"],
            "local",
            "held_events",
        ),
    ] {
        let out = run(codemachine(home.path()), &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let file = std::fs::read_to_string(config_file(home.path())).unwrap();
        assert!(
            file.contains("# chosen by Alice") && file.contains("salt_rotation_days = 7 # weekly"),
            "{file}"
        );
        assert!(
            file.contains(&format!("consent = \"{mode}\"")) && file.contains("consent_date = \"20"),
            "{file}"
        );
        run(codemachine(home.path()), ["log", "info", "counted"]);
        let (_, s) = status(codemachine(home.path()));
        assert_eq!(
            (s["mode"].as_str(), s["decided_by"].as_str()),
            (Some(mode), Some("consent")),
            "{s}"
        );
        assert!(s[recorded_where].as_u64().unwrap() >= 1, "{s}");
    }
    let out = run(codemachine(home.path()), ["telemetry", "disable"]);
    assert!(out.status.success());
    let before = recorded_events(home.path()).len();
    run(codemachine(home.path()), ["log", "info", "not counted"]);
    assert_eq!(recorded_events(home.path()).len(), before, "off means off");
    let (_, s) = status(codemachine(home.path()));
    assert_eq!(
        (s["enabled"].as_bool(), s["decided_by"].as_str()),
        (Some(false), Some("consent"))
    );
}

#[test]
fn the_environment_wins_for_one_run_and_do_not_track_over_everything() {
    let home = tempfile::tempdir().unwrap();
    run(codemachine(home.path()), ["telemetry", "enable"]);
    type Case<'a> = (&'a [(&'a str, &'a str)], bool, &'a str);
    let cases: &[Case] = &[
        (&[], true, "consent"),
        (&[("TELEMETRY_ENABLED", "0")], false, "TELEMETRY_ENABLED"),
        (&[("DO_NOT_TRACK", "1")], false, "DO_NOT_TRACK"),
        (
            &[("TELEMETRY_ENABLED", "1"), ("DO_NOT_TRACK", "yes")],
            false,
            "DO_NOT_TRACK",
        ),
    ];
    for (vars, enabled, by) in cases {
        let mut cmd = codemachine(home.path());
        cmd.envs(vars.iter().copied());
        let (_, s) = status(cmd);
        assert_eq!(
            (s["enabled"].as_bool(), s["decided_by"].as_str()),
            (Some(*enabled), Some(*by)),
            "{vars:?}"
        );
    }
    let mut cmd = codemachine(home.path());
    cmd.env("DO_NOT_TRACK", "1");
    let out = run(cmd, ["telemetry", "enable"]);
    assert!(
        text(&out.stdout).contains("telemetry stays off here: DO_NOT_TRACK=1 is set"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn disable_purge_deletes_only_our_files() {
    let home = tempfile::tempdir().unwrap();
    run(codemachine(home.path()), ["telemetry", "enable"]);
    run(codemachine(home.path()), ["log", "info", "x"]);
    let ours = telemetry_dir(home.path());
    std::fs::write(ours.join("spool/README.txt"), "not telemetry's").unwrap();
    let out = run(
        codemachine(home.path()),
        ["telemetry", "disable", "--purge"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("purged 1 batch: 1 event"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(ours.join("spool/README.txt")).unwrap(),
        "not telemetry's"
    );
    assert!(!ours.join("state/salt").exists() && !ours.join("state").exists());
    assert!(config_file(home.path()).exists(), "the consent is kept");
}

#[test]
fn each_rule_of_a_policy_is_enforced() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    run(codemachine(home.path()), ["telemetry", "enable"]);
    // telemetry = "off" wins over consent and the environment.
    let off = policy(dir.path(), "off.toml", "telemetry = \"off\"\n", 0o600);
    let mut cmd = with_policy(home.path(), &off);
    cmd.env("TELEMETRY_ENABLED", "1");
    let (code, s) = status(cmd);
    assert_eq!(
        (code, s["enabled"].as_bool(), s["decided_by"].as_str()),
        (Some(0), Some(false), Some("policy")),
        "{s}"
    );
    assert_eq!(s["policy"]["files"][0]["applied"], true, "{s}");
    // telemetry = "local" caps "on": recorded, held, never forwarded.
    let local = policy(
        dir.path(),
        "local.toml",
        "telemetry = \"local\"\nmax_spool_bytes = \"1MiB\"\n[redact]\nkeys = [\"tenantId\"]\n",
        0o600,
    );
    let out = run(
        with_policy(home.path(), &local),
        ["log", "info", "m", "--field", "tenantId=acme"],
    );
    assert!(
        !text(&out.stdout).contains("acme"),
        "the policy's key is redacted: {}",
        text(&out.stdout)
    );
    let (_, s) = status(with_policy(home.path(), &local));
    assert_eq!(
        (s["mode"].as_str(), s["decided_by"].as_str()),
        (Some("local"), Some("policy")),
        "{s}"
    );
    assert!(s["held_events"].as_u64().unwrap() >= 1);
    assert_eq!(s["max_spool_bytes"], 1 << 20);
    assert_eq!(s["settings"]["max_spool_bytes"]["source"], "machine policy");
    assert!(
        s["forwarding_withheld"].is_null(),
        "a policy's keys need no documenting: {s}"
    );
}

#[test]
fn the_endpoint_allow_list_against_a_real_collector() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::https();
    let send = |allowed: &str| {
        let file = policy(
            dir.path(),
            "p.toml",
            &format!("endpoint = \"{allowed}\"\n"),
            0o600,
        );
        let mut cmd = with_policy(home.path(), &file);
        cmd.env("TELEMETRY_ENABLED", "1")
            .env("TELEMETRY_ENDPOINT", collector.url())
            .env("TELEMETRY_CA_FILE", collector.ca_file());
        cmd
    };
    run(
        send(&collector.url()),
        ["telemetry", "record", "feature", "one"],
    );
    let refused = run(send("https://only-this.example"), ["telemetry", "flush"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("allows only https://only-this.example"),
        "{}",
        text(&refused.stderr)
    );
    let (code, s) = status(send("https://only-this.example"));
    assert_eq!(code, Some(1));
    assert!(
        s["forwarding"].as_str().unwrap().starts_with("refused"),
        "{s}"
    );
    assert_eq!(
        collector.connections(),
        0,
        "nothing went to a refused endpoint"
    );
    let allowed = run(send(&collector.url()), ["telemetry", "flush"]);
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
    assert_eq!(collector.record_ids().len(), 1);
}

#[test]
fn an_untrusted_policy_is_ignored_loudly_on_every_command() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wide = policy(dir.path(), "wide.toml", "telemetry = \"off\"\n", 0o666);
    for args in [
        &["log", "info", "x"][..],
        &["telemetry", "record", "feature", "x"][..],
        &["logs", "pretty"][..],
    ] {
        let out = run(with_policy(home.path(), &wide), args);
        assert!(
            text(&out.stderr)
                .contains("this machine policy is ignored: it is writable by group or others"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let (code, s) = status(with_policy(home.path(), &wide));
    assert_eq!(code, Some(1));
    assert_eq!(s["policy"]["files"][0]["applied"], false);
    let malformed = policy(dir.path(), "bad.toml", "telemetry = [\n", 0o600);
    assert_eq!(status(with_policy(home.path(), &malformed)).0, Some(1));
    if crate::support::running_as_root() {
        let foreign = policy(dir.path(), "foreign.toml", "telemetry = \"off\"\n", 0o644);
        chown(&foreign, Some(1000), Some(1000)).unwrap();
        let (_, s) = status(with_policy(home.path(), &foreign));
        assert!(
            s["policy"]["files"][0]["ignored_because"]
                .as_str()
                .unwrap()
                .contains("owned by uid 1000"),
            "{s}"
        );
    }
}

/// As an unprivileged user (uid 1000, via `setpriv`): their own policy file is trusted (it can
/// only restrict), one owned by root is too, and one owned by another user is not.
#[test]
fn an_unprivileged_user_may_own_the_extra_policy_file() {
    if !crate::support::running_as_root() {
        eprintln!("skipped: switching to an unprivileged user needs root");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).unwrap();
    chown(&home, Some(1000), Some(1000)).unwrap();
    let own = policy(scratch.path(), "own.toml", "telemetry = \"off\"\n", 0o600);
    chown(&own, Some(1000), Some(1000)).unwrap();
    let other = policy(scratch.path(), "other.toml", "telemetry = \"off\"\n", 0o644);
    chown(&other, Some(1001), Some(1001)).unwrap();
    for (file, applied) in [(&own, true), (&other, false)] {
        let mut cmd = tool("setpriv", &home);
        cmd.args([
            "--reuid",
            "1000",
            "--regid",
            "1000",
            "--clear-groups",
            env!("CARGO_BIN_EXE_codemachine"),
        ])
        .args(["telemetry", "status", "--json"])
        .env("TELEMETRY_ENABLED", "1")
        .env("CODEMACHINE_POLICY_FILE", file);
        let out = run(cmd, Vec::<&str>::new());
        let s: Json =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
        assert_eq!(s["policy"]["files"][0]["applied"], applied, "{s}");
        assert_eq!(s["enabled"], !applied, "{s}");
    }
}

/// The administrator's `/etc/codemachine/policy.toml`, in a private mount namespace (a folder of
/// the test bound over `/etc/codemachine`), with the user's own file: both apply, the stricter wins.
#[test]
fn the_system_policy_and_the_users_file_both_apply_and_the_stricter_wins() {
    let scratch = tempfile::tempdir().unwrap();
    let etc = scratch.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    policy(
        &etc,
        "policy.toml",
        "telemetry = \"local\"\nmax_spool_bytes = 2000000\n",
        0o644,
    );
    let user = policy(
        scratch.path(),
        "user.toml",
        "telemetry = \"user\"\nmax_spool_bytes = 1000000\n",
        0o600,
    );
    if !Path::new("/etc/codemachine").exists() && std::fs::create_dir("/etc/codemachine").is_err() {
        panic!(
            "this test needs /etc/codemachine to exist (as an empty folder) to mount over it; run it as root once"
        );
    }
    let home = scratch.path().join("home");
    let script = format!(
        "mount --bind {} /etc/codemachine || exit 97\nexec {} telemetry status --json",
        etc.display(),
        env!("CARGO_BIN_EXE_codemachine")
    );
    let mut cmd = tool("unshare", &home);
    cmd.args(["-r", "-m", "sh", "-c", &script])
        .env("TELEMETRY_ENABLED", "1")
        .env("CODEMACHINE_POLICY_FILE", &user);
    let out = run(cmd, Vec::<&str>::new());
    assert_ne!(
        out.status.code(),
        Some(97),
        "cannot bind-mount in a private namespace: {}",
        text(&out.stderr)
    );
    let s: Json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    let files = s["policy"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{s}");
    assert!(files.iter().all(|f| f["applied"] == true), "{s}");
    assert_eq!(
        (s["mode"].as_str(), s["decided_by"].as_str()),
        (Some("local"), Some("policy")),
        "the system's local wins over the user's user"
    );
    assert_eq!(
        s["max_spool_bytes"], 1_000_000,
        "the user's lower bound wins"
    );
}

/// `codemachine` as uid 1000 (via `setpriv`), with `home`'s isolated environment.
fn as_user_1000(home: &Path) -> Command {
    let mut cmd = tool("setpriv", home);
    cmd.args([
        "--reuid",
        "1000",
        "--regid",
        "1000",
        "--clear-groups",
        env!("CARGO_BIN_EXE_codemachine"),
    ]);
    cmd
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn disable_purge_deletes_the_data_even_when_the_consent_cannot_be_stored() {
    type Break = fn(&Path);
    let breakers: [(&str, Break, &str); 2] = [
        ("a FIFO", |p| mkfifo(p), "is not a regular file (a FIFO)"),
        (
            "invalid TOML",
            |p| std::fs::write(p, "consent = [\n").unwrap(),
            "is not valid TOML",
        ),
    ];
    for (what, break_it, reason) in breakers {
        let home = tempfile::tempdir().unwrap();
        run(enabled(home.path()), ["log", "info", "x"]);
        assert!(telemetry_dir(home.path()).exists(), "{what}");
        let config = config_file(home.path());
        let _ = std::fs::remove_file(&config);
        break_it(&config);
        let out = run(
            codemachine(home.path()),
            ["telemetry", "disable", "--purge"],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            text(&out.stdout).contains("purged 1 batch: 1 event"),
            "{what}: {}",
            text(&out.stdout)
        );
        assert!(!telemetry_dir(home.path()).exists(), "{what}: purged");
        assert!(
            stderr.contains(
                "the telemetry data was purged, but the consent (off) could not be stored"
            ) && stderr.contains(reason),
            "{what}: {stderr}"
        );
        assert!(
            !text(&out.stdout).contains("off for you"),
            "{what}: no claim that the consent was written"
        );
    }
}

/// As an unprivileged user: a config file they made read-only is refused and left as it is;
/// a writable one is rewritten keeping its mode; one owned by root is not taken over.
#[test]
fn a_protected_config_file_is_never_replaced_and_a_rewritten_one_keeps_its_mode() {
    if !crate::support::running_as_root() {
        eprintln!("skipped: switching to an unprivileged user needs root");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = scratch.path().join("home");
    std::fs::create_dir_all(home.join(".codemachine")).unwrap();
    for dir in [home.clone(), home.join(".codemachine")] {
        chown(&dir, Some(1000), Some(1000)).unwrap();
    }
    let config = config_file(&home);
    let original = "# mine, do not touch\nconsent = \"on\"\n";
    let place = |mode: u32, owner: u32| {
        std::fs::write(&config, original).unwrap();
        chown(&config, Some(owner), Some(owner)).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    place(0o400, 1000);
    let out = run(as_user_1000(&home), ["telemetry", "disable"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is read-only (mode 0400)")
            && text(&out.stderr).contains("make it writable (chmod u+w)"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    assert_eq!(mode_of(&config), 0o400);

    place(0o644, 0);
    let out = run(as_user_1000(&home), ["telemetry", "disable"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("belongs to uid 0"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&config).unwrap()),
        0
    );

    place(0o640, 1000);
    let out = run(as_user_1000(&home), ["telemetry", "disable"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rewritten = std::fs::read_to_string(&config).unwrap();
    assert!(
        rewritten.contains("# mine, do not touch") && rewritten.contains("consent = \"off\""),
        "{rewritten}"
    );
    assert_eq!(mode_of(&config), 0o640, "the mode is kept");

    std::fs::remove_file(&config).unwrap();
    let out = run(as_user_1000(&home), ["telemetry", "enable"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode_of(&config), 0o600, "a new file is private");
}

#[test]
fn enable_and_disable_say_on_stdout_what_is_true_here() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let off = policy(dir.path(), "off.toml", "telemetry = \"off\"\n", 0o600);
    let local = policy(dir.path(), "local.toml", "telemetry = \"local\"\n", 0o600);
    let file = config_file(home.path());
    let stored = |mode: &str| format!("your consent ({mode}) is stored in {}; ", file.display());
    let plain = |vars: &[(&str, &Path)]| {
        let mut cmd = codemachine(home.path());
        cmd.envs(vars.iter().copied());
        cmd
    };
    let cases: Vec<(Command, &[&str], String)> = vec![
        (
            plain(&[("DO_NOT_TRACK", Path::new("1"))]),
            &["telemetry", "enable"],
            stored("on") + "telemetry stays off here: DO_NOT_TRACK=1 is set",
        ),
        (
            with_policy(home.path(), &off),
            &["telemetry", "enable"],
            stored("on")
                + &format!(
                    "telemetry stays off here: the machine policy {} allows no telemetry",
                    off.display()
                ),
        ),
        (
            with_policy(home.path(), &local),
            &["telemetry", "enable"],
            stored("on")
                + &format!(
                    "recorded locally only: the machine policy {} allows no forwarding",
                    local.display()
                ),
        ),
        (
            plain(&[("TELEMETRY_ENABLED", Path::new("0"))]),
            &["telemetry", "enable"],
            stored("on")
                + "telemetry stays off here: TELEMETRY_ENABLED=0 is set, and decides the runs where it is set",
        ),
        (
            plain(&[("TELEMETRY_ENABLED", Path::new("1"))]),
            &["telemetry", "disable"],
            stored("off")
                + "telemetry is on here: TELEMETRY_ENABLED=1 is set, and decides the runs where it is set",
        ),
        (
            with_policy(home.path(), &local),
            &["telemetry", "enable", "--local-only"],
            format!(
                "telemetry is on for you, local only: events are recorded and never forwarded; consent written to {}",
                file.display()
            ),
        ),
        (
            plain(&[("DO_NOT_TRACK", Path::new("1"))]),
            &["telemetry", "disable"],
            format!(
                "telemetry is off for you: nothing is recorded; consent written to {}",
                file.display()
            ),
        ),
        (
            plain(&[]),
            &["telemetry", "enable"],
            format!(
                "telemetry is on for you: events are recorded (and forwarded when an endpoint is configured); consent written to {}",
                file.display()
            ),
        ),
    ];
    for (cmd, args, expected) in cases {
        let out = run(cmd, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{expected}\n"), "{args:?}");
    }
}

#[test]
fn a_documented_value_that_says_no_does_not_document_the_redaction_list() {
    let home = tempfile::tempdir().unwrap();
    let check = |env: Option<&str>, file: Option<&str>, documented: Option<&str>| {
        let _ = std::fs::remove_file(config_file(home.path()));
        if let Some(value) = file {
            std::fs::create_dir_all(home.path().join(".codemachine")).unwrap();
            let text = format!("[redact]\nkeys = [\"pin\"]\ndocumented = {value}\n");
            std::fs::write(config_file(home.path()), text).unwrap();
        }
        let mut cmd = codemachine(home.path());
        cmd.env("TELEMETRY_REDACT_KEYS", "pin");
        if let Some(value) = env {
            cmd.env("TELEMETRY_REDACT_DOCUMENTED", value);
        }
        let (_, s) = status(cmd);
        assert_eq!(
            s["redact_documented"].as_str(),
            documented,
            "{env:?} {file:?}: {s}"
        );
        assert_eq!(
            s["forwarding_withheld"].is_null(),
            documented.is_some(),
            "{env:?} {file:?}: {s}"
        );
    };
    for no in ["false", "0", "no", "off", "OFF", " ", ""] {
        check(Some(no), None, None);
    }
    check(Some("COMPLY-1234"), None, Some("COMPLY-1234"));
    check(Some("true"), None, Some("true"));
    for no in ["false", "\"false\"", "\"no\"", "\"0\""] {
        check(None, Some(no), None);
    }
    check(None, Some("\"COMPLY-9\""), Some("COMPLY-9"));
    check(Some("no"), Some("\"COMPLY-9\""), None);
}

#[test]
fn thirty_concurrent_consent_commands_leave_a_valid_config_file() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".codemachine")).unwrap();
    std::fs::write(config_file(home.path()), "# kept\nsalt_rotation_days = 7\n").unwrap();
    let mut children: Vec<_> = (0..30)
        .map(|i| {
            let mut cmd = codemachine(home.path());
            cmd.args(match i % 3 {
                0 => &["telemetry", "enable"][..],
                1 => &["telemetry", "enable", "--local-only"][..],
                _ => &["telemetry", "disable"][..],
            })
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
            cmd.spawn().expect("start codemachine")
        })
        .collect();
    for child in &mut children {
        assert!(wait_bounded(child).success());
    }
    let (code, s) = status(codemachine(home.path()));
    assert_eq!(code, Some(0), "{s}");
    assert_eq!(s["problems"], serde_json::json!([]), "{s}");
    assert_eq!(s["decided_by"], "consent", "{s}");
    let file = std::fs::read_to_string(config_file(home.path())).unwrap();
    assert!(
        file.starts_with("# kept\nsalt_rotation_days = 7\n"),
        "{file}"
    );
    assert_eq!(file.matches("consent = ").count(), 1, "{file}");
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".codemachine"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "telemetry.toml" && n != "telemetry")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// The operator guide's numbers and lists come from the code: its `Redaction` line is what
/// `status` prints, its count of default keys is the redactor's, and its `decided_by` list has
/// every value `status --json` can give (SPEC §5).
#[test]
fn the_operator_guide_matches_what_status_prints() {
    let guide = include_str!("../../../../docs/operator-guide.md");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = codemachine(home.path());
    cmd.env("TELEMETRY_REDACT_KEYS", "tenantToken,pin");
    let out = run(cmd, ["telemetry", "status"]);
    let line = text(&out.stdout)
        .lines()
        .find(|l| l.starts_with("Redaction"))
        .expect("a Redaction line")
        .to_owned();
    assert!(
        guide.contains(&format!("{line}\n")),
        "the guide lacks: {line}"
    );
    let count = codemachine_telemetry::DEFAULT_REDACT_KEYS.len();
    assert!(
        guide.contains(&format!("({count} keys,")),
        "the guide does not say {count} default keys"
    );
    let sentence = guide
        .lines()
        .find(|l| l.starts_with("`decided_by` is one of"))
        .expect("the decided_by sentence");
    for key in [
        "policy",
        "DO_NOT_TRACK",
        "TELEMETRY_ENABLED",
        "consent",
        "default",
        "configuration error",
    ] {
        assert!(sentence.contains(&format!("`{key}`")), "{key}: {sentence}");
    }
}
