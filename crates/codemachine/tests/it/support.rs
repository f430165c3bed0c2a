//! Running the real binary with a clean, controlled environment.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A wait that gives up after this long fails the test as a hang.
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// `codemachine` with an empty environment (but `PATH`) and `home` as its home folder: every
/// test command is built here, so no developer's setting leaks into a test and no test can touch
/// a real `~/.codemachine`.
pub fn codemachine(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codemachine"));
    isolate(&mut cmd, home);
    cmd
}

/// Another program the test needs (strace, script, unshare), with the same isolated environment
/// as [`codemachine`]: whatever it runs inherits that environment.
pub fn tool(name: &str, home: &Path) -> Command {
    let mut cmd = Command::new(required_tool(name));
    isolate(&mut cmd, home);
    cmd
}

/// Clears `cmd`'s environment but for `PATH`, and sets `HOME` to `home`.
pub fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env_clear().env("HOME", home).stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
}

/// Runs to completion (bounded), returning the output. Output is drained while the command
/// runs, so a command printing more than a pipe holds cannot block.
pub fn run<I, S>(mut cmd: Command, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemachine");
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_bounded(&mut child);
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Waits for `child`; kills it and fails the test after [`HANG_LIMIT`].
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HANG_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("codemachine did not exit within {HANG_LIMIT:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// A record with its volatile values (time, pid, hostname) replaced by placeholders, so whole
/// lines can be compared.
pub fn normalized(line: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    for (key, placeholder) in [("time", "<time>"), ("pid", "<pid>"), ("hostname", "<host>")] {
        if let Some(slot) = v.get_mut(key) {
            *slot = serde_json::Value::from(placeholder);
        }
    }
    v.to_string()
}

/// `codemachine` with telemetry enabled and its home in `home`.
pub fn enabled(home: &Path) -> Command {
    let mut cmd = codemachine(home);
    cmd.env("TELEMETRY_ENABLED", "1");
    cmd
}

/// The telemetry folder under a scratch home.
pub fn telemetry_dir(home: &Path) -> std::path::PathBuf {
    home.join(".codemachine/telemetry")
}

/// The events `telemetry inspect --json` prints, parsed.
pub fn recorded_events(home: &Path) -> Vec<serde_json::Value> {
    let out = run(enabled(home), ["telemetry", "inspect", "--json"]);
    assert!(
        out.status.success(),
        "inspect failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("inspect --json prints JSON lines"))
        .collect()
}

/// The path of a program the test needs from the machine, or a failure naming the package.
pub fn required_tool(name: &str) -> std::path::PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!("`{name}` is required by this test: apt-get install {name} (.ci/run installs it)")
    })
}

/// The `host_cli` example of the library (built by `cargo test --workspace`).
pub fn example_host() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .join("examples/host_cli");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test --workspace`, which builds it",
        path.display()
    );
    path
}

/// Waits (bounded) until the spool under `home` holds at least `n` lines.
pub fn wait_until_events(home: &Path, n: usize) {
    let spool = telemetry_dir(home).join("spool");
    let deadline = Instant::now() + HANG_LIMIT;
    loop {
        let lines: usize = std::fs::read_dir(&spool)
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                    .map(|b| b.iter().filter(|c| **c == b'\n').count())
                    .sum()
            })
            .unwrap_or(0);
        if lines >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the spool never reached {n} events"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    let c =
        std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str())).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Makes a FIFO at `path` and opens its read end without waiting for a writer.
pub fn fifo_with_reader(path: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    mkfifo(path);
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .expect("open the FIFO for reading")
}

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// Now, in epoch milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// One event line (newline included) as the recorder writes it, at `ms`, with the kind's own
/// fields in `fields` (`"duration_ms":5,"exit_code":0,"count":1,`). The name is JSON-escaped,
/// so any text can be a name (as in a folder someone tampered with).
pub fn event_line(ms: u64, kind: &str, name: &str, fields: &str) -> String {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "{{\"schema\":1,\"id\":\"{:012x}{n:020x}\",\"ts\":\"{}\",\"kind\":\"{kind}\",\"name\":{},{fields}\"session_id\":\"3f9c2a1e7b4d4c8e9a112d5e6f708192\",\"anon_id\":\"c69557dae91f9c1a67d0e7268940dc5d\",\"cli_version\":\"0.1.0\",\"os\":\"linux\",\"arch\":\"x86_64\"}}\n",
        ms & 0xffff_ffff_ffff,
        codemachine_telemetry::time::rfc3339_millis(ms),
        serde_json::to_string(name).expect("a string")
    )
}

/// A command event line.
pub fn command_line(ms: u64, name: &str, duration_ms: u64, exit_code: i32) -> String {
    let fields = format!("\"duration_ms\":{duration_ms},\"exit_code\":{exit_code},\"count\":1,");
    event_line(ms, "command", name, &fields)
}

/// A feature event line.
pub fn feature_line(ms: u64, name: &str, count: u64) -> String {
    event_line(ms, "feature", name, &format!("\"count\":{count},"))
}

/// Writes `bytes` as a batch at rest in the `state` folder (`spool`, `outbox`, `rejected`) of
/// the telemetry folder under `home`, named by `n`; folders `0700`, the file `0600`.
pub fn write_batch(home: &Path, state: &str, n: u64, bytes: &[u8]) -> std::path::PathBuf {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let folder = telemetry_dir(home).join(state);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&folder)
        .expect("mkdir");
    let path = folder.join(format!("{n:032x}.ndjson"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .expect("create the batch");
    std::io::Write::write_all(&mut file, bytes).expect("write the batch");
    path
}

/// `telemetry report --json` under `cmd`'s settings, parsed; the run must succeed.
pub fn report_json(cmd: Command, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["telemetry", "report", "--json"];
    args.extend_from_slice(extra);
    let out = run(cmd, args);
    assert!(out.status.success(), "report failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("report --json prints JSON")
}

/// True when the tests run as root (CI does): some cases need it.
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Every file under `dir`, at any depth (none when it is missing).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
