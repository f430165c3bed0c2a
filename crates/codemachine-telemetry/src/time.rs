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

/// Milliseconds in a day (UTC days have no leap seconds in Unix time).
pub const DAY_MS: u64 = 86_400_000;

/// `2026-11-27` for a day counted from 1970-01-01 (UTC).
pub fn date_of_day(day: u64) -> String {
    let (year, month, day) = civil_from_days(day);
    let mut buf = Vec::with_capacity(10);
    push_digits(&mut buf, year, 4);
    buf.push(b'-');
    push_digits(&mut buf, month, 2);
    buf.push(b'-');
    push_digits(&mut buf, day, 2);
    // Only ASCII digits and dashes were written.
    String::from_utf8(buf).unwrap_or_default()
}

/// The day (counted from 1970-01-01) of a `YYYY-MM-DD` date, years 1970 to 9999; `None` for
/// anything else (a date that does not exist included).
pub fn day_of_date(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day == 0 || day > days_in_month {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Epoch milliseconds of an RFC 3339 UTC time as events carry it (`2026-11-27T22:00:32.123Z`,
/// the fraction optional, 1 to 9 digits, only milliseconds kept); `None` for anything else.
pub fn parse_rfc3339_millis(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let day = day_of_date(text.get(..10)?)?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millis = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', rest @ ..] if (1..=9).contains(&rest.len()) => {
            digits(rest)?; // every digit a digit, even those not kept
            let kept = &rest[..rest.len().min(3)];
            digits(kept)? * 10u64.pow(3 - kept.len() as u32)
        }
        _ => return None,
    };
    Some(day * DAY_MS + (hour * 3600 + minute * 60 + second) * 1000 + millis)
}

/// The value of ASCII decimal digits (at most 19 of them); `None` for anything else.
fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 19 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, b| n * 10 + u64::from(b - b'0')))
}

/// Howard Hinnant's `days_from_civil`, for dates from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn dates_and_times_parse_back_to_what_was_written() {
        for ms in [0, 951_782_400_000, 1_795_816_832_123, 253_402_300_799_999] {
            assert_eq!(parse_rfc3339_millis(&rfc3339_millis(ms)), Some(ms));
            let day = ms / DAY_MS;
            assert_eq!(day_of_date(&date_of_day(day)), Some(day));
        }
        assert_eq!(
            parse_rfc3339_millis("2026-11-27T22:00:32Z"),
            Some(1_795_816_832_000)
        );
        assert_eq!(
            parse_rfc3339_millis("2026-11-27T22:00:32.1234Z"),
            Some(1_795_816_832_123)
        );
        for bad in [
            "",
            "2026-11-27",
            "2026-11-27T22:00:32.123",
            "2026-11-27T22:00:32.123+01:00",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T22:00:32.Z",
            "2026-11-27T22:00:32.12aZ",
            "2026-11-27T22:00:32.1234567891Z",
            "+026-11-27T22:00:32Z",
            "2026-11-27T22:00:32.12\u{e9}Z",
        ] {
            assert_eq!(parse_rfc3339_millis(bad), None, "{bad}");
        }
        assert_eq!(day_of_date("2024-02-29"), Some(19_782));
        assert_eq!(day_of_date("2023-02-29"), None);
    }

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
