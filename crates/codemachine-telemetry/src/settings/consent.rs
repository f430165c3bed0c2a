//! Writing the user's consent into the config file: `telemetry enable [--local-only]` and
//! `telemetry disable`.
//!
//! The file is edited in place with `toml_edit`, so its comments, other keys and layout stay as
//! the user wrote them; only `consent` and `consent_date` change. It is written atomically (a
//! temporary file beside it, fsynced, renamed over it), created `0600` when new, and through a
//! symbolic link to its target (a dotfile manager's link keeps working). A file that is not valid
//! TOML is not touched: the user fixes it first.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, value};

use super::file::read_bounded;
use super::switch::Mode;
use crate::metrics::storage::{DIR_MODE, FILE_MODE};

/// Why the consent could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The config file cannot be read or is not TOML; it was left as it is.
    #[error("cannot update {}: it {reason}; fix or remove it first", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing failed; the file is as it was.
    #[error("cannot write {}: {}", path.display(), crate::terminal::describe_io(error))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
}

/// Writes `consent = mode` and `consent_date = date` (RFC 3339) into the config file at `path`,
/// keeping everything else in it.
pub fn write_consent(path: &Path, mode: Mode, date: &str) -> Result<(), ConsentError> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let unreadable = |reason: String| ConsentError::Unreadable {
        path: target.clone(),
        reason,
    };
    let text = read_bounded(&target)
        .map_err(&unreadable)?
        .unwrap_or_default();
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        unreadable(format!(
            "is not valid TOML ({})",
            e.message().lines().next().unwrap_or("")
        ))
    })?;
    doc["consent"] = value(mode.as_str());
    doc["consent_date"] = value(date);
    write_atomically(&target, doc.to_string().as_bytes())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConsentError> {
    let io = |error| ConsentError::Io {
        path: path.to_owned(),
        error,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        // Only the config file's own folder (`~/.codemachine`): never a home that is missing.
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(false)
            .mode(DIR_MODE)
            .create(dir)
            .map_err(io)?;
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("telemetry.toml");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_is_written_keeping_comments_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.toml");
        std::fs::write(
            &path,
            "# my settings\nmax_spool_bytes = \"1MiB\" # small\n\n[redact]\n# keys we add\nkeys = [\"pin\"]\n",
        )
        .unwrap();
        write_consent(&path, Mode::Local, "2026-11-28T09:00:00.000Z").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for kept in [
            "# my settings",
            "max_spool_bytes = \"1MiB\" # small",
            "# keys we add",
            "keys = [\"pin\"]",
        ] {
            assert!(text.contains(kept), "{kept}: {text}");
        }
        let layer = super::super::file::parse(&text);
        assert_eq!(layer.consent, Some(Mode::Local));
        assert_eq!(
            layer.consent_date.as_deref(),
            Some("2026-11-28T09:00:00.000Z")
        );
        assert!(layer.problems.is_empty(), "{:?}", layer.problems);
        write_consent(&path, Mode::Off, "2026-11-29T09:00:00.000Z").unwrap();
        let again = super::super::file::parse(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(again.consent, Some(Mode::Off));
        assert_eq!(again.redact_keys, Some(vec!["pin".to_owned()]));
    }

    #[test]
    fn a_new_file_is_private_and_a_broken_one_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home/telemetry.toml");
        write_consent(&path, Mode::On, "d").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            FILE_MODE
        );
        std::fs::write(&path, "consent = [\n").unwrap();
        let err = write_consent(&path, Mode::Off, "d")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid TOML"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "consent = [\n");
    }

    #[test]
    fn a_linked_file_is_written_through_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles.toml");
        std::fs::write(&real, "# kept\n").unwrap();
        let link = dir.path().join("telemetry.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_consent(&link, Mode::On, "d").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::read_to_string(&real)
                .unwrap()
                .contains("consent = \"on\"")
        );
    }
}
