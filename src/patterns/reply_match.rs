//! Which reply rules match a text, built piece by piece as texts need them:
//! a literal prefilter (one Aho-Corasick automaton over words every match of
//! a rule must start with) picks the candidate rules, and each candidate's
//! own regex, compiled the first time a text makes it a candidate, decides.
//! A run whose failures name a dozen causes compiles a dozen rules, not the
//! hundred-odd of the catalogue; the answer is the same as one automaton over
//! all of them would give.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use regex_syntax::ast::{self, Ast};
use std::sync::{Arc, OnceLock};

/// At most this many literals per rule; a rule with more is always a
/// candidate (its regex decides alone).
const MAX_LITERALS: usize = 250;
/// Literals are cut to this length: longer ones select no better.
const MAX_LEN: usize = 12;

/// The rules of one text set (masked or raw): pattern p is the p-th source.
#[derive(Debug, Clone)]
pub(super) struct RuleMatcher {
    sources: Arc<[String]>,
    prefilter: Arc<OnceLock<Prefilter>>,
    regexes: Arc<[OnceLock<Regex>]>,
}

#[derive(Debug)]
struct Prefilter {
    /// Over the literals, ASCII case-insensitive; `None` if no rule has one.
    ac: Option<AhoCorasick>,
    /// Rules of each literal of `ac` (`rules[starts[l]..starts[l + 1]]`).
    starts: Vec<u32>,
    rules: Vec<u32>,
    /// Rules that have no literal: candidates for every text.
    always: Vec<u32>,
}

impl RuleMatcher {
    pub(super) fn new(sources: Vec<String>) -> RuleMatcher {
        let regexes = sources.iter().map(|_| OnceLock::new()).collect();
        RuleMatcher {
            sources: sources.into(),
            prefilter: Arc::new(OnceLock::new()),
            regexes,
        }
    }

    /// Compiles every rule now (users' files: errors surface when loading);
    /// the error is that of the first rule that does not compile.
    pub(super) fn build(&self) -> Result<(), String> {
        for (s, cell) in self.sources.iter().zip(self.regexes.iter()) {
            if cell.get().is_none() {
                let _ = cell.set(compile_rule(s)?);
            }
        }
        self.prefilter();
        Ok(())
    }

    pub(super) fn pattern_len(&self) -> usize {
        self.sources.len()
    }

    /// How many of the rules are compiled so far.
    pub(super) fn compiled(&self) -> usize {
        self.regexes.iter().filter(|r| r.get().is_some()).count()
    }

    fn prefilter(&self) -> &Prefilter {
        self.prefilter.get_or_init(|| Prefilter::new(&self.sources))
    }

    fn regex(&self, p: usize) -> &Regex {
        self.regexes[p].get_or_init(|| {
            compile_rule(&self.sources[p])
                .expect("reply rules were checked when loading (see `builtin_patterns_compile`)")
        })
    }

    /// The patterns that match `text`, in increasing order, into `found`
    /// (cleared first).
    pub(super) fn which(&self, text: &[u8], found: &mut Vec<usize>) {
        found.clear();
        if self.sources.is_empty() {
            return;
        }
        let pf = self.prefilter();
        found.extend(pf.always.iter().map(|&p| p as usize));
        if let Some(ac) = &pf.ac {
            // The literals are lower case: an automaton without case
            // folding over a lower-case copy is the cheaper to build.
            let lower = text.to_ascii_lowercase();
            for m in ac.find_overlapping_iter(&lower) {
                let l = m.pattern().as_usize();
                let (a, b) = (pf.starts[l] as usize, pf.starts[l + 1] as usize);
                found.extend(pf.rules[a..b].iter().map(|&p| p as usize));
            }
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|&p| self.regex(p).is_match(text));
    }
}

impl Prefilter {
    fn new(sources: &[String]) -> Prefilter {
        let mut by_literal: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut always = Vec::new();
        for (p, s) in sources.iter().enumerate() {
            match literals(s) {
                Some(ls) => by_literal.extend(ls.into_iter().map(|l| (l, p as u32))),
                None => always.push(p as u32),
            }
        }
        by_literal.sort_unstable();
        by_literal.dedup();
        let mut words: Vec<&[u8]> = Vec::new();
        let mut starts = Vec::new();
        let mut rules = Vec::with_capacity(by_literal.len());
        for (l, p) in &by_literal {
            if words.last() != Some(&l.as_slice()) {
                words.push(l);
                starts.push(rules.len() as u32);
            }
            rules.push(*p);
        }
        starts.push(rules.len() as u32);
        let ac = (!words.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                .build(&words)
                .expect("literals of a few hundred rules fit an automaton")
        });
        Prefilter {
            ac,
            starts,
            rules,
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

/// Literals (ASCII, lower case) one of which, compared without case, every
/// match of `re` starts with; `None` when there is no such set (a match may
/// start anywhere, or the set would be too large). Read from the syntax tree
/// alone, without compiling: flags are ignored, which only makes the set
/// match more texts, never fewer.
pub(super) fn literals(re: &str) -> Option<Vec<Vec<u8>>> {
    let ast = ast::parse::ParserBuilder::new()
        .nest_limit(250)
        .octal(false)
        .build()
        .parse(re)
        .ok()?;
    let mut ls = prefixes(&ast)?;
    ls.sort_unstable();
    // A literal that another one starts selects no text the other does not.
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(ls.len());
    for (w, _) in &ls {
        if w.len == 0 {
            return None;
        }
        if !out.last().is_some_and(|l| w.bytes().starts_with(l)) {
            out.push(w.bytes().to_vec());
        }
    }
    Some(out)
}

/// A short literal, lower case, kept inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Word {
    buf: [u8; MAX_LEN],
    len: u8,
}

impl Word {
    const EMPTY: Word = Word {
        buf: [0; MAX_LEN],
        len: 0,
    };

