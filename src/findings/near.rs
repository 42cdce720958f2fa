//! Exact near-string search for the typo findings when queries are about as
//! many as words: every pair at once ([`pairs`]). One query at a time (a walk
//! of an fst, a scan) is [`single`](super::single); both find exactly the
//! words within optimal string alignment distance `k ≤ 2` of a query (ASCII
//! strings), so which one ran never shows.
//!
//! [`pairs`]: every pair of a query and a word within that distance of
//! each other (the distance of `strsim::osa_distance`: insertions, deletions,
//! substitutions and adjacent transpositions, each costing one), found through
//! deletion neighbourhoods instead of comparing every query with every word.
//!
//! Two strings within Levenshtein distance `d` become equal once at most `d`
//! characters are deleted from each (a substitution is a deletion on both
//! sides), so a word's variants with up to two deletions (its *plain*
//! neighbourhood) share a string with every query within two such edits. A
//! transposition is the one edit that deletions alone do not bring back within
//! budget (it costs two there), so a query's *full* neighbourhood adds its
//! variants with one transposition (and then up to one deletion) and with two
//! transpositions. A pair within OSA distance 2 is one of: at most two edits
//! that are not transpositions; one transposition and one other edit apart
//! (the transposed query is one edit from the word); two transpositions (the
//! twice-transposed query is the word). Each case shares a variant, so no pair
//! is missed; variants only propose candidates, and every candidate is then
//! measured exactly, so a shared variant of a farther pair (or a collision of
//! the variants' hashes) never reaches the result.
//!
//! The work is linear in the strings and their variant counts (about `L²/2`
//! per word and `2·L²` per query of `L` bytes), not in queries × words. One
//! side's variant hashes go into a table, in passes of at most
//! [`PASS_ENTRIES`] so that the table's memory is bounded whatever the input;
//! the other side is streamed through it on the rayon pool. Strings longer
//! than [`LONG`] bytes (no real address part is) are compared directly with
//! the words whose lengths allow a match, so no input makes a neighbourhood
//! explode.

use rayon::prelude::*;
use std::hash::BuildHasher;

/// The largest distance searched.
pub const MAX: usize = 2;
/// Strings longer than this are compared directly, not through variants.
pub const LONG: usize = 96;
/// Most variant fingerprints kept in the table at once (8 bytes each): at
/// most 7/8 of 2^19, so that the table's 2^19 buckets (4 MiB) are enough.
pub const PASS_ENTRIES: usize = (1 << 19) / 8 * 7;

/// Calls `f` with every string that deleting at most `d` (≤ 2) bytes of `s`
/// gives (some more than once), built in `bufs`. Consecutive variants differ
/// in one byte, so each is made by one write rather than a copy.
fn deletions(s: &[u8], d: usize, bufs: &mut [Vec<u8>; 2], f: &mut dyn FnMut(&[u8])) {
    f(s);
    if d == 0 || s.is_empty() {
        return;
    }
    let [one, two] = bufs;
    // `one` is `s` without byte i: bytes before i are s[..i], from i on s[i + 1..].
    one.clear();
    one.extend_from_slice(&s[1..]);
    for i in 0..s.len() {
        if i > 0 {
            one[i - 1] = s[i - 1];
        }
        f(one);
        if d >= 2 && i < one.len() {
            // `two` is `one` without its byte p, for p from i on (s without i and p + 1).
            two.clear();
            two.extend_from_slice(&one[..i]);
            two.extend_from_slice(&one[i + 1..]);
            for p in i..one.len() {
                if p > i {
                    two[p - 1] = one[p - 1];
                }
                f(two);
            }
        }
    }
}

/// Calls `f` with the full neighbourhood of a query within `k`: its deletions
/// (at most `k`), its single transpositions (with at most `k - 1` deletions
/// after) and, for `k = 2`, its pairs of separate transpositions.
fn full(s: &[u8], k: usize, bufs: &mut [Vec<u8>; 3], f: &mut dyn FnMut(&[u8])) {
    let [t, rest @ ..] = bufs;
    deletions(s, k, rest, f);
    if k == 0 {
        return;
    }
    for i in 0..s.len().saturating_sub(1) {
        if s[i] == s[i + 1] {
            continue;
        }
        t.clear();
        t.extend_from_slice(s);
        t.swap(i, i + 1);
        deletions(t, k - 1, rest, f);
        if k >= 2 {
            for j in i + 2..s.len().saturating_sub(1) {
                if t[j] != t[j + 1] {
                    t.swap(j, j + 1);
                    f(t);
                    t.swap(j, j + 1);
                }
            }
        }
    }
}

/// How many variants [`deletions`] gives for a string of `n` bytes.
fn deletion_count(n: usize, d: usize) -> usize {
    match d {
        0 => 1,
        1 => 1 + n,
        _ => 1 + n + n * n.saturating_sub(1) / 2,
    }
}

