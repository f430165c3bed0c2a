//! What one request's outcome means for its batch ([`classify`], a pure function), and when to
//! try again ([`Backoff`], exponential with full jitter, and [`parse_retry_after`]).
//!
//! Classification and timing are separate on purpose: `classify` says *whether* (delivered,
//! retry, split, rejected), `Backoff` says *when*, and neither reads a clock or a random source
//! of its own, so both are tested without sleeping.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::ForwardError;
use super::transport::Response;

/// The longest wait a `Retry-After` can impose: a server asking for more is capped here, so a
/// typo on the server cannot park our data for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What to do with a batch after one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: the batch may be deleted. `server_rejected` events were refused by the server
    /// (an OTLP partial success) and are only counted: resending would not change that.
    Delivered {
        /// Events the server said it rejected (0 to the number sent).
        server_rejected: u64,
    },
    /// Keep the batch and try later: 429, 502, 503, 504, no answer or a network failure.
    Retry {
        /// How long the server asked us to wait, capped at [`MAX_RETRY_AFTER`].
        retry_after: Option<Duration>,
        /// What happened, for `status` (no secret in it).
        reason: String,
    },
    /// A 413: the request is too large; send each half on its own.
    Split,
    /// Any other answer: move the batch aside as rejected, keep it, do not retry it until an
    /// operator acts.
    Rejected {
        /// 401, 403, 404: stop sending anything until the endpoint or headers change.
        pause: bool,
        /// The HTTP status, when there was one.
        status: Option<u16>,
        /// What happened, for `status` (no secret in it).
        reason: String,
    },
}

/// Classifies the outcome of one request. Pure: the `Retry-After` date is compared with the
/// time the response was received, carried in the response.
pub fn classify(outcome: &Result<Response, ForwardError>) -> Verdict {
    let response = match outcome {
        Ok(response) => response,
        Err(e) if e.is_retryable() => {
            return Verdict::Retry {
                retry_after: None,
                reason: e.to_string(),
            };
        }
        Err(e) => {
            return Verdict::Rejected {
                pause: false,
                status: match e {
                    ForwardError::Redirect { status, .. } => Some(*status),
                    _ => None,
                },
                reason: e.to_string(),
            };
        }
    };
    let status = response.status;
    match status {
        200..=299 => Verdict::Delivered {
            server_rejected: response.rejected,
        },
        429 | 502 | 503 | 504 => Verdict::Retry {
            retry_after: response
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, response.received_at)),
            reason: response.describe(),
        },
        413 => Verdict::Split,
        _ => Verdict::Rejected {
            pause: matches!(status, 401 | 403 | 404),
            status: Some(status),
            reason: response.describe(),
        },
    }
}

/// Reads a `Retry-After` value received at `now`: delta-seconds (`120`) or an HTTP date (IMF
/// fixdate, RFC 850 or asctime form). A date in the past, a negative or malformed value gives
/// `None` (ignored); anything longer than [`MAX_RETRY_AFTER`] is capped.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "a very long time".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (at > now).then(|| Duration::from_secs(at - now).min(MAX_RETRY_AFTER))
}

/// An HTTP date (RFC 9110 §5.6.7, all three forms) in Unix seconds.
pub(crate) fn parse_http_date(value: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let (mut day, mut month, mut year, mut time) = (None, None, None, None);
    for token in value.split([' ', ',', '-']).filter(|t| !t.is_empty()) {
        let lower = token.to_ascii_lowercase();
        if token.contains(':') {
            time = Some(parse_hms(token)?);
        } else if let Some(m) = MONTHS.iter().position(|m| *m == lower) {
            month = Some(m as u64 + 1);
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            let n: u64 = token.parse().ok()?;
            match (token.len(), day) {
                (4, _) => year = Some(n),
                (1 | 2, None) => day = Some(n),
                (2, Some(_)) => year = Some(if n < 70 { 2000 + n } else { 1900 + n }),
                _ => return None,
            }
        } else if lower != "gmt" && !DAYS.iter().any(|d| lower.starts_with(d)) {
            return None;
        }
    }
    let (day, month, year, (h, m, s)) = (day?, month?, year?, time?);
    if !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    let days = super::encode::days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

fn parse_hms(token: &str) -> Option<(u64, u64, u64)> {
    let mut parts = token.split(':').map(|p| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    });
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    (parts.next().is_none() && h < 24 && m < 60 && s <= 60).then_some((h, m, s))
}

/// Exponential backoff with full jitter: the `n`-th retry waits a uniformly random time between
/// zero and `min(cap, base × 2ⁿ)` (the AWS Architecture Blog's "full jitter": retries of many
/// clients spread out instead of arriving together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

/// First ceiling of the backoff: the OTLP exporter's initial interval.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Highest ceiling: an endpoint down for a day is still tried every hour or so, never dropped.
pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(3600);

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP)
    }
}

impl Backoff {
    /// A policy whose first retry waits up to `base` and no retry more than `cap`.
    pub const fn new(base: Duration, cap: Duration) -> Self {
        Backoff { base, cap }
    }

