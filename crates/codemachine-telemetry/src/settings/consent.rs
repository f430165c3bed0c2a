//! Writing the user's consent into the config file: `telemetry enable [--local-only]` and
//! `telemetry disable`.
//!
//! The file is edited in place with `toml_edit`, so its comments, other keys and layout stay as
//! the user wrote them; only `consent` and `consent_date` change. It is written atomically (a
//! temporary file beside it, fsynced, renamed over it) and through a symbolic link to its target
//! (a dotfile manager's link keeps working). A new file is created `0600`.
//!
//! The decision a reader must know: **the rewrite keeps the file's identity or does not happen.**
//! A rename replaces the file whatever its mode, so the checks are ours to make: a file that is
//! not valid TOML is not touched (the user fixes it first); a file without its owner's write bit
//! was protected on purpose and is refused (make it writable, or edit it); a writable file keeps
//! its permission bits and its owner (a rewrite under `sudo` must not hand the user's file to
//! root), and when its owner cannot be kept, it is refused rather than taken over.

use std::fs::{Metadata, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, value};

use super::file::read_bounded_with_metadata;
use super::switch::Mode;
use crate::metrics::storage::{DIR_MODE, FILE_MODE};

/// Why the consent could not be written. In every case the file is as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The config file cannot be read or is not TOML.
    #[error("cannot update {}: it {reason}; fix or remove it first", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The config file has no write bit for its owner: someone protected it on purpose.
    #[error(
        "cannot update {}: it is read-only (mode {mode:04o}), so it was left as it is; make it writable (chmod u+w) or write consent = \"{wanted}\" in it yourself",
        path.display()
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The consent that was asked for (`on`, `local`, `off`).
        wanted: &'static str,
    },
    /// The config file belongs to someone whose ownership a rewrite could not keep.
    #[error(
        "cannot update {}: it belongs to uid {uid}, and rewriting it would make it yours; ask its owner to set consent = \"{wanted}\" in it, or remove it",
        path.display()
    )]
    ForeignOwner {
        /// The file.
        path: PathBuf,
        /// Its owner.
        uid: u32,
        /// The consent that was asked for.
        wanted: &'static str,
    },
    /// Writing failed.
    #[error("cannot write {}: {}", path.display(), crate::terminal::describe_io(error))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
}

/// Writes `consent = mode` and `consent_date = date` (RFC 3339) into the config file at `path`,
/// keeping everything else in it, its permission bits and its owner.
pub fn write_consent(path: &Path, mode: Mode, date: &str) -> Result<(), ConsentError> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let unreadable = |reason: String| ConsentError::Unreadable {
        path: target.clone(),
        reason,
    };
    let existing = read_bounded_with_metadata(&target).map_err(&unreadable)?;
    let (text, kept) = match existing {
        Some((text, meta)) => (text, Some(meta)),
        None => (String::new(), None),
    };
    if let Some(meta) = &kept
        && meta.mode() & 0o200 == 0
    {
        return Err(ConsentError::ReadOnly {
            path: target,
            mode: meta.mode() & 0o7777,
            wanted: mode.as_str(),
        });
    }
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        unreadable(format!(
            "is not valid TOML ({})",
            e.message().lines().next().unwrap_or("")
        ))
    })?;
    doc["consent"] = value(mode.as_str());
    doc["consent_date"] = value(date);
    write_atomically(&target, doc.to_string().as_bytes(), kept.as_ref(), mode)
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`. The temporary
/// file takes the mode and owner of `existing` (the file it replaces), else [`FILE_MODE`].
fn write_atomically(
    path: &Path,
    bytes: &[u8],
    existing: Option<&Metadata>,
    wanted: Mode,
) -> Result<(), ConsentError> {
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
        .map_err(io)
        .and_then(|mut file| {
            if let Some(meta) = existing {
                keep_identity(&file, meta, path, wanted)?;
            }
            file.write_all(bytes).map_err(io)?;
            file.sync_all().map_err(io)
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(io));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Gives the new file the permission bits and owner of the one it replaces. Bits are set after
/// creation (creation is `0600`), so the new content is never readable more widely than the old.
fn keep_identity(
    file: &std::fs::File,
    old: &Metadata,
    path: &Path,
    wanted: Mode,
) -> Result<(), ConsentError> {
    let io = |error| ConsentError::Io {
        path: path.to_owned(),
        error,
    };
    let new = file.metadata().map_err(io)?;
    let kept = (new.uid(), new.gid()) == (old.uid(), old.gid())
        || std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).is_ok();
    // A group we could not keep (one we are no longer in) leaves the file ours: not a refusal.
    if !kept && new.uid() != old.uid() {
        return Err(ConsentError::ForeignOwner {
            path: path.to_owned(),
            uid: old.uid(),
            wanted: wanted.as_str(),
        });
    }
    // After fchown, which clears set-id bits; only the permission bits are carried over.
    file.set_permissions(Permissions::from_mode(old.mode() & 0o777))
        .map_err(io)
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

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_read_only_file_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.toml");
        std::fs::write(&path, "# mine, protected\n").unwrap();
        for protected in [0o400, 0o444, 0o440] {
            std::fs::set_permissions(&path, Permissions::from_mode(protected)).unwrap();
            let err = write_consent(&path, Mode::Off, "d").unwrap_err();
            assert!(matches!(err, ConsentError::ReadOnly { .. }), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains("read-only")
                    && message.contains("chmod u+w")
                    && message.contains("consent = \"off\""),
                "{message}"
            );
            assert_eq!(mode_of(&path), protected);
            std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                "# mine, protected\n"
            );
        }
    }

    #[test]
    fn a_rewritten_file_keeps_its_permission_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.toml");
        for bits in [0o600, 0o640, 0o644, 0o604] {
            std::fs::write(&path, "# kept\n").unwrap();
            std::fs::set_permissions(&path, Permissions::from_mode(bits)).unwrap();
            write_consent(&path, Mode::On, "d").unwrap();
            assert_eq!(mode_of(&path), bits, "{bits:o}");
            std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains("# kept") && text.contains("consent = \"on\""));
        }
    }

    #[test]
    fn a_rewritten_file_keeps_its_owner_when_root_rewrites_it() {
        if crate::sys::current_uid() != 0 {
            eprintln!("skipped: giving a file to another user needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.toml");
        std::fs::write(&path, "# alice's\n").unwrap();
        std::os::unix::fs::chown(&path, Some(1000), Some(1000)).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        write_consent(&path, Mode::Local, "d").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
        assert_eq!(
            meta.mode() & 0o7777,
            0o640,
            "fchown cleared nothing we keep"
        );
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
