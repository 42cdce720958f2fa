//! Findings: what the counts mean, with the evidence behind each — likely
//! typos of recipient addresses, directory-harvest runs, a remote domain whose
//! users suddenly all "do not exist" (moved MX), and our own IP being
//! blocklisted (typos in [`typo`]). Computed from a finished [`Summary`]; no
//! finding without evidence from the same logs (or, for provider domains, a
//! built-in list of well-known domains), and a finding of its own
//! (`evidence_capped`) when some evidence did not fit under its memory cap.

pub mod finding;
pub mod near;
pub mod single;
pub mod typo;

pub use finding::Finding;

use crate::analysis::evidence::Probe;
use crate::analysis::summary::Summary;
use crate::event::Direction;
use crate::patterns::PatternSet;
use chrono::Duration;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// What a run or a merge concluded: the aggregate, and the findings drawn
/// from it afterwards (never stored back into it). This is what reports render.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The counts and the evidence.
    pub summary: Summary,
    /// The findings computed from them.
    pub findings: Vec<Finding>,
}

/// The detectors, by the names their entries in patterns/findings.toml give
/// as `detector`; that entry's key is the kind their findings carry, and it
/// holds their title, urgency and hints (and, for `OUR_LISTING`, the `names`
/// regexes the detector reads). A test checks that each has its entry.
pub mod detectors {
    /// Likely typos of recipient addresses ([`typo`](super::typo)).
    pub const TYPO: &str = "typo";
    /// Directory-harvest runs (the `--emit-blocklist` entries).
    pub const HARVEST: &str = "harvest";
    /// A remote domain whose users all started to "not exist".
    pub const DOMAIN_FAILURE: &str = "domain_failure";
    /// Our sending IP or domain on a blocklist.
    pub const OUR_LISTING: &str = "our_listing";
    /// Evidence that did not fit under its memory cap.
    pub const EVIDENCE_CAPPED: &str = "evidence_capped";
    /// All of them.
    pub const ALL: [&str; 5] = [TYPO, HARVEST, DOMAIN_FAILURE, OUR_LISTING, EVIDENCE_CAPPED];
}

/// Thresholds of the detectors.
#[derive(Debug, Clone)]
pub struct Config {
    /// Distinct unknown recipients from one client (or /24, or sender) that make a harvest.
    pub harvest_min: usize,
    /// Most valid recipients, as a share of all recipients a client named,
    /// that still count as harvesting (a partner's server with valid
    /// recipients accepted is not a harvester).
    pub harvest_valid_share: f64,
    /// Networks never put on a blocklist: loopback, private, link-local,
    /// and `--trusted` (our own).
    pub trusted: Vec<crate::net::Net>,
    /// The time window in which they must fall.
    pub harvest_window: Duration,
    /// Distinct unknown recipients at one domain that make a domain-wide failure.
    pub domain_min: usize,
    /// How long before the first unknown-user bounce the last delivery must be.
    pub domain_gap: Duration,
    /// Outbound blocklist rejections that make a finding.
    pub blocklist_min: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            harvest_min: 10,
            harvest_valid_share: 0.1,
            trusted: crate::net::never_blocked(),
            harvest_window: Duration::minutes(10),
            domain_min: 3,
            domain_gap: Duration::minutes(30),
            blocklist_min: 3,
        }
    }
}

impl Config {
    /// Distinct unknown recipients that make one member of a network or a
    /// rotation suspicious on its own.
    fn member_min(&self) -> usize {
        self.harvest_min.div_ceil(4).max(3)
    }
}

