//! `--format html`: one self-contained page for a mail client or a browser —
//! totals, findings with hints, two inline SVG charts (failures per hour or
//! day, failures per cause), the table of causes and one block per cause.
//!
//! No scripts, no external assets, no links. The style is one small sheet of
//! element and class selectors in `<head>` (what mail clients keep; Gmail
//! clips a message above 102 KB, and per-cell `style` attributes made the
//! sample's page 144 KB instead of 83 KB), with `style` attributes only for one-off layout; the
//! layout is plain tables. The counts per cause are also in the table of
//! causes and the busiest hour is said in words, so a client that draws no
//! SVG loses little. Every string from a log is attacker-controlled: it goes
//! through [`terminal`] (controls and bidi overrides shown as escapes) and
//! then [`escape`] (`& < > " '`).

use super::{noun, ReportOptions};
use crate::analysis::summary::{Counter, Group, GroupKey, Summary};
use crate::event::Direction;
use crate::findings::{Analysis, Finding};
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use chrono::{DateTime, FixedOffset};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Longest example line shown (characters).
const EXAMPLE_MAX: usize = 400;

mod svg;

const FONT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

/// The page's style sheet: element and class selectors only, which mail
/// clients keep; the page reads as plain tables without it.
const CSS: &str = "body{margin:0;padding:16px;background:#f3f4f6;color:#1f2328}\
h1{font-size:22px;margin:0 0 6px}\
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\
h3{font-size:15px;margin:22px 0 4px}\
p,li{font-size:13px}\
table{border-collapse:collapse}\
th{text-align:left;padding:6px 8px;border-bottom:2px solid #d0d7de;background:#f6f8fa;font-size:13px}\
td{padding:6px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top;font-size:13px}\
table.kv td{border:0;padding:2px 12px 2px 0}\
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}\
pre{background:#f6f8fa;border:1px solid #e5e7eb;padding:6px 8px;margin:0;white-space:pre-wrap;word-break:break-all}\
.m{color:#57606a}.r{text-align:right}.b{overflow-wrap:anywhere;word-break:break-word}\
.f{border-left:4px solid #b42318;background:#fdf2f2;padding:8px 12px;margin:0 0 10px}\
.w{background:#fff4e5;border-left:4px solid #d9822b;padding:6px 10px}";

/// `s` with `& < > " '` replaced by entities: safe as element text and as a
/// quoted attribute value, in HTML and in SVG.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
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

/// Log text for the page: controls shown as escapes, then HTML-escaped.
fn text(s: &str) -> String {
    escape(&terminal(s))
}

/// Log text cut to `max` characters (with `…`), then made safe.
fn cut(s: &str, max: usize) -> String {
    let t = terminal(s);
    if t.chars().count() > max {
        escape(&(t.chars().take(max).collect::<String>() + "…"))
    } else {
        escape(&t)
    }
}

/// A log line without its syslog envelope (`… program[pid]: `), when it
/// has one: the part that says what happened. Other brackets (`host
/// [192.0.2.1]: 554 …`) are part of the message and stay.
fn message(line: &str) -> &str {
    let mut end = line.len().min(160);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let head = &line[..end];
    for (i, _) in head.match_indices("]: ") {
        let open = head[..i].rfind('[').map(|o| o + 1).unwrap_or(i);
        if open < i && head[open..i].bytes().all(|b| b.is_ascii_digit()) {
            return &line[i + 3..];
        }
    }
    line
}

/// Pattern prose (hints, meanings): escaped, and `code` in backticks shown
/// as code.
fn prose(s: &str) -> String {
    let e = text(s);
    let parts: Vec<&str> = e.split('`').collect();
    if parts.len() < 3 {
        return e;
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        let unpaired = i % 2 == 1 && i == parts.len() - 1;
        if i % 2 == 1 && !unpaired {
            let _ = write!(out, "<code>{p}</code>");
        } else {
            if unpaired {
                out.push('`');
            }
            out.push_str(p);
        }
    }
    out
}

fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn when(t: Option<DateTime<FixedOffset>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "–".into())
}

/// Bar colour of a direction.
fn colour(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "#2f6fb5",
        Direction::Outbound => "#d9822b",
        Direction::Local => "#8a4fbf",
    }
}

const DIRECTIONS: [Direction; 3] = [Direction::Inbound, Direction::Outbound, Direction::Local];

/// Writes the HTML report.
pub fn write(
    w: &mut dyn Write,
    a: &Analysis,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let s = &a.summary;
    let mut h = String::with_capacity(64 * 1024);
    head(&mut h, s);
    totals(&mut h, s);
    findings(&mut h, &a.findings, opts);
    let groups = s.sorted_groups();
    if groups.is_empty() {
        let _ = writeln!(h, "<p>No rejections or bounces found.</p>");
    } else {
        let _ = writeln!(h, "<h2>Failures over time</h2>");
        svg::time_chart(&mut h, &groups);
        let _ = writeln!(h, "<h2>Failures by cause</h2>");
        svg::cause_chart(&mut h, &groups);
        cause_table(&mut h, &groups, ps);
        let _ = writeln!(h, "<h2>Causes in detail</h2>");
        for (i, (k, g)) in groups.iter().enumerate() {
            detail(&mut h, i + 1, k, g, ps, opts);
        }
    }
    unmatched(&mut h, s, opts);
    let _ = writeln!(
        h,
        "<p class=\"m\" style=\"margin-top:32px\">Written by bouncelog {}. \
         Log text is shown escaped.</p>\n</div>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    w.write_all(h.as_bytes())
}

fn head(h: &mut String, s: &Summary) {
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>bouncelog report</title>\n<style>{CSS}</style>\n</head>\n\
         <body style=\"{FONT}\">\n\
         <div style=\"max-width:1000px;margin:0 auto;background:#ffffff;padding:20px 24px;\
         border:1px solid #d0d7de\">\n<h1>bouncelog report</h1>"
    );
    let l = &s.lines;
    let lines = l.total - l.blank;
    let mut sub = format!(
        "{} {}, {} {} ({} from mail programs, {} unrecognised)",
        s.inputs.len(),
        if s.inputs.len() == 1 {
            "input"
        } else {
            "inputs"
        },
        num(lines),
        noun(lines, "line", "lines"),
        num(l.recognised),
        num(l.unrecognised)
    );
    if !s.window.is_open() {
        let t = |x: Option<DateTime<FixedOffset>>| {
            x.map(|t| t.format("%Y-%m-%d %H:%M %z").to_string())
                .unwrap_or_else(|| "…".into())
        };
        let _ = write!(
            sub,
            "; window {} to {}",
            t(s.window.since),
            t(s.window.until)
        );
    } else if let (Some(a), Some(b)) = (s.first_line, s.last_line) {
        let _ = write!(sub, "; lines from {} to {}", when(Some(a)), when(Some(b)));
    }
    let _ = writeln!(h, "<p class=\"m\" style=\"margin:0 0 12px\">{sub}</p>");
    for i in s.inputs.iter().filter_map(|i| i.error.as_deref()) {
        let _ = writeln!(
            h,
            "<p class=\"w\"><strong>Input error:</strong> {}</p>",
            text(i)
        );
    }
}

