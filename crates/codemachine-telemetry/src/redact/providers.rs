//! Provider tokens by prefix, body alphabet and length; JSON Web Tokens; `Bearer <token>`.
//!
//! The table is our own, written from the providers that gitleaks' default rules (v8, 2025)
//! recognise by a distinctive prefix, plus Google's `ya29.`/`GOCSPX-` and the Slack and Discord
//! webhook paths. Each entry says where it may start:
//! - [`Start::Anywhere`]: the prefix is distinctive enough (`ghp_`, `xoxb-`, `glpat-`,
//!   `sk-proj-`, `sk-ant-`, …) to be found even glued to the text before it (`xghp_…`, `_ghp_…`,
//!   `\nghp_…`, `abcsk-proj-…`);
//! - [`Start::Boundary`]: a short or word-like prefix (`sk-`, `AKIA`, `SG.`, `SK`) must start after
//!   a byte that is not a letter or digit, after an escape sequence (`\n`, `%0A`, `\u0022`), or at
//!   a hump before a capital (`xAKIA…`); its body must then also end at a word's end;
//! - [`Start::Glued`]: a word-like prefix whose body is distinctive enough to be found glued to
//!   text before it (OpenAI's legacy `sk-…T3BlbkFJ…`, Databricks' `dapi` + exactly 32 hex); its
//!   body must end at a word's end.
//!
//! Bodies are checked within a bounded window, so a huge body costs one memoised run plus a
//! constant (see `scan.rs`).

use std::sync::OnceLock;

use super::scan::{Alpha, Scan, starts_here, starts_here_or_hump, work};

/// Where a prefix may start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Start {
    Anywhere,
    Boundary,
    Glued,
}

/// One provider's token shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// The provider, for the docs and tests.
    pub(crate) provider: &'static str,
    pub(crate) prefix: &'static str,
    pub(crate) start: Start,
    pub(crate) body: Alpha,
    pub(crate) min: usize,
    /// A body longer than this is not this token (`usize::MAX`: any length).
    pub(crate) max: usize,
    /// Prefix bytes kept visible (a webhook's host and path).
    pub(crate) keep: usize,
    pub(crate) check: Check,
}

/// An extra check of a body (looked at within its first [`CHECK_WINDOW`] bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Check {
    None,
    /// Random-looking: digits and letters, or capitals and small letters (`sk-learn-compatible`
    /// is neither).
    Random,
    /// SendGrid: 22 characters, `.`, 43 characters.
    SendGrid,
    /// OpenAI's marker `T3BlbkFJ` (base64 of `OpenAI`) inside the body, with at least
    /// [`OPENAI_MARKER_SIDE`] characters on either side (`sk-` + 20 + `T3BlbkFJ` + 20).
    OpenAiMarker,
}

/// Characters on each side of OpenAI's marker, at least.
const OPENAI_MARKER_SIDE: usize = 16;

const CHECK_WINDOW: usize = 128;
const ANY: usize = usize::MAX;

const fn t(
    provider: &'static str,
    prefix: &'static str,
    start: Start,
    body: Alpha,
    min: usize,
    max: usize,
) -> Shape {
    Shape {
        provider,
        prefix,
        start,
        body,
        min,
        max,
        keep: 0,
        check: Check::None,
    }
}

const fn checked(shape: Shape, check: Check) -> Shape {
    Shape { check, ..shape }
}

const fn hook(provider: &'static str, prefix: &'static str) -> Shape {
    Shape {
        keep: prefix.len(),
        ..t(provider, prefix, Start::Anywhere, Alpha::Slashy, 20, ANY)
    }
}

use Alpha::{Alnum, B64, Dashed, Dotted, Hex, Slashy, UpperAlnum, UpperB32, Word};
use Start::{Anywhere, Boundary, Glued};

