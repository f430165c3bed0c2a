//! `codemachine log`: layout, exit codes, destinations.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;

use crate::support::{codemachine, fifo_with_reader, mkfifo, normalized, run, text, tool};

#[test]
fn writes_one_record_in_pinos_exact_layout() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        codemachine(home.path()),
        [
            "log",
            "warn",
            "deploy password=hunter2",
            "--json",
            r#"{"n":1.5,"nested":{"apiKey":"k","keep":[true,null]},"level":99}"#,
            "--field",
            "n=two",
            "--field",
            "user_token=abc",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        normalized(lines[0]),
        r#"{"level":40,"time":"<time>","pid":"<pid>","hostname":"<host>","service":"codemachine","nested":{"keep":[true,null]},"n":"two","msg":"deploy password=[REDACTED]"}"#
    );
    assert!(lines[0].starts_with(r#"{"level":40,"time":"#));
}

#[test]
fn usage_errors_exit_2_and_log_nothing() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["log", "loud", "m"],
        vec!["log", "info", "m", "--json", "{\"password\": \"hunter2\""],
        vec!["log", "info", "m", "--json", "[1]"],
        vec!["log", "info", "m", "--field", "hunter2"],
        vec!["log"],
    ] {
        let out = run(codemachine(home.path()), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            !stderr.is_empty() && !stderr.contains("hunter2"),
            "{stderr}"
        );
    }
}

#[test]
fn log_level_threshold_and_silent() {
    let home = tempfile::tempdir().unwrap();
    let mut quiet = codemachine(home.path());
    quiet.env("LOG_LEVEL", "error");
    assert!(run(quiet, ["log", "warn", "m"]).stdout.is_empty());
    let mut silent = codemachine(home.path());
    silent.env("LOG_LEVEL", "silent");
    let out = run(silent, ["log", "fatal", "m"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn log_path_is_appended_private_and_its_folders_created() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("logs/deep/app.log");
    for msg in ["first", "second"] {
        let mut cmd = codemachine(home.path());
        cmd.env("LOG_PATH", &path);
        let out = run(cmd, ["log", "info", msg]);
        assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
    }
    let content = std::fs::read_to_string(&path).unwrap();
    let msgs: Vec<String> = content
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["msg"].to_string())
        .collect();
    assert_eq!(msgs, ["\"first\"", "\"second\""]);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn an_unopenable_log_path_warns_once_and_logs_to_stdout() {
    let home = tempfile::tempdir().unwrap();
    let blocker = home.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let mut cmd = codemachine(home.path());
    cmd.env("LOG_PATH", blocker.join("under-a-file.log"));
    let out = run(cmd, ["log", "info", "kept"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("\"msg\":\"kept\""));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot open LOG_PATH"));
}

#[test]
fn a_fifo_without_reader_never_blocks() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("logs.fifo");
    mkfifo(&fifo);
    let mut cmd = codemachine(home.path());
    cmd.env("LOG_PATH", &fifo);
    let out = run(cmd, ["log", "info", "to stdout instead"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("to stdout instead"));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("FIFO with no reader"), "{stderr}");
}

#[test]
fn a_fifo_with_a_reader_receives_the_record() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("logs.fifo");
    let mut reader = fifo_with_reader(&fifo);
    let mut cmd = codemachine(home.path());
    cmd.env("LOG_PATH", &fifo);
    let out = run(cmd, ["log", "error", "through the pipe"]);
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
    let mut got = String::new();
    reader.read_to_string(&mut got).unwrap();
    assert!(got.ends_with("\"msg\":\"through the pipe\"}\n"), "{got}");
}

#[test]
fn pretty_on_request_and_json_in_production_or_pipes() {
    let home = tempfile::tempdir().unwrap();
    let mut pretty = codemachine(home.path());
    pretty.env("LOG_FORMAT", "pretty");
    let out = text(&run(pretty, ["log", "info", "hello", "--field", "k=v"]).stdout);
    assert!(
        out.contains("INFO (codemachine/") && out.contains("): hello\n    k: \"v\"\n"),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "no colour when not on a terminal");
    let mut production = codemachine(home.path());
    production.env("NODE_ENV", "production");
    let out = text(&run(production, ["log", "info", "hello"]).stdout);
    assert!(out.starts_with("{\"level\":30"));
}

#[test]
fn telemetry_redact_keys_extends_the_default_list() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = codemachine(home.path());
    cmd.env("TELEMETRY_REDACT_KEYS", " tenant , sessionKey");
    let out = run(
        cmd,
        [
            "log",
            "info",
            "m",
            "--field",
            "tenant=acme",
            "--field",
            "user_session_key=s1",
            "--field",
            "password=p",
            "--field",
            "kept=yes",
        ],
    );
    let line = text(&out.stdout);
    assert!(
        !line.contains("acme") && !line.contains("s1") && !line.contains("\"p\""),
        "{line}"
    );
    assert!(line.contains("\"kept\":\"yes\""));
}

