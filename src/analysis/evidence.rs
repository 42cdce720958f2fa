//! Evidence gathered during analysis for the findings (`findings`): which
//! recipients were delivered (per domain, per client), the inbound
//! unknown-user attempts of each client, and the failure texts no rule
//! classified. Everything is bounded; what did not fit is not used as
//! evidence but counted (`*_not_kept`), so that the findings can say that they
//! may be incomplete (a finding is never made from a partial count it does
//! not say).

use crate::analysis::summary::Counter;
use crate::event::{Direction, Event};
use chrono::{DateTime, FixedOffset};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

/// Inbound unknown-user attempts kept.
pub const PROBE_CAP: usize = 500_000;
/// Domains, clients, and recipients per client or domain kept.
pub const SET_CAP: usize = 10_000;
const TEXT_CAP: usize = 10_000;

type Time = DateTime<FixedOffset>;

/// One inbound attempt at a recipient that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Client IP address.
    pub ip: String,
    /// When.
    pub time: Option<Time>,
    /// Recipient tried.
    pub rcpt: String,
    /// Envelope sender.
    pub sender: Option<String>,
    /// HELO name.
    pub helo: Option<String>,
}

/// Deliveries and unknown-user bounces to one recipient domain, in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainStat {
    /// Deliveries.
    pub delivered: u64,
    /// Deliveries before the first unknown-user bounce.
    pub delivered_before: u64,
    /// The last of those.
    pub last_before: Option<Time>,
    /// Deliveries after the first unknown-user bounce.
    pub delivered_after: u64,
    /// Last delivery.
    pub last_delivered: Option<Time>,
    /// Unknown-user bounces.
    pub unknown: u64,
    /// Distinct recipients that bounced as unknown.
    pub unknown_rcpts: BTreeSet<String>,
    /// First unknown-user bounce.
    pub first_unknown: Option<Time>,
    /// Last unknown-user bounce.
    pub last_unknown: Option<Time>,
}

/// The evidence of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// Delivered recipients (lowercase) with counts.
    pub delivered: Counter,
    /// Outbound/local statistics per recipient domain.
    pub domains: BTreeMap<String, DomainStat>,
    /// Recipients delivered from each client IP (accepted, so valid).
    pub valid_by_client: HashMap<String, BTreeSet<String>>,
    /// True when a client's deliveries were not recorded (too many clients):
    /// a client missing from `valid_by_client` then has an unknown count.
    pub valid_clients_capped: bool,
    /// Inbound unknown-user attempts.
    pub probes: Vec<Probe>,
    /// Inbound unknown-user attempts not kept (more than the cap).
    pub probes_not_kept: u64,
    /// Deliveries and unknown-user bounces not counted for a domain because
    /// too many domains were kept already.
    pub domain_events_not_kept: u64,
    /// Unclassified failure texts, normalised: count and one sample line.
    pub unmatched: BTreeMap<String, (u64, String)>,
}

/// The IP address in a client string (`host[192.0.2.1]`, `host [ip]`,
/// chkuser's `host:remotehost:ip`, a bare address). Called for every delivery,
/// so plain string work rather than a regex.
pub fn client_ip(client: &str) -> Option<&str> {
    let is_ip = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':')
            && (s.contains('.') || s.contains(':'))
    };
    if let (Some(a), Some(b)) = (client.rfind('['), client.rfind(']')) {
        let inner = client.get(a + 1..b)?;
        return is_ip(inner).then_some(inner);
    }
    if is_ip(client) {
        return Some(client);
    }
    // The longest suffix after a colon that is an address (IPv6 keeps its colons).
    client
        .match_indices(':')
        .map(|(i, _)| &client[i + 1..])
        .find(|s| is_ip(s))
}

/// The domain of an (already lowercase) address.
fn domain(addr: &str) -> Option<&str> {
    addr.rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

static NORMALISE: LazyLock<[(Regex, &'static str); 4]> = LazyLock::new(|| {
    [
        (Regex::new(r"<?[^\s<>@]+@[^\s<>]+>?").expect("re"), "<addr>"),
        (
            Regex::new(r"\[?\b\d{1,3}(?:\.\d{1,3}){3}\b\]?|\[[0-9A-Fa-f:]{3,}\]").expect("re"),
            "<ip>",
        ),
        (Regex::new(r"\b[A-Za-z0-9+/=-]{6,}\b").expect("re"), "<id>"),
        (Regex::new(r"\d+").expect("re"), "<n>"),
    ]
});
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("re"));

/// A failure text with addresses, IPs, ids (tokens mixing letters and
/// digits) and numbers masked, so that texts differing only in those group.
pub fn normalise(text: &str) -> String {
    let mut s = text.to_string();
    for (re, to) in NORMALISE.iter() {
        s = if *to == "<id>" {
            re.replace_all(&s, |c: &regex::Captures<'_>| {
                let t = &c[0];
                let mixed = t.chars().any(|x| x.is_ascii_digit())
                    && t.chars().any(|x| x.is_ascii_alphabetic());
                if mixed {
                    "<id>".to_string()
                } else {
                    t.to_string()
                }
            })
            .into_owned()
        } else {
            re.replace_all(&s, *to).into_owned()
        };
    }
    SPACES
        .replace_all(s.trim(), " ")
        .chars()
        .take(300)
        .collect()
}

