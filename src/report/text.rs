//! `--format text` (the default): a summary for people, at most 100 columns
//! wide: totals, an overview of the causes, then one block per cause with the
//! top recipients, domains and clients or remote hosts, an example line, what
//! the cause means and what to do. No colour; log text is escaped.

use super::{noun, ReportOptions};
use crate::analysis::summary::{Counter, Group, GroupKey, Summary};
use crate::event::Direction;
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use chrono::{DateTime, FixedOffset};
use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use std::io::{self, Write};

/// Width of the report.
pub const WIDTH: usize = 100;
const EXAMPLE_MAX: usize = 400;

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
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

fn wrap(w: &mut dyn Write, text: &str, first: &str, rest: &str) -> io::Result<()> {
    // Break only at spaces, first fit: an address, host name or command is
    // never split at a hyphen, and no line passes WIDTH unless one word does.
    let opts = textwrap::Options::new(WIDTH)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    for line in textwrap::wrap(text, opts) {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

/// Writes the text report.
pub fn write(
    w: &mut dyn Write,
    s: &Summary,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let l = &s.lines;
    let inputs = s.inputs.len();
    writeln!(
        w,
        "bouncelog: {} input{}, {} {} ({} from mail programs, {} from other programs, {} unrecognised)",
        inputs,
        if inputs == 1 { "" } else { "s" },
        num(l.total - l.blank),
        noun(l.total - l.blank, "line", "lines"),
        num(l.recognised),
        num(l.other_programs),
        num(l.unrecognised)
    )?;
    if !s.window.is_open() {
        let t = |x: Option<chrono::DateTime<chrono::FixedOffset>>| {
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
        writeln!(
            w,
            "  input error: {}",
            terminal(i.error.as_deref().unwrap_or(""))
        )?;
    }
    let total = s.failures();
    writeln!(
        w,
        "Failures: {} (inbound {}, outbound {}, local {})",
        num(total),
        num(s.failures_in(Direction::Inbound)),
        num(s.failures_in(Direction::Outbound)),
        num(s.failures_in(Direction::Local))
    )?;
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
    if !s.findings.is_empty() {
        writeln!(w, "\nFindings:")?;
        for f in &s.findings {
            wrap(w, &terminal(&f.message), "  * ", "    ")?;
            for h in &f.hints {
                wrap(w, h, "      - ", "        ")?;
            }
        }
    }
    if total == 0 {
        writeln!(w, "\nNo rejections or bounces found.")?;
        return Ok(());
    }
    let groups = s.sorted_groups();
    writeln!(w)?;
    let mut t = table(opts);
    t.set_header(vec![
        "#",
        "Cause",
        "Direction",
        "Severity",
        "MTA",
        "Events",
        "Recipients",
    ]);
    for (i, (k, g)) in groups.iter().enumerate() {
        t.add_row(vec![
            Cell::new(i + 1),
            Cell::new(&k.cause),
            Cell::new(k.direction.as_str()),
            Cell::new(k.severity.as_str()),
            Cell::new(&k.mta),
            Cell::new(num(g.count)).set_alignment(CellAlignment::Right),
            Cell::new(num(g.recipients.distinct() as u64)).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(w, "{t}")?;
    for (i, (k, g)) in groups.iter().enumerate() {
        group(w, i + 1, k, g, ps, opts)?;
    }
    let unmatched = s.diag.unmatched.len();
    if unmatched > 0 {
        writeln!(
            w,
            "\nUnrecognised failure texts (cause `other`; see --explain-unmatched):"
        )?;
        let mut v: Vec<_> = s.diag.unmatched.iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        for (t, (n, sample)) in v.into_iter().take(opts.top.max(10)) {
            wrap(w, &format!("{n} × {}", terminal(t)), "  ", "      ")?;
            let mut sample = terminal(sample).into_owned();
            if sample.chars().count() > EXAMPLE_MAX {
                sample = sample.chars().take(EXAMPLE_MAX).collect::<String>() + "…";
            }
            wrap(w, &format!("e.g. {sample}"), "      ", "        ")?;
        }
    }
    if !s.warnings.is_empty() {
        writeln!(w, "\nreject_warning (logged by warn_if_reject or soft_bounce tests; mail was not refused):")?;
        for ((mta, cause), n) in &s.warnings {
            writeln!(w, "  {mta} {cause}: {}", num(*n))?;
        }
    }
    Ok(())
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
    writeln!(w, "\n{n}. {title}")?;
    writeln!(
        w,
        "   {} · {} · {} · {}",
        k.cause,
        k.direction.as_str(),
        k.severity.as_str(),
        k.mta
    )?;
    let distinct = g.recipients.distinct();
    writeln!(
        w,
        "   {} event{}, {}{} distinct recipient{}, first {}, last {}",
        num(g.count),
        if g.count == 1 { "" } else { "s" },
        if g.recipients.capped() {
            "at least "
        } else {
            ""
        },
        num(distinct as u64),
        if distinct == 1 { "" } else { "s" },
        when(g.first),
        when(g.last)
    )?;
    let peer_title = if k.direction == Direction::Inbound {
        "Clients"
    } else {
        "Remote hosts"
    };
    let lists = [
        ("Recipients", &g.recipients),
        ("Domains", &g.domains),
        (peer_title, &g.peers),
        ("Senders", &g.senders),
    ];
    for (name, c) in lists {
        let top = top_items(c, opts.top);
        if top.is_empty() {
            continue;
        }
        let first = format!("   {name:<13}");
        wrap(w, &top.join(", "), &first, &" ".repeat(first.len()))?;
    }
    let more = g.recipients.distinct().saturating_sub(opts.top);
    if more > 0 {
        writeln!(
            w,
            "   … and {} more recipient{}",
            num(more as u64),
            if more == 1 { "" } else { "s" }
        )?;
    }
    if let Some(ex) = &g.example {
        let mut text = terminal(&ex.text).into_owned();
        if text.chars().count() > EXAMPLE_MAX {
            text = text.chars().take(EXAMPLE_MAX).collect::<String>() + "…";
        }
        writeln!(w, "   Example ({}:{}):", terminal(&ex.file), ex.line)?;
        wrap(w, &text, "     ", "       ")?;
    }
    if let Some((actor, action)) = idx.and_then(|i| ps.act(i, Some(k.direction))) {
        writeln!(
            w,
            "   Who acts: {} — {}",
            actor.replace('_', " "),
            action.replace('_', " ")
        )?;
    }
    if let Some(c) = cause {
        if !c.meaning.is_empty() {
            wrap(w, &format!("Meaning: {}", c.meaning), "   ", "   ")?;
        }
    }
    let hints = idx
        .map(|i| ps.hints(i, k.direction, &k.mta))
        .unwrap_or_default();
    if !hints.is_empty() {
        writeln!(w, "   What to do:")?;
        for h in hints {
            wrap(w, h, "   - ", "     ")?;
        }
    }
    Ok(())
}
