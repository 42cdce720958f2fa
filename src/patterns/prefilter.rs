//! The literal prefilter of an MTA's line rules: for each rule, a set of
//! literals one of which every match must contain, read from the regex itself
//! (never written by hand, so it cannot disagree with the rule); and one
//! Aho-Corasick automaton over all of them that tells, in a single pass over a
//! line, which rules could match. Lines no rule could match (connects, TLS
//! notes, message-ids: about half of a Postfix log) never reach a regex.
//! Also the test behind a rule's `onepass = true` ([`one_pass`]).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use regex_syntax::hir::{Hir, HirKind};
use std::sync::OnceLock;

/// Literals shorter than this are too common to be worth searching for.
const MIN_LITERAL: usize = 3;
/// Alternations with more branches than this are not turned into literals.
const MAX_LITERALS: usize = 16;

/// Candidate rules of a line, one bit per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    words: Vec<u64>,
}

impl Candidates {
    fn with_len(n: usize) -> Candidates {
        Candidates {
            words: vec![0; n.div_ceil(64)],
        }
    }

    fn set(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    fn or(&mut self, o: &Candidates) {
        for (a, b) in self.words.iter_mut().zip(&o.words) {
            *a |= b;
        }
    }

    /// Rule indexes in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// Which rules a line could match. Built on first use, so that the rules of
/// an MTA that wrote no line of the input cost nothing.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// Regex sources of the rules, in order.
    regexes: Vec<String>,
    built: OnceLock<Built>,
}

/// The prefilter, built.
#[derive(Debug, Clone)]
struct Built {
    /// One automaton over every rule's literals (`None` when no rule has any).
    automaton: Option<AhoCorasick>,
    /// The rules each literal stands for.
    rules_of: Vec<Candidates>,
    /// Rules without literals: always candidates.
    always: Candidates,
}

impl Prefilter {
    /// The prefilter of rules given by their regex sources, in order.
    pub fn new<'a>(regexes: impl IntoIterator<Item = &'a str>) -> Prefilter {
        Prefilter {
            regexes: regexes.into_iter().map(str::to_string).collect(),
            built: OnceLock::new(),
        }
    }

    /// The rules that could match `text` (a superset of those that do).
    pub fn candidates(&self, text: &[u8], out: &mut Candidates) {
        self.built
            .get_or_init(|| Built::new(&self.regexes))
            .candidates(text, out)
    }
}

impl Built {
    fn new(regexes: &[String]) -> Built {
        let n = regexes.len();
        let mut always = Candidates::with_len(n);
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut rules_of: Vec<Candidates> = Vec::new();
        for (i, re) in regexes.iter().enumerate() {
            match required_literals(re) {
                Some(lits) => {
                    for l in lits {
                        let at = match literals.iter().position(|x| *x == l) {
                            Some(p) => p,
                            None => {
                                literals.push(l);
                                rules_of.push(Candidates::with_len(n));
                                literals.len() - 1
                            }
                        };
                        rules_of[at].set(i);
                    }
                }
                None => always.set(i),
            }
        }
        // Leftmost-longest reports, at each start, the longest literal there;
        // every literal that is a prefix of it occurs there too, so it stands
        // for their rules as well. Resuming one byte after each start then
        // finds every occurrence of every literal (see `candidates`).
        let prefix_closed: Vec<Candidates> = literals
            .iter()
            .map(|l| {
                let mut c = Candidates::with_len(n);
                for (j, other) in literals.iter().enumerate() {
                    if l.starts_with(other) {
                        c.or(&rules_of[j]);
                    }
                }
                c
            })
            .collect();
        let rules_of = prefix_closed;
        let automaton = if literals.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&literals)
                .ok()
        };
        if automaton.is_none() {
            // Without an automaton every rule must be tried.
            for i in 0..n {
                always.set(i);
            }
        }
        Built {
            automaton,
            rules_of,
            always,
        }
    }

    fn candidates(&self, text: &[u8], out: &mut Candidates) {
        out.words.clone_from(&self.always.words);
        if let Some(ac) = &self.automaton {
            let mut at = 0;
            while let Some(m) = ac.find(Input::new(text).span(at..text.len())) {
                out.or(&self.rules_of[m.pattern().as_usize()]);
                at = m.start() + 1;
            }
        }
    }
}

/// Literals one of which every match of `re` contains, or `None` when the
/// regex has no such set worth searching for (or does not parse: the regex
/// compiler reports that).
pub fn required_literals(re: &str) -> Option<Vec<Vec<u8>>> {
    let hir = super::parse_bytes(re)?;
    required(&hir).filter(|set| set.iter().all(|l| l.len() >= MIN_LITERAL))
}

