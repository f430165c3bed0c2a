//! The resolver's layers, sources and problems.

use super::*;

fn settings(home: &Path, vars: &[(&str, &str)]) -> Settings {
    let mut pairs: Vec<(&str, &str)> = vec![("CODEMACHINE_HOME", home.to_str().unwrap())];
    pairs.extend_from_slice(vars);
    Settings::builder()
        .environment(Environment::from_pairs(pairs))
        .build()
}

fn write_config(home: &Path, text: &str) {
    std::fs::write(home.join(CONFIG_FILE_NAME), text).unwrap();
}

#[test]
fn defaults_apply_without_file_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), &[]);
    assert_eq!(*s.max_spool_bytes().value(), DEFAULT_MAX_SPOOL_BYTES);
    assert_eq!(s.max_spool_bytes().source(), Source::Default);
    assert_eq!(*s.salt_rotation_days().value(), 30);
    assert_eq!(s.dir(), Some(dir.path().join("telemetry")));
    assert_eq!(s.home().unwrap().source(), Source::Env("CODEMACHINE_HOME"));
    assert_eq!(s.switch().decided_by(), &Decision::Default);
    assert!(s.problems().is_empty() && !s.config_file_present());
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "max_spool_bytes = \"1MiB\"\nsalt_rotation_days = 7\n[redact]\nkeys = [\"pin\"]\ndocumented = true\n",
    );
    let s = settings(
        dir.path(),
        &[("TELEMETRY_SALT_ROTATION_DAYS", "3"), ("LOG_LEVEL", "warn")],
    );
    assert_eq!(
        s.max_spool_bytes(),
        &Setting::new(1 << 20, Source::ConfigFile)
    );
    assert_eq!(
        s.salt_rotation_days(),
        &Setting::new(3, Source::Env("TELEMETRY_SALT_ROTATION_DAYS"))
    );
    assert_eq!(
        s.redact_keys(),
        &Setting::new(vec!["pin".to_owned()], Source::ConfigFile)
    );
    assert_eq!(s.redact_documented().value().as_deref(), Some("true"));
    assert_eq!(s.logger_config().threshold, "warn".parse().ok());
    let flagged = Settings::builder()
        .environment(Environment::from_pairs([
            ("LOG_LEVEL", "warn"),
            ("NO_COLOR", "1"),
        ]))
        .flags(Flags {
            log_level: Some(Threshold::Silent),
            color: Some(ColorChoice::Always),
            log_format: Some(FormatChoice::Pretty),
        })
        .build();
    let sources: Vec<(&str, Source)> = flagged.table().iter().map(|(n, _, s)| (*n, *s)).collect();
    assert!(sources.contains(&("log_level", Source::Flag("--log-level"))));
    assert!(sources.contains(&("color", Source::Flag("--color"))));
    assert!(sources.contains(&("log_format", Source::Flag("--log-format"))));
}

#[test]
fn environment_and_file_redaction_keys_are_combined() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "[redact]\nkeys = [\"pin\", \" workflow \"]\n");
    let s = settings(dir.path(), &[("TELEMETRY_REDACT_KEYS", "sessionKey, pin")]);
    assert_eq!(s.redact_keys().value(), &["sessionKey", "pin", "workflow"]);
    assert_eq!(
        s.redact_keys().source(),
        Source::Env("TELEMETRY_REDACT_KEYS")
    );
    assert_eq!(
        s.logger_config().redact_keys,
        ["sessionKey", "pin", "workflow"]
    );
}

#[test]
fn an_unusable_value_is_a_problem_that_keeps_telemetry_off_and_the_rest_visible() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "[redact]\nkeys = [\"pin\"]\n");
    let s = settings(
        dir.path(),
        &[
            ("TELEMETRY_ENABLED", "1"),
            ("TELEMETRY_MAX_SPOOL_BYTES", "-1"),
        ],
    );
    assert!(!s.switch().enabled());
    assert_eq!(s.switch().decided_by().key(), "configuration error");
    assert!(s.has_configuration_error());
    assert_eq!(
        s.dir(),
        Some(dir.path().join("telemetry")),
        "the folder is still known"
    );
    assert_eq!(
        s.redact_keys().value(),
        &["pin"],
        "the file's keys still apply"
    );
    let told: Vec<String> = s.problems_to_tell().map(ToString::to_string).collect();
    assert_eq!(told.len(), 1);
    assert!(
        told[0].starts_with("TELEMETRY_MAX_SPOOL_BYTES: \"-1\" is not a size"),
        "{told:?}"
    );
}

