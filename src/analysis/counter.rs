//! [`Counter`]: counts of distinct values (recipients, domains, clients,
//! senders), capped so that memory stays bounded on hostile input; the excess
//! is counted in `overflow`, never hidden. A leaf: it knows nothing of events,
//! summaries or findings, so that the summary and the evidence can both use it.
//!
//! Compact, since a run keeps dozens of counters near their cap: the values
//! are stored end to end in one string (no allocation, header or padding per
//! value) that grows by a quarter at a time (not doubled), and the table holds
//! 12-byte slots (offset, length, count) into it; a count past 32 bits (never
//! a log's, short of billions of events) moves to a side table.

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Most distinct values a [`Counter`] keeps; later new values are counted in
/// `overflow`.
pub const COUNTER_CAP: usize = 100_000;

/// One value: its bytes in the arena, and its count (`WIDE`: in `wide`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    off: u32,
    len: u32,
    count: u32,
}

/// The count of a slot whose count is in the side table.
const WIDE: u32 = u32::MAX;

/// Counts of values, capped at [`COUNTER_CAP`] distinct values.
#[derive(Clone, Default)]
pub struct Counter {
    // Seeded per counter (foldhash): the values are chosen by strangers, so
    // colliding keys cannot be crafted to make counting quadratic.
    hasher: foldhash::fast::RandomState,
    table: HashTable<Slot>,
    /// Every value kept, end to end (at most `u32::MAX` bytes).
    arena: String,
    /// Counts of `u32::MAX` or more, by the offset of their value.
    wide: std::collections::BTreeMap<u32, u64>,
    /// Occurrences of values that did not fit under the cap.
    pub overflow: u64,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counter")
            .field("entries", &self.entries())
            .field("overflow", &self.overflow)
            .finish()
    }
}

/// Two counters are equal when they count the same values the same.
impl PartialEq for Counter {
    fn eq(&self, o: &Counter) -> bool {
        self.overflow == o.overflow
            && self.table.len() == o.table.len()
            && self.iter().all(|(k, c)| o.get(k) == c)
    }
}

impl Eq for Counter {}

impl Counter {
    fn key(&self, s: &Slot) -> &str {
        // Slots always delimit a value pushed whole onto the arena.
        self.arena
            .get(s.off as usize..s.off as usize + s.len as usize)
            .unwrap_or_default()
    }

    fn count(&self, s: &Slot) -> u64 {
        if s.count == WIDE {
            self.wide.get(&s.off).copied().unwrap_or(u64::MAX)
        } else {
            u64::from(s.count)
        }
    }

    fn find(&self, v: &str) -> Option<&Slot> {
        let h = self.hasher.hash_one(v);
        self.table.find(h, |s| self.key(s) == v)
    }

    /// Counts `n` occurrences of `v`.
    pub fn add(&mut self, v: &str, n: u64) {
        let h = self.hasher.hash_one(v);
        let (arena, hasher) = (&self.arena, &self.hasher);
        let key = |s: &Slot| {
            arena
                .get(s.off as usize..s.off as usize + s.len as usize)
                .unwrap_or_default()
        };
        if let Some(s) = self.table.find_mut(h, |s| key(s) == v) {
            let total = u64::from(s.count).saturating_add(n);
            match u32::try_from(total) {
                Ok(c) if s.count != WIDE && c != WIDE => s.count = c,
                _ if s.count == WIDE => {
                    let w = self.wide.entry(s.off).or_default();
                    *w = w.saturating_add(n);
                }
                _ => {
                    self.wide.insert(s.off, total);
                    s.count = WIDE;
                }
            }
            return;
        }
        // The arena is addressed by 32-bit offsets: a value that would not
        // fit (only on gigabytes of distinct values) is not kept either.
        let off = self.arena.len();
        let fits = off
            .checked_add(v.len())
            .is_some_and(|end| u32::try_from(end).is_ok());
        if self.table.len() >= COUNTER_CAP || !fits {
            self.overflow += n;
            return;
        }
        let count = match u32::try_from(n) {
            Ok(c) if c != WIDE => c,
            _ => {
                self.wide.insert(off as u32, n);
                WIDE
            }
        };
        let slot = Slot {
            off: off as u32,
            len: v.len() as u32,
            count,
        };
        self.table
            .insert_unique(h, slot, |s| hasher.hash_one(key(s)));
        // Grown by a quarter (doubling leaves up to half of it unused).
        if self.arena.capacity() - off < v.len() {
            self.arena.reserve_exact(v.len().max(off / 4).max(256));
        }
        self.arena.push_str(v);
    }

