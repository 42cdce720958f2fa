//! Which reply rules match a text, built piece by piece as texts need them.
//! A rule whose regex is an alternation (`a|b|c`, most are) is split into
//! its branches, each with the rule's leading flags
//! ([`reply_branches`](super::reply_branches)); a literal prefilter (one
//! Aho-Corasick automaton over the first bytes of the literals every match of
//! a branch starts with, each hit then compared with the whole literals)
//! picks the candidate branches and where each may match. A candidate that
//! is a few plain strings is decided by comparing bytes; any other by its own
//! small regex, compiled the first time a text makes it a candidate. A rule
//! matches when one of its branches does: the same answer as one automaton
//! over all the rules, but a run compiles only the few branches its texts
//! come near.

use super::reply_branches::branches_of;
use super::reply_split::Words;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The rules of one text set (masked or raw): pattern p is the p-th source.
#[derive(Debug, Clone)]
pub(super) struct RuleMatcher {
    /// Tells the matchers apart in the per-thread memo of answers.
    id: u64,
    sources: Arc<[String]>,
    parts: Arc<OnceLock<Parts>>,
}

/// Texts a thread remembers the answer for, per matcher; past this many the
/// memo starts afresh (masked texts repeat: a big log has few distinct ones).
const MEMO: usize = 4096;

/// One matcher's remembered answers: text → the patterns that match it.
type Answers = FxHashMap<Box<[u8]>, Box<[usize]>>;

thread_local! {
    static ANSWERS: RefCell<FxHashMap<u64, Answers>> = RefCell::default();
}

/// The literals' first bytes the automaton looks for: a few thousand
/// literals share far fewer starts of this length, and an automaton over
/// those builds several times faster (every run with a failure waits for it).
const HEAD: usize = 3;

/// The branches of all rules and the prefilter over them.
#[derive(Debug)]
struct Parts {
    branches: Vec<Branch>,
    /// Over the literals' heads (their first [`HEAD`] bytes, lower case,
    /// matched on a lower-case copy of the text); `None` if no branch has a
    /// literal.
    ac: Option<AhoCorasick>,
    /// The distinct literals, sorted: those of head `h` are
    /// `literals[heads[h]..heads[h + 1]]`.
    literals: Vec<Cow<'static, [u8]>>,
    heads: Vec<u32>,
    /// Branches of each literal (`of[starts[l]..starts[l + 1]]`).
    starts: Vec<u32>,
    of: Vec<u32>,
    /// Branches that have no literal: candidates for every text.
    always: Vec<u32>,
}

/// One branch of a rule's top-level alternation (or the whole regex).
#[derive(Debug)]
struct Branch {
    rule: u32,
    /// Set when the branch's matches are a few strings: compared where
    /// its literal was found, and its regex is never compiled.
    words: Option<Words>,
    source: Cow<'static, str>,
    regex: OnceLock<Regex>,
}

impl RuleMatcher {
    pub(super) fn new(sources: Vec<String>) -> RuleMatcher {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        RuleMatcher {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            sources: sources.into(),
            parts: Arc::new(OnceLock::new()),
        }
    }

    /// Compiles every rule now (users' files: errors surface when loading);
    /// the error is that of the first branch that does not compile.
    pub(super) fn build(&self) -> Result<(), String> {
        for b in &self.parts().branches {
            if b.regex.get().is_none() {
                let _ = b.regex.set(compile_rule(&b.source)?);
            }
        }
        Ok(())
    }

    pub(super) fn pattern_len(&self) -> usize {
        self.sources.len()
    }

    /// How many branches are compiled so far.
    pub(super) fn compiled(&self) -> usize {
        self.parts.get().map_or(0, |p| {
            p.branches
                .iter()
                .filter(|b| b.regex.get().is_some())
                .count()
        })
    }

    fn parts(&self) -> &Parts {
        self.parts.get_or_init(|| Parts::new(&self.sources))
    }

    /// The patterns that match `text`, in increasing order, into `found`
    /// (cleared first).
    pub(super) fn which(&self, text: &[u8], found: &mut Vec<usize>) {
        found.clear();
        if self.sources.is_empty() {
            return;
        }
        let known = ANSWERS.with_borrow(|a| {
            let hit = a.get(&self.id).and_then(|m| m.get(text));
            hit.map(|h| found.extend_from_slice(h)).is_some()
        });
        if !known {
            self.search(text, found);
            ANSWERS.with_borrow_mut(|a| {
                // Pattern sets loaded again and again (tests) leave theirs.
                if a.len() >= 16 && !a.contains_key(&self.id) {
                    a.clear();
                }
                let m = a.entry(self.id).or_default();
                if m.len() >= MEMO {
                    m.clear();
                }
                m.insert(text.into(), found.as_slice().into());
            });
        }
    }

