//! `bouncelog suppress`: the recipients our mail hard-bounced for (unknown
//! user, disabled mailbox, domain not found) — and those that failed
//! temporarily for such a cause on many different days — for mailing-list
//! cleanup. Only causes the recipient is responsible for can put an address
//! on the list (`suppress = true` in causes.toml): a refusal because of *us*
//! (our IP blocklisted, greylisting, policy, rate limits) says nothing about
//! the address, however often it repeats. Each entry carries the severity of
//! its own events. A recipient that was also delivered in the same logs is
//! left out: the mailbox exists (again). Inbound rejections are not listed
//! (they are not our recipients).

use crate::analysis::pipeline::{self, Problem, RunOptions};
use crate::event::Event;
use crate::patterns::PatternSet;
use std::io::{self, Write};

/// One recipient of the suppression list.
#[derive(Debug, Default, serde::Serialize)]
pub struct Suppressed {
    /// The address.
    pub recipient: String,
    /// Its (last hard) cause, or `repeated_soft:<cause>`.
    pub cause: String,
    /// `hard` when a hard failure put it here, else `soft` (repeated temporary failures).
    pub severity: String,
    /// Failed messages (queue id; a deferred message retried six times is one).
    pub count: u64,
    /// Failed delivery attempts.
    pub attempts: u64,
    /// First failure.
    pub first_seen: Option<String>,
    /// Last failure.
    pub last_seen: Option<String>,
    /// Days with failures.
    pub days: usize,
}

/// Queue ids remembered per recipient to count its messages; beyond, each
/// attempt counts as a message of its own.
const QUEUE_IDS_CAP: usize = 1024;

/// Analyses the inputs and returns the list, sorted by address.
pub fn collect(
    ps: &PatternSet,
    files: &[crate::source::Input],
    soft_days: usize,
    report: &mut dyn FnMut(Problem),
) -> Vec<Suppressed> {
    // Which causes belong on the list is data: `suppress = true` in causes.toml.
    let hard = |c: &str| ps.cause_id(c).is_some_and(|i| ps.causes[i].suppress);
    type Seen = (
        String,
        u64,
        Option<chrono::DateTime<chrono::FixedOffset>>,
        Option<chrono::DateTime<chrono::FixedOffset>>,
        std::collections::BTreeSet<chrono::NaiveDate>,
        bool,
        // Queue ids seen (at most QUEUE_IDS_CAP), attempts, messages beyond the cap.
        std::collections::BTreeSet<String>,
        u64,
        u64,
    );
    let mut by: std::collections::BTreeMap<String, Seen> = std::collections::BTreeMap::new();
    let summary = {
        let mut events = |e: &Event| {
            if e.direction == crate::event::Direction::Inbound {
                return;
            }
            let Some(r) = e.recipient.as_deref().filter(|r| r.contains('@')) else {
                return;
            };
            if !hard(&e.cause) {
                // Not the recipient's doing (our IP, greylisting, policy …): no evidence.
                return;
            }
            let is_hard = e.severity == crate::event::Severity::Hard;
            let s = by.entry(r.to_ascii_lowercase()).or_default();
            if is_hard || s.0.is_empty() || !s.5 {
                s.0 = e.cause.to_string();
            }
            s.7 += 1;
            match e.queue_id.as_deref() {
                Some(q) if s.6.contains(q) => {}
                Some(q) if s.6.len() < QUEUE_IDS_CAP => {
                    s.6.insert(q.to_string());
                }
                _ => s.8 += 1,
            }
            s.1 = s.6.len() as u64 + s.8;
            s.2 = match (s.2, e.time) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            s.3 = match (s.3, e.time) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            if let Some(t) = e.time {
                s.4.insert(t.date_naive());
            }
            s.5 |= is_hard;
        };
        pipeline::run(ps, files, &RunOptions::default(), &mut events, report)
    };
    by.into_iter()
        // Delivered addresses are not suppressed: the mailbox exists (again).
        .filter(|(r, _)| summary.diag.delivered.get(r) == 0)
        .filter(|(_, s)| s.5 || s.4.len() >= soft_days)
        .map(|(r, s)| Suppressed {
            recipient: r,
            severity: if s.5 { "hard" } else { "soft" }.to_string(),
            cause: if s.5 {
                s.0
            } else {
                format!("repeated_soft:{}", s.0)
            },
            count: s.1,
            attempts: s.7,
            first_seen: s.2.map(|t| t.to_rfc3339()),
            last_seen: s.3.map(|t| t.to_rfc3339()),
            days: s.4.len(),
        })
        .collect()
}

/// Writes the list as CSV (spreadsheet-safe cells) or JSON.
pub fn write(w: &mut dyn Write, list: &[Suppressed], json: bool) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *w, list).map_err(io::Error::other)?;
        return writeln!(w);
    }
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "recipient",
        "cause",
        "severity",
        "count",
        "first_seen",
        "last_seen",
        "days",
        "attempts",
    ])?;
    for s in list {
        let row = [
            s.recipient.clone(),
            s.cause.clone(),
            s.severity.clone(),
            s.count.to_string(),
            s.first_seen.clone().unwrap_or_default(),
            s.last_seen.clone().unwrap_or_default(),
            s.days.to_string(),
            s.attempts.to_string(),
        ];
        out.write_record(row.iter().map(|c| crate::report::csv::safe(c)))?;
    }
    out.flush()
}
