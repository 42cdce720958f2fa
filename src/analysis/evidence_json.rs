//! The evidence in JSON reports (`evidence`, written by [`Evidence`] and
//! read by [`Diagnostics::from_json`]): what `bouncelog merge` needs to
//! compute the findings of merged reports exactly as one run over all their
//! inputs would. Hashes are hex strings, several to a string where there are
//! many (a client's valid recipients, a domain's unknown ones), so that the
//! report stays small; times are RFC 3339 with their offset.

use crate::analysis::counter::Counter;
use crate::analysis::evidence::{Diagnostics, DomainStat};
use chrono::DateTime;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};

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

/// A hash as its hex string, written straight into the output (a report
/// holds millions: no string is allocated for each).
struct Hex(u64);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:x}", self.0))
    }
}

/// Hashes in hex, each after a space, appended to `s`.
fn push_hex(s: &mut String, hashes: impl IntoIterator<Item = u64>) {
    use std::fmt::Write;
    for h in hashes {
        // Writing to a String cannot fail.
        let _ = write!(s, " {h:x}");
    }
}

/// Serialises an iterator's items as a sequence, one at a time.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// Serialises an iterator's pairs as a map, one at a time.
struct MapOf<F>(F);

impl<F, I, K, V> Serialize for MapOf<F>
where
    F: Fn() -> I,
    I: IntoIterator<Item = (K, V)>,
    K: Serialize,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map((self.0)())
    }
}

/// The evidence, serialised as it is read (a report of a large log holds
/// hundreds of thousands of clients: no JSON tree of them is built).
pub struct Evidence<'a>(pub &'a Diagnostics);

impl Serialize for Evidence<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("delivered", &MapOf(|| d.delivered.entries()))?;
        m.serialize_entry("delivered_overflow", &d.delivered.overflow)?;
        m.serialize_entry(
            "domains",
            &MapOf(|| {
                d.domains.iter().map(|(dom, s)| {
                    let mut rcpts = String::new();
                    push_hex(&mut rcpts, s.unknown_rcpts.iter().copied());
                    let rcpts = rcpts.strip_prefix(' ').unwrap_or_default();
                    (
                        dom,
                        json!({"delivered": s.delivered, "delivered_before": s.delivered_before,
                            "last_before": t(s.last_before), "delivered_after": s.delivered_after,
                            "last_delivered": t(s.last_delivered), "unknown": s.unknown,
                            "unknown_rcpts": rcpts, "first_unknown": t(s.first_unknown),
                            "last_unknown": t(s.last_unknown)}),
                    )
                })
            }),
        )?;
        m.serialize_entry("domain_events_not_kept", &d.domain_events_not_kept)?;
        let v = &d.valid_by_client;
        m.serialize_entry(
            "valid_by_client",
            &Seq(|| {
                v.clients().into_iter().map(|ip| {
                    let (hashes, saturated) = v.recipients(ip);
                    let mut s = format!("{ip:x}");
                    push_hex(&mut s, hashes.into_iter().map(u64::from));
                    if saturated {
                        s.push_str(" +");
                    }
                    s
                })
            }),
        )?;
        m.serialize_entry("valid_clients_capped", &v.capped)?;
        let name = |i: Option<u32>| i.map(|i| d.names.get(i));
        m.serialize_entry(
            "probes",
            &Seq(|| {
                d.probes.iter().map(|p| {
                    (
                        p.time().map(|t| t.to_rfc3339()),
                        d.names.get(p.ip),
                        Hex(p.rcpt),
                        name(p.sender()),
                        name(p.helo()),
                    )
                })
            }),
        )?;
        m.serialize_entry("probes_not_kept", &d.probes_not_kept)?;
        // Only when some were: a report of a log that never reached the cap
        // is what it was before this count existed.
        if d.open_forgotten > 0 {
            m.serialize_entry("open_forgotten", &d.open_forgotten)?;
        }
        m.serialize_entry(
            "unmatched",
            &Seq(|| d.unmatched.iter().map(|(k, (n, sample))| (k, n, sample))),
        )?;
        m.end()
    }
}

impl Diagnostics {
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
        d.open_forgotten += u(&v["open_forgotten"]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgotten_open_messages_survive_a_round_trip_and_are_absent_when_none() {
        let mut d = Diagnostics::default();
        let none = serde_json::to_value(Evidence(&d)).expect("json");
        assert!(none.get("open_forgotten").is_none(), "{none}");
        assert_eq!(Diagnostics::from_json(&none).open_forgotten, 0);
        d.open_forgotten = 7;
        let some = serde_json::to_value(Evidence(&d)).expect("json");
        assert_eq!(some["open_forgotten"], 7);
        let mut merged = Diagnostics::from_json(&some);
        merged.merge(&Diagnostics::from_json(&some));
        assert_eq!(merged.open_forgotten, 14, "merged reports add them");
    }
}
