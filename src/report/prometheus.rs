//! `--format prometheus`: metrics in the Prometheus text exposition format
//! (0.0.4), for node_exporter's textfile collector
//! (`-o /var/lib/prometheus/node-exporter/bouncelog.prom`, written atomically).
//!
//! Every family has `# HELP` and `# TYPE` lines. Values are the counts of
//! the run's logs and window, so they are gauges (a new run may count less),
//! not counters. Families come in a fixed order and samples are sorted by
//! their labels, so the output is byte-identical for the same inputs apart
//! from `bouncelog_last_run_timestamp_seconds`. Label values are escaped as
//! the format requires (`\\`, `\"`, `\n`): a cause id from a `--patterns`
//! file cannot break a line or forge a sample.

use crate::findings::Analysis;
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A metric family being written: the HELP and TYPE lines, then samples.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &'static str, help: &str) -> Family<'a> {
        // HELP texts are constants without backslashes or line feeds.
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        Family { out, name }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: i64) {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }
}

fn single(out: &mut String, name: &'static str, help: &str, value: i64) {
    Family::new(out, name, help).sample(&[], value);
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The metrics as text; `now` is the time of the run.
///
/// `kinds` are the finding kinds always exported (0 when absent: the kinds of
/// `patterns/findings.toml`), so that a dashboard or an alert sees a series
/// even on a quiet day; kinds found but not listed are exported too.
pub fn render<'k>(
    a: &Analysis,
    kinds: impl IntoIterator<Item = &'k str>,
    now: DateTime<FixedOffset>,
) -> String {
    let s = &a.summary;
    let mut out = String::new();
    {
        let mut f = Family::new(
            &mut out,
            "bouncelog_failures",
            "Failure events (rejected, bounced, deferred or expired recipients) in the logs and window analysed, by cause, direction, severity and MTA.",
        );
        // The groups' BTreeMap is ordered by (cause, direction, severity,
        // mta): one sample per label set, always in the same order.
        for (k, g) in &s.groups {
            f.sample(
                &[
                    ("cause", &k.cause),
                    ("direction", k.direction.as_str()),
                    ("severity", k.severity.as_str()),
                    ("mta", &k.mta),
                ],
                gauge(g.count),
            );
        }
    }
    {
        let mut kinds: BTreeMap<&str, u64> = kinds.into_iter().map(|k| (k, 0)).collect();
        for x in &a.findings {
            *kinds.entry(x.kind.as_str()).or_default() += 1;
        }
        let mut f = Family::new(
            &mut out,
            "bouncelog_findings",
            "Findings (likely typos, directory harvests, domain-wide failures, our IP blocklisted) by kind.",
        );
        for (k, n) in kinds {
            f.sample(&[("kind", k)], gauge(n));
        }
    }
    {
        let mut f = Family::new(
            &mut out,
            "bouncelog_reject_warnings",
            "reject_warning lines (would-be rejections, not failures) by cause and MTA.",
        );
        for ((mta, cause), n) in &s.warnings {
            f.sample(&[("cause", cause), ("mta", mta)], gauge(*n));
        }
    }
    single(
        &mut out,
        "bouncelog_delivered_recipients",
        "Recipients delivered in the logs and window analysed.",
        gauge(s.delivered),
    );
    single(
        &mut out,
        "bouncelog_ndr_sent",
        "Non-delivery notices sent to senders.",
        gauge(s.ndr_sent),
    );
    single(
        &mut out,
        "bouncelog_lines_read",
        "Lines read from all inputs.",
        gauge(s.lines.total),
    );
    single(
        &mut out,
        "bouncelog_lines_unrecognised",
        "Lines in no known log format (not syslog, binary data); a rising value means a log format bouncelog does not read.",
        gauge(s.lines.unrecognised),
    );
    single(
        &mut out,
        "bouncelog_input_errors",
        "Inputs that could not be read completely (missing, unreadable, truncated gzip).",
        gauge(s.inputs.iter().filter(|i| i.error.is_some()).count() as u64),
    );
    let stamps = [
        (
            "bouncelog_window_start_timestamp_seconds",
            "Start of the analysis window (--since, --day), Unix time.",
            s.window.since,
        ),
        (
            "bouncelog_window_end_timestamp_seconds",
            "End of the analysis window (--until, --day; exclusive), Unix time.",
            s.window.until,
        ),
        (
            "bouncelog_first_line_timestamp_seconds",
            "Time of the earliest dated mail-program line read, Unix time.",
            s.first_line,
        ),
        (
            "bouncelog_last_line_timestamp_seconds",
            "Time of the latest dated mail-program line read, Unix time (a log that stopped growing shows here).",
            s.last_line,
        ),
    ];
    for (name, help, t) in stamps {
        if let Some(t) = t {
            single(&mut out, name, help, t.timestamp());
        }
    }
    single(
        &mut out,
        "bouncelog_last_run_timestamp_seconds",
        "Time this report was made, Unix time.",
        now.timestamp(),
    );
    out
}

/// Writes the metrics.
pub fn write<'k>(
    w: &mut dyn Write,
    a: &Analysis,
    kinds: impl IntoIterator<Item = &'k str>,
    now: DateTime<FixedOffset>,
) -> io::Result<()> {
    w.write_all(render(a, kinds, now).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{Group, GroupKey, Summary};
    use crate::event::{Direction, Severity};
    use chrono::TimeZone;

    fn now() -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0)
            .and_then(|z| z.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single())
            .expect("valid time")
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(escape_label("naïve"), "naïve");
    }

    #[test]
    fn a_hostile_cause_stays_one_sample() {
        let mut s = Summary::default();
        let key = GroupKey {
            cause: "x\"} 1\nbouncelog_forged 1\n#".into(),
            direction: Direction::Inbound,
            severity: Severity::Hard,
            mta: "some_mta".into(),
        };
        s.groups.insert(
            key,
            Group {
                count: 2,
                ..Default::default()
            },
        );
        let a = Analysis {
            summary: s,
            findings: Vec::new(),
        };
        let text = render(&a, ["some_kind"], now());
        assert!(!text.lines().any(|l| l.starts_with("bouncelog_forged")));
        let failures: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("bouncelog_failures{"))
            .collect();
        assert_eq!(
            failures,
            vec![
                r#"bouncelog_failures{cause="x\"} 1\nbouncelog_forged 1\n#",direction="inbound",severity="hard",mta="some_mta"} 2"#
            ]
        );
    }

    #[test]
    fn empty_summary_has_zero_findings_and_no_window() {
        let text = render(&Analysis::default(), ["some_kind"], now());
        assert!(text.contains("bouncelog_findings{kind=\"some_kind\"} 0\n"));
        assert!(!text.contains("bouncelog_window_start"));
        assert!(text.ends_with("bouncelog_last_run_timestamp_seconds 1773144000\n"));
    }
}
