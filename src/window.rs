//! Time windows for reports (`--since`, `--until`, `--day`): parsing the specs
//! a cron user writes (`today`, `yesterday`, `-24h`, `-7d`, a date, an RFC 3339
//! time) against a given "now", and testing event times against the window.
//!
//! Specs are read in the local time zone (`TZ`, or `--tz`, which sets it), the
//! zone in which syslog wrote its year-less stamps.

use chrono::{DateTime, Days, Duration, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime};

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

fn local_midnight(d: NaiveDate) -> Result<DateTime<FixedOffset>, String> {
    crate::syslog::local(d.and_time(NaiveTime::MIN))
        .ok_or_else(|| format!("{d}: no such local time"))
}

/// A named or dated day: `today`, `yesterday` or `YYYY-MM-DD`.
fn day_of(spec: &str, now: DateTime<Local>) -> Option<NaiveDate> {
    let today = now.date_naive();
    match spec {
        "today" => Some(today),
        "yesterday" => today.checked_sub_days(Days::new(1)),
        _ => NaiveDate::parse_from_str(spec, "%Y-%m-%d").ok(),
    }
}

/// Parses a window bound. A day (`today`, `yesterday`, `2025-03-10`) means its
/// start for `--since` and its end (the next midnight) for `--until`, so
/// `--since yesterday --until yesterday` is all of yesterday.
pub fn parse_bound(
    spec: &str,
    now: DateTime<Local>,
    is_end: bool,
) -> Result<DateTime<FixedOffset>, String> {
    let spec = spec.trim();
    if spec == "now" {
        return Ok(now.fixed_offset());
    }
    if let Some(d) = day_of(spec, now) {
        let d = if is_end {
            d.checked_add_days(Days::new(1))
                .ok_or("date out of range")?
        } else {
            d
        };
        return local_midnight(d);
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
                return Ok((now - d).fixed_offset());
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
            return crate::syslog::local(n).ok_or_else(|| format!("{spec}: no such local time"));
        }
    }
    Err(format!(
        "invalid time '{spec}': use today, yesterday, now, -24h, -7d, 2025-03-10, 2025-03-10T09:00 or an RFC 3339 time"
    ))
}

/// The window of one day (`--day yesterday`).
pub fn day(spec: &str, now: DateTime<Local>) -> Result<Window, String> {
    let d = day_of(spec.trim(), now)
        .ok_or_else(|| format!("invalid day '{spec}': use today, yesterday or YYYY-MM-DD"))?;
    Ok(Window {
        since: Some(local_midnight(d)?),
        until: Some(local_midnight(
            d.checked_add_days(Days::new(1))
                .ok_or("date out of range")?,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Local> {
        // Tests run with the machine's zone; use a fixed local wall time.
        Local
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(2026, 1, 1)
                    .and_then(|d| d.and_hms_opt(6, 30, 0))
                    .expect("t"),
            )
            .earliest()
            .expect("t")
    }

    #[test]
    fn named_days_and_relative_times() {
        let n = now();
        let y = day("yesterday", n).expect("day");
        assert_eq!(
            y.since.expect("s").naive_local().to_string(),
            "2025-12-31 00:00:00"
        );
        assert_eq!(
            y.until.expect("u").naive_local().to_string(),
            "2026-01-01 00:00:00"
        );
        assert_eq!(
            parse_bound("yesterday", n, true).expect("b"),
            y.until.expect("u")
        );
        assert_eq!(
            parse_bound("-24h", n, false)
                .expect("b")
                .naive_local()
                .to_string(),
            "2025-12-31 06:30:00"
        );
        assert_eq!(
            parse_bound("-7d", n, false)
                .expect("b")
                .naive_local()
                .to_string(),
            "2025-12-25 06:30:00"
        );
        assert_eq!(
            parse_bound("2025-03-10T09:14:08+01:00", n, false)
                .expect("b")
                .to_rfc3339(),
            "2025-03-10T09:14:08+01:00"
        );
        assert_eq!(
            parse_bound("2025-03-10", n, true)
                .expect("b")
                .naive_local()
                .to_string(),
            "2025-03-11 00:00:00"
        );
    }

    #[test]
    fn bad_specs_are_errors() {
        for s in ["tomorrowish", "-5x", "2025-13-01", "", "-h"] {
            assert!(parse_bound(s, now(), false).is_err(), "{s}");
        }
        assert!(day("-24h", now()).is_err());
    }

    #[test]
    fn window_is_half_open() {
        let n = now();
        let w = day("yesterday", n).expect("w");
        assert!(w.contains(w.since));
        assert!(!w.contains(w.until));
        assert!(!w.contains(None));
        assert!(Window::default().contains(None));
    }
}
