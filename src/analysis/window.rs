//! Time windows for reports (`--since`, `--until`, `--day`): parsing the specs
//! a cron user writes (`today`, `yesterday`, `-24h`, `-7d`, a date, an RFC 3339
//! time) against a given "now", and testing event times against the window.
//!
//! [`coverage`] tells whether the lines read reach into the window at all,
//! so that a report of a past day with no evidence is not taken for a clean
//! day.
//!
//! Specs are read in the zone given ([`Zone`]: `--tz`, the system's zone by
//! default), the zone in which syslog wrote its year-less stamps.

use crate::parse::syslog::Zone;
use chrono::{DateTime, Days, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// A half-open interval of time: `since <= t < until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Start (inclusive).
    pub since: Option<DateTime<FixedOffset>>,
    /// End (exclusive).
    pub until: Option<DateTime<FixedOffset>>,
}

impl Window {
    /// True when no bound is set.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether an event time falls in the window. With a bound set, an
    /// event without a time is outside (it cannot be shown to be inside).
    pub fn contains(&self, t: Option<DateTime<FixedOffset>>) -> bool {
        if self.is_open() {
            return true;
        }
        let Some(t) = t else { return false };
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

fn local_midnight(d: NaiveDate, zone: &Zone) -> Result<DateTime<FixedOffset>, String> {
    crate::parse::syslog::local(d.and_time(NaiveTime::MIN), zone)
        .ok_or_else(|| format!("{d}: no such local time"))
}

/// A named or dated day: `today`, `yesterday` or `YYYY-MM-DD` (`now` is on
/// the zone's clock).
fn day_of(spec: &str, now: DateTime<FixedOffset>) -> Option<NaiveDate> {
    let today = now.date_naive();
    match spec {
        "today" => Some(today),
        "yesterday" => today.checked_sub_days(Days::new(1)),
        _ => NaiveDate::parse_from_str(spec, "%Y-%m-%d").ok(),
    }
}

/// Parses a window bound. A day (`today`, `yesterday`, `2025-03-10`) means its
/// start for `--since` and its end (the next midnight) for `--until`, so
/// `--since yesterday --until yesterday` is all of yesterday. Days and times
/// without an offset are read in `zone`.
pub fn parse_bound(
    spec: &str,
    now: DateTime<Utc>,
    zone: &Zone,
    is_end: bool,
) -> Result<DateTime<FixedOffset>, String> {
    let spec = spec.trim();
    let now = zone.fixed(now);
    if spec == "now" {
        return Ok(now);
    }
    if let Some(d) = day_of(spec, now) {
        let d = if is_end {
            d.checked_add_days(Days::new(1))
                .ok_or("date out of range")?
        } else {
            d
        };
        return local_midnight(d, zone);
    }
    if let Some(rel) = spec.strip_prefix('-') {
        let split = rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len());
        let (n, unit) = rel.split_at(split);
        if let Ok(n) = n.parse::<i64>() {
            let d = match unit {
                "s" => Duration::try_seconds(n),
                "m" | "min" => Duration::try_minutes(n),
                "h" => Duration::try_hours(n),
                "d" => Duration::try_days(n),
                "w" => Duration::try_weeks(n),
                _ => None,
            };
            if let Some(d) = d {
                return Ok(zone.fixed(now - d));
            }
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(spec) {
        return Ok(t);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(spec, f) {
            return crate::parse::syslog::local(n, zone)
                .ok_or_else(|| format!("{spec}: no such local time"));
        }
    }
    Err(format!(
        "invalid time '{spec}': use today, yesterday, now, -24h, -7d, 2025-03-10, 2025-03-10T09:00 or an RFC 3339 time"
    ))
}

/// The window of one day (`--day yesterday`) in `zone`.
pub fn day(spec: &str, now: DateTime<Utc>, zone: &Zone) -> Result<Window, String> {
    let d = day_of(spec.trim(), zone.fixed(now))
        .ok_or_else(|| format!("invalid day '{spec}': use today, yesterday or YYYY-MM-DD"))?;
    Ok(Window {
        since: Some(local_midnight(d, zone)?),
        until: Some(local_midnight(
            d.checked_add_days(Days::new(1))
                .ok_or("date out of range")?,
            zone,
        )?),
    })
}

/// The window of `--day`, or of `--since` and `--until`, read in `zone`; the
/// error is one line.
pub fn from_args(
    day_spec: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
    now: DateTime<Utc>,
    zone: &Zone,
) -> Result<Window, String> {
    if let Some(d) = day_spec {
        return day(d, now, zone);
    }
    let w = Window {
        since: since
            .map(|s| parse_bound(s, now, zone, false))
            .transpose()?,
        until: until.map(|s| parse_bound(s, now, zone, true)).transpose()?,
    };
    if let (Some(s), Some(u)) = (w.since, w.until) {
        if s >= u {
            return Err(format!(
                "--since ({}) is not before --until ({})",
                s.to_rfc3339(),
                u.to_rfc3339()
            ));
        }
    }
    Ok(w)
}

/// How much of a window the dated lines read cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// From (about) its start to (about) its end.
    Full,
    /// Lines inside it, but the first starts well after its start or the
    /// last ends well before its (past) end: a rotated file may be missing.
    Partial,
    /// No dated line inside it: the report is no evidence of a clean period.
    None,
}

impl Coverage {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Full => "full",
            Coverage::Partial => "partial",
            Coverage::None => "none",
        }
    }
}

