//! Endpoint URLs: parsing, the loopback rule, the request URL, masking, origins and `NO_PROXY`.
//!
//! The one decision: plain `http://` is allowed only to a loopback host (`127.0.0.0/8`, `[::1]`,
//! `localhost`), decided on the text of the host, never by resolving it, so `127.0.0.1.evil.com`
//! is a remote host. Credentials in a URL (`https://user:pass@host`) are taken out of it at once:
//! they travel as an `Authorization: Basic` header and are shown as `***` everywhere.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::ForwardError;
use super::secret::{MASK, Secret, percent_decode};

/// The path an OTLP/HTTP logs receiver listens on.
pub const OTLP_LOGS_PATH: &str = "/v1/logs";

/// A parsed `http(s)://` URL without its credentials.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `http` or `https`, lower case.
    pub(crate) scheme: String,
    /// Lower case; IPv6 literals keep their brackets.
    pub(crate) host: String,
    /// The port, the scheme's default when none is written.
    pub(crate) port: u16,
    /// Whether the port was written.
    explicit_port: bool,
    /// From the first `/`, `""` when there is none.
    pub(crate) path: String,
    /// After `?`, if any.
    pub(crate) query: Option<String>,
    /// `user:password`, percent-decoded.
    pub(crate) userinfo: Option<(Secret, Option<Secret>)>,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL. `param` names the setting in errors,
    /// which never repeat the URL's credentials.
    pub(crate) fn parse(text: &str, param: &'static str) -> Result<Url, ForwardError> {
        let err = |reason: &str| ForwardError::InvalidConfig {
            param,
            reason: reason.to_owned(),
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(err("it holds a space or a control character"));
        }
        if !text.is_ascii() {
            return Err(err(
                "it holds a non-ASCII character (write international host names in their punycode form, xn--…)",
            ));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| err("expected https://host[:port][/path]"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(err(
                "the scheme must be https:// (or http:// to a loopback address)",
            ));
        }
        if rest.contains('#') {
            return Err(err("a URL fragment (#…) has no meaning here"));
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let userinfo = userinfo.map(|u| parse_userinfo(u, param)).transpose()?;
        let (host, port) = split_host_port(hostport).ok_or_else(|| {
            err("expected host[:port] with an ASCII host name or IP address and a port from 1 to 65535")
        })?;
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (tail, None),
        };
        let default_port = if scheme == "https" { 443 } else { 80 };
        Ok(Url {
            scheme,
            host,
            port: port.unwrap_or(default_port),
            explicit_port: port.is_some(),
            path: path.to_owned(),
            query,
            userinfo,
        })
    }

    /// Whether the host is loopback by its text: `localhost`, an IPv4 address in `127.0.0.0/8`,
    /// or `[::1]`.
    pub(crate) fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// Whether requests to both go to the same place: scheme, host, port (a default port written
    /// or not), path and query; credentials aside.
    pub(crate) fn same_request(&self, other: &Url) -> bool {
        (&self.scheme, &self.host, self.port, &self.path, &self.query)
            == (
                &other.scheme,
                &other.host,
                other.port,
                &other.path,
                &other.query,
            )
    }

    /// `scheme://host[:port]` with the port only when it was written.
    pub(crate) fn origin(&self) -> String {
        if self.explicit_port {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        } else {
            format!("{}://{}", self.scheme, self.host)
        }
    }

    /// The URL as sent: no credentials, the query kept.
    pub(crate) fn to_request_string(&self) -> String {
        let mut s = self.origin();
        s.push_str(&self.path);
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// The URL for people: credentials and the query (which may hold a key) shown as `***`.
    pub(crate) fn masked(&self) -> String {
        let mut s = format!("{}://", self.scheme);
        if let Some((_, password)) = &self.userinfo {
            s.push_str(MASK);
            if password.is_some() {
                s.push(':');
                s.push_str(MASK);
            }
            s.push('@');
        }
        s.push_str(&self.origin()[self.scheme.len() + 3..]);
        s.push_str(&self.path);
        if self.query.is_some() {
            s.push('?');
            s.push_str(MASK);
        }
        s
    }

    /// The same URL with `/v1/logs` appended to its path unless it already ends with it (the
    /// OTLP exporter specification's rule for a base endpoint).
    pub(crate) fn with_otlp_logs_path(&self) -> Url {
        let mut url = self.clone();
        if !url.path.ends_with(OTLP_LOGS_PATH) {
            let base = url.path.trim_end_matches('/');
            url.path = format!("{base}{OTLP_LOGS_PATH}");
        }
        url
    }

    /// Resolves a redirect's `Location` against this URL: absolute URLs, `//host/…`, absolute
    /// paths; `None` for anything else.
    pub(crate) fn join(&self, location: &str) -> Option<Url> {
        if location.starts_with("//") {
            return Url::parse(&format!("{}:{location}", self.scheme), "Location").ok();
        }
        if location.starts_with('/') {
            return Url::parse(&format!("{}{location}", self.origin()), "Location").ok();
        }
        Url::parse(location, "Location").ok()
    }

    /// The same origin: scheme, host and port (defaults filled in).
    pub(crate) fn same_origin(&self, other: &Url) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Whether two endpoint URLs name the same origin (scheme, host and port, with the scheme's
/// default port filled in; host names compared without case). Anything that does not parse
/// is never the same origin.
///
/// The settings resolver uses it for the `OTEL_EXPORTER_OTLP_[LOGS_]*` fallback: those headers,
/// timeout, certificate and compression apply only when the OTEL endpoint names the same
/// origin as the telemetry endpoint, so a user's vendor key never reaches our collector.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a, "endpoint"), Url::parse(b, "endpoint")) {
        (Ok(a), Ok(b)) => a.same_origin(&b),
        _ => false,
    }
}

/// Whether `host` (lower case, IPv6 in brackets) is loopback by its text.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn parse_userinfo(
    userinfo: &str,
    param: &'static str,
) -> Result<(Secret, Option<Secret>), ForwardError> {
    let err = || ForwardError::InvalidConfig {
        param,
        reason: "malformed %-escape in the credentials of the URL".into(),
    };
    match userinfo.split_once(':') {
        Some((user, password)) => Ok((
            Secret::new(percent_decode(user).ok_or_else(err)?),
            Some(Secret::new(percent_decode(password).ok_or_else(err)?)),
        )),
        None => Ok((Secret::new(percent_decode(userinfo).ok_or_else(err)?), None)),
    }
}