/// Provider tokens (SPEC §1). Documented in `docs/logging.md`; a test keeps the two in step.
pub(crate) const SHAPES: &[Shape] = &[
    checked(
        t("OpenAI", "sk-proj-", Anywhere, Dashed, 20, ANY),
        Check::Random,
    ),
    checked(
        t("OpenAI", "sk-svcacct-", Anywhere, Dashed, 20, ANY),
        Check::Random,
    ),
    checked(
        t("OpenAI", "sk-admin-", Anywhere, Dashed, 20, ANY),
        Check::Random,
    ),
    checked(
        t("Anthropic", "sk-ant-", Anywhere, Dashed, 20, ANY),
        Check::Random,
    ),
    checked(
        t("OpenAI", "sk-", Glued, Dashed, 40, ANY),
        Check::OpenAiMarker,
    ),
    checked(t("OpenAI", "sk-", Boundary, Dashed, 20, ANY), Check::Random),
    t("Stripe", "sk_live_", Anywhere, Alnum, 10, ANY),
    t("Stripe", "sk_test_", Anywhere, Alnum, 10, ANY),
    t("Stripe", "sk_prod_", Anywhere, Alnum, 10, ANY),
    t("Stripe", "rk_live_", Anywhere, Alnum, 10, ANY),
    t("Stripe", "rk_test_", Anywhere, Alnum, 10, ANY),
    t("Stripe", "rk_prod_", Anywhere, Alnum, 10, ANY),
    t("Stripe", "whsec_", Anywhere, Alnum, 20, ANY),
    t("GitHub", "ghp_", Anywhere, Alnum, 30, ANY),
    t("GitHub", "gho_", Anywhere, Alnum, 30, ANY),
    t("GitHub", "ghu_", Anywhere, Alnum, 30, ANY),
    t("GitHub", "ghs_", Anywhere, Alnum, 30, ANY),
    t("GitHub", "ghr_", Anywhere, Alnum, 30, ANY),
    t("GitHub", "github_pat_", Anywhere, Word, 40, ANY),
    t("GitLab", "glpat-", Anywhere, Dotted, 20, ANY),
    t("GitLab", "glptt-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glrt-", Anywhere, Dotted, 20, ANY),
    t("GitLab", "gldt-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glft-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glimt-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glagent-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "gloas-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glcbt-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glffct-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "glsoat-", Anywhere, Dashed, 20, ANY),
    t("GitLab", "GR1348941", Anywhere, Dashed, 20, ANY),
    t("Grafana", "glc_", Anywhere, B64, 32, ANY),
    t("Grafana", "glsa_", Anywhere, Word, 32, ANY),
    t("Slack", "xoxb-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxp-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxa-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxr-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxs-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxo-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxe-", Anywhere, Dashed, 10, ANY),
    t("Slack", "xoxe.", Anywhere, Dashed, 10, ANY),
    t("Slack", "xapp-", Anywhere, Dashed, 10, ANY),
    hook("Slack webhook", "hooks.slack.com/services/"),
    hook("Slack webhook", "hooks.slack.com/workflows/"),
    hook("Slack webhook", "hooks.slack.com/triggers/"),
    hook("Discord webhook", "discord.com/api/webhooks/"),
    hook("Discord webhook", "discordapp.com/api/webhooks/"),
    t("AWS", "AKIA", Boundary, UpperB32, 16, 16),
    t("AWS", "ASIA", Boundary, UpperB32, 16, 16),
    t("AWS", "ABIA", Boundary, UpperB32, 16, 16),
    t("AWS", "ACCA", Boundary, UpperB32, 16, 16),
    t("AWS", "A3T", Boundary, UpperAlnum, 17, 17),
    t("Google", "AIza", Boundary, Dashed, 35, ANY),
    t("Google", "ya29.", Anywhere, Dotted, 20, ANY),
    t("Google", "GOCSPX-", Anywhere, Dashed, 20, ANY),
    t("npm", "npm_", Anywhere, Alnum, 36, ANY),
    t("PyPI", "pypi-", Anywhere, Dashed, 50, ANY),
    t("Twilio", "SK", Boundary, Hex, 32, 32),
    checked(
        t("SendGrid", "SG.", Boundary, Dotted, 66, ANY),
        Check::SendGrid,
    ),
    t("Hugging Face", "hf_", Anywhere, Alnum, 30, ANY),
    t("Hugging Face", "api_org_", Anywhere, Alnum, 30, ANY),
    t("DigitalOcean", "dop_v1_", Anywhere, Alnum, 40, ANY),
    t("DigitalOcean", "doo_v1_", Anywhere, Alnum, 40, ANY),
    t("DigitalOcean", "dor_v1_", Anywhere, Alnum, 40, ANY),
    t("Shopify", "shpat_", Anywhere, Alnum, 32, ANY),
    t("Shopify", "shpss_", Anywhere, Alnum, 32, ANY),
    t("Shopify", "shpca_", Anywhere, Alnum, 32, ANY),
    t("Shopify", "shppa_", Anywhere, Alnum, 32, ANY),
    t("Linear", "lin_api_", Anywhere, Alnum, 40, ANY),
    t("1Password", "ops_eyJ", Anywhere, B64, 100, ANY),
    t("age", "AGE-SECRET-KEY-1", Anywhere, UpperAlnum, 50, ANY),
    t("Alibaba", "LTAI", Boundary, Alnum, 20, 30),
    t("Artifactory", "AKCp", Boundary, Alnum, 60, ANY),
    t("Artifactory", "cmVmd", Boundary, Alnum, 50, ANY),
    t("Atlassian", "ATATT3", Anywhere, Dotted, 150, ANY),
    t("Adobe", "p8e-", Anywhere, Alnum, 32, ANY),
    t("ClickHouse", "4b1d", Boundary, Alnum, 38, 38),
    t("Clojars", "CLOJARS_", Anywhere, Alnum, 60, ANY),
    t("Cloudflare", "v1.0-", Anywhere, Dashed, 100, ANY),
    t("Databricks", "dapi", Boundary, Dashed, 32, 34),
    t("Databricks", "dapi", Glued, Hex, 32, 32),
    t("Doppler", "dp.pt.", Anywhere, Alnum, 40, ANY),
    t("Duffel", "duffel_test_", Anywhere, Dotted, 40, ANY),
    t("Duffel", "duffel_live_", Anywhere, Dotted, 40, ANY),
    t("Dynatrace", "dt0c01.", Anywhere, Dotted, 80, ANY),
    t("EasyPost", "EZAK", Boundary, Alnum, 54, ANY),
    t("EasyPost", "EZTK", Boundary, Alnum, 54, ANY),
    t("Facebook", "EAAC", Boundary, Alnum, 100, ANY),
    t("Facebook", "EAAM", Boundary, Alnum, 100, ANY),
    t("Square", "EAAA", Boundary, Dashed, 22, ANY),
    t("Square", "sq0atp-", Anywhere, Dashed, 22, ANY),
    t("Square", "sq0csp-", Anywhere, Dashed, 40, ANY),
    t("Flutterwave", "FLWSECK_TEST-", Anywhere, Dashed, 12, ANY),
    t("Flutterwave", "FLWSECK-", Anywhere, Dashed, 12, ANY),
    t("Flutterwave", "FLWPUBK_TEST-", Anywhere, Dashed, 12, ANY),
    t("Frame.io", "fio-u-", Anywhere, Dotted, 64, ANY),
    t("Fly.io", "fo1_", Anywhere, Dashed, 43, ANY),
    t("Fly.io", "fm1a_", Anywhere, B64, 100, ANY),
    t("Fly.io", "fm1r_", Anywhere, B64, 100, ANY),
    t("Fly.io", "fm2_", Anywhere, B64, 100, ANY),
    t("HashiCorp Vault", "hvs.", Anywhere, Dashed, 90, ANY),
    t("HashiCorp Vault", "hvb.", Anywhere, Dashed, 138, ANY),
    t("Heroku", "HRKU-AA", Anywhere, Dashed, 58, ANY),
    t("Infracost", "ico-", Anywhere, Alnum, 32, ANY),
    t("Intra42", "s-s4t2ud-", Anywhere, Hex, 64, ANY),
    t("Intra42", "s-s4t2af-", Anywhere, Hex, 64, ANY),
    t("Mailgun", "key-", Boundary, Hex, 32, 32),
    t("New Relic", "NRAK-", Anywhere, Alnum, 27, ANY),
    t("New Relic", "NRJS-", Anywhere, Hex, 19, ANY),
    t("New Relic", "NRII-", Anywhere, Dashed, 32, ANY),
    t("Notion", "ntn_", Anywhere, Alnum, 40, ANY),
    t("Notion", "secret_", Boundary, Alnum, 43, 43),
    t("Octopus Deploy", "API-", Boundary, UpperAlnum, 26, 26),
    t("OpenShift", "sha256~", Anywhere, Dashed, 43, ANY),
    t("Perplexity", "pplx-", Anywhere, Alnum, 48, ANY),
    t("PlanetScale", "pscale_tkn_", Anywhere, Dotted, 32, ANY),
    t("PlanetScale", "pscale_pw_", Anywhere, Dotted, 32, ANY),
    t("PlanetScale", "pscale_oauth_", Anywhere, Dotted, 32, ANY),
    t("Postman", "PMAK-", Anywhere, Dashed, 59, ANY),
    t("Prefect", "pnu_", Anywhere, Alnum, 36, ANY),
    t("Pulumi", "pul-", Anywhere, Hex, 40, ANY),
    t("ReadMe", "rdme_", Anywhere, Alnum, 70, ANY),
    t("RubyGems", "rubygems_", Anywhere, Hex, 48, ANY),
    t("Scalingo", "tk-us-", Anywhere, Dashed, 48, ANY),
    t("Sendinblue", "xkeysib-", Anywhere, Dashed, 80, ANY),
    t("Sentry", "sntryu_", Anywhere, Hex, 64, ANY),
    t("Sentry", "sntrys_", Anywhere, Slashy, 60, ANY),
    t("SettleMint", "sm_pat_", Anywhere, Alnum, 16, ANY),
    t("SettleMint", "sm_aat_", Anywhere, Alnum, 16, ANY),
    t("SettleMint", "sm_sat_", Anywhere, Alnum, 16, ANY),
    t("Shippo", "shippo_live_", Anywhere, Hex, 40, ANY),
    t("Shippo", "shippo_test_", Anywhere, Hex, 40, ANY),
    t("Sourcegraph", "sgp_", Anywhere, Word, 40, ANY),
    t("Typeform", "tfp_", Anywhere, Dotted, 59, ANY),
    t("Yandex", "AQVN", Boundary, Dashed, 35, 38),
    t("Harness", "pat.", Boundary, Dotted, 60, ANY),
    t("Harness", "sat.", Boundary, Dotted, 60, ANY),
];

