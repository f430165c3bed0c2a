//! A full disk and a read-only folder, for real: each case runs in a private mount namespace
//! (`unshare -r -m`) on a small tmpfs that the kernel itself fills or makes read-only.

use std::path::Path;
use std::process::Command;

use crate::support::{required_tool, run, text};

/// Runs `script` (sh) in a new user and mount namespace with `$BIN` set to the binary and a
/// tmpfs of `size` mounted at `$MNT`. Fails the test if the namespace cannot be made.
fn in_private_tmpfs(scratch: &Path, size: &str, script: &str) -> (String, String) {
    let mnt = scratch.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let mut cmd = Command::new(required_tool("unshare"));
    let setup =
        format!("mount -t tmpfs -o size={size},mode=0755 tmpfs \"$MNT\" || exit 97\n{script}");
    cmd.args(["-r", "-m", "sh", "-c", &setup])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("MNT", &mnt)
        .env("BIN", env!("CARGO_BIN_EXE_codemachine"));
    let out = run(cmd, Vec::<&str>::new());
    assert_ne!(
        out.status.code(),
        Some(97),
        "cannot mount a tmpfs in a user namespace: {}",
        text(&out.stderr)
    );
    assert!(out.status.success(), "script failed: {}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_full_disk_leaves_host_commands_unchanged_and_stored_events_intact() {
    let scratch = tempfile::tempdir().unwrap();
    // One home records an event, then the disk fills up; another home on the same disk then has
    // to write its salt and its first segment, which the kernel refuses.
    let script = r#"
export TELEMETRY_ENABLED=1 HOME="$MNT"
CODEMACHINE_HOME="$MNT/first" "$BIN" telemetry record feature before >/dev/null || exit 10
dd if=/dev/zero of="$MNT/filler" bs=1k count=1000 2>/dev/null
CODEMACHINE_HOME="$MNT/second" "$BIN" log info "still here" >"$MNT/../out" 2>"$MNT/../err"
echo "exit=$?"
CODEMACHINE_HOME="$MNT/first" "$BIN" telemetry inspect --json
cat "$MNT/../out"
echo "stderr-lines=$(wc -l < "$MNT/../err")"
cat "$MNT/../err" >&2
ls -A "$MNT/second/telemetry/state"
"#;
    let (stdout, stderr) = in_private_tmpfs(scratch.path(), "64k", script);
    assert!(stdout.contains("exit=0"), "{stdout}");
    assert!(
        stdout.contains("\"name\":\"before\""),
        "the stored event is intact: {stdout}"
    );
    assert!(
        stdout.contains("\"msg\":\"still here\""),
        "the host's output is unchanged: {stdout}"
    );
    assert!(
        stdout.contains("stderr-lines=1"),
        "one warning: {stdout} {stderr}"
    );
    assert!(stderr.contains("no space left on device"), "{stderr}");
    assert!(
        !stdout.contains(".salt."),
        "no half-written salt is left behind: {stdout}"
    );
}

#[test]
fn a_read_only_folder_leaves_host_commands_unchanged() {
    let scratch = tempfile::tempdir().unwrap();
    let script = r#"
export CODEMACHINE_HOME="$MNT/cm" TELEMETRY_ENABLED=1 HOME="$MNT"
mkdir -p "$MNT/cm"
mount -o remount,ro "$MNT" || exit 11
"$BIN" log info "read-only home"
echo "exit=$?"
"#;
    let (stdout, stderr) = in_private_tmpfs(scratch.path(), "64k", script);
    assert!(
        stdout.contains("\"msg\":\"read-only home\"") && stdout.contains("exit=0"),
        "{stdout}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("read-only file system"), "{stderr}");
}

#[test]
fn an_event_cut_short_by_a_full_disk_is_taken_back_whole() {
    // Fill a segment up to just below a page boundary, fill the disk, then record one more event:
    // the kernel writes part of it (into the segment's last page) and refuses the rest. The
    // partial line must be taken back, so no torn line is left and the segment stays usable.
    let scratch = tempfile::tempdir().unwrap();
    let script = r#"
export CODEMACHINE_HOME="$MNT/cm" TELEMETRY_ENABLED=1 HOME="$MNT"
"$BIN" telemetry record feature fill >/dev/null || exit 10
seg=$(ls "$MNT"/cm/telemetry/spool/*.ndjson)
line=$(stat -c %s "$seg")
while [ $(( $(stat -c %s "$seg") + line )) -le 4096 ]; do
    "$BIN" telemetry record feature fill >/dev/null || exit 11
done
before=$(stat -c %s "$seg")
dd if=/dev/zero of="$MNT/filler" bs=1k count=1000 2>/dev/null
"$BIN" telemetry record feature fill >/dev/null 2>"$MNT/../err"
echo "refused=$?"
echo "size-kept=$([ "$(stat -c %s "$seg")" = "$before" ] && echo yes || echo no)"
rm "$MNT/filler"
"$BIN" telemetry record feature fill >/dev/null || exit 12
"$BIN" telemetry status --json
cat "$MNT/../err" >&2
"#;
    let (stdout, stderr) = in_private_tmpfs(scratch.path(), "64k", script);
    assert!(stdout.contains("refused=1"), "{stdout} {stderr}");
    assert!(stderr.contains("no space left on device"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "said once: {stderr}");
    assert!(
        stdout.contains("size-kept=yes"),
        "the partial line was taken back: {stdout}"
    );
    let status: serde_json::Value =
        serde_json::from_str(&stdout[stdout.find('{').unwrap()..]).unwrap();
    assert_eq!(status["torn_lines"], 0, "{status}");
    assert_eq!(status["pending_batches"], 1, "{status}");
}
