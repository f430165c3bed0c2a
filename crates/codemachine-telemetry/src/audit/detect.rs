//! What the audit looks for in a piece of text, besides secrets: e-mail addresses, IP
//! addresses, home-folder paths of any user, the current user's login name, this machine's host
//! name, and long high-entropy strings. Each detector returns the byte ranges it found; none
//! allocates per byte, and each is linear in the text.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::Kind;

/// Names the audit knows about this machine, to find them in data.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// The login name (`USER`/`LOGNAME`), when it is one worth looking for.
    pub user: Option<String>,
    /// The host name, when it is one worth looking for.
    pub host: Option<String>,
}

impl Identity {
    /// Keeps only names long and specific enough to mean something (`root`, `localhost` and
    /// names under three characters would match ordinary words).
    pub fn new(user: Option<String>, host: Option<String>) -> Identity {
        let useful =
            |name: &String, common: &[&str]| name.len() >= 3 && !common.contains(&name.as_str());
        Identity {
            user: user.filter(|u| useful(u, &["root", "user", "admin", "runner"])),
            host: host.filter(|h| useful(h, &["localhost", "host", "box"])),
        }
    }
}

/// Every finding of the detectors in `text` (host names only when `metrics` is true: a log
/// record's `hostname` field is expected there).
pub(crate) fn detect(
    text: &str,
    identity: &Identity,
    metrics: bool,
    out: &mut Vec<(Kind, Range<usize>)>,
) {
    emails(text, out);
    ip_addresses(text, out);
    home_paths(text, out);
    if let Some(user) = &identity.user {
        words(text, user, Kind::UserName, out);
    }
    if let (true, Some(host)) = (metrics, &identity.host) {
        words(text, host, Kind::HostName, out);
    }
    high_entropy(text, out);
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// `local@domain.tld`.
fn emails(text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = bytes[from..]
        .iter()
        .position(|b| *b == b'@')
        .map(|p| p + from)
    {
        from = at + 1;
        let start = at
            - bytes[..at]
                .iter()
                .rev()
                .take_while(|b| is_local_byte(**b))
                .count();
        let mut end = at
            + 1
            + bytes[at + 1..]
                .iter()
                .take_while(|b| is_domain_byte(**b))
                .count();
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &text[at + 1..end];
        let tld_ok = domain.rsplit_once('.').is_some_and(|(host, tld)| {
            !host.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        });
        if start < at && tld_ok {
            out.push((Kind::Email, start..end));
            from = end;
        }
    }
}

/// Dotted IPv4 addresses and IPv6 addresses, except loopback and unspecified ones.
fn ip_addresses(text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let token = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':'))
            .count();
        if token == 0 {
            i += 1;
            continue;
        }
        let glue = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let glued = (i > 0 && glue(bytes[i - 1])) || bytes.get(i + token).is_some_and(|b| glue(*b));
        let candidate = text[i..i + token].trim_end_matches(['.', ':']);
        if !glued && is_ip(candidate) {
            out.push((Kind::IpAddress, i..i + candidate.len()));
        }
        i += token;
    }
}

fn is_ip(text: &str) -> bool {
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return !v4.is_loopback() && !v4.is_unspecified() && text.split('.').all(|p| p.len() <= 3);
    }
    // At least two groups (`fe80::1`): `::ca` in `Trait::call` is a path, not an address.
    let groups = text.split(':').filter(|g| !g.is_empty()).count();
    groups >= 2
        && text.matches(':').count() >= 2
        && text
            .parse::<Ipv6Addr>()
            .is_ok_and(|v6| !v6.is_loopback() && !v6.is_unspecified())
}

/// `/home/<name>`, `/Users/<name>`, `C:\Users\<name>` (also JSON-escaped, `C:\\Users\\<name>`).
fn home_paths(text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
    for marker in ["/home/", "/Users/", "\\Users\\", "\\\\Users\\\\"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(marker).map(|p| p + from) {
            let name_start = at + marker.len();
            let name = text[name_start..]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                .count();
            let start = if marker.starts_with('\\') {
                // Take the drive letter with it: `C:\Users\…`.
                at.saturating_sub(2)
            } else {
                at
            };
            if name > 0 {
                out.push((Kind::HomePath, start..name_start + name));
            }
            from = name_start + name.max(1);
        }
    }
}

/// `word` where it stands as a word of its own (case-sensitive).
fn words(text: &str, word: &str, kind: Kind, out: &mut Vec<(Kind, Range<usize>)>) {
    let bytes = text.as_bytes();
    let glue = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|p| p + from) {
        let end = at + word.len();
        let before_ok = at == 0 || !glue(bytes[at - 1]);
        let after_ok = end == bytes.len() || !glue(bytes[end]);
        if before_ok && after_ok {
            out.push((kind, at..end));
        }
        from = end;
    }
}

/// The shortest run counted as a high-entropy string.
const MIN_ENTROPY_RUN: usize = 24;
/// Bits per character above which such a run looks random (gitleaks uses 3.5 for generic keys;
/// mixed-case base64 of random bytes is about 5.5, English words well under 4).
const MIN_BITS_PER_CHAR: f64 = 4.0;

