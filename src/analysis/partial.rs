//! A chunk's partial analysis: what the parallel stage folds from one chunk's
//! records so that the ordered stage only merges it. Today that is the count
//! of each delivered recipient (the largest counter, fed by most lines of a
//! busy log): each parsing task counts its chunk's deliveries, and the
//! ordered stage adds the counts chunk by chunk.
//!
//! The merge is exact: the counts are kept in order of first appearance
//! within the chunk and added in that order, chunks in input order, so the
//! capped counter keeps the same values and overflow as when every delivery
//! is counted one by one. A chunk is not folded (its deliveries are counted
//! in order as before) when one of its lines may repeat a line of an earlier
//! input (the ordered stage drops those: the second and later of two or more
//! inputs) or when one of its deliveries names its recipient only through an
//! earlier line (qmail's `delivery N: success` after `starting delivery N`).

use crate::analysis::evidence::Diagnostics;
use crate::analysis::window::Window;
use crate::event::{Kind, Outcome, Record};
use indexmap::IndexMap;

/// How chunks are folded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fold {
    /// Fold at all (off when lines are de-duplicated across inputs).
    pub enabled: bool,
    /// Only deliveries inside this window are counted.
    pub window: Window,
    /// Recipients are counted with their local parts replaced (`--redact`).
    pub redact: bool,
}

/// What one chunk's records contributed before correlation.
#[derive(Debug, Default)]
pub struct Partial {
    /// True when the chunk's delivered recipients are counted here (and must
    /// not be counted again by the ordered stage).
    pub folded: bool,
    /// Delivered recipients (lowercase; redacted when asked), in order of
    /// first appearance in the chunk, with their counts.
    recipients: IndexMap<Box<str>, u64, foldhash::fast::RandomState>,
}

/// A delivery whose recipient counts: delivered (not a probe or failure),
/// an address, inside the window.
fn counted_recipient<'a>(rec: &'a Record, window: &Window) -> Option<&'a str> {
    if rec.kind != Kind::Delivery || rec.outcome != Some(Outcome::Ok) {
        return None;
    }
    let r = rec.fields.rcpt.as_deref().filter(|r| r.contains('@'))?;
    window.contains(rec.time).then_some(r)
}

/// Folds a chunk's records (they stay in the list: correlation still needs
/// their queue ids, clients and times).
pub fn fold(records: &[Record], how: &Fold) -> Partial {
    let mut p = Partial::default();
    let unresolved = || {
        records.iter().any(|r| {
            r.kind == Kind::Delivery && r.fields.rcpt.is_none() && r.fields.delivery.is_some()
        })
    };
    if !how.enabled || unresolved() {
        return p;
    }
    p.folded = true;
    for rec in records {
        let Some(r) = counted_recipient(rec, &how.window) else {
            continue;
        };
        let redacted;
        let r = if how.redact {
            redacted = crate::analysis::redact::text(r);
            redacted.as_str()
        } else {
            r
        };
        let lower;
        let r = if r.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = r.to_ascii_lowercase();
            lower.as_str()
        } else {
            r
        };
        if let Some(n) = p.recipients.get_mut(r) {
            *n += 1;
        } else {
            p.recipients.insert(r.into(), 1);
        }
    }
    p
}

impl Partial {
    /// Adds the chunk's counts to the run's evidence (chunks in input order).
    pub fn merge_into(&self, diag: &mut Diagnostics) {
        for (r, n) in &self.recipients {
            diag.delivered.add(r, *n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Direction, Fields, Severity};
    use chrono::{DateTime, FixedOffset};

    fn at(s: &str) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(s).ok()
    }

    fn delivery(rcpt: Option<&str>, outcome: Outcome, time: &str) -> Record {
        Record {
            line: 1,
            mta: 0,
            kind: Kind::Delivery,
            rule: 0,
            time: at(time),
            fields: Fields {
                queue_id: Some("4QmTz9".into()),
                rcpt: rcpt.map(Into::into),
                ..Fields::default()
            },
            direction: Direction::Outbound,
            outcome: Some(outcome),
            severity: Severity::Hard,
            cause: 0,
            reply_rule: None,
            code: None,
            raw: None,
            hash: 0,
        }
    }

    fn sample() -> Vec<Record> {
        vec![
            delivery(Some("Bob@Example.com"), Outcome::Ok, "2026-01-05T10:00:00Z"),
            delivery(
                Some("alice@example.com"),
                Outcome::Ok,
                "2026-01-05T10:00:01Z",
            ),
            delivery(Some("bob@example.com"), Outcome::Ok, "2026-01-05T10:00:02Z"),
            // Not counted: a probe, a failure, a local part alone, outside the window.
            delivery(
                Some("carol@example.com"),
                Outcome::Probe,
                "2026-01-05T10:00:03Z",
            ),
            delivery(
                Some("dave@example.com"),
                Outcome::Failed(Severity::Hard),
                "2026-01-05T10:00:04Z",
            ),
            delivery(Some("erin"), Outcome::Ok, "2026-01-05T10:00:05Z"),
            delivery(
                Some("frank@example.com"),
                Outcome::Ok,
                "2026-01-07T10:00:00Z",
            ),
        ]
    }

    fn window() -> Window {
        Window {
            until: at("2026-01-06T00:00:00Z"),
            ..Window::default()
        }
    }

    #[test]
    fn a_folded_chunk_counts_as_its_deliveries_one_by_one() {
        let how = Fold {
            enabled: true,
            window: window(),
            redact: false,
        };
        let part = fold(&sample(), &how);
        assert!(part.folded);
        let mut merged = Diagnostics::default();
        part.merge_into(&mut merged);
        let mut one_by_one = Diagnostics::default();
        for r in sample() {
            if let Some(rcpt) = counted_recipient(&r, &how.window) {
                one_by_one.delivered(rcpt, None, r.time);
            }
        }
        assert_eq!(merged.delivered, one_by_one.delivered);
        assert_eq!(
            merged.delivered.entries(),
            vec![("alice@example.com", 1), ("bob@example.com", 2)]
        );
    }

    #[test]
    fn first_appearance_order_is_kept_for_the_cap() {
        let how = Fold {
            enabled: true,
            ..Fold::default()
        };
        let recs: Vec<Record> = ["z@example.com", "a@example.com", "z@example.com"]
            .iter()
            .map(|r| delivery(Some(r), Outcome::Ok, "2026-01-05T10:00:00Z"))
            .collect();
        let part = fold(&recs, &how);
        let order: Vec<(&str, u64)> = part.recipients.iter().map(|(k, n)| (&**k, *n)).collect();
        assert_eq!(order, vec![("z@example.com", 2), ("a@example.com", 1)]);
    }

    #[test]
    fn chunks_that_need_the_ordered_stage_are_not_folded() {
        let off = Fold::default();
        assert!(!fold(&sample(), &off).folded, "folding disabled");
        let mut recs = sample();
        let mut qmail = delivery(None, Outcome::Ok, "2026-01-05T10:00:00Z");
        qmail.fields.delivery = Some("251".into());
        recs.push(qmail);
        let on = Fold {
            enabled: true,
            ..Fold::default()
        };
        let part = fold(&recs, &on);
        assert!(!part.folded, "a delivery named only by its attempt id");
        let mut d = Diagnostics::default();
        part.merge_into(&mut d);
        assert_eq!(d.delivered.distinct(), 0);
    }
}
