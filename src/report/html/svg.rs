//! The two charts of the HTML report as inline SVG: failures per hour (per
//! day or week over long spans), stacked by direction, and failures per
//! cause as horizontal bars. Every number drawn is also in a table of the
//! page; labels from pattern files are escaped like log text.

use super::{colour, cut, num, text, DIRECTIONS, FONT};
use crate::analysis::summary::{Group, GroupKey};
use crate::event::Direction;
use crate::report::noun;
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Most bars in the time chart; longer spans are drawn per day or week.
const MAX_BARS: i64 = 400;
/// Most causes drawn in the cause chart (the rest are counted below it).
const MAX_CAUSE_BARS: usize = 12;

/// Failures per bucket and direction, over the whole span of the groups.
struct Series {
    /// Hours per bar (1, 24, 168 or more).
    hours: i64,
    /// First bucket's start, in hours since the epoch (local to `offset`).
    start: i64,
    /// Per bar: failures per direction (index as [`DIRECTIONS`]).
    bars: Vec<[u64; 3]>,
    /// Offset the labels are shown in (that of the first event).
    offset: FixedOffset,
}

fn series(groups: &[(&GroupKey, &Group)]) -> Option<Series> {
    let offset = groups
        .iter()
        .filter_map(|(_, g)| g.first)
        .min()
        .map(|t| *t.offset())?;
    let shift = i64::from(offset.local_minus_utc()).div_euclid(3600);
    let mut all: BTreeMap<i64, [u64; 3]> = BTreeMap::new();
    for (k, g) in groups {
        let d = DIRECTIONS
            .iter()
            .position(|d| *d == k.direction)
            .unwrap_or(0);
        for (hour, n) in &g.hourly {
            all.entry(hour + shift).or_default()[d] += n;
        }
    }
    let (lo, hi) = (*all.keys().next()?, *all.keys().next_back()?);
    let span = hi - lo + 1;
    let hours = [1, 24, 168]
        .into_iter()
        .find(|b| span.div_euclid(*b) < MAX_BARS)
        .unwrap_or_else(|| (span + MAX_BARS - 1) / MAX_BARS);
    let start = lo.div_euclid(hours) * hours;
    let n = (hi.div_euclid(hours) - start.div_euclid(hours) + 1) as usize;
    let mut bars = vec![[0u64; 3]; n];
    for (hour, c) in all {
        let i = ((hour - start).div_euclid(hours)) as usize;
        for (b, c) in bars[i].iter_mut().zip(c) {
            *b += c;
        }
    }
    Some(Series {
        hours,
        start,
        bars,
        offset,
    })
}

