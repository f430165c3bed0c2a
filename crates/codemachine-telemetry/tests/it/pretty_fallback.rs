//! Pretty output that cannot be set up: a build without the `pretty` renderer, asked for pretty
//! output, says why in one `warn` record and goes on in JSON.
//!
//! This builds the `log_lines` example for real without the feature (in its own target folder,
//! so the suite's build is untouched), then runs it with `LOG_FORMAT=pretty`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::support::{records, wait_bounded};

fn build_without_pretty() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-pretty");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--locked",
            "--example",
            "log_lines",
            "--no-default-features",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "building log_lines without the pretty feature failed"
    );
    target.join("debug/examples/log_lines")
}

#[test]
fn without_the_renderer_pretty_output_falls_back_to_json_with_one_warn_record() {
    let program = build_without_pretty();
    let mut child = Command::new(program)
        .env("LOG_FORMAT", "pretty")
        .env_remove("LOG_PATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start log_lines");
    writeln!(child.stdin.take().unwrap(), "still logged").unwrap();
    let status = wait_bounded(&mut child);
    let output = child.wait_with_output().unwrap();
    assert!(status.success());
    let lines = records(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["level"], 40);
    assert!(
        lines[0]["msg"]
            .as_str()
            .unwrap()
            .contains("pretty output is not available")
    );
    assert_eq!(lines[1]["msg"], "still logged");
    assert!(output.stderr.is_empty());
}
