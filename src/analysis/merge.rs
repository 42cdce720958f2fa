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
use crate::event::{Direction, Severity};
use chrono::DateTime;
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn counter(obj: &Value, overflow: &Value) -> Counter {
    let mut c = Counter::default();
    if let Some(m) = obj.as_object() {
        for (k, n) in m {
            c.add(k, u(n));
        }
    }
    c.overflow += u(overflow);
    c
}

fn time(v: &Value) -> Option<DateTime<chrono::FixedOffset>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

/// A summary from one JSON report; the error says what is missing.
pub fn from_json(v: &Value) -> Result<Summary, String> {
    if v["schema"] != crate::report::json::SCHEMA {
        return Err(format!(
            "not a {} report (schema is {})",
            crate::report::json::SCHEMA,
            v["schema"]
        ));
    }
    let mut s = Summary::default();
    if let Some(inputs) = v["inputs"].as_array() {
        for i in inputs {
            s.inputs.push(InputInfo {
                path: i["path"].as_str().unwrap_or("").to_string(),
                bytes: u(&i["bytes"]),
                lines: u(&i["lines"]),
                gzip: i["gzip"].as_bool().unwrap_or(false),
                error: i["error"].as_str().map(str::to_string),
                fingerprint: i["fingerprint"].as_str().map(str::to_string),
            });
        }
    }
    let l = &v["lines"];
    s.lines = LineStats {
        total: u(&l["total"]),
        recognised: u(&l["recognised"]),
        unrecognised: u(&l["unrecognised"]),
        other_programs: u(&l["other_programs"]),
        blank: u(&l["blank"]),
        matched: u(&l["matched"]),
        invalid_utf8: u(&l["invalid_utf8"]),
    };
    let t = &v["totals"];
    s.ndr_sent = u(&t["ndr_sent"]);
    s.delivered = u(&t["delivered"]);
    s.probes = u(&t["verify_probes"]);
    s.duplicates = u(&t["duplicates_skipped"]);
    s.outside_window = u(&t["outside_window"]);
    s.window = Window {
        since: time(&v["window"]["since"]),
        until: time(&v["window"]["until"]),
    };
    s.first_line = time(&v["window"]["first_line"]);
    s.last_line = time(&v["window"]["last_line"]);
    for w in v["reject_warnings"].as_array().into_iter().flatten() {
        let key = (
            w["mta"].as_str().unwrap_or("").to_string(),
            w["cause"].as_str().unwrap_or("").to_string(),
        );
        *s.warnings.entry(key).or_default() += u(&w["count"]);
    }
    s.diag = crate::analysis::evidence::Diagnostics::from_json(&v["evidence"]);
    if let Some(fs) = v["findings"].as_array() {
        for f in fs {
            if let Ok(f) = serde_json::from_value::<crate::findings::Finding>(f.clone()) {
                s.findings.push(f);
            }
        }
    }
    for g in v["groups"].as_array().ok_or("no groups")? {
        let c = &g["counts"];
        if !c.is_object() {
            return Err("a group has no `counts` (report written by an older bouncelog?)".into());
        }
        let key = GroupKey {
            cause: g["cause"]
                .as_str()
                .ok_or("group without cause")?
                .to_string(),
            direction: Direction::parse(g["direction"].as_str().unwrap_or(""))
                .ok_or("group with a bad direction")?,
            severity: Severity::parse(g["severity"].as_str().unwrap_or(""))
                .ok_or("group with a bad severity")?,
            mta: g["mta"].as_str().unwrap_or("").to_string(),
        };
        let group = Group {
            count: u(&g["count"]),
            recipients: counter(&c["recipients"], &c["recipients_overflow"]),
            domains: counter(&c["domains"], &c["domains_overflow"]),
            peers: counter(&c["peers"], &c["peers_overflow"]),
            senders: counter(&c["senders"], &c["senders_overflow"]),
            without_recipient: u(&g["without_recipient"]),
            first: time(&g["first_seen"]),
            last: time(&g["last_seen"]),
            example: g["example"].is_object().then(|| Example {
                file: g["example"]["file"].as_str().unwrap_or("").to_string(),
                line: u(&g["example"]["line"]),
                text: g["example"]["text"].as_str().unwrap_or("").to_string(),
            }),
            hourly: c["hourly"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(h, n)| Some((h.parse().ok()?, u(n))))
                        .collect()
                })
                .unwrap_or_default(),
        };
        s.groups.entry(key).or_default().merge(&group);
    }
    Ok(s)
}

/// Reads one report (a file, or stdin for `-`); the error is one line without the path.
pub fn read(p: &std::path::Path) -> Result<Summary, String> {
    let bytes = if p.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| crate::source::io_msg(&e))?;
        b
    } else {
        std::fs::read(p).map_err(|e| crate::source::io_msg(&e))?
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "not a JSON report ({}); write reports with `bouncelog analyze --format json`",
            e.to_string()
                .split(" at line")
                .next()
                .unwrap_or("invalid JSON")
        )
    })?;
    from_json(&v)
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
pub fn without_duplicates(parts: Vec<Summary>, warn: &mut dyn FnMut(usize, usize)) -> Vec<Summary> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if let Some(f) = fingerprint(&p) {
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
pub fn findings(
    merged: &Summary,
    ps: &crate::patterns::PatternSet,
) -> Vec<crate::findings::Finding> {
    let mut out = crate::findings::compute(merged, ps, &crate::findings::Config::default());
    if merged.diag.parts_without_evidence == 0 {
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

/// Merges reports in the order given; the window covers them all.
pub fn merge_all(parts: Vec<Summary>) -> Summary {
    let mut out = Summary::default();
    let mut window: Option<Window> = None;
    for p in parts {
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
    out
}