/// An upper bound of how many variants [`full`] gives.
fn full_count(n: usize, k: usize) -> usize {
    match k {
        0 => 1,
        1 => deletion_count(n, 1) + n,
        _ => deletion_count(n, 2) + n * deletion_count(n, 1) + n * n / 2,
    }
}

/// One side of the search: its strings, each with the variants it stands for.
struct Side<'s> {
    strings: Vec<&'s [u8]>,
    /// The budget of each string's variants: `Some(k)` for the full
    /// neighbourhood within `k` (queries), `None` for two deletions (words).
    full: Vec<Option<usize>>,
}

impl Side<'_> {
    fn variants(&self, i: usize, bufs: &mut [Vec<u8>; 3], f: &mut dyn FnMut(&[u8])) {
        match self.full[i] {
            Some(k) => full(self.strings[i], k, bufs, f),
            None => {
                let [_, rest @ ..] = bufs;
                deletions(self.strings[i], MAX, rest, f)
            }
        }
    }

    fn count(&self, i: usize) -> usize {
        let n = self.strings[i].len();
        match self.full[i] {
            Some(k) => full_count(n, k),
            None => deletion_count(n, MAX),
        }
    }
}

/// Every pair `(query, word, distance)` with the OSA distance of the two at
/// most the query's own `k` (at most [`MAX`]), sorted by query, then word.
/// Strings are bytes (ASCII, where bytes are characters).
pub fn pairs(words: &[&[u8]], queries: &[(&[u8], usize)]) -> Vec<(u32, u32, u8)> {
    pairs_in_passes(words, queries, PASS_ENTRIES)
}

/// [`pairs`], the table holding at most about `pass_entries` variants at once.
fn pairs_in_passes(
    words: &[&[u8]],
    queries: &[(&[u8], usize)],
    pass_entries: usize,
) -> Vec<(u32, u32, u8)> {
    // Long strings are compared directly; the rest go through variants.
    let (long_q, short_q): (Vec<usize>, Vec<usize>) =
        (0..queries.len()).partition(|&q| queries[q].0.len() > LONG);
    let (long_w, short_w): (Vec<usize>, Vec<usize>) =
        (0..words.len()).partition(|&w| words[w].len() > LONG);
    let mut out: Vec<(u32, u32, u8)> = Vec::new();
    let direct = |q: usize, ws: &mut dyn Iterator<Item = usize>| -> Vec<(u32, u32, u8)> {
        let (s, k) = queries[q];
        ws.filter(|&w| words[w].len().abs_diff(s.len()) <= k)
            .filter_map(|w| measure(s, words[w], k).map(|d| (q as u32, w as u32, d)))
            .collect()
    };
    out.par_extend(
        long_q
            .par_iter()
            .flat_map_iter(|&q| direct(q, &mut (0..words.len()))),
    );
    out.par_extend(
        short_q
            .par_iter()
            .flat_map_iter(|&q| direct(q, &mut long_w.iter().copied())),
    );
    let w_side = Side {
        strings: short_w.iter().map(|&w| words[w]).collect(),
        full: vec![None; short_w.len()],
    };
    let q_side = Side {
        strings: short_q.iter().map(|&q| queries[q].0).collect(),
        full: short_q
            .iter()
            .map(|&q| Some(queries[q].1.min(MAX)))
            .collect(),
    };
    let w_total: usize = (0..short_w.len()).map(|i| w_side.count(i)).sum();
    let q_total: usize = (0..short_q.len()).map(|i| q_side.count(i)).sum();
    // The side with fewer variants goes into the table. Candidates are
    // measured as they are found: only pairs within the distance are kept.
    let verify = |q: u32, w: u32| {
        let (q, w) = (short_q[q as usize], short_w[w as usize]);
        let (s, k) = queries[q];
        measure(s, words[w], k).map(|d| (q as u32, w as u32, d))
    };
    if w_total <= q_total {
        through_table(
            &w_side,
            &q_side,
            pass_entries,
            &|w, q| verify(q, w),
            &mut out,
        );
    } else {
        through_table(&q_side, &w_side, pass_entries, &verify, &mut out);
    }
    out.par_sort_unstable();
    out
}

/// The OSA distance of two ASCII strings when it is at most `k` (Hyyrö's
/// bit-parallel algorithm, stopping once the distance exceeds `k`).
fn measure(a: &[u8], b: &[u8], k: usize) -> Option<u8> {
    let k = k.min(MAX);
    if a.len().abs_diff(b.len()) > k {
        return None;
    }
    let args = rapidfuzz::distance::osa::Args::default().score_cutoff(k);
    let d =
        rapidfuzz::distance::osa::distance_with_args(a.iter().copied(), b.iter().copied(), &args)?;
    u8::try_from(d).ok()
}