fn totals(h: &mut String, s: &Summary) {
    let cell = |label: &str, value: u64, colour: &str| {
        format!(
            "<td style=\"padding:8px 14px 8px 0;border:0\">\
             <div style=\"font-size:24px;font-weight:bold;color:{colour}\">{}</div>\
             <div class=\"m\" style=\"font-size:12px\">{label}</div></td>",
            num(value)
        )
    };
    let warnings: u64 = s.warnings.values().sum();
    let _ = writeln!(
        h,
        "<table role=\"presentation\" style=\"margin:4px 0 8px\"><tr>{}{}{}{}{}</tr></table>",
        cell("failures", s.failures(), "#b42318"),
        cell(
            "inbound",
            s.failures_in(Direction::Inbound),
            colour(Direction::Inbound)
        ),
        cell(
            "outbound",
            s.failures_in(Direction::Outbound),
            colour(Direction::Outbound)
        ),
        cell(
            "local",
            s.failures_in(Direction::Local),
            colour(Direction::Local)
        ),
        cell("delivered", s.delivered, "#1a7f37"),
    );
    let mut also = format!(
        "Also: {} non-delivery {} sent, {} reject_warning (not failures), {} verify {}",
        num(s.ndr_sent),
        noun(s.ndr_sent, "notice", "notices"),
        num(warnings),
        num(s.probes),
        noun(s.probes, "probe", "probes")
    );
    if s.duplicates > 0 {
        let _ = write!(
            also,
            "; {} {} already counted from another input skipped",
            num(s.duplicates),
            noun(s.duplicates, "line", "lines")
        );
    }
    if s.outside_window > 0 {
        let _ = write!(also, "; {} outside the window", num(s.outside_window));
    }
    let _ = writeln!(h, "<p class=\"m\" style=\"margin:0\">{also}.</p>");
}

/// Findings by kind, in the order found: at most `top.max(10)` of each kind
/// (a log can hold thousands of typos; the JSON report has them all), and
/// a kind's hints once when they are the same for each of its findings.
fn findings(h: &mut String, found: &[Finding], opts: &ReportOptions) {
    if found.is_empty() {
        return;
    }
    let _ = writeln!(h, "<h2>Findings</h2>");
    let mut kinds: Vec<(&str, Vec<&crate::findings::Finding>)> = Vec::new();
    for f in found {
        match kinds.iter_mut().find(|(k, _)| *k == f.kind) {
            Some((_, v)) => v.push(f),
            None => kinds.push((&f.kind, vec![f])),
        }
    }
    let hints = |h: &mut String, hints: &[String]| {
        if !hints.is_empty() {
            let _ = writeln!(h, "<ul style=\"margin:6px 0 0;padding-left:20px\">");
            for hint in hints {
                let _ = writeln!(h, "<li>{}</li>", prose(hint));
            }
            let _ = writeln!(h, "</ul>");
        }
    };
    let most = opts.top.max(10);
    for (kind, fs) in kinds {
        let shared = fs.iter().all(|f| f.hints == fs[0].hints);
        let _ = write!(h, "<div class=\"f\">");
        if shared && fs.len() > 1 {
            let _ = writeln!(
                h,
                "<div style=\"font-size:14px\"><strong>{} ({}):</strong></div>\n\
                 <ul style=\"margin:4px 0 0;padding-left:20px;font-size:14px\">",
                text(kind),
                num(fs.len() as u64)
            );
            for f in fs.iter().take(most) {
                let _ = writeln!(h, "<li>{}</li>", text(&f.message()));
            }
            let _ = writeln!(h, "</ul>");
        } else {
            for f in fs.iter().take(most) {
                let _ = writeln!(
                    h,
                    "<div style=\"font-size:14px;margin-top:4px\"><strong>{}:</strong> {}</div>",
                    text(kind),
                    text(&f.message())
                );
                if !shared {
                    hints(h, &f.hints);
                }
            }
        }
        if fs.len() > most {
            let more = (fs.len() - most) as u64;
            let _ = writeln!(
                h,
                "<p class=\"m\" style=\"margin:4px 0 0\">… and {} more {} {} (all of them are in \
                 <code>--format json</code>).</p>",
                num(more),
                text(kind),
                noun(more, "finding", "findings")
            );
        }
        if shared {
            let _ = writeln!(
                h,
                "<div class=\"m\" style=\"margin-top:6px;font-size:13px\">What to do:</div>"
            );
            hints(h, &fs[0].hints);
        }
        let _ = writeln!(h, "</div>");
    }
}

