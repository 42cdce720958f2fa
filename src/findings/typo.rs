//! Typo findings: a failed recipient address a small edit away from an
//! address delivered at the same domain (`jonh.smith@` for `john.smith@`), or
//! whose domain is a small edit away from a domain delivered in these logs or
//! a well-known mail domain (`someone@exmaple.com`).
//!
//! Computed once at the end over distinct addresses, through an index instead
//! of comparing every failure with every delivered address of its domain (that
//! was quadratic, and its work budget dropped suggestions on large logs). The
//! delivered local parts of each domain with failures, and the delivered
//! domains, are each a [`Lexicon`]; its candidates for a query are every
//! string within the optimal string alignment distance its length allows
//! (transpositions costing one edit, as `strsim::osa_distance` counts), found
//! exactly: one query at a time when few queries ask many strings
//! ([`single`]: every string measured when the comparisons are few, else a
//! walk of the lexicon's `fst`), deletion neighbourhoods of all queries at
//! once when they are about as many ([`near`]: the distinct failed domains
//! against the delivered ones), a Levenshtein automaton
//! (`levenshtein_automata`) for strings that are not ASCII. Local parts equal but for dots (Gmail ignores
//! them) are found through their undotted form. Every candidate is then
//! judged by the same rule as before (distance, then most deliveries, then
//! the address), so the index changes how fast, not what, is suggested.
//! Lookups run on the rayon pool; findings come out in address order.

use super::finding::TypoEvidence;
use super::near;
use super::single::{self, Walks};
use super::Finding;
use crate::analysis::summary::Summary;
use crate::patterns::PatternSet;
use fst::{IntoStreamer, Streamer};
use levenshtein_automata::{LevenshteinAutomatonBuilder, DFA};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Edit distance allowed between two strings, by the shorter one's length in bytes.
pub fn allowed(len: usize) -> usize {
    if len <= 4 {
        1
    } else {
        2
    }
}

/// The two automaton builders (distance 1 and 2, transpositions as one edit).
pub struct Automata {
    one: LevenshteinAutomatonBuilder,
    two: LevenshteinAutomatonBuilder,
}

impl Default for Automata {
    fn default() -> Self {
        Automata {
            one: LevenshteinAutomatonBuilder::new(1, true),
            two: LevenshteinAutomatonBuilder::new(2, true),
        }
    }
}

impl Automata {
    /// An automaton accepting every string that some string could be allowed
    /// to be from `query`: [`allowed`] never exceeds `allowed(query.len())`.
    fn dfa(&self, query: &str) -> DFA {
        if allowed(query.len()) <= 1 {
            self.one.build_dfa(query)
        } else {
            self.two.build_dfa(query)
        }
    }
}

/// The positions of the near strings of a query in a [`Lexicon`], with their
/// distances when the search measured them.
type Near = Vec<(u32, Option<u8>)>;

/// Distinct strings in order, each with a value, and an fst from each to its
/// position.
pub struct Lexicon<'a, T> {
    items: Vec<(&'a str, T)>,
    /// Every string is ASCII: bytes are characters, and lookups of ASCII
    /// queries walk the fst with an edit-distance table instead of building
    /// an automaton per query.
    ascii: bool,
    /// Built on the first walk or automaton lookup (queries answered all at
    /// once through [`near::pairs`] never need it). `None` inside only if
    /// the fst could not be built (it cannot fail on sorted, distinct keys);
    /// lookups then scan `items`, slower but complete.
    fst: std::sync::OnceLock<Option<fst::Map<Vec<u8>>>>,
}