    fn byte(b: u8) -> Word {
        let mut w = Word::EMPTY;
        w.buf[0] = b.to_ascii_lowercase();
        w.len = 1;
        w
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    /// `self` then `other`, and whether all of it fits.
    fn join(mut self, other: &Word) -> (Word, bool) {
        let room = MAX_LEN - self.len as usize;
        let n = room.min(other.len as usize);
        self.buf[self.len as usize..][..n].copy_from_slice(&other.buf[..n]);
        self.len += n as u8;
        (self, n == other.len as usize)
    }
}

/// A literal and whether it is all of the match (`true`) or its start.
type Lit = (Word, bool);

/// The literals every match of `ast` starts with (see [`literals`]).
fn prefixes(ast: &Ast) -> Option<Vec<Lit>> {
    let exact_empty = || Some(vec![(Word::EMPTY, true)]);
    match ast {
        Ast::Empty(_) | Ast::Flags(_) | Ast::Assertion(_) => exact_empty(),
        Ast::Literal(l) => ascii(l).map(|b| vec![(Word::byte(b), true)]),
        Ast::Dot(_) | Ast::ClassUnicode(_) | Ast::ClassPerl(_) => None,
        Ast::ClassBracketed(c) => {
            let mut v: Vec<Lit> = class(c)?
                .into_iter()
                .map(|b| (Word::byte(b), true))
                .collect();
            v.sort_unstable();
            v.dedup();
            Some(v)
        }
        Ast::Group(g) => prefixes(&g.ast),
        Ast::Repetition(r) => {
            let (min, max) = match &r.op.kind {
                ast::RepetitionKind::ZeroOrOne => (0, Some(1)),
                ast::RepetitionKind::ZeroOrMore => (0, None),
                ast::RepetitionKind::OneOrMore => (1, None),
                ast::RepetitionKind::Range(ast::RepetitionRange::Exactly(n)) => (*n, Some(*n)),
                ast::RepetitionKind::Range(ast::RepetitionRange::AtLeast(n)) => (*n, None),
                ast::RepetitionKind::Range(ast::RepetitionRange::Bounded(m, n)) => (*m, Some(*n)),
            };
            if max == Some(0) {
                return exact_empty();
            }
            let mut inner = prefixes(&r.ast)?;
            // Exact only when the item stands once.
            if max != Some(1) {
                inner.iter_mut().for_each(|l| l.1 = false);
            }
            if min == 0 {
                inner.push((Word::EMPTY, true));
            }
            Some(inner)
        }
        Ast::Alternation(a) => {
            let mut out = Vec::new();
            for b in &a.asts {
                out.extend(prefixes(b)?);
                if out.len() > MAX_LITERALS {
                    out.sort_unstable();
                    out.dedup();
                    if out.len() > MAX_LITERALS {
                        return None;
                    }
                }
            }
            Some(out)
        }
        Ast::Concat(c) => {
            let mut acc: Vec<Lit> = vec![(Word::EMPTY, true)];
            for item in &c.asts {
                let exact = acc.iter().filter(|l| l.1).count();
                if exact == 0 {
                    break;
                }
                let next = match prefixes(item) {
                    Some(n) if exact * n.len() + acc.len() <= MAX_LITERALS => n,
                    // Unknown, or too many: what is read so far is a start.
                    _ => {
                        acc.iter_mut().for_each(|l| l.1 = false);
                        break;
                    }
                };
                let mut grown = Vec::with_capacity(acc.len() + exact * next.len());
                for (a, ex) in acc {
                    if !ex {
                        grown.push((a, false));
                        continue;
                    }
                    for (b, bex) in &next {
                        let (w, whole) = a.join(b);
                        grown.push((w, whole && *bex && (w.len as usize) < MAX_LEN));
                    }
                }
                grown.sort_unstable();
                grown.dedup();
                acc = grown;
            }
            Some(acc)
        }
    }
}

/// The byte of an ASCII literal (others, and bytes written `\xFF`, stop the
/// literal: their meaning depends on the flags).
fn ascii(l: &ast::Literal) -> Option<u8> {
    u8::try_from(l.c).ok().filter(u8::is_ascii)
}

/// The bytes of a small bracketed class of ASCII literals and ranges
/// (`[ae]`, `[245]`), else `None`.
fn class(c: &ast::ClassBracketed) -> Option<Vec<u8>> {
    if c.negated {
        return None;
    }
    let mut out = Vec::new();
    let mut add = |item: &ast::ClassSetItem| -> Option<()> {
        match item {
            ast::ClassSetItem::Literal(l) => out.push(ascii(l)?),
            ast::ClassSetItem::Range(r) => {
                let (a, b) = (ascii(&r.start)?, ascii(&r.end)?);
                if b.checked_sub(a)? > 9 {
                    return None;
                }
                out.extend(a..=b);
            }
            _ => return None,
        }
        Some(())
    };
    match &c.kind {
        ast::ClassSet::Item(ast::ClassSetItem::Union(u)) => {
            for i in &u.items {
                add(i)?;
            }
        }
        ast::ClassSet::Item(i) => add(i)?,
        ast::ClassSet::BinaryOp(_) => return None,
    }
    (out.len() <= 10).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(re: &str) -> Option<Vec<String>> {
        literals(re).map(|v| {
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
        assert_eq!(m.compiled(), 3, "only the candidates are compiled");
        m.which(b"550 no such user", &mut found);
        assert_eq!(found, vec![1]);
        m.which(b"Unknown", &mut found);
        assert_eq!(found, vec![2, 3]);
    }
}
