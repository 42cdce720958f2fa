//! The JSON report's one schema (`bouncelog/1`, published as
//! `schema/report.schema.json`): [`Report`] is written by `--format json`
//! and read back by `bouncelog merge`, so the two cannot drift. Built from a
//! [`Summary`] here; turned back into one in `report::merge`.
//!
//! Every time is RFC 3339 with `Z` for UTC (one timestamp style in every
//! output); the per-hour counts are keyed by the hour in that style. Reading
//! is lenient where older reports lack a key (it counts as zero or empty),
//! strict where a wrong value would change a count.

use super::ReportOptions;
use crate::analysis::summary::{Counter, Group, Summary};
use crate::analysis::window::{self, Coverage};
use crate::event::{Direction, Severity};
use crate::findings::{Analysis, Finding};
use crate::patterns::{CauseId, MtaId, PatternSet};
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Schema id written at the top of every JSON report.
pub const SCHEMA: &str = "bouncelog/1";

/// A time as every output writes it.
pub fn stamp(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn stamp_opt(t: Option<DateTime<FixedOffset>>) -> Option<String> {
    t.map(stamp)
}

/// The hour (hours since 1970, UTC) as an RFC 3339 time.
pub fn hour_key(h: i64) -> String {
    match Utc.timestamp_opt(h.saturating_mul(3600), 0).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => h.to_string(),
    }
}

/// An hour key back: RFC 3339, or hours since 1970 (reports before 0.1.1).
pub fn parse_hour_key(k: &str) -> Option<i64> {
    if let Ok(h) = k.parse::<i64>() {
        return Some(h);
    }
    let t = DateTime::parse_from_rfc3339(k).ok()?;
    Some(t.timestamp().div_euclid(3600))
}

/// The whole JSON report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report<'a> {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// `bouncelog VERSION`.
    #[serde(default)]
    pub generator: String,
    /// The window asked for and how the lines read cover it.
    #[serde(default)]
    pub window: WindowDoc,
    /// Each input's outcome.
    #[serde(default)]
    pub inputs: Vec<InputDoc>,
    /// Line counts.
    #[serde(default)]
    pub lines: LinesDoc,
    /// Totals.
    #[serde(default)]
    pub totals: Totals,
    /// Findings, in report order.
    #[serde(default)]
    pub findings: Cow<'a, [Finding]>,
    /// One entry per (cause, direction, severity, MTA).
    pub groups: Vec<GroupDoc<'a>>,
    /// Postfix `reject_warning` lines by MTA and cause.
    #[serde(default)]
    pub reject_warnings: Vec<WarningDoc>,
    /// The most frequent failure texts no rule classified.
    #[serde(default)]
    pub unmatched: Vec<UnmatchedDoc>,
    /// The evidence behind the findings, for `merge` (read only: the writer
    /// streams it from the summary, see [`WithEvidence`]); its layout is
    /// internal (`analysis::evidence_json`).
    #[serde(default, skip_serializing)]
    pub evidence: serde_json::Value,
    /// With `analyze --compare`: what changed since the previous report.
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub changes: Option<Vec<crate::analysis::compare::Change>>,
}

/// A report followed by its evidence, serialised as it is written.
#[derive(Serialize)]
pub struct WithEvidence<'a> {
    /// The report.
    #[serde(flatten)]
    pub report: &'a Report<'a>,
    /// The summary's evidence.
    pub evidence: crate::analysis::evidence_json::Evidence<'a>,
}

/// The window and its coverage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WindowDoc {
    /// Start (inclusive), if any.
    #[serde(default)]
    pub since: Option<String>,
    /// End (exclusive), if any.
    #[serde(default)]
    pub until: Option<String>,
    /// How the lines read cover it (absent in a merge of reports without it).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageDoc>,
}

/// `coverage` (`full`, `partial`, `none`, or null without a window) and the
/// first and last dated lines read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CoverageDoc {
    /// `full`, `partial`, `none`, or null for an unbounded window.
    pub coverage: Option<String>,
    /// The first dated line read.
    pub first_line: Option<String>,
    /// The last dated line read.
    pub last_line: Option<String>,
}

/// One input.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InputDoc {
    /// As given (`-` for stdin).
    pub path: String,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Gzip-compressed.
    pub gzip: bool,
    /// The error that stopped reading it.
    pub error: Option<String>,
    /// XXH3-128 of the bytes read, hex.
    pub fingerprint: Option<String>,
}