/// `host[:port]` → lower-case host and the port, if written. Hosts are IPv6 literals in
/// brackets, IPv4 addresses, or names of letters, digits, `-`, `_` and `.`.
fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        let host = &hostport[..=close];
        host[1..close].parse::<Ipv6Addr>().ok()?;
        match &hostport[close + 1..] {
            "" => (host, None),
            rest => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let valid_name = |h: &str| {
        !h.is_empty()
            && !h.starts_with(['.', '-'])
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    };
    if !host.starts_with('[') && !valid_name(host) {
        return None;
    }
    let port = match port {
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return None,
        },
        None => None,
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Whether `host` is listed in a `NO_PROXY` value, with curl's reading: comma- or
/// space-separated entries; `*` matches everything; `example.com` (or `.example.com`,
/// `*.example.com`) matches it and its subdomains; an IP address matches itself and a CIDR
/// block (`10.0.0.0/8`) its addresses; a `:port` on an entry is ignored.
pub fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let host_ip = bare.parse::<IpAddr>().ok();
    no_proxy
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_matches(&entry.to_ascii_lowercase(), bare, host_ip))
}

fn entry_matches(entry: &str, host: &str, host_ip: Option<IpAddr>) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        let net = net.trim_start_matches('[').trim_end_matches(']');
        return match (net.parse::<IpAddr>(), bits.parse::<u32>(), host_ip) {
            (Ok(net), Ok(bits), Some(ip)) => in_cidr(ip, net, bits),
            _ => false,
        };
    }
    let entry = strip_port(entry);
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return host_ip == Some(ip);
    }
    let domain = entry
        .trim_start_matches('*')
        .trim_start_matches('.')
        .trim_end_matches('.');
    !domain.is_empty()
        && (host == domain
            || (host.len() > domain.len()
                && host.ends_with(domain)
                && host.as_bytes()[host.len() - domain.len() - 1] == b'.'))
}

