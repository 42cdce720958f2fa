//! `--fail-on` thresholds for cron and monitoring: `unknown_user>100`,
//! `outbound:blocklisted>0`, `*>=1000`, `unknown_user.no_such_user>50/h`,
//! `hard>10`, `outbound:soft:greylisted>=5`.
//! A threshold names a cause id or a prefix of ids (`unknown_user` covers
//! every `unknown_user.*`), or `*` for all failures; optionally a direction
//! and/or a severity before it (`outbound:`, `hard:`; alone, `hard` means
//! `hard:*`); `>` or `>=` a number; and `/h` to compare the busiest hour
//! instead of the whole report. Whole-report thresholds count failed
//! messages (a deferred message retried six times is one); `/h` counts the
//! attempts of the busiest hour.
//!
//! A threshold that can never fire is an error, not a silent no-op: an
//! unknown direction or severity is refused when parsed, and [`validate`]
//! refuses a cause no pattern set knows, naming the nearest valid one.

use crate::analysis::summary::Summary;
use crate::event::{Direction, Severity};
use crate::patterns::PatternSet;
use std::collections::BTreeMap;

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    /// The text as given.
    pub spec: String,
    /// Only this direction, if given.
    pub direction: Option<Direction>,
    /// Only this severity, if given.
    pub severity: Option<Severity>,
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
        format!("invalid --fail-on '{spec}': {why} (examples: hard>10, outbound:*>0, *>=500/h; cause ids: bouncelog patterns list)")
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
    let mut parts: Vec<&str> = lhs.split(':').map(str::trim).collect();
    // A lone direction or severity means all causes of it.
    let lone = parts.len() == 1
        && (Direction::parse(parts[0]).is_some() || Severity::parse(parts[0]).is_some());
    let cause = if lone { "*" } else { parts.pop().unwrap_or("") };
    let (mut direction, mut severity) = (None, None);
    for q in parts {
        if let Some(d) = Direction::parse(q).filter(|_| direction.is_none()) {
            direction = Some(d);
        } else if let Some(v) = Severity::parse(q).filter(|_| severity.is_none()) {
            severity = Some(v);
        } else {
            let why = match nearest(q, QUALIFIERS.iter().copied()) {
                Some(n) => format!("'{q}' is not a direction or severity; did you mean '{n}'?"),
                None => format!(
                    "'{q}' is not a direction (inbound, outbound, local) or severity (hard, soft)"
                ),
            };
            return Err(bad(&why));
        }
    }
    if cause.is_empty()
        || !cause
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-*".contains(c))
    {
        return Err(bad(
            "name a cause id or a prefix of ids (bouncelog patterns list), or *",
        ));
    }
    Ok(Threshold {
        spec: s.to_string(),
        direction,
        severity,
        cause: cause.to_string(),
        inclusive,
        value,
        per_hour,
    })
}

const QUALIFIERS: [&str; 5] = ["inbound", "outbound", "local", "hard", "soft"];

/// The candidate closest to `word` (Jaro-Winkler), if any is close enough to be a typo.
fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Checks that every threshold names a cause (or prefix of causes) that the
/// pattern set knows; the error names the nearest valid one.
pub fn validate(thresholds: &[Threshold], ps: &PatternSet) -> Result<(), String> {
    let mut names: Vec<String> = Vec::new();
    for c in &ps.causes {
        let mut prefix = String::new();
        for (i, part) in c.id.split('.').enumerate() {
            if i > 0 {
                prefix.push('.');
            }
            prefix.push_str(part);
            names.push(prefix.clone());
        }
    }
    names.sort();
    names.dedup();
    for t in thresholds {
        if t.cause == "*" || names.binary_search(&t.cause).is_ok() {
            continue;
        }
        let hint = match nearest(&t.cause, names.iter().map(String::as_str)) {
            Some(n) => format!("did you mean '{n}'?"),
            None => "`bouncelog patterns list` lists the causes".to_string(),
        };
        return Err(format!(
            "invalid --fail-on '{}': no cause '{}' ({hint})",
            t.spec, t.cause
        ));
    }
    Ok(())
}

impl Threshold {
    fn covers(&self, cause: &str, direction: Direction, severity: Severity) -> bool {
        self.direction.is_none_or(|d| d == direction)
            && self.severity.is_none_or(|v| v == severity)
            && (self.cause == "*"
                || cause == self.cause
                || cause
                    .strip_prefix(self.cause.as_str())
                    .is_some_and(|r| r.starts_with('.')))
    }

    /// The observed count: failed messages in the whole report, or attempts
    /// in the busiest hour.
    pub fn observed(&self, s: &Summary) -> u64 {
        let groups = s
            .groups
            .iter()
            .filter(|(k, _)| self.covers(&k.cause, k.direction, k.severity));
        if self.per_hour {
            let mut hours: BTreeMap<i64, u64> = BTreeMap::new();
            for (_, g) in groups {
                for (h, n) in &g.hourly {
                    *hours.entry(*h).or_default() += n;
                }
            }
            hours.values().copied().max().unwrap_or(0)
        } else {
            // Messages, not attempts: a deferred message retried six times is one.
            groups.map(|(_, g)| g.messages()).sum()
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
        let t = parse("outbound:family>=10/h").expect("ok");
        assert_eq!(
            (
                t.direction,
                t.cause.as_str(),
                t.inclusive,
                t.value,
                t.per_hour
            ),
            (Some(Direction::Outbound), "family", true, 10, true)
        );
        assert_eq!(parse("*>0").expect("ok").cause, "*");
        for bad in [
            "family",
            "x>y",
            ">5",
            "sideways:x>1",
            "a b>1",
            "x>-1",
            "hrad:x>1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let t = parse("hard>10").expect("ok");
        assert_eq!((t.severity, t.cause.as_str()), (Some(Severity::Hard), "*"));
        let t = parse("outbound:soft:some_cause>=5").expect("ok");
        assert_eq!(
            (t.direction, t.severity, t.cause.as_str()),
            (
                Some(Direction::Outbound),
                Some(Severity::Soft),
                "some_cause"
            )
        );
        assert!(parse("outbnd:x>1")
            .expect_err("bad")
            .contains("did you mean 'outbound'"));
    }

    #[test]
    fn prefixes_match_at_dots_only() {
        let t = parse("family>1").expect("ok");
        let h = Severity::Hard;
        assert!(t.covers("family.member", Direction::Inbound, h));
        assert!(t.covers("family", Direction::Inbound, h));
        assert!(!t.covers("family_x", Direction::Inbound, h));
        assert!(!parse("inbound:other_cause>1").expect("ok").covers(
            "other_cause",
            Direction::Local,
            h
        ));
        assert!(!parse("soft>1")
            .expect("ok")
            .covers("other_cause", Direction::Local, h));
    }
}