/// Line counts (see `LineStats`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct LinesDoc {
    pub total: u64,
    pub recognised: u64,
    pub unrecognised: u64,
    pub other_programs: u64,
    pub blank: u64,
    pub matched: u64,
    pub invalid_utf8: u64,
}

/// Totals of the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Totals {
    /// Failure events (attempts: each retry of a deferred message counts).
    pub failures: u64,
    /// Distinct messages among them.
    pub messages: u64,
    /// Outbound/local messages refused for good (not expired).
    pub bounced: u64,
    /// Outbound/local messages deferred.
    pub deferred: u64,
    /// Delivery attempts of the deferred messages.
    pub deferral_attempts: u64,
    /// Messages that expired after deferrals.
    pub expired: u64,
    /// Of which we refused.
    pub inbound: u64,
    /// Of which remote servers refused.
    pub outbound: u64,
    /// Of which local delivery failed.
    pub local: u64,
    /// `reject_warning` lines.
    pub reject_warnings: u64,
    /// Non-delivery notices we sent.
    pub ndr_sent: u64,
    /// Successful deliveries.
    pub delivered: u64,
    /// Address verification probes.
    pub verify_probes: u64,
    /// Events outside the window.
    pub outside_window: u64,
    /// Lines read twice (journal and file) and skipped.
    pub duplicates_skipped: u64,
}

/// A value of a top list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Top {
    /// The address, domain or host.
    pub value: String,
    /// Its count.
    pub count: u64,
}

/// An example line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExampleDoc {
    /// Input file.
    pub file: String,
    /// Line number.
    pub line: u64,
    /// The line.
    pub text: String,
}

/// Every value of a group's counters, so that a merge is exact.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct CountsDoc<'a> {
    pub recipients: BTreeMap<Cow<'a, str>, u64>,
    pub recipients_overflow: u64,
    pub domains: BTreeMap<Cow<'a, str>, u64>,
    pub domains_overflow: u64,
    pub peers: BTreeMap<Cow<'a, str>, u64>,
    pub peers_overflow: u64,
    pub senders: BTreeMap<Cow<'a, str>, u64>,
    pub senders_overflow: u64,
    /// Events per hour, keyed by the hour (RFC 3339, UTC).
    pub hourly: BTreeMap<String, u64>,
    /// Attempts per message (`QUEUEID RECIPIENT`), so that a message retried
    /// in two merged reports stays one message.
    pub messages: BTreeMap<Cow<'a, str>, u64>,
    /// Attempts of messages beyond the cap.
    pub messages_overflow: u64,
    /// Events without a queue id (each its own message).
    pub unqueued: u64,
    /// The group of a report being written: its counters are written in
    /// place of the five maps above (left empty), one at a time, so that no
    /// copy of every group's values is built (they are most of the memory).
    #[serde(skip)]
    pub live: Option<&'a Group>,
}

/// One map of [`CountsDoc`]: read back, or the counter it is written from.
struct Counts<'x, 'a>(&'x BTreeMap<Cow<'a, str>, u64>, Option<&'x Counter>);

impl Serialize for Counts<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            // Sorted by value, as the map's keys are.
            Some(c) => s.collect_map(c.entries()),
            None => self.0.serialize(s),
        }
    }
}

impl Serialize for CountsDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let g = self.live;
        let mut st = s.serialize_struct("CountsDoc", 12)?;
        st.serialize_field(
            "recipients",
            &Counts(&self.recipients, g.map(|g| &g.recipients)),
        )?;
        st.serialize_field("recipients_overflow", &self.recipients_overflow)?;
        st.serialize_field("domains", &Counts(&self.domains, g.map(|g| &g.domains)))?;
        st.serialize_field("domains_overflow", &self.domains_overflow)?;
        st.serialize_field("peers", &Counts(&self.peers, g.map(|g| &g.peers)))?;
        st.serialize_field("peers_overflow", &self.peers_overflow)?;
        st.serialize_field("senders", &Counts(&self.senders, g.map(|g| &g.senders)))?;
        st.serialize_field("senders_overflow", &self.senders_overflow)?;
        st.serialize_field("hourly", &self.hourly)?;
        st.serialize_field("messages", &Counts(&self.messages, g.map(|g| &g.attempts)))?;
        st.serialize_field("messages_overflow", &self.messages_overflow)?;
        st.serialize_field("unqueued", &self.unqueued)?;
        st.end()
    }
}

