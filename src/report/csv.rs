//! `--format csv`: one row per group, for spreadsheets. Cells are escaped
//! against formula injection (a cell starting with `=`, `+`, `-`, `@`, tab or
//! CR gets a leading `'`) and control characters are shown as escapes.

use super::ReportOptions;
use crate::analysis::summary::{Counter, Summary};
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use chrono::SecondsFormat;
use std::io::{self, Write};

/// A spreadsheet-safe cell.
pub fn safe(s: &str) -> String {
    let s = terminal(s).into_owned();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn list(c: &Counter, n: usize) -> String {
    c.top(n)
        .into_iter()
        .map(|(v, n)| format!("{v} ({n})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes the CSV report (with a header row).
pub fn write(
    w: &mut dyn Write,
    s: &Summary,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "cause",
        "title",
        "direction",
        "severity",
        "mta",
        "count",
        "distinct_recipients",
        "first_seen",
        "last_seen",
        "top_recipients",
        "top_domains",
        "top_clients_or_hosts",
        "top_senders",
        "example_file",
        "example_line",
        "hints",
        "actor",
        "action",
    ])?;
    for (k, g) in s.sorted_groups() {
        let idx = ps.cause_id(&k.cause);
        let title = idx.map(|i| ps.causes[i].title.clone()).unwrap_or_default();
        let act = idx.and_then(|i| ps.act(i, Some(k.direction)));
        let hints = idx
            .map(|i| ps.hints(i, k.direction, &k.mta).join(" | "))
            .unwrap_or_default();
        let t = |x: Option<chrono::DateTime<chrono::FixedOffset>>| {
            x.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                .unwrap_or_default()
        };
        let row = [
            k.cause.clone(),
            title,
            k.direction.as_str().into(),
            k.severity.as_str().into(),
            k.mta.clone(),
            g.count.to_string(),
            g.recipients.distinct().to_string(),
            t(g.first),
            t(g.last),
            list(&g.recipients, opts.top),
            list(&g.domains, opts.top),
            list(&g.peers, opts.top),
            list(&g.senders, opts.top),
            g.example
                .as_ref()
                .map(|e| e.file.clone())
                .unwrap_or_default(),
            g.example
                .as_ref()
                .map(|e| e.line.to_string())
                .unwrap_or_default(),
            hints,
            act.map(|a| a.0.to_string()).unwrap_or_default(),
            act.map(|a| a.1.to_string()).unwrap_or_default(),
        ];
        out.write_record(row.iter().map(|c| safe(c)))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe("-1+2"), "'-1+2");
        assert_eq!(safe("@cmd"), "'@cmd");
        assert_eq!(safe("user@example.com"), "user@example.com");
        assert_eq!(safe("a\x1bb"), "a\\x1bb");
    }
}
