//! Durations as people write them on a command line: `45s`, `90m`, `12h`, `30d`, `2w`.

use std::time::Duration;

/// Parses a duration; any number too large to mean anything is refused (never a panic).
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(unit_at);
    let expected = || "expected a number and a unit: 45s, 90m, 12h, 30d or 2w".to_owned();
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(expected()),
    };
    if number.is_empty() {
        return Err(expected());
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(seconds))
        .map(Duration::from_secs)
        .ok_or_else(|| "too large: at most 584 billion years".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_overflow_is_an_error() {
        assert_eq!(parse("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse("90m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "d", "10", "10y", "-1d", "1.5h", "3 d"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        // The largest that fit are durations still (a cut-off before the epoch prunes nothing).
        assert!(parse("200000000000000d").is_ok());
        for huge in ["300000000000000d", "99999999999999999999999s"] {
            assert!(parse(huge).unwrap_err().contains("too large"), "{huge}");
        }
    }
}
