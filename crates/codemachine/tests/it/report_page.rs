//! `telemetry report --html FILE`: the page as a person sees it (rendered by headless Chromium
//! from Debian's packages, offline, from `file://`), what it may load (nothing, checked in the
//! HTML and in the browser's network log), its figures against `--json`, and where it may be
//! written (only a regular file of its own: never through a link, into a FIFO, a device or a
//! folder).
//!
//! The screenshot of the rendering test is kept at `target/tmp/report-page.png`, for a person
//! to look at.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::support::{
    DAY_MS, codemachine, command_line, feature_line, fifo_with_reader, isolate, mkfifo, now_ms,
    report_json, run, text, write_batch,
};

/// Where Debian's package puts it.
const CHROMIUM: &str = "/usr/bin/chromium";

/// A home whose spool holds a few weeks of commands and features, odd names included.
fn sample_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let now = now_ms();
    let mut lines = Vec::new();
    let commands = [
        ("build", 1200),
        ("test", 5000),
        ("logs.pretty", 30),
        ("<script>alert(1)</script>", 8),
        ("a&b\"c]]></svg>", 400),
    ];
    for i in 0..1500u64 {
        let (name, scale) = commands[(i % 5) as usize];
        let ms = now - (i * 37 % 30) * DAY_MS;
        let duration = scale * (5 + i * 7919 % 23) / 10;
        lines.push(command_line(ms, name, duration, i32::from(i % 9 == 0)));
        if i % 3 == 0 {
            let feature = ["export.csv", "cache.hit", "<img src=x>"][(i % 9 / 3) as usize];
            lines.push(feature_line(ms, feature, i % 5 + 1));
        }
    }
    write_batch(home.path(), "spool", 1, lines.concat().as_bytes());
    home
}

fn write_page(home: &Path, page: &Path) -> std::process::Output {
    run(
        codemachine(home),
        [
            "telemetry".as_ref(),
            "report".as_ref(),
            "--html".as_ref(),
            page.as_os_str(),
        ],
    )
}

/// Text of HTML with our five escapes undone.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The `<title>` texts inside the figure of `kind` number `index`, unescaped.
fn titles(html: &str, kind: &str, index: usize) -> Vec<String> {
    let start = format!("<figure class=\"chart\" data-kind=\"{kind}\" data-index=\"{index}\">");
    let Some(at) = html.find(&start) else {
        return Vec::new();
    };
    let figure = &html[at..at + html[at..].find("</figure>").unwrap()];
    titles_in(figure)
}

fn titles_in(html: &str) -> Vec<String> {
    html.split("<title>")
        .skip(1)
        .map(|t| unescape(&t[..t.find("</title>").unwrap()]))
        .collect()
}

/// The figures the charts of one name say, per day: `day → (count, failed)`.
fn day_figures(titles: &[String], unit: &str) -> BTreeMap<String, (u64, u64)> {
    titles
        .iter()
        .filter_map(|t| {
            let (day, rest) = t.split_once(": ")?;
            if day.len() != 10 || !day.starts_with("20") {
                return None;
            }
            let count = rest.split(&format!(" {unit}")).next()?.parse().ok()?;
            let failed = rest
                .split(", ")
                .nth(1)
                .and_then(|f| f.strip_suffix(" failed")?.parse().ok())
                .unwrap_or(0);
            Some((day.to_owned(), (count, failed)))
        })
        .collect()
}

fn json_days(row: &Json) -> BTreeMap<String, (u64, u64)> {
    row["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let day = d["day"].as_str().unwrap().to_owned();
            (
                day,
                (
                    d["count"].as_u64().unwrap(),
                    d["failures"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn the_page_loads_nothing_escapes_every_name_and_its_charts_say_the_json_figures() {
    let home = sample_home();
    let page = home.path().join("report.html");
    let out = write_page(home.path(), &page);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_loads_nothing(&html);
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a&amp;b&quot;c]]&gt;&lt;/svg&gt;"));
    let json = report_json(codemachine(home.path()), &[]);
    for (i, row) in json["commands"].as_array().unwrap().iter().enumerate() {
        let name = row["name"].as_str().unwrap();
        let series = titles(&html, "command", i);
        assert_eq!(series[0], format!("{name}: runs per day"));
        assert_eq!(day_figures(&series, "runs"), json_days(row), "{name}");
        let shown: Vec<String> = titles(&html, "duration", i)
            .into_iter()
            .filter(|t| t.ends_with(" runs"))
            .collect();
        let expected: Vec<String> = row["durations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| match b["to_ms"].as_u64() {
                Some(to) => format!("{}–{} ms: {} runs", b["from_ms"], to - 1, b["count"]),
                None => format!("≥ {} ms: {} runs", b["from_ms"], b["count"]),
            })
            .collect();
        assert_eq!(shown, expected, "{name}'s distribution");
    }
    for (i, row) in json["features"].as_array().unwrap().iter().enumerate() {
        let series = titles(&html, "feature", i);
        assert_eq!(day_figures(&series, "uses"), json_days(row));
    }
    let activity = &html[html.find("<section id=\"activity\">").unwrap()
        ..html.find("<section id=\"commands\">").unwrap()];
    let shown: Vec<String> = titles_in(activity).into_iter().skip(1).collect();
    let expected: Vec<String> = json["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}: {} runs, {} failed, {} feature uses",
                d["day"].as_str().unwrap(),
                d["commands"],
                d["failures"],
                d["features"]
            )
        })
        .collect();
    assert_eq!(shown, expected);
}

