//! Aggregates failure events into per-cause groups: counts, distinct and top
//! recipients, domains, clients or remote hosts, senders, first and last seen,
//! and an example line.
//!
//! A [`Summary`] is a monoid: `Summary::default()` is the identity and
//! [`Summary::merge`] combines two, so partial summaries (chunks, files,
//! hosts) add up to the same result whatever the grouping. Maps are capped so
//! memory stays bounded on hostile input; the excess is counted, never hidden.

pub use crate::analysis::counter::{Counter, COUNTER_CAP};
use crate::event::{Direction, Event, Severity};
pub use crate::parse::stats::LineStats;
use crate::patterns::{CauseId, MtaId};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::collections::BTreeMap;

/// What groups events: one block of the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    /// Cause.
    pub cause: CauseId,
    /// Direction.
    pub direction: Direction,
    /// Severity.
    pub severity: Severity,
    /// MTA.
    pub mta: MtaId,
}

/// An example line of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// Input file.
    pub file: String,
    /// Line number.
    pub line: u64,
    /// The line.
    pub text: String,
}

/// The aggregate of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// Events.
    pub count: u64,
    /// Recipients.
    pub recipients: Counter,
    /// Recipient domains.
    pub domains: Counter,
    /// Clients (inbound) or remote hosts (outbound/local).
    pub peers: Counter,
    /// Envelope senders.
    pub senders: Counter,
    /// Events without a recipient (connection-stage rejects, expiries).
    pub without_recipient: u64,
    /// Earliest event time.
    pub first: Option<DateTime<FixedOffset>>,
    /// Latest event time.
    pub last: Option<DateTime<FixedOffset>>,
    /// The first event's line.
    pub example: Option<Example>,
    /// Events per hour (Unix time / 3600), for per-hour thresholds and merges.
    pub hourly: BTreeMap<i64, u64>,
    /// Attempts per message (queue id and recipient): a deferred message
    /// retried six times is one message of six attempts. Capped like every
    /// [`Counter`]; see [`Group::messages`].
    pub attempts: Counter,
    /// Events with no queue id (inbound rejections before queueing): each is
    /// its own message.
    pub unqueued: u64,
}

impl Group {
    fn add(&mut self, e: &Event) {
        self.count += 1;
        match e.queue_id.as_deref() {
            Some(q) if !q.is_empty() => {
                let r = e.recipient.as_deref().unwrap_or_default();
                self.attempts.add(&format!("{q} {r}"), 1);
            }
            _ => self.unqueued += 1,
        }
        match e.recipient.as_deref() {
            Some(r) if !r.is_empty() => {
                self.recipients.add(r, 1);
                if let Some((_, d)) = r.rsplit_once('@') {
                    self.domains.add(&d.to_ascii_lowercase(), 1);
                }
            }
            _ => self.without_recipient += 1,
        }
        let peer = match e.direction {
            Direction::Inbound => e.client.as_deref(),
            _ => e.remote_host.as_deref(),
        };
        if let Some(p) = peer {
            self.peers.add(p, 1);
        }
        if let Some(s) = e.sender.as_deref() {
            self.senders.add(if s.is_empty() { "<>" } else { s }, 1);
        }
        if let Some(t) = e.time {
            *self
                .hourly
                .entry(t.timestamp().div_euclid(3600))
                .or_default() += 1;
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        if self.example.is_none() {
            self.example = e.raw.as_ref().map(|raw| Example {
                file: e.file.clone(),
                line: e.line,
                text: raw.clone(),
            });
        }
    }

    /// Adds another group's aggregate; `self` is the earlier part of the input.
    pub fn merge(&mut self, o: &Group) {
        self.count += o.count;
        self.recipients.merge(&o.recipients);
        self.domains.merge(&o.domains);
        self.peers.merge(&o.peers);
        self.senders.merge(&o.senders);
        self.without_recipient += o.without_recipient;
        self.attempts.merge(&o.attempts);
        self.unqueued += o.unqueued;
        for (h, n) in &o.hourly {
            *self.hourly.entry(*h).or_default() += n;
        }
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        if self.example.is_none() {
            self.example = o.example.clone();
        }
    }
}

impl Group {
    /// Distinct messages (queue id and recipient) among the events; the
    /// attempts are [`Group::count`]. Attempts beyond the cap of distinct
    /// messages count as messages of their own (never fewer than there are).
    /// A group read back from a JSON report without per-message keys counts
    /// each event as a message.
    pub fn messages(&self) -> u64 {
        let n = self.attempts.distinct() as u64 + self.attempts.overflow + self.unqueued;
        if n == 0 {
            self.count
        } else {
            n.min(self.count)
        }
    }
}

/// Distinct messages (queue id and recipient) of some groups together;
/// attempts beyond a group's cap and unqueued events count one each, and a
/// group without per-message keys (read from JSON) counts its own.
pub fn distinct_messages<'a>(groups: impl Iterator<Item = &'a Group>) -> u64 {
    let mut keys: foldhash::HashSet<&str> = foldhash::HashSet::default();
    let mut n = 0;
    for g in groups {
        if g.attempts.distinct() == 0 {
            n += g.messages();
            continue;
        }
        keys.extend(g.attempts.entries().into_iter().map(|(k, _)| k));
        n += g.attempts.overflow + g.unqueued;
    }
    n + keys.len() as u64
}

