//! A small per-thread cache of key verdicts, keyed by the key's bytes and the rule's id.
//!
//! Every key of every record is judged, and keys repeat from record to record; judging one from
//! scratch normalises it and scans it for secret shapes, which costs far more than a look-up.
//! The cache is direct-mapped (one slot per hash, the newest key wins), holds keys of up to
//! [`MAX_KEY`] bytes, and lives in each thread so that no lock is ever taken. A verdict is a pure
//! function of (rule, key), so a stale slot can only miss, never lie.

use std::cell::RefCell;

use super::keys::KeyVerdict;

/// Keys longer than this are judged every time (they are rare, and would make slots large).
const MAX_KEY: usize = 40;
/// A power of two: the slot is the top bits of the hash.
const SLOTS: usize = 256;

#[derive(Clone, Copy)]
struct Slot {
    rule: u64,
    len: u8,
    key: [u8; MAX_KEY],
    verdict: KeyVerdict,
}

const EMPTY: Slot = Slot {
    rule: 0,
    len: 0,
    key: [0; MAX_KEY],
    verdict: KeyVerdict::EMPTY,
};

thread_local! {
    static CACHE: RefCell<[Slot; SLOTS]> = const { RefCell::new([EMPTY; SLOTS]) };
}

/// The verdict on `key` under rule `rule`, from the cache or from `judge`.
#[inline]
pub(crate) fn verdict(rule: u64, key: &str, judge: impl FnOnce() -> KeyVerdict) -> KeyVerdict {
    let bytes = key.as_bytes();
    if bytes.len() > MAX_KEY {
        return judge();
    }
    let at = slot_of(bytes);
    let hit = CACHE
        .try_with(|c| {
            c.try_borrow().ok().and_then(|slots| {
                let s = &slots[at];
                (s.rule == rule
                    && usize::from(s.len) == bytes.len()
                    && s.key[..bytes.len()] == *bytes)
                    .then_some(s.verdict)
            })
        })
        .ok()
        .flatten();
    if let Some(v) = hit {
        return v;
    }
    let v = judge();
    let _ = CACHE.try_with(|c| {
        if let Ok(mut slots) = c.try_borrow_mut() {
            let s = &mut slots[at];
            s.rule = rule;
            // `bytes.len() <= MAX_KEY` (40), which fits a u8.
            s.len = bytes.len() as u8;
            s.key[..bytes.len()].copy_from_slice(bytes);
            s.verdict = v;
        }
    });
    v
}

/// A hash of up to 40 bytes from two overlapping 8-byte reads and the length.
#[inline]
fn slot_of(bytes: &[u8]) -> usize {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let n = bytes.len();
    let (head, tail) = if n >= 8 {
        (word(&bytes[..8]), word(&bytes[n - 8..]))
    } else {
        (word(bytes), 0)
    };
    let h = (head ^ tail.rotate_left(29) ^ (n as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // The top bits are the best mixed; SLOTS is 2^8.
    (h >> 56) as usize % SLOTS
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
    fn the_typical_record_keys_do_not_share_slots() {
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
        ];
        let mut slots: Vec<usize> = keys.iter().map(|k| slot_of(k.as_bytes())).collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), keys.len());
    }
}
