//! The machine policy: what an administrator allows on this machine, at most.
//!
//! `/etc/codemachine/policy.toml`, honoured only when owned by root and not writable by group or
//! others; `CODEMACHINE_POLICY_FILE` names one more file, which may also be owned by the user
//! running the command (it can only restrict further). Both apply; the stricter wins. A policy
//! can only restrict:
//!
//! ```toml
//! telemetry = "local"                        # "off" | "local" | "user": the most it allows
//! endpoint = "https://collector.example"     # an allow-list of one (it never sets the endpoint)
//! max_spool_bytes = "16MiB"                  # an upper bound
//!
//! [redact]
//! keys = ["tenantId"]                        # added (not an override that needs documenting)
//! ```
//!
//! A file that cannot be trusted (wrong owner, writable by others), read or parsed is ignored,
//! with a message on every command, and `status` exits 1: nothing is taken from it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::file::read_bounded;
use super::switch::{Cap, Mode};
use super::values::parse_size;

/// The administrator's policy file.
pub const SYSTEM_POLICY_FILE: &str = "/etc/codemachine/policy.toml";

/// What one policy file says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// The most telemetry may do (`user`: no cap).
    pub telemetry: Option<Mode>,
    /// The only endpoint allowed.
    pub endpoint: Option<String>,
    /// Redaction keys added.
    pub redact_keys: Vec<String>,
    /// An upper bound on the folder's size.
    pub max_spool_bytes: Option<u64>,
}

/// One policy file and whether it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFile {
    /// The file.
    pub path: PathBuf,
    /// `None` when it applies; why it was ignored otherwise.
    pub ignored: Option<String>,
    /// What it says (empty when ignored).
    pub rules: Rules,
}

/// Every policy file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    files: Vec<PolicyFile>,
}

impl Policy {
    /// Reads the system file (if present) and `extra` (`CODEMACHINE_POLICY_FILE`, which must
    /// exist when named).
    pub fn load(extra: Option<&Path>, uid: u32) -> Policy {
        Policy::load_from(Path::new(SYSTEM_POLICY_FILE), extra, uid)
    }

    pub(crate) fn load_from(system: &Path, extra: Option<&Path>, uid: u32) -> Policy {
        let mut files = Vec::new();
        if system.symlink_metadata().is_ok() {
            files.push(read_policy(system, &[0]));
        }
        if let Some(extra) = extra {
            files.push(read_policy(extra, &[0, uid]));
        }
        Policy { files }
    }

    /// Every file, applied or ignored.
    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    fn applied(&self) -> impl Iterator<Item = &PolicyFile> {
        self.files.iter().filter(|f| f.ignored.is_none())
    }

    /// The strictest `telemetry` rule, with its file.
    pub fn cap(&self) -> Option<Cap> {
        self.applied()
            .filter_map(|f| Some((f.rules.telemetry?, f)))
            .min_by_key(|(mode, _)| *mode)
            .map(|(mode, f)| Cap {
                mode,
                file: f.path.display().to_string(),
            })
    }

    /// The endpoint allowed: `Ok(None)` when no file restricts it, `Err` when two files allow
    /// different ones (then none is).
    pub fn endpoint(&self) -> Result<Option<(&str, &Path)>, String> {
        let mut allowed = self
            .applied()
            .filter_map(|f| Some((f.rules.endpoint.as_deref()?, f.path.as_path())));
        let Some(first) = allowed.next() else {
            return Ok(None);
        };
        match allowed.find(|(e, _)| e.trim() != first.0.trim()) {
            Some(other) => Err(format!(
                "the policies {} and {} allow different endpoints",
                first.1.display(),
                other.1.display()
            )),
            None => Ok(Some(first)),
        }
    }

    /// Every key the policies add.
    pub fn redact_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for key in self.applied().flat_map(|f| f.rules.redact_keys.iter()) {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    }

    /// The lowest upper bound on the folder's size, with its file.
    pub fn max_spool_bytes(&self) -> Option<(u64, &Path)> {
        self.applied()
            .filter_map(|f| Some((f.rules.max_spool_bytes?, f.path.as_path())))
            .min_by_key(|(bytes, _)| *bytes)
    }