/// The most a window's start or (past) end may lie beyond the lines read
/// and still count as covered (quiet hours happen).
pub const COVERAGE_SLACK_MINUTES: i64 = 60;

/// The coverage of a window by lines dated `first`..=`last`; `None` for an
/// unbounded window. The end counts only where it has passed (`now`).
pub fn coverage(
    w: &Window,
    first: Option<DateTime<FixedOffset>>,
    last: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> Option<Coverage> {
    if w.is_open() {
        return None;
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Some(Coverage::None);
    };
    let before = w.since.is_some_and(|s| last < s);
    let after = w.until.is_some_and(|u| first >= u);
    if before || after {
        return Some(Coverage::None);
    }
    let slack = Duration::minutes(COVERAGE_SLACK_MINUTES);
    let late_start = w.since.is_some_and(|s| first - s > slack);
    let early_end = w
        .until
        .map(|u| u.min(now))
        .is_some_and(|u| u - last > slack);
    Some(if late_start || early_end {
        Coverage::Partial
    } else {
        Coverage::Full
    })
}

/// Whether the window has ended (a past day, an `--until` before now).
pub fn is_past(w: &Window, now: DateTime<FixedOffset>) -> bool {
    w.until.is_some_and(|u| u <= now)
}

/// What to say on stderr about a past window the lines read do not cover
/// (and whether it is not covered at all), times shown in `zone`; nothing for
/// other windows.
pub fn coverage_note(
    s: &crate::analysis::summary::Summary,
    now: DateTime<FixedOffset>,
    zone: &Zone,
) -> Option<(String, bool)> {
    if !is_past(&s.window, now) {
        return None;
    }
    let c = coverage(&s.window, s.first_line, s.last_line, now)?;
    let fmt = |t: Option<DateTime<FixedOffset>>| {
        t.map(|t| zone.fixed(t).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "the start".into())
    };
    let window = format!(
        "{} to {}",
        fmt(s.window.since),
        s.window
            .until
            .map(|u| zone.fixed(u).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "now".into())
    );
    let read = match (s.first_line, s.last_line) {
        (Some(_), Some(_)) => format!(
            "the lines read run from {} to {}",
            fmt(s.first_line),
            fmt(s.last_line)
        ),
        _ => "no dated line was read".to_string(),
    };
    match c {
        Coverage::Full => None,
        Coverage::None => Some((
            format!("no input reaches into the window ({window}): {read}; this is no evidence of a clean period (give the rotated log that covers it, e.g. mail.log.1)"),
            true,
        )),
        Coverage::Partial => Some((
            format!("warning: the inputs cover only part of the window ({window}): {read}; a rotated log may be missing"),
            false,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> Zone {
        Zone::named("Europe/Paris").expect("zone")
    }

    /// 06:30 on 1 January 2026 in [`zone`].
    fn now() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(5, 30, 0))
            .expect("t")
            .and_utc()
    }

    #[test]
    fn named_days_and_relative_times() {
        let n = now();
        let y = day("yesterday", n, &zone()).expect("day");
        assert_eq!(
            y.since.expect("s").naive_local().to_string(),
            "2025-12-31 00:00:00"
        );
        assert_eq!(
            y.until.expect("u").naive_local().to_string(),
            "2026-01-01 00:00:00"
        );
        assert_eq!(
            parse_bound("yesterday", n, &zone(), true).expect("b"),
            y.until.expect("u")
        );
        assert_eq!(
            parse_bound("-24h", n, &zone(), false)
                .expect("b")
                .naive_local()
                .to_string(),
            "2025-12-31 06:30:00"
        );
        assert_eq!(
            parse_bound("-7d", n, &zone(), false)
                .expect("b")
                .naive_local()
                .to_string(),
            "2025-12-25 06:30:00"
        );
        assert_eq!(
            parse_bound("2025-03-10T09:14:08+01:00", n, &zone(), false)
                .expect("b")
                .to_rfc3339(),
            "2025-03-10T09:14:08+01:00"
        );
        assert_eq!(
            parse_bound("2025-03-10", n, &zone(), true)
                .expect("b")
                .naive_local()
                .to_string(),
            "2025-03-11 00:00:00"
        );
    }

    #[test]
    fn bad_specs_are_errors() {
        for s in ["tomorrowish", "-5x", "2025-13-01", "", "-h"] {
            assert!(parse_bound(s, now(), &zone(), false).is_err(), "{s}");
        }
        assert!(day("-24h", now(), &zone()).is_err());
    }

    #[test]
    fn coverage_of_a_day() {
        let n = zone().fixed(now());
        let w = day("yesterday", now(), &zone()).expect("w");
        let (s, u) = (w.since.expect("s"), w.until.expect("u"));
        let m = Duration::minutes;
        assert_eq!(coverage(&Window::default(), None, None, n), None);
        assert_eq!(coverage(&w, None, None, n), Some(Coverage::None));
        assert_eq!(
            coverage(&w, Some(u), Some(u + m(600)), n),
            Some(Coverage::None)
        );
        assert_eq!(
            coverage(&w, Some(s - m(600)), Some(s - m(1)), n),
            Some(Coverage::None)
        );
        assert_eq!(
            coverage(&w, Some(s + m(10)), Some(u - m(10)), n),
            Some(Coverage::Full)
        );
        assert_eq!(
            coverage(&w, Some(s - m(10)), Some(u + m(10)), n),
            Some(Coverage::Full)
        );
        assert_eq!(
            coverage(&w, Some(s + m(385)), Some(u + m(10)), n),
            Some(Coverage::Partial)
        );
        assert!(is_past(&w, n));
        // Today's window has not ended: a log up to now covers it.
        let t = day("today", now(), &zone()).expect("w");
        assert!(!is_past(&t, n));
        assert_eq!(coverage(&t, t.since, Some(n), n), Some(Coverage::Full));
    }

    #[test]
    fn window_is_half_open() {
        let n = now();
        let w = day("yesterday", n, &zone()).expect("w");
        assert!(w.contains(w.since));
        assert!(!w.contains(w.until));
        assert!(!w.contains(None));
        assert!(Window::default().contains(None));
    }
}
