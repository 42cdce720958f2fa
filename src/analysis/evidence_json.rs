//! The evidence in JSON reports (`evidence`): what `bouncelog merge` needs to
//! compute the findings of merged reports exactly as one run over all their
//! inputs would. Hashes are hex strings, several to a string where there are
//! many (a client's valid recipients, a domain's unknown ones), so that the
//! report stays small; times are RFC 3339 with their offset.

use crate::analysis::counter::Counter;
use crate::analysis::evidence::{Diagnostics, DomainStat};
use chrono::DateTime;
use serde_json::{json, Map, Value};

type Time = DateTime<chrono::FixedOffset>;

fn t(t: Option<Time>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

fn time(v: &Value) -> Option<Time> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s, 16).ok()
}

impl Diagnostics {
    /// The evidence as the `evidence` object of a JSON report.
    pub fn to_json(&self) -> Value {
        let delivered: Map<String, Value> = self
            .delivered
            .entries()
            .into_iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect();
        let domains: Map<String, Value> = self
            .domains
            .iter()
            .map(|(d, s)| {
                let rcpts: Vec<String> = s.unknown_rcpts.iter().map(|h| format!("{h:x}")).collect();
                (
                    d.clone(),
                    json!({"delivered": s.delivered, "delivered_before": s.delivered_before,
                        "last_before": t(s.last_before), "delivered_after": s.delivered_after,
                        "last_delivered": t(s.last_delivered), "unknown": s.unknown,
                        "unknown_rcpts": rcpts.join(" "), "first_unknown": t(s.first_unknown),
                        "last_unknown": t(s.last_unknown)}),
                )
            })
            .collect();
        let valid: Vec<Value> = self
            .valid_by_client
            .entries()
            .into_iter()
            .map(|(ip, hashes, saturated)| {
                let mut s = format!("{ip:x}");
                for h in hashes {
                    s.push_str(&format!(" {h:x}"));
                }
                if saturated {
                    s.push_str(" +");
                }
                Value::String(s)
            })
            .collect();
        let name = |i: Option<u32>| i.map_or(Value::Null, |i| json!(self.names.get(i)));
        let probes: Vec<Value> = self
            .probes
            .iter()
            .map(|p| {
                json!([
                    t(p.time),
                    self.names.get(p.ip),
                    format!("{:x}", p.rcpt),
                    name(p.sender),
                    name(p.helo)
                ])
            })
            .collect();
        let unmatched: Vec<Value> = self
            .unmatched
            .iter()
            .map(|(k, (n, sample))| json!([k, n, sample]))
            .collect();
        json!({
            "delivered": delivered,
            "delivered_overflow": self.delivered.overflow,
            "domains": domains,
            "domain_events_not_kept": self.domain_events_not_kept,
            "valid_by_client": valid,
            "valid_clients_capped": self.valid_by_client.capped,
            "probes": probes,
            "probes_not_kept": self.probes_not_kept,
            "unmatched": unmatched,
        })
    }

    /// The evidence of a report's `evidence` object; a report without one
    /// (written by an older bouncelog) gives empty evidence that says so.
    pub fn from_json(v: &Value) -> Diagnostics {
        let mut d = Diagnostics::default();
        if !v.is_object() {
            d.parts_without_evidence = 1;
            return d;
        }
        let mut delivered = Counter::default();
        for (k, n) in v["delivered"].as_object().into_iter().flatten() {
            delivered.add(k, u(n));
        }
        delivered.overflow += u(&v["delivered_overflow"]);
        d.delivered = delivered;
        for (dom, s) in v["domains"].as_object().into_iter().flatten() {
            let st = DomainStat {
                delivered: u(&s["delivered"]),
                delivered_before: u(&s["delivered_before"]),
                last_before: time(&s["last_before"]),
                delivered_after: u(&s["delivered_after"]),
                last_delivered: time(&s["last_delivered"]),
                unknown: u(&s["unknown"]),
                unknown_rcpts: s["unknown_rcpts"]
                    .as_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(hex)
                    .collect(),
                first_unknown: time(&s["first_unknown"]),
                last_unknown: time(&s["last_unknown"]),
            };
            let mut one = Diagnostics::default();
            one.domains.insert(dom.clone(), st);
            d.merge(&one);
        }
        d.domain_events_not_kept += u(&v["domain_events_not_kept"]);
        for c in v["valid_by_client"].as_array().into_iter().flatten() {
            let mut parts = c.as_str().unwrap_or("").split_whitespace();
            let Some(ip) = parts.next().and_then(hex) else {
                continue;
            };
            for p in parts {
                if p == "+" {
                    d.valid_by_client.mark_saturated(ip);
                } else if let Some(h) = hex(p).and_then(|h| u32::try_from(h).ok()) {
                    d.valid_by_client.add_hashed(ip, h);
                }
            }
        }
        d.valid_by_client.capped |= v["valid_clients_capped"].as_bool().unwrap_or(false);
        for p in v["probes"].as_array().into_iter().flatten() {
            let (Some(ip), Some(rcpt)) = (p[1].as_str(), p[2].as_str().and_then(hex)) else {
                continue;
            };
            d.probe(ip, time(&p[0]), rcpt, p[3].as_str(), p[4].as_str());
        }
        d.probes_not_kept += u(&v["probes_not_kept"]);
        for e in v["unmatched"].as_array().into_iter().flatten() {
            if let Some(k) = e[0].as_str() {
                let mut one = Diagnostics::default();
                one.unmatched.insert(
                    k.to_string(),
                    (u(&e[1]), e[2].as_str().unwrap_or("").to_string()),
                );
                d.merge(&one);
            }
        }
        d
    }
}