    /// Every value kept with its count, in no particular order.
    fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.table.iter().map(|s| (self.key(s), self.count(s)))
    }

    /// The count of one value.
    pub fn get(&self, v: &str) -> u64 {
        self.find(v).map_or(0, |s| self.count(s))
    }

    /// Distinct values kept.
    pub fn distinct(&self) -> usize {
        self.table.len()
    }

    /// True when some values were not kept.
    pub fn capped(&self) -> bool {
        self.overflow > 0
    }

    /// The `n` most frequent values, ties broken by value.
    pub fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.iter().collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// Every value with its count, sorted by value.
    pub fn entries(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.iter().collect();
        // Values are distinct, so their order alone is the order (the same
        // whichever sort, and however many threads, sorted them).
        if v.len() >= 1 << 14 {
            use rayon::slice::ParallelSliceMut;
            v.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
        } else {
            v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        v
    }

    /// Gives back the room kept for values to come (once no more are).
    pub fn shrink_to_fit(&mut self) {
        let (arena, hasher) = (&self.arena, &self.hasher);
        self.table.shrink_to_fit(|s| {
            hasher.hash_one(
                arena
                    .get(s.off as usize..s.off as usize + s.len as usize)
                    .unwrap_or_default(),
            )
        });
        self.arena.shrink_to_fit();
    }

    /// Adds another counter's counts.
    pub fn merge(&mut self, o: &Counter) {
        for (k, c) in o.entries() {
            self.add(k, c);
        }
        self.overflow += o.overflow;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_top_is_ordered_and_capped() {
        let mut c = Counter::default();
        for (v, n) in [("b", 2), ("a", 2), ("c", 5)] {
            c.add(v, n);
        }
        assert_eq!(c.top(2), vec![("c", 5), ("a", 2)]);
        let mut big = Counter::default();
        for i in 0..COUNTER_CAP + 10 {
            big.add(&i.to_string(), 1);
        }
        assert_eq!(big.distinct(), COUNTER_CAP);
        assert_eq!(big.overflow, 10);
        assert!(big.capped());
    }

    #[test]
    fn counter_maps_are_seeded() {
        // An unseeded hash (FxHash) gives every map the same hash of a value,
        // so a log can be crafted whose values all collide; a seeded one differs.
        use std::hash::BuildHasher;
        let (a, b) = (Counter::default(), Counter::default());
        let same = (0..8)
            .filter(|i| {
                let v = format!("user{i}@example.com");
                a.hasher.hash_one(v.as_str()) == b.hasher.hash_one(v.as_str())
            })
            .count();
        assert!(same < 8, "two counters hash values identically: unseeded");
    }

    #[test]
    fn counter_keeps_every_value_apart_and_compares_by_content() {
        // Values end to end in one string: a value that is a prefix or a
        // join of others must still be its own entry.
        let mut a = Counter::default();
        for v in ["ab", "a", "b", "", "ab", "ba"] {
            a.add(v, 1);
        }
        assert_eq!(
            a.entries(),
            vec![("", 1), ("a", 1), ("ab", 2), ("b", 1), ("ba", 1)]
        );
        assert_eq!(a.get("ab"), 2);
        assert_eq!(a.get("aba"), 0);
        let mut b = Counter::default();
        for v in ["ba", "b", "", "ab", "a", "ab"] {
            b.add(v, 1);
        }
        assert_eq!(a, b, "the order values came in does not matter");
        b.add("a", 1);
        assert_ne!(a, b);
    }

    #[test]
    fn counts_past_32_bits_are_kept_whole() {
        let mut c = Counter::default();
        c.add("a", u64::from(u32::MAX) - 1);
        c.add("b", 1);
        assert_eq!(c.get("a"), u64::from(u32::MAX) - 1);
        c.add("a", 1);
        assert_eq!(c.get("a"), u64::from(u32::MAX));
        c.add("a", 5);
        c.add("c", 1 << 40);
        assert_eq!(
            c.entries(),
            vec![("a", (1 << 32) + 4), ("b", 1), ("c", 1 << 40)]
        );
        let mut d = Counter::default();
        d.merge(&c);
        assert_eq!(c, d);
        assert_eq!(std::mem::size_of::<Slot>(), 12);
    }

    #[test]
    fn counter_merge_adds() {
        let mut a = Counter::default();
        a.add("x", 1);
        let mut b = Counter::default();
        b.add("x", 2);
        b.add("y", 1);
        a.merge(&b);
        assert_eq!(a.entries(), vec![("x", 3), ("y", 1)]);
    }
}