#[test]
fn a_broken_file_is_named_with_its_line_and_its_redaction_keys_still_apply() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "salt_rotation_days = 0\n[redact]\nkeys = [\"pin\"]\n",
    );
    let s = settings(dir.path(), &[]);
    let path = dir.path().join(CONFIG_FILE_NAME);
    assert_eq!(s.redact_keys().value(), &["pin"]);
    let problem = s.problems()[0].to_string();
    assert!(
        problem.starts_with(&format!("{}:1: salt_rotation_days", path.display())),
        "{problem}"
    );
    assert_eq!(
        s.problems_to_tell().count(),
        0,
        "telemetry was not asked for"
    );
    assert!(s.has_configuration_error());
}

#[test]
fn unreadable_redaction_keys_are_told_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "[redact]\nkeys = \"pin\"\n");
    let s = settings(dir.path(), &[]);
    let told: Vec<&Problem> = s.problems_to_tell().collect();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].effect(), Effect::RedactionIncomplete);
    std::fs::remove_file(dir.path().join(CONFIG_FILE_NAME)).unwrap();
    crate::sys::mkfifo(&dir.path().join(CONFIG_FILE_NAME)).unwrap();
    let fifo = settings(dir.path(), &[]);
    assert!(
        fifo.problems_to_tell()
            .any(|p| p.to_string().contains("a FIFO"))
    );
}

#[test]
fn a_relative_home_is_made_absolute_once() {
    let s = Settings::builder()
        .environment(Environment::from_pairs([("CODEMACHINE_HOME", "rel/home")]))
        .build();
    let home = s.home().unwrap().value();
    assert!(
        home.is_absolute() && home.ends_with("rel/home"),
        "{}",
        home.display()
    );
}

#[test]
fn no_home_is_a_problem_not_a_failure() {
    let s = Settings::builder()
        .environment(Environment::from_pairs([("TELEMETRY_ENABLED", "1")]))
        .build();
    assert!(s.home().is_none() && s.dir().is_none());
    assert!(!s.switch().enabled());
    assert!(
        s.problems()[0]
            .to_string()
            .contains("neither CODEMACHINE_HOME nor HOME")
    );
}

#[test]
fn colour_follows_no_color_even_blank_and_a_dumb_terminal() {
    let color = |vars: &[(&str, &str)]| {
        *Settings::builder()
            .environment(Environment::from_pairs(vars.iter().copied()))
            .build()
            .color()
            .value()
    };
    assert_eq!(color(&[]), ColorChoice::Auto);
    assert_eq!(color(&[("NO_COLOR", " ")]), ColorChoice::Never);
    assert_eq!(color(&[("NO_COLOR", "")]), ColorChoice::Auto);
    assert_eq!(color(&[("TERM", "dumb")]), ColorChoice::Never);
}

#[test]
fn logger_problems_become_warnings_and_use_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let s = Settings::builder()
        .environment(Environment::from_pairs([
            ("LOG_LEVEL", "loud"),
            ("LOG_FORMAT", "fancy"),
        ]))
        .home(dir.path())
        .build();
    let config = s.logger_config();
    assert_eq!(config.threshold, Some(DEFAULT_THRESHOLD));
    assert_eq!(config.format, FormatChoice::Json);
    assert_eq!(config.problems.len(), 2);
    assert!(
        !s.has_configuration_error(),
        "logger settings do not touch telemetry"
    );
}

#[test]
fn program_values_win_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let s = Settings::builder()
        .environment(Environment::from_pairs([(
            "TELEMETRY_MAX_SPOOL_BYTES",
            "1KiB",
        )]))
        .home(dir.path())
        .telemetry(true)
        .max_spool_bytes(10)
        .redact_keys(["pin"])
        .build();
    assert!(s.switch().enabled());
    assert_eq!(s.max_spool_bytes(), &Setting::new(10, Source::Api));
    assert_eq!(
        s.redact_keys(),
        &Setting::new(vec!["pin".to_owned()], Source::Api)
    );
    assert_eq!(s.home().unwrap().source(), Source::Api);
}
