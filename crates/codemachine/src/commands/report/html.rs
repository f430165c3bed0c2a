//! The report as one self-contained HTML page: inline CSS and inline SVG charts (activity per
//! day, a time series per command and per feature, each command's duration distribution) and
//! the tables.
//!
//! The page loads nothing: no script, no font, no image, no stylesheet, no link to anything; it
//! reads the same from `file://` offline. A Content-Security-Policy of `default-src 'none'`
//! says so to the browser too, so even a mistake here could not fetch anything. Every text from
//! data is cleaned (secrets scrubbed, control characters escaped) and then HTML-escaped, in
//! element text and in attributes alike. Each chart carries its figures as text (`<title>` of
//! every bar: `2026-11-27: 12 runs, 1 failed`), which people see on hover and tests compare with
//! `--json`.

use std::collections::HashMap;
use std::fmt::Write as _;

use codemachine_telemetry::metrics::history::tally::{BUCKETS, bucket_of, bucket_range};
use codemachine_telemetry::report::{CommandRow, DayCount, Report};

use super::table::duration;
use crate::output::clean;

/// Names drawn as charts, per kind (the tables list every name).
pub const CHART_NAMES: usize = 60;

const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const BOTTOM: f64 = 20.0;

/// A chart's size, and the room above its plot (for the median and p95 labels).
#[derive(Clone, Copy)]
struct Frame {
    width: f64,
    height: f64,
    top: f64,
}

/// The activity chart spans the page.
const WIDE: Frame = Frame {
    width: 1120.0,
    height: 160.0,
    top: 10.0,
};
/// A name's time series, two a row.
const SMALL: Frame = Frame {
    width: 540.0,
    height: 90.0,
    top: 10.0,
};
/// A duration distribution, with room for its labels.
const DISTRIBUTION: Frame = Frame {
    width: 540.0,
    height: 130.0,
    top: 30.0,
};