/// All findings of a summary, in a stable order.
pub fn compute(s: &Summary, ps: &PatternSet, cfg: &Config) -> Vec<Finding> {
    // A detector whose findings.toml entry is missing reports nothing.
    let kind = |d: &str| ps.finding_kind(d).map(|(k, _)| k);
    // Typos can be tens of thousands: the others are added to their vector,
    // grown once to the exact size (not doubled).
    let mut out = kind(detectors::TYPO).map_or_else(Vec::new, |k| typo::typos(s, ps, k));
    let harvest = kind(detectors::HARVEST).map_or_else(Vec::new, |k| harvests(s, cfg, k));
    let domain =
        kind(detectors::DOMAIN_FAILURE).map_or_else(Vec::new, |k| domain_failures(s, cfg, k));
    let listed = kind(detectors::OUR_LISTING).map_or_else(Vec::new, |k| blocklisted(s, ps, cfg, k));
    let capped = kind(detectors::EVIDENCE_CAPPED).and_then(|k| capped(s, ps, k));
    out.reserve_exact(harvest.len() + domain.len() + listed.len() + usize::from(capped.is_some()));
    out.extend(harvest);
    out.extend(domain);
    // Hints for one MTA only when that MTA's lines are in the inputs.
    let mtas: BTreeSet<&str> = s.groups.keys().map(|k| k.mta.as_str()).collect();
    // One list per kind, shared, when its hints do not name the subject.
    let mut shared: HashMap<String, Arc<[String]>> = HashMap::new();
    for f in &mut out {
        f.hints = match shared.get(&f.kind) {
            Some(h) => h.clone(),
            None => {
                let h: Arc<[String]> = hints(ps, &f.kind, &f.subject, &mtas).into();
                if !names_subject(ps, &f.kind) {
                    shared.insert(f.kind.clone(), h.clone());
                }
                h
            }
        };
    }
    out.extend(listed);
    out.extend(capped);
    // Most urgent kind first (`urgency` in findings.toml), else in the order found.
    out.sort_by_key(|f| ps.finding_urgency(&f.kind));
    out
}

/// True when some hint of a kind names its finding's subject.
fn names_subject(ps: &PatternSet, kind: &str) -> bool {
    use crate::patterns::schema::FindingHint;
    ps.findings.get(kind).is_some_and(|d| {
        d.hints.iter().any(|h| match h {
            FindingHint::Text(t) | FindingHint::Mta { text: t, .. } => t.contains("{subject}"),
        })
    })
}

/// The hints of a kind of finding from `patterns/findings.toml`, for the MTAs seen.
fn hints(ps: &PatternSet, kind: &str, subject: &str, mtas: &BTreeSet<&str>) -> Vec<String> {
    use crate::patterns::schema::FindingHint;
    ps.findings
        .get(kind)
        .map(|d| {
            d.hints
                .iter()
                .filter_map(|h| match h {
                    FindingHint::Text(t) => Some(t),
                    FindingHint::Mta { mta, text } => mtas.contains(mta.as_str()).then_some(text),
                })
                .map(|h| h.replace("{subject}", subject))
                .collect()
        })
        .unwrap_or_default()
}

/// A kind, its findings, and the hints they all share.
pub type KindGroup<'a> = (&'a str, Vec<&'a Finding>, Option<&'a [String]>);

/// Findings in report order, one entry per kind: the kind's findings, and
/// the hints they share (printed once), or none when their hints differ
/// (then each finding's own are printed).
pub fn by_kind(findings: &[Finding]) -> Vec<KindGroup<'_>> {
    let mut out: Vec<KindGroup<'_>> = Vec::new();
    for f in findings {
        match out.iter_mut().find(|(k, _, _)| *k == f.kind) {
            Some((_, v, shared)) => {
                if shared.is_some_and(|h| h != &f.hints[..]) {
                    *shared = None;
                }
                v.push(f);
            }
            None => out.push((f.kind.as_str(), vec![f], Some(&f.hints[..]))),
        }
    }
    out
}

/// Densest window: (distinct recipients, first, last) of the best window,
/// with a sliding window over the attempts in time order (linear time).
fn densest(probes: &[&Probe], window: Duration) -> (usize, Option<String>, Option<String>) {
    let mut v: Vec<&Probe> = probes.to_vec();
    v.sort_by_key(|p| p.time());
    let mut in_window: HashMap<u64, usize> = HashMap::new();
    let mut best = (0, None, None);
    let mut start = 0;
    for end in 0..v.len() {
        *in_window.entry(v[end].rcpt).or_default() += 1;
        while let (Some(a), Some(b)) = (v[start].time(), v[end].time()) {
            if b - a <= window {
                break;
            }
            let r = v[start].rcpt;
            if let Some(n) = in_window.get_mut(&r) {
                *n -= 1;
                if *n == 0 {
                    in_window.remove(&r);
                }
            }
            start += 1;
        }
        if in_window.len() > best.0 {
            let t = |p: &Probe| p.time().map(|t| t.to_rfc3339());
            best = (in_window.len(), t(v[start]), t(v[end]));
        }
    }
    best
}

/// What the logs say about one client address: distinct unknown recipients
/// it tried and valid recipients accepted from it.
struct ClientStat<'a> {
    probes: Vec<&'a Probe>,
    unknown: usize,
    /// `None` when this client's count is not known: the client was not kept
    /// (more than `CLIENT_CAP` clients), or it named more than `VALID_CAP`
    /// distinct valid recipients, which a harvester does not (under the 10 %
    /// rule it would need nine times as many distinct unknown ones).
    valid: Option<usize>,
}

