//! Values that must never be shown: header values (API keys, bearer tokens) and credentials
//! found in a URL. [`Secret`] prints as `***` through `Debug` and `Display`, so a `{:?}` of any
//! settings struct that holds one is safe to log; only [`Secret::expose`] gives the value, and
//! only the transport calls it.
//!
//! Also here: [`Headers`], the `OTEL_EXPORTER_OTLP_HEADERS` format (`k=v,k2=v2`, percent-decoded),
//! validated so that no value can inject a header line.

use std::fmt;

use super::error::ForwardError;
use crate::env_vars;

/// A string that is shown as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What a secret looks like wherever it is shown.
pub const MASK: &str = "***";

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Header names the forwarder sets itself; a configured header cannot replace them.
const RESERVED: [&str; 9] = [
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "idempotency-key",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// Extra request headers, values masked when shown. Names are kept as written (HTTP names are
/// case-insensitive; a later duplicate replaces an earlier one).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Secret)>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    /// Parses the `OTEL_EXPORTER_OTLP_HEADERS` format: comma-separated `name=value` pairs, each
    /// name and value trimmed and percent-decoded (`Authorization=Bearer%20abc`). Empty entries
    /// are ignored. Refused, with a reason that never repeats a value: an entry without `=`, a
    /// name that is not an HTTP token, a value with a control character (CR and LF included:
    /// no header injection) or a non-ASCII byte, a malformed `%` escape, a name the forwarder
    /// sets itself (`Content-Type`, `Idempotency-Key`, …).
    pub fn parse(text: &str) -> Result<Headers, ForwardError> {
        let mut headers = Headers::new();
        for (index, entry) in text.split(',').enumerate() {
            if entry.trim().is_empty() {
                continue;
            }
            let position = index + 1;
            let Some((name, value)) = entry.split_once('=') else {
                return Err(invalid(format!(
                    "entry {position} has no '=' (expected name=value)"
                )));
            };
            let name = percent_decode(name.trim()).ok_or_else(|| {
                invalid(format!("entry {position}: malformed %-escape in the name"))
            })?;
            let value = percent_decode(value.trim()).ok_or_else(|| {
                invalid(format!("entry {position}: malformed %-escape in the value"))
            })?;
            headers.insert(&name, value)?;
        }
        Ok(headers)
    }

    /// Adds one header (validated as by [`Headers::parse`]), replacing one of the same name.
    pub fn insert(&mut self, name: &str, value: impl Into<String>) -> Result<(), ForwardError> {
        let value = value.into();
        check_name(name)?;
        if let Some(bad) = value
            .bytes()
            .find(|b| !(b == &b'\t' || (0x20..0x7f).contains(b)))
        {
            let what = if bad < 0x20 || bad == 0x7f {
                "a control character (CR, LF, …)"
            } else {
                "a non-ASCII character"
            };
            return Err(invalid(format!(
                "the value of {} holds {what}; header values must be printable ASCII",
                shown_name(name)
            )));
        }
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.0.push((name.to_owned(), Secret::new(value)));
        Ok(())
    }

    /// The headers, values still wrapped.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Whether there is a header of this name (any case).
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Authorization, x-tenant (values not shown)`: what `status` shows. A name is shown only
    /// when it reads as a header name (words of letters joined by `-` or `_`, a few digits, at
    /// most 40 characters); any other name (a value typed in the wrong place, base64) is shown
    /// as its length. No `name=value` form: the redactor, reading `Authorization=…`, would take
    /// the rest of the list for the credential.
    pub fn masked(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let names: Vec<String> = self.0.iter().map(|(name, _)| shown_name(name)).collect();
        format!("{} (values not shown)", names.join(", "))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(n, v)| (n, v)))
            .finish()
    }
}

impl fmt::Display for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

fn invalid(reason: String) -> ForwardError {
    ForwardError::InvalidConfig {
        param: env_vars::TELEMETRY_HEADERS,
        reason,
    }
}

/// A header name as it may be shown: itself when it reads as one, else its length.
fn shown_name(name: &str) -> String {
    let digits = name.bytes().filter(u8::is_ascii_digit).count();
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // Words of a header name are `tenant`, `Tenant`, `API`, or at most one hump (`OrgID`);
    // random text (base64) changes case all the time.
    let worded = name
        .split(['-', '_'])
        .all(|word| crate::terminal::case_humps(word) <= 1);
    if plain && worded && digits <= 2 && (1..=40).contains(&name.len()) {
        name.to_owned()
    } else {
        format!("<a name of {} characters>", name.chars().count())
    }
}

/// An HTTP token (RFC 9110 §5.6.2), and not one of the names the forwarder sets.
fn check_name(name: &str) -> Result<(), ForwardError> {
    const TCHAR: &[u8] = b"!#$%&'*+-.^_`|~";
    if name.is_empty() {
        return Err(invalid("a header name is empty".into()));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || TCHAR.contains(&b))
    {
        // Not repeated: a name that is not a token is often a value typed in the wrong place.
        return Err(invalid(format!(
            "a name of {} characters is not a header name (letters, digits and !#$%&'*+-.^_`|~ only; the entry is not shown)",
            name.chars().count()
        )));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(invalid(format!(
            "{} is set by the forwarder and cannot be configured",
            shown_name(name)
        )));
    }
    Ok(())
}

