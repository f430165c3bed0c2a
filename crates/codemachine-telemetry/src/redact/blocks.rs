//! Private key blocks: PEM and OpenSSH (`-----BEGIN … PRIVATE KEY-----` through its `-----END …
//! -----` line) and PuTTY (`PuTTY-User-Key-File-N:` through its `Private-MAC:` line). The whole
//! block goes, whatever encodes its line breaks (real ones, or literal `\n` in escaped text); a
//! block that never ends is redacted to the end of the text.
//!
//! [`LineScrubber`] carries that rule across lines for line-oriented input (`log --stdin`):
//! inside a block, every line is fully redacted until the one that ends it.

use std::borrow::Cow;
use std::ops::Range;

use super::Redactor;
use super::scan::{REDACTED, Scan, work};

/// How far after `-----BEGIN` the label's closing dashes are looked for.
const MAX_LABEL: usize = 100;

const PUTTY: &[u8] = b"PuTTY-User-Key-File-";
const PUTTY_END: &[u8] = b"Private-MAC:";

/// A private key block (PEM) or a PuTTY key starting at the `-` at `i`.
pub(crate) fn at_dash(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let range = private_key_block(scan.bytes, i).or_else(|| putty_block(scan.bytes, i))?;
    Some(scan.redact(range))
}

/// The end of the last private key block (PEM or PuTTY) that starts inside `range`, or
/// `range.end` when none does.
pub(crate) fn end_of_blocks_within(bytes: &[u8], range: Range<usize>) -> usize {
    let mut end = range.end;
    let mut at = range.start;
    while at < end {
        let Some(dash) = bytes[at..end]
            .iter()
            .position(|b| *b == b'-')
            .map(|d| at + d)
        else {
            work(end - at);
            break;
        };
        work(dash + 1 - at);
        let block = private_key_block(bytes, dash).or_else(|| putty_block(bytes, dash));
        if let Some(block) = block {
            end = end.max(block.end);
            at = block.end;
        } else {
            at = dash + 1;
        }
    }
    end
}

/// `-----BEGIN <label>-----` at `i` whose label names a private key: the block's range.
pub(crate) fn private_key_block(bytes: &[u8], i: usize) -> Option<Range<usize>> {
    let label_start = i + begins_private_key(&bytes[i..])?;
    let after = find(&bytes[label_start..], b"-----END").map_or(bytes.len(), |at| label_start + at);
    if after == bytes.len() {
        return Some(i..after);
    }
    let tail = after + b"-----END".len();
    let close = find(&bytes[tail..bytes.len().min(tail + MAX_LABEL)], b"-----")
        .map_or(bytes.len(), |at| tail + at + 5);
    Some(i..close)
}

/// The length of `-----BEGIN <label>-----` at the start of `rest` when the label names a
/// private key.
fn begins_private_key(rest: &[u8]) -> Option<usize> {
    let begin = rest.get(..10)?;
    if !begin.eq_ignore_ascii_case(b"-----BEGIN") {
        return None;
    }
    // The label runs to the next `-----` on its line, whatever its length: a later `-----BEGIN`
    // ends the search, so the stretches read for different blocks never overlap (and a length
    // bound would make the answer depend on how much an earlier pass shortened the label).
    let close = label_end(&rest[10..])?;
    let label = &rest[10..10 + close];
    let private = label
        .windows(11)
        .any(|w| w.eq_ignore_ascii_case(b"PRIVATE KEY"));
    private.then_some(10 + close + 5)
}

/// Where the `-----` closing a label is; `None` when something that cannot be in a label (only
/// letters, digits, spaces, `_` and `-`: `RSA PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`) comes first.
fn label_end(rest: &[u8]) -> Option<usize> {
    let mut j = 0;
    while j < rest.len() {
        match rest[j] {
            b'-' if rest[j..].starts_with(b"-----") => {
                work(j + 1);
                return Some(j);
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-') => {}
            _ => break,
        }
        j += 1;
    }
    work(j + 1);
    None
}

/// `PuTTY-User-Key-File-N:` whose `-` after `PuTTY` is at `i`, through the `Private-MAC:` line.
fn putty_block(bytes: &[u8], i: usize) -> Option<Range<usize>> {
    let start = i.checked_sub(5)?;
    if !bytes[start..].starts_with(PUTTY) {
        return None;
    }
    let end = match find(&bytes[i..], PUTTY_END) {
        Some(at) => mac_end(bytes, i + at),
        None => bytes.len(),
    };
    Some(start..end)
}

/// The end of the MAC after `Private-MAC:` at `at` (its hexadecimal run, spaces before it
/// skipped).
fn mac_end(bytes: &[u8], at: usize) -> usize {
    let mut j = at + PUTTY_END.len();
    while bytes.get(j).is_some_and(|b| *b == b' ' || *b == b'\t') {
        j += 1;
    }
    while bytes.get(j).is_some_and(u8::is_ascii_hexdigit) {
        j += 1;
    }
    j
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    work(haystack.len());
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Which kind of block a [`LineScrubber`] is inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Pem,
    Putty,
}

/// Scrubs line-oriented input so that a private key block split over lines never leaks: from
/// the line that opens a block to the one that ends it, every line is fully redacted.
///
/// ```
/// use codemachine_telemetry::Redactor;
/// use codemachine_telemetry::redact::LineScrubber;
///
/// let redactor = Redactor::new();
/// let mut lines = LineScrubber::new(&redactor);
/// assert_eq!(lines.scrub_line("key: -----BEGIN RSA PRIVATE KEY-----"), "key: [REDACTED]");
/// assert_eq!(lines.scrub_line("MIIEowIBAAKCAQEA"), "[REDACTED]");
/// assert_eq!(lines.scrub_line("-----END RSA PRIVATE KEY----- done"), "[REDACTED] done");
/// assert_eq!(lines.scrub_line("password=hunter2"), "password=[REDACTED]");
/// ```
#[derive(Debug)]
pub struct LineScrubber<'r> {
    redactor: &'r Redactor,
    open: Option<Block>,
}

