//! Time stamps decoded by hand: the clock and date fields of syslog, Exim,
//! tai64nlocal and Exchange stamps, TAI64N labels (hex) and splogger's epoch
//! seconds are read byte by byte, and chrono's format parser is kept only as
//! the fallback for forms the hand decoders do not take (a leap second, a
//! one-digit field, a custom `time_format`), so both always agree.
//!
//! Also here: the time of an MTA's own line prefix ([`native_stamp`]; the
//! prefix itself is read by `native`, re-exported as [`native_prefix`]), the year inference of RFC 3164 stamps ([`resolve`]),
//! the local-time
//! conversion with its per-hour cache ([`local`]).

use super::syslog::{bsd_month, Header, StampForm};
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};

pub use super::native::native_prefix;
pub use crate::zone::Zone;

/// The chrono format that [`date_time`] decodes by hand.
pub const ISO_SPACE: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Two ASCII digits at `b[i..i + 2]`.
fn two(b: &[u8], i: usize) -> Option<u32> {
    let (h, l) = (*b.get(i)?, *b.get(i + 1)?);
    (h.is_ascii_digit() && l.is_ascii_digit())
        .then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
}

/// `HH:MM:SS` in exactly that form (no leap second), by hand.
fn clock(b: &[u8]) -> Option<NaiveTime> {
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    NaiveTime::from_hms_opt(two(b, 0)?, two(b, 3)?, two(b, 6)?)
}

/// `HH:MM:SS`, by hand in the common exact form (chrono's format parser
/// was a tenth of the parse time), by chrono otherwise.
pub(crate) fn hms(t: &str) -> Option<NaiveTime> {
    clock(t.as_bytes()).or_else(|| NaiveTime::parse_from_str(t, "%H:%M:%S").ok())
}

/// A fraction of a second written after the dot (1–9 digits), in nanoseconds.
fn fraction(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = b.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    Some(n * 10u32.pow(9 - b.len() as u32))
}

/// `YYYY-MM-DD<sep>HH:MM:SS[.fffffffff]`, the whole of `b`, by hand.
fn ymd_hms(b: &[u8], sep: u8) -> Option<NaiveDateTime> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != sep {
        return None;
    }
    let year = two(b, 0)? * 100 + two(b, 2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, two(b, 5)?, two(b, 8)?)?;
    let nanos = match b.get(19) {
        None => 0,
        Some(b'.') => fraction(&b[20..])?,
        Some(_) => return None,
    };
    let t = chrono::Timelike::with_nanosecond(&clock(&b[11..19])?, nanos)?;
    Some(date.and_time(t))
}

/// A date and time in `format`: `YYYY-MM-DD HH:MM:SS[.f]` (the [`ISO_SPACE`]
/// format of Exim, syslog-ng and tai64nlocal) by hand, anything else by chrono.
pub fn date_time(s: &str, format: &str) -> Option<NaiveDateTime> {
    if format == ISO_SPACE {
        if let Some(t) = ymd_hms(s.as_bytes(), b' ') {
            return Some(t);
        }
    }
    NaiveDateTime::parse_from_str(s, format).ok()
}

