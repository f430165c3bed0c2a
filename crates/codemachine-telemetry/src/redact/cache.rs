//! A small per-thread cache of key verdicts, keyed by the key's bytes and the rule's id.
//!
//! Every key of every record is judged, and keys repeat from record to record; judging one from
//! scratch normalises it and scans it for secret shapes, which costs far more than a look-up.
//! The cache is 4-way set-associative (a key can sit in any of the 4 slots of its set, a new key
//! replaces them in turn), holds keys of up to [`MAX_KEY`] bytes, and lives in each thread so that no lock is ever taken. A verdict is a pure
//! function of (rule, key), so a stale slot can only miss, never lie.

use std::cell::RefCell;

use super::keys::KeyVerdict;

/// Keys longer than this are judged every time (they are rare, and would make slots large).
const MAX_KEY: usize = 40;
/// Sets of [`WAYS`] slots; a power of two (the set is the top bits of the hash).
const SETS: usize = 64;
const WAYS: usize = 4;

#[derive(Clone, Copy)]
struct Slot {
    rule: u64,
    probe: Probe,
    key: [u8; MAX_KEY],
    verdict: KeyVerdict,
}

/// A key's length and its first and last eight bytes: for keys of up to 16 bytes these alone
/// tell two keys apart, so most look-ups compare three words and no bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Probe {
    len: u64,
    head: u64,
    tail: u64,
}

impl Probe {
    #[inline]
    fn of(bytes: &[u8]) -> Probe {
        let n = bytes.len();
        let load8 = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let load4 = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[at..at + 4]);
            u64::from(u32::from_le_bytes(w))
        };
        // Fixed-size loads only (a variable-length copy would call `memcpy`); overlapping reads
        // of the first and last bytes cover every byte of a key of up to 16 bytes.
        let (head, tail) = match n {
            8.. => (load8(0), load8(n - 8)),
            4..=7 => (load4(0) | load4(n - 4) << 32, 0),
            _ => (bytes.iter().fold(0u64, |w, b| w << 8 | u64::from(*b)), 0),
        };
        Probe {
            len: n as u64,
            head,
            tail,
        }
    }

    /// The set: the top bits of a multiplicative hash.
    #[inline]
    fn set(&self) -> usize {
        let x = self.head.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ self.tail.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ self.len;
        (x.wrapping_mul(0x1656_67B1_9E37_79F9) >> 58) as usize % SETS
    }
}

const EMPTY: Slot = Slot {
    rule: 0,
    probe: Probe {
        len: 0,
        head: 0,
        tail: 0,
    },
    key: [0; MAX_KEY],
    verdict: KeyVerdict::EMPTY,
};

/// One set: its slots and which one a new key replaces next.
#[derive(Clone, Copy)]
struct Set {
    slots: [Slot; WAYS],
    next: usize,
}

thread_local! {
    static CACHE: RefCell<[Set; SETS]> = const {
        RefCell::new([Set { slots: [EMPTY; WAYS], next: 0 }; SETS])
    };
}

/// The verdict on `key` under rule `rule`, from the cache or from `judge`.
#[inline]
pub(crate) fn verdict(rule: u64, key: &str, judge: impl FnOnce() -> KeyVerdict) -> KeyVerdict {
    let bytes = key.as_bytes();
    if bytes.len() > MAX_KEY {
        return judge();
    }
    let probe = Probe::of(bytes);
    match lookup(rule, bytes, probe) {
        Some(v) => v,
        None => miss(rule, bytes, probe, judge),
    }
}

#[inline]
fn lookup(rule: u64, bytes: &[u8], probe: Probe) -> Option<KeyVerdict> {
    CACHE
        .try_with(|c| {
            let sets = c.try_borrow().ok()?;
            sets[probe.set()]
                .slots
                .iter()
                .find(|s| {
                    s.rule == rule
                        && s.probe == probe
                        && (bytes.len() <= 16 || s.key[..bytes.len()] == *bytes)
                })
                .map(|s| s.verdict)
        })
        .ok()
        .flatten()
}

/// Judges a key not in the cache and keeps the verdict (out of line: the hot path is a hit).
#[cold]
#[inline(never)]
fn miss(rule: u64, bytes: &[u8], probe: Probe, judge: impl FnOnce() -> KeyVerdict) -> KeyVerdict {
    let v = judge();
    let _ = CACHE.try_with(|c| {
        if let Ok(mut sets) = c.try_borrow_mut() {
            let set = &mut sets[probe.set()];
            let s = &mut set.slots[set.next];
            set.next = (set.next + 1) % WAYS;
            s.rule = rule;
            s.probe = probe;
            s.key[..bytes.len()].copy_from_slice(bytes);
            s.verdict = v;
        }
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_verdict_is_served_for_the_same_rule_only() {
        let mut calls = 0;
        let mut judge = |v: KeyVerdict| {
            calls += 1;
            v
        };
        let secret = KeyVerdict::EMPTY.with_shape(true);
        assert_eq!(
            verdict(u64::MAX, "cache-test-key", || judge(secret)),
            secret
        );
        assert_eq!(
            verdict(u64::MAX, "cache-test-key", || judge(KeyVerdict::EMPTY)),
            secret
        );
        assert_eq!(
            verdict(u64::MAX - 1, "cache-test-key", || judge(KeyVerdict::EMPTY)),
            KeyVerdict::EMPTY
        );
        assert_eq!(calls, 2);
    }

    #[test]
    fn keys_sharing_their_ends_are_told_apart() {
        let a = "prefix_aaaa_middle_one_suffix";
        let b = "prefix_aaaa_middle_two_suffix";
        let secret = KeyVerdict::EMPTY.with_shape(true);
        assert_eq!(verdict(u64::MAX - 2, a, || secret), secret);
        assert_eq!(
            verdict(u64::MAX - 2, b, || KeyVerdict::EMPTY),
            KeyVerdict::EMPTY
        );
    }

    #[test]
    fn long_keys_are_never_cached() {
        let long = "k".repeat(MAX_KEY + 1);
        let mut calls = 0;
        for _ in 0..2 {
            verdict(7, &long, || {
                calls += 1;
                KeyVerdict::EMPTY
            });
        }
        assert_eq!(calls, 2);
    }

    #[test]
    fn the_typical_record_keys_fit_their_sets() {
        let keys = [
            "command",
            "step",
            "durationMs",
            "exitCode",
            "agent",
            "name",
            "model",
            "inputTokens",
            "apiKey",
            "password",
            "token",
            "msg",
            "claude",
            "sessionId",
            "workflow",
        ];
        let mut per_set = [0; SETS];
        for k in keys {
            per_set[Probe::of(k.as_bytes()).set()] += 1;
        }
        assert!(per_set.iter().all(|n| *n < WAYS), "{per_set:?}");
    }
}
