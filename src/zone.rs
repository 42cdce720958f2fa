//! The time zone ([`Zone`]) that year-less and local stamps are read in,
//! window bounds are given in and times are shown in: a value handed down
//! from the command line (`--tz`), never the process environment.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicU64, Ordering};

/// A time zone: the one year-less and local stamps are read in, window
/// bounds are given in and times are shown in (`--tz`; the system's zone by
/// default, from `TZ` or `/etc/localtime` as the C library finds it).
///
/// Rules come from the system's time zone database (`/usr/share/zoneinfo`)
/// through jiff; the rest of the program is chrono, so times leave here as
/// `DateTime<FixedOffset>`.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
    /// Tells zones apart in the per-thread caches without comparing rules;
    /// clones share it.
    pub(crate) id: u64,
}

impl Default for Zone {
    /// The system's zone.
    fn default() -> Zone {
        Zone::system()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.tz == other.tz
    }
}

impl Zone {
    fn new(tz: jiff::tz::TimeZone) -> Zone {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Zone {
            tz,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The system's zone (`TZ`, else `/etc/localtime`; UTC when neither says).
    pub fn system() -> Zone {
        Zone::new(jiff::tz::TimeZone::system())
    }

    /// UTC.
    pub fn utc() -> Zone {
        Zone::new(jiff::tz::TimeZone::UTC)
    }

    /// A zone by name: `local` (the system's), `UTC`, or a name of the
    /// system's time zone database such as `Europe/Paris`; `None` for any
    /// other name (and for paths that climb out of the database).
    pub fn named(name: &str) -> Option<Zone> {
        if name == "local" {
            return Some(Zone::system());
        }
        if name.is_empty() || name.contains("..") {
            return None;
        }
        jiff::tz::TimeZone::get(name).ok().map(Zone::new)
    }

    /// The zone's offset from UTC at an instant.
    pub fn offset_at<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> FixedOffset {
        let seconds = jiff::Timestamp::new(t.timestamp(), 0)
            .map(|ts| self.tz.to_offset(ts).seconds())
            .unwrap_or(0);
        FixedOffset::east_opt(seconds).unwrap_or(chrono::Offset::fix(&Utc))
    }

    /// The same instant on this zone's clock.
    pub fn fixed<Tz: TimeZone>(&self, t: DateTime<Tz>) -> DateTime<FixedOffset> {
        let offset = self.offset_at(&t);
        t.with_timezone(&offset)
    }

    /// Now, on this zone's clock.
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.fixed(Utc::now())
    }

    /// A wall-clock time as the earliest instant it names in this zone;
    /// `None` in a gap (a skipped hour) or out of range.
    pub(crate) fn earliest(&self, naive: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
        use chrono::Timelike;
        use jiff::tz::AmbiguousOffset;
        let civil = jiff::civil::DateTime::new(
            i16::try_from(naive.year()).ok()?,
            i8::try_from(naive.month()).ok()?,
            i8::try_from(naive.day()).ok()?,
            i8::try_from(naive.hour()).ok()?,
            i8::try_from(naive.minute()).ok()?,
            i8::try_from(naive.second()).ok()?,
            0,
        )
        .ok()?;
        let offset = match self.tz.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset,
            // The offset before the change names the earlier instant.
            AmbiguousOffset::Fold { before, .. } => before,
            AmbiguousOffset::Gap { .. } => return None,
        };
        naive
            .and_local_timezone(FixedOffset::east_opt(offset.seconds())?)
            .single()
    }
}
