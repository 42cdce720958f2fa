//! Which reply rules match a text, built piece by piece as texts need them.
//! A rule whose regex is an alternation (`a|b|c`, most are) is split into
//! its branches, each with the rule's leading flags; a literal prefilter (one
//! Aho-Corasick automaton over the words every match of a branch starts
//! with) picks the candidate branches, and each candidate's own small regex,
//! compiled the first time a text makes it a candidate, decides. A rule
//! matches when one of its branches does: the same answer as one automaton
//! over all the rules, but a run compiles only the few branches its texts
//! come near.

use super::reply_split;
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

/// The branches of all rules and the prefilter over them.
#[derive(Debug)]
struct Parts {
    branches: Vec<Branch>,
    /// Over the literals (lower case, matched on a lower-case copy of the
    /// text); `None` if no branch has one.
    ac: Option<AhoCorasick>,
    /// Branches of each literal of `ac` (`of[starts[l]..starts[l + 1]]`).
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
        // (branch, where its match must start); `None`: anywhere.
        let mut cands: Vec<(u32, Option<usize>)> =
            parts.always.iter().map(|&b| (b, None)).collect();
        if let Some(ac) = &parts.ac {
            let lower = text.to_ascii_lowercase();
            for m in ac.find_overlapping_iter(&lower) {
                let l = m.pattern().as_usize();
                let (a, b) = (parts.starts[l] as usize, parts.starts[l + 1] as usize);
                cands.extend(parts.of[a..b].iter().map(|&b| (b, Some(m.start()))));
            }
        }
        cands.sort_unstable();
        cands.dedup();
        for (c, at) in cands {
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
        let mut words: Vec<&[u8]> = Vec::new();
        let mut starts = Vec::new();
        let mut of = Vec::with_capacity(by_literal.len());
        for (l, b) in &by_literal {
            if words.last() != Some(&l.as_ref()) {
                words.push(l);
                starts.push(of.len() as u32);
            }
            of.push(*b);
        }
        starts.push(of.len() as u32);
        // The plain NFA: the quickest to build (a run's first failure waits
        // for it), and the texts it reads are short and remembered.
        let ac = (!words.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                .build(&words)
                .expect("literals of a few hundred rules fit an automaton")
        });
        Parts {
            branches,
            ac,
            starts,
            of,
            always,
        }
    }
}

/// The strings of a branch whose matches are a few (see
/// [`reply_split::Words`]).
#[derive(Debug)]
struct Words {
    ci: bool,
    bounds: (bool, bool),
    all: Vec<Cow<'static, [u8]>>,
}

impl Words {
    /// Whether one of the strings starts at `at` (with its word boundaries).
    fn matches(&self, text: &[u8], at: usize) -> bool {
        // Whether byte i - 1 is an ASCII word byte (`\b` of a regex without
        // Unicode, as the rules are compiled).
        let word_before = |i: usize| {
            i.checked_sub(1)
                .and_then(|j| text.get(j))
                .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
        };
        let boundary = |i: usize| word_before(i) != word_before(i + 1);
        if self.bounds.0 && !boundary(at) {
            return false;
        }
        let rest = text.get(at..).unwrap_or_default();
        self.all.iter().any(|s| {
            let starts = rest.get(..s.len()).is_some_and(|head| {
                if self.ci {
                    head.eq_ignore_ascii_case(s)
                } else {
                    head == s.as_ref()
                }
            });
            starts && (!self.bounds.1 || boundary(at + s.len()))
        })
    }
}

/// A branch's regex, its literals (see [`reply_split::split`]) and its
/// strings if they are few ([`reply_split::words`]).
type Prepared = (
    Cow<'static, str>,
    Option<Vec<Cow<'static, [u8]>>>,
    Option<Words>,
);

/// The branches of a rule's regex: prepared by `build.rs` for the built-in
/// rules, split here for any other.
fn branches_of(re: &str) -> Vec<Prepared> {
    fn borrowed(ls: &'static [&'static [u8]]) -> Vec<Cow<'static, [u8]>> {
        ls.iter().map(|&l| Cow::Borrowed(l)).collect()
    }
    if let Ok(i) = prepared::PREPARED.binary_search_by(|(s, _)| (*s).cmp(re)) {
        return prepared::PREPARED[i]
            .1
            .iter()
            .map(|(b, ls, w)| {
                let words = w.map(|(ci, start, end, all)| Words {
                    ci,
                    bounds: (start, end),
                    all: borrowed(all),
                });
                (Cow::Borrowed(*b), ls.map(borrowed), words)
            })
            .collect();
    }
    reply_split::split(re)
        .into_iter()
        .map(|(b, ls)| {
            let words = reply_split::words(&b).map(|w| Words {
                ci: w.ci,
                bounds: w.bounds,
                all: w.all.into_iter().map(Cow::Owned).collect(),
            });
            let ls = ls.map(|ls| ls.into_iter().map(Cow::Owned).collect());
            (Cow::Owned(b), ls, words)
        })
        .collect()
}

/// The built-in rules' branches, written by `build.rs` from
/// `patterns/replies.toml` with [`reply_split::split`]: sorted by source.
mod prepared {
    include!(concat!(env!("OUT_DIR"), "/prepared_replies.rs"));
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
        for r in ps.reply.rules.iter().filter(|r| !r.regex.is_empty()) {
            let i = prepared::PREPARED
                .binary_search_by(|(s, _)| (*s).cmp(r.regex.as_str()))
                .unwrap_or_else(|_| panic!("rule {} is not prepared", r.id));
            let owned = |ls: &[&[u8]]| ls.iter().map(|l| l.to_vec()).collect::<Vec<_>>();
            let table: reply_split::Branches = prepared::PREPARED[i]
                .1
                .iter()
                .map(|(b, ls, _)| (b.to_string(), ls.map(owned)))
                .collect();
            assert_eq!(table, reply_split::split(&r.regex), "rule {}", r.id);
            for (b, _, w) in prepared::PREPARED[i].1 {
                let w = w.map(|(ci, start, end, all)| reply_split::Words {
                    ci,
                    bounds: (start, end),
                    all: owned(all),
                });
                assert_eq!(w, reply_split::words(b), "rule {}: {b}", r.id);
            }
            n += 1;
        }
        assert!(n > 100, "the built-in rules were found ({n})");
        assert!(
            prepared::PREPARED.windows(2).all(|w| w[0].0 < w[1].0),
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
        for (_, bs) in prepared::PREPARED {
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

    /// The oracle: for every built-in rule and every sample text of any
    /// rule, the matcher says what the rule's whole regex says.
    #[test]
    fn builtin_rules_match_as_their_whole_regexes() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins");
        let rules: Vec<_> = ps
            .reply
            .rules
            .iter()
            .filter(|r| !r.regex.is_empty())
            .collect();
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
