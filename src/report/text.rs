//! `--format text` (the default): a short summary for people and cron mail,
//! at most 100 columns wide: totals (messages, with bounced, deferred and
//! expired), the findings (one hint per kind), trends per hour and per day,
//! a table of every cause, most urgent first (`urgency` in causes.toml),
//! then full sections (top recipients, domains, clients or remote hosts, an
//! example line, what the cause means and what to do) for the first
//! `--details` causes only. No colour; log text is escaped; wrapping never
//! splits an address, host name or command.

use super::{noun, ReportOptions};
use crate::analysis::summary::{Counter, Group, GroupKey, Summary};
use crate::event::Direction;
use crate::findings::{Analysis, Finding};
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use chrono::{DateTime, FixedOffset};
use comfy_table::{presets, Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table};
use std::io::{self, Write};

/// Width of the report.
pub const WIDTH: usize = 100;
const EXAMPLE_MAX: usize = 240;
/// Most days shown in the trends (one column each up to DAY_COLUMNS, else a sparkline).
const DAYS_MAX: usize = 31;
/// Rows of the trends, besides the total.
const TREND_ROWS: usize = 3;
/// Days shown one column each; more are shown as a sparkline.
const DAY_COLUMNS: usize = 7;

fn table(opts: &ReportOptions) -> Table {
    let mut t = Table::new();
    t.load_preset(if opts.unicode {
        presets::UTF8_FULL_CONDENSED
    } else {
        presets::ASCII_FULL_CONDENSED
    })
    .set_content_arrangement(ContentArrangement::Dynamic)
    .set_width(WIDTH as u16);
    t
}

