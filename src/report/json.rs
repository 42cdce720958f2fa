//! `--format json`: one document with the schema id `bouncelog/1`.
//!
//! The keys are a stable contract for scripts: `lines`, `totals`, `groups[]`
//! (cause, direction, severity, mta, count, distinct_recipients, top lists,
//! first_seen, last_seen, example, hints), `reject_warnings`, `inputs`.

use super::ReportOptions;
use crate::analysis::summary::{Counter, Summary};
use crate::patterns::PatternSet;
use chrono::SecondsFormat;
use serde_json::{json, Value};
use std::io::{self, Write};

/// Schema id written at the top of every JSON report.
pub const SCHEMA: &str = "bouncelog/1";

/// Every value of a counter (sorted), so that `bouncelog merge` is exact.
fn all(c: &Counter) -> Value {
    Value::Object(
        c.entries()
            .into_iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect(),
    )
}

fn top(c: &Counter, n: usize) -> Value {
    Value::Array(
        c.top(n)
            .into_iter()
            .map(|(v, n)| json!({"value": v, "count": n}))
            .collect(),
    )
}

/// The most frequent failure texts no rule classified (normalised), with a sample line each.
pub fn unmatched(s: &Summary, n: usize) -> Value {
    let mut v: Vec<(&String, &(u64, String))> = s.diag.unmatched.iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    Value::Array(
        v.into_iter()
            .take(n)
            .map(|(t, (c, sample))| json!({"text": t, "count": c, "sample": sample}))
            .collect(),
    )
}

/// The report as a JSON value.
pub fn to_value(s: &Summary, ps: &PatternSet, opts: &ReportOptions) -> Value {
    use crate::event::Direction::*;
    let groups: Vec<Value> = s
        .sorted_groups()
        .into_iter()
        .map(|(k, g)| {
            let cause = ps.cause_id(&k.cause).map(|i| &ps.causes[i]);
            let act = ps
                .cause_id(&k.cause)
                .and_then(|i| ps.act(i, Some(k.direction)));
            let hints = ps
                .cause_id(&k.cause)
                .map(|i| ps.hints(i, k.direction, &k.mta))
                .unwrap_or_default();
            let (clients, hosts) = match k.direction {
                Inbound => (top(&g.peers, opts.top), json!([])),
                _ => (json!([]), top(&g.peers, opts.top)),
            };
            json!({
                "cause": k.cause,
                "title": cause.map(|c| c.title.as_str()).unwrap_or(""),
                "direction": k.direction,
                "severity": k.severity,
                "actor": act.map(|a| a.0),
                "action": act.map(|a| a.1),
                "mta": k.mta,
                "count": g.count,
                "distinct_recipients": g.recipients.distinct(),
                "distinct_recipients_exact": !g.recipients.capped(),
                "without_recipient": g.without_recipient,
                "top_recipients": top(&g.recipients, opts.top),
                "top_recipient_domains": top(&g.domains, opts.top),
                "top_clients": clients,
                "top_remote_hosts": hosts,
                "top_senders": top(&g.senders, opts.top),
                "first_seen": g.first.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                "last_seen": g.last.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                "example": g.example,
                "meaning": cause.map(|c| c.meaning.as_str()).unwrap_or(""),
                "hints": hints,
                "counts": {
                    "recipients": all(&g.recipients),
                    "recipients_overflow": g.recipients.overflow,
                    "domains": all(&g.domains),
                    "domains_overflow": g.domains.overflow,
                    "peers": all(&g.peers),
                    "peers_overflow": g.peers.overflow,
                    "senders": all(&g.senders),
                    "senders_overflow": g.senders.overflow,
                    "hourly": Value::Object(g.hourly.iter().map(|(h, n)| (h.to_string(), json!(n))).collect()),
                },
            })
        })
        .collect();
    let warnings: Vec<Value> = s
        .warnings
        .iter()
        .map(|((mta, cause), n)| json!({"mta": mta, "cause": cause, "count": n}))
        .collect();
    json!({
        "schema": SCHEMA,
        "generator": concat!("bouncelog ", env!("CARGO_PKG_VERSION")),
        "window": {
            "since": s.window.since.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            "until": s.window.until.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        },
        "inputs": s.inputs,
        "lines": s.lines,
        "totals": {
            "failures": s.failures(),
            "inbound": s.failures_in(Inbound),
            "outbound": s.failures_in(Outbound),
            "local": s.failures_in(Local),
            "reject_warnings": s.warnings.values().sum::<u64>(),
            "ndr_sent": s.ndr_sent,
            "delivered": s.delivered,
            "verify_probes": s.probes,
            "outside_window": s.outside_window,
            "duplicates_skipped": s.duplicates,
        },
        "findings": s.findings,
        "groups": groups,
        "reject_warnings": warnings,
        "unmatched": unmatched(s, opts.top.max(10)),
    })
}

/// Writes the report, pretty-printed, with a final newline.
pub fn write(
    w: &mut dyn Write,
    s: &Summary,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let v = to_value(s, ps, opts);
    let report = crate::analysis::evidence_json::WithEvidence(&v, &s.diag);
    serde_json::to_writer_pretty(&mut *w, &report).map_err(io::Error::other)?;
    w.write_all(b"\n")
}