/// A round upper bound of the chart's scale: 1, 2 or 5 × 10ⁿ at or above `n`.
fn scale(n: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * p >= n {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

pub(super) fn time_chart(h: &mut String, groups: &[(&GroupKey, &Group)]) {
    let Some(se) = series(groups) else {
        let _ = writeln!(h, "<p>No event has a time stamp.</p>");
        return;
    };
    let (width, height, left, bottom, top) = (720.0, 190.0, 44.0, 34.0, 12.0);
    let plot_w = width - left - 10.0;
    let plot_h = height - top - bottom;
    let max = scale(
        se.bars
            .iter()
            .map(|b| b.iter().sum())
            .max()
            .unwrap_or(0)
            .max(1),
    );
    let n = se.bars.len();
    let bw = plot_w / n as f64;
    let unit = match se.hours {
        1 => "hour",
        24 => "day",
        168 => "week",
        _ => "period",
    };
    let label_of = |i: usize| -> DateTime<FixedOffset> {
        let secs = (se.start + i as i64 * se.hours) * 3600 - i64::from(se.offset.local_minus_utc());
        DateTime::from_timestamp(secs, 0)
            .unwrap_or_default()
            .with_timezone(&se.offset)
    };
    let fmt = if se.hours == 1 {
        "%m-%d %H:00"
    } else {
        "%Y-%m-%d"
    };
    // The busiest bar in words, for a reader whose mail client draws no SVG
    // (the first of equals).
    let (busy, busy_n) = se
        .bars
        .iter()
        .enumerate()
        .map(|(i, b)| (i, b.iter().sum::<u64>()))
        .fold((0, 0), |best, x| if x.1 > best.1 { x } else { best });
    let _ = writeln!(
        h,
        "<p class=\"m\" style=\"margin:0 0 4px\">Failures per {unit} (UTC{}), \
         {} inbound, {} outbound, {} local. Busiest {unit}: {} with {} {}.</p>",
        se.offset,
        legend(Direction::Inbound),
        legend(Direction::Outbound),
        legend(Direction::Local),
        label_of(busy).format(if se.hours == 1 {
            "%Y-%m-%d %H:00"
        } else {
            "%Y-%m-%d"
        }),
        num(busy_n),
        noun(busy_n, "failure", "failures")
    );
    let _ = writeln!(
        h,
        "<svg role=\"img\" aria-label=\"Failures per {unit}\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" style=\"max-width:100%;height:auto;{FONT}\">"
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h * (1.0 - frac);
        let _ = writeln!(
            h,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
            width - 10.0,
            left - 4.0,
            y + 4.0,
            num((max as f64 * frac).round() as u64)
        );
    }
    for (i, b) in se.bars.iter().enumerate() {
        let total: u64 = b.iter().sum();
        if total == 0 {
            continue;
        }
        let x = left + i as f64 * bw;
        let mut y = top + plot_h;
        let _ = write!(
            h,
            "<g><title>{}: {} {}</title>",
            label_of(i).format(if se.hours == 1 {
                "%Y-%m-%d %H:00"
            } else {
                "%Y-%m-%d"
            }),
            num(total),
            noun(total, "failure", "failures")
        );
        for (d, c) in DIRECTIONS.iter().zip(b) {
            if *c == 0 {
                continue;
            }
            let bh = plot_h * *c as f64 / max as f64;
            y -= bh;
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"/>",
                (bw - 1.0).max(1.0),
                colour(*d)
            );
        }
        let _ = writeln!(h, "</g>");
    }
    let labels = n.clamp(1, 6);
    for j in 0..labels {
        let i = if labels == 1 {
            0
        } else {
            j * (n - 1) / (labels - 1)
        };
        let x = left + (i as f64 + 0.5) * bw;
        let anchor = match j {
            0 => "start",
            j if j + 1 == labels && labels > 1 => "end",
            _ => "middle",
        };
        let x = match anchor {
            "start" => left,
            "end" => width - 10.0,
            _ => x,
        };
        let _ = writeln!(
            h,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#57606a\">{}</text>",
            height - bottom + 16.0,
            label_of(i).format(fmt)
        );
    }
    let _ = writeln!(h, "</svg>");
}

fn legend(d: Direction) -> String {
    format!(
        "<span style=\"display:inline-block;width:10px;height:10px;background:{}\"></span>",
        colour(d)
    )
}

pub(super) fn cause_chart(h: &mut String, groups: &[(&GroupKey, &Group)]) {
    let shown = groups.len().min(MAX_CAUSE_BARS);
    let rest: u64 = groups[shown..].iter().map(|(_, g)| g.count).sum();
    let rows = shown;
    let (width, row, label_w) = (720.0, 22.0, 300.0);
    let bar_w = width - label_w - 60.0;
    let height = row * rows as f64 + 4.0;
    let max = groups
        .iter()
        .map(|(_, g)| g.count)
        .max()
        .unwrap_or(1)
        .max(1);
    let _ = writeln!(
        h,
        "<svg role=\"img\" aria-label=\"Failures by cause\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" style=\"max-width:100%;height:auto;{FONT}\">"
    );
    let mut bar = |i: usize, label: String, tip: String, count: u64, fill: &str| {
        let y = i as f64 * row + 2.0;
        let bw = (bar_w * count as f64 / max as f64).max(1.0);
        let _ = writeln!(
            h,
            "<g><title>{tip}: {}</title><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" \
             fill=\"#1f2328\">{label}</text><rect x=\"{label_w}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" \
             fill=\"{fill}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1f2328\">{}</text></g>",
            num(count),
            label_w - 6.0,
            y + 14.0,
            y + 3.0,
            row - 6.0,
            label_w + bw + 4.0,
            y + 14.0,
            num(count)
        );
    };
    for (i, (k, g)) in groups[..shown].iter().enumerate() {
        let id = format!("{} ({})", k.cause, k.direction.as_str());
        bar(
            i,
            cut(&id, 44),
            text(&format!("{id}, {}, {}", k.severity.as_str(), k.mta)),
            g.count,
            colour(k.direction),
        );
    }
    let _ = writeln!(h, "</svg>");
    if rest > 0 {
        let n = (groups.len() - shown) as u64;
        let _ = writeln!(
            h,
            "<p class=\"m\" style=\"margin:2px 0 0\">and {} other {} with {} {} (in the table).</p>",
            num(n),
            noun(n, "cause", "causes"),
            num(rest),
            noun(rest, "failure", "failures")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::scale;

    #[test]
    fn scale_is_round() {
        assert_eq!(scale(1), 1);
        assert_eq!(scale(3), 5);
        assert_eq!(scale(7), 10);
        assert_eq!(scale(101), 200);
    }
}
