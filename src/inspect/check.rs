//! Checks pattern files the way lnav checks its format files: every regex
//! compiles, ids are unique, causes exist, every rule has samples, every
//! sample is recognised by its own rule (not an earlier one) with the expected
//! captures and cause, and no rule matches everything. Used by `bouncelog
//! patterns check` and by the test suite on the built-ins.

use crate::analysis::summary::LineStats;
use crate::event::{Fields, Record};
use crate::parse::parse_line;
use crate::parse::syslog::TimeContext;
use crate::patterns::{line_of_id, Diagnostic, PatternSet, SourceFile};
use std::collections::{HashMap, HashSet};

/// Keys of a sample's `expect` that are not regex captures.
const PSEUDO_KEYS: &[&str] = &["cause", "direction", "severity"];
/// Capture names the engine reads.
pub const FIELDS: &[&str] = &[
    "queue_id", "client", "sender", "rcpt", "orig_to", "helo", "stage", "relay", "dsn", "status",
    "text", "delivery", "service",
];

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    match name {
        "queue_id" => f.queue_id.as_deref(),
        "client" => f.client.as_deref(),
        "sender" => f.sender.as_deref(),
        "rcpt" => f.rcpt.as_deref(),
        "orig_to" => f.orig_to.as_deref(),
        "helo" => f.helo.as_deref(),
        "stage" => f.stage.as_deref(),
        "relay" => f.relay.as_deref(),
        "dsn" => f.dsn.as_deref(),
        "status" => f.status.as_deref(),
        "text" => f.text.as_deref(),
        "delivery" => f.delivery.as_deref(),
        "service" => f.service.as_deref(),
        _ => None,
    }
}

/// Parses one sample line with the pattern set.
pub fn parse_sample(ps: &PatternSet, line: &str) -> Option<Record> {
    let ctx = TimeContext::at(chrono::Local::now());
    let mut stats = LineStats::default();
    parse_line(
        ps,
        &ctx,
        line.as_bytes(),
        1,
        &mut stats,
        &mut crate::parse::Scratch::all_fields(),
    )
}

/// Reads one sample row of a CSV log with the format's `sample_fields` header.
pub fn parse_csv_sample(ps: &PatternSet, mta: usize, line: &str) -> Option<Record> {
    let csv = ps.mtas[mta].csv.as_ref()?;
    let cols: HashMap<String, usize> = csv
        .sample_fields
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, c)| (c, i))
        .collect();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let row = rdr.byte_records().next()?.ok()?;
    let mut stats = LineStats::default();
    crate::parse::csvlog::records(ps, mta, &cols, &row, 1, &mut stats)
        .into_iter()
        .next()
}

