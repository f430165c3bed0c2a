//! The report on a terminal: aligned tables with a sparkline of the last days per name.
//!
//! Every value from data goes through `output::clean` (secrets scrubbed, control characters
//! escaped) and long names are cut, so a name can neither drive the terminal nor break the
//! columns. Colour only when asked for by the project's rules (`--color`, `NO_COLOR`,
//! `TERM=dumb`, a terminal); piped, the text is plain.

use std::collections::HashMap;
use std::io::{self, Write};

use codemachine_telemetry::report::{DayCount, Report};

use crate::commands::plural;
use crate::output::clean;

/// Days a sparkline covers.
pub const SPARK_DAYS: u64 = 28;
/// Names longer than this are cut (with `…`).
const NAME_WIDTH: usize = 32;
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A day with nothing: not a bar, so that "none" and "a few" look different.
const NOTHING: char = '·';

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// Paints text when colour is on.
struct Paint(bool);

impl Paint {
    fn with(&self, style: &str, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

/// Writes the report as tables.
pub fn write(out: &mut impl Write, report: &Report, color: bool) -> io::Result<()> {
    let paint = Paint(color);
    let days = report.recent_days(SPARK_DAYS);
    write_heading(out, report, &days, &paint)?;
    if report.is_empty() {
        return writeln!(out, "\nNothing recorded yet.");
    }
    write_commands(out, report, &days, &paint)?;
    write_features(out, report, &days, &paint)
}

fn write_heading(
    out: &mut impl Write,
    report: &Report,
    days: &[String],
    paint: &Paint,
) -> io::Result<()> {
    let folder = report
        .dir
        .as_ref()
        .map_or("no telemetry folder".to_owned(), |d| {
            d.display().to_string()
        });
    let span = match (&report.first_day, &report.last_day) {
        (Some(first), Some(last)) => format!("{first} to {last} (UTC)"),
        _ => "no activity".to_owned(),
    };
    writeln!(out, "{}", paint.with(BOLD, "Your telemetry"))?;
    writeln!(out, "{:<10} {}", "Folder", clean(&folder))?;
    writeln!(out, "{:<10} {span}", "Days")?;
    let since = report
        .since
        .as_deref()
        .map_or(String::new(), |d| format!(", since {d}"));
    writeln!(
        out,
        "{:<10} {} buffered, {} from the history{since}",
        "Read",
        plural(report.sources.buffered_events, "event", "events"),
        plural(report.sources.history_rows, "day-row", "day-rows"),
    )?;
    let t = &report.totals;
    writeln!(
        out,
        "{:<10} {}, {} failed, {}",
        "Totals",
        plural(t.commands, "command run", "command runs"),
        t.failures,
        plural(t.features, "feature use", "feature uses"),
    )?;
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let all: HashMap<&str, u64> = report
            .activity
            .iter()
            .map(|d| (d.day.as_str(), d.commands.saturating_add(d.features)))
            .collect();
        let values: Vec<u64> = days
            .iter()
            .map(|d| all.get(d.as_str()).copied().unwrap_or(0))
            .collect();
        let line = paint.with(CYAN, &sparkline(&values));
        writeln!(out, "{:<10} {line}  {first} to {last}", "Activity")?;
    }
    Ok(())
}

fn write_commands(
    out: &mut impl Write,
    report: &Report,
    days: &[String],
    paint: &Paint,
) -> io::Result<()> {
    if report.commands.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = report
        .commands
        .iter()
        .map(|c| shown_name(&c.name))
        .collect();
    let width = column_width("COMMAND", &names);
    let header = format!(
        "{:<width$}  {:>8}  {:>7}  {:>8}  {:>8}  LAST {} DAYS",
        "COMMAND",
        "RUNS",
        "FAILED",
        "MEDIAN",
        "P95",
        days.len()
    );
    writeln!(out, "\n{}", paint.with(BOLD, &header))?;
    for (row, name) in report.commands.iter().zip(&names) {
        let failed = format!("{:>7}", percent(row.failure_rate));
        let failed = if row.failures > 0 {
            paint.with(RED, &failed)
        } else {
            failed
        };
        writeln!(
            out,
            "{}  {:>8}  {failed}  {:>8}  {:>8}  {}",
            pad(name, width),
            row.count,
            duration(row.median_ms),
            duration(row.p95_ms),
            paint.with(CYAN, &series(&row.days, days)),
        )?;
    }
    Ok(())
}

fn write_features(
    out: &mut impl Write,
    report: &Report,
    days: &[String],
    paint: &Paint,
) -> io::Result<()> {
    if report.features.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = report
        .features
        .iter()
        .map(|f| shown_name(&f.name))
        .collect();
    let width = column_width("FEATURE", &names);
    let header = format!(
        "{:<width$}  {:>8}  LAST {} DAYS",
        "FEATURE",
        "USES",
        days.len()
    );
    writeln!(out, "\n{}", paint.with(BOLD, &header))?;
    for (row, name) in report.features.iter().zip(&names) {
        writeln!(
            out,
            "{}  {:>8}  {}",
            pad(name, width),
            row.count,
            paint.with(CYAN, &series(&row.days, days)),
        )?;
    }
    Ok(())
}

/// A name as it may be shown: cleaned, then cut to [`NAME_WIDTH`] characters.
fn shown_name(name: &str) -> String {
    let clean = clean(name);
    if clean.chars().count() <= NAME_WIDTH {
        return clean;
    }
    let mut cut: String = clean.chars().take(NAME_WIDTH - 1).collect();
    cut.push('…');
    cut
}

fn column_width(header: &str, names: &[String]) -> usize {
    names
        .iter()
        .map(|n| n.chars().count())
        .chain([header.len()])
        .max()
        .unwrap_or(0)
}

/// `text` padded with spaces to `width` characters (not bytes: names may hold `…`).
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(fill))
}