const STYLE: &str = "
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1d2433; margin: 24px auto; max-width: 1160px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
p.meta { color: #5a6478; margin: 0; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eef0f4; }
th:first-child, td:first-child { text-align: left; }
td.name { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; max-width: 360px; overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px 20px; }
figure { margin: 0; }
figcaption { font-size: 13px; margin-bottom: 2px; overflow-wrap: anywhere; }
figcaption b { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; }
svg { display: block; max-width: 100%; height: auto; background: #fafbfc; border: 1px solid #eef0f4; }
svg text { font: 10px system-ui, sans-serif; fill: #5a6478; }
.runs { fill: #3b6fb6; } .failed { fill: #d04a3a; } .uses { fill: #2a9d8f; } .dist { fill: #7a5cc2; }
.axis { stroke: #9aa3b2; stroke-width: 1; } .mark { stroke: #1d2433; stroke-dasharray: 3 2; }
p.note { color: #5a6478; font-size: 13px; }
";

/// The whole page.
pub fn page(report: &Report) -> String {
    let days = report.chart_days();
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out);
    header(&mut out, report);
    activity(&mut out, report, &days);
    commands(&mut out, report, &days);
    features(&mut out, report, &days);
    footer(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

/// Names are shown up to this many characters (ours have at most 64).
const NAME_CHARS: usize = 120;

/// A name as the page shows it: cut to [`NAME_CHARS`], then escaped.
fn name(text: &str) -> String {
    esc(&cut_name(text))
}

/// A name cut to [`NAME_CHARS`] (with `…`), not yet escaped.
fn cut_name(text: &str) -> String {
    if text.chars().count() <= NAME_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(NAME_CHARS - 1).collect();
    format!("{cut}…")
}

/// Text from data, safe in HTML element text and in quoted attributes.
fn esc(text: &str) -> String {
    let clean = clean(text);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn head(out: &mut String) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>codemachine telemetry report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n");
}

fn header(out: &mut String, report: &Report) {
    let span = match (&report.first_day, &report.last_day) {
        (Some(first), Some(last)) => format!("{first} to {last} (UTC)"),
        _ => "nothing recorded yet".to_owned(),
    };
    let since = report
        .since
        .as_ref()
        .map_or(String::new(), |d| format!(", since {d}"));
    let t = &report.totals;
    let _ = writeln!(
        out,
        "<header>\n<h1>Your codemachine telemetry</h1>\n<p class=\"meta\">{}{} · generated {} · {} buffered events and {} history day-rows read · this page and its data stay on this machine</p>\n<p class=\"meta\" id=\"totals\">{} command runs ({} failed), {} feature uses</p>\n</header>",
        esc(&span),
        esc(&since),
        esc(&report.generated_at),
        report.sources.buffered_events,
        report.sources.history_rows,
        t.commands,
        t.failures,
        t.features,
    );
}

fn activity(out: &mut String, report: &Report, days: &[String]) {
    out.push_str("<section id=\"activity\">\n<h2>Activity per day</h2>\n");
    let by_day: HashMap<&str, _> = report
        .activity
        .iter()
        .map(|d| (d.day.as_str(), d))
        .collect();
    let bars: Vec<Bar> = days
        .iter()
        .map(|day| {
            let d = by_day.get(day.as_str());
            let (runs, failed, uses) =
                d.map_or((0, 0, 0), |d| (d.commands, d.failures, d.features));
            Bar {
                title: (runs + uses > 0)
                    .then(|| format!("{day}: {runs} runs, {failed} failed, {uses} feature uses")),
                parts: vec![
                    ("failed", failed),
                    ("runs", runs - failed.min(runs)),
                    ("uses", uses),
                ],
            }
        })
        .collect();
    let labels = (days.first(), days.last());
    let _ = writeln!(
        out,
        "{}",
        bar_chart(
            "all commands and features per day",
            &bars,
            WIDE,
            labels_of(labels)
        )
    );
    out.push_str("<p class=\"note\">Blue: command runs; red: failed runs; green: feature uses. Hover a bar for its figures.</p>\n</section>\n");
}

fn labels_of(days: (Option<&String>, Option<&String>)) -> (String, String) {
    (
        days.0.cloned().unwrap_or_default(),
        days.1.cloned().unwrap_or_default(),
    )
}

fn commands(out: &mut String, report: &Report, days: &[String]) {
    if report.commands.is_empty() {
        return;
    }
    out.push_str("<section id=\"commands\">\n<h2>Commands</h2>\n<table>\n<tr><th>command</th><th>runs</th><th>failed</th><th>failure rate</th><th>median</th><th>p95</th><th>shortest</th><th>longest</th></tr>\n");
    for row in &report.commands {
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{:.1}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            name(&row.name),
            row.count,
            row.failures,
            row.failure_rate * 100.0,
            duration(row.median_ms),
            duration(row.p95_ms),
            duration(row.min_ms),
            duration(row.max_ms),
        );
    }
    out.push_str("</table>\n<h2>Runs per day, by command</h2>\n<div class=\"grid\">\n");
    let labels = labels_of((days.first(), days.last()));
    for (i, row) in report.commands.iter().take(CHART_NAMES).enumerate() {
        let caption = format!(
            "<b>{}</b> — {} runs, {:.1}% failed",
            name(&row.name),
            row.count,
            row.failure_rate * 100.0
        );
        let bars = day_bars(&row.days, days, "runs", true);
        let chart = bar_chart(
            &format!("{}: runs per day", cut_name(&row.name)),
            &bars,
            SMALL,
            labels.clone(),
        );
        figure(out, "command", i, &caption, &chart);
    }
    out.push_str("</div>\n");
    more_than_charted(out, report.commands.len(), "commands");
    out.push_str("<h2>Duration distribution, by command</h2>\n<div class=\"grid\">\n");
    for (i, row) in report.commands.iter().take(CHART_NAMES).enumerate() {
        if row.durations.is_empty() {
            continue;
        }
        let caption = format!(
            "<b>{}</b> — median {}, p95 {}",
            name(&row.name),
            duration(row.median_ms),
            duration(row.p95_ms)
        );
        figure(out, "duration", i, &caption, &distribution(row));
    }
    out.push_str("</div>\n</section>\n");
}

fn features(out: &mut String, report: &Report, days: &[String]) {
    if report.features.is_empty() {
        return;
    }
    out.push_str("<section id=\"features\">\n<h2>Features</h2>\n<table>\n<tr><th>feature</th><th>uses</th></tr>\n");
    for row in &report.features {
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td>{}</td></tr>",
            name(&row.name),
            row.count
        );
    }
    out.push_str("</table>\n<h2>Uses per day, by feature</h2>\n<div class=\"grid\">\n");
    let labels = labels_of((days.first(), days.last()));
    for (i, row) in report.features.iter().take(CHART_NAMES).enumerate() {
        let caption = format!("<b>{}</b> — {} uses", name(&row.name), row.count);
        let bars = day_bars(&row.days, days, "uses", false);
        let chart = bar_chart(
            &format!("{}: uses per day", cut_name(&row.name)),
            &bars,
            SMALL,
            labels.clone(),
        );
        figure(out, "feature", i, &caption, &chart);
    }
    out.push_str("</div>\n");
    more_than_charted(out, report.features.len(), "features");
    out.push_str("</section>\n");
}

fn more_than_charted(out: &mut String, n: usize, what: &str) {
    if n > CHART_NAMES {
        let _ = writeln!(
            out,
            "<p class=\"note\">Charts for the {CHART_NAMES} most used; the other {} {what} are in the table.</p>",
            n - CHART_NAMES
        );
    }
}

fn figure(out: &mut String, kind: &str, index: usize, caption: &str, chart: &str) {
    let _ = writeln!(
        out,
        "<figure class=\"chart\" data-kind=\"{kind}\" data-index=\"{index}\">\n<figcaption>{caption}</figcaption>\n{chart}\n</figure>"
    );
}

fn footer(out: &mut String, report: &Report) {
    let s = &report.skipped;
    let _ = writeln!(
        out,
        "<footer>\n<h2>Left out</h2>\n<p class=\"note\" id=\"skipped\">{} torn or corrupted lines, {} unreadable history lines, {} events without a readable time, {} events stamped in the future, {} entries of the folder not read.</p>",
        s.torn_lines,
        s.history_lines,
        s.undated_events,
        s.future_events,
        s.entries.len()
    );
    for entry in &s.entries {
        let _ = writeln!(
            out,
            "<p class=\"note\">{}: {}</p>",
            esc(&entry.path.display().to_string()),
            esc(&entry.why)
        );
    }
    out.push_str("</footer>\n");
}

/// One bar: its hover text (none for an empty day) and its stacked parts, bottom first, as
/// (CSS class, value).
struct Bar {
    title: Option<String>,
    parts: Vec<(&'static str, u64)>,
}

/// A bar per day of `days` from one name's counts.
fn day_bars(counts: &[DayCount], days: &[String], unit: &'static str, failures: bool) -> Vec<Bar> {
    let by_day: HashMap<&str, &DayCount> = counts.iter().map(|d| (d.day.as_str(), d)).collect();
    days.iter()
        .map(|day| match by_day.get(day.as_str()) {
            None => Bar {
                title: None,
                parts: Vec::new(),
            },
            Some(d) if failures => Bar {
                title: Some(format!("{day}: {} {unit}, {} failed", d.count, d.failures)),
                parts: vec![
                    ("failed", d.failures),
                    (unit, d.count - d.failures.min(d.count)),
                ],
            },
            Some(d) => Bar {
                title: Some(format!("{day}: {} {unit}", d.count)),
                parts: vec![(unit, d.count)],
            },
        })
        .collect()
}

/// An SVG bar chart: `bars` left to right, a y scale to the tallest, labels under the ends.
fn bar_chart(title: &str, bars: &[Bar], frame: Frame, (left, right): (String, String)) -> String {
    let Frame { width, height, top } = frame;
    let total = |b: &Bar| b.parts.iter().fold(0u64, |t, (_, v)| t.saturating_add(*v));
    let max = bars.iter().map(total).max().unwrap_or(0).max(1);
    let plot_w = width - LEFT - RIGHT;
    let plot_h = height - top - BOTTOM;
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\"><title>{}</title>",
        esc(title)
    );
    axes(&mut svg, frame, max, &left, &right);
    for (i, bar) in bars.iter().enumerate() {
        let Some(title) = &bar.title else { continue };
        let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
        let _ = write!(svg, "<g><title>{}</title>", esc(title));
        let mut y = top + plot_h;
        for (class, value) in &bar.parts {
            let h = *value as f64 / max as f64 * plot_h;
            if h > 0.0 {
                y -= h;
                let _ = write!(
                    svg,
                    "<rect class=\"{class}\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{bar_w:.2}\" height=\"{:.2}\"/>",
                    h.max(0.5)
                );
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// The baseline, the y scale's top value, and the labels under both ends.
fn axes(svg: &mut String, frame: Frame, max: u64, left: &str, right: &str) {
    let Frame { width, height, top } = frame;
    let base = height - BOTTOM;
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{top}\" x2=\"{LEFT}\" y2=\"{base}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text>\
         <text x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>\
         <text x=\"{LEFT}\" y=\"{}\">{}</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        width - RIGHT,
        LEFT - 4.0,
        top + 8.0,
        LEFT - 4.0,
        height - 6.0,
        esc(left),
        width - RIGHT,
        height - 6.0,
        esc(right),
    );
}

/// A command's duration histogram: a bar per bucket from its shortest to its longest run (the
/// buckets no whole millisecond falls into left out), the median and p95 marked.
fn distribution(row: &CommandRow) -> String {
    let counts: HashMap<u64, u64> = row.durations.iter().map(|b| (b.from_ms, b.count)).collect();
    let first = row.durations.first().map_or(0, |b| bucket_of(b.from_ms));
    let last = row.durations.last().map_or(0, |b| bucket_of(b.from_ms));
    let buckets: Vec<usize> = (first..=last.min(BUCKETS - 1))
        .filter(|i| bucket_range(*i).1.is_none_or(|to| to > bucket_range(*i).0))
        .collect();
    let bars: Vec<Bar> = buckets
        .iter()
        .map(|i| {
            let (from, to) = bucket_range(*i);
            let n = counts.get(&from).copied().unwrap_or(0);
            let range = match to {
                Some(to) => format!("{from}–{} ms", to - 1),
                None => format!("≥ {from} ms"),
            };
            Bar {
                title: (n > 0).then(|| format!("{range}: {n} runs")),
                parts: vec![("dist", n)],
            }
        })
        .collect();
    let low = duration(Some(bucket_range(first).0));
    let high = duration(Some(
        bucket_range(last)
            .1
            .map_or(bucket_range(last).0, |to| to - 1),
    ));
    let mut chart = bar_chart(
        &format!("{}: durations", cut_name(&row.name)),
        &bars,
        DISTRIBUTION,
        (low, high),
    );
    let marks = markers(row, &buckets);
    chart.insert_str(chart.len() - "</svg>".len(), &marks);
    chart
}

/// Dashed lines at the median's and the p95's buckets.
fn markers(row: &CommandRow, buckets: &[usize]) -> String {
    let Frame { width, height, top } = DISTRIBUTION;
    let slot = (width - LEFT - RIGHT) / buckets.len().max(1) as f64;
    let mut svg = String::new();
    for (label, ms) in [("median", row.median_ms), ("p95", row.p95_ms)] {
        let Some(ms) = ms else { continue };
        let Some(at) = buckets.iter().position(|i| *i == bucket_of(ms)) else {
            continue;
        };
        let x = LEFT + (at as f64 + 0.5) * slot;
        // A label near the right edge is drawn to the left of its line, so it stays visible.
        let right_half = x > width / 2.0;
        let anchor = if right_half {
            " text-anchor=\"end\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<line class=\"mark\" x1=\"{x:.2}\" y1=\"{}\" x2=\"{x:.2}\" y2=\"{}\"/><text x=\"{:.2}\" y=\"{}\"{anchor}>{label} {}</text>",
            top - if label == "p95" { 4.0 } else { 15.0 },
            height - BOTTOM,
            x + if right_half { -3.0 } else { 3.0 },
            top - if label == "p95" { 6.0 } else { 17.0 },
            duration(Some(ms))
        );
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_data_is_escaped_everywhere() {
        assert_eq!(
            esc("<script>&\"'</svg>]]>"),
            "&lt;script&gt;&amp;&quot;&#39;&lt;/svg&gt;]]&gt;"
        );
        assert_eq!(esc("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
    }
}