/// All diagnostics (errors and warnings) for a set of files.
pub fn check(sources: &[SourceFile]) -> Vec<Diagnostic> {
    let ps = match PatternSet::from_sources(sources) {
        Ok(ps) => ps,
        Err(d) => return d,
    };
    let text_of: HashMap<&str, &str> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.text.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut diag =
        |error: bool, file: &str, line: Option<usize>, message: String, help: Option<&str>| {
            out.push(Diagnostic {
                error,
                file: file.to_string(),
                line,
                message,
                help: help.map(str::to_string),
            });
        };
    let mut seen = HashSet::new();
    for r in &ps.reply.rules {
        if !seen.insert(r.id.clone()) {
            diag(
                true,
                &r.file,
                r.line,
                format!("duplicate rule id \"{}\"", r.id),
                None,
            );
        }
    }
    for (i, r) in ps.reply.rules.iter().enumerate() {
        if r.samples.is_empty() {
            diag(
                true,
                &r.file,
                r.line,
                format!("rule \"{}\": no samples", r.id),
                Some("add `samples = [\"…\"]` with texts this rule must classify"),
            );
        }
        if r.hosts.is_some() && r.sample_host.is_none() {
            diag(
                true,
                &r.file,
                r.line,
                format!("rule \"{}\": `hosts` without `sample_host`", r.id),
                Some("name the remote host the samples come from"),
            );
        }
        if !r.regex.is_empty()
            && crate::patterns::compile_str(&r.regex)
                .is_ok_and(|re| re.is_match(b"") || re.is_match(b"x"))
        {
            diag(
                false,
                &r.file,
                r.line,
                format!("rule \"{}\": regex matches any text", r.id),
                Some("anchor it on words of the reply"),
            );
        }
        for (n, s) in r.samples.iter().enumerate() {
            let reply = crate::patterns::Reply {
                text: s,
                host: r.sample_host.as_deref(),
                direction: r.direction,
                dsn: None,
            };
            match ps.classify(&reply).rule {
                Some(j) if j == i => {}
                Some(j) => diag(
                    true,
                    &r.file,
                    r.line,
                    format!(
                        "rule \"{}\": sample {} is classified by rule \"{}\"",
                        r.id,
                        n + 1,
                        ps.reply.rules[j].id
                    ),
                    Some(
                        "the first matching rule wins: reorder the rules or narrow the other regex",
                    ),
                ),
                None => diag(
                    true,
                    &r.file,
                    r.line,
                    format!("rule \"{}\": sample {} does not match: {s:?}", r.id, n + 1),
                    Some("fix the regex or the sample"),
                ),
            }
        }
    }
    for (mi, m) in ps.mtas.iter().enumerate() {
        let mut seen = HashSet::new();
        for (ri, rule) in m.rules.iter().enumerate() {
            let (file, id) = (rule.file.as_str(), rule.id.as_str());
            if !seen.insert(id) {
                diag(
                    true,
                    file,
                    rule.line,
                    format!("duplicate rule id \"{id}\""),
                    None,
                );
            }
            let is_csv = !rule.when.is_empty();
            let mut names: HashSet<&str> = rule.regex.capture_names().flatten().collect();
            if is_csv {
                // CSV rules take their fields from the columns [csv.fields] names.
                names = m
                    .csv
                    .iter()
                    .flat_map(|c| c.fields.keys().map(String::as_str))
                    .collect();
                names.insert("status");
            }
            for n in &names {
                if !FIELDS.contains(n) && !["ndr_id", "proto", "soft", "time"].contains(n) {
                    diag(
                        false,
                        file,
                        rule.line,
                        format!("rule \"{id}\": capture \"{n}\" is not used by bouncelog"),
                        Some(&format!("fields: {}", FIELDS.join(", "))),
                    );
                }
            }
            if !is_csv && (rule.regex.is_match(b"") || rule.regex.is_match(b"x")) {
                diag(
                    false,
                    file,
                    rule.line,
                    format!("rule \"{id}\": regex matches any line"),
                    Some("anchor it on the words of the message"),
                );
            }
            if rule.samples.is_empty() {
                diag(
                    true,
                    file,
                    rule.line,
                    format!("rule \"{id}\": no samples"),
                    Some("add a [[rule.sample]] with a real log line and `expect`"),
                );
            }
            for (n, s) in rule.samples.iter().enumerate() {
                let n = n + 1;
                for k in s.expect.keys() {
                    if !names.contains(k.as_str()) && !PSEUDO_KEYS.contains(&k.as_str()) {
                        diag(true, file, rule.line, format!("rule \"{id}\": sample {n} expects \"{k}\", which the regex does not capture"), None);
                    }
                }
                let parsed = if is_csv {
                    parse_csv_sample(&ps, mi, &s.line)
                } else {
                    parse_sample(&ps, &s.line)
                };
                let Some(rec) = parsed else {
                    let help = if crate::parse::syslog::parse_header(s.line.as_bytes()).is_none() {
                        "the sample must be a whole log line, with its syslog prefix"
                    } else {
                        "fix the regex or the sample"
                    };
                    diag(
                        true,
                        file,
                        rule.line,
                        format!("rule \"{id}\": sample {n} does not match"),
                        Some(help),
                    );
                    continue;
                };
                if rec.mta != mi || rec.rule != ri {
                    let other = &ps.mtas[rec.mta].rules[rec.rule].id;
                    diag(
                        true,
                        file,
                        rule.line,
                        format!(
                            "rule \"{id}\": sample {n} is taken by the earlier rule \"{other}\""
                        ),
                        Some("rules are tried in order; move this one up or narrow the other"),
                    );
                    continue;
                }
                for (k, want) in &s.expect {
                    let got = match k.as_str() {
                        "cause" => Some(ps.causes[rec.cause].id.as_str()),
                        "direction" => Some(rec.direction.as_str()),
                        "severity" => Some(rec.severity.as_str()),
                        other => field(&rec.fields, other),
                    };
                    if got != Some(want.as_str()) {
                        diag(
                            true,
                            file,
                            rule.line,
                            format!(
                                "rule \"{id}\": sample {n}: {k} is {}, expected \"{want}\"",
                                got.map_or("not captured".to_string(), |g| format!("\"{g}\""))
                            ),
                            None,
                        );
                    }
                }
                let msg = rule_text(m, s.line.as_bytes());
                let narrows = m.rules[ri].narrows.as_deref();
                if let Some(general) = narrows {
                    let found = m.rules[ri + 1..].iter().find(|r| r.id == general);
                    if let Some(g) = found {
                        narrowed_fields(m, ri, g, msg, &mut |f, text| {
                            diag(
                                true,
                                file,
                                rule.line,
                                format!("rule \"{id}\": sample {n}: {text}"),
                                Some(f),
                            );
                        });
                    }
                    if !found.is_some_and(|r| r.regex.is_match(msg)) {
                        diag(
                            true,
                            file,
                            rule.line,
                            format!(
                                "rule \"{id}\": sample {n} is not matched by a later rule \"{general}\" that it narrows"
                            ),
                            Some("`narrows` names a later, more general rule of the same MTA"),
                        );
                    }
                }
                // (Overlaps are looked for in the syslog message, as before.)
                let msg = crate::parse::syslog::parse_header(s.line.as_bytes())
                    .map(|h| h.msg)
                    .unwrap_or_default();
                let later: Vec<&str> = m.rules[ri + 1..]
                    .iter()
                    .filter(|r| Some(r.id.as_str()) != narrows && r.regex.is_match(msg))
                    .map(|r| r.id.as_str())
                    .collect();
                if !later.is_empty() {
                    diag(
                        false,
                        file,
                        rule.line,
                        format!(
                            "rule \"{id}\": sample {n} also matches later rule(s) {}",
                            later.join(", ")
                        ),
                        None,
                    );
                }
            }
        }
    }
    for c in &ps.causes {
        if c.hints.is_empty() {
            let file = sources
                .iter()
                .find(|s| s.text.contains(&format!("\"{}\"", c.id)))
                .map(|s| s.name.as_str())
                .unwrap_or("patterns");
            let line = text_of.get(file).and_then(|t| line_of_id(t, &c.id));
            diag(
                false,
                file,
                line,
                format!("cause \"{}\" has no hints", c.id),
                None,
            );
        }
    }
    out
}