impl ClientStat<'_> {
    /// Few or no valid recipients next to its unknown ones: at most
    /// `harvest_valid_share` of all recipients it named were valid.
    fn mostly_unknown(&self, cfg: &Config) -> bool {
        self.valid
            .is_some_and(|v| (v as f64) <= cfg.harvest_valid_share * ((v + self.unknown) as f64))
    }

    /// Suspicious on its own evidence (a member of a network or rotation).
    fn suspicious(&self, cfg: &Config) -> bool {
        self.unknown >= cfg.member_min() && self.mostly_unknown(cfg)
    }
}

fn harvests(s: &Summary, cfg: &Config, kind: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_ip: BTreeMap<&str, ClientStat<'_>> = BTreeMap::new();
    let names = &s.diag.names;
    for p in &s.diag.probes {
        by_ip
            .entry(names.get(p.ip))
            .or_insert_with(|| ClientStat {
                probes: Vec::new(),
                unknown: 0,
                valid: None,
            })
            .probes
            .push(p);
    }
    for (ip, st) in by_ip.iter_mut() {
        st.unknown = st
            .probes
            .iter()
            .map(|p| p.rcpt)
            .collect::<BTreeSet<_>>()
            .len();
        st.valid = s.diag.valid_by_client.count(ip);
    }
    let trusted =
        |ip: &str| crate::net::ip(ip).is_none_or(|a| cfg.trusted.iter().any(|n| n.contains(a)));
    let mut flagged = BTreeSet::new();
    let finding = |subject: String, what: &str, ips: BTreeSet<&str>| -> Option<Finding> {
        let probes: Vec<&Probe> = ips
            .iter()
            .filter_map(|ip| by_ip.get(ip))
            .flat_map(|st| st.probes.iter().copied())
            .collect();
        let (n, first, last) = densest(&probes, cfg.harvest_window);
        if n < cfg.harvest_min {
            return None;
        }
        let tried: BTreeSet<u64> = probes.iter().map(|p| p.rcpt).collect();
        let valid: usize = ips
            .iter()
            .filter_map(|ip| by_ip.get(ip).and_then(|st| st.valid))
            .sum();
        let block: Vec<&str> = ips.iter().copied().filter(|ip| !trusted(ip)).collect();
        let kept = if block.len() < ips.len() {
            " (trusted or private addresses are left off the blocklist)"
        } else {
            ""
        };
        Some(Finding::new(
            kind,
            subject.clone(),
            format!(
                "{what} {subject} tried {n} distinct unknown recipients within {} {} ({} in all; {valid} valid addresses accepted from it){kept}",
                cfg.harvest_window.num_minutes(),
                crate::plural::noun(cfg.harvest_window.num_minutes().unsigned_abs(), "minute", "minutes"),
                tried.len()
            ),
            json!({"distinct_in_window": n, "window_start": first, "window_end": last,
                "distinct_tried": tried.len(), "valid": valid, "clients": ips, "blocklist": block})
            .into(),
            Arc::new([]),
        ))
    };
    // One client: many distinct unknown recipients in the window, and few or no valid ones.
    for (ip, st) in &by_ip {
        if !st.mostly_unknown(cfg) {
            continue;
        }
        if let Some(f) = finding(ip.to_string(), "Client", BTreeSet::from([*ip])) {
            flagged.insert(*ip);
            out.push(f);
        }
    }
    // Several addresses of one network, none enough alone but each suspicious.
    let mut by_net: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (ip, st) in &by_ip {
        if flagged.contains(ip) || !st.suspicious(cfg) {
            continue;
        }
        if let Some(a) = crate::net::ip(ip) {
            by_net
                .entry(crate::net::network_of(a))
                .or_default()
                .insert(*ip);
        }
    }
    for (net, ips) in by_net {
        if ips.len() >= 2 {
            out.extend(finding(net, "Network", ips));
        }
    }
    // Rotating clients: one sender or HELO from many addresses, each suspicious.
    for (what, key) in [("Sender", 0), ("HELO", 1)] {
        let mut by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for p in &s.diag.probes {
            let k = if key == 0 { p.sender() } else { p.helo() };
            if let Some(k) = k.map(|k| names.get(k)).filter(|k| !k.is_empty()) {
                by.entry(k).or_default().insert(names.get(p.ip));
            }
        }
        for (k, ips) in by {
            let ips: BTreeSet<&str> = ips
                .into_iter()
                .filter(|ip| by_ip.get(ip).is_some_and(|st| st.suspicious(cfg)))
                .collect();
            if ips.len() >= 3 && !ips.iter().all(|ip| flagged.contains(ip)) {
                out.extend(finding(k.to_string(), what, ips));
            }
        }
    }
    out
}