fn cause_table(h: &mut String, groups: &[(&GroupKey, &Group)], ps: &PatternSet) {
    let _ = writeln!(
        h,
        "<table style=\"width:100%;margin-top:14px\">\n<tr>\
         <th>#</th><th style=\"width:22%\">Cause</th><th>Direction</th>\
         <th class=\"r\">Events</th><th class=\"r\">Recipients</th>\
         <th style=\"width:30%\">Example</th><th style=\"width:30%\">What to do</th></tr>"
    );
    for (i, (k, g)) in groups.iter().enumerate() {
        let idx = ps.cause_id(&k.cause);
        let title = idx.map(|c| ps.causes[c].title.as_str()).unwrap_or("");
        let hints = idx
            .map(|c| ps.hints(c, k.direction, &k.mta))
            .unwrap_or_default();
        let hint = match hints.split_first() {
            Some((first, rest)) if !rest.is_empty() => format!(
                "{} <span class=\"m\">(+{} below)</span>",
                prose(first),
                rest.len()
            ),
            Some((first, _)) => prose(first),
            None => String::new(),
        };
        let (distinct, exact) = super::distinct_recipients(g);
        let example = g
            .example
            .as_ref()
            .map(|e| cut(message(&e.text), 200))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><strong>{}</strong><br>\
             <code class=\"m\">{}</code></td>\
             <td><span style=\"color:{}\">{}</span><br>{} · {}</td>\
             <td class=\"r\">{}</td><td class=\"r\">{}{}</td>\
             <td class=\"b\"><code>{}</code></td>\
             <td>{}</td></tr>",
            i + 1,
            text(title),
            text(&k.cause),
            colour(k.direction),
            k.direction.as_str(),
            k.severity.as_str(),
            text(&k.mta),
            num(g.count),
            if exact { "" } else { "≥" },
            num(distinct as u64),
            example,
            hint
        );
    }
    let _ = writeln!(h, "</table>");
}