    /// [`which`](Self::which), without the memo.
    fn search(&self, text: &[u8], found: &mut Vec<usize>) {
        let parts = self.parts();
        for (c, at) in parts.candidates(text) {
            let b = &parts.branches[c as usize];
            let rule = b.rule as usize;
            // Branches of a rule are consecutive: one match is enough.
            if found.last() == Some(&rule) {
                continue;
            }
            if let (Some(w), Some(at)) = (&b.words, at) {
                if w.matches(text, at) {
                    found.push(rule);
                }
                continue;
            }
            let re = b.regex.get_or_init(|| {
                compile_rule(&b.source).expect(
                    "reply rules were checked when loading (see `builtin_patterns_compile`)",
                )
            });
            // Every match of the branch starts with one of its literals, so
            // where one is found is the only place a match may start (the
            // whole text stays in view for `\b` and `^`).
            let input = match at {
                Some(at) => Input::new(text).range(at..).anchored(Anchored::Yes),
                None => Input::new(text),
            };
            if re.is_match(input) {
                found.push(rule);
            }
        }
    }
}

impl Parts {
    /// The branches that may match `text`, each with where its match must
    /// start (`None`: anywhere), sorted and distinct.
    fn candidates(&self, text: &[u8]) -> Vec<(u32, Option<usize>)> {
        let mut cands: Vec<(u32, Option<usize>)> = self.always.iter().map(|&b| (b, None)).collect();
        if let Some(ac) = &self.ac {
            let lower = text.to_ascii_lowercase();
            // Every place a head is found, the literals of that head that
            // are there: the places the literals themselves are found.
            for m in ac.find_overlapping_iter(&lower) {
                let h = m.pattern().as_usize();
                let at = m.start();
                for l in self.heads[h] as usize..self.heads[h + 1] as usize {
                    if !lower[at..].starts_with(&self.literals[l]) {
                        continue;
                    }
                    let (a, b) = (self.starts[l] as usize, self.starts[l + 1] as usize);
                    cands.extend(self.of[a..b].iter().map(|&b| (b, Some(at))));
                }
            }
        }
        cands.sort_unstable();
        cands.dedup();
        cands
    }

    fn new(sources: &[String]) -> Parts {
        let mut branches = Vec::new();
        let mut by_literal: Vec<(Cow<'static, [u8]>, u32)> = Vec::new();
        let mut always = Vec::new();
        for (p, s) in sources.iter().enumerate() {
            for (source, lits, words) in branches_of(s) {
                let id = branches.len() as u32;
                match lits {
                    Some(ls) => by_literal.extend(ls.into_iter().map(|l| (l, id))),
                    None => always.push(id),
                }
                branches.push(Branch {
                    rule: p as u32,
                    words,
                    source,
                    regex: OnceLock::new(),
                });
            }
        }
        by_literal.sort_unstable();
        by_literal.dedup();
        let mut literals: Vec<Cow<'static, [u8]>> = Vec::new();
        let mut starts = Vec::new();
        let mut of = Vec::with_capacity(by_literal.len());
        for (l, b) in by_literal {
            if literals.last() != Some(&l) {
                literals.push(l);
                starts.push(of.len() as u32);
            }
            of.push(b);
        }
        starts.push(of.len() as u32);
        // Sorted, the literals of one head are consecutive.
        let mut words: Vec<&[u8]> = Vec::new();
        let mut heads = Vec::new();
        for (i, l) in literals.iter().enumerate() {
            let h = &l[..l.len().min(HEAD)];
            if words.last() != Some(&h) {
                words.push(h);
                heads.push(i as u32);
            }
        }
        heads.push(literals.len() as u32);
        // The plain NFA: the quickest to build, and the texts it reads are
        // short and remembered.
        let ac = (!words.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                .build(&words)
                .expect("literals of a few hundred rules fit an automaton")
        });
        Parts {
            branches,
            ac,
            literals,
            heads,
            starts,
            of,
            always,
        }
    }
}

