//! Consent that persists (`telemetry enable|disable`) and the machine policy, through the real
//! binary: round trips through the config file, the precedence of environment, consent,
//! DO_NOT_TRACK and policy, trusted and untrusted policy files (as root and as an unprivileged
//! user), each rule enforced, the endpoint allow-list against the loopback collector.

use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use test_collector::Collector;

use crate::support::{codemachine, recorded_events, run, telemetry_dir, text, tool};

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
        text(&out.stderr).contains("DO_NOT_TRACK=1 is set"),
        "{}",
        text(&out.stderr)
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