/// Tabled strings per task while the table is filled.
const FILL_BLOCK: usize = 256;

/// One pass's table: every (variant fingerprint, tabled string) as
/// `fingerprint << 32 | string`, sorted and distinct, found through a
/// directory of the fingerprints' top bits. Filled on the pool (each block of
/// strings writes its own part of one buffer sized from the variant counts),
/// then sorted: the same entries a hash table would hold, 8 bytes each, with
/// no hashing or probing left on one thread.
struct Table {
    entries: Vec<u64>,
    /// `dir[b]..dir[b + 1]`: the entries whose fingerprint's top `bits` bits are `b`.
    dir: Vec<u32>,
    bits: u32,
}

impl Table {
    fn fill(
        tabled: &Side<'_>,
        range: std::ops::Range<usize>,
        total: usize,
        fingerprint: &(dyn Fn(&[u8]) -> u32 + Sync),
    ) -> Table {
        // Unused room (a neighbourhood's count is an upper bound) stays at
        // the largest value, which sorts last and is cut off.
        let mut entries = vec![u64::MAX; total];
        let mut blocks: Vec<(std::ops::Range<usize>, &mut [u64])> = Vec::new();
        let mut rest: &mut [u64] = &mut entries;
        let mut i = range.start;
        while i < range.end {
            let to = (i + FILL_BLOCK).min(range.end);
            let n: usize = (i..to).map(|j| tabled.count(j)).sum();
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(n);
            blocks.push((i..to, part));
            rest = tail;
            i = to;
        }
        blocks.into_par_iter().for_each(|(strings, part)| {
            let mut bufs = [Vec::new(), Vec::new(), Vec::new()];
            let mut at = 0;
            for j in strings {
                tabled.variants(j, &mut bufs, &mut |v| {
                    // `count` bounds the variants, so there is always room.
                    debug_assert!(at < part.len(), "more variants than counted");
                    if let Some(e) = part.get_mut(at) {
                        *e = u64::from(fingerprint(v)) << 32 | j as u64;
                        at += 1;
                    }
                });
            }
        });
        entries.par_sort_unstable();
        entries.dedup();
        entries.truncate(entries.partition_point(|&e| e != u64::MAX));
        // The room left by duplicates and by the counts' upper bounds is
        // given back: this table is held at the run's memory peak.
        entries.shrink_to_fit();
        // About eight entries per directory slot.
        let bits = (entries.len() / 8)
            .max(2)
            .next_power_of_two()
            .trailing_zeros();
        let top = |e: u64| (e >> 32 >> (32 - bits)) as usize;
        let mut dir = vec![0u32; (1 << bits) + 1];
        for &e in &entries {
            dir[top(e) + 1] += 1;
        }
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        Table { entries, dir, bits }
    }

    /// The tabled strings with a variant of fingerprint `fp`, ascending.
    fn strings(&self, fp: u32) -> impl Iterator<Item = u32> + '_ {
        let b = (fp >> (32 - self.bits)) as usize;
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        self.entries[lo..hi]
            .iter()
            .filter(move |&&e| (e >> 32) as u32 == fp)
            .map(|&e| e as u32)
    }
}

/// The strings of `tabled` and `streamed` that share a variant, each pair
/// once, given to `verify` (tabled, streamed); what it keeps goes to `out`.
fn through_table(
    tabled: &Side<'_>,
    streamed: &Side<'_>,
    pass_entries: usize,
    verify: &(dyn Fn(u32, u32) -> Option<(u32, u32, u8)> + Sync),
    out: &mut Vec<(u32, u32, u8)>,
) {
    let hasher = foldhash::fast::RandomState::default();
    // A variant's 32-bit fingerprint: equal variants have equal ones, and
    // the rare unequal variants that share one only propose a candidate.
    let fingerprint = |v: &[u8]| (hasher.hash_one(v) >> 32) as u32;
    let mut first = 0;
    while first < tabled.strings.len() {
        // One pass: as many tabled strings as fit the budget (at least one).
        let mut end = first;
        let mut entries = 0;
        while end < tabled.strings.len()
            && (end == first || entries + tabled.count(end) <= pass_entries)
        {
            entries += tabled.count(end);
            end += 1;
        }
        let table = Table::fill(tabled, first..end, entries, &fingerprint);
        // A bit per fingerprint in a small filter (at most 1 MiB, about 16
        // bits per entry) answers most lookups of variants that nothing
        // shares without touching the larger table.
        let bits = (table.entries.len() * 16)
            .next_power_of_two()
            .clamp(64, 1 << 23);
        let mut filter = vec![0u64; bits / 64];
        let bit = |fp: u32| (fp as usize) & (bits - 1);
        for &e in &table.entries {
            let b = bit((e >> 32) as u32);
            filter[b / 64] |= 1 << (b % 64);
        }
        let (filter, table) = (&filter, &table);
        out.par_extend(
            (0..streamed.strings.len())
                .into_par_iter()
                .map_init(
                    || ([Vec::new(), Vec::new(), Vec::new()], Vec::new()),
                    |(bufs, hits), j| {
                        hits.clear();
                        streamed.variants(j, bufs, &mut |v| {
                            let fp = fingerprint(v);
                            let b = bit(fp);
                            if filter[b / 64] & (1 << (b % 64)) == 0 {
                                return;
                            }
                            hits.extend(table.strings(fp));
                        });
                        hits.sort_unstable();
                        hits.dedup();
                        hits.iter()
                            .filter_map(|&i| verify(i, j as u32))
                            .collect::<Vec<_>>()
                    },
                )
                .flatten_iter(),
        );
        first = end;
    }
}