fn top_list(c: &Counter, n: usize) -> String {
    c.top(n)
        .into_iter()
        .map(|(v, n)| format!("{} ({})", text(v), num(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn detail(
    h: &mut String,
    n: usize,
    k: &GroupKey,
    g: &Group,
    ps: &PatternSet,
    opts: &ReportOptions,
) {
    let idx = ps.cause_id(&k.cause);
    let cause = idx.map(|i| &ps.causes[i]);
    let title = cause.map(|c| c.title.as_str()).unwrap_or(k.cause.as_str());
    let (distinct, exact) = super::distinct_recipients(g);
    let _ = writeln!(
        h,
        "<h3>{n}. {}</h3>\n\
         <p class=\"m\" style=\"margin:0 0 6px\"><code>{}</code> · \
         {} · {} · {} — {} {}, {}{} distinct {}, first {}, last {}</p>",
        text(title),
        text(&k.cause),
        k.direction.as_str(),
        k.severity.as_str(),
        text(&k.mta),
        num(g.count),
        noun(g.count, "event", "events"),
        if exact { "" } else { "at least " },
        num(distinct as u64),
        noun(distinct as u64, "recipient", "recipients"),
        when(g.first),
        when(g.last)
    );
    let peer = if k.direction == Direction::Inbound {
        "Clients"
    } else {
        "Remote hosts"
    };
    let lists = [
        ("Recipients", &g.recipients),
        ("Domains", &g.domains),
        (peer, &g.peers),
        ("Senders", &g.senders),
    ];
    let rows: Vec<_> = lists.iter().filter(|(_, c)| c.distinct() > 0).collect();
    if !rows.is_empty() {
        let _ = writeln!(h, "<table class=\"kv\">");
        for (name, c) in rows {
            let _ = writeln!(
                h,
                "<tr><td class=\"m\">{name}</td><td class=\"b\">{}</td></tr>",
                top_list(c, opts.top)
            );
        }
        let _ = writeln!(h, "</table>");
    }
    if let Some(ex) = &g.example {
        let _ = writeln!(
            h,
            "<div class=\"m\" style=\"font-size:12px;margin:8px 0 2px\">Example ({}:{}):</div>\n\
             <pre>{}</pre>",
            text(&ex.file),
            ex.line,
            cut(&ex.text, EXAMPLE_MAX)
        );
    }
    if let Some((actor, action)) = idx.and_then(|i| ps.act(i, Some(k.direction))) {
        let _ = writeln!(
            h,
            "<p style=\"margin:8px 0 0\"><strong>Who acts:</strong> {} — {}</p>",
            text(&actor.replace('_', " ")),
            text(&action.replace('_', " "))
        );
    }
    if let Some(c) = cause.filter(|c| !c.meaning.is_empty()) {
        let _ = writeln!(
            h,
            "<p style=\"margin:6px 0 0\"><strong>Meaning:</strong> {}</p>",
            prose(&c.meaning)
        );
    }
    let hints = idx
        .map(|i| ps.hints(i, k.direction, &k.mta))
        .unwrap_or_default();
    if !hints.is_empty() {
        let _ = writeln!(
            h,
            "<p style=\"margin:6px 0 0\"><strong>What to do:</strong></p>\n\
             <ul style=\"margin:2px 0 0;padding-left:20px\">"
        );
        for hint in hints {
            let _ = writeln!(h, "<li>{}</li>", prose(hint));
        }
        let _ = writeln!(h, "</ul>");
    }
}

fn unmatched(h: &mut String, s: &Summary, opts: &ReportOptions) {
    if s.diag.unmatched.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<h2>Unrecognised failure texts</h2>\n<p>Cause \
         <code>other</code>; <code>--explain-unmatched</code> \
         prints a rule for each.</p>\n<table style=\"width:100%\">\n\
         <tr><th class=\"r\">Count</th><th>Text (masked)</th></tr>"
    );
    let mut v: Vec<_> = s.diag.unmatched.iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    for (t, (n, _)) in v.into_iter().take(opts.top.max(10)) {
        let _ = writeln!(
            h,
            "<tr><td class=\"r\">{}</td><td class=\"b\">\
             <code>{}</code></td></tr>",
            num(*n),
            cut(t, EXAMPLE_MAX)
        );
    }
    let _ = writeln!(h, "</table>");
}

#[cfg(test)]
mod tests {
    use super::{escape, prose};

    #[test]
    fn message_drops_only_the_syslog_envelope() {
        let m = super::message;
        assert_eq!(
            m("Mar 10 07:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: x"),
            "NOQUEUE: x"
        );
        let exim =
            "2025-03-10 09:14:07 1trZD6-0007Ll-2T ** a@b.example: host mx [192.0.2.1]: 554 no";
        assert_eq!(m(exim), exim);
        assert_eq!(
            m("exim[3751]: 2021-07-17 ... [192.0.2.1]: 5"),
            "2021-07-17 ... [192.0.2.1]: 5"
        );
        assert_eq!(m("é]: x"), "é]: x");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x\")</script>&"),
            "&lt;script&gt;alert(&#39;x&quot;)&lt;/script&gt;&amp;"
        );
        assert_eq!(escape("plain@example.com"), "plain@example.com");
    }

    #[test]
    fn prose_shows_backticks_as_code() {
        let p = prose("run `postmap -q <x>` then `newaliases`");
        assert!(p.contains(">postmap -q &lt;x&gt;</code> then <code"), "{p}");
        assert!(p.ends_with(">newaliases</code>"), "{p}");
        assert_eq!(prose("a `b"), "a `b");
        assert_eq!(prose("a `b` `c"), "a <code>b</code> `c");
    }
}
