//! Report formats. Each format lives in its own file and renders a finished
//! [`Summary`] (or, for ndjson, single events) to a
//! writer; reports never read files or parse logs.

pub mod csv;
pub mod document;
pub mod html;
pub mod json;
pub mod markdown;
pub mod merge;
pub mod ndjson;
pub mod prometheus;
pub mod sanitize;
pub mod text;

use crate::analysis::summary::{Group, GroupKey, Summary};
use crate::event::{Direction, Event, Severity};
use crate::patterns::PatternSet;
use std::io::{self, Write};

pub use crate::plural::noun;

/// Options shared by the summary formats.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Rows in each top list (recipients, domains, clients or remote hosts,
    /// senders of a detailed cause; unrecognised texts).
    pub top: usize,
    /// Causes shown in full (text and Markdown); the others get their row
    /// in the table only.
    pub details: usize,
    /// Draw tables with Unicode box characters (a terminal) or ASCII.
    pub unicode: bool,
}

/// Where failure events go as they are found: nowhere (the summary formats),
/// `--format ndjson`, or `--format csv --events`.
pub enum EventOut<'a> {
    /// Events are only summarised.
    None,
    /// One JSON object per line.
    Ndjson(&'a mut dyn Write),
    /// One CSV row per event.
    Csv(Box<csv::EventWriter<'a>>),
}

impl<'a> EventOut<'a> {
    /// Events to `w` as ndjson, as CSV rows, or not at all.
    pub fn new(w: &'a mut dyn Write, ndjson: bool, csv: bool) -> EventOut<'a> {
        match (ndjson, csv) {
            (true, _) => EventOut::Ndjson(w),
            (_, true) => EventOut::Csv(Box::new(csv::EventWriter::new(w))),
            _ => EventOut::None,
        }
    }

    /// Writes one event.
    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        match self {
            EventOut::None => Ok(()),
            EventOut::Ndjson(w) => ndjson::write_event(*w, e),
            EventOut::Csv(c) => c.write(e),
        }
    }

    /// Flushes; a CSV without events gets its header unless `quiet`.
    pub fn finish(self, quiet: bool) -> io::Result<()> {
        match self {
            EventOut::Csv(c) => c.finish(!quiet),
            _ => Ok(()),
        }
    }
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            top: 5,
            details: DEFAULT_DETAILS,
            unicode: false,
        }
    }
}

/// Causes shown in full by default.
pub const DEFAULT_DETAILS: usize = 3;

/// Groups in the order of the text and Markdown reports: most urgent first
/// (`urgency` of the cause's `act` entry for the direction, in
/// patterns/causes.toml), then most messages, then by key.
pub fn by_urgency<'a>(s: &'a Summary, ps: &PatternSet) -> Vec<(&'a GroupKey, &'a Group)> {
    let rank = |k: &GroupKey| {
        ps.cause_id(&k.cause)
            .map_or(crate::patterns::urgency_rank(None), |i| {
                ps.urgency(i, k.direction)
            })
    };
    let mut v: Vec<_> = s.groups.iter().collect();
    v.sort_by(|a, b| {
        rank(a.0)
            .cmp(&rank(b.0))
            .then_with(|| b.1.messages().cmp(&a.1.messages()))
            .then_with(|| b.1.count.cmp(&a.1.count))
            .then_with(|| a.0.cmp(b.0))
    });
    v
}

/// The urgency name of a group's cause in its direction.
pub fn urgency_of(ps: &PatternSet, k: &GroupKey) -> &'static str {
    let r = ps
        .cause_id(&k.cause)
        .map_or(crate::patterns::urgency_rank(None), |i| {
            ps.urgency(i, k.direction)
        });
    crate::patterns::URGENCIES.get(r).copied().unwrap_or("soon")
}

/// What became of the failed deliveries (outbound and local): messages
/// bounced (hard, not expired), deferred (soft) with their attempts, expired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Messages refused for good.
    pub bounced: u64,
    /// Messages deferred (temporary failures).
    pub deferred: u64,
    /// Delivery attempts of the deferred messages.
    pub deferral_attempts: u64,
    /// Messages that expired after deferrals.
    pub expired: u64,
}

/// The outcomes of a summary's deliveries (a message deferred for two
/// causes is one deferred message).
pub fn outcomes(s: &Summary) -> Outcomes {
    let of = |sev: Severity| {
        s.groups
            .iter()
            .filter(move |(k, _)| k.direction != Direction::Inbound && k.severity == sev)
            .map(|(_, g)| g)
    };
    let hard = crate::analysis::summary::distinct_messages(of(Severity::Hard));
    Outcomes {
        bounced: hard.saturating_sub(s.expired),
        deferred: crate::analysis::summary::distinct_messages(of(Severity::Soft)),
        deferral_attempts: of(Severity::Soft).map(|g| g.count).sum(),
        expired: s.expired,
    }
}