/// Every provider token prefix recognised in text, with its provider's name.
pub fn provider_prefixes() -> impl Iterator<Item = (&'static str, &'static str)> {
    SHAPES.iter().map(|s| (s.provider, s.prefix))
}

/// First bytes of the prefixes (and of `Bearer`) the walk must stop at. Prefixes starting with
/// a digit or punctuation are few and listed too.
pub(crate) const LETTER_STARTS: &[u8] = b"ABCEFGHLNPSacdfghiklnoprstvwxyb4";

/// Every two-byte start of a prefix (and of `Bearer`), one bit per pair: most letters are turned
/// away after one look-up.
static PAIRS: [u64; 1024] = {
    const fn set(table: &mut [u64; 1024], a: u8, b: u8) {
        let pair = (a as usize) << 8 | b as usize;
        table[pair / 64] |= 1 << (pair % 64);
    }
    let mut table = [0u64; 1024];
    let mut i = 0;
    while i < SHAPES.len() {
        let p = SHAPES[i].prefix.as_bytes();
        set(&mut table, p[0], p[1]);
        i += 1;
    }
    set(&mut table, b'B', b'e');
    set(&mut table, b'B', b'E');
    set(&mut table, b'b', b'e');
    set(&mut table, b'b', b'E');
    let wide = super::notation::WIDE_SEPARATORS;
    let mut w = 0;
    while w < wide.len() {
        set(&mut table, wide[w][0], wide[w][1]);
        w += 1;
    }
    table
};

