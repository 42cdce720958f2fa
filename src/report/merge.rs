//! `bouncelog merge`: reads JSON reports (`--format json`, schema
//! `bouncelog/1`) back into summaries so that reports from several hosts or
//! days add up to one. The JSON keeps, per group, every recipient, domain,
//! client/remote host and sender with its count (`counts`, capped like the
//! analyser's maps, with the excess in `*_overflow`) and the events per hour,
//! so merged counts, distinct counts and top lists are exact; and the
//! evidence behind the findings (`evidence`), so that the findings of merged
//! reports are computed as for one run over all their inputs.
//!
//! Each report carries the fingerprint of every input (XXH3-128 of its
//! bytes) and its window; a report whose inputs and window are those of a
//! report already merged is the same report given twice (`merge a.json
//! a.json`, or a host's report copied under two names) and is skipped with a
//! warning instead of doubling every count. `-` reads a report from stdin.

use crate::analysis::summary::{Counter, Example, Group, GroupKey, InputInfo, LineStats, Summary};
use crate::analysis::window::Window;
use crate::findings::{Analysis, Finding};
use crate::report::document::{self, Report, SCHEMA};
use chrono::DateTime;
use serde_json::Value;
use std::collections::BTreeMap;

fn counter(m: &BTreeMap<std::borrow::Cow<'_, str>, u64>, overflow: u64) -> Counter {
    let mut c = Counter::default();
    for (k, n) in m {
        c.add(k, *n);
    }
    c.overflow += overflow;
    c
}

fn time(v: &Option<String>) -> Option<DateTime<chrono::FixedOffset>> {
    v.as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

/// The summary and findings of one JSON report; the error says what is wrong.
pub fn from_report(r: Report) -> Result<Analysis, String> {
    if r.schema != SCHEMA {
        return Err(format!("not a {SCHEMA} report (schema is {:?})", r.schema));
    }
    let mut s = Summary::default();
    for i in r.inputs {
        s.inputs.push(InputInfo {
            path: i.path,
            bytes: i.bytes,
            lines: i.lines,
            gzip: i.gzip,
            error: i.error,
            fingerprint: i.fingerprint,
        });
    }
    let l = r.lines;
    s.lines = LineStats {
        total: l.total,
        recognised: l.recognised,
        unrecognised: l.unrecognised,
        other_programs: l.other_programs,
        blank: l.blank,
        matched: l.matched,
        invalid_utf8: l.invalid_utf8,
    };
    let t = r.totals;
    s.ndr_sent = t.ndr_sent;
    s.expired = t.expired;
    s.delivered = t.delivered;
    s.probes = t.verify_probes;
    s.duplicates = t.duplicates_skipped;
    s.outside_window = t.outside_window;
    s.window = Window {
        since: time(&r.window.since),
        until: time(&r.window.until),
    };
    if let Some(c) = &r.window.coverage {
        s.first_line = time(&c.first_line);
        s.last_line = time(&c.last_line);
    }
    for w in r.reject_warnings {
        *s.warnings.entry((w.mta, w.cause)).or_default() += w.count;
    }
    s.diag = crate::analysis::evidence::Diagnostics::from_json(&r.evidence);
    for g in r.groups {
        let Some(c) = g.counts else {
            return Err("a group has no `counts` (report written by an older bouncelog?)".into());
        };
        let key = GroupKey {
            cause: g.cause,
            direction: g.direction,
            severity: g.severity,
            mta: g.mta,
        };
        let group = Group {
            count: g.count,
            recipients: counter(&c.recipients, c.recipients_overflow),
            domains: counter(&c.domains, c.domains_overflow),
            peers: counter(&c.peers, c.peers_overflow),
            senders: counter(&c.senders, c.senders_overflow),
            without_recipient: g.without_recipient,
            // Per-message keys make a message retried in two reports one
            // message; a report without them counts its own messages.
            attempts: counter(&c.messages, c.messages_overflow),
            unqueued: if c.messages.is_empty() && c.messages_overflow == 0 && c.unqueued == 0 {
                g.messages
            } else {
                c.unqueued
            },
            first: time(&g.first_seen),
            last: time(&g.last_seen),
            example: g.example.map(|e| Example {
                file: e.file,
                line: e.line,
                text: e.text,
            }),
            hourly: c
                .hourly
                .iter()
                .filter_map(|(h, n)| Some((document::parse_hour_key(h)?, *n)))
                .collect(),
        };
        s.groups.entry(key).or_default().merge(&group);
    }
    Ok(Analysis {
        summary: s,
        findings: r.findings.into_owned(),
    })
}

/// Reads one report (a file, or stdin for `-`); the error is one line without the path.
pub fn read(p: &std::path::Path) -> Result<Analysis, String> {
    let bytes = if p.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| crate::source::io_msg(&e))?;
        b
    } else {
        std::fs::read(p).map_err(|e| crate::source::io_msg(&e))?
    };
    let first_line = |e: serde_json::Error| {
        e.to_string()
            .split(" at line")
            .next()
            .unwrap_or("invalid JSON")
            .to_string()
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "not a JSON report ({}); write reports with `bouncelog analyze --format json`",
            first_line(e)
        )
    })?;
    if v["schema"] != SCHEMA {
        return Err(format!("not a {SCHEMA} report (schema is {})", v["schema"]));
    }
    let r: Report = serde_json::from_value(v)
        .map_err(|e| format!("not a valid {SCHEMA} report: {}", first_line(e)))?;
    from_report(r)
}

