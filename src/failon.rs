//! `--fail-on` thresholds for cron and monitoring: `unknown_user>100`,
//! `outbound:blocklisted>0`, `*>=1000`, `unknown_user.no_such_user>50/h`.
//! A threshold names a cause id or a prefix of ids (`unknown_user` covers
//! every `unknown_user.*`), or `*` for all failures; optionally a direction;
//! `>` or `>=` a number; and `/h` to compare the busiest hour instead of the
//! whole report.

use crate::event::Direction;
use crate::summary::Summary;
use std::collections::BTreeMap;

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    /// The text as given.
    pub spec: String,
    /// Only this direction, if given.
    pub direction: Option<Direction>,
    /// Cause id, prefix, or `*`.
    pub cause: String,
    /// `>=` rather than `>`.
    pub inclusive: bool,
    /// The limit.
    pub value: u64,
    /// Compare the busiest hour.
    pub per_hour: bool,
}

/// Parses a threshold; the error says what is wrong with it.
pub fn parse(spec: &str) -> Result<Threshold, String> {
    let bad = |why: &str| {
        format!("invalid --fail-on '{spec}': {why} (example: unknown_user>100, outbound:blocklisted>0, *>=500/h)")
    };
    let s = spec.trim();
    let (lhs, rest, inclusive) = if let Some((l, r)) = s.split_once(">=") {
        (l, r, true)
    } else if let Some((l, r)) = s.split_once('>') {
        (l, r, false)
    } else {
        return Err(bad("missing '>' or '>='"));
    };
    let (num, per_hour) = match rest.trim().strip_suffix("/h") {
        Some(n) => (n, true),
        None => (rest.trim(), false),
    };
    let value: u64 = num
        .trim()
        .parse()
        .map_err(|_| bad("the limit must be a whole number"))?;
    let lhs = lhs.trim();
    let (direction, cause) = match lhs.split_once(':') {
        Some((d, c)) => (
            Some(
                Direction::parse(d.trim())
                    .ok_or_else(|| bad("direction must be inbound, outbound or local"))?,
            ),
            c.trim(),
        ),
        None => (None, lhs),
    };
    if cause.is_empty()
        || !cause
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-*".contains(c))
    {
        return Err(bad("name a cause id, a prefix such as unknown_user, or *"));
    }
    Ok(Threshold {
        spec: s.to_string(),
        direction,
        cause: cause.to_string(),
        inclusive,
        value,
        per_hour,
    })
}

impl Threshold {
    fn covers(&self, cause: &str, direction: Direction) -> bool {
        self.direction.is_none_or(|d| d == direction)
            && (self.cause == "*"
                || cause == self.cause
                || cause
                    .strip_prefix(self.cause.as_str())
                    .is_some_and(|r| r.starts_with('.')))
    }

    /// The observed count (whole report, or the busiest hour).
    pub fn observed(&self, s: &Summary) -> u64 {
        let groups = s
            .groups
            .iter()
            .filter(|(k, _)| self.covers(&k.cause, k.direction));
        if self.per_hour {
            let mut hours: BTreeMap<i64, u64> = BTreeMap::new();
            for (_, g) in groups {
                for (h, n) in &g.hourly {
                    *hours.entry(*h).or_default() += n;
                }
            }
            hours.values().copied().max().unwrap_or(0)
        } else {
            groups.map(|(_, g)| g.count).sum()
        }
    }

    /// A message when the threshold is crossed.
    pub fn crossed(&self, s: &Summary) -> Option<String> {
        let n = self.observed(s);
        let hit = if self.inclusive {
            n >= self.value
        } else {
            n > self.value
        };
        hit.then(|| {
            format!(
                "threshold crossed: {} ({}{})",
                self.spec,
                n,
                if self.per_hour {
                    " in the busiest hour"
                } else {
                    ""
                }
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let t = parse("outbound:unknown_user>=10/h").expect("ok");
        assert_eq!(
            (
                t.direction,
                t.cause.as_str(),
                t.inclusive,
                t.value,
                t.per_hour
            ),
            (Some(Direction::Outbound), "unknown_user", true, 10, true)
        );
        assert_eq!(parse("*>0").expect("ok").cause, "*");
        for bad in ["unknown_user", "x>y", ">5", "sideways:x>1", "a b>1", "x>-1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefixes_match_at_dots_only() {
        let t = parse("unknown_user>1").expect("ok");
        assert!(t.covers("unknown_user.no_such_user", Direction::Inbound));
        assert!(t.covers("unknown_user", Direction::Inbound));
        assert!(!t.covers("unknown_user_x", Direction::Inbound));
        assert!(!parse("inbound:policy>1")
            .expect("ok")
            .covers("policy", Direction::Local));
    }
}
