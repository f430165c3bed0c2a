//! Random identifiers: event ids, batch (segment) ids, session ids, salts.
//!
//! Ids are 32 lower-case hex digits: 12 for the creation time in milliseconds (so they sort by
//! time, like UUIDv7) and 20 more (random for batches; for events, 10 random per process and a
//! 10-digit counter). Randomness comes from the kernel; without it there are no ids (and so no
//! events): nothing weaker is substituted.

use std::fmt::Write as _;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::sys::random_bytes;

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A new time-ordered id for something created at `now_ms`.
pub(crate) fn time_ordered_id(now_ms: u64) -> io::Result<String> {
    let random: [u8; 10] = random_bytes()?;
    Ok(format!(
        "{:012x}{}",
        now_ms & 0xffff_ffff_ffff,
        hex(&random)
    ))
}

/// 32 random hex digits (a session id).
pub(crate) fn random_id() -> io::Result<String> {
    Ok(hex(&random_bytes::<16>()?))
}

/// Event ids for one process without a system call each: 12 hex digits of time, then 10 random
/// digits drawn once per process, then 10 digits of a counter. Unique across processes with
/// overwhelming probability (40 random bits per process, and the time), in order within one.
pub(crate) struct EventIds {
    prefix: [u8; 10],
    counter: AtomicU64,
}

impl EventIds {
    pub(crate) fn new() -> io::Result<Self> {
        let random: [u8; 5] = random_bytes()?;
        let mut prefix = [0u8; 10];
        prefix.copy_from_slice(hex(&random).as_bytes());
        Ok(EventIds {
            prefix,
            counter: AtomicU64::new(0),
        })
    }

    /// The next id for an event recorded at `now_ms`, as 32 ASCII hex digits.
    pub(crate) fn next(&self, now_ms: u64) -> [u8; 32] {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 32];
        put_hex(&mut id[..12], now_ms & 0xffff_ffff_ffff);
        id[12..22].copy_from_slice(&self.prefix);
        put_hex(&mut id[22..], n & 0xff_ffff_ffff);
        id
    }
}

/// Writes `value`'s low hex digits into `out`, most significant first.
fn put_hex(out: &mut [u8], mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// The creation time encoded in a [`time_ordered_id`], if it is one.
pub(crate) fn id_time_ms(id: &str) -> Option<u64> {
    let prefix = id.get(..12)?;
    u64::from_str_radix(prefix, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_hex_and_sort_by_time() {
        let a = time_ordered_id(1_000).unwrap();
        let b = time_ordered_id(2_000).unwrap();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(a < b);
        assert_ne!(time_ordered_id(5).unwrap(), time_ordered_id(5).unwrap());
        assert_eq!(id_time_ms(&b), Some(2_000));
    }

    #[test]
    fn event_ids_are_distinct_ordered_and_carry_their_time() {
        let ids = EventIds::new().unwrap();
        let a = String::from_utf8(ids.next(7).to_vec()).unwrap();
        let b = String::from_utf8(ids.next(7).to_vec()).unwrap();
        assert!(a < b && a.len() == 32 && a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(id_time_ms(&a), Some(7));
        let other = String::from_utf8(EventIds::new().unwrap().next(7).to_vec()).unwrap();
        assert_ne!(
            a[12..22],
            other[12..22],
            "processes draw different prefixes"
        );
    }
}
