//! The anonymous id: HMAC-SHA-256 of the machine fingerprint under a random local salt.
//!
//! The salt (32 random bytes) lives in `state/salt` (`0600`) with its creation time. When it is
//! older than the rotation period, a new salt replaces it (written to a temporary file, then
//! renamed over the old one, so the old salt is gone from the folder) and the id changes: events
//! from two periods cannot be linked. Neither the fingerprint nor the salt ever appears in an
//! event. Rotation happens under an exclusive lock on `state/salt.lock`, so concurrent processes
//! agree on one salt.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::ids::hex;
use super::storage::{MAX_STATE_BYTES, io_error, open_state_file, read_state_file};
use crate::error::Result;

const DAY_MS: u64 = 86_400_000;
/// Binds the hash to its purpose, so the same salt could never produce this id elsewhere.
const CONTEXT: &[u8] = b"codemachine-anon-id-v1\0";

/// The id events carry, and when it will change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// 32 hex digits (the first 128 bits of the HMAC).
    pub anon_id: String,
    /// When the salt, and so the id, will be replaced (epoch milliseconds).
    pub rotates_at_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct SaltFile {
    created_ms: u64,
    salt: String,
}

/// Loads the salt in `state_dir` (creating or rotating it as needed at `now_ms`) and derives
/// the id of `fingerprint`.
pub(crate) fn load_or_rotate(
    state_dir: &Path,
    now_ms: u64,
    rotation_days: u32,
    fingerprint: &[u8],
) -> Result<Identity> {
    let period_ms = u64::from(rotation_days.max(1)) * DAY_MS;
    let lock_path = state_dir.join("salt.lock");
    let lock = open_private(&lock_path)?;
    lock.lock().map_err(io_error(&lock_path))?;
    let salt_path = state_dir.join("salt");
    let current = read_salt(&salt_path).filter(|s| {
        now_ms >= s.created_ms && now_ms - s.created_ms < period_ms && s.salt.len() == 64
    });
    let salt = match current {
        Some(salt) => salt,
        None => write_new_salt(state_dir, &salt_path, now_ms)?,
    };
    Ok(Identity {
        anon_id: derive(&salt.salt, fingerprint),
        rotates_at_ms: salt.created_ms + period_ms,
    })
}

/// Reads the current salt without creating or rotating anything (for `status`).
pub(crate) fn peek(state_dir: &Path, rotation_days: u32, fingerprint: &[u8]) -> Option<Identity> {
    let salt = read_salt(&state_dir.join("salt"))?;
    Some(Identity {
        anon_id: derive(&salt.salt, fingerprint),
        rotates_at_ms: salt.created_ms + u64::from(rotation_days.max(1)) * DAY_MS,
    })
}

fn derive(salt_hex: &str, fingerprint: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt_hex.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(CONTEXT);
    mac.update(fingerprint);
    hex(&mac.finalize().into_bytes()[..16])
}

fn read_salt(path: &Path) -> Option<SaltFile> {
    let text = read_state_file(path, MAX_STATE_BYTES)?;
    serde_json::from_str(&text).ok()
}

fn write_new_salt(state_dir: &Path, salt_path: &Path, now_ms: u64) -> Result<SaltFile> {
    let random = crate::sys::random_bytes::<32>().map_err(io_error(salt_path))?;
    let salt = SaltFile {
        created_ms: now_ms,
        salt: hex(&random),
    };
    let tmp = state_dir.join(format!(".salt.{}.tmp", std::process::id()));
    let written = write_salt_file(&tmp, &salt)
        .and_then(|()| std::fs::rename(&tmp, salt_path).map_err(io_error(salt_path)));
    if written.is_err() {
        // A full or failing disk must not leave half-written salts behind.
        let _ = std::fs::remove_file(&tmp);
    }
    written.map(|()| salt)
}

fn write_salt_file(path: &Path, salt: &SaltFile) -> Result<()> {
    let mut file = open_private(path)?;
    file.set_len(0).map_err(io_error(path))?;
    let text = serde_json::to_string(salt).map_err(|e| io_error(path)(std::io::Error::other(e)))?;
    file.write_all(text.as_bytes()).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

fn open_private(path: &Path) -> Result<File> {
    open_state_file(path, true).map_err(io_error(path))
}

/// What identifies this machine: `/etc/machine-id` (systemd), the D-Bus machine id, or the host
/// name. It never leaves the machine: only its keyed hash does.
pub(crate) fn machine_fingerprint() -> Vec<u8> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .unwrap_or_else(crate::host_name)
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINGERPRINT: &[u8] = b"obviously-fake-machine-id";

    #[test]
    fn the_id_is_stable_within_a_period_and_changes_across_it() {
        let dir = tempfile::tempdir().unwrap();
        let day0 = 1_700_000_000_000;
        let first = load_or_rotate(dir.path(), day0, 30, FINGERPRINT).unwrap();
        let later = load_or_rotate(dir.path(), day0 + 29 * DAY_MS, 30, FINGERPRINT).unwrap();
        assert_eq!(first, later);
        assert_eq!(first.rotates_at_ms, day0 + 30 * DAY_MS);
        let old_salt = std::fs::read_to_string(dir.path().join("salt")).unwrap();
        let rotated = load_or_rotate(dir.path(), day0 + 30 * DAY_MS, 30, FINGERPRINT).unwrap();
        assert_ne!(rotated.anon_id, first.anon_id);
        assert_eq!(rotated.rotates_at_ms, day0 + 60 * DAY_MS);
        let new_salt = std::fs::read_to_string(dir.path().join("salt")).unwrap();
        assert_ne!(old_salt, new_salt, "the old salt is replaced");
        assert_eq!(peek(dir.path(), 30, FINGERPRINT), Some(rotated));
    }

    #[test]
    fn the_id_reveals_neither_fingerprint_nor_salt() {
        let dir = tempfile::tempdir().unwrap();
        let id = load_or_rotate(dir.path(), 1, 30, FINGERPRINT).unwrap();
        let salt = read_salt(&dir.path().join("salt")).unwrap().salt;
        assert_eq!(id.anon_id.len(), 32);
        assert!(!id.anon_id.contains(&salt[..8]) && !id.anon_id.contains("fake"));
        assert_ne!(id.anon_id, derive(&salt, b"another-machine"));
    }

    #[test]
    fn a_clock_set_back_or_a_corrupt_salt_gets_a_new_salt() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_rotate(dir.path(), 10 * DAY_MS, 30, FINGERPRINT).unwrap();
        let back = load_or_rotate(dir.path(), DAY_MS, 30, FINGERPRINT).unwrap();
        assert_ne!(first.anon_id, back.anon_id);
        std::fs::write(dir.path().join("salt"), "garbage").unwrap();
        let fresh = load_or_rotate(dir.path(), DAY_MS, 30, FINGERPRINT).unwrap();
        assert_ne!(fresh.anon_id, back.anon_id);
    }
}
