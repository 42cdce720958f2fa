//! Evidence gathered during analysis for the findings (`findings`): which
//! recipients were delivered (per domain, per client), the inbound
//! unknown-user attempts of each client, and the failure texts no rule
//! classified. Everything is bounded; what did not fit is not used as
//! evidence but counted (`*_not_kept`), so that the findings can say that they
//! may be incomplete (a finding is never made from a partial count it does
//! not say).
//!
//! The state is compact, since it grows with the traffic: a client's valid
//! recipients are 32-bit hashes under a 64-bit hash of its address (a
//! harvester is judged by how *many* distinct valid recipients it named, never
//! by which), attempts name their client, sender and HELO by number, and a
//! recipient tried by its 64-bit hash. The evidence is a monoid like the
//! summary ([`Diagnostics::merge`]) and travels in JSON reports
//! (`evidence_json`), so that merged
//! reports give the findings of one run over all their inputs.

use crate::analysis::counter::Counter;
use crate::event::{Direction, Event};
use chrono::{DateTime, FixedOffset};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Inbound unknown-user attempts kept.
pub const PROBE_CAP: usize = 500_000;
/// Domains, and distinct unknown recipients per domain, kept.
pub const SET_CAP: usize = 10_000;
/// Client addresses whose valid recipients are kept (about 16 bytes each).
pub const CLIENT_CAP: usize = 1_000_000;
/// Distinct valid recipients kept per client: beyond, the client has "many"
/// (a harvester names few or none) and is not judged as a harvester.
pub const VALID_CAP: usize = 1024;
/// Valid-recipient hashes kept in all (4 bytes each) beyond each client's first.
const VALID_TOTAL_CAP: usize = 4_000_000;
/// Distinct client addresses, senders and HELO names of the attempts kept.
const NAME_CAP: usize = 200_000;
const TEXT_CAP: usize = 10_000;

type Time = DateTime<FixedOffset>;

/// A stable 64-bit hash (XXH3, seed 0: the same in every build, so that the
/// hashes of two reports can be merged).
fn hash64(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

mod probe;
mod valid;
pub use probe::{Names, Probe};
pub use valid::ValidSets;

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
    /// Hashes of the distinct recipients that bounced as unknown.
    pub unknown_rcpts: BTreeSet<u64>,
    /// First unknown-user bounce.
    pub first_unknown: Option<Time>,
    /// Last unknown-user bounce.
    pub last_unknown: Option<Time>,
}

/// Statistics per recipient domain: found by hash (every delivery looks its
/// domain up, so no ordered search of string comparisons), listed in name
/// order (what the findings, the reports and merges see).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Domains {
    // Seeded per map: domains come from logs that strangers write.
    map: foldhash::HashMap<String, DomainStat>,
}

impl Domains {
    /// The statistics of a domain.
    pub fn get(&self, d: &str) -> Option<&DomainStat> {
        self.map.get(d)
    }

    /// The statistics of a domain, to update.
    pub fn get_mut(&mut self, d: &str) -> Option<&mut DomainStat> {
        self.map.get_mut(d)
    }

    /// True when the domain is kept.
    pub fn contains_key(&self, d: &str) -> bool {
        self.map.contains_key(d)
    }

    /// Keeps a domain's statistics (replacing any kept before).
    pub fn insert(&mut self, d: String, s: DomainStat) {
        self.map.insert(d, s);
    }

    /// Domains kept.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no domain is kept.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every domain with its statistics, in name order.
    pub fn iter(&self) -> std::vec::IntoIter<(&String, &DomainStat)> {
        let mut v: Vec<(&String, &DomainStat)> = self.map.iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
    }
}

