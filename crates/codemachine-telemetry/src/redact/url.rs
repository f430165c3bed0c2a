//! Credentials in URLs: `scheme://user:password@host`, `//user:password@host`, with escaped
//! slashes (`https:\/\/`) or percent-encoded (`https%3A%2F%2Fuser%3Apass%40host`).
//!
//! The password is everything between the first colon after the slashes and the last `@` before
//! the next white space, so passwords holding `@ # / ? ' "` go whole. Two look-alikes are not
//! passwords: `host:digits` followed by `/`, `?`, `#` or the end is a port
//! (`http://localhost:3000/users?email=a@example.com`), and an `@` starting a container digest
//! (`nginx:1.25@sha256:…`). A user part holding `/`, `?` or `#` is a path, not a user. A user
//! with no password that looks like a token (`https://<40 hex>@github.com`) goes itself.
//!
//! A `[REDACTED]` left by an earlier pass ends the URL like white space does: a redaction that
//! removed a line break must not make a second pass read two runs as one URL.

use super::scan::{Alpha, Find, REDACTED, Scan, work};

/// A user part of a URL this long, with letters and digits and without a password, is a token.
const MIN_TOKEN_USER: usize = 20;

/// A user part this long is a token too when it holds digits, capitals and small letters
/// (`https://QBXEd8pKLXE9zgZk@github.com`); names of 16 to 19 characters rarely mix all three.
const MIN_MIXED_TOKEN_USER: usize = 16;

/// The slashes (`//`, `\/\/`, `%2F%2F`) at `i`.
pub(crate) fn at_slashes(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let rest = &bytes[i..];
    let authority = if rest.starts_with(b"//") {
        i + 2
    } else if rest.starts_with(b"\\/\\/") {
        i + 4
    } else if rest
        .get(..6)
        .is_some_and(|r| r.eq_ignore_ascii_case(b"%2F%2F"))
    {
        i + 6
    } else {
        return None;
    };
    let run_end = url_end(scan, authority);
    let (at, at_len) = last_at(scan, authority, run_end)?;
    let Some((colon, colon_len)) = first_colon(scan, authority, at) else {
        return token_user(scan, authority, at);
    };
    if scan.next_of(Find::PathStart, authority) < colon {
        return None;
    }
    let password = colon + colon_len..at;
    if password.is_empty()
        || is_port(bytes, password.start, run_end)
        || is_digest(&bytes[at + at_len..])
    {
        return None;
    }
    // The user stays, unless it is a secret itself (`https://ghp_…:x-oauth-basic@github.com`).
    if scan.has_shape(authority..colon) {
        scan.redact(authority..colon);
    }
    Some(scan.redact(password))
}

/// A user without a password that is a token itself (`https://<token>@github.com`, how git
/// hosts accept a token): letters, digits and `_`, at least [`MIN_TOKEN_USER`] of them with
/// both digits and letters, or at least [`MIN_MIXED_TOKEN_USER`] with digits, capitals and small
/// letters. Names (`alice`, `git`, `deploy`, `first.last`, `ci_runner_2024`) stay.
fn token_user(scan: &mut Scan<'_, '_>, authority: usize, at: usize) -> Option<usize> {
    if scan.next_of(Find::PathStart, authority) < at || at - authority < MIN_MIXED_TOKEN_USER {
        return None;
    }
    if scan.run_end(Alpha::Word, authority) != at {
        return None;
    }
    let user = &scan.bytes[authority..at.min(authority + 128)];
    let has = |f: fn(&u8) -> bool| user.iter().any(f);
    let token = if at - authority >= MIN_TOKEN_USER {
        has(u8::is_ascii_digit) && has(u8::is_ascii_alphabetic)
    } else {
        has(u8::is_ascii_digit) && has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase)
    };
    token.then(|| scan.redact(authority..at))
}