fn min_opt(
    a: Option<DateTime<FixedOffset>>,
    b: Option<DateTime<FixedOffset>>,
) -> Option<DateTime<FixedOffset>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(
    a: Option<DateTime<FixedOffset>>,
    b: Option<DateTime<FixedOffset>>,
) -> Option<DateTime<FixedOffset>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// One input's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputInfo {
    /// Path as given (`-` for stdin).
    pub path: String,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// The error that stopped reading it, if any.
    pub error: Option<String>,
    /// XXH3-128 of the bytes read (after decompression), in hex: the same
    /// content gives the same fingerprint, so `merge` can refuse a report
    /// given twice.
    pub fingerprint: Option<String>,
}

/// Everything a report needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Inputs in the order read.
    pub inputs: Vec<InputInfo>,
    /// Line counts.
    pub lines: LineStats,
    /// Failure groups.
    pub groups: BTreeMap<GroupKey, Group>,
    /// `reject_warning`s (not failures) by MTA and cause.
    pub warnings: BTreeMap<(MtaId, CauseId), u64>,
    /// Non-delivery notices sent to senders.
    pub ndr_sent: u64,
    /// Recipients delivered.
    pub delivered: u64,
    /// Address-verification probe results (not deliveries, not failures).
    pub probes: u64,
    /// Lines already counted from another input (Exim mainlog + rejectlog, a
    /// log and its rotated copy).
    pub duplicates: u64,
    /// Counted lines outside the time window.
    pub outside_window: u64,
    /// Failure events that are a message's expiry (`status=expired`, Exim's
    /// retry timeout), among the hard failures.
    pub expired: u64,
    /// The time window applied, if any.
    pub window: crate::analysis::window::Window,
    /// Time of the earliest dated MTA line read (inside the window or not).
    pub first_line: Option<DateTime<FixedOffset>>,
    /// Time of the latest dated MTA line read.
    pub last_line: Option<DateTime<FixedOffset>>,
    /// Evidence for findings (kept in JSON reports under `evidence`, so
    /// that a merge computes the findings again from the merged evidence).
    pub diag: crate::analysis::evidence::Diagnostics,
}

impl Summary {
    /// Adds one failure event.
    pub fn add_event(&mut self, e: &Event) {
        let key = GroupKey {
            cause: e.cause,
            direction: e.direction,
            severity: e.severity,
            mta: e.mta,
        };
        self.groups.entry(key).or_default().add(e);
    }

    /// Notes the time of a dated line read (for the window's coverage).
    pub fn note_time(&mut self, t: DateTime<FixedOffset>) {
        self.first_line = min_opt(self.first_line, Some(t));
        self.last_line = max_opt(self.last_line, Some(t));
    }

    /// Counts a `reject_warning`.
    pub fn add_warning(&mut self, mta: MtaId, cause: CauseId) {
        *self.warnings.entry((mta, cause)).or_default() += 1;
    }

    /// Adds another summary; `self` is the earlier part of the input.
    pub fn merge(&mut self, o: &Summary) {
        self.inputs.extend(o.inputs.iter().cloned());
        self.lines.merge(&o.lines);
        for (k, g) in &o.groups {
            self.groups.entry(k.clone()).or_default().merge(g);
        }
        for (k, n) in &o.warnings {
            *self.warnings.entry(*k).or_default() += n;
        }
        self.ndr_sent += o.ndr_sent;
        self.delivered += o.delivered;
        self.probes += o.probes;
        self.duplicates += o.duplicates;
        self.outside_window += o.outside_window;
        self.expired += o.expired;
        self.first_line = min_opt(self.first_line, o.first_line);
        self.last_line = max_opt(self.last_line, o.last_line);
        self.diag.merge(&o.diag);
    }

    /// Gives back the room kept for values to come, once the input is read
    /// (before the findings and the report need memory of their own).
    pub fn shrink_to_fit(&mut self) {
        for g in self.groups.values_mut() {
            for c in [
                &mut g.recipients,
                &mut g.domains,
                &mut g.peers,
                &mut g.senders,
                &mut g.attempts,
            ] {
                c.shrink_to_fit();
            }
        }
        self.diag.shrink_to_fit();
    }

    /// Failure events in all groups.
    pub fn failures(&self) -> u64 {
        self.groups.values().map(|g| g.count).sum()
    }

    /// Failure events of one direction.
    pub fn failures_in(&self, d: Direction) -> u64 {
        self.groups
            .iter()
            .filter(|(k, _)| k.direction == d)
            .map(|(_, g)| g.count)
            .sum()
    }

    /// Failure messages in all groups: a message deferred for two causes
    /// is one (see [`distinct_messages`]).
    pub fn messages(&self) -> u64 {
        distinct_messages(self.groups.values())
    }

    /// Failure messages of one direction and, if given, one severity.
    pub fn messages_in(&self, d: Direction, sev: Option<Severity>) -> u64 {
        distinct_messages(
            self.groups
                .iter()
                .filter(|(k, _)| k.direction == d && sev.is_none_or(|s| s == k.severity))
                .map(|(_, g)| g),
        )
    }

    /// Groups in report order: largest first, then by key.
    pub fn sorted_groups(&self) -> Vec<(&GroupKey, &Group)> {
        let mut v: Vec<_> = self.groups.iter().collect();
        v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        v
    }
}