/// An input's name for people: standard input is `<stdin>`.
pub fn input_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// A row of the trends: failure attempts per hour of the day (0–23, in
/// `offset`) and per day (from the first day seen), of some groups.
#[derive(Debug, Clone)]
pub struct Trend {
    /// Attempts per hour of the day.
    pub hours: [u64; 24],
    /// Attempts per day, from `first_day`.
    pub days: Vec<u64>,
}

/// The first day (days since the epoch, in `offset`) and the number of days
/// covered by the groups' hourly counts, if any.
pub fn trend_days(s: &Summary, offset: i64) -> Option<(i64, usize)> {
    let day = |h: i64| (h * 3600 + offset).div_euclid(86_400);
    let hours = s.groups.values().flat_map(|g| g.hourly.keys().copied());
    let (lo, hi) = hours.fold((i64::MAX, i64::MIN), |(a, b), h| (a.min(h), b.max(h)));
    (lo <= hi).then(|| (day(lo), (day(hi) - day(lo) + 1) as usize))
}

/// The trends a report shows: the days covered, then a row for all failures
/// and one for each of the `causes` largest groups (none when there is only
/// one group, which the first row already shows).
#[derive(Debug)]
pub struct Trends<'a> {
    /// First day, days since the epoch in the offset.
    pub first_day: i64,
    /// Days covered.
    pub days: usize,
    /// `None` for all failures, then the largest groups.
    pub rows: Vec<(Option<&'a GroupKey>, Trend)>,
}

/// The trends of `groups` in the time zone `offset` (seconds east of UTC),
/// or `None` when the failures span fewer than two hours.
pub fn trends<'a>(
    s: &Summary,
    groups: &[(&'a GroupKey, &'a Group)],
    offset: i64,
    causes: usize,
) -> Option<Trends<'a>> {
    let (first_day, days) = trend_days(s, offset)?;
    let hours: std::collections::BTreeSet<i64> = s
        .groups
        .values()
        .flat_map(|g| g.hourly.keys().copied())
        .collect();
    if hours.len() < 2 {
        return None;
    }
    let mut big: Vec<&(&GroupKey, &Group)> = groups.iter().collect();
    big.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    let all = trend(groups.iter().map(|(_, g)| *g), offset, first_day, days);
    let mut rows = vec![(None, all)];
    for (k, g) in big.into_iter().take(causes) {
        rows.push((
            Some(*k),
            trend(std::iter::once(*g), offset, first_day, days),
        ));
    }
    if rows.len() == 2 {
        rows.truncate(1);
    }
    Some(Trends {
        first_day,
        days,
        rows,
    })
}

/// The trend of some groups (see [`Trend`]); `days` at most 366.
pub fn trend<'a>(
    groups: impl Iterator<Item = &'a Group>,
    offset: i64,
    first_day: i64,
    days: usize,
) -> Trend {
    let days = days.min(366);
    let mut t = Trend {
        hours: [0; 24],
        days: vec![0; days],
    };
    for g in groups {
        for (h, n) in &g.hourly {
            let secs = h * 3600 + offset;
            t.hours[secs.div_euclid(3600).rem_euclid(24) as usize] += n;
            let d = secs.div_euclid(86_400) - first_day;
            if let Some(x) = usize::try_from(d).ok().and_then(|d| t.days.get_mut(d)) {
                *x += n;
            }
        }
    }
    t
}

/// A sparkline of counts: Unicode blocks (`·` for none) or an ASCII ramp
/// (`.` for none); any nonzero count shows.
pub fn sparkline(v: &[u64], unicode: bool) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const ASCII: [char; 8] = [',', ':', '-', '=', '+', '*', '#', '@'];
    let (ramp, none) = if unicode {
        (BLOCKS, '·')
    } else {
        (ASCII, '.')
    };
    let max = v.iter().copied().max().unwrap_or(0).max(1);
    v.iter()
        .map(|&n| {
            if n == 0 {
                none
            } else {
                ramp[((n * 8).div_ceil(max) as usize).clamp(1, 8) - 1]
            }
        })
        .collect()
}

/// Distinct recipients of a group, and whether the count is exact.
pub fn distinct_recipients(g: &Group) -> (usize, bool) {
    (g.recipients.distinct(), !g.recipients.capped())
}

#[cfg(test)]
mod tests {
    use super::noun;

    #[test]
    fn sparkline_shows_every_nonzero_count() {
        assert_eq!(super::sparkline(&[0, 1, 100, 50], true), "·▁█▄");
        assert_eq!(super::sparkline(&[0, 1, 100, 50], false), ".,@=");
        assert_eq!(super::sparkline(&[0, 0], false), "..");
    }

    #[test]
    fn one_is_singular() {
        assert_eq!(noun(1, "line", "lines"), "line");
        assert_eq!(noun(0, "line", "lines"), "lines");
        assert_eq!(noun(2, "minute", "minutes"), "minutes");
    }
}