/// `%XX` escapes decoded; `None` when an escape is malformed or the result is not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_and_display_never_show_the_value() {
        let s = Secret::new("sk-live-abc");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s:#?}"), "Secret(***)");
        assert_eq!(s.expose(), "sk-live-abc");
    }

    #[test]
    fn headers_parse_the_otel_format_percent_decoded() {
        let h = Headers::parse(" api-key = k%3D1 ,,Authorization=Bearer%20tok , x=").unwrap();
        let pairs: Vec<_> = h.iter().map(|(n, v)| (n, v.expose())).collect();
        assert_eq!(
            pairs,
            [
                ("api-key", "k=1"),
                ("Authorization", "Bearer tok"),
                ("x", "")
            ]
        );
        assert_eq!(h.masked(), "api-key, Authorization, x (values not shown)");
        let debug = format!("{h:?} {h}");
        assert!(!debug.contains("tok") && !debug.contains("k=1"), "{debug}");
    }

    #[test]
    fn a_value_typed_as_a_name_is_never_shown() {
        let err = Headers::parse("x-api-key q7Rk2mVx9pLs4TnW==")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("q7Rk2mVx9pLs4TnW"), "{err}");
        let h = Headers::parse("dXNlcjpwYXNzd29yZA==,x-tenant=acme").unwrap();
        assert_eq!(
            h.masked(),
            "<a name of 18 characters>, x-tenant (values not shown)"
        );
        let shown = crate::Redactor::new()
            .scrub(
                &Headers::parse("Authorization=a,x-tenant=b")
                    .unwrap()
                    .masked(),
            )
            .into_owned();
        assert!(
            shown.contains("x-tenant"),
            "the list survives the redactor: {shown}"
        );
    }

    #[test]
    fn a_later_duplicate_replaces_the_earlier_one() {
        let h = Headers::parse("a=1,A=2").unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h.iter().next().unwrap().1.expose(), "2");
    }

    #[test]
    fn header_injection_and_bad_names_are_refused_without_echoing_the_value() {
        for bad in [
            "x=a%0D%0AEvil: 1",
            "x=a\r\nEvil: 1",
            "x=a%0Ab",
            "x=a%00b",
            "x=caf%C3%A9",
            "x=café",
            "bad name=1",
            "na\u{e9}me=1",
            "=1",
            "novalue",
            "x=%zz",
            "x=%4",
            "Content-Type=text/plain",
            "idempotency-key=1",
            "Host=evil",
        ] {
            let err = Headers::parse(bad).expect_err(bad).to_string();
            assert!(err.starts_with("invalid TELEMETRY_HEADERS: "), "{err}");
            assert!(
                !err.contains("Evil") && !err.contains("caf"),
                "{bad}: {err}"
            );
        }
    }
}
