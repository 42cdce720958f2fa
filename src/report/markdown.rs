//! `--format markdown`: the text report as Markdown, for wikis, tickets and
//! mail clients that render it. Log text is escaped (controls shown as
//! escapes, `|` and backticks neutralised) so it cannot break the tables.

use super::{noun, ReportOptions};
use crate::analysis::summary::{Counter, Summary};
use crate::event::Direction;
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
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
    s: &Summary,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
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
        "- **Failures:** {} (inbound {}, outbound {}, local {})",
        s.failures(),
        s.failures_in(Direction::Inbound),
        s.failures_in(Direction::Outbound),
        s.failures_in(Direction::Local)
    )?;
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
    if !s.findings.is_empty() {
        writeln!(w, "## Findings\n")?;
        for f in &s.findings {
            writeln!(w, "- **{}:** {}", f.kind, cell(&f.message))?;
        }
        writeln!(w)?;
    }
    if s.failures() == 0 {
        writeln!(w, "No rejections or bounces found.")?;
        return Ok(());
    }
    let groups = s.sorted_groups();
    writeln!(
        w,
        "| # | Cause | Direction | Severity | MTA | Events | Recipients | Last seen |"
    )?;
    writeln!(w, "|--:|---|---|---|---|--:|--:|---|")?;
    for (i, (k, g)) in groups.iter().enumerate() {
        writeln!(
            w,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            i + 1,
            k.cause,
            k.direction.as_str(),
            k.severity.as_str(),
            k.mta,
            g.count,
            g.recipients.distinct(),
            g.last
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        )?;
    }
    for (i, (k, g)) in groups.iter().enumerate() {
        let idx = ps.cause_id(&k.cause);
        let title = idx.map(|i| ps.causes[i].title.as_str()).unwrap_or(&k.cause);
        writeln!(w, "\n## {}. {}\n", i + 1, title)?;
        writeln!(
            w,
            "`{}` · {} · {} · {} — **{}** {}, {} distinct {}\n",
            k.cause,
            k.direction.as_str(),
            k.severity.as_str(),
            k.mta,
            g.count,
            noun(g.count, "event", "events"),
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
                cell(&ex.file),
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
    }
    Ok(())
}