impl Diagnostics {
    /// A delivery of `rcpt`, from `client` (when known), at `time`.
    pub fn delivered(&mut self, rcpt: &str, client: Option<&str>, time: Option<Time>) {
        // Called for every delivery: no allocation unless a value is new.
        let rcpt: std::borrow::Cow<'_, str> = if rcpt.bytes().any(|b| b.is_ascii_uppercase()) {
            rcpt.to_ascii_lowercase().into()
        } else {
            rcpt.into()
        };
        let rcpt = rcpt.as_ref();
        self.delivered.add(rcpt, 1);
        if let Some(s) = domain(rcpt).and_then(|d| self.domain_stat(d)) {
            s.delivered += 1;
            match (s.first_unknown, time) {
                (Some(f), Some(t)) if t >= f => s.delivered_after += 1,
                (Some(_), None) => s.delivered_after += 1,
                _ => {
                    s.delivered_before += 1;
                    s.last_before = time.or(s.last_before);
                }
            }
            s.last_delivered = time.or(s.last_delivered);
        }
        if let Some(ip) = client.and_then(client_ip) {
            if !self.valid_by_client.contains_key(ip) {
                if self.valid_by_client.len() < SET_CAP {
                    self.valid_by_client.insert(ip.to_string(), BTreeSet::new());
                } else {
                    self.valid_clients_capped = true;
                }
            }
            if let Some(set) = self.valid_by_client.get_mut(ip) {
                if set.len() < SET_CAP && !set.contains(rcpt) {
                    set.insert(rcpt.to_string());
                }
            }
        }
    }

    /// The statistics of a domain, created while fewer than the cap are kept
    /// (an event at a domain not kept is counted in `domain_events_not_kept`).
    fn domain_stat(&mut self, d: &str) -> Option<&mut DomainStat> {
        if !self.domains.contains_key(d) {
            if self.domains.len() < SET_CAP {
                self.domains.insert(d.to_string(), DomainStat::default());
            } else {
                self.domain_events_not_kept += 1;
            }
        }
        self.domains.get_mut(d)
    }

    /// A failure event; `unknown`: its cause means the recipient does not
    /// exist; `unmatched`: no rule named its cause (`other`).
    pub fn failure(&mut self, e: &Event, unknown: bool, unmatched: bool) {
        if unmatched && self.unmatched.len() < TEXT_CAP {
            let key = normalise(e.text.as_deref().unwrap_or(""));
            let entry = self
                .unmatched
                .entry(key)
                .or_insert((0, e.raw.clone().unwrap_or_default()));
            entry.0 += 1;
        }
        let Some(rcpt) = e.recipient.as_deref().map(str::to_ascii_lowercase) else {
            return;
        };
        if unknown && e.direction == Direction::Inbound {
            if let Some(ip) = e.client.as_deref().and_then(client_ip) {
                if self.probes.len() < PROBE_CAP {
                    self.probes.push(Probe {
                        ip: ip.to_string(),
                        time: e.time,
                        rcpt,
                        sender: e.sender.clone(),
                        helo: e.helo.clone(),
                    });
                } else {
                    self.probes_not_kept += 1;
                }
            }
            return;
        }
        if unknown && e.direction == Direction::Outbound {
            if let Some(s) = domain(&rcpt).and_then(|d| self.domain_stat(d)) {
                s.unknown += 1;
                if s.unknown_rcpts.len() < SET_CAP {
                    s.unknown_rcpts.insert(rcpt);
                }
                s.first_unknown = s.first_unknown.or(e.time);
                s.last_unknown = e.time.or(s.last_unknown);
            }
        }
    }

    /// Adds the evidence of a later part of the input.
    pub fn merge(&mut self, o: &Diagnostics) {
        self.delivered.merge(&o.delivered);
        for (d, s) in &o.domains {
            let m = self.domains.entry(d.clone()).or_default();
            m.delivered += s.delivered;
            m.delivered_before += s.delivered_before;
            m.last_before = s.last_before.or(m.last_before);
            m.delivered_after += s.delivered_after;
            m.last_delivered = s.last_delivered.or(m.last_delivered);
            m.unknown += s.unknown;
            m.unknown_rcpts.extend(s.unknown_rcpts.iter().cloned());
            m.first_unknown = m.first_unknown.or(s.first_unknown);
            m.last_unknown = s.last_unknown.or(m.last_unknown);
        }
        self.valid_clients_capped |= o.valid_clients_capped;
        for (c, set) in &o.valid_by_client {
            self.valid_by_client
                .entry(c.clone())
                .or_default()
                .extend(set.iter().cloned());
        }
        self.probes.extend(o.probes.iter().cloned());
        self.probes_not_kept += o.probes_not_kept;
        self.domain_events_not_kept += o.domain_events_not_kept;
        for (k, (n, sample)) in &o.unmatched {
            self.unmatched
                .entry(k.clone())
                .or_insert((0, sample.clone()))
                .0 += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ips_and_normalised_texts() {
        assert_eq!(client_ip("unknown[203.0.113.45]"), Some("203.0.113.45"));
        assert_eq!(
            client_ip("mail.example.org [198.51.100.7]"),
            Some("198.51.100.7")
        );
        assert_eq!(
            client_ip("pc-45:unknown:203.0.113.45"),
            Some("203.0.113.45")
        );
        assert_eq!(client_ip("[2001:db8::25]"), Some("2001:db8::25"));
        assert_eq!(client_ip("localhost"), None);
        assert_eq!(
            normalise("host mx.example.net[192.0.2.7] said: 554 Transaction failed id 4Z1xYk2QmTz9sXQ for <a@example.com>"),
            "host mx.example.net<ip> said: <n> Transaction failed id <id> for <addr>"
        );
    }
}