/// The text a line rule of `m` sees in a whole log line: the message after
/// the syslog envelope, and after the MTA's own prefix when it has one.
pub(crate) fn rule_text<'a>(m: &crate::patterns::MtaSet, line: &'a [u8]) -> &'a [u8] {
    let msg = match crate::parse::syslog::parse_header(line) {
        Some(h) => h.msg,
        None => crate::parse::syslog::container_output(line).unwrap_or(line),
    };
    match m.native.as_ref().and_then(|n| n.regex.find(msg)) {
        Some(f) => &msg[f.end()..],
        None => msg,
    }
}

/// A rule that narrows `general` must read every field it captures as the
/// general rule does (so taking the line first changes nothing): reports
/// each field that differs.
fn narrowed_fields(
    m: &crate::patterns::MtaSet,
    ri: usize,
    general: &crate::patterns::LineRule,
    msg: &[u8],
    report: &mut dyn FnMut(&str, String),
) {
    let (Some(a), Some(b)) = (m.rules[ri].regex.captures(msg), general.regex.captures(msg)) else {
        return;
    };
    for name in FIELDS {
        let Some(x) = a.name(name) else { continue };
        let y = b.name(name).map(|y| y.as_bytes());
        if y != Some(x.as_bytes()) {
            report(
                "a narrowing rule must capture what the rule it narrows captures",
                format!(
                    "{name} is \"{}\", but \"{}\" by \"{}\"",
                    String::from_utf8_lossy(x.as_bytes()),
                    y.map_or("not captured".into(), String::from_utf8_lossy),
                    general.id
                ),
            );
        }
    }
}
