//! [`Aged`]: values by key, the oldest forgotten first, for the correlator's
//! open messages and delivery attempts. A leaf: it knows nothing of records.
//!
//! The entries live in a [`slab::Slab`] (freed slots are reused), and a
//! seeded hash table holds only their 4-byte positions, so the table's growth
//! costs little: a log whose messages never close (Exchange writes no
//! end-of-message row) keeps the cap's worth of entries, and hashbrown, which
//! grows past twice that when removals leave tombstones at high load, then
//! doubles 4-byte slots rather than whole entries (at the 200,000 cap: about
//! 2.5 MB where whole entries took 59 MB, twice that while it rehashed). The
//! order the keys came in is a queue of (hash, sequence number) pairs, 16
//! bytes each rather than a copy of the key; an order entry whose key was
//! removed or given again since is stale: found by its hash, it no longer
//! matches the number, and is skipped.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};

/// One kept key, the sequence number it was last given with, and its value.
struct Slot<K, V> {
    key: K,
    seq: u64,
    value: V,
}

/// Values by key in the order they were given (see the module header).
pub struct Aged<K, V> {
    // Seeded per map: keys come from logs that strangers write.
    hasher: foldhash::fast::RandomState,
    /// Positions in `slots` of the kept keys.
    table: hashbrown::HashTable<u32>,
    slots: slab::Slab<Slot<K, V>>,
    /// (hash, sequence number) of each key as given, oldest first.
    pub(crate) order: VecDeque<(u64, u64)>,
}

impl<K, V> Default for Aged<K, V> {
    fn default() -> Self {
        Aged {
            hasher: foldhash::fast::RandomState::default(),
            table: hashbrown::HashTable::new(),
            slots: slab::Slab::new(),
            order: VecDeque::new(),
        }
    }
}

impl<K, V> std::fmt::Debug for Aged<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aged")
            .field("len", &self.table.len())
            .field("order", &self.order.len())
            .finish()
    }
}

impl<K: Hash + Eq, V> Aged<K, V> {
    /// Keys kept.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The position of a key whose hash is `h`.
    fn position(&self, h: u64, k: &K) -> Option<usize> {
        let slots = &self.slots;
        let i = self
            .table
            .find(h, |&i| slots.get(i as usize).is_some_and(|s| s.key == *k))?;
        Some(*i as usize)
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        let i = self.position(self.hasher.hash_one(k), k)?;
        self.slots.get(i).map(|s| &s.value)
    }

    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.position(self.hasher.hash_one(k), k)?;
        self.slots.get_mut(i).map(|s| &mut s.value)
    }

    #[cfg(test)]
    pub(crate) fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// Removes a key: its sequence number and value.
    pub(crate) fn remove(&mut self, k: &K) -> Option<(u64, V)> {
        let h = self.hasher.hash_one(k);
        let slots = &self.slots;
        let e = self
            .table
            .find_entry(h, |&i| slots.get(i as usize).is_some_and(|s| s.key == *k))
            .ok()?;
        let (i, _) = e.remove();
        self.slots.try_remove(i as usize).map(|s| (s.seq, s.value))
    }

    /// Sets the value of a key (the newest now).
    pub(crate) fn insert(&mut self, k: K, seq: u64, v: V) {
        let h = self.hasher.hash_one(&k);
        if let Some(s) = self.position(h, &k).and_then(|i| self.slots.get_mut(i)) {
            (s.seq, s.value) = (seq, v);
        } else {
            // Positions are 32 bits: beyond that (never a cap's worth) the
            // key is not kept.
            let Ok(i) = u32::try_from(self.slots.vacant_key()) else {
                return;
            };
            self.slots.insert(Slot {
                key: k,
                seq,
                value: v,
            });
            // When the table grows, each key's hash is computed again.
            let (slots, hasher) = (&self.slots, &self.hasher);
            self.table.insert_unique(h, i, |&j| {
                slots.get(j as usize).map_or(0, |s| hasher.hash_one(&s.key))
            });
        }
        self.order.push_back((h, seq));
        // Stale entries are dropped once they outnumber the kept keys, so the
        // order stays within twice the table (amortised: a compaction follows
        // at least as many insertions as it visits entries, less the slack).
        if self.order.len() > 2 * self.table.len() + 1024 {
            self.compact();
        }
    }

    /// Forgets the oldest key in the order: `Some(true)` when it was still
    /// kept (and is removed now), `Some(false)` for a stale entry, `None`
    /// when the order is empty.
    pub(crate) fn pop_oldest(&mut self) -> Option<bool> {
        let (h, seq) = self.order.pop_front()?;
        let slots = &self.slots;
        match self
            .table
            .find_entry(h, |&i| slots.get(i as usize).is_some_and(|s| s.seq == seq))
        {
            Ok(e) => {
                let (i, _) = e.remove();
                self.slots.try_remove(i as usize);
                Some(true)
            }
            Err(_) => Some(false),
        }
    }

    /// Drops the stale entries of the order.
    fn compact(&mut self) {
        let (table, slots) = (&self.table, &self.slots);
        self.order.retain(|&(h, seq)| {
            table
                .find(h, |&i| slots.get(i as usize).is_some_and(|s| s.seq == seq))
                .is_some()
        });
        // A burst of open keys, since closed, leaves no large buffer behind.
        if self.order.capacity() > 4 * self.order.len() + 4096 {
            self.order.shrink_to(2 * self.order.len() + 1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_replaced_removed_and_forgotten_oldest_first() {
        let mut a: Aged<u32, &str> = Aged::default();
        a.insert(1, 1, "one");
        a.insert(2, 2, "two");
        a.insert(3, 3, "three");
        // Given again: now the newest, with its new value.
        a.insert(1, 4, "uno");
        assert_eq!(a.len(), 3);
        assert_eq!(a.get(&1), Some(&"uno"));
        assert_eq!(a.remove(&2), Some((2, "two")));
        assert_eq!(a.get(&2), None);
        // The order: 1 (stale), 2 (removed), 3, 1.
        assert_eq!(a.pop_oldest(), Some(false));
        assert_eq!(a.pop_oldest(), Some(false));
        assert_eq!(a.pop_oldest(), Some(true));
        assert!(!a.contains_key(&3));
        assert_eq!(a.get(&1), Some(&"uno"));
        if let Some(v) = a.get_mut(&1) {
            *v = "ein";
        }
        assert_eq!(a.pop_oldest(), Some(true));
        assert_eq!(a.len(), 0);
        assert_eq!(a.pop_oldest(), None);
    }

    #[test]
    fn freed_slots_are_reused_so_churn_at_the_cap_does_not_grow_the_slab() {
        // Every key new, the oldest forgotten at a cap of 1000: the slab
        // never holds more than the cap and one.
        let mut a: Aged<u64, u64> = Aged::default();
        for k in 0..50_000u64 {
            a.insert(k, k, k * 2);
            while a.len() > 1000 {
                a.pop_oldest();
            }
            assert!(a.slots.capacity() <= 1024, "{}", a.slots.capacity());
        }
        assert_eq!(a.len(), 1000);
        assert_eq!(a.get(&49_999), Some(&99_998));
        assert_eq!(a.get(&48_999), None);
        assert_eq!(a.get(&49_000), Some(&98_000));
    }
}