/// An RFC 3339 stamp: `YYYY-MM-DDTHH:MM:SS[.f]Z` (Exchange, Docker) by hand,
/// other offsets and forms by chrono.
pub fn rfc3339(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Some(body) = s.strip_suffix('Z') {
        if let Some(t) = ymd_hms(body.as_bytes(), b'T') {
            return Some(t.and_utc().fixed_offset());
        }
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// A TAI64N label's 24 hex digits as UTC (label − 2^62 − 10, as libtai defines it).
pub fn tai64n(h: &[u8]) -> Option<DateTime<FixedOffset>> {
    fn hex(b: &[u8]) -> Option<u64> {
        b.iter().try_fold(0u64, |n, &c| {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            Some(n << 4 | u64::from(d))
        })
    }
    let secs = hex(h.get(..16)?)?.checked_sub((1u64 << 62) + 10)?;
    let nanos = u32::try_from(hex(h.get(16..24)?)?).ok()?;
    DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos).map(|t| t.fixed_offset())
}

/// `seconds[.fraction]` since 1970 (splogger).
pub fn epoch(e: &[u8]) -> Option<DateTime<FixedOffset>> {
    let (s, frac) = match memchr::memchr(b'.', e) {
        Some(i) => (&e[..i], &e[i + 1..]),
        None => (e, &b""[..]),
    };
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = s.iter().fold(0i64, |n, &c| n * 10 + i64::from(c - b'0'));
    // Digits past the ninth are below a nanosecond.
    let frac = &frac[..frac.len().min(9)];
    let nanos = if frac.is_empty() { 0 } else { fraction(frac)? };
    DateTime::from_timestamp(secs, nanos).map(|t| t.fixed_offset())
}

/// A `+0100`/`-0500` offset.
fn offset(z: &[u8]) -> Option<FixedOffset> {
    if z.len() < 5 {
        return None;
    }
    let secs = i32::try_from(two(z, 1)? * 3600 + two(z, 3)? * 60).ok()?;
    match z[0] {
        b'+' => FixedOffset::east_opt(secs),
        b'-' => FixedOffset::east_opt(-secs),
        _ => None,
    }
}

/// The time of a native prefix from its groups (`get` by name): `tai64n`,
/// `epoch`, or `time` in `format`, in `zone` unless `tz` (`+0100`).
pub(crate) fn native_time<'a>(
    get: impl Fn(&str) -> Option<&'a [u8]>,
    format: &str,
    zone: &Zone,
) -> Option<DateTime<FixedOffset>> {
    if let Some(h) = get("tai64n") {
        return tai64n(h);
    }
    if let Some(e) = get("epoch") {
        return epoch(e);
    }
    let t = std::str::from_utf8(get("time")?).ok()?;
    let naive = date_time(t, format)?;
    match get("tz") {
        Some(z) => naive.and_local_timezone(offset(z)?).single(),
        None => local(naive, zone),
    }
}

/// The time of a native prefix's captures (see [`native_prefix`]).
///
/// Two encodings are decoded by name: `tai64n` (daemontools' `@4000…` label:
/// TAI64 seconds + nanoseconds, UTC = label − 2^62 − 10, as libtai defines it)
/// and `epoch` (seconds.fraction since 1970, as splogger writes). A time
/// without an offset is read in `zone`.
pub fn native_stamp(
    c: &regex::bytes::Captures<'_>,
    format: &str,
    zone: &Zone,
) -> Option<DateTime<FixedOffset>> {
    native_time(|n| c.name(n).map(|m| m.as_bytes()), format, zone)
}

/// What year-less stamps are resolved against.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// Wall-clock time in `zone` when the input was last written (file
    /// mtime; now for stdin).
    pub reference: NaiveDateTime,
    /// Resolve the time of every counted line (deliveries, notices), not only
    /// of failures: needed when a time window filters the counts.
    pub all_times: bool,
    /// The zone local stamps are read in.
    pub zone: Zone,
}

impl TimeContext {
    /// A context whose reference is the given instant, read in the system's zone.
    pub fn at<Tz: TimeZone>(t: DateTime<Tz>) -> TimeContext {
        TimeContext::in_zone(t, Zone::system())
    }

    /// A context whose reference is the given instant, read in `zone`.
    pub fn in_zone<Tz: TimeZone>(t: DateTime<Tz>, zone: Zone) -> TimeContext {
        TimeContext {
            reference: zone.fixed(t).naive_local(),
            all_times: true,
            zone,
        }
    }
}

/// Resolves a stamp to a time.
///
/// RFC 3164 stamps have no year. The rule: a line cannot have been written
/// after its file was last modified, so the year is the reference's year,
/// unless that puts the line more than a day after the reference, in which
/// case it is the year before. A file modified on 2 January that starts on
/// 30 December therefore gets December of the previous year and January of
/// the current one: the December → January rollover inside one file is
/// handled line by line, without state. Files spanning more than a year
/// cannot be told apart and are not supported. Local stamps are read in the
/// context's zone (the machine's by default), as syslog wrote them.
pub fn resolve(h: &Header<'_>, ctx: &TimeContext) -> Option<DateTime<FixedOffset>> {
    // Lines of one second share their stamp: the last one converted is kept.
    let key = Some((ctx.reference, ctx.zone.id));
    LAST_STAMP.with_borrow_mut(|(stamp, reference, time)| {
        if stamp.as_slice() != h.stamp || *reference != key {
            *time = resolve_uncached(h, ctx);
            stamp.clear();
            stamp.extend_from_slice(h.stamp);
            *reference = key;
        }
        *time
    })
}

type StampCache = (
    Vec<u8>,
    Option<(NaiveDateTime, u64)>,
    Option<DateTime<FixedOffset>>,
);

