//! `analyze --compare PREVIOUS.json`: what changed since a previous report,
//! cause by cause (and direction), counted in messages: causes that are new,
//! causes whose count at least doubled by a margin (spikes), and causes that
//! went away. The morning mail then says what changed, not only what is.

use crate::analysis::summary::Summary;
use crate::event::Direction;
use crate::patterns::CauseId;
use serde::Serialize;
use std::collections::BTreeMap;

/// A spike is at least this many times the previous count ...
const SPIKE_FACTOR: u64 = 2;
/// ... and at least this many messages more (a cause going from 1 to 2 is
/// not news).
const SPIKE_MARGIN: u64 = 5;

/// One cause and direction, before and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `new`, `spike` or `gone`.
    pub kind: &'static str,
    /// The cause.
    pub cause: CauseId,
    /// Who refused.
    pub direction: Direction,
    /// Messages in the previous report.
    pub before: u64,
    /// Messages now.
    pub now: u64,
}

fn by_cause(s: &Summary) -> BTreeMap<(CauseId, Direction), u64> {
    let mut m = BTreeMap::new();
    for (k, g) in &s.groups {
        *m.entry((k.cause, k.direction)).or_default() += g.messages();
    }
    m
}

/// The changes from `before` to `now`: new causes first, then spikes, then
/// causes gone, each by count (largest first), then by id.
pub fn compare(before: &Summary, now: &Summary) -> Vec<Change> {
    let (b, n) = (by_cause(before), by_cause(now));
    let mut out = Vec::new();
    for ((cause, direction), &count) in &n {
        let prev = b.get(&(*cause, *direction)).copied().unwrap_or(0);
        let kind = if prev == 0 {
            "new"
        } else if count >= prev.saturating_mul(SPIKE_FACTOR) && count - prev >= SPIKE_MARGIN {
            "spike"
        } else {
            continue;
        };
        out.push(Change {
            kind,
            cause: *cause,
            direction: *direction,
            before: prev,
            now: count,
        });
    }
    for ((cause, direction), &count) in &b {
        if !n.contains_key(&(*cause, *direction)) {
            out.push(Change {
                kind: "gone",
                cause: *cause,
                direction: *direction,
                before: count,
                now: 0,
            });
        }
    }
    let rank = |k: &str| ["new", "spike", "gone"].iter().position(|x| *x == k);
    out.sort_by(|x, y| {
        rank(x.kind)
            .cmp(&rank(y.kind))
            .then(y.now.max(y.before).cmp(&x.now.max(x.before)))
            .then(x.cause.cmp(&y.cause))
            .then(x.direction.cmp(&y.direction))
    });
    out
}

/// The changes as lines for people (text and Markdown reports).
pub fn lines(changes: &[Change], previous: &str) -> Vec<String> {
    let mut v = vec![format!("Since the previous report ({previous}):")];
    if changes.is_empty() {
        v.push("  no new causes, no spikes, none gone".to_string());
    }
    for c in changes {
        let what = format!("{} ({})", c.cause, c.direction.as_str());
        v.push(match c.kind {
            "new" => format!("  new:   {what}: {} message(s)", c.now),
            "spike" => format!("  spike: {what}: {} → {} messages", c.before, c.now),
            _ => format!("  gone:  {what} (was {} message(s))", c.before),
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{Group, GroupKey};
    use crate::event::Severity;

    fn summary(groups: &[(&str, Direction, u64)]) -> Summary {
        let mut s = Summary::default();
        for (cause, direction, n) in groups {
            let key = GroupKey {
                cause: CauseId::new(cause),
                direction: *direction,
                severity: Severity::Hard,
                mta: "postfix".into(),
            };
            let g = Group {
                count: *n,
                unqueued: *n,
                ..Default::default()
            };
            s.groups.insert(key, g);
        }
        s
    }

    #[test]
    fn new_spikes_and_gone_causes() {
        use Direction::*;
        let before = summary(&[("a", Inbound, 10), ("b", Outbound, 3), ("c", Inbound, 4)]);
        let now = summary(&[("a", Inbound, 12), ("b", Outbound, 9), ("d", Outbound, 1)]);
        let c = compare(&before, &now);
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.kind, c.cause.as_str(), c.before, c.now))
            .collect();
        assert_eq!(
            got,
            vec![
                ("new", "d", 0, 1),
                ("spike", "b", 3, 9),
                ("gone", "c", 4, 0)
            ],
            "a: 10 -> 12 is no spike"
        );
        assert!(compare(&now, &now).is_empty());
    }
}
