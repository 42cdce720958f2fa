//! `--format markdown`: the text report's shape in Markdown, for wikis,
//! tickets and mail clients that render it: totals, findings (one hint per
//! kind), trends, a table of every cause (most urgent first), full sections
//! for the first `--details` causes. Log text is escaped (controls shown as
//! escapes, `|` and backticks neutralised) so it cannot break the tables.

use super::{noun, ReportOptions};
use crate::analysis::summary::{Counter, Group, GroupKey, Summary};
use crate::event::Direction;
use crate::findings::Analysis;
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use crate::report::text::messages;
use std::io::{self, Write};

fn cell(s: &str) -> String {
    terminal(s)
        .replace('|', "\\|")
        .replace('`', "'")
        .replace(['\n', '\r'], " ")
}

fn list(c: &Counter, n: usize) -> String {
    c.top(n)
        .into_iter()
        .map(|(v, n)| format!("`{}` ({n})", cell(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the Markdown report.
pub fn write(
    w: &mut dyn Write,
    a: &Analysis,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let s = &a.summary;
    let l = &s.lines;
    writeln!(w, "# bouncelog report\n")?;
    writeln!(
        w,
        "- **Inputs:** {} ({} {}; {} from mail programs, {} from other programs, {} unrecognised)",
        s.inputs.len(),
        l.total - l.blank,
        noun(l.total - l.blank, "line", "lines"),
        l.recognised,
        l.other_programs,
        l.unrecognised
    )?;
    if let (Some(a), Some(b)) = (s.window.since, s.window.until) {
        writeln!(w, "- **Window:** {} to {}", a.to_rfc3339(), b.to_rfc3339())?;
    }
    writeln!(
        w,
        "- **Failures:** {}, {} {} (inbound {}, outbound {}, local {})",
        messages(s.messages(), s.messages()),
        s.failures(),
        noun(s.failures(), "attempt", "attempts"),
        s.messages_in(Direction::Inbound, None),
        s.messages_in(Direction::Outbound, None),
        s.messages_in(Direction::Local, None)
    )?;
    let o = super::outcomes(s);
    if o.bounced + o.deferred + o.expired > 0 {
        writeln!(
            w,
            "- **Deliveries failed:** {} bounced, {} deferred ({} {}), {} expired",
            o.bounced,
            o.deferred,
            o.deferral_attempts,
            noun(o.deferral_attempts, "attempt", "attempts"),
            o.expired
        )?;
    }
    writeln!(
        w,
        "- **Also:** {} delivered, {} non-delivery {}, {} reject_warning, {} verify {}\n",
        s.delivered,
        s.ndr_sent,
        noun(s.ndr_sent, "notice", "notices"),
        s.warnings.values().sum::<u64>(),
        s.probes,
        noun(s.probes, "probe", "probes")
    )?;
    if !a.findings.is_empty() {
        writeln!(w, "## Findings\n")?;
        for (kind, found, shared) in crate::findings::by_kind(&a.findings) {
            let title = ps
                .findings
                .get(kind)
                .and_then(|d| d.title.as_deref())
                .unwrap_or(kind);
            writeln!(w, "- **{}** ({}):", cell(title), found.len())?;
            // At most max(--top, 10) of a kind (`--format json` has them all).
            let cap = opts.top.max(10);
            for f in found.iter().take(cap) {
                writeln!(w, "  - {}", cell(&f.message()))?;
                if shared.is_none() {
                    for h in f.hints.iter() {
                        writeln!(w, "    - *To do:* {h}")?;
                    }
                }
            }
            if found.len() > cap {
                writeln!(
                    w,
                    "  - … and {} more (`--format json` lists them all)",
                    found.len() - cap
                )?;
            }
            for h in shared.unwrap_or_default() {
                writeln!(w, "  - *To do:* {h}")?;
            }
        }
        writeln!(w)?;
    }
    if s.failures() == 0 {
        writeln!(w, "No rejections or bounces found.")?;
        return Ok(());
    }
    let groups = super::by_urgency(s, ps);
    trends(w, s, &groups)?;
    writeln!(w, "## Causes, most urgent first\n")?;
    writeln!(
        w,
        "| # | Cause | Direction | Severity | MTA | Act | Messages | Attempts | Recipients | Last seen |"
    )?;
    writeln!(w, "|--:|---|---|---|---|---|--:|--:|--:|---|")?;
    for (i, (k, g)) in groups.iter().enumerate() {
        writeln!(
            w,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            cell(&k.cause),
            k.direction.as_str(),
            k.severity.as_str(),
            cell(&k.mta),
            super::urgency_of(ps, k),
            g.messages(),
            g.count,
            g.recipients.distinct(),
            g.last
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        )?;
    }
    for (i, (k, g)) in groups.iter().enumerate().take(opts.details) {
        section(w, i + 1, k, g, ps, opts)?;
    }
    if groups.len() > opts.details {
        writeln!(
            w,
            "\nCauses {}–{} are the table's rows only; `--details {}` shows each in full.",
            opts.details + 1,
            groups.len(),
            groups.len()
        )?;
    }
    Ok(())
}

/// Failure attempts per hour of the day and per day, as a table.
fn trends(w: &mut dyn Write, s: &Summary, groups: &[(&GroupKey, &Group)]) -> io::Result<()> {
    let offset = s
        .first_line
        .map(|t| t.offset().local_minus_utc() as i64)
        .unwrap_or(0);
    let Some(super::Trends { days, rows, .. }) = super::trends(s, groups, offset, 3) else {
        return Ok(());
    };
    let per_day = days > 1 && days <= 31;
    writeln!(
        w,
        "## Trends\n\nFailure attempts per hour of the day (00–23, UTC{}){}.\n",
        chrono::FixedOffset::east_opt(offset as i32)
            .map(|z| z.to_string())
            .unwrap_or_default(),
        if per_day { " and per day" } else { "" }
    )?;
    writeln!(
        w,
        "| Cause | Per hour | Total |{}",
        if per_day { " Per day |" } else { "" }
    )?;
    writeln!(w, "|---|---|--:|{}", if per_day { "---|" } else { "" })?;
    for (k, t) in rows {
        let label = match k {
            None => "all failures".to_string(),
            Some(k) => format!("`{}` {}", cell(&k.cause), k.direction.as_str()),
        };
        let mut line = format!(
            "| {label} | `{}` | {} |",
            super::sparkline(&t.hours, true),
            t.days.iter().sum::<u64>()
        );
        if per_day {
            let d: Vec<String> = t.days.iter().map(u64::to_string).collect();
            line.push_str(&format!(" {} |", d.join(" ")));
        }
        writeln!(w, "{line}")?;
    }
    writeln!(w)
}

fn section(
    w: &mut dyn Write,
    n: usize,
    k: &GroupKey,
    g: &Group,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let idx = ps.cause_id(&k.cause);
    let title = idx.map(|i| ps.causes[i].title.as_str()).unwrap_or(&k.cause);
    writeln!(w, "\n## {}. {}\n", n, cell(title))?;
    writeln!(
        w,
        "`{}` · {} · {} · {} — **{}**, {} distinct {}\n",
        cell(&k.cause),
        k.direction.as_str(),
        k.severity.as_str(),
        cell(&k.mta),
        messages(g.messages(), g.count),
        g.recipients.distinct(),
        noun(g.recipients.distinct() as u64, "recipient", "recipients")
    )?;
    let peer = if k.direction == Direction::Inbound {
        "Clients"
    } else {
        "Remote hosts"
    };
    for (name, c) in [
        ("Recipients", &g.recipients),
        ("Domains", &g.domains),
        (peer, &g.peers),
        ("Senders", &g.senders),
    ] {
        if c.distinct() > 0 {
            writeln!(w, "- **{name}:** {}", list(c, opts.top))?;
        }
    }
    if let Some(ex) = &g.example {
        writeln!(
            w,
            "\nExample ({}:{}):\n\n```\n{}\n```",
            cell(super::input_name(&ex.file)),
            ex.line,
            terminal(&ex.text).replace("```", "'''")
        )?;
    }
    if let Some(i) = idx {
        if let Some((actor, action)) = ps.act(i, Some(k.direction)) {
            writeln!(
                w,
                "\n**Who acts:** {} — {}",
                actor.replace('_', " "),
                action.replace('_', " ")
            )?;
        }
        if !ps.causes[i].meaning.is_empty() {
            writeln!(w, "\n{}", ps.causes[i].meaning)?;
        }
        let hints = ps.hints(i, k.direction, &k.mta);
        if !hints.is_empty() {
            writeln!(w, "\n**What to do:**\n")?;
            for h in hints {
                writeln!(w, "- {h}")?;
            }
        }
    }
    Ok(())
}