impl<'a, T> Lexicon<'a, T> {
    /// The lexicon of `items` (sorted here; of equal strings the first is kept).
    pub fn new(mut items: Vec<(&'a str, T)>) -> Self {
        items.sort_by(|a, b| a.0.cmp(b.0));
        items.dedup_by(|a, b| a.0 == b.0);
        let ascii = items.iter().all(|(k, _)| k.is_ascii());
        Lexicon {
            items,
            ascii,
            fst: std::sync::OnceLock::new(),
        }
    }

    /// The fst from each string to its position, built on first use.
    fn fst(&self) -> Option<&fst::Map<Vec<u8>>> {
        self.fst
            .get_or_init(|| {
                fst::Map::from_iter(
                    self.items
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.as_bytes(), i as u64)),
                )
                .ok()
            })
            .as_ref()
    }

    /// For each query, the positions (ascending) of the strings that some
    /// string could be allowed to be from it (see [`Automata::dfa`]): within
    /// the optimal string alignment distance `allowed(query.len())`; with
    /// that distance when the search computed it (ASCII lexicon and query:
    /// all of those at once through deletion neighbourhoods, [`near`]).
    fn candidates(&self, queries: &[&str], automata: &Automata) -> Vec<Near>
    where
        T: Sync,
    {
        let mut out: Vec<Near> = vec![Near::new(); queries.len()];
        let ascii = |q: &&str| self.ascii && q.is_ascii();
        let asked = queries.iter().filter(|q| ascii(q)).count();
        let by_table = |q: &&str| ascii(q) && near::by_pairs(self.items.len(), asked);
        let batch: Vec<usize> = (0..queries.len())
            .filter(|&i| by_table(&queries[i]))
            .collect();
        let words: Vec<&[u8]> = self.items.iter().map(|(k, _)| k.as_bytes()).collect();
        if !batch.is_empty() {
            let asked: Vec<(&[u8], usize)> = batch
                .iter()
                .map(|&i| (queries[i].as_bytes(), allowed(queries[i].len())))
                .collect();
            let pairs = near::pairs(&words, &asked);
            // Sized exactly: a pair is 8 bytes here, and there may be millions.
            let mut sizes = vec![0usize; batch.len()];
            for p in &pairs {
                sizes[p.0 as usize] += 1;
            }
            for (&i, n) in batch.iter().zip(sizes) {
                out[i] = Vec::with_capacity(n);
            }
            for (q, w, d) in pairs {
                out[batch[q as usize]].push((w, Some(d)));
            }
        }
        // Few comparisons in all: every ASCII query scans the words, and the
        // fst is never built.
        let scan_all = (asked - batch.len()).saturating_mul(words.len()) <= single::SCAN_PAIRS;
        let walks = Walks::default();
        let rest: Vec<(usize, Near)> = (0..queries.len())
            .into_par_iter()
            .filter(|&i| !by_table(&queries[i]))
            .map(|i| (i, self.one(queries[i], &words, scan_all, &walks, automata)))
            .collect();
        for (i, v) in rest {
            out[i] = v;
        }
        out
    }

    /// [`Lexicon::candidates`] of one query (`words`: the strings' bytes):
    /// for ASCII, a scan of the words when `scan`, when a walk of the fst
    /// would follow more transitions than a quarter of the words, or when
    /// most of this lexicon's walks so far did; else the walk. A Levenshtein
    /// automaton for other queries; without an fst every string.
    fn one(
        &self,
        query: &str,
        words: &[&[u8]],
        scan: bool,
        walks: &Walks,
        automata: &Automata,
    ) -> Near {
        let ascii = self.ascii && query.is_ascii();
        let k = allowed(query.len());
        let measured = |found: Vec<(usize, usize)>| -> Near {
            found
                .into_iter()
                .map(|(i, d)| (i as u32, u8::try_from(d).ok()))
                .collect()
        };
        if ascii && (scan || walks.futile()) {
            return measured(single::scan(words, query.as_bytes(), k));
        }
        let Some(map) = self.fst() else {
            return (0..self.items.len()).map(|i| (i as u32, None)).collect();
        };
        if ascii {
            let walked = single::walk(map.as_fst(), query.as_bytes(), k, words.len() / 4);
            walks.count(walked.is_some());
            return measured(walked.unwrap_or_else(|| single::scan(words, query.as_bytes(), k)));
        }
        let mut out = Vec::new();
        let dfa = automata.dfa(query);
        let mut stream = map.search(&dfa).into_stream();
        while let Some((_, i)) = stream.next() {
            out.push((i as u32, None));
        }
        out
    }

    /// The position of a string.
    fn get(&self, k: &str) -> Option<usize> {
        self.items.binary_search_by(|x| x.0.cmp(k)).ok()
    }
}

/// A local part without its dots.
fn undotted(s: &str) -> String {
    s.replace('.', "")
}

/// The delivered local parts of one domain, with their delivery counts.
pub struct Locals<'a> {
    lex: Lexicon<'a, u64>,
    /// Positions of the local parts that contain dots, by undotted form.
    dotted: HashMap<String, Vec<usize>>,
}

impl<'a> Locals<'a> {
    /// The near delivered local parts of each of `locals` (for [`Locals::best`]).
    pub fn candidates(&self, locals: &[&str], automata: &Automata) -> Vec<Near> {
        self.lex.candidates(locals, automata)
    }

