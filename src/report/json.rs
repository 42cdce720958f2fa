//! `--format json`: the [`Report`] document (schema `bouncelog/1`, see
//! [`super::document`]), pretty-printed with a final newline.
//!
//! The keys are a stable contract for scripts: `window`, `inputs`, `lines`,
//! `totals`, `findings`, `groups[]` (cause, direction, severity, mta, count,
//! distinct_recipients, top lists, first_seen, last_seen, example, hints,
//! counts), `reject_warnings`, `unmatched`.

use super::document::{Report, WithEvidence};
use super::ReportOptions;
use crate::findings::Analysis;
use crate::patterns::PatternSet;
use chrono::{DateTime, FixedOffset};
use std::io::{self, Write};

pub use super::document::SCHEMA;

/// Writes the report. `coverage` adds how the lines read cover the window.
pub fn write(
    w: &mut dyn Write,
    a: &Analysis,
    ps: &PatternSet,
    opts: &ReportOptions,
    now: DateTime<FixedOffset>,
    coverage: bool,
    changes: Option<&[crate::analysis::compare::Change]>,
) -> io::Result<()> {
    let mut report = Report::new(a, ps, opts, now, coverage);
    report.changes = changes.map(<[_]>::to_vec);
    let doc = WithEvidence {
        report: &report,
        evidence: crate::analysis::evidence_json::Evidence(&a.summary.diag),
    };
    // serde_json writes token by token: a buffer of its own here takes those
    // small writes without a call through `dyn Write` and the sink each.
    let mut buf = io::BufWriter::with_capacity(1 << 16, &mut *w);
    serde_json::to_writer_pretty(&mut buf, &doc).map_err(io::Error::other)?;
    buf.write_all(b"\n")?;
    buf.into_inner()
        .map(drop)
        .map_err(io::IntoInnerError::into_error)
}