fn domain_failures(s: &Summary, cfg: &Config, kind: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (d, st) in &s.diag.domains {
        let distinct = st.unknown_rcpts.len();
        // Mostly unknown users after the change: at least 4 bounces per later delivery.
        let mostly_failing = st.delivered_after == 0 || st.unknown >= 4 * st.delivered_after;
        // "Used to be delivered": the deliveries end well before the failures start,
        // not a batch in which some recipients exist and others do not.
        let earlier = match (st.last_before, st.first_unknown) {
            (Some(b), Some(f)) => f - b >= cfg.domain_gap,
            _ => false,
        };
        if distinct < cfg.domain_min || st.delivered_before == 0 || !mostly_failing || !earlier {
            continue;
        }
        out.push(Finding::new(
            kind,
            d.clone(),
            format!(
                "{distinct} different recipients at {d} bounced as unknown users since {}, though {d} accepted our mail {} time{} before: the domain may have moved to another mail server",
                st.first_unknown.map(|t| t.to_rfc3339()).unwrap_or_else(|| "the start".into()),
                st.delivered_before,
                if st.delivered_before == 1 { "" } else { "s" }
            ),
            json!({"unknown_bounces": st.unknown, "distinct_unknown": distinct, "delivered_before": st.delivered_before,
                "delivered_after": st.delivered_after, "first_unknown": st.first_unknown.map(|t| t.to_rfc3339()),
                "last_delivered": st.last_delivered.map(|t| t.to_rfc3339())})
            .into(),
            Arc::new([]),
        ));
    }
    out
}

fn blocklisted(s: &Summary, ps: &PatternSet, cfg: &Config, kind: &str) -> Vec<Finding> {
    let groups: Vec<_> = s
        .groups
        .iter()
        .filter(|(k, _)| {
            k.direction == Direction::Outbound
                && ps
                    .cause_id(&k.cause)
                    .is_some_and(|c| ps.causes[c].our_listing)
        })
        .collect();
    let n: u64 = groups.iter().map(|(_, g)| g.count).sum();
    if n < cfg.blocklist_min {
        return Vec::new();
    }
    let mut hosts = crate::analysis::summary::Counter::default();
    let mut domains = crate::analysis::summary::Counter::default();
    for (_, g) in &groups {
        hosts.merge(&g.peers);
        domains.merge(&g.domains);
    }
    // What is listed where, as the refusals say (`names` in findings.toml).
    let names: Vec<regex::Regex> = ps
        .findings
        .get(kind)
        .map(|d| {
            d.names
                .iter()
                .filter_map(|r| regex::Regex::new(r).ok())
                .collect()
        })
        .unwrap_or_default();
    let (mut ips, mut lists) = (BTreeSet::new(), BTreeSet::new());
    for (_, g) in &groups {
        let Some(ex) = &g.example else { continue };
        for re in &names {
            for c in re.captures_iter(&ex.text) {
                if let Some(m) = c.name("ip") {
                    ips.insert(m.as_str().to_string());
                }
                if let Some(m) = c.name("list") {
                    lists.insert(m.as_str().to_ascii_lowercase());
                }
            }
        }
    }
    let join = |v: &BTreeSet<String>| v.iter().cloned().collect::<Vec<_>>().join(", ");
    let named = match (ips.is_empty(), lists.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(": {} listed", join(&ips)),
        (true, false) => format!(": listed on {}", join(&lists)),
        (false, false) => format!(": {} listed on {}", join(&ips), join(&lists)),
    };
    let first = groups.iter().filter_map(|(_, g)| g.first).min();
    let mta = groups.first().map(|(k, _)| k.mta.as_str()).unwrap_or("");
    let hints = groups
        .first()
        .and_then(|(k, _)| ps.cause_id(&k.cause))
        .map(|i| ps.hints(i, Direction::Outbound, mta))
        .unwrap_or_default();
    vec![Finding::new(
        kind,
        "our sending IP".into(),
        format!("{n} of our deliveries were refused because our IP is on a blocklist, at {} receiving {}{named}", domains.distinct(),
            crate::plural::noun(domains.distinct() as u64, "domain", "domains")),
        json!({"rejections": n, "first": first.map(|t| t.to_rfc3339()),
            "listed_ips": ips, "lists": lists,
            "remote_hosts": hosts.top(5).into_iter().map(|(h, c)| json!({"value": h, "count": c})).collect::<Vec<_>>(),
            "domains": domains.top(5).into_iter().map(|(h, c)| json!({"value": h, "count": c})).collect::<Vec<_>>()})
        .into(),
        hints.into_iter().map(str::to_string).collect(),
    )]
}