/// Bytes that every match of `re` contains (as bytes, no Unicode): a text
/// lacking one cannot match, which a `memchr` tells faster than the regex.
/// Empty when nothing is certain (or `re` does not parse).
pub fn required_bytes(re: &str) -> Vec<u8> {
    let Some(hir) = super::parse_bytes(re) else {
        return Vec::new();
    };
    let mut out: Vec<u8> = needed_bytes(&hir).into_iter().collect();
    out.sort_unstable();
    out
}

fn needed_bytes(h: &Hir) -> std::collections::BTreeSet<u8> {
    match h.kind() {
        HirKind::Literal(l) => l.0.iter().copied().collect(),
        HirKind::Class(regex_syntax::hir::Class::Bytes(c)) => match c.ranges() {
            [r] if r.start() == r.end() => [r.start()].into(),
            _ => Default::default(),
        },
        HirKind::Capture(c) => needed_bytes(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => needed_bytes(&r.sub),
        HirKind::Concat(subs) => subs.iter().flat_map(needed_bytes).collect(),
        HirKind::Alternation(subs) => {
            let mut sets = subs.iter().map(needed_bytes);
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |a, b| a.intersection(&b).copied().collect())
        }
        _ => Default::default(),
    }
}

/// Whether `re` (compiled as line rules are: bytes, no Unicode) is a
/// one-pass regex, which the regex engine captures with its one-pass DFA
/// (one scan, no backtracking): `Err` says why not.
pub fn one_pass(re: &str) -> Result<(), String> {
    use regex_automata::{dfa::onepass, util::syntax};
    onepass::DFA::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build(re)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Score of a literal set: its shortest literal (longer is rarer), then fewer literals.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(set.len()))
}

fn required(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(l) => Some(vec![l.0.to_vec()]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(subs) => {
            // Each part alone, and each run of parts with few exact spellings
            // joined: ` (?P<status>\*\*|==) ` gives " ** " and " == ", where
            // its parts alone give only one-byte " " or two-byte "**".
            let mut sets: Vec<Vec<Vec<u8>>> = subs.iter().filter_map(required).collect();
            let mut run: Option<Vec<Vec<u8>>> = None;
            for s in subs {
                let e = exact(s);
                run = match (run, e) {
                    (Some(r), Some(e)) => product(&r, &e).or(Some(e)),
                    (_, e) => e,
                };
                if let Some(r) = &run {
                    sets.push(r.clone());
                }
            }
            sets.into_iter().max_by_key(|s| score(s))
        }
        HirKind::Alternation(subs) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for s in subs {
                for l in required(s)? {
                    if !all.contains(&l) {
                        all.push(l);
                    }
                }
            }
            (all.len() <= MAX_LITERALS).then_some(all)
        }
        _ => None,
    }
}

/// Every string `h` matches, when they are few: literals, and alternations
/// and concatenations of them (`None` for anything else).
fn exact(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(l) => Some(vec![l.0.to_vec()]),
        HirKind::Capture(c) => exact(&c.sub),
        HirKind::Alternation(subs) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for s in subs {
                for l in exact(s)? {
                    if !all.contains(&l) {
                        all.push(l);
                    }
                }
            }
            (all.len() <= MAX_LITERALS).then_some(all)
        }
        HirKind::Concat(subs) => subs
            .iter()
            .try_fold(vec![Vec::new()], |acc, s| product(&acc, &exact(s)?)),
        _ => None,
    }
}

