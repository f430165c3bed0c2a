//! Random identifiers: event ids, batch (segment) ids, session ids, salts.
//!
//! Ids are 32 lower-case hex digits: 12 for the creation time in milliseconds (so they sort by
//! time, like UUIDv7) and 20 random. Randomness comes from the kernel (`getrandom`).

use std::fmt::Write as _;

/// `n` bytes from the kernel's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let mut filled = 0;
    while filled < N {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), N - filled, 0) };
        if n > 0 {
            filled += n as usize;
        } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            // getrandom only fails on kernels older than 3.17; fall back to the time and pid,
            // which keeps ids unique if not unpredictable.
            let fallback = crate::time::now_nanos() ^ (u128::from(std::process::id()) << 64);
            for (i, b) in buf[filled..].iter_mut().enumerate() {
                *b = (fallback >> ((i % 16) * 8)) as u8;
            }
            break;
        }
    }
    buf
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A new time-ordered id for something created at `now_ms`.
pub(crate) fn time_ordered_id(now_ms: u64) -> String {
    let random: [u8; 10] = random_bytes();
    format!("{:012x}{}", now_ms & 0xffff_ffff_ffff, hex(&random))
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
        let a = time_ordered_id(1_000);
        let b = time_ordered_id(2_000);
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(a < b);
        assert_ne!(time_ordered_id(5), time_ordered_id(5));
        assert_eq!(id_time_ms(&b), Some(2_000));
    }
}
