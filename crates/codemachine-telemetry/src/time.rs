//! Wall-clock helpers: epoch milliseconds and their RFC 3339 form, without a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is set before 1970).
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `2026-11-27T22:00:32.123Z` for a time in epoch milliseconds.
pub fn rfc3339_millis(epoch_ms: u64) -> String {
    let mut buf = Vec::with_capacity(24);
    write_rfc3339_millis(&mut buf, epoch_ms);
    // Only ASCII digits and separators were written.
    String::from_utf8(buf).unwrap_or_default()
}

/// Appends `2026-11-27T22:00:32.123Z` to `buf`, without allocating.
pub(crate) fn write_rfc3339_millis(buf: &mut Vec<u8>, epoch_ms: u64) {
    let days = epoch_ms / 86_400_000;
    let ms_of_day = epoch_ms % 86_400_000;
    let (year, month, day) = civil_from_days(days);
    let parts = [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (ms_of_day / 3_600_000, 2, b':'),
        (ms_of_day / 60_000 % 60, 2, b':'),
        (ms_of_day / 1000 % 60, 2, b'.'),
        (ms_of_day % 1000, 3, b'Z'),
    ];
    for (value, width, separator) in parts {
        push_digits(buf, value, width);
        buf.push(separator);
    }
}

/// `value` in exactly `width` decimal digits (zero-padded; higher digits dropped).
fn push_digits(buf: &mut Vec<u8>, value: u64, width: u32) {
    for i in (0..width).rev() {
        buf.push(b'0' + (value / 10u64.pow(i) % 10) as u8);
    }
}

/// Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (never negative here).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_795_816_832_123),
            "2026-11-27T22:00:32.123Z"
        );
    }
}