    /// The ceiling for retry number `attempt` (0 for the first retry).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// How long to wait before retry number `attempt`, drawing from `random` (any uniformly
    /// distributed `u64`), and never less than the server's `retry_after`.
    pub fn delay_with(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        random: &mut impl FnMut() -> u64,
    ) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        let jittered = Duration::from_millis(random() % (ceiling + 1));
        jittered.max(retry_after.unwrap_or(Duration::ZERO))
    }

    /// [`Backoff::delay_with`] drawing from std's randomly keyed SipHash (a fresh random key
    /// per call: plenty for spreading retries, and no `unsafe` or extra crate).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        use std::hash::{BuildHasher, Hasher};
        self.delay_with(attempt, retry_after, &mut || {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, retry_after: Option<&str>, rejected: u64) -> Response {
        Response {
            status,
            retry_after: retry_after.map(str::to_owned),
            received_at: UNIX_EPOCH + Duration::from_secs(784_111_777),
            rejected,
            message: None,
        }
    }

    fn verdict(status: u16) -> Verdict {
        classify(&Ok(response(status, None, 0)))
    }

    #[test]
    fn classifies_every_status_of_the_table() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(verdict(s), Verdict::Delivered { server_rejected: 0 }, "{s}");
        }
        assert_eq!(
            classify(&Ok(response(200, None, 7))),
            Verdict::Delivered { server_rejected: 7 }
        );
        for s in [429, 502, 503, 504] {
            assert!(
                matches!(
                    verdict(s),
                    Verdict::Retry {
                        retry_after: None,
                        ..
                    }
                ),
                "{s}"
            );
        }
        assert_eq!(verdict(413), Verdict::Split);
        for s in [401, 403, 404] {
            assert!(
                matches!(verdict(s), Verdict::Rejected { pause: true, status: Some(x), .. } if x == s)
            );
        }
        for s in [300, 301, 400, 405, 409, 410, 422, 500, 501, 505, 599, 100] {
            assert!(
                matches!(verdict(s), Verdict::Rejected { pause: false, .. }),
                "{s}"
            );
        }
    }

    #[test]
    fn network_failures_retry_and_refused_redirects_reject() {
        for e in [
            ForwardError::Timeout {
                after: Duration::from_secs(1),
            },
            ForwardError::Connect {
                detail: "refused".into(),
            },
            ForwardError::Network {
                detail: "reset".into(),
            },
            ForwardError::Dns {
                detail: "no such host".into(),
            },
            ForwardError::Tls {
                detail: "unknown issuer".into(),
            },
            ForwardError::Protocol {
                detail: "garbage".into(),
            },
        ] {
            assert!(matches!(classify(&Err(e)), Verdict::Retry { .. }));
        }
        let redirect = ForwardError::Redirect {
            status: 308,
            location: "http://h/".into(),
            reason: "plain http",
        };
        assert!(matches!(
            classify(&Err(redirect)),
            Verdict::Rejected {
                pause: false,
                status: Some(308),
                ..
            }
        ));
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_and_dates() {
        let r = |v: &str| classify(&Ok(response(503, Some(v), 0)));
        let after = |v: &str| match r(v) {
            Verdict::Retry { retry_after, .. } => retry_after,
            other => panic!("{other:?}"),
        };
        assert_eq!(after("120"), Some(Duration::from_secs(120)));
        // received at Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            after("Sun, 06 Nov 1994 08:51:37 GMT"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            after("Sunday, 06-Nov-94 08:50:37 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            after("Sun Nov  6 08:49:47 1994"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(after("Sun, 06 Nov 1994 08:49:36 GMT"), None, "past");
        assert_eq!(after("soon"), None);
        assert_eq!(after("-5"), None);
        assert_eq!(after("1.5"), None);
        assert_eq!(after(""), None);
        assert_eq!(after("99999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(after("999999999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            after("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(after("Sun, 32 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(after("Sun, 06 Nov 1994 25:49:37 GMT"), None);
    }

    #[test]
    fn backoff_grows_exponentially_to_the_cap_with_full_jitter() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(b.ceiling(0), Duration::from_secs(1));
        assert_eq!(b.ceiling(3), Duration::from_secs(8));
        assert_eq!(b.ceiling(10), Duration::from_secs(60));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(60));
        let mut max = || u64::MAX;
        let mut zero = || 0;
        assert_eq!(b.delay_with(0, None, &mut zero), Duration::ZERO);
        assert!(b.delay_with(3, None, &mut max) <= Duration::from_secs(8));
        let mut seq = (0..1000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let draws: Vec<_> = (0..1000)
            .map(|_| b.delay_with(20, None, &mut || seq.next().unwrap()))
            .collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(
            draws.iter().any(|d| *d < Duration::from_secs(20))
                && draws.iter().any(|d| *d > Duration::from_secs(40))
        );
        assert_eq!(
            b.delay_with(0, Some(Duration::from_secs(30)), &mut zero),
            Duration::from_secs(30)
        );
        assert!(Backoff::default().delay(2, None) <= Duration::from_secs(20));
    }
}