/// One group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupDoc<'a> {
    /// The cause id.
    pub cause: CauseId,
    /// The cause's title.
    #[serde(default)]
    pub title: String,
    /// Who refused.
    pub direction: Direction,
    /// Permanent or temporary.
    pub severity: Severity,
    /// Who acts (`causes.toml` `act`).
    #[serde(default)]
    pub actor: Option<String>,
    /// What to do.
    #[serde(default)]
    pub action: Option<String>,
    /// The MTA that logged it.
    #[serde(default)]
    pub mta: MtaId,
    /// Failure events (attempts).
    #[serde(default)]
    pub count: u64,
    /// Distinct messages among them.
    #[serde(default)]
    pub messages: u64,
    /// Distinct recipients.
    #[serde(default)]
    pub distinct_recipients: usize,
    /// Whether that count is exact (the counter was not capped).
    #[serde(default)]
    pub distinct_recipients_exact: bool,
    /// Events without a recipient.
    #[serde(default)]
    pub without_recipient: u64,
    #[serde(default)]
    #[allow(missing_docs)]
    pub top_recipients: Vec<Top>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub top_recipient_domains: Vec<Top>,
    /// Inbound groups: the clients refused.
    #[serde(default)]
    pub top_clients: Vec<Top>,
    /// Other groups: the hosts that refused.
    #[serde(default)]
    pub top_remote_hosts: Vec<Top>,
    #[serde(default)]
    #[allow(missing_docs)]
    pub top_senders: Vec<Top>,
    /// First event.
    #[serde(default)]
    pub first_seen: Option<String>,
    /// Last event.
    #[serde(default)]
    pub last_seen: Option<String>,
    /// An example line.
    #[serde(default)]
    pub example: Option<ExampleDoc>,
    /// What the cause means.
    #[serde(default)]
    pub meaning: String,
    /// What to do, for this MTA and direction.
    #[serde(default)]
    pub hints: Vec<String>,
    /// Every counted value (absent in reports of very old versions).
    pub counts: Option<CountsDoc<'a>>,
}

/// `reject_warning` lines of one MTA and cause.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WarningDoc {
    pub mta: MtaId,
    pub cause: CauseId,
    pub count: u64,
}

/// A failure text no rule classified.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnmatchedDoc {
    /// The text, normalised.
    pub text: String,
    /// How often.
    pub count: u64,
    /// One line it came from.
    pub sample: String,
}

fn top(c: &Counter, n: usize) -> Vec<Top> {
    c.top(n)
        .into_iter()
        .map(|(v, count)| Top {
            value: v.to_string(),
            count,
        })
        .collect()
}

/// The most frequent failure texts no rule classified, with a sample line each.
pub fn unmatched(s: &Summary, n: usize) -> Vec<UnmatchedDoc> {
    let mut v: Vec<(&String, &(u64, String))> = s.diag.unmatched.iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(n)
        .map(|(t, (c, sample))| UnmatchedDoc {
            text: t.clone(),
            count: *c,
            sample: sample.clone(),
        })
        .collect()
}