fn strip_port(entry: &str) -> &str {
    if let Some(inner) = entry.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => entry,
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= width || (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s, "TELEMETRY_ENDPOINT").unwrap()
    }

    #[test]
    fn parses_hosts_ports_paths_and_queries() {
        let u = url("HTTPS://Collector.Example.com:4318/otlp/?tenant=a");
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str(), u.port, u.path.as_str()),
            ("https", "collector.example.com", 4318, "/otlp/")
        );
        assert_eq!(u.query.as_deref(), Some("tenant=a"));
        assert_eq!(url("https://[::1]").port, 443);
        assert_eq!(url("http://localhost").port, 80);
        assert_eq!(url("https://h").path, "");
    }

    #[test]
    fn refuses_what_is_not_an_http_url() {
        for bad in [
            "",
            "collector.example.com",
            "ftp://h",
            "https://",
            "https://:443",
            "https://h:0",
            "https://h:65536",
            "https://h:+1",
            "https://h:x",
            "https://h h",
            "https://h\n.evil",
            "https://hé.example",
            "https://h/#frag",
            "https://[::1",
            "https://[zz]",
            "https://.h",
            "https://h%2e",
        ] {
            assert!(Url::parse(bad, "X").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn loopback_is_decided_by_the_text_of_the_host() {
        for yes in [
            "http://127.0.0.1",
            "http://127.1.2.3:8",
            "http://[::1]:1",
            "http://LOCALHOST",
        ] {
            assert!(url(yes).is_loopback(), "{yes}");
        }
        for no in [
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "http://evil-localhost",
            "http://example.com",
            "http://128.0.0.1",
            "http://[::2]",
            "http://[::ffff:127.0.0.1]",
            "http://0.0.0.0",
            "http://127.1",
        ] {
            assert!(!url(no).is_loopback(), "{no}");
        }
    }

    #[test]
    fn credentials_are_taken_out_and_masked() {
        let u = url("https://us%40er:p%3Ass@word@h.example:8443/p?api_key=zz");
        let (user, pass) = u.userinfo.clone().unwrap();
        assert_eq!(
            (user.expose(), pass.unwrap().expose()),
            ("us@er", "p:ss@word")
        );
        assert_eq!(u.masked(), "https://***:***@h.example:8443/p?***");
        assert_eq!(u.to_request_string(), "https://h.example:8443/p?api_key=zz");
        assert!(!format!("{u:?}").contains("word"));
    }

    #[test]
    fn otlp_path_is_appended_to_a_base_endpoint_once() {
        let cases = [
            ("https://h", "https://h/v1/logs"),
            ("https://h/", "https://h/v1/logs"),
            ("https://h/otlp", "https://h/otlp/v1/logs"),
            ("https://h/otlp/", "https://h/otlp/v1/logs"),
            ("https://h/v1/logs", "https://h/v1/logs"),
            ("https://h/x?a=b", "https://h/x/v1/logs?a=b"),
        ];
        for (base, full) in cases {
            assert_eq!(url(base).with_otlp_logs_path().to_request_string(), full);
        }
    }

    #[test]
    fn same_origin_compares_scheme_host_and_port_with_defaults() {
        assert!(same_origin(
            "https://H.example",
            "https://h.example:443/v1/logs"
        ));
        assert!(same_origin("http://localhost:80/a", "http://localhost/b"));
        assert!(!same_origin("https://h.example", "http://h.example"));
        assert!(!same_origin("https://h.example", "https://h.example:4318"));
        assert!(!same_origin("https://h.example", "https://g.example"));
        assert!(!same_origin("https://h.example", "not a url"));
        assert!(same_origin("https://u:p@h.example", "https://h.example"));
    }

    #[test]
    fn no_proxy_reads_like_curl() {
        let list =
            "localhost, .internal.example,*.corp, 10.0.0.0/8 ,192.168.1.5:3128,[::1],fd00::/8";
        for yes in [
            "localhost",
            "a.internal.example",
            "internal.example",
            "x.y.corp",
            "10.2.3.4",
            "192.168.1.5",
            "[::1]",
            "[fd00::5]",
        ] {
            assert!(no_proxy_matches(list, yes), "{yes}");
        }
        for no in [
            "example.com",
            "notinternal.example",
            "11.0.0.1",
            "192.168.1.6",
            "[::2]",
        ] {
            assert!(!no_proxy_matches(list, no), "{no}");
        }
        assert!(no_proxy_matches("*", "anything"));
        assert!(!no_proxy_matches("", "anything"));
    }

    #[test]
    fn the_same_request_whether_or_not_a_default_port_is_written() {
        assert!(url("https://Localhost").same_request(&url("https://localhost:443")));
        assert!(url("https://u:p@h.example/a?b").same_request(&url("https://h.example/a?b")));
        for other in [
            "https://h.example:8443/a?b",
            "http://h.example/a?b",
            "https://h.example/a",
            "https://h.example/A?b",
        ] {
            assert!(
                !url("https://h.example/a?b").same_request(&url(other)),
                "{other}"
            );
        }
    }
}