/// Runs of base64/base64url characters at least [`MIN_ENTROPY_RUN`] long, mixing upper case,
/// lower case and digits, whose Shannon entropy is high: keys and tokens without a known shape.
/// Lower-case hexadecimal (our ids, hashes) and UUIDs never qualify.
fn high_entropy(text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
    let bytes = text.as_bytes();
    let in_run = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-');
    let mut i = 0;
    while i < bytes.len() {
        let len = bytes[i..].iter().take_while(|b| in_run(**b)).count();
        if len == 0 {
            i += 1;
            continue;
        }
        let run = &bytes[i..i + len];
        if len >= MIN_ENTROPY_RUN
            && mixes_classes(run)
            && entropy(run) >= MIN_BITS_PER_CHAR
            && !is_path_like(run)
        {
            out.push((Kind::HighEntropy, i..i + len));
        }
        i += len;
    }
}

fn mixes_classes(run: &[u8]) -> bool {
    run.iter().any(u8::is_ascii_uppercase)
        && run.iter().any(u8::is_ascii_lowercase)
        && run.iter().any(u8::is_ascii_digit)
}

/// A path of words (`src/Foo2Bar/Baz`) is not random: more than a quarter of the run are `/`
/// or `-` separators between word-like parts.
fn is_path_like(run: &[u8]) -> bool {
    let separators = run
        .iter()
        .filter(|b| matches!(b, b'/' | b'-' | b'_'))
        .count();
    separators * 4 > run.len()
}

fn entropy(run: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for b in run {
        counts[usize::from(*b)] += 1;
    }
    let n = run.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, identity: &Identity, metrics: bool) -> Vec<(Kind, String)> {
        let mut out = Vec::new();
        detect(text, identity, metrics, &mut out);
        out.into_iter()
            .map(|(k, r)| (k, text[r].to_owned()))
            .collect()
    }

    #[test]
    fn finds_each_kind() {
        let id = Identity::new(Some("alice".into()), Some("devbox-7".into()));
        let text = "mail bob.smith+x@example.co.uk from 203.0.113.9 and fe80::1ff:fe23:4567:890a in /home/carol/src, C:\\Users\\dave\\x, /Users/erin; alice on devbox-7 key Zx8kQ2mP9vL4nR7tW1yB6cD3fG5hJ0aS";
        let got = found(text, &id, true);
        let kinds: Vec<Kind> = got.iter().map(|(k, _)| *k).collect();
        for kind in [
            Kind::Email,
            Kind::IpAddress,
            Kind::HomePath,
            Kind::UserName,
            Kind::HostName,
            Kind::HighEntropy,
        ] {
            assert!(kinds.contains(&kind), "{kind:?} in {got:?}");
        }
        assert!(got.contains(&(Kind::Email, "bob.smith+x@example.co.uk".into())));
        assert!(
            got.contains(&(Kind::HomePath, "C:\\Users\\dave".into())),
            "{got:?}"
        );
        assert!(
            !found(text, &id, false)
                .iter()
                .any(|(k, _)| *k == Kind::HostName),
            "host names in metrics only"
        );
    }

    #[test]
    fn our_own_data_is_clean() {
        let event = r#"{"schema":1,"id":"01a21f1da00734b0603624aebdf39fed","ts":"2026-11-27T22:26:04.935Z","kind":"command","name":"logs.pretty","duration_ms":3,"exit_code":0,"count":1,"session_id":"8702098358fca1baca5a67b4a7b00e50","anon_id":"c69557dae91f9c1a67d0e7268940dc5d","cli_version":"0.1.0","os":"linux","arch":"x86_64"}"#;
        let log = r#"{"level":30,"time":1795816832123,"pid":4242,"hostname":"devbox","service":"codemachine","sessionId":"3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192","step":3,"durationMs":1234.5,"msg":"step completed at 12:34:56 v1.2.3 on 127.0.0.1:8080 see docs/logging.md"}"#;
        let id = Identity::new(Some("root".into()), Some("localhost".into()));
        assert!(
            found(event, &id, true).is_empty(),
            "{:?}",
            found(event, &id, true)
        );
        assert!(
            found(log, &id, false).is_empty(),
            "{:?}",
            found(log, &id, false)
        );
    }

    #[test]
    fn look_alikes_are_not_findings() {
        let id = Identity::default();
        for text in [
            "version 1.2.3.4.5",
            "time 10:20:30",
            "user@localhost",
            "a@b",
            "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "path crates/codemachine-telemetry/src/redact",
            "SomeLongCamelCaseIdentifierName",
            "::1 and 0.0.0.0",
            "FnOnce<()>>::call_once",
            "std::fs::read",
            "a::b::c",
            "dead::beef1",
        ] {
            assert!(
                found(text, &id, true).is_empty(),
                "{text}: {:?}",
                found(text, &id, true)
            );
        }
    }
}