    /// The index of delivered `(local part, deliveries)`.
    pub fn new(items: Vec<(&'a str, u64)>) -> Self {
        let lex = Lexicon::new(items);
        let mut dotted: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (l, _)) in lex.items.iter().enumerate() {
            if l.contains('.') {
                dotted.entry(undotted(l)).or_default().push(i);
            }
        }
        Locals { lex, dotted }
    }

    /// The delivered local part most like `local`: within the edit distance
    /// [`allowed`] for the shorter of the two (lengths at most 2 apart; equal
    /// but for dots counts as 0), nearest first, then most delivered, then
    /// alphabetical. With its distance and deliveries.
    /// `cands`: what [`Locals::candidates`] gave for `local`.
    pub fn best(&self, local: &str, mut cands: Near) -> Option<(usize, &'a str, u64)> {
        let u = undotted(local);
        cands.extend(self.lex.get(&u).map(|i| (i as u32, None)));
        if let Some(v) = self.dotted.get(&u) {
            cands.extend(v.iter().map(|&i| (i as u32, None)));
        }
        cands
            .into_iter()
            .map(|(i, dist)| (self.lex.items[i as usize], dist.map(usize::from)))
            .filter(|((l, _), _)| *l != local && l.len().abs_diff(local.len()) <= 2)
            .map(|((l, m), dist)| {
                let d = if l.bytes().filter(|&b| b != b'.').eq(u.bytes()) {
                    0
                } else {
                    dist.unwrap_or_else(|| strsim::osa_distance(local, l))
                };
                (d, l, m)
            })
            .filter(|(d, l, _)| *d <= allowed(local.len().min(l.len())))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)).then(a.1.cmp(b.1)))
    }
}

/// Domains a failed domain may be a typo of: those delivered in these logs
/// (with their deliveries; better evidence, so first) and the well-known ones.
pub struct Domains<'a> {
    delivered: Lexicon<'a, u64>,
    known: Vec<&'a str>,
}

impl<'a> Domains<'a> {
    /// The index of delivered `(domain, deliveries)` and the well-known list.
    pub fn new(delivered: Vec<(&'a str, u64)>, known: Vec<&'a str>) -> Self {
        Domains {
            delivered: Lexicon::new(delivered),
            known,
        }
    }

    /// The near delivered domains of each of `domains` (for [`Domains::best`]).
    pub fn candidates(&self, domains: &[&str], automata: &Automata) -> Vec<Near> {
        self.delivered.candidates(domains, automata)
    }

    /// True when mail to `d` was delivered.
    pub fn is_delivered(&self, d: &str) -> bool {
        self.delivered.get(d).is_some()
    }

    /// The domain most like `domain` (which is neither delivered nor well
    /// known): the nearest within [`allowed`], delivered ones before
    /// well-known ones, alphabetical among delivered ones and in list order
    /// among well-known ones. With why it is a good guess.
    /// `cands`: what [`Domains::candidates`] gave for `domain`.
    pub fn best(&self, domain: &str, cands: Near) -> Option<(&'a str, String)> {
        // `dist`: the distance when the search computed it already.
        let ok = |d: &str, dist: Option<usize>| {
            // The distance is at least the difference of the lengths (in
            // characters, which are bytes when both are ASCII).
            if domain.len().abs_diff(d.len()) > 2 && domain.is_ascii() && d.is_ascii() {
                return None;
            }
            let dist = dist.unwrap_or_else(|| strsim::osa_distance(domain, d));
            (dist > 0 && dist <= allowed(domain.len().min(d.len()))).then_some(dist)
        };
        // `min_by_key` keeps the first of equal minima: the order above.
        let delivered = cands
            .into_iter()
            .filter_map(|(i, dist)| {
                let (d, n) = self.delivered.items[i as usize];
                ok(d, dist.map(usize::from)).map(|dist| (dist, d, n))
            })
            .min_by_key(|x| x.0);
        let known = self
            .known
            .iter()
            .filter_map(|d| ok(d, None).map(|dist| (dist, *d)))
            .min_by_key(|x| x.0);
        match (delivered, known) {
            (Some((a, d, n)), k) if k.is_none_or(|(b, _)| a <= b) => Some((
                d,
                format!("{d} delivered {n} time{}", if n == 1 { "" } else { "s" }),
            )),
            (_, Some((_, d))) => Some((d, "a well-known mail domain".to_string())),
            _ => None,
        }
    }
}

/// Distinct sets of causes, each stored once and named by number: an address
/// fails for a few causes at most, and most addresses for the same one, so a
/// number per address rather than a vector each.
#[derive(Default)]
struct CauseSets<'a> {
    sets: Vec<Vec<&'a str>>,
    index: HashMap<Vec<&'a str>, u32>,
}