#[inline]
pub(crate) fn is_start_pair(a: u8, b: u8) -> bool {
    let pair = usize::from(a) << 8 | usize::from(b);
    PAIRS[pair / 64] & (1 << (pair % 64)) != 0
}

/// The table sorted by first byte, with each first byte's slice.
struct Index {
    sorted: Vec<Shape>,
    by_first: [(u16, u16); 256],
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut sorted = SHAPES.to_vec();
        // Longer prefixes first within a first byte, so `sk-ant-` is tried before `sk-`.
        sorted.sort_by(|a, b| {
            (a.prefix.as_bytes()[0], std::cmp::Reverse(a.prefix.len()))
                .cmp(&(b.prefix.as_bytes()[0], std::cmp::Reverse(b.prefix.len())))
        });
        let mut by_first = [(0u16, 0u16); 256];
        for (n, s) in sorted.iter().enumerate() {
            let slot = &mut by_first[usize::from(s.prefix.as_bytes()[0])];
            if slot.1 == 0 {
                // The table has far fewer than 65,536 entries.
                slot.0 = n as u16;
            }
            slot.1 += 1;
        }
        Index { sorted, by_first }
    })
}

/// A provider token, or `Bearer <token>`, starting at the letter (or digit) at `i`.
pub(crate) fn at_letter(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let second = *bytes.get(i + 1)?;
    if !is_start_pair(bytes[i], second) {
        return None;
    }
    let is_bearer = matches!(bytes[i], b'B' | b'b') && matches!(second, b'e' | b'E');
    if let Some(end) = is_bearer.then(|| bearer(scan, i)).flatten() {
        return Some(end);
    }
    let index = index();
    let (first, count) = index.by_first[usize::from(bytes[i])];
    let candidates = &index.sorted[usize::from(first)..usize::from(first) + usize::from(count)];
    for shape in candidates {
        work(1);
        let prefix = shape.prefix.as_bytes();
        if prefix.get(1) != Some(&second) || !bytes[i..].starts_with(prefix) {
            continue;
        }
        if let Some(end) = token(scan, i, shape) {
            return Some(end);
        }
    }
    None
}