/// True when [`pairs`] should serve `queries` queries of `words` words
/// rather than a [`walk`](super::single::walk) per query: a walk visits about the part of the fst
/// within the distance of the query (at short depths, most of it), the
/// neighbourhoods cost about the same per word as per query.
pub fn by_pairs(words: usize, queries: usize) -> bool {
    queries.saturating_mul(4) >= words
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute(words: &[&[u8]], queries: &[(&[u8], usize)]) -> Vec<(u32, u32, u8)> {
        let mut out = Vec::new();
        for (q, (s, k)) in queries.iter().enumerate() {
            for (w, t) in words.iter().enumerate() {
                let d = strsim::osa_distance(
                    std::str::from_utf8(s).unwrap_or_default(),
                    std::str::from_utf8(t).unwrap_or_default(),
                );
                if d <= *k {
                    out.push((q as u32, w as u32, d as u8));
                }
            }
        }
        out
    }

    proptest! {
        /// The neighbourhoods find exactly the pairs the brute force finds,
        /// whichever side is tabled (few queries or few words).
        #[test]
        fn neighbourhoods_find_exactly_what_osa_allows(
            words in proptest::collection::vec("[abc.]{0,9}", 0..40),
            queries in proptest::collection::vec(("[abc.]{0,9}", 0usize..3), 0..40),
        ) {
            let w: Vec<&[u8]> = words.iter().map(|s| s.as_bytes()).collect();
            let q: Vec<(&[u8], usize)> = queries.iter().map(|(s, k)| (s.as_bytes(), *k)).collect();
            prop_assert_eq!(pairs(&w, &q), brute(&w, &q));
        }
    }

    #[test]
    fn deletions_are_every_string_of_up_to_two_bytes_fewer() {
        let s = b"abcde";
        let mut got = Vec::new();
        let mut bufs = [Vec::new(), Vec::new()];
        deletions(s, 2, &mut bufs, &mut |v| got.push(v.to_vec()));
        let mut want = vec![s.to_vec()];
        for i in 0..s.len() {
            let mut one = s.to_vec();
            one.remove(i);
            want.push(one.clone());
            for j in i..one.len() {
                let mut two = one.clone();
                two.remove(j);
                want.push(two);
            }
        }
        assert_eq!(got.len(), deletion_count(s.len(), 2));
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn transpositions_count_one_each_and_long_strings_are_measured() {
        let long = "a".repeat(LONG + 1);
        let longer = format!("{long}b");
        let words: Vec<&[u8]> = vec![b"john.smith", b"jane", long.as_bytes()];
        let queries: Vec<(&[u8], usize)> = vec![
            // two transpositions: distance 2 (Levenshtein would say 4)
            (b"ojhn.msith", 2),
            // one transposition and one substitution
            (b"jonh.smitx", 2),
            // one transposition, but only one edit allowed
            (b"jaen", 1),
            (longer.as_bytes(), 2),
        ];
        assert_eq!(
            pairs(&words, &queries),
            vec![(0, 0, 2), (1, 0, 2), (2, 1, 1), (3, 2, 1)]
        );
    }

    #[test]
    fn small_passes_give_the_same_pairs() {
        // More query variants than word variants: the words are tabled, in
        // many passes of at most 1000 variants.
        let words: Vec<String> = (0..800).map(|i| format!("user{i}")).collect();
        let queries: Vec<String> = (0..600).map(|i| format!("usre{}", i * 7 % 1000)).collect();
        let w: Vec<&[u8]> = words.iter().map(|s| s.as_bytes()).collect();
        let q: Vec<(&[u8], usize)> = queries.iter().map(|s| (s.as_bytes(), 2)).collect();
        let want = brute(&w, &q);
        assert!(want.len() > 600, "the typos have their words");
        assert_eq!(pairs_in_passes(&w, &q, 1000), want);
        assert_eq!(pairs(&w, &q), want);
    }
}