thread_local! {
    /// The last stamp converted, the reference time and zone it was converted against, and the result.
    static LAST_STAMP: std::cell::RefCell<StampCache> = const { std::cell::RefCell::new((Vec::new(), None, None)) };
}

fn resolve_uncached(h: &Header<'_>, ctx: &TimeContext) -> Option<DateTime<FixedOffset>> {
    // Only the month name of a BSD stamp may be other than ASCII (Latin-1 "M\xe4r").
    fn text(b: &[u8]) -> Option<&str> {
        std::str::from_utf8(b).ok()
    }
    match h.form {
        StampForm::None => None,
        StampForm::IsoSpace => local(date_time(text(h.stamp)?, ISO_SPACE)?, &ctx.zone),
        StampForm::Iso => {
            let s = text(h.stamp)?;
            rfc3339(s).or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        }
        StampForm::Bsd => {
            let (month, len) = bsd_month(h.stamp)?;
            let mut parts = text(h.stamp.get(len..)?)?.split_whitespace();
            let day: u32 = parts.next()?.parse().ok()?;
            let time = hms(parts.next()?)?;
            let limit = ctx.reference + Duration::days(1);
            let year0 = ctx.reference.year();
            // Try this year, then earlier ones (Feb 29 needs a leap year).
            let naive = (0..=8).find_map(|back| {
                let d = NaiveDate::from_ymd_opt(year0 - back, month, day)?;
                let dt = d.and_time(time);
                (dt <= limit).then_some(dt)
            })?;
            local(naive, &ctx.zone)
        }
    }
}

thread_local! {
    /// The UTC offset of the last local hour converted (and its zone): log
    /// lines come in time order, so nearly every line reuses it (asking the
    /// time zone database costs far more than parsing a line).
    static LAST_HOUR: std::cell::Cell<Option<(u64, NaiveDateTime, FixedOffset)>> = const { std::cell::Cell::new(None) };
}

/// A wall-clock time as an instant in `zone`: the earliest in a fold (the
/// hour repeated when clocks go back). Offsets change only on whole hours, so
/// one lookup per local hour is cached.
pub fn local(naive: NaiveDateTime, zone: &Zone) -> Option<DateTime<FixedOffset>> {
    use chrono::Timelike;
    let hour = naive.with_minute(0)?.with_second(0)?.with_nanosecond(0)?;
    if let Some((z, h, off)) = LAST_HOUR.get() {
        if z == zone.id && h == hour {
            return naive.and_local_timezone(off).single();
        }
    }
    let t = local_uncached(naive, zone)?;
    LAST_HOUR.set(Some((zone.id, hour, *t.offset())));
    Some(t)
}