    /// The files that were ignored, with why.
    pub fn ignored(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files
            .iter()
            .filter_map(|f| Some((f.path.as_path(), f.ignored.as_deref()?)))
    }

    /// For `status`: each file, whether it applies, and its rules.
    pub fn to_json(&self) -> Option<Json> {
        if self.files.is_empty() {
            return None;
        }
        let files: Vec<Json> = self
            .files
            .iter()
            .map(|f| {
                json!({
                    "path": f.path,
                    "applied": f.ignored.is_none(),
                    "ignored_because": f.ignored,
                    "rules": {
                        "telemetry": f.rules.telemetry.map(|m| if m == Mode::On { "user" } else { m.as_str() }),
                        "endpoint": f.rules.endpoint,
                        "redact_keys": f.rules.redact_keys,
                        "max_spool_bytes": f.rules.max_spool_bytes,
                    },
                })
            })
            .collect();
        Some(json!({ "files": files }))
    }
}

fn read_policy(path: &Path, owners: &[u32]) -> PolicyFile {
    let ignored = |why: String| PolicyFile {
        path: path.to_owned(),
        ignored: Some(why),
        rules: Rules::default(),
    };
    if let Err(why) = check_trust(path, owners) {
        return ignored(why);
    }
    let text = match read_bounded(path) {
        Ok(Some(text)) => text,
        Ok(None) => return ignored("it does not exist".to_owned()),
        Err(why) => return ignored(format!("it {why}")),
    };
    match parse(&text) {
        Ok(rules) => PolicyFile {
            path: path.to_owned(),
            ignored: None,
            rules,
        },
        Err(why) => ignored(why),
    }
}