/// Redacts the token of `shape` whose prefix starts at `i`, if its body fits.
fn token(scan: &mut Scan<'_, '_>, i: usize, shape: &Shape) -> Option<usize> {
    let bytes = scan.bytes;
    if shape.start == Start::Boundary && !starts_here_or_hump(bytes, i) {
        return None;
    }
    let boundary = shape.start != Start::Anywhere;
    let body_start = i + shape.prefix.len();
    let end = scan.run_end(shape.body, body_start);
    let len = end - body_start;
    if len < shape.min || len > shape.max {
        return None;
    }
    if boundary && bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let window = &bytes[body_start..end.min(body_start + CHECK_WINDOW)];
    let end = match shape.check {
        Check::None => end,
        Check::Random => looks_random(window).then_some(end)?,
        Check::SendGrid => sendgrid(window).map(|n| body_start + n)?,
        Check::OpenAiMarker => openai_marker(window).then_some(end)?,
    };
    Some(scan.redact(i + shape.keep..end))
}

fn looks_random(body: &[u8]) -> bool {
    let has = |f: fn(&u8) -> bool| body.iter().any(f);
    (has(u8::is_ascii_digit) && has(u8::is_ascii_alphabetic))
        || (has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase))
}

/// `T3BlbkFJ` with [`OPENAI_MARKER_SIDE`] characters or more on either side, within the window.
fn openai_marker(body: &[u8]) -> bool {
    body.windows(8)
        .enumerate()
        .skip(OPENAI_MARKER_SIDE)
        .any(|(at, w)| w == b"T3BlbkFJ" && body.len() >= at + 8 + OPENAI_MARKER_SIDE)
}