fn local_uncached(naive: NaiveDateTime, zone: &Zone) -> Option<DateTime<FixedOffset>> {
    zone.earliest(naive).or_else(|| {
        // In a DST gap: use the offset in force an hour earlier.
        // (The result is shown with the offset in force at that instant.)
        zone.earliest(naive - Duration::hours(1))
            .map(|t| zone.fixed(t + Duration::hours(1)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_read_by_hand_agree_with_chrono() {
        for t in [
            "00:00:00", "23:59:59", "09:05:07", "23:59:60", "7:05:07", "24:00:00", "ab:cd:ef",
            "12:34",
        ] {
            assert_eq!(hms(t), NaiveTime::parse_from_str(t, "%H:%M:%S").ok(), "{t}");
        }
    }

    #[test]
    fn dates_read_by_hand_agree_with_chrono() {
        for s in [
            "2025-03-10 09:14:07",
            "2025-03-10 09:14:07.1",
            "2025-03-10 09:14:07.123456",
            "2003-09-27 11:22:07.070367500",
            "2024-02-29 00:00:00",
            "2025-02-29 00:00:00",
            "2025-13-01 00:00:00",
            "2025-03-10 24:00:00",
            "2025-03-10 23:59:60",
            "2025-03-10 09:14:07.",
            "2025-03-10 09:14:07.1234567891",
            "2025-03-10 09:14:07x",
            "2025-3-10 09:14:07",
            "+2025-03-10 09:14:07",
            "2025-03-10T09:14:07",
        ] {
            assert_eq!(
                date_time(s, ISO_SPACE),
                NaiveDateTime::parse_from_str(s, ISO_SPACE).ok(),
                "{s}"
            );
        }
        for s in [
            "2025-03-10T07:01:44.512Z",
            "2025-03-10T07:01:44Z",
            "2025-03-10T07:01:44.123456789Z",
            "2025-03-10T07:01:44+01:00",
            "2025-03-10T07:01:44.5z",
            "2025-03-10T25:01:44Z",
            "2025-03-10 07:01:44Z",
        ] {
            assert_eq!(rfc3339(s), DateTime::parse_from_rfc3339(s).ok(), "{s}");
        }
    }

    #[test]
    fn tai64n_and_epoch_labels() {
        // 2^62 + 0x67ceaa24 seconds: 0x67ceaa24 − 10 = 1741597210 after 1970.
        let t = tai64n(b"4000000067ceaa24000f4240").expect("label");
        assert_eq!(t.to_rfc3339(), "2025-03-10T09:00:10.001+00:00");
        assert_eq!(tai64n(b"4000000067ceaa24000f424"), None);
        assert_eq!(tai64n(b"4000000067ceaa24000f424g"), None);
        assert_eq!(tai64n(b"0000000067ceaa24000f4240"), None);
        let e = epoch(b"1063526289.744259").expect("epoch");
        assert_eq!(e.to_rfc3339(), "2003-09-14T07:58:09.744259+00:00");
        assert_eq!(
            epoch(b"1063526289").map(|t| t.timestamp()),
            Some(1_063_526_289)
        );
        assert_eq!(
            epoch(b"1063526289.1234567891").map(|t| t.timestamp_subsec_nanos()),
            Some(123_456_789)
        );
        assert_eq!(epoch(b"x.5"), None);
        assert_eq!(epoch(b"1.x"), None);
    }

    #[test]
    fn offsets() {
        assert_eq!(offset(b"+0100"), FixedOffset::east_opt(3600));
        assert_eq!(offset(b"-0530"), FixedOffset::east_opt(-19_800));
        assert_eq!(offset(b"0100"), None);
        assert_eq!(offset(b"+01x0"), None);
    }

    fn wall(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("wall time")
    }

    #[test]
    fn zones_by_name() {
        assert!(Zone::named("UTC").is_some());
        assert!(Zone::named("local").is_some());
        assert!(Zone::named("Europe/Paris").is_some());
        for bad in [
            "Mars/Olympus",
            "../../etc/passwd",
            "Europe/../../etc/passwd",
            "",
        ] {
            assert!(Zone::named(bad).is_none(), "{bad}");
        }
        assert_eq!(Zone::named("UTC"), Some(Zone::utc()));
    }

    #[test]
    fn gaps_and_folds_resolve_as_before() {
        let paris = Zone::named("Europe/Paris").expect("zone");
        let at = |s: &str| local(wall(s), &paris).map(|t| t.to_rfc3339());
        // An ordinary winter and summer hour.
        assert_eq!(
            at("2025-01-15 12:00:00").as_deref(),
            Some("2025-01-15T12:00:00+01:00")
        );
        assert_eq!(
            at("2025-07-15 12:00:00").as_deref(),
            Some("2025-07-15T12:00:00+02:00")
        );
        // Clocks went back at 03:00 on 26 October: the earlier 02:30 is taken.
        assert_eq!(
            at("2025-10-26 02:30:00").as_deref(),
            Some("2025-10-26T02:30:00+02:00")
        );
        // Clocks jumped from 02:00 to 03:00 on 30 March: 02:30 is read with
        // the offset an hour earlier and shown on the clock then in force.
        assert_eq!(
            at("2025-03-30 02:30:00").as_deref(),
            Some("2025-03-30T03:30:00+02:00")
        );
        // The cache is per zone: the same hour in another zone is read anew.
        let tokyo = Zone::named("Asia/Tokyo").expect("zone");
        assert_eq!(
            local(wall("2025-01-15 12:00:00"), &tokyo)
                .map(|t| t.to_rfc3339())
                .as_deref(),
            Some("2025-01-15T12:00:00+09:00")
        );
    }

    #[test]
    fn instants_shown_on_a_zone_clock() {
        let paris = Zone::named("Europe/Paris").expect("zone");
        let t = wall("2025-07-15 10:00:00").and_utc();
        assert_eq!(paris.fixed(t).to_rfc3339(), "2025-07-15T12:00:00+02:00");
        assert_eq!(
            Zone::utc().fixed(t).to_rfc3339(),
            "2025-07-15T10:00:00+00:00"
        );
        let ctx = TimeContext::in_zone(t, paris);
        assert_eq!(ctx.reference, wall("2025-07-15 12:00:00"));
    }
}