/// The evidence that did not fit under its cap, as a finding of its own: the
/// findings may then be incomplete (a typo next to a delivered address not
/// kept, a harvest from attempts not kept, a domain not followed), and this
/// says so instead of dropping them silently.
fn capped(s: &Summary, ps: &PatternSet, kind: &str) -> Option<Finding> {
    use crate::analysis::correlate::DEFAULT_OPEN_CAP;
    use crate::analysis::evidence::{CLIENT_CAP, PROBE_CAP, SET_CAP};
    use crate::analysis::summary::COUNTER_CAP;
    let d = &s.diag;
    let failed: u64 = s
        .groups
        .iter()
        .filter(|(k, _)| ps.maybe_typo(&k.cause))
        .map(|(_, g)| g.recipients.overflow)
        .sum();
    let mut parts = Vec::new();
    if d.delivered.overflow > 0 {
        parts.push(format!("{} deliveries to recipients beyond the first {COUNTER_CAP} distinct ones (typos next to those are not suggested)", d.delivered.overflow));
    }
    if failed > 0 {
        parts.push(format!("{failed} unknown-user or unknown-domain failures to recipients beyond the first {COUNTER_CAP} distinct ones of a group (no typo suggested for those)"));
    }
    if d.probes_not_kept > 0 {
        parts.push(format!(
            "{} inbound unknown-user attempts beyond the first {PROBE_CAP} (not used for harvests)",
            d.probes_not_kept
        ));
    }
    if d.valid_by_client.capped {
        parts.push(format!("the valid recipients of clients beyond the first {CLIENT_CAP} (those clients are not judged as harvesters)"));
    }
    if d.domain_events_not_kept > 0 {
        parts.push(format!("{} deliveries and bounces at domains beyond the first {SET_CAP} (not used for domain-wide failures)", d.domain_events_not_kept));
    }
    if d.open_forgotten > 0 {
        parts.push(format!("what the earlier lines of {} messages said (client, sender, deferred recipients) while more than {DEFAULT_OPEN_CAP} messages were open at once (a later line of one of them, if any, was counted without it)", d.open_forgotten));
    }
    if parts.is_empty() {
        return None;
    }
    Some(Finding::new(
        kind,
        "findings".into(),
        format!(
            "Findings may be incomplete: to bound memory, the evidence did not keep {}",
            parts.join("; ")
        ),
        json!({"delivered_not_kept": d.delivered.overflow, "failures_not_kept": failed,
            "probes_not_kept": d.probes_not_kept, "valid_clients_capped": d.valid_by_client.capped,
            "domain_events_not_kept": d.domain_events_not_kept, "open_forgotten": d.open_forgotten,
            "caps": {"recipients": COUNTER_CAP, "probes": PROBE_CAP, "domains_and_clients": SET_CAP,
                "open_messages": DEFAULT_OPEN_CAP}})
        .into(),
        Arc::new([]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgotten_open_messages_are_said_in_the_capped_finding() {
        let ps = PatternSet::load(None).expect("built-in patterns");
        let mut s = Summary::default();
        assert!(capped(&s, &ps, detectors::EVIDENCE_CAPPED).is_none());
        s.diag.open_forgotten = 7;
        let f = capped(&s, &ps, detectors::EVIDENCE_CAPPED).expect("a finding");
        let m = f.message();
        assert!(m.contains("earlier lines of 7 messages"), "{m}");
        let ev = serde_json::to_value(&f.evidence).expect("json");
        assert_eq!(ev["open_forgotten"], 7);
        assert_eq!(
            ev["caps"]["open_messages"],
            crate::analysis::correlate::DEFAULT_OPEN_CAP
        );
    }

    #[test]
    fn every_detector_has_its_entry_in_findings_toml() {
        let ps = PatternSet::load(None).expect("built-in patterns");
        for d in detectors::ALL {
            assert!(
                ps.finding_kind(d).is_some(),
                "no entry of findings.toml says `detector = \"{d}\"`"
            );
        }
    }
}