/// Each string of `a` followed by each of `b`, unless that makes too many.
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_LITERALS {
        return None;
    }
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let l = [x.as_slice(), y.as_slice()].concat();
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_bytes_are_those_every_match_holds() {
        assert_eq!(required_bytes(r"<[^<>\s]+>"), b"<>");
        assert_eq!(required_bytes(r"\b[245][0-9][0-9]-(?:x )?"), b"-");
        assert_eq!(required_bytes(r"(?i)\b(?:https?|ftp)://[^/\s]+"), b"/:");
        assert_eq!(required_bytes(r"a@b|c@d"), b"@");
        assert_eq!(
            required_bytes(r"(?:ipv6:)?[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){3,7}"),
            b":"
        );
        assert_eq!(required_bytes(r"x?y*"), b"");
        assert_eq!(required_bytes(r"("), b"", "does not parse");
    }

    /// A mask skipped because its text lacks a needed byte could not have
    /// matched: the built-in masks on texts with and without those bytes.
    #[test]
    fn built_in_masks_match_no_text_without_their_bytes() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins load");
        let syn = &ps.reply.syntax;
        assert_eq!(syn.masks.len(), syn.mask_needs.len());
        assert!(syn.mask_needs.iter().filter(|n| !n.is_empty()).count() >= 5);
        let texts: [&[u8]; 4] = [
            b"550-5.1.1 <a@example.com>: see https://x.example/y at 192.0.2.1 or 2001:db8::1",
            b"451 4.7.1 Try again later",
            b"host mx.example.net said: 550 no",
            b"abc",
        ];
        for ((re, _, name), needs) in syn.masks.iter().zip(&syn.mask_needs) {
            for t in texts {
                let has_all = needs.iter().all(|b| t.contains(b));
                if !has_all {
                    assert!(!re.is_match(t), "{name}: {}", String::from_utf8_lossy(t));
                }
            }
        }
    }

    fn lits(re: &str) -> Option<Vec<String>> {
        required_literals(re).map(|v| {
            v.into_iter()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .collect()
        })
    }

    #[test]
    fn literals_are_read_from_the_regex() {
        assert_eq!(
            lits(r"^(?:NOQUEUE: )?(?:milter-)?reject: (?P<stage>[A-Z]+)"),
            Some(vec!["reject: ".into()])
        );
        // Runs of literals and small alternations are joined.
        assert_eq!(
            lits(r"^(?P<q>\w+): (?:sender|postmaster) non-delivery"),
            Some(vec![
                ": sender non-delivery".into(),
                ": postmaster non-delivery".into()
            ])
        );
        assert_eq!(
            lits(r"^(?P<id>\w{6}-\w{6}-\w{2}) (?P<status>\*\*|==) (?P<rcpt>\S+)"),
            Some(vec![" ** ".into(), " == ".into()])
        );
        // A run that would spell too many strings starts again.
        assert_eq!(
            lits(r"^\w+ (?:aa|bb|cc|dd|ee)(?:ff|gg|hh|ii)xyz"),
            Some(vec![
                "ffxyz".into(),
                "ggxyz".into(),
                "hhxyz".into(),
                "iixyz".into()
            ])
        );
        assert_eq!(
            lits(r"(?:unknown user|no mailbox)"),
            Some(vec!["unknown user".into(), "no mailbox".into()])
        );
        // Optional parts, short literals and case-folded text give no literal.
        assert_eq!(lits(r"^(?:removed)?$"), None);
        assert_eq!(lits(r"^\w+:o$"), None);
        assert_eq!(lits(r"(?i)^\w+: removed$"), None);
    }

    #[test]
    fn candidates_are_a_superset_of_the_matching_rules() {
        let rules = [r"reject: (\w+)", r"^(\w+): removed$", r"(?i)status=\w+"];
        let p = Prefilter::new(rules);
        let mut c = Candidates::default();
        p.candidates(b"ABC: removed", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![1, 2]);
        p.candidates(b"NOQUEUE: reject: RCPT ABC: removed", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        p.candidates(b"connect from x", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn many_rules_use_more_than_one_word() {
        let rules: Vec<String> = (0..100).map(|i| format!("rule{i:03}x")).collect();
        let p = Prefilter::new(rules.iter().map(String::as_str));
        let mut c = Candidates::default();
        p.candidates(b"... rule099x and rule003x ...", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![3, 99]);
    }

    #[test]
    fn overlapping_and_nested_literals_are_all_found() {
        // "status=" is a prefix of "status=sent"; "sent, " starts inside it;
        // "us=s" lies wholly inside it.
        let rules = [r"status=sent\b", r"status=\w+", r"sent, ", r"us=s"];
        let p = Prefilter::new(rules);
        let mut c = Candidates::default();
        p.candidates(b"x status=sent, y", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        p.candidates(b"x status=deferred", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![1]);
    }
}

#[cfg(test)]
mod one_pass_tests {
    use super::one_pass;

    #[test]
    fn one_pass_regexes_are_told_apart() {
        assert!(
            one_pass(r"^(?P<id>\w+) (?P<status>=>|->) (?P<rcpt>\S+)(?: <(?P<o>[^>]*)>)?").is_ok()
        );
        assert!(one_pass(r"^delivery (?P<d>\d+): (?P<status>success): ").is_ok());
        // A lazy repeat followed by what it repeats, alternatives that start alike.
        assert!(one_pass(r"^(?P<id>\w+) <= (?:\S+ )*?H=(?P<h>\S+)").is_err());
        assert!(one_pass(r"^(?:(?P<a>\d{4}-)|(?P<b>\d{9}\.))").is_err());
    }
}

#[cfg(test)]
mod builtin {
    use super::required_literals;

    /// The rules of the hot line shapes of each MTA reach the prefilter with a
    /// literal (a rule without one is tried on every line of its MTA).
    #[test]
    fn hot_rules_have_literals() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-in patterns");
        for (id, want) in [
            ("exim.delivery.ok", " => "),
            ("exim.received", " <= "),
            ("exim.completed", " Completed"),
            ("exim.delivery.router", " ** "),
            ("qmail.send.delivery", ": success: "),
            ("qmail.send.start", "starting delivery "),
        ] {
            let rule = ps
                .mtas
                .iter()
                .flat_map(|m| &m.rules)
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("no rule {id}"));
            let lits = required_literals(rule.regex.as_str()).unwrap_or_default();
            let lits: Vec<String> = lits
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            assert!(
                lits.iter().any(|l| l.contains(want)),
                "{id}: {lits:?} has no literal with {want:?}"
            );
        }
    }
}
