//! Exact near-string search one query at a time, for the typo findings'
//! lexicons that few queries ask: [`walk`], a depth-first walk of an `fst`
//! of the words with a row of the distance table per depth, and [`scan`],
//! every word measured (after a bag-distance bound), for small lexicons or
//! where a walk would visit most of the fst. Both find exactly the words
//! within optimal string alignment distance `k ≤ 2` of the query (ASCII), as
//! [`near::pairs`](super::near::pairs) does for many queries at once, so
//! which one ran never shows. [`Walks`] tells a lexicon's queries when its
//! walks keep stopping at their budget.

use super::near::MAX;

/// When a lexicon's queries times its words are at most this many, each
/// query is compared with every word ([`scan`]) and no fst is built: on few
/// or small lexicons building one costs more than the comparisons (about
/// 15 ns each, bit-parallel; `cargo bench --bench parse -- near`).
pub const SCAN_PAIRS: usize = 1 << 16;

/// The positions (ascending) of the words within optimal string alignment
/// distance `k` (at most [`MAX`]) of `query`, with their distances: every
/// word of a length that allows it measured (ASCII: bytes are characters).
/// The same answer as a [`walk`] of an fst of `words`.
///
/// A word is measured only if its bag distance to the query (how many bytes
/// one has that the other lacks, counted with repeats) is at most `k`: every
/// edit changes the two byte multisets by at most one byte each (a
/// transposition not at all), so that is a lower bound of the distance, and
/// it costs a few instructions a byte where the measure costs tens.
pub fn scan(words: &[&[u8]], query: &[u8], k: usize) -> Vec<(usize, usize)> {
    let k = k.min(MAX);
    let cmp = rapidfuzz::distance::osa::BatchComparator::new(query.iter().copied());
    let args = rapidfuzz::distance::osa::Args::default().score_cutoff(k);
    // How many times each byte is in the query, less its count in the word
    // being looked at (restored after each word).
    let mut counts = [0i32; 256];
    for &b in query {
        counts[usize::from(b)] += 1;
    }
    let mut near_bags = |w: &[u8]| {
        // Bytes of the word beyond the query's count of them.
        let mut extra = 0usize;
        for &b in w {
            let c = &mut counts[usize::from(b)];
            *c -= 1;
            extra += usize::from(*c < 0);
        }
        for &b in w {
            counts[usize::from(b)] += 1;
        }
        // Bytes of the query beyond the word's count: the counts' sum is
        // the query's length less the word's, so this many plus `extra`.
        let missing = (extra + query.len()).saturating_sub(w.len());
        extra.max(missing) <= k
    };
    words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.len().abs_diff(query.len()) <= k && near_bags(w))
        .filter_map(|(i, w)| Some((i, cmp.distance_with_args(w.iter().copied(), &args)?)))
        .collect()
}

/// The values (positions) of the keys of an fst within optimal string
/// alignment distance `k` of `query`, ascending, with their distances; keys and query ASCII, so that
/// bytes are the characters `strsim::osa_distance` counts. A depth-first walk
/// of the fst keeping one row of the distance table per depth (two rows back
/// for transpositions; only the diagonal band that can stay within `k`): a branch is left as soon as every cell of its row
/// exceeds `k` (no extension can come back under it, transpositions included,
/// since a row's minimum grows by at most one per row). It visits the same
/// paths as the Levenshtein automaton would, without building one per query.
///
/// `None` once the walk has followed more than `budget` transitions: where
/// many words share long stretches within the distance (`corp1234.example`
/// beside hundreds of `corpNNNN.example`), a walk visits more of the fst than
/// a [`scan`] compares words, and the caller scans instead.
pub fn walk(
    fst: &fst::raw::Fst<Vec<u8>>,
    query: &[u8],
    k: usize,
    budget: usize,
) -> Option<Vec<(usize, usize)>> {
    let mut followed = 0usize;
    let n = query.len();
    let w = n + 1;
    // Distances are capped at k + 1 (all that matters is whether one exceeds
    // k), and only the band |row - column| <= k is computed: outside it the
    // distance is at least the difference of the lengths, so over k.
    let cap = u8::try_from(k + 1).unwrap_or(u8::MAX);
    let capped = |v: usize| u8::try_from(v).map_or(cap, |v| v.min(cap));
    // rows[d * w..(d + 1) * w]: distances of the path's first d bytes to each query prefix.
    let mut rows: Vec<u8> = (0..w).map(capped).collect();
    let mut path: Vec<u8> = Vec::new();
    // (node, next transition, output so far) per depth.
    let mut stack: Vec<(fst::raw::CompiledAddr, usize, u64)> = vec![(fst.root().addr(), 0, 0)];
    let mut out = Vec::new();
    let root = fst.root();
    if root.is_final() && n <= k {
        out.push((root.final_output().value() as usize, n));
    }
    while let Some(top) = stack.last_mut() {
        let node = fst.node(top.0);
        if top.1 >= node.len() {
            stack.pop();
            path.pop();
            rows.truncate(stack.len() * w);
            continue;
        }
        let t = node.transition(top.1);
        top.1 += 1;
        followed += 1;
        if followed > budget {
            return None;
        }
        let sum = top.2 + t.out.value();
        let depth = stack.len(); // the new row's index (1-based length of the path)
        let c = t.inp;
        let (prev, cur) = ((depth - 1) * w, depth * w);
        rows.resize(cur + w, cap);
        rows[cur] = capped(depth);
        let mut least = rows[cur];
        for j in depth.saturating_sub(k).max(1)..=(depth + k).min(n) {
            let cost = u8::from(c != query[j - 1]);
            let mut v = (rows[prev + j] + 1)
                .min(rows[cur + j - 1] + 1)
                .min(rows[prev + j - 1] + cost);
            if depth > 1 && j > 1 && c == query[j - 2] && path[depth - 2] == query[j - 1] {
                v = v.min(rows[(depth - 2) * w + j - 2] + 1);
            }
            let v = v.min(cap);
            rows[cur + j] = v;
            least = least.min(v);
        }
        if usize::from(least) > k {
            rows.truncate(cur);
            continue;
        }
        let child = fst.node(t.addr);
        let dist = usize::from(rows[cur + n]);
        if child.is_final() && dist <= k {
            out.push(((sum + child.final_output().value()) as usize, dist));
        }
        path.push(c);
        stack.push((t.addr, 0, sum));
    }
    out.sort_unstable();
    Some(out)
}