#[test]
fn each_record_reaches_the_os_in_one_write() {
    let home = tempfile::tempdir().unwrap();
    let trace = home.path().join("trace.txt");
    let mut cmd = tool("strace", home.path());
    cmd.args([
        "-f",
        "-e",
        "trace=write",
        "-e",
        "signal=none",
        "-s",
        "0",
        "-o",
    ])
    .arg(&trace)
    .arg(env!("CARGO_BIN_EXE_codemachine"))
    .env("LOG_FORMAT", "json")
    .env("LOG_PATH", home.path().join("app.log"));
    let out = run(
        cmd,
        [
            "log",
            "info",
            "one write",
            "--json",
            r#"{"a":{"b":[1,2,3]},"c":"d"}"#,
        ],
    );
    assert!(out.status.success());
    let record = std::fs::read(home.path().join("app.log")).unwrap();
    let writes: Vec<String> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.contains("write("))
        .map(str::to_owned)
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    let len = record.len();
    let whole =
        writes[0].contains(&format!(", {len})")) && writes[0].ends_with(&format!("= {len}"));
    assert!(whole, "{writes:?}");
}

#[test]
fn on_a_terminal_records_are_pretty_and_coloured_unless_told_otherwise() {
    let home = tempfile::tempdir().unwrap();
    let on_terminal = |vars: &[(&str, &str)]| {
        let mut cmd = tool("script", home.path());
        // `script` runs the command on a new pseudo-terminal and copies what it shows.
        let command = format!(
            "{} log info hello --field k=v",
            env!("CARGO_BIN_EXE_codemachine")
        );
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        text(&run(cmd, Vec::<&str>::new()).stdout)
    };
    let coloured = on_terminal(&[]);
    assert!(
        coloured.contains("\x1b[32mINFO\x1b[0m (codemachine/"),
        "{coloured:?}"
    );
    assert!(coloured.contains("\x1b[36mhello\x1b[0m"));
    let plain = on_terminal(&[("NO_COLOR", "1")]);
    assert!(
        plain.contains("INFO (codemachine/") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    let production = on_terminal(&[("CODEMACHINE_ENV", "production")]);
    assert!(production.starts_with("{\"level\":30"), "{production:?}");
    let forced_json = on_terminal(&[("LOG_FORMAT", "json")]);
    assert!(forced_json.starts_with("{\"level\":30"), "{forced_json:?}");
}

#[test]
fn config_file_redaction_keys_apply_to_logs_with_telemetry_on_or_off() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".codemachine/telemetry.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[redact]\nkeys = [\"tenant\"]\n").unwrap();
    for telemetry in ["0", "1"] {
        let mut cmd = codemachine(home.path());
        cmd.env("TELEMETRY_ENABLED", telemetry)
            .env("TELEMETRY_REDACT_KEYS", "pin");
        let out = run(
            cmd,
            [
                "log",
                "info",
                "m",
                "--field",
                "tenant=acme",
                "--field",
                "pin=1234",
                "--field",
                "ok=1",
            ],
        );
        let line = text(&out.stdout);
        assert!(
            !line.contains("acme") && !line.contains("1234") && line.contains("\"ok\":\"1\""),
            "{line}"
        );
        assert!(out.stderr.is_empty());
    }
    std::fs::write(&config, "[redact]\nkeys = [\"tenant\"\n").unwrap();
    let out = run(codemachine(home.path()), ["log", "info", "m"]);
    assert!(out.status.success() && text(&out.stdout).contains("\"msg\":\"m\""));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("its [redact] keys cannot all be read"),
        "{stderr}"
    );
}