/// Compiles a rule's regex for `is_match` alone: byte classes as every rule
/// (see [`compile_bytes`](super::compile_bytes)), but no capture groups, no
/// literal prefilter and no full DFA (texts are short, the lazy DFA is
/// enough), which makes it quick to build.
fn compile_rule(re: &str) -> Result<Regex, String> {
    meta::Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(super::REGEX_SIZE_LIMIT))
                .auto_prefilter(false)
                .dfa(false)
                .onepass(false)
                .backtrack(false),
        )
        .build(re)
        .map_err(|e| super::one_line(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{reply_branches, reply_split};
    use super::*;

    fn lits(re: &str) -> Option<Vec<String>> {
        reply_split::literals(re).map(|v| {
            v.into_iter()
                .map(|l| String::from_utf8(l).expect("ascii"))
                .collect()
        })
    }

    #[test]
    fn literals_every_match_starts_with() {
        assert_eq!(lits("(?i)foo|Bar"), Some(vec!["bar".into(), "foo".into()]));
        assert_eq!(
            lits(r"\bgr[ae]y-?list"),
            Some(vec![
                "gray-list".into(),
                "graylist".into(),
                "grey-list".into(),
                "greylist".into()
            ])
        );
        assert_eq!(
            lits("(?:IP|domain) (?:address )?rep"),
            Some(vec![
                "domain addre".into(),
                "domain rep".into(),
                "ip address r".into(),
                "ip rep".into()
            ])
        );
        // Anything may start a match: no literal.
        assert_eq!(lits(r".{0,60}expired"), None);
        assert_eq!(lits(r"a|\d"), None);
        assert_eq!(lits(r"x?"), None);
        // A repeated item is a start, not all of the match.
        assert_eq!(lits(r"ab+c"), Some(vec!["ab".into()]));
        assert_eq!(lits(r"[^x]y"), None);
    }

    #[test]
    fn which_is_what_each_regex_says() {
        let sources = vec![
            "(?i)user unknown".to_string(),
            r"\d{3} no".to_string(),
            "(?i)unknown|mailbox".to_string(),
            "Unknown".to_string(),
        ];
        let m = RuleMatcher::new(sources);
        let mut found = Vec::new();
        m.which(b"550 USER UNKNOWN", &mut found);
        assert_eq!(found, vec![0, 2]);
        // Of the candidates, only `\d{3} no` needs its regex: the others
        // are plain strings, compared where their literal was found.
        assert_eq!(
            m.compiled(),
            1,
            "only candidates that are not strings are compiled"
        );
        m.which(b"550 no such user", &mut found);
        assert_eq!(found, vec![1]);
        m.which(b"Unknown", &mut found);
        assert_eq!(found, vec![2, 3]);
    }

    #[test]
    fn branches_carry_the_leading_flags() {
        let sources = |re: &str| {
            reply_split::split(re)
                .into_iter()
                .map(|b| b.0)
                .collect::<Vec<_>>()
        };
        assert_eq!(sources("(?i)foo|bar(?:x|y)"), ["(?i)foo", "(?i)bar(?:x|y)"]);
        assert_eq!(sources("foo|(?:b|c)"), ["foo", "(?:b|c)"]);
        // Flags set later apply to what follows: not split.
        assert_eq!(sources("a(?i)b|c"), ["a(?i)b|c"]);
        assert_eq!(sources("a|(?i)b|c"), ["a|(?i)b|c"]);
    }

    /// `build.rs` prepared every built-in rule, exactly as splitting it here
    /// does (a stale or partial table would change which branches a text
    /// is a candidate for).
    #[test]
    fn prepared_branches_are_the_split_of_every_builtin_rule() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins");
        let mut n = 0;
        for r in text_rules(&ps) {
            let i = reply_branches::PREPARED
                .binary_search_by(|(s, _)| (*s).cmp(r.regex.as_str()))
                .unwrap_or_else(|_| panic!("rule {} is not prepared", r.id));
            let owned = |ls: &[&[u8]]| ls.iter().map(|l| l.to_vec()).collect::<Vec<_>>();
            let table: reply_split::Branches = reply_branches::PREPARED[i]
                .1
                .iter()
                .map(|(b, ls, _)| (b.to_string(), ls.map(owned)))
                .collect();
            assert_eq!(table, reply_split::split(&r.regex), "rule {}", r.id);
            for (b, _, w) in reply_branches::PREPARED[i].1 {
                let w = w.map(|(ci, start, end, all)| reply_split::Words {
                    ci,
                    bounds: (start, end),
                    all: all.iter().map(|&l| Cow::Borrowed(l)).collect(),
                });
                assert_eq!(w, reply_split::words(b), "rule {}: {b}", r.id);
            }
            n += 1;
        }
        assert!(n > 100, "the built-in rules were found ({n})");
        assert!(
            reply_branches::PREPARED.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no source twice"
        );
    }

    /// Whether `branch` is decided by its strings; if so, checks that they
    /// say, at every position of texts built around them (case changed, cut
    /// short, word bytes or not on either side), what its compiled regex
    /// says there.
    fn words_agree_with_regex(branch: &str) -> bool {
        let Some(words) = branches_of(branch).pop().and_then(|p| p.2) else {
            return false;
        };
        let re = compile_rule(branch).expect("compiles");
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for s in &words.all {
            let up = s.to_ascii_uppercase();
            for core in [s.to_vec(), up.clone(), s[..s.len() - 1].to_vec()] {
                for (l, r) in [("", ""), ("x", "y"), (" ", " "), ("_", "."), ("é", "9")] {
                    texts.push([l.as_bytes(), &core, r.as_bytes()].concat());
                }
            }
        }
        for t in &texts {
            for at in 0..=t.len() {
                let input = Input::new(t).range(at..).anchored(Anchored::Yes);
                let text = String::from_utf8_lossy(t);
                assert_eq!(
                    words.matches(t, at),
                    re.is_match(input),
                    "{branch} on {text:?} at {at}"
                );
            }
        }
        true
    }

    #[test]
    fn builtin_words_decide_as_their_regex() {
        let mut branches = 0;
        for (_, bs) in reply_branches::PREPARED {
            for (b, lits, w) in bs.iter() {
                assert!(
                    w.is_none() || lits.is_some(),
                    "{b}: strings without a literal"
                );
                branches += usize::from(words_agree_with_regex(b));
            }
        }
        assert!(
            branches > 900,
            "most built-in branches are strings ({branches})"
        );
    }

    /// Users' shapes: what becomes strings and what is left to the regex.
    #[test]
    fn which_branches_are_strings() {
        for re in [
            "(?i)user unknown",
            "Unknown",
            r"\bDANE\b",
            "(?i)gr[ae]y ?list(?:ed|ing)?",
            "(?i)unknown (?:recipient |user )?domain",
            r"no such user\.",
            "[A-C]x",
            "(?i)[A-C]x",
            "_a_",
        ] {
            assert!(words_agree_with_regex(re), "{re}: strings");
        }
        for re in [
            "(?is)user unknown",
            "(?x)user unknown",
            "a(?i)b",
            "(?i:ab)",
            "user.unknown",
            "a+b",
            r"\d{3} no",
            "^550",
            "x?",
            r"a\bb",
            "[^x]y",
            "caf\u{e9}",
        ] {
            assert!(!words_agree_with_regex(re), "{re}: left to the regex");
        }
    }

    /// The built-in reply rules that have a regex.
    fn text_rules(ps: &crate::patterns::PatternSet) -> Vec<&crate::patterns::ReplyRule> {
        ps.reply
            .rules
            .iter()
            .filter(|r| !r.regex.is_empty())
            .collect()
    }

    /// The heads' automaton finds every place each literal is (the naive
    /// search over every literal and position says which), on the samples.
    #[test]
    fn candidates_are_every_place_of_every_literal() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins");
        let rules = text_rules(&ps);
        let parts = Parts::new(&rules.iter().map(|r| r.regex.clone()).collect::<Vec<_>>());
        let mut texts = 0;
        for r in &ps.reply.rules {
            for s in &r.samples {
                let text = ps.reply.mask(s).into_owned().into_bytes();
                let lower = text.to_ascii_lowercase();
                let mut expect: Vec<(u32, Option<usize>)> =
                    parts.always.iter().map(|&b| (b, None)).collect();
                for (l, lit) in parts.literals.iter().enumerate() {
                    for at in 0..lower.len() {
                        if lower[at..].starts_with(lit) {
                            let (a, b) = (parts.starts[l] as usize, parts.starts[l + 1] as usize);
                            expect.extend(parts.of[a..b].iter().map(|&b| (b, Some(at))));
                        }
                    }
                }
                expect.sort_unstable();
                expect.dedup();
                assert_eq!(parts.candidates(&text), expect, "{s}");
                texts += 1;
            }
        }
        assert!(texts > 300, "{texts} samples");
    }

    /// The oracle: for every built-in rule and every sample text of any
    /// rule, the matcher says what the rule's whole regex says.
    #[test]
    fn builtin_rules_match_as_their_whole_regexes() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins");
        let rules = text_rules(&ps);
        let whole: Vec<_> = rules
            .iter()
            .map(|r| crate::patterns::compile_str(&r.regex).expect("compiles"))
            .collect();
        let m = RuleMatcher::new(rules.iter().map(|r| r.regex.clone()).collect());
        let mut texts: Vec<String> = Vec::new();
        for r in &ps.reply.rules {
            for s in &r.samples {
                texts.push(ps.reply.mask(s).into_owned());
                texts.push(s.clone());
            }
        }
        let (mut found, mut hits) = (Vec::new(), 0);
        for t in &texts {
            m.which(t.as_bytes(), &mut found);
            let expect: Vec<usize> = (0..rules.len())
                .filter(|&p| whole[p].is_match(t.as_bytes()))
                .collect();
            assert_eq!(found, expect, "{t}");
            hits += found.len();
        }
        assert!(hits >= texts.len() / 2, "the samples match their rules");
    }
}