impl<'r> LineScrubber<'r> {
    /// A scrubber outside any block.
    pub fn new(redactor: &'r Redactor) -> Self {
        LineScrubber {
            redactor,
            open: None,
        }
    }

    /// True while the lines seen so far opened a private key block that has not ended.
    pub fn in_block(&self) -> bool {
        self.open.is_some()
    }

    /// Follows a line that is redacted some other way (a JSON record, redacted as a structure)
    /// without scrubbing it: only whether it opens or ends a block is noted.
    pub fn observe_line(&mut self, line: &str) {
        let rest = match self.open {
            Some(block) => match block_end(block, line.as_bytes()) {
                Some(after) => &line[after..],
                None => return,
            },
            None => line,
        };
        self.open = opens_block(rest.as_bytes());
    }

    /// One line (without its line break), scrubbed; borrowed when nothing was replaced.
    pub fn scrub_line<'l>(&mut self, line: &'l str) -> Cow<'l, str> {
        if let Some(block) = self.open {
            let Some(after) = block_end(block, line.as_bytes()) else {
                return Cow::Borrowed(REDACTED);
            };
            self.open = None;
            let rest = &line[after..];
            let mut out = String::from(REDACTED);
            out.push_str(&self.redactor.scrub(rest));
            self.open = opens_block(rest.as_bytes());
            return Cow::Owned(out);
        }
        self.open = opens_block(line.as_bytes());
        self.redactor.scrub(line)
    }
}

/// Where the line that ends `block` continues after its end marker; `None` if it does not.
fn block_end(block: Block, line: &[u8]) -> Option<usize> {
    match block {
        Block::Pem => {
            let at = find(line, b"-----END")? + 8;
            let close = find(&line[at..line.len().min(at + MAX_LABEL)], b"-----")
                .map_or(line.len(), |c| at + c + 5);
            Some(close)
        }
        Block::Putty => find(line, PUTTY_END).map(|at| mac_end(line, at)),
    }
}

/// The block a line leaves open: the last private key block it begins and does not end.
fn opens_block(line: &[u8]) -> Option<Block> {
    let pem = last_pem_begin(line).filter(|at| find(&line[*at..], b"-----END").is_none());
    let putty = rfind(line, PUTTY).filter(|at| find(&line[*at..], PUTTY_END).is_none());
    match (pem, putty) {
        (Some(p), Some(q)) => Some(if p > q { Block::Pem } else { Block::Putty }),
        (Some(_), None) => Some(Block::Pem),
        (None, Some(_)) => Some(Block::Putty),
        (None, None) => None,
    }
}

fn last_pem_begin(line: &[u8]) -> Option<usize> {
    work(line.len());
    (0..line.len())
        .rev()
        .filter(|&i| line[i] == b'-')
        .find(|&i| begins_private_key(&line[i..]).is_some())
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    work(haystack.len());
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_found_whole_with_real_or_escaped_line_breaks() {
        let real = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after";
        assert_eq!(private_key_block(real, 0), Some(0..real.len() - 6));
        let escaped =
            b"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Bl\\n-----END OPENSSH PRIVATE KEY-----\"";
        assert_eq!(private_key_block(escaped, 0), Some(0..escaped.len() - 1));
        assert_eq!(
            private_key_block(b"-----BEGIN PRIVATE KEY-----\nMIIE", 0),
            Some(0..32)
        );
        assert_eq!(
            private_key_block(b"-----BEGIN CERTIFICATE-----\nMIIB", 0),
            None
        );
    }

    #[test]
    fn a_line_scrubber_redacts_until_the_block_ends() {
        let r = Redactor::new();
        let mut lines = LineScrubber::new(&r);
        let input = [
            "config:",
            "  private_key: -----BEGIN OPENSSH PRIVATE KEY-----",
            "  b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
            "  -----END OPENSSH PRIVATE KEY-----",
            "PuTTY-User-Key-File-3: ssh-ed25519",
            "Private-Lines: 1",
            "AAAAIHc2VjcmV0",
            "Private-MAC: 0123abcd",
            "done",
        ];
        let out: Vec<String> = input
            .iter()
            .map(|l| lines.scrub_line(l).into_owned())
            .collect();
        assert_eq!(
            out,
            [
                "config:",
                "  private_key: [REDACTED]",
                "[REDACTED]",
                "[REDACTED]",
                "[REDACTED]",
                "[REDACTED]",
                "[REDACTED]",
                "[REDACTED]",
                "done"
            ]
        );
        assert!(!lines.in_block());
    }

    #[test]
    fn a_block_that_never_ends_keeps_redacting() {
        let r = Redactor::new();
        let mut lines = LineScrubber::new(&r);
        lines.scrub_line("-----BEGIN EC PRIVATE KEY-----");
        for _ in 0..3 {
            assert_eq!(lines.scrub_line("password=x MHcCAQEEI"), "[REDACTED]");
        }
        assert!(lines.in_block());
    }
}