/// The sparkline of one name's days over `days`.
fn series(counts: &[DayCount], days: &[String]) -> String {
    let by_day: HashMap<&str, u64> = counts.iter().map(|d| (d.day.as_str(), d.count)).collect();
    let values: Vec<u64> = days
        .iter()
        .map(|d| by_day.get(d.as_str()).copied().unwrap_or(0))
        .collect();
    sparkline(&values)
}

/// One character a value: `·` for none, else `▁` to `█` in proportion to the largest.
pub fn sparkline(values: &[u64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|v| match *v {
            0 => NOTHING,
            v => {
                let level = (u128::from(v) * 8).div_ceil(u128::from(max)).clamp(1, 8);
                BARS[level as usize - 1]
            }
        })
        .collect()
}

/// `2.5%`.
fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// `850 ms`, `1.2 s`, `3.5 min`, `2.1 h`, `1.5 d`; `-` when unknown.
pub fn duration(ms: Option<u64>) -> String {
    let Some(ms) = ms else { return "-".to_owned() };
    let s = ms as f64 / 1000.0;
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{s:.1} s"),
        60_000..3_600_000 => format!("{:.1} min", s / 60.0),
        3_600_000..86_400_000 => format!("{:.1} h", s / 3600.0),
        _ => format!("{:.1} d", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest_and_show_nothing_as_a_dot() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), "·▁▂▄█");
        assert_eq!(sparkline(&[0, 0]), "··");
        assert_eq!(sparkline(&[u64::MAX, 1]), "█▁");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn durations_and_names_read_well() {
        assert_eq!(duration(Some(850)), "850 ms");
        assert_eq!(duration(Some(1250)), "1.2 s");
        assert_eq!(duration(Some(90_000)), "1.5 min");
        assert!(duration(Some(u64::MAX)).ends_with(" d"));
        assert_eq!(duration(None), "-");
        assert_eq!(shown_name(&"x".repeat(40)).chars().count(), NAME_WIDTH);
        assert_eq!(pad("a…", 4), "a…  ");
    }
}