impl<'a> Report<'a> {
    /// The report of a summary. `coverage` adds how the lines read cover the
    /// window (always for `analyze`; for `merge` when the parts knew it).
    pub fn new(
        a: &'a Analysis,
        ps: &PatternSet,
        opts: &ReportOptions,
        now: DateTime<FixedOffset>,
        coverage: bool,
    ) -> Report<'a> {
        use Direction::*;
        let s = &a.summary;
        let groups = s
            .sorted_groups()
            .into_iter()
            .map(|(k, g)| {
                let id = ps.cause_id(&k.cause);
                let cause = id.map(|i| &ps.causes[i]);
                let act = id.and_then(|i| ps.act(i, Some(k.direction)));
                let (clients, hosts) = match k.direction {
                    Inbound => (top(&g.peers, opts.top), Vec::new()),
                    _ => (Vec::new(), top(&g.peers, opts.top)),
                };
                GroupDoc {
                    cause: k.cause,
                    title: cause.map(|c| c.title.clone()).unwrap_or_default(),
                    direction: k.direction,
                    severity: k.severity,
                    actor: act.map(|a| a.0.to_string()),
                    action: act.map(|a| a.1.to_string()),
                    mta: k.mta,
                    count: g.count,
                    messages: g.messages(),
                    distinct_recipients: g.recipients.distinct(),
                    distinct_recipients_exact: !g.recipients.capped(),
                    without_recipient: g.without_recipient,
                    top_recipients: top(&g.recipients, opts.top),
                    top_recipient_domains: top(&g.domains, opts.top),
                    top_clients: clients,
                    top_remote_hosts: hosts,
                    top_senders: top(&g.senders, opts.top),
                    first_seen: stamp_opt(g.first),
                    last_seen: stamp_opt(g.last),
                    example: g.example.as_ref().map(|e| ExampleDoc {
                        file: e.file.clone(),
                        line: e.line,
                        text: e.text.clone(),
                    }),
                    meaning: cause.map(|c| c.meaning.clone()).unwrap_or_default(),
                    hints: id
                        .map(|i| ps.hints(i, k.direction, &k.mta))
                        .unwrap_or_default()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                    counts: Some(CountsDoc {
                        recipients_overflow: g.recipients.overflow,
                        domains_overflow: g.domains.overflow,
                        peers_overflow: g.peers.overflow,
                        senders_overflow: g.senders.overflow,
                        hourly: g.hourly.iter().map(|(h, n)| (hour_key(*h), *n)).collect(),
                        messages_overflow: g.attempts.overflow,
                        unqueued: g.unqueued,
                        live: Some(g),
                        ..CountsDoc::default()
                    }),
                }
            })
            .collect();
        let l = &s.lines;
        let outcomes = super::outcomes(s);
        Report {
            schema: SCHEMA.to_string(),
            generator: concat!("bouncelog ", env!("CARGO_PKG_VERSION")).to_string(),
            window: WindowDoc {
                since: stamp_opt(s.window.since),
                until: stamp_opt(s.window.until),
                coverage: coverage.then(|| CoverageDoc {
                    coverage: window::coverage(&s.window, s.first_line, s.last_line, now)
                        .map(|c: Coverage| c.as_str().to_string()),
                    first_line: stamp_opt(s.first_line),
                    last_line: stamp_opt(s.last_line),
                }),
            },
            inputs: s
                .inputs
                .iter()
                .map(|i| InputDoc {
                    path: i.path.clone(),
                    bytes: i.bytes,
                    lines: i.lines,
                    gzip: i.gzip,
                    error: i.error.clone(),
                    fingerprint: i.fingerprint.clone(),
                })
                .collect(),
            lines: LinesDoc {
                total: l.total,
                recognised: l.recognised,
                unrecognised: l.unrecognised,
                other_programs: l.other_programs,
                blank: l.blank,
                matched: l.matched,
                invalid_utf8: l.invalid_utf8,
            },
            totals: Totals {
                failures: s.failures(),
                messages: s.messages(),
                bounced: outcomes.bounced,
                deferred: outcomes.deferred,
                deferral_attempts: outcomes.deferral_attempts,
                expired: outcomes.expired,
                inbound: s.failures_in(Inbound),
                outbound: s.failures_in(Outbound),
                local: s.failures_in(Local),
                reject_warnings: s.warnings.values().sum::<u64>(),
                ndr_sent: s.ndr_sent,
                delivered: s.delivered,
                verify_probes: s.probes,
                outside_window: s.outside_window,
                duplicates_skipped: s.duplicates,
            },
            findings: Cow::Borrowed(&a.findings),
            groups,
            reject_warnings: s
                .warnings
                .iter()
                .map(|((mta, cause), n)| WarningDoc {
                    mta: *mta,
                    cause: *cause,
                    count: *n,
                })
                .collect(),
            unmatched: unmatched(s, opts.top.max(10)),
            evidence: serde_json::Value::Null,
            changes: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_keys_are_rfc3339_and_read_back_in_both_forms() {
        let h = DateTime::parse_from_rfc3339("2026-03-10T14:00:00Z")
            .expect("t")
            .timestamp()
            / 3600;
        assert_eq!(hour_key(h), "2026-03-10T14:00:00Z");
        assert_eq!(parse_hour_key("2026-03-10T14:00:00Z"), Some(h));
        assert_eq!(parse_hour_key(&h.to_string()), Some(h));
        assert_eq!(parse_hour_key("2026-03-10T14:59:59+01:00"), Some(h - 1));
        assert_eq!(parse_hour_key("soon"), None);
    }
}