/// The page asks for nothing: no element that fetches (script, stylesheet link, frame, image,
/// object, media, base), no attribute that names something to fetch (`src`, `href`, `srcset`,
/// `xlink:href`, a `url()` in a style), no `@import`, font or `url()` in the style sheet, and no
/// `http://`, `https://` or scheme-relative `//` URL in any tag. Text from data is escaped, so
/// every `<` of the page opens one of our tags.
fn assert_loads_nothing(html: &str) {
    let lower = html.to_lowercase();
    let tags: Vec<&str> = lower
        .split('<')
        .skip(1)
        .map(|rest| &rest[..rest.find('>').expect("every tag closes")])
        .collect();
    for tag in &tags {
        let name = tag
            .split([' ', '/', '\n'])
            .find(|w| !w.is_empty())
            .unwrap_or("");
        let fetching = [
            "script", "link", "iframe", "frame", "object", "embed", "img", "image", "use", "base",
            "audio", "video", "source", "track", "picture", "form", "input", "feimage",
        ];
        assert!(!fetching.contains(&name), "a <{name}> element: <{tag}>");
        for attribute in [
            "src=", "href=", "srcset=", "xlink:", "url(", "http:", "https:", "\"//", "'//",
        ] {
            assert!(!tag.contains(attribute), "{attribute} in <{tag}>");
        }
    }
    let style = &lower[lower.find("<style>").unwrap()..lower.find("</style>").unwrap()];
    for banned in ["url(", "@import", "@font-face", "http", "//"] {
        assert!(!style.contains(banned), "{banned} in the style sheet");
    }
    assert_eq!(lower.matches("<style>").count(), 1, "one style sheet");
    assert!(
        lower.contains("content-security-policy\" content=\"default-src 'none'"),
        "the browser is told to fetch nothing"
    );
}

/// Runs Chromium on `page`; returns the screenshot and the network log.
fn render(page: &Path, scratch: &Path) -> (PathBuf, Json) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is required by this test: apt-get install chromium (.ci/test installs it)"
    );
    let png = scratch.join("page.png");
    let net_log = scratch.join("net-log.json");
    let mut cmd = Command::new(CHROMIUM);
    isolate(&mut cmd, scratch);
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        // The browser's own background requests must not reach the internet from a test; the
        // page's would still be logged (they start before any name is resolved).
        "--host-resolver-rules=MAP * ~NOTFOUND".to_owned(),
        format!("--user-data-dir={}", scratch.join("profile").display()),
        format!("--screenshot={}", png.display()),
        "--window-size=1200,1600".to_owned(),
        format!("--log-net-log={}", net_log.display()),
        format!("file://{}", page.display()),
    ];
    let out = run(cmd, args);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        text(&out.stderr)
    );
    let log = std::fs::read_to_string(&net_log).expect("chromium wrote its network log");
    (
        png,
        serde_json::from_str(&log).expect("the network log is JSON"),
    )
}

/// URLs the page asked for: requests started on behalf of a document (the browser's own
/// requests, such as its update checks, have no initiator).
fn page_requests(net_log: &Json) -> Vec<String> {
    let start_job = net_log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .unwrap();
    net_log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter_map(|e| {
            let params = &e["params"];
            let url = params["url"].as_str()?;
            let initiator = params["initiator"].as_str().unwrap_or("not an origin");
            let by_page = initiator != "not an origin"
                || params["network_isolation_key"]
                    .as_str()
                    .is_some_and(|k| k.contains("file://"));
            by_page.then(|| url.to_owned())
        })
        .collect()
}