/// The fingerprint of a report: its window and the fingerprints of its
/// inputs (`None` when an input has none, e.g. a report of an older version).
pub fn fingerprint(s: &Summary) -> Option<String> {
    let mut inputs: Vec<&str> = Vec::new();
    for i in &s.inputs {
        inputs.push(i.fingerprint.as_deref()?);
    }
    if inputs.is_empty() {
        return None;
    }
    inputs.sort_unstable();
    let t = |t: Option<DateTime<chrono::FixedOffset>>| t.map(|t| t.timestamp()).unwrap_or(i64::MIN);
    let text = format!(
        "{} {} {}",
        t(s.window.since),
        t(s.window.until),
        inputs.join(" ")
    );
    Some(format!(
        "{:032x}",
        xxhash_rust::xxh3::xxh3_128(text.as_bytes())
    ))
}

/// Drops reports whose fingerprint is that of an earlier one; `warn` is told
/// which (by index of the later and the earlier report).
pub fn without_duplicates(
    parts: Vec<Analysis>,
    warn: &mut dyn FnMut(usize, usize),
) -> Vec<Analysis> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if let Some(f) = fingerprint(&p.summary) {
            if let Some((_, first)) = seen.iter().find(|(x, _)| *x == f) {
                warn(i, *first);
                continue;
            }
            seen.push((f, i));
        }
        out.push(p);
    }
    out
}

/// The findings of a merged report, computed from the merged evidence as
/// for one run over all the inputs (the evidence of parts merged in input
/// order is that of the whole). Reports of an older bouncelog carry no
/// evidence: when one is merged, the findings that the merged groups hold the
/// evidence for (our IP blocklisted, domain typos of well-known domains) are
/// computed, and the others are those of the parts, once each.
pub fn findings(merged: &Analysis, ps: &crate::patterns::PatternSet) -> Vec<Finding> {
    let mut out =
        crate::findings::compute(&merged.summary, ps, &crate::findings::Config::default());
    if merged.summary.diag.parts_without_evidence == 0 {
        return out;
    }
    for f in &merged.findings {
        let recomputed = ps.findings.get(&f.kind).is_some_and(|d| d.merge_recomputes);
        if !recomputed
            && !out
                .iter()
                .any(|x| x.kind == f.kind && x.subject == f.subject)
        {
            out.push(f.clone());
        }
    }
    out
}

/// Merges reports in the order given; the window covers them all. The
/// findings are those of the parts, each once (see [`findings`] for those
/// of the merged report).
pub fn merge_all(parts: Vec<Analysis>) -> Analysis {
    let mut out = Summary::default();
    let mut found: Vec<Finding> = Vec::new();
    let mut window: Option<Window> = None;
    for Analysis {
        summary: p,
        findings,
    } in parts
    {
        for f in findings {
            if !found
                .iter()
                .any(|x| x.kind == f.kind && x.subject == f.subject)
            {
                found.push(f);
            }
        }
        window = Some(match window {
            None => p.window,
            Some(w) => Window {
                since: w.since.zip(p.window.since).map(|(a, b)| a.min(b)),
                until: w.until.zip(p.window.until).map(|(a, b)| a.max(b)),
            },
        });
        out.merge(&p);
    }
    out.window = window.unwrap_or_default();
    Analysis {
        summary: out,
        findings: found,
    }
}