impl<'a> CauseSets<'a> {
    /// The number of the set `set` (or of the empty set) with `cause` added;
    /// sets are sorted and distinct.
    fn with(&mut self, set: Option<u32>, cause: &'a str) -> u32 {
        let mut v = match set {
            Some(i) if self.get(i).binary_search(&cause).is_ok() => return i,
            Some(i) => self.get(i).to_vec(),
            None => Vec::new(),
        };
        if let Err(i) = v.binary_search(&cause) {
            v.insert(i, cause);
        }
        if let Some(&i) = self.index.get(&v) {
            return i;
        }
        let i = self.sets.len() as u32;
        self.sets.push(v.clone());
        self.index.insert(v, i);
        i
    }

    fn get(&self, i: u32) -> &[&'a str] {
        self.sets.get(i as usize).map_or(&[], Vec::as_slice)
    }
}

/// One failed address never delivered: the address (lowercase), its
/// failures, its causes (in [`CauseSets`]) and where its last `@` is.
type Query<'a> = (&'a str, u64, u32, usize);

/// The local part and the domain of a query.
fn split<'a>(q: &Query<'a>) -> (&'a str, &'a str) {
    (&q.0[..q.3], &q.0[q.3 + 1..])
}

/// The typo findings of a summary, in address order.
pub fn typos(s: &Summary, ps: &PatternSet, kind: &str) -> Vec<Finding> {
    let known: Vec<&str> = ps
        .findings
        .get(kind)
        .map(|d| d.known_domains.iter().map(String::as_str).collect())
        .unwrap_or_default();
    // Distinct failed addresses (lowercase), with failures and causes.
    // Addresses already lowercase (nearly all) are borrowed, not copied.
    let mut sets = CauseSets::default();
    let mut failed: BTreeMap<Cow<'_, str>, (u64, Option<u32>)> = BTreeMap::new();
    for (k, g) in &s.groups {
        if ps.maybe_typo(&k.cause) {
            for (r, n) in g.recipients.entries() {
                let key: Cow<'_, str> = if r.bytes().any(|b| b.is_ascii_uppercase()) {
                    r.to_ascii_lowercase().into()
                } else {
                    r.into()
                };
                let e = failed.entry(key).or_default();
                e.0 += n;
                e.1 = Some(sets.with(e.1, k.cause.as_str()));
            }
        }
    }
    // Those never delivered (else not a typo), split at the last `@`.
    // Sized exactly (a collected filter would double).
    let queried = |addr: &str| s.diag.delivered.get(addr) == 0 && addr.contains('@');
    let mut queries: Vec<Query<'_>> =
        Vec::with_capacity(failed.keys().filter(|a| queried(a)).count());
    for (addr, (n, set)) in &failed {
        if let Some(at) = addr.rfind('@').filter(|_| queried(addr)) {
            queries.push((addr.as_ref(), *n, set.unwrap_or_default(), at));
        }
    }
    if queries.is_empty() {
        return Vec::new();
    }
    let wanted: BTreeSet<&str> = queries.iter().map(|q| split(q).1).collect();
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_domain: HashMap<&str, Vec<(&str, u64)>> = HashMap::new();
    for (addr, n) in s.diag.delivered.entries() {
        if let Some((l, d)) = addr.rsplit_once('@') {
            *totals.entry(d).or_default() += n;
            if wanted.contains(d) {
                by_domain.entry(d).or_default().push((l, n));
            }
        }
    }
    let automata = Automata::default();
    // (query, suggestion, why), for the queries that have one.
    let mut suggestions: Vec<(usize, String, String)> = Vec::new();
    {
        let domains = Domains::new(totals.into_iter().collect(), known.clone());
        // Domain typos: once per distinct domain that is neither delivered nor well known.
        let guess: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|d| !domains.is_delivered(d) && !known.contains(d))
            .collect();
        let near = domains.candidates(&guess, &automata);
        let domain_typos: HashMap<&str, (&str, String)> = guess
            .par_iter()
            .zip(near)
            .filter_map(|(d, cands)| domains.best(d, cands).map(|b| (*d, b)))
            .collect();
        // Local-part typos, one domain at a time (its index built, asked
        // and dropped: only one is in memory), its queries on the pool.
        let mut asked: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, q) in queries.iter().enumerate() {
            let (local, domain) = split(q);
            if by_domain.contains_key(domain) {
                asked.entry(domain).or_default().push(i);
            } else if let Some((d, why)) = domain_typos.get(domain) {
                suggestions.push((i, format!("{local}@{d}"), why.clone()));
            }
        }
        for (domain, delivered) in by_domain {
            let Some(asked) = asked.get(domain) else {
                continue;
            };
            let ix = Locals::new(delivered);
            let locals: Vec<&str> = asked.iter().map(|&i| split(&queries[i]).0).collect();
            let near = ix.candidates(&locals, &automata);
            let found: Vec<(usize, String, String)> = asked
                .par_iter()
                .zip(near)
                .filter_map(|(&i, cands)| {
                    let (local, _) = split(&queries[i]);
                    ix.best(local, cands).map(|(_, l, m)| {
                        let why = format!("delivered {m} time{}", if m == 1 { "" } else { "s" });
                        (i, format!("{l}@{domain}"), why)
                    })
                })
                .collect();
            suggestions.extend(found);
        }
    }
    // In address order, as the queries are. Each set of causes is one
    // shared list, and each finding holds a small struct its sentence is made from.
    suggestions.sort_unstable_by_key(|x| x.0);
    let causes: Vec<Arc<[String]>> = sets
        .sets
        .iter()
        .map(|v| v.iter().map(|c| c.to_string()).collect())
        .collect();
    let empty: Arc<[String]> = Arc::new([]);
    let mut out = Vec::with_capacity(suggestions.len());
    for (i, to, why) in suggestions {
        let (addr, n, set, _) = queries[i];
        let causes = causes.get(set as usize).unwrap_or(&empty).clone();
        let evidence = TypoEvidence::new(n, causes, &to, &why);
        out.push(Finding::typo(
            kind,
            addr.to_string(),
            evidence,
            empty.clone(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The walk (one query) and the neighbourhoods (many) find exactly
        /// the keys within the distance (the brute force of `strsim`), and at
        /// least what the automaton finds.
        #[test]
        fn candidates_are_what_osa_allows(
            keys in proptest::collection::vec("[ab.c]{0,10}", 0..60),
            query in "[ab.c]{0,10}",
        ) {
            let lex = Lexicon::new(keys.iter().map(|k| (k.as_str(), 0u64)).collect());
            let k = allowed(query.len());
            let all = lex.candidates(&[query.as_str(), "zz"], &Automata::default());
            let got = &all[0];
            let want: Near = lex
                .items
                .iter()
                .enumerate()
                .map(|(i, (s, _))| (i as u32, Some(strsim::osa_distance(s, &query))))
                .filter(|(_, d)| d.is_some_and(|d| d <= k))
                .map(|(i, d)| (i, d.and_then(|d| u8::try_from(d).ok())))
                .collect();
            prop_assert_eq!(got, &want);
            prop_assert!(all[1].is_empty(), "no key is near zz");
            // Asked as often as there are keys: through the neighbourhoods, the same.
            let many = vec![query.as_str(); 16];
            prop_assert!(near::by_pairs(lex.items.len(), many.len()) || lex.items.len() > 64);
            for got in lex.candidates(&many, &Automata::default()) {
                prop_assert_eq!(&got, &want);
            }
            let map = lex.fst().expect("fst");
            let dfa = Automata::default().dfa(&query);
            let mut stream = map.search(&dfa).into_stream();
            while let Some((_, i)) = stream.next() {
                prop_assert!(got.iter().any(|g| u64::from(g.0) == i));
            }
        }
    }

    #[test]
    fn non_ascii_lexicons_use_the_automaton() {
        let lex = Lexicon::new(vec![("josé", 1u64), ("jose", 1), ("josie", 1)]);
        assert!(!lex.ascii);
        let got: Vec<&str> = lex
            .candidates(&["jose"], &Automata::default())
            .swap_remove(0)
            .into_iter()
            .map(|(i, d)| {
                assert_eq!(d, None, "the automaton does not measure");
                lex.items[i as usize].0
            })
            .collect();
        assert_eq!(got, ["jose", "josie", "josé"]);
    }
}
