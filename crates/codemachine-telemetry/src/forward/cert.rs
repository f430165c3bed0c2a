//! Just enough X.509 reading for `ping`: a certificate's subject, issuer and expiry, from its
//! DER bytes. Verification is rustls's job; this only describes what was verified (or refused).
//!
//! The reader walks the DER structure (RFC 5280 §4.1) without a parser crate: every length is
//! checked against what remains, so a malformed certificate gives `None`, never a panic.

/// What `ping` shows of the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// `CN=collector.example, O=Example` (the attributes in their order; control characters
    /// escaped).
    pub subject: String,
    /// The issuer, written the same way.
    pub issuer: String,
    /// The end of validity, in Unix seconds.
    pub not_after: u64,
}

/// Reads subject, issuer and `notAfter` from a DER certificate.
pub fn describe_certificate(der: &[u8]) -> Option<CertificateInfo> {
    let (cert, _) = tlv(der, 0x30)?;
    let (tbs, _) = tlv(cert, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest, 0xa0)?.1; // version
    }
    rest = tlv(rest, 0x02)?.1; // serial number
    rest = tlv(rest, 0x30)?.1; // signature algorithm
    let (issuer, rest) = tlv(rest, 0x30)?;
    let (validity, rest) = tlv(rest, 0x30)?;
    let (subject, _) = tlv(rest, 0x30)?;
    let (_not_before, rest) = any_tlv(validity)?;
    let (tag, not_after, _) = any_tlv_tagged(rest)?;
    Some(CertificateInfo {
        subject: name(subject)?,
        issuer: name(issuer)?,
        not_after: time(tag, not_after)?,
    })
}

/// One TLV of the expected tag: its content and what follows.
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = any_tlv_tagged(input)?;
    (t == tag).then_some((content, rest))
}

fn any_tlv(input: &[u8]) -> Option<(&[u8], &[u8])> {
    any_tlv_tagged(input).map(|(_, c, r)| (c, r))
}

fn any_tlv_tagged(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// A `Name` as `CN=…, O=…`.
fn name(mut rdns: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (set, rest) = tlv(rdns, 0x31)?;
        rdns = rest;
        let mut attrs = set;
        while !attrs.is_empty() {
            let (attr, rest) = tlv(attrs, 0x30)?;
            attrs = rest;
            let (oid, value) = tlv(attr, 0x06)?;
            let (tag, value, _) = any_tlv_tagged(value)?;
            parts.push(format!("{}={}", attribute_name(oid), string(tag, value)));
        }
    }
    Some(parts.join(", "))
}

fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        _ => oid.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    }
}

/// A directory string, control characters escaped so it cannot forge terminal output.
fn string(tag: u8, value: &[u8]) -> String {
    let text = if tag == 0x1e {
        let units: Vec<u16> = value
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(value).into_owned()
    };
    crate::terminal::escape_controls(&text).into_owned()
}

/// `UTCTime` (`YYMMDDHHMMSSZ`) or `GeneralizedTime` (`YYYYMMDDHHMMSSZ`) in Unix seconds.
fn time(tag: u8, value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: u64 = digits[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &digits[2..])
        }
        (0x18, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| rest[i..i + 2].parse::<u64>().ok();
    let (month, day, h, m, s) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if year < 1970
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || h > 23
        || m > 59
        || s > 60
    {
        return None;
    }
    Some(super::encode::days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_gives_none_never_a_panic() {
        assert_eq!(describe_certificate(&[]), None);
        assert_eq!(describe_certificate(&[0x30]), None);
        assert_eq!(
            describe_certificate(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(describe_certificate(&[0x30, 0x02, 0x30, 0x00]), None);
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let _ = describe_certificate(&bytes);
        }
    }

    #[test]
    fn times_read_both_asn1_forms() {
        assert_eq!(time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x18, b"20491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x17, b"7001010000Z"), None);
        assert_eq!(time(0x18, b"20491331235959Z"), None);
    }
}