impl<'a> IntoIterator for &'a Domains {
    type Item = (&'a String, &'a DomainStat);
    type IntoIter = std::vec::IntoIter<(&'a String, &'a DomainStat)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The evidence of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// Delivered recipients (lowercase) with counts.
    pub delivered: Counter,
    /// Outbound/local statistics per recipient domain.
    pub domains: Domains,
    /// Recipients delivered from each client IP (accepted, so valid).
    pub valid_by_client: ValidSets,
    /// Inbound unknown-user attempts.
    pub probes: Vec<Probe>,
    /// Client addresses, senders and HELO names of the attempts.
    pub names: Names,
    /// Inbound unknown-user attempts not kept (more than the cap).
    pub probes_not_kept: u64,
    /// Deliveries and unknown-user bounces not counted for a domain because
    /// too many domains were kept already.
    pub domain_events_not_kept: u64,
    /// Messages and delivery attempts whose state (client, sender, deferred
    /// recipients) was forgotten while still open, because more were open at
    /// once than the correlator keeps: their later lines are counted without it.
    pub open_forgotten: u64,
    /// Unclassified failure texts, normalised: count and one sample line.
    pub unmatched: BTreeMap<String, (u64, String)>,
    /// Parts merged whose evidence was not known (reports of an older
    /// bouncelog): their findings are kept as they were, not computed again.
    pub parts_without_evidence: u64,
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
        self.delivered_to(rcpt, client, time, true);
    }

    /// A delivery, with the recipient counted in [`Diagnostics::delivered`]
    /// only when `count` (false: a chunk's partial analysis counted it).
    pub fn delivered_to(
        &mut self,
        rcpt: &str,
        client: Option<&str>,
        time: Option<Time>,
        count: bool,
    ) {
        // Called for every delivery: no allocation unless a value is new.
        let rcpt: std::borrow::Cow<'_, str> = if rcpt.bytes().any(|b| b.is_ascii_uppercase()) {
            rcpt.to_ascii_lowercase().into()
        } else {
            rcpt.into()
        };
        let rcpt = rcpt.as_ref();
        if count {
            self.delivered.add(rcpt, 1);
        }
        let count = |s: &mut DomainStat| {
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
        };
        // One lookup for a domain already kept (nearly every delivery).
        if let Some(d) = domain(rcpt) {
            if let Some(s) = self.domains.get_mut(d) {
                count(s);
            } else if let Some(s) = self.domain_stat(d) {
                count(s);
            }
        }
        if let Some(ip) = client.and_then(client_ip) {
            // Only how many distinct recipients a client named counts: a
            // 32-bit hash each (a collision, about one in 4·10⁹ pairs of one
            // client's recipients, undercounts by one).
            self.valid_by_client
                .add_hashed(hash64(ip), hash64(rcpt) as u32);
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
        if !unknown {
            return;
        }
        let Some(rcpt) = e.recipient.as_deref().map(str::to_ascii_lowercase) else {
            return;
        };
        if e.direction == Direction::Inbound {
            if let Some(ip) = e.client.as_deref().and_then(client_ip) {
                self.probe(
                    ip,
                    e.time,
                    hash64(&rcpt),
                    e.sender.as_deref(),
                    e.helo.as_deref(),
                );
            }
            return;
        }
        if e.direction == Direction::Outbound {
            if let Some(s) = domain(&rcpt).and_then(|d| self.domain_stat(d)) {
                s.unknown += 1;
                if s.unknown_rcpts.len() < SET_CAP {
                    s.unknown_rcpts.insert(hash64(&rcpt));
                }
                s.first_unknown = s.first_unknown.or(e.time);
                s.last_unknown = e.time.or(s.last_unknown);
            }
        }
    }

    /// Keeps one inbound unknown-user attempt, while under the caps.
    pub(crate) fn probe(
        &mut self,
        ip: &str,
        time: Option<Time>,
        rcpt: u64,
        sender: Option<&str>,
        helo: Option<&str>,
    ) {
        if self.probes.len() >= PROBE_CAP {
            self.probes_not_kept += 1;
            return;
        }
        let Some(ip) = self.names.id(ip) else {
            self.probes_not_kept += 1;
            return;
        };
        let sender = sender.and_then(|s| self.names.id(s));
        let helo = helo.and_then(|h| self.names.id(h));
        // Grown by a quarter, never past the cap (doubling would leave up to
        // half of the largest vector of the evidence unused).
        let len = self.probes.len();
        if len == self.probes.capacity() {
            self.probes
                .reserve_exact((len / 4).max(1024).min(PROBE_CAP - len));
        }
        self.probes.push(Probe::new(ip, time, rcpt, sender, helo));
    }

    /// Gives back the room kept for evidence to come.
    pub fn shrink_to_fit(&mut self) {
        self.delivered.shrink_to_fit();
        self.domains.map.shrink_to_fit();
        self.valid_by_client.shrink_to_fit();
        self.probes.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    /// Adds the evidence of a later part of the input, so that the evidence
    /// of parts merged in input order is that of the whole (within the caps;
    /// a later part's deliveries to a domain count as after the earlier
    /// part's first unknown-user bounce there, as logs read in time order are).
    pub fn merge(&mut self, o: &Diagnostics) {
        self.delivered.merge(&o.delivered);
        for (d, s) in &o.domains {
            let Some(m) = self.domain_stat(d) else {
                self.domain_events_not_kept += s.delivered + s.unknown;
                continue;
            };
            m.delivered += s.delivered;
            if m.first_unknown.is_some() {
                m.delivered_after += s.delivered_before + s.delivered_after;
            } else {
                m.delivered_before += s.delivered_before;
                m.last_before = s.last_before.or(m.last_before);
                m.delivered_after += s.delivered_after;
            }
            m.last_delivered = s.last_delivered.or(m.last_delivered);
            m.unknown += s.unknown;
            for r in &s.unknown_rcpts {
                if m.unknown_rcpts.len() >= SET_CAP {
                    break;
                }
                m.unknown_rcpts.insert(*r);
            }
            m.first_unknown = m.first_unknown.or(s.first_unknown);
            m.last_unknown = s.last_unknown.or(m.last_unknown);
        }
        self.valid_by_client.merge(&o.valid_by_client);
        for p in &o.probes {
            let name = |i: Option<u32>| i.map(|i| o.names.get(i));
            self.probe(
                o.names.get(p.ip),
                p.time(),
                p.rcpt,
                name(p.sender()),
                name(p.helo()),
            );
        }
        self.probes_not_kept += o.probes_not_kept;
        self.domain_events_not_kept += o.domain_events_not_kept;
        self.open_forgotten += o.open_forgotten;
        for (k, (n, sample)) in &o.unmatched {
            if let Some(e) = self.unmatched.get_mut(k) {
                e.0 += n;
            } else if self.unmatched.len() < TEXT_CAP {
                self.unmatched.insert(k.clone(), (*n, sample.clone()));
            }
        }
        self.parts_without_evidence += o.parts_without_evidence;
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