/// SendGrid's `SG.` + 22 + `.` + 43: the length of the token's body, or `None`.
fn sendgrid(body: &[u8]) -> Option<usize> {
    let part = |r: &[u8]| r.iter().all(|b| Alpha::Dashed.has(*b));
    let ok = body.len() >= 66 && part(&body[..22]) && body[22] == b'.' && part(&body[23..66]);
    ok.then_some(66)
}

/// `eyJ…` header `.` `ey…` payload `.` signature, found from the first `.` at `i`: the whole
/// token goes. The header may be glued to text before it (`abceyJ…`).
pub(crate) fn jwt(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let mut start = i;
    while start > 0 && Alpha::Dashed.has(bytes[start - 1]) {
        start -= 1;
    }
    work(2 * (i - start));
    let header = bytes[start..i].windows(3).position(|w| w == b"eyJ")? + start;
    if i - header < 10 || !bytes[i + 1..].starts_with(b"ey") {
        return None;
    }
    let payload_end = scan.run_end(Alpha::Dashed, i + 1);
    if payload_end - (i + 1) < 10 || bytes.get(payload_end) != Some(&b'.') {
        return None;
    }
    let end = scan.run_end(Alpha::Slashy, payload_end + 1);
    Some(scan.redact(header..end))
}

/// `Bearer <token>` anywhere in text: the token goes, the scheme stays. The token must look like
/// one (16 characters, or 8 with a digit or symbol) so that "the bearer of bad news" stays, and
/// like RFC 6750's `b64token`, whose `=` only pads its end: `token_type=bearer tokens_used=1500`
/// is a scheme named as a value followed by another pair, not a credential.
fn bearer(scan: &mut Scan<'_, '_>, i: usize) -> Option<usize> {
    let bytes = scan.bytes;
    let word = bytes.get(i..i + 6)?;
    if !word.eq_ignore_ascii_case(b"bearer") || !starts_here(bytes, i) {
        return None;
    }
    let mut start = i + 6;
    while bytes.get(start).is_some_and(|b| matches!(b, b' ' | b'\t')) {
        start += 1;
    }
    if start == i + 6 {
        return None;
    }
    let end = scan.run_end(Alpha::Bearer, start);
    let token = &bytes[start..end.min(start + CHECK_WINDOW)];
    let len = end - start;
    let looks_like_token =
        len >= 16 || (len >= 8 && token.iter().any(|b| !b.is_ascii_alphabetic()));
    let padded_inside = token
        .iter()
        .position(|b| *b == b'=')
        .is_some_and(|at| token[at..].iter().any(|b| *b != b'='));
    if !looks_like_token || padded_inside {
        return None;
    }
    Some(scan.redact(start..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_start_is_a_stop_of_the_walk() {
        for shape in SHAPES {
            let first = shape.prefix.as_bytes()[0];
            assert!(is_start_pair(first, shape.prefix.as_bytes()[1]));
            assert!(
                LETTER_STARTS.contains(&first),
                "{} starts with a byte the walk skips",
                shape.prefix
            );
        }
    }

    #[test]
    fn every_provider_is_documented() {
        let docs = include_str!("../../../../docs/logging.md");
        for shape in SHAPES {
            let row = format!("| {} |", shape.provider);
            assert!(
                docs.contains(&row),
                "{} is missing from docs/logging.md",
                shape.provider
            );
            assert!(
                docs.contains(&format!("`{}…`", shape.prefix)),
                "{}",
                shape.prefix
            );
        }
    }

    #[test]
    fn bodies_that_do_not_look_random_are_not_tokens() {
        assert!(looks_random(b"Ab3xYz"));
        assert!(!looks_random(b"learn-compatible-estimator"));
        assert_eq!(
            sendgrid(b"production-cluster-01.internal.example.com"),
            None
        );
    }
}