pub(crate) fn num(n: u64) -> String {
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
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// Wraps at spaces only (not at the hyphens and slashes where Unicode
/// allows a break), first fit: an address, host name, path or command is
/// never split, and no line passes WIDTH unless one word does.
pub(crate) fn wrap(w: &mut dyn Write, text: &str, first: &str, rest: &str) -> io::Result<()> {
    let opts = textwrap::Options::new(WIDTH)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    for line in textwrap::wrap(text, opts) {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

/// "3 messages (6 attempts)", or "3 messages" when each was tried once.
pub(crate) fn messages(msgs: u64, attempts: u64) -> String {
    let m = format!("{} {}", num(msgs), noun(msgs, "message", "messages"));
    if attempts > msgs {
        format!("{m} ({} attempts)", num(attempts))
    } else {
        m
    }
}

/// The totals lines.
fn totals(w: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let l = &s.lines;
    let inputs = s.inputs.len();
    writeln!(
        w,
        "bouncelog: {} {}, {} {} ({} from mail programs, {} from other programs, {} unrecognised)",
        inputs,
        noun(inputs as u64, "input", "inputs"),
        num(l.total - l.blank),
        noun(l.total - l.blank, "line", "lines"),
        num(l.recognised),
        num(l.other_programs),
        num(l.unrecognised)
    )?;
    if !s.window.is_open() {
        let t = |x: Option<DateTime<FixedOffset>>| {
            x.map(|t| t.format("%Y-%m-%d %H:%M:%S %z").to_string())
                .unwrap_or_else(|| "…".into())
        };
        writeln!(
            w,
            "Window: {} to {} ({} counted {} outside it)",
            t(s.window.since),
            t(s.window.until),
            num(s.outside_window),
            noun(s.outside_window, "line", "lines")
        )?;
    }
    for i in s.inputs.iter().filter(|i| i.error.is_some()) {
        let e = format!(
            "input error: {}",
            terminal(i.error.as_deref().unwrap_or(""))
        );
        wrap(w, &e, "  ", "    ")?;
    }
    let msgs = s.messages();
    let total = s.failures();
    writeln!(
        w,
        "Failures: {}{} (inbound {}, outbound {}, local {})",
        messages(msgs, msgs),
        if total > msgs {
            format!(", {} attempts", num(total))
        } else {
            String::new()
        },
        num(s.messages_in(Direction::Inbound, None)),
        num(s.messages_in(Direction::Outbound, None)),
        num(s.messages_in(Direction::Local, None)),
    )?;
    let o = super::outcomes(s);
    if o.bounced + o.deferred + o.expired > 0 {
        writeln!(
            w,
            "Deliveries failed: {} bounced, {} deferred{}, {} expired",
            num(o.bounced),
            num(o.deferred),
            if o.deferral_attempts > o.deferred {
                format!(" ({} attempts)", num(o.deferral_attempts))
            } else {
                String::new()
            },
            num(o.expired)
        )?;
    }
    let warnings: u64 = s.warnings.values().sum();
    writeln!(
        w,
        "Also: {} delivered, {} non-delivery {} sent, {} reject_warning (not failures), {} verify {}",
        num(s.delivered),
        num(s.ndr_sent),
        noun(s.ndr_sent, "notice", "notices"),
        num(warnings),
        num(s.probes),
        noun(s.probes, "probe", "probes")
    )?;
    if s.duplicates > 0 {
        writeln!(
            w,
            "Skipped: {} {} already counted from another input (e.g. Exim mainlog and rejectlog)",
            num(s.duplicates),
            noun(s.duplicates, "rejection", "rejections")
        )?;
    }
    Ok(())
}

/// The findings, most urgent kind first; findings of one kind share their hints.
/// The findings by kind; at most `cap` of one kind are listed, with a count
/// of the rest (a busy log can hold thousands of typo suggestions; `--format
/// json` has them all).
fn findings(w: &mut dyn Write, found: &[Finding], ps: &PatternSet, cap: usize) -> io::Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    writeln!(w, "\nFindings:")?;
    for (kind, list, shared) in crate::findings::by_kind(found) {
        let def = ps.findings.get(kind);
        let title = def.and_then(|d| d.title.as_deref()).unwrap_or(kind);
        let mark = if ps.finding_urgency(kind) == 0 {
            "!"
        } else {
            "*"
        };
        if list.len() == 1 {
            wrap(
                w,
                &format!("{title}: {}", terminal(&list[0].message())),
                &format!("  {mark} "),
                "    ",
            )?;
        } else {
            writeln!(w, "  {mark} {title} ({}):", list.len())?;
            for f in list.iter().take(cap) {
                wrap(w, &terminal(&f.message()), "    - ", "      ")?;
                if shared.is_none() {
                    for h in f.hints.iter() {
                        wrap(w, h, "        To do: ", "          ")?;
                    }
                }
            }
            if list.len() > cap {
                writeln!(
                    w,
                    "    - … and {} more (--format json lists them all)",
                    list.len() - cap
                )?;
            }
        }
        let hints: &[String] = match shared {
            Some(h) => h,
            None if list.len() == 1 => &list[0].hints,
            None => &[],
        };
        for h in hints {
            wrap(w, h, "    To do: ", "      ")?;
        }
    }
    Ok(())
}

/// Failure attempts per hour of the day and per day, for all failures and
/// the largest causes.
fn trends(
    w: &mut dyn Write,
    s: &Summary,
    groups: &[(&GroupKey, &Group)],
    opts: &ReportOptions,
) -> io::Result<()> {
    let offset = s
        .first_line
        .or_else(|| groups.iter().find_map(|(_, g)| g.first))
        .map(|t| t.offset().local_minus_utc() as i64)
        .unwrap_or(0);
    let Some(super::Trends {
        first_day,
        days,
        rows,
    }) = super::trends(s, groups, offset, TREND_ROWS)
    else {
        return Ok(());
    };
    let per_day = days > 1 && days <= DAYS_MAX;
    let zone = chrono::FixedOffset::east_opt(offset as i32)
        .map(|z| z.to_string())
        .unwrap_or_default();
    let day_name = |d: i64| {
        chrono::DateTime::from_timestamp(d * 86_400, 0)
            .map(|t| t.format("%m-%d").to_string())
            .unwrap_or_default()
    };
    let mut head = format!(
        "\nTrends (failure attempts; hours 00-23, {zone}{}):",
        if per_day && days > DAY_COLUMNS {
            format!(
                "; days {} to {}",
                day_name(first_day),
                day_name(first_day + days as i64 - 1)
            )
        } else if days > DAYS_MAX {
            format!("; {days} days, too many to show each")
        } else {
            String::new()
        }
    );
    head.truncate(head.trim_end().len());
    writeln!(w, "{head}")?;
    let mut header = format!("  {:<32} {:<24} {:>7}", "", "00    06    12    18", "total");
    if per_day && days <= DAY_COLUMNS {
        for d in 0..days {
            header.push_str(&format!(" {:>6}", day_name(first_day + d as i64)));
        }
    }
    writeln!(w, "{}", header.trim_end())?;
    for (k, t) in rows {
        let label = match k {
            None => "all failures".to_string(),
            // The cause id shortened, never the direction.
            Some(k) => {
                let d = dir(k.direction);
                format!("{} {d}", short(&k.cause, 30 - d.len()))
            }
        };
        let mut line = format!(
            "  {:<32} {} {:>7}",
            short(&label, 31),
            super::sparkline(&t.hours, opts.unicode),
            num(t.days.iter().sum())
        );
        if per_day && days <= DAY_COLUMNS {
            for n in &t.days {
                line.push_str(&format!(" {:>6}", num(*n)));
            }
        } else if per_day {
            line.push_str(&format!(" {}", super::sparkline(&t.days, opts.unicode)));
        }
        writeln!(w, "{line}")?;
    }
    Ok(())
}

/// Writes the text report.
pub fn write(
    w: &mut dyn Write,
    a: &Analysis,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let s = &a.summary;
    totals(w, s)?;
    findings(w, &a.findings, ps, opts.top.max(10))?;
    if s.failures() == 0 {
        writeln!(w, "\nNo rejections or bounces found.")?;
        return Ok(());
    }
    let groups = super::by_urgency(s, ps);
    trends(w, s, &groups, opts)?;
    let mtas: std::collections::BTreeSet<&str> =
        groups.iter().map(|(k, _)| k.mta.as_str()).collect();
    writeln!(
        w,
        "\nCauses, most urgent first (act: now = our side, soon, wait = retried, ok = refused as intended):"
    )?;
    let mut t = table(opts);
    let mut header = vec!["#", "Cause", "Dir", "Sev", "Act", "Msgs", "Tries", "Rcpts"];
    if mtas.len() > 1 {
        header.push("MTA");
    }
    t.set_header(header);
    for (i, (k, g)) in groups.iter().enumerate() {
        let act = match super::urgency_of(ps, k) {
            "intended" => "ok",
            u => u,
        };
        let mut row = vec![
            Cell::new(i + 1),
            Cell::new(terminal(&k.cause)),
            Cell::new(dir(k.direction)),
            Cell::new(k.severity.as_str()),
            Cell::new(act),
            Cell::new(num(g.messages())).set_alignment(CellAlignment::Right),
            Cell::new(num(g.count)).set_alignment(CellAlignment::Right),
            Cell::new(num(g.recipients.distinct() as u64)).set_alignment(CellAlignment::Right),
        ];
        if mtas.len() > 1 {
            row.push(Cell::new(terminal(&k.mta)));
        }
        t.add_row(row);
    }
    // A cause id is never wrapped: the other columns give way.
    if let Some(c) = t.column_mut(1) {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    writeln!(w, "{t}")?;
    for (i, (k, g)) in groups.iter().enumerate().take(opts.details) {
        group(w, i + 1, k, g, ps, opts)?;
    }
    if groups.len() > opts.details {
        writeln!(
            w,
            "\nCauses {}-{} are the table's rows only; `--details {}` shows each in full.",
            opts.details + 1,
            groups.len(),
            groups.len()
        )?;
    }
    let unmatched = s.diag.unmatched.len();
    if unmatched > 0 {
        writeln!(
            w,
            "\nUnrecognised failure texts (cause `other`; see --explain-unmatched):"
        )?;
        let mut v: Vec<_> = s.diag.unmatched.iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        for (t, (n, sample)) in v.into_iter().take(opts.top) {
            wrap(w, &format!("{n} × {}", terminal(t)), "  ", "      ")?;
            let sample = short(&terminal(sample), EXAMPLE_MAX);
            wrap(w, &format!("e.g. {sample}"), "      ", "        ")?;
        }
        if unmatched > opts.top {
            writeln!(
                w,
                "  … and {} more (--top N shows more)",
                unmatched - opts.top
            )?;
        }
    }
    if !s.warnings.is_empty() {
        writeln!(w, "\nreject_warning (logged by warn_if_reject or soft_bounce tests; mail was not refused):")?;
        for ((mta, cause), n) in &s.warnings {
            writeln!(w, "  {} {}: {}", terminal(mta), terminal(cause), num(*n))?;
        }
    }
    Ok(())
}

/// A direction in a table cell.
fn dir(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
        Direction::Local => "local",
    }
}

fn top_items(c: &Counter, n: usize) -> Vec<String> {
    c.top(n)
        .into_iter()
        .map(|(v, n)| format!("{} ({})", terminal(v), num(n)))
        .collect()
}

fn group(
    w: &mut dyn Write,
    n: usize,
    k: &GroupKey,
    g: &Group,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let idx = ps.cause_id(&k.cause);
    let cause = idx.map(|i| &ps.causes[i]);
    let title = cause.map(|c| c.title.as_str()).unwrap_or(k.cause.as_str());
    writeln!(w)?;
    // Severity and MTA are in the table's row.
    wrap(
        w,
        &format!(
            "{title} — {} · {}",
            terminal(&k.cause),
            k.direction.as_str(),
        ),
        &format!("{n}. "),
        "   ",
    )?;
    let distinct = g.recipients.distinct();
    let span = if g.first == g.last {
        format!("at {}", when(g.first))
    } else {
        format!("first {}, last {}", when(g.first), when(g.last))
    };
    let counts = format!(
        "{}, {}{} distinct {}, {span}",
        messages(g.messages(), g.count),
        if g.recipients.capped() {
            "at least "
        } else {
            ""
        },
        num(distinct as u64),
        noun(distinct as u64, "recipient", "recipients"),
    );
    wrap(w, &counts, "   ", "   ")?;
    let peer_title = if k.direction == Direction::Inbound {
        "Clients"
    } else {
        "Remote hosts"
    };
    let more = distinct.saturating_sub(opts.top);
    let lists = [
        ("Recipients", &g.recipients, more),
        ("Domains", &g.domains, 0),
        (peer_title, &g.peers, 0),
        ("Senders", &g.senders, 0),
    ];
    for (name, c, more) in lists {
        // One domain is in every recipient shown; one sender of our own
        // mail says little.
        if c.distinct() == 0
            || (name == "Domains" && c.distinct() == 1 && distinct > 0)
            || (name == "Senders" && c.distinct() == 1 && k.direction != Direction::Inbound)
        {
            continue;
        }
        let mut top = top_items(c, opts.top).join(", ");
        if more > 0 {
            top.push_str(&format!(" … and {} more", num(more as u64)));
        }
        let first = format!("   {name:<13}");
        wrap(w, &top, &first, &" ".repeat(first.len()))?;
    }
    if let Some(ex) = &g.example {
        let text = short(&terminal(&ex.text), EXAMPLE_MAX);
        let head = format!(
            "Example ({}:{}):",
            terminal(super::input_name(&ex.file)),
            ex.line
        );
        wrap(w, &format!("{head} {text}"), "   ", "     ")?;
    }
    // The meaning is in the Markdown and JSON reports and `bouncelog explain`.
    if let Some((actor, action)) = idx.and_then(|i| ps.act(i, Some(k.direction))) {
        writeln!(
            w,
            "   Who acts: {} — {}",
            actor.replace('_', " "),
            action.replace('_', " ")
        )?;
    }
    let hints = idx
        .map(|i| ps.hints(i, k.direction, &k.mta))
        .unwrap_or_default();
    for h in hints {
        wrap(w, h, "   - ", "     ")?;
    }
    Ok(())
}