/// How one lexicon's walks went, across the pool's threads: where most stop
/// at their budget (many words within two edits of each other), the rest of
/// its queries scan at once. Either way the answer is exact; only the time
/// depends on which queries came first.
#[derive(Default)]
pub struct Walks {
    done: std::sync::atomic::AtomicUsize,
    stopped: std::sync::atomic::AtomicUsize,
}

impl Walks {
    pub fn count(&self, finished: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        self.done.fetch_add(1, Relaxed);
        if !finished {
            self.stopped.fetch_add(1, Relaxed);
        }
    }

    /// At least 8 walks stopped, and more than half of all.
    pub fn futile(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let stopped = self.stopped.load(Relaxed);
        stopped >= 8 && stopped * 2 > self.done.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The words within `k` of `query` by `strsim`'s OSA distance.
    fn brute(words: &[&[u8]], query: &[u8], k: usize) -> Vec<(usize, usize)> {
        let q = std::str::from_utf8(query).unwrap_or_default();
        (0..words.len())
            .filter_map(|w| {
                let d = strsim::osa_distance(q, std::str::from_utf8(words[w]).unwrap_or_default());
                (d <= k).then_some((w, d))
            })
            .collect()
    }

    #[test]
    fn walks_are_futile_once_most_of_eight_or_more_stopped() {
        let w = Walks::default();
        (0..7).for_each(|_| w.count(false));
        assert!(!w.futile(), "7 stopped walks are too few to judge");
        w.count(false);
        assert!(w.futile(), "8 of 8 stopped");
        (0..8).for_each(|_| w.count(true));
        assert!(!w.futile(), "8 of 16 stopped is not more than half");
    }

    proptest! {
        /// A scan, a walk, and a walk cut short by its budget (`None`, never
        /// a partial answer) find exactly what the brute force finds.
        #[test]
        fn scan_and_walk_find_exactly_what_osa_allows(
            words in proptest::collection::btree_set("[abc.]{0,9}", 0..40),
            query in "[abc.]{0,9}",
            k in 0usize..3,
            budget in 0usize..200,
        ) {
            let w: Vec<&[u8]> = words.iter().map(|s| s.as_bytes()).collect();
            let expect = brute(&w, query.as_bytes(), k);
            prop_assert_eq!(&scan(&w, query.as_bytes(), k), &expect);
            // As a lexicon's: each word's value is its position.
            let map = fst::Map::from_iter(w.iter().enumerate().map(|(i, s)| (*s, i as u64)));
            let map = map.expect("sorted");
            let set = map.as_fst();
            let whole = walk(set, query.as_bytes(), k, usize::MAX);
            prop_assert_eq!(whole.as_ref(), Some(&expect));
            if let Some(cut) = walk(set, query.as_bytes(), k, budget) {
                prop_assert_eq!(cut, expect);
            }
        }
    }
}
