//! [`ValidSets`]: the valid (delivered) recipients of each client address,
//! as 32-bit hashes under a 64-bit hash of the address, bounded (clients,
//! recipients per client, recipients in all); part of the evidence.

use super::{hash64, CLIENT_CAP, VALID_CAP, VALID_TOTAL_CAP};

/// A client's recipients are looked up in a set from this many on.
const SEEN_FROM: usize = 48;

/// The distinct valid recipients of one client: the first inline, the
/// others in the arena (`more` is 1 + the index there, 0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Valid {
    first: u32,
    more: u32,
}

/// The valid recipients of one client beyond its first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct More {
    hashes: Vec<u32>,
    /// The same hashes as a set, once there are `SEEN_FROM` of them: a
    /// client that named many recipients is asked for each of its deliveries.
    seen: Option<foldhash::HashSet<u32>>,
    /// More distinct valid recipients than were kept.
    saturated: bool,
}

/// Valid (delivered) recipients by client address, as hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidSets {
    map: foldhash::HashMap<u64, Valid>,
    arena: Vec<More>,
    total: usize,
    /// True when a client's deliveries were not recorded (more than
    /// `CLIENT_CAP` clients): a client not kept then has an unknown count.
    pub capped: bool,
}

impl ValidSets {
    pub(crate) fn add_hashed(&mut self, ip: u64, rcpt: u32) {
        let Some(v) = self.map.get_mut(&ip) else {
            if self.map.len() < CLIENT_CAP {
                self.map.insert(
                    ip,
                    Valid {
                        first: rcpt,
                        more: 0,
                    },
                );
            } else {
                self.capped = true;
            }
            return;
        };
        if v.first == rcpt {
            return;
        }
        if v.more == 0 {
            if self.total >= VALID_TOTAL_CAP || self.arena.len() >= u32::MAX as usize - 1 {
                return self.saturate_new(ip);
            }
            self.arena.push(More::default());
            v.more = self.arena.len() as u32;
        }
        let m = &mut self.arena[v.more as usize - 1];
        let known = match &m.seen {
            Some(set) => set.contains(&rcpt),
            None => m.hashes.contains(&rcpt),
        };
        if m.saturated || known {
            return;
        }
        if m.hashes.len() + 1 >= VALID_CAP || self.total >= VALID_TOTAL_CAP {
            m.saturated = true;
            m.seen = None;
            return;
        }
        // Grown by half (doubling leaves more unused across many clients).
        if m.hashes.len() == m.hashes.capacity() {
            m.hashes.reserve_exact((m.hashes.len() / 2).max(4));
        }
        m.hashes.push(rcpt);
        self.total += 1;
        if let Some(set) = &mut m.seen {
            set.insert(rcpt);
        } else if m.hashes.len() >= SEEN_FROM {
            m.seen = Some(m.hashes.iter().copied().collect());
        }
    }

    /// A client with a second recipient when the arena is full.
    fn saturate_new(&mut self, ip: u64) {
        self.arena.push(More {
            hashes: Vec::new(),
            seen: None,
            saturated: true,
        });
        let n = self.arena.len() as u32;
        if let Some(v) = self.map.get_mut(&ip) {
            v.more = n;
        }
    }

    /// Distinct valid recipients accepted from `ip`; `None` when not known
    /// (more than were kept, or the client was not kept).
    pub fn count(&self, ip: &str) -> Option<usize> {
        match self.map.get(&hash64(ip)) {
            Some(v) if v.more == 0 => Some(1),
            Some(v) => {
                let m = self.arena.get(v.more as usize - 1)?;
                (!m.saturated).then_some(1 + m.hashes.len())
            }
            None if self.capped => None,
            None => Some(0),
        }
    }

    /// Every client kept, by the hash of its address, sorted.
    pub(crate) fn clients(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.map.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// A client's recipient hashes, and whether more were seen than kept.
    pub(crate) fn recipients(&self, ip: u64) -> (Vec<u32>, bool) {
        let Some(v) = self.map.get(&ip) else {
            return (Vec::new(), false);
        };
        let mut hashes = vec![v.first];
        let mut saturated = false;
        if let Some(m) = v
            .more
            .checked_sub(1)
            .and_then(|i| self.arena.get(i as usize))
        {
            hashes.extend(&m.hashes);
            saturated = m.saturated;
        }
        (hashes, saturated)
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit();
        self.arena.shrink_to_fit();
        for m in &mut self.arena {
            m.hashes.shrink_to_fit();
            // Only look-ups need the set (a later one scans the list).
            m.seen = None;
        }
    }

    pub(super) fn merge(&mut self, o: &ValidSets) {
        self.capped |= o.capped;
        for ip in o.clients() {
            let (hashes, saturated) = o.recipients(ip);
            for h in hashes {
                self.add_hashed(ip, h);
            }
            if saturated {
                self.mark_saturated(ip);
            }
        }
    }

    pub(crate) fn mark_saturated(&mut self, ip: u64) {
        let Some(v) = self.map.get(&ip).copied() else {
            return;
        };
        match v.more.checked_sub(1) {
            Some(i) => {
                if let Some(m) = self.arena.get_mut(i as usize) {
                    m.saturated = true;
                }
            }
            None => self.saturate_new(ip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_of_many_recipients_counts_each_once_up_to_the_cap() {
        let mut v = ValidSets::default();
        let ip = hash64("192.0.2.25");
        // Past the size where look-ups move to a set, every recipient twice.
        for round in 0..2 {
            for r in 0..(SEEN_FROM as u32 * 3) {
                v.add_hashed(ip, r * 7 + 1);
            }
            assert_eq!(v.count("192.0.2.25"), Some(SEEN_FROM * 3), "round {round}");
        }
        // Insertion order is kept (the JSON report lists it).
        let (hashes, saturated) = v.recipients(ip);
        assert!(!saturated);
        assert_eq!(hashes[..3], [1, 8, 15]);
        for r in 0..VALID_CAP as u32 {
            v.add_hashed(ip, 100_000 + r);
        }
        assert_eq!(v.count("192.0.2.25"), None, "saturated: more than kept");
    }
}