/// Width and height from a PNG's header.
fn png_size(png: &Path) -> (u32, u32) {
    let bytes = std::fs::read(png).expect("a screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn chromium_renders_the_page_offline_from_file_and_it_fetches_nothing() {
    let home = sample_home();
    let page = home.path().join("report.html");
    assert!(write_page(home.path(), &page).status.success());
    let scratch = tempfile::tempdir().unwrap();
    let (png, net_log) = render(&page, scratch.path());
    assert_eq!(page_requests(&net_log), Vec::<String>::new());
    assert_eq!(png_size(&png), (1200, 1600));
    let size = std::fs::metadata(&png).unwrap().len();
    assert!(
        size > 60_000,
        "a page full of charts, not a blank one: {size} bytes"
    );
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-page.png");
    std::fs::copy(&png, kept).unwrap();
}

#[test]
fn the_browser_check_does_see_a_page_that_fetches_something() {
    // The check above must be able to fail: a page with a remote image and stylesheet is caught.
    let scratch = tempfile::tempdir().unwrap();
    let page = scratch.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><style>body{background:url(http://127.0.0.1:9/bg.png)}</style></head><body><img src=\"https://example.invalid/x.png\"></body></html>",
    )
    .unwrap();
    let (_, net_log) = render(&page, scratch.path());
    let mut asked = page_requests(&net_log);
    asked.sort();
    assert_eq!(
        asked,
        ["http://127.0.0.1:9/bg.png", "https://example.invalid/x.png"]
    );
}

#[test]
fn the_page_is_written_only_to_a_regular_file_of_its_own() {
    let home = sample_home();
    let dir = home.path();
    let refused = |target: &Path, why: &str| {
        let out = write_page(dir, target);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            target.display(),
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("the page was not written") && stderr.contains(why),
            "{stderr}"
        );
    };
    // A link to a file that must not change (as /etc/passwd would be).
    let victim = dir.join("passwd");
    std::fs::write(&victim, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let link = dir.join("link.html");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    refused(&link, "symbolic link");
    let dangling = dir.join("dangling.html");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
    refused(&dangling, "symbolic link");
    assert!(
        !dir.join("nowhere").exists(),
        "not created through the link"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "root:x:0:0:root:/root:/bin/bash\n"
    );
    // A link to /etc/passwd itself: refused before anything is opened for writing.
    let passwd = std::fs::read("/etc/passwd").unwrap();
    let to_passwd = dir.join("to-passwd.html");
    std::os::unix::fs::symlink("/etc/passwd", &to_passwd).unwrap();
    refused(&to_passwd, "symbolic link");
    assert_eq!(std::fs::read("/etc/passwd").unwrap(), passwd);
    // A FIFO without a reader (no hang) and with one.
    let fifo = dir.join("fifo.html");
    mkfifo(&fifo);
    refused(&fifo, "FIFO");
    std::fs::remove_file(&fifo).unwrap();
    let _reader = fifo_with_reader(&fifo);
    refused(&fifo, "not a regular file");
    refused(dir, "folder");
    refused(Path::new("/dev/full"), "not a regular file");
    refused(Path::new("/dev/null"), "not a regular file");
    let hard = dir.join("hard.html");
    std::fs::hard_link(&victim, &hard).unwrap();
    refused(&hard, "hard links");
    refused(&dir.join("missing-folder/page.html"), "no such file");
    // Never into the telemetry folder, which the report only reads (nor through a link to it).
    let telemetry = crate::support::telemetry_dir(dir);
    refused(
        &telemetry.join("spool/page.html"),
        "inside the telemetry folder",
    );
    std::os::unix::fs::symlink(&telemetry, dir.join("alias")).unwrap();
    refused(&dir.join("alias/page.html"), "inside the telemetry folder");
    assert!(!telemetry.join("page.html").exists() && !telemetry.join("spool/page.html").exists());
    // A new file is private; an existing one of its own is replaced and made private.
    let fresh = dir.join("fresh.html");
    assert!(write_page(dir, &fresh).status.success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&fresh), 0o600);
    let old = dir.join("old.html");
    std::fs::write(&old, "x".repeat(10_000_000)).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(write_page(dir, &old).status.success());
    assert_eq!(mode(&old), 0o600);
    let replaced = std::fs::read_to_string(&old).unwrap();
    assert!(replaced.starts_with("<!DOCTYPE html>") && replaced.len() < 1_000_000);
}

#[test]
fn the_static_check_does_catch_a_page_that_would_fetch_something() {
    // The check of the page's HTML must be able to fail.
    let good = "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><style>b{}</style></head><body>&lt;img src=x&gt; http://text</body></html>";
    assert_loads_nothing(good);
    for bad in [
        "<script>1</script>",
        "<link rel=stylesheet href=\"x.css\">",
        "<img src=\"//cdn.example/x.png\">",
        "<svg><image href=\"https://example.invalid/x.png\"/></svg>",
        "<svg><use xlink:href=\"file:///etc/x.svg#a\"/></svg>",
        "<div style=\"background:url(x.png)\"></div>",
        "<a href=\"https://example.invalid\">x</a>",
    ] {
        let page = good.replace("<body>", &format!("<body>{bad}"));
        let caught = std::panic::catch_unwind(|| assert_loads_nothing(&page)).is_err();
        assert!(caught, "{bad}");
    }
    for bad_style in [
        "@import 'x.css';",
        "@font-face{src:url(x.woff)}",
        "b{background:url(x)}",
    ] {
        let page = good.replace("b{}", bad_style);
        let caught = std::panic::catch_unwind(|| assert_loads_nothing(&page)).is_err();
        assert!(caught, "{bad_style}");
    }
}
