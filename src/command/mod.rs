//! The commands, without the command line: each takes its plain
//! configuration from [`crate::config`] and returns a [`Status`] or an
//! [`Error`]; printing the error and choosing the exit status happen once,
//! in [`crate::error::exit_status`].

pub mod analyze;
pub mod explain;
pub mod merge;
pub mod patterns;
pub mod suppress;

use crate::actions::failon::{self, Threshold};
use crate::analysis::window;
use crate::config::{Format, ReportConfig};
use crate::error::{Error, Messages, Status};
use crate::findings::Analysis;
use crate::output::Sink;
use crate::patterns::PatternSet;
use crate::report::{self, ReportOptions};
use std::io::{self, IsTerminal};

/// The --fail-on thresholds, each parsed and checked against the causes known.
fn thresholds(out: &ReportConfig, ps: &PatternSet) -> Result<Vec<Threshold>, Error> {
    let t = out
        .fail_on
        .iter()
        .map(|s| failon::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    failon::validate(&t, ps).map_err(Error::Usage)?;
    Ok(t)
}

/// What changed since a previous report (`analyze --compare`).
pub struct Changes {
    /// The previous report, as given.
    pub previous: String,
    /// The changes, most newsworthy first.
    pub list: Vec<crate::analysis::compare::Change>,
}

/// Writes a finished summary in a summary format, then applies --quiet,
/// the window's coverage and --fail-on, in that order of precedence.
#[allow(clippy::too_many_arguments)]
fn finish(
    mut sink: Sink,
    analysis: &Analysis,
    ps: &PatternSet,
    out: &ReportConfig,
    thresholds: &[Threshold],
    msgs: &mut Messages,
    check_coverage: bool,
    changes: Option<&Changes>,
) -> Result<Status, Error> {
    let opts = ReportOptions {
        top: out.top,
        details: out.details,
        unicode: out.output.is_none() && io::stdout().is_terminal(),
    };
    let summary = &analysis.summary;
    let now = out.zone.now();
    let silent = out.quiet && summary.failures() == 0 && !msgs.errored() && out.output.is_none();
    if !silent {
        let w = sink.writer();
        // What changed comes first: it is what the morning mail is read for.
        if let (Some(c), Format::Text | Format::Markdown) = (changes, out.format) {
            let lines = crate::analysis::compare::lines(&c.list, &c.previous);
            let md = out.format == Format::Markdown;
            for (i, l) in lines.iter().enumerate() {
                let l = crate::report::sanitize::terminal(l);
                match (md, i) {
                    (true, 0) => writeln!(w, "**{l}**\n")?,
                    (true, _) => writeln!(w, "- {}", l.trim_start())?,
                    (false, _) => writeln!(w, "{l}")?,
                }
            }
            writeln!(w)?;
        }
        match out.format {
            Format::Text => report::text::write(w, analysis, ps, &opts)?,
            Format::Markdown => report::markdown::write(w, analysis, ps, &opts)?,
            Format::Csv if out.events => {}
            Format::Csv => report::csv::write(w, analysis, ps, &opts)?,
            Format::Html => report::html::write(w, analysis, ps, &opts)?,
            Format::Json => {
                let coverage = check_coverage || summary.first_line.is_some();
                let list = changes.map(|c| c.list.as_slice());
                report::json::write(w, analysis, ps, &opts, now, coverage, list)?
            }
            Format::Ndjson => {}
            Format::Prometheus => {
                report::prometheus::write(w, analysis, ps.findings.keys().map(String::as_str), now)?
            }
        }
    }
    sink.finish()?;
    // A past window the inputs do not reach into is no evidence of a clean period.
    let note = check_coverage
        .then(|| window::coverage_note(summary, now, &out.zone))
        .flatten();
    let uncovered = match note {
        Some((msg, none)) => {
            msgs.note(&msg);
            none
        }
        None => false,
    };
    if msgs.errored() {
        return Ok(Status::Failed);
    }
    if uncovered {
        return Ok(Status::Uncovered);
    }
    let mut crossed = false;
    for t in thresholds {
        if let Some(msg) = t.crossed(summary) {
            msgs.note(&msg);
            crossed = true;
        }
    }
    Ok(if crossed {
        Status::Crossed
    } else {
        Status::Clean
    })
}
