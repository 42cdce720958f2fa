//! [`Counter`]: counts of distinct values (recipients, domains, clients,
//! senders), capped so that memory stays bounded on hostile input; the excess
//! is counted in `overflow`, never hidden. A leaf: it knows nothing of events,
//! summaries or findings, so that the summary and the evidence can both use it.

/// Most distinct values a [`Counter`] keeps; later new values are counted in
/// `overflow`.
pub const COUNTER_CAP: usize = 100_000;

/// Counts of values, capped at [`COUNTER_CAP`] distinct values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counter {
    // Seeded per map (foldhash): the values are chosen by strangers, so
    // colliding keys cannot be crafted to make counting quadratic.
    map: foldhash::HashMap<String, u64>,
    /// Occurrences of values that did not fit under the cap.
    pub overflow: u64,
}

impl Counter {
    /// Counts `n` occurrences of `v`.
    pub fn add(&mut self, v: &str, n: u64) {
        if let Some(c) = self.map.get_mut(v) {
            *c += n;
        } else if self.map.len() < COUNTER_CAP {
            self.map.insert(v.to_string(), n);
        } else {
            self.overflow += n;
        }
    }

    /// The count of one value.
    pub fn get(&self, v: &str) -> u64 {
        self.map.get(v).copied().unwrap_or(0)
    }

    /// Distinct values kept.
    pub fn distinct(&self) -> usize {
        self.map.len()
    }

    /// True when some values were not kept.
    pub fn capped(&self) -> bool {
        self.overflow > 0
    }

    /// The `n` most frequent values, ties broken by value.
    pub fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.map.iter().map(|(k, c)| (k.as_str(), *c)).collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// Every value with its count, sorted by value.
    pub fn entries(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.map.iter().map(|(k, c)| (k.as_str(), *c)).collect();
        v.sort_unstable();
        v
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
                a.map.hasher().hash_one(&v) == b.map.hasher().hash_one(&v)
            })
            .count();
        assert!(same < 8, "two counters hash values identically: unseeded");
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