/// Owned by one of `owners` and not writable by group or others.
fn check_trust(path: &Path, owners: &[u32]) -> Result<(), String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("it cannot be read: {}", crate::terminal::describe_io(&e)))?;
    if !owners.contains(&meta.uid()) {
        let who = if owners.len() > 1 {
            "root or you"
        } else {
            "root"
        };
        return Err(format!(
            "it is owned by uid {}, not {who}: not trusted",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "it is writable by group or others ({:04o}): not trusted",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

/// The rules of a policy file; an unknown key or a wrong value makes the whole file unusable
/// (an administrator's file is either right or fixed).
fn parse(text: &str) -> Result<Rules, String> {
    let table = DeTable::parse(text).map_err(|e| {
        format!(
            "it is not valid TOML: {}",
            e.message().lines().next().unwrap_or("")
        )
    })?;
    let mut rules = Rules::default();
    for (key, value) in table.get_ref().iter() {
        match key.get_ref().as_ref() {
            "telemetry" => rules.telemetry = Some(telemetry_rule(value)?),
            "endpoint" => rules.endpoint = Some(string(value, "endpoint")?),
            "max_spool_bytes" => rules.max_spool_bytes = Some(size(value)?),
            "redact" => rules.redact_keys = redact_keys(value)?,
            other => {
                return Err(format!(
                    "unknown key {} (known: telemetry, endpoint, max_spool_bytes, [redact] keys)",
                    crate::terminal::shown_value(other)
                ));
            }
        }
    }
    Ok(rules)
}

fn string(value: &Spanned<DeValue<'_>>, key: &str) -> Result<String, String> {
    value
        .get_ref()
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{key} must be a string"))
}

fn telemetry_rule(value: &Spanned<DeValue<'_>>) -> Result<Mode, String> {
    match string(value, "telemetry")?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "off" => Ok(Mode::Off),
        "local" => Ok(Mode::Local),
        "user" => Ok(Mode::On),
        _ => Err("telemetry must be \"off\", \"local\" or \"user\"".to_owned()),
    }
}

fn size(value: &Spanned<DeValue<'_>>) -> Result<u64, String> {
    match value.get_ref() {
        DeValue::Integer(n) => u64::from_str_radix(n.as_str(), n.radix())
            .map_err(|_| "max_spool_bytes must be 0 or more".to_owned()),
        DeValue::String(s) => parse_size(s).map_err(|e| format!("max_spool_bytes: {e}")),
        _ => {
            Err("max_spool_bytes must be a number of bytes or a size such as \"16MiB\"".to_owned())
        }
    }
}

fn redact_keys(value: &Spanned<DeValue<'_>>) -> Result<Vec<String>, String> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err("redact must be a table with keys = [...]".to_owned());
    };
    let mut keys = Vec::new();
    for (key, value) in table.iter() {
        if key.get_ref().as_ref() != "keys" {
            return Err(format!(
                "unknown key `redact.{}` (known: keys)",
                key.get_ref()
            ));
        }
        let DeValue::Array(items) = value.get_ref() else {
            return Err("redact.keys must be a list of strings".to_owned());
        };
        for item in items.iter() {
            let key = item
                .get_ref()
                .as_str()
                .ok_or("redact.keys must be a list of strings")?;
            if !key.trim().is_empty() {
                keys.push(key.trim().to_owned());
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn the_stricter_of_two_files_wins() {
        let dir = tempfile::tempdir().unwrap();
        let me = crate::sys::current_uid();
        let system = write(
            dir.path(),
            "system.toml",
            "telemetry = \"user\"\nmax_spool_bytes = \"16MiB\"\n[redact]\nkeys = [\"tenantId\"]\n",
            0o644,
        );
        let extra = write(
            dir.path(),
            "extra.toml",
            "telemetry = \"local\"\nmax_spool_bytes = 1000\n[redact]\nkeys = [\"pin\", \"tenantId\"]\n",
            0o600,
        );
        // The system file must be root's: as root in CI it is; the test checks ownership below.
        let policy = Policy::load_from(&system, Some(&extra), me);
        if me == 0 {
            assert_eq!(policy.cap().unwrap().mode, Mode::Local);
            assert_eq!(policy.max_spool_bytes().unwrap().0, 1000);
            assert_eq!(policy.redact_keys(), ["tenantId", "pin"]);
        } else {
            assert!(
                policy.files()[0]
                    .ignored
                    .as_deref()
                    .unwrap()
                    .contains("not root")
            );
        }
    }

    #[test]
    fn untrusted_unreadable_or_malformed_files_are_ignored_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let me = crate::sys::current_uid();
        let cases = [
            (
                "wide.toml",
                "telemetry = \"off\"\n",
                0o666,
                "writable by group or others",
            ),
            (
                "bad.toml",
                "telemetry = \"sometimes\"\n",
                0o600,
                "must be \"off\", \"local\" or \"user\"",
            ),
            ("unknown.toml", "endpoints = \"x\"\n", 0o600, "unknown key"),
            ("broken.toml", "telemetry = [\n", 0o600, "not valid TOML"),
        ];
        for (name, text, mode, why) in cases {
            let path = write(dir.path(), name, text, mode);
            let policy = Policy::load_from(Path::new("/nonexistent/policy.toml"), Some(&path), me);
            let reason = policy.files()[0].ignored.clone().unwrap_or_default();
            assert!(reason.contains(why), "{name}: {reason}");
            assert!(policy.cap().is_none(), "{name}: nothing taken from it");
        }
        let missing = Policy::load_from(
            Path::new("/nonexistent/a"),
            Some(&dir.path().join("absent")),
            me,
        );
        assert!(missing.files()[0].ignored.is_some());
        let fifo = dir.path().join("fifo");
        crate::sys::mkfifo(&fifo).unwrap();
        let fifo_policy = Policy::load_from(Path::new("/nonexistent/a"), Some(&fifo), me);
        assert!(
            fifo_policy.files()[0]
                .ignored
                .as_deref()
                .unwrap()
                .contains("FIFO")
        );
    }

    #[test]
    fn conflicting_endpoints_allow_none() {
        let dir = tempfile::tempdir().unwrap();
        let me = crate::sys::current_uid();
        let a = write(
            dir.path(),
            "a.toml",
            "endpoint = \"https://a.example\"\n",
            0o600,
        );
        let b = write(
            dir.path(),
            "b.toml",
            "endpoint = \"https://b.example\"\n",
            0o600,
        );
        let one = Policy::load_from(Path::new("/nonexistent"), Some(&a), me);
        assert_eq!(one.endpoint().unwrap().unwrap().0, "https://a.example");
        let both = Policy {
            files: vec![
                one.files[0].clone(),
                Policy::load_from(Path::new("/nonexistent"), Some(&b), me).files[0].clone(),
            ],
        };
        assert!(both.endpoint().unwrap_err().contains("different endpoints"));
    }
}
