//! [`ValidSets`]: the valid (delivered) recipients of each client address,
//! as 32-bit hashes under a 64-bit hash of the address, bounded (clients,
//! recipients per client, recipients in all); part of the evidence.

use super::{hash64, CLIENT_CAP, VALID_CAP, VALID_TOTAL_CAP};

// Index positions are 16 bits.
const _: () = assert!(VALID_CAP <= u16::MAX as usize);

/// A client's recipients are looked up in an index from this many on.
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
    /// The positions in `hashes` in the order of their hashes, once there are
    /// `SEEN_FROM` of them: a client that named many recipients is asked for
    /// each of its deliveries, by binary search (2 bytes a recipient, where a
    /// hash set took 5 to 10). Empty when not built (a lookup builds it).
    index: Vec<u16>,
    /// More distinct valid recipients than were kept.
    saturated: bool,
}

impl More {
    /// Builds the index of the hashes if it is not there (or not whole).
    fn indexed(&mut self) {
        if self.index.len() != self.hashes.len() {
            let hashes = &self.hashes;
            // Below VALID_CAP: positions fit 16 bits.
            self.index = (0..hashes.len() as u16).collect();
            self.index.sort_unstable_by_key(|&p| hashes[usize::from(p)]);
        }
    }
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
        if m.saturated {
            return;
        }
        // Where the new hash goes in the index (when there is one).
        let at = if m.hashes.len() >= SEEN_FROM {
            m.indexed();
            match m
                .index
                .binary_search_by(|&p| m.hashes[usize::from(p)].cmp(&rcpt))
            {
                Ok(_) => return,
                Err(at) => Some(at),
            }
        } else if m.hashes.contains(&rcpt) {
            return;
        } else {
            None
        };
        if m.hashes.len() + 1 >= VALID_CAP || self.total >= VALID_TOTAL_CAP {
            m.saturated = true;
            m.index = Vec::new();
            return;
        }
        // Grown by half (doubling leaves more unused across many clients).
        if m.hashes.len() == m.hashes.capacity() {
            m.hashes.reserve_exact((m.hashes.len() / 2).max(4));
        }
        // Below VALID_CAP (≤ u16::MAX + 1), so a position fits 16 bits.
        let pos = m.hashes.len() as u16;
        m.hashes.push(rcpt);
        self.total += 1;
        if let Some(at) = at {
            if m.index.len() == m.index.capacity() {
                m.index.reserve_exact((m.index.len() / 2).max(4));
            }
            m.index.insert(at, pos);
        }
    }

    /// A client with a second recipient when the arena is full.
    fn saturate_new(&mut self, ip: u64) {
        self.arena.push(More {
            hashes: Vec::new(),
            index: Vec::new(),
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
            // Only look-ups need the index (a later one builds it again).
            m.index = Vec::new();
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

    #[test]
    fn recipients_in_any_order_are_counted_as_a_set_would() {
        // Hashes in a scrambled order with repeats: each step agrees with a
        // plain set, whether looked up by scan or through the index, and
        // the list keeps the order of first appearance.
        let mut v = ValidSets::default();
        let ip = hash64("198.51.100.7");
        let mut reference = std::collections::BTreeSet::new();
        let mut order = Vec::new();
        let mut x: u32 = 12345;
        for _ in 0..3000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let h = (x >> 8) % 700;
            v.add_hashed(ip, h);
            if reference.insert(h) {
                order.push(h);
            }
            assert_eq!(v.count("198.51.100.7"), Some(reference.len()));
        }
        assert_eq!(v.recipients(ip), (order, false));
        // Dropping the index (as at the end of the input) loses nothing.
        v.shrink_to_fit();
        let before = v.count("198.51.100.7");
        v.add_hashed(ip, 3);
        v.add_hashed(ip, 1_000_000);
        assert_eq!(
            v.count("198.51.100.7"),
            before.map(|n| n + usize::from(!reference.contains(&3)) + 1)
        );
    }
}
