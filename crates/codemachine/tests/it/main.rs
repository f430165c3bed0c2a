//! Integration tests running the real `codemachine` binary in a scratch environment.

mod consent_policy;
mod crashes;
mod disabled;
mod dry_run;
mod filesystems;
mod forwarding;
mod hostile;
mod log_cmd;
mod logs_pretty;
mod report;
mod report_page;
mod schema;
mod secrets_everywhere;
mod streams;
mod support;
mod telemetry;