/// True when the key starting at `key_start` is a parameter of a URL's query: right after `?`,
/// `&` or `&amp;`, in a run of non-space text whose first `?` comes after a `/` (`https://h/p?…`,
/// `GET /cb?…`, `https:\/\/h\/p?…`) and before the key. The answer for a run is worked out
/// once and memoised ([`Scan::query`]), so a run is read at most twice whatever it holds.
pub(crate) fn in_query(scan: &mut Scan<'_, '_>, key_start: usize) -> bool {
    let bytes = scan.bytes;
    let after_separator = key_start > 0
        && (matches!(bytes[key_start - 1], b'?' | b'&') || bytes[..key_start].ends_with(b"&amp;"));
    if !after_separator {
        return false;
    }
    let run_end = scan.next_of(Find::Space, key_start);
    let question = match scan.query {
        Some((end, question)) if end == run_end => question,
        _ => {
            let mut start = key_start;
            while start > 0 && !bytes[start - 1].is_ascii_whitespace() {
                start -= 1;
            }
            let mut slash = false;
            let mut question = None;
            for (j, b) in bytes[start..run_end].iter().enumerate() {
                match b {
                    b'/' => slash = true,
                    b'?' if slash => {
                        question = Some(start + j);
                        break;
                    }
                    _ => {}
                }
            }
            work(run_end - start + 1);
            scan.query = Some((run_end, question));
            question
        }
    };
    question.is_some_and(|q| q < key_start)
}

/// The next white space or `[REDACTED]` at or after `from`.
fn url_end(scan: &mut Scan<'_, '_>, from: usize) -> usize {
    let space = scan.next_of(Find::Space, from);
    let mut bracket = scan.next_of(Find::OpenBracket, from);
    while bracket < space && !scan.bytes[bracket..].starts_with(REDACTED.as_bytes()) {
        bracket = scan.next_of(Find::OpenBracket, bracket + 1);
    }
    space.min(bracket)
}

/// The last `@` (or `%40`) in `from..run_end`, memoised per run of non-space bytes.
fn last_at(scan: &mut Scan<'_, '_>, from: usize, run_end: usize) -> Option<(usize, usize)> {
    let found = match scan.last_at {
        Some((end, found)) if end == run_end => found,
        _ => {
            let found = find_last_at(scan.bytes, run_end);
            scan.last_at = Some((run_end, found));
            found
        }
    };
    let at = found.filter(|at| *at >= from)?;
    Some((at, if scan.bytes[at] == b'@' { 1 } else { 3 }))
}

/// Back from `run_end` to the previous white space or `[REDACTED]`: the last `@` or `%40`.
fn find_last_at(bytes: &[u8], run_end: usize) -> Option<usize> {
    let mut j = run_end;
    while j > 0
        && !bytes[j - 1].is_ascii_whitespace()
        && !(bytes[j - 1] == b']' && bytes[..j].ends_with(REDACTED.as_bytes()))
    {
        work(1);
        j -= 1;
        if bytes[j] == b'@' {
            return Some(j);
        }
        if bytes[j] == b'%' && bytes.get(j + 1..j + 3).is_some_and(|c| c == b"40") {
            return Some(j);
        }
    }
    None
}

/// The first `:` (or `%3A`) in `from..before`.
fn first_colon(scan: &mut Scan<'_, '_>, from: usize, before: usize) -> Option<(usize, usize)> {
    let mut j = scan.next_of(Find::Colon, from);
    while j < before {
        if scan.bytes[j] == b':' {
            return Some((j, 1));
        }
        if scan
            .bytes
            .get(j + 1..j + 3)
            .is_some_and(|c| c.eq_ignore_ascii_case(b"3a"))
        {
            return Some((j, 3));
        }
        j = scan.next_of(Find::Colon, j + 1);
    }
    None
}

/// `digits` then `/`, `?`, `#` (plain, escaped or encoded) or the end of the URL: a port.
fn is_port(bytes: &[u8], start: usize, run_end: usize) -> bool {
    let digits = bytes[start..run_end.min(start + 6)]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=5).contains(&digits) {
        return false;
    }
    let after = &bytes[start + digits..run_end];
    after.is_empty()
        || matches!(after[0], b'/' | b'?' | b'#')
        || after.starts_with(b"\\/")
        || after.get(..3).is_some_and(|c| {
            [&b"%2f"[..], b"%3f", b"%23"]
                .iter()
                .any(|e| c.eq_ignore_ascii_case(e))
        })
}

/// `sha256:…` and friends after an `@`: a container image digest, not a host.
fn is_digest(after_at: &[u8]) -> bool {
    ["sha256:", "sha384:", "sha512:", "sha1:", "blake3:"]
        .iter()
        .any(|d| after_at.starts_with(d.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_digests_are_not_passwords() {
        let t = b"3000/users";
        assert!(is_port(t, 0, t.len()));
        assert!(is_port(b"8080", 0, 4));
        assert!(!is_port(b"1.25", 0, 4));
        assert!(!is_port(b"hunter2", 0, 7));
        assert!(is_digest(b"sha256:abc"));
        assert!(!is_digest(b"db.local"));
    }
}
