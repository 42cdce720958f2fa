//! [`Probe`]: one inbound attempt at a recipient that does not exist, in 32
//! bytes (its time packed, its names by number in [`Names`]); part of the
//! evidence.

use super::{Time, NAME_CAP};

/// Strings stored once and named by number (client addresses, senders and
/// HELO names of the attempts), at most `NAME_CAP` of them. Each string is
/// kept once: the look-up table holds numbers, found by the string's hash.
#[derive(Clone, Default)]
pub struct Names {
    // Seeded: the names come from logs that strangers write.
    hasher: foldhash::fast::RandomState,
    index: hashbrown::HashTable<u32>,
    names: Vec<Box<str>>,
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.names).finish()
    }
}

/// Two name lists are equal when they hold the same names by the same numbers.
impl PartialEq for Names {
    fn eq(&self, o: &Names) -> bool {
        self.names == o.names
    }
}

impl Eq for Names {}

impl Names {
    /// The number of a name, storing it when new (`None` when full).
    pub(super) fn id(&mut self, s: &str) -> Option<u32> {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(s);
        let names = &self.names;
        if let Some(&i) = self.index.find(h, |&i| &*names[i as usize] == s) {
            return Some(i);
        }
        if self.names.len() >= NAME_CAP {
            return None;
        }
        let i = u32::try_from(self.names.len()).ok()?;
        self.names.push(s.into());
        let (names, hasher) = (&self.names, &self.hasher);
        self.index
            .insert_unique(h, i, |&j| hasher.hash_one(&*names[j as usize]));
        Some(i)
    }

    pub(super) fn shrink_to_fit(&mut self) {
        use std::hash::BuildHasher;
        let (names, hasher) = (&self.names, &self.hasher);
        self.index
            .shrink_to_fit(|&j| hasher.hash_one(&*names[j as usize]));
        self.names.shrink_to_fit();
    }

    /// The name of a number.
    pub fn get(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |s| s)
    }
}

/// No name, no time.
const NONE: u32 = u32::MAX;
/// The offset's bits in [`Probe::when`] (a UTC offset is under a day: 18
/// bits with its sign).
const OFFSET_BITS: u32 = 18;
const OFFSET_BIAS: i32 = 1 << (OFFSET_BITS - 1);

/// One inbound attempt at a recipient that does not exist: 32 bytes (the
/// `Option`s of names and time, as fields, took 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Hash of the recipient tried (lowercase).
    pub rcpt: u64,
    /// Seconds since 1970 (above) and the UTC offset in seconds, biased
    /// (the low [`OFFSET_BITS`]).
    when: i64,
    /// Nanoseconds of the second; `NONE` for no time.
    nanos: u32,
    /// Client IP address (in [`Diagnostics::names`](super::Diagnostics::names)).
    pub ip: u32,
    sender: u32,
    helo: u32,
}

impl Probe {
    /// An attempt; a time that cannot be packed (never a log's: beyond
    /// chrono's range) is kept as none.
    pub fn new(
        ip: u32,
        time: Option<Time>,
        rcpt: u64,
        sender: Option<u32>,
        helo: Option<u32>,
    ) -> Self {
        let (when, nanos) = time.and_then(pack).unwrap_or((0, NONE));
        let id = |i: Option<u32>| i.filter(|&i| i != NONE).unwrap_or(NONE);
        Probe {
            rcpt,
            when,
            nanos,
            ip,
            sender: id(sender),
            helo: id(helo),
        }
    }

    /// When.
    pub fn time(&self) -> Option<Time> {
        if self.nanos == NONE {
            return None;
        }
        unpack(self.when, self.nanos)
    }

    /// Envelope sender (in [`Diagnostics::names`](super::Diagnostics::names)).
    pub fn sender(&self) -> Option<u32> {
        (self.sender != NONE).then_some(self.sender)
    }

    /// HELO name (in [`Diagnostics::names`](super::Diagnostics::names)).
    pub fn helo(&self) -> Option<u32> {
        (self.helo != NONE).then_some(self.helo)
    }
}

/// A time as (seconds and offset, nanoseconds), when it comes back whole.
fn pack(t: Time) -> Option<(i64, u32)> {
    let secs = t.timestamp();
    let off = t.offset().local_minus_utc();
    let bits = u64::try_from(off + OFFSET_BIAS).ok()?;
    let when = secs.checked_mul(1 << OFFSET_BITS)? | i64::try_from(bits).ok()?;
    let nanos = t.timestamp_subsec_nanos();
    (nanos != NONE
        && unpack(when, nanos) == Some(t)
        && unpack(when, nanos).map(|u| u.offset().local_minus_utc()) == Some(off))
    .then_some((when, nanos))
}

fn unpack(when: i64, nanos: u32) -> Option<Time> {
    let secs = when >> OFFSET_BITS;
    let off = i32::try_from(when & ((1 << OFFSET_BITS) - 1)).ok()? - OFFSET_BIAS;
    let zone = chrono::FixedOffset::east_opt(off)?;
    Some(chrono::DateTime::from_timestamp(secs, nanos)?.with_timezone(&zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_small_and_keep_their_time_and_names() {
        assert_eq!(std::mem::size_of::<Probe>(), 32);
        for s in [
            "2026-03-01T00:08:07+00:00",
            "2026-03-01T00:08:07.123456789-05:30",
            "1969-12-31T23:59:59.5+14:00",
            "2016-12-31T23:59:60.25Z",
        ] {
            let t = chrono::DateTime::parse_from_rfc3339(s).expect("time");
            let p = Probe::new(7, Some(t), 9, Some(1), None);
            assert_eq!(p.time(), Some(t), "{s}");
            assert_eq!(p.time().map(|t| t.to_rfc3339()), Some(t.to_rfc3339()));
            assert_eq!((p.ip, p.rcpt, p.sender(), p.helo()), (7, 9, Some(1), None));
        }
        let p = Probe::new(0, None, 0, None, Some(3));
        assert_eq!((p.time(), p.sender(), p.helo()), (None, None, Some(3)));
    }

    #[test]
    fn each_name_has_one_number() {
        let mut n = Names::default();
        let a = n.id("192.0.2.1");
        let b = n.id("mail.example.com");
        assert_ne!(a, b);
        assert_eq!(n.id("192.0.2.1"), a);
        n.shrink_to_fit();
        assert_eq!(n.id("mail.example.com"), b);
        assert_eq!(a.map(|i| n.get(i)), Some("192.0.2.1"));
        assert_eq!(n.get(u32::MAX), "");
    }
}
