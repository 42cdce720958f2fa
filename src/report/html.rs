//! `--format html`: one self-contained page for a mail client or a browser —
//! totals, findings with hints, two inline SVG charts (failures per hour or
//! day, failures per cause), the table of causes and one block per cause.
//!
//! No scripts, no external assets, no links: the CSS is in `style`
//! attributes (mail clients drop `<style>` blocks), the layout is plain
//! tables, and every number the charts show is also in a table, so a client
//! that does not draw SVG loses nothing. Every string from a log is
//! attacker-controlled: it goes through [`terminal`] (controls and bidi
//! overrides shown as escapes) and then [`escape`] (`& < > " '`).

use super::{noun, ReportOptions};
use crate::analysis::summary::{Counter, Group, GroupKey, Summary};
use crate::event::Direction;
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Longest example line shown (characters).
const EXAMPLE_MAX: usize = 400;
/// Most bars in the time chart; longer spans are drawn per day or week.
const MAX_BARS: i64 = 400;
/// Most causes drawn in the cause chart (the rest are summed in one bar).
const MAX_CAUSE_BARS: usize = 12;

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
/// has one: the part that says what happened.
fn message(line: &str) -> &str {
    match line.find("]: ") {
        Some(i) if i < 120 => &line[i + 3..],
        _ => line,
    }
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
        if i > 0 && (s.len() - i) % 3 == 0 {
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
    s: &Summary,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let mut h = String::with_capacity(64 * 1024);
    head(&mut h, s);
    totals(&mut h, s);
    findings(&mut h, s);
    let groups = s.sorted_groups();
    if groups.is_empty() {
        let _ = writeln!(h, "<p>No rejections or bounces found.</p>");
    } else {
        let _ = writeln!(h, "<h2>Failures over time</h2>");
        time_chart(&mut h, &groups);
        let _ = writeln!(h, "<h2>Failures by cause</h2>");
        cause_chart(&mut h, &groups);
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

fn findings(h: &mut String, s: &Summary) {
    if s.findings.is_empty() {
        return;
    }
    let _ = writeln!(h, "<h2>Findings</h2>");
    for f in &s.findings {
        let _ = writeln!(
            h,
            "<div class=\"f\"><div style=\"font-size:14px\"><strong>{}:</strong> {}</div>",
            text(&f.kind),
            text(&f.message)
        );
        if !f.hints.is_empty() {
            let _ = writeln!(h, "<ul style=\"margin:6px 0 0;padding-left:20px\">");
            for hint in &f.hints {
                let _ = writeln!(h, "<li>{}</li>", prose(hint));
            }
            let _ = writeln!(h, "</ul>");
        }
        let _ = writeln!(h, "</div>");
    }
}

/// Failures per bucket and direction, over the whole span of the groups.
struct Series {
    /// Hours per bar (1, 24, 168 or more).
    hours: i64,
    /// First bucket's start, in hours since the epoch (local to `offset`).
    start: i64,
    /// Per bar: failures per direction (index as [`DIRECTIONS`]).
    bars: Vec<[u64; 3]>,
    /// Offset the labels are shown in (that of the first event).
    offset: FixedOffset,
}

fn series(groups: &[(&GroupKey, &Group)]) -> Option<Series> {
    let offset = groups
        .iter()
        .filter_map(|(_, g)| g.first)
        .min()
        .map(|t| *t.offset())?;
    let shift = i64::from(offset.local_minus_utc()).div_euclid(3600);
    let mut all: BTreeMap<i64, [u64; 3]> = BTreeMap::new();
    for (k, g) in groups {
        let d = DIRECTIONS
            .iter()
            .position(|d| *d == k.direction)
            .unwrap_or(0);
        for (hour, n) in &g.hourly {
            all.entry(hour + shift).or_default()[d] += n;
        }
    }
    let (lo, hi) = (*all.keys().next()?, *all.keys().next_back()?);
    let span = hi - lo + 1;
    let hours = [1, 24, 168]
        .into_iter()
        .find(|b| span.div_euclid(*b) < MAX_BARS)
        .unwrap_or_else(|| (span + MAX_BARS - 1) / MAX_BARS);
    let start = lo.div_euclid(hours) * hours;
    let n = (hi.div_euclid(hours) - start.div_euclid(hours) + 1) as usize;
    let mut bars = vec![[0u64; 3]; n];
    for (hour, c) in all {
        let i = ((hour - start).div_euclid(hours)) as usize;
        for (b, c) in bars[i].iter_mut().zip(c) {
            *b += c;
        }
    }
    Some(Series {
        hours,
        start,
        bars,
        offset,
    })
}

/// A round upper bound of the chart's scale: 1, 2 or 5 × 10ⁿ at or above `n`.
fn scale(n: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * p >= n {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

fn time_chart(h: &mut String, groups: &[(&GroupKey, &Group)]) {
    let Some(se) = series(groups) else {
        let _ = writeln!(h, "<p>No event has a time stamp.</p>");
        return;
    };
    let (width, height, left, bottom, top) = (720.0, 190.0, 44.0, 34.0, 12.0);
    let plot_w = width - left - 10.0;
    let plot_h = height - top - bottom;
    let max = scale(
        se.bars
            .iter()
            .map(|b| b.iter().sum())
            .max()
            .unwrap_or(0)
            .max(1),
    );
    let n = se.bars.len();
    let bw = plot_w / n as f64;
    let unit = match se.hours {
        1 => "hour",
        24 => "day",
        168 => "week",
        _ => "period",
    };
    let label_of = |i: usize| -> DateTime<FixedOffset> {
        let secs = (se.start + i as i64 * se.hours) * 3600 - i64::from(se.offset.local_minus_utc());
        DateTime::from_timestamp(secs, 0)
            .unwrap_or_default()
            .with_timezone(&se.offset)
    };
    let fmt = if se.hours == 1 {
        "%m-%d %H:00"
    } else {
        "%Y-%m-%d"
    };
    let _ = writeln!(
        h,
        "<p class=\"m\" style=\"margin:0 0 4px\">Failures per {unit} (UTC{}), \
         {} inbound, {} outbound, {} local.</p>",
        se.offset,
        legend(Direction::Inbound),
        legend(Direction::Outbound),
        legend(Direction::Local)
    );
    let _ = writeln!(
        h,
        "<svg role=\"img\" aria-label=\"Failures per {unit}\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" style=\"max-width:100%;height:auto;{FONT}\">"
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h * (1.0 - frac);
        let _ = writeln!(
            h,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
            width - 10.0,
            left - 4.0,
            y + 4.0,
            num((max as f64 * frac).round() as u64)
        );
    }
    for (i, b) in se.bars.iter().enumerate() {
        let total: u64 = b.iter().sum();
        if total == 0 {
            continue;
        }
        let x = left + i as f64 * bw;
        let mut y = top + plot_h;
        let _ = write!(
            h,
            "<g><title>{}: {} {}</title>",
            label_of(i).format(if se.hours == 1 {
                "%Y-%m-%d %H:00"
            } else {
                "%Y-%m-%d"
            }),
            num(total),
            noun(total, "failure", "failures")
        );
        for (d, c) in DIRECTIONS.iter().zip(b) {
            if *c == 0 {
                continue;
            }
            let bh = plot_h * *c as f64 / max as f64;
            y -= bh;
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"/>",
                (bw - 1.0).max(1.0),
                colour(*d)
            );
        }
        let _ = writeln!(h, "</g>");
    }
    let labels = n.clamp(1, 6);
    for j in 0..labels {
        let i = if labels == 1 {
            0
        } else {
            j * (n - 1) / (labels - 1)
        };
        let x = left + (i as f64 + 0.5) * bw;
        let anchor = match j {
            0 => "start",
            j if j + 1 == labels && labels > 1 => "end",
            _ => "middle",
        };
        let x = match anchor {
            "start" => left,
            "end" => width - 10.0,
            _ => x,
        };
        let _ = writeln!(
            h,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#57606a\">{}</text>",
            height - bottom + 16.0,
            label_of(i).format(fmt)
        );
    }
    let _ = writeln!(h, "</svg>");
}

fn legend(d: Direction) -> String {
    format!(
        "<span style=\"display:inline-block;width:10px;height:10px;background:{}\"></span>",
        colour(d)
    )
}

fn cause_chart(h: &mut String, groups: &[(&GroupKey, &Group)]) {
    let shown = groups.len().min(MAX_CAUSE_BARS);
    let rest: u64 = groups[shown..].iter().map(|(_, g)| g.count).sum();
    let rows = shown;
    let (width, row, label_w) = (720.0, 22.0, 300.0);
    let bar_w = width - label_w - 60.0;
    let height = row * rows as f64 + 4.0;
    let max = groups
        .iter()
        .map(|(_, g)| g.count)
        .max()
        .unwrap_or(1)
        .max(1);
    let _ = writeln!(
        h,
        "<svg role=\"img\" aria-label=\"Failures by cause\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" style=\"max-width:100%;height:auto;{FONT}\">"
    );
    let mut bar = |i: usize, label: String, tip: String, count: u64, fill: &str| {
        let y = i as f64 * row + 2.0;
        let bw = (bar_w * count as f64 / max as f64).max(1.0);
        let _ = writeln!(
            h,
            "<g><title>{tip}: {}</title><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" \
             fill=\"#1f2328\">{label}</text><rect x=\"{label_w}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" \
             fill=\"{fill}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1f2328\">{}</text></g>",
            num(count),
            label_w - 6.0,
            y + 14.0,
            y + 3.0,
            row - 6.0,
            label_w + bw + 4.0,
            y + 14.0,
            num(count)
        );
    };
    for (i, (k, g)) in groups[..shown].iter().enumerate() {
        let id = format!("{} ({})", k.cause, k.direction.as_str());
        bar(
            i,
            cut(&id, 44),
            text(&format!("{id}, {}, {}", k.severity.as_str(), k.mta)),
            g.count,
            colour(k.direction),
        );
    }
    let _ = writeln!(h, "</svg>");
    if rest > 0 {
        let n = (groups.len() - shown) as u64;
        let _ = writeln!(
            h,
            "<p class=\"m\" style=\"margin:2px 0 0\">and {} other {} with {} {} (in the table).</p>",
            num(n),
            noun(n, "cause", "causes"),
            num(rest),
            noun(rest, "failure", "failures")
        );
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
    use super::{escape, prose, scale};

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

    #[test]
    fn scale_is_round() {
        assert_eq!(scale(1), 1);
        assert_eq!(scale(3), 5);
        assert_eq!(scale(7), 10);
        assert_eq!(scale(101), 200);
    }
}
