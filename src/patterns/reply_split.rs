//! How a reply rule's regex splits into branches, and the literals every
//! match of a branch starts with: read from the regex's syntax tree alone,
//! without compiling. [`reply_match`](super::reply_match) uses it for rules
//! read at run time (users' files); `build.rs` runs the same code over the
//! built-in rules, so a run finds their branches prepared (the tree of a few
//! hundred rules costs more to build than the rest of the start-up).
//!
//! Self-contained (only `regex-syntax` and `std`), so that `build.rs` can
//! include it as a module of its own.

use regex_syntax::ast::{self, Ast};
use std::borrow::Cow;

/// At most this many literals per branch; a branch with more is always a
/// candidate (its regex decides alone).
const MAX_LITERALS: usize = 250;
/// Literals are cut to this length: longer ones select no better.
const MAX_LEN: usize = 12;

/// A branch's regex and the literals (lower case) one of which every match
/// of it starts with, or `None` when a match may start anywhere.
pub type Branches = Vec<(String, Option<Vec<Vec<u8>>>)>;

/// At most this many strings in a branch's [`Words`].
const MAX_WORDS: usize = 64;

/// A branch whose matches are a short list of ASCII strings (`user unknown`,
/// `unknown (?:recipient )?domain`, `gr[ae]y ?listed`): a text matches it at
/// a position exactly when one of the strings starts there, so it is decided
/// by comparing bytes ([`Words::matches`]), with no regex to compile. The
/// strings are borrowed from the table `build.rs` prepared, or owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// Compared without ASCII case (the branch starts with `(?i)`); the
    /// strings are then lower case.
    pub ci: bool,
    /// A word boundary (`\b`, ASCII) is asserted before / after the string.
    pub bounds: (bool, bool),
    pub all: Vec<Cow<'static, [u8]>>,
}

impl Words {
    /// Whether one of the strings starts at `at` (with its word boundaries).
    pub fn matches(&self, text: &[u8], at: usize) -> bool {
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

/// The [`Words`] of a branch's regex, or `None` if its matches are not such
/// a list: any assertion but a leading or trailing `\b`, flags other than a
/// leading `(?i)`, classes other than small ASCII ones, repetitions other
/// than `?`, or more than [`MAX_WORDS`] strings.
pub fn words(re: &str) -> Option<Words> {
    let ast = parse(re)?;
    let mut items: &[Ast] = match &ast {
        Ast::Concat(c) => &c.asts,
        other => std::slice::from_ref(other),
    };
    let mut ci = false;
    if let Some(Ast::Flags(f)) = items.first() {
        let only_i = matches!(
            &f.flags.items[..],
            [ast::FlagsItem {
                kind: ast::FlagsItemKind::Flag(ast::Flag::CaseInsensitive),
                ..
            }]
        );
        if !only_i {
            return None;
        }
        ci = true;
        items = &items[1..];
    }
    let boundary = |a: Option<&Ast>| matches!(a, Some(Ast::Assertion(x)) if x.kind == ast::AssertionKind::WordBoundary);
    let start = boundary(items.first());
    if start {
        items = &items[1..];
    }
    let end = boundary(items.last());
    if end {
        items = &items[..items.len() - 1];
    }
    let mut all = vec![Vec::new()];
    for item in items {
        all = product(&all, &language(item, ci)?)?;
    }
    all.sort_unstable();
    all.dedup();
    // An empty string would match anywhere: leave that to the regex.
    (!all.iter().any(Vec::is_empty)).then_some(Words {
        ci,
        bounds: (start, end),
        all: all.into_iter().map(Cow::Owned).collect(),
    })
}

/// Every string of `a` followed by every string of `b`, if not too many.
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_WORDS {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y].concat()))
            .collect(),
    )
}

/// The strings `ast` matches (lower case when `ci`), if they are few.
fn language(ast: &Ast, ci: bool) -> Option<Vec<Vec<u8>>> {
    let fold = |b: u8| if ci { b.to_ascii_lowercase() } else { b };
    match ast {
        Ast::Empty(_) => Some(vec![Vec::new()]),
        Ast::Literal(l) => ascii(l).map(|b| vec![vec![fold(b)]]),
        Ast::ClassBracketed(c) => {
            let mut v: Vec<Vec<u8>> = class(c)?.into_iter().map(|b| vec![fold(b)]).collect();
            v.sort_unstable();
            v.dedup();
            Some(v)
        }
        Ast::Group(g) => match &g.kind {
            ast::GroupKind::NonCapturing(f) if !f.items.is_empty() => None,
            _ => language(&g.ast, ci),
        },
        Ast::Repetition(r) if r.op.kind == ast::RepetitionKind::ZeroOrOne => {
            let mut v = language(&r.ast, ci)?;
            v.push(Vec::new());
            Some(v)
        }
        Ast::Alternation(a) => {
            let mut out = Vec::new();
            for b in &a.asts {
                out.extend(language(b, ci)?);
                if out.len() > MAX_WORDS {
                    return None;
                }
            }
            Some(out)
        }
        Ast::Concat(c) => {
            let mut all = vec![Vec::new()];
            for item in &c.asts {
                all = product(&all, &language(item, ci)?)?;
            }
            Some(all)
        }
        _ => None,
    }
}

/// Parses a rule's regex (as the regex crate does, without compiling).
fn parse(re: &str) -> Option<Ast> {
    ast::parse::ParserBuilder::new()
        .nest_limit(250)
        .octal(false)
        .build()
        .parse(re)
        .ok()
}

/// The branches of a regex, each with its literals (see [`literals`]): the
/// branches of its top-level alternation when flags are set only at the
/// start of the first (each other branch gets them written in front), else
/// the whole regex.
pub fn split(re: &str) -> Branches {
    let Some(ast) = parse(re) else {
        return vec![(re.to_string(), None)];
    };
    let whole = || vec![(re.to_string(), finish(prefixes(&ast)))];
    let Ast::Alternation(alt) = &ast else {
        return whole();
    };
    let mut flags = "";
    for (i, b) in alt.asts.iter().enumerate() {
        let items = match b {
            Ast::Concat(c) => &c.asts[..],
            other => std::slice::from_ref(other),
        };
        for (j, item) in items.iter().enumerate() {
            if let Ast::Flags(f) = item {
                if i > 0 || j > 0 {
                    return whole();
                }
                flags = &re[f.span.start.offset..f.span.end.offset];
            }
        }
    }
    alt.asts
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let text = &re[b.span().start.offset..b.span().end.offset];
            let source = if i == 0 {
                text.to_string()
            } else {
                format!("{flags}{text}")
            };
            (source, finish(prefixes(b)))
        })
        .collect()
}

/// Literals (ASCII, lower case) one of which, compared without case, every
/// match of `re` starts with; `None` when there is no such set (a match may
/// start anywhere, or the set would be too large). Read from the syntax tree
/// alone, without compiling: flags are ignored, which only makes the set
/// match more texts, never fewer.
#[allow(dead_code)] // the tests of `reply_match` and not `build.rs` use it
pub fn literals(re: &str) -> Option<Vec<Vec<u8>>> {
    finish(prefixes(&parse(re)?))
}

/// The literals of [`prefixes`], sorted, none the start of another; `None`
/// when one is empty (a match may start anywhere).
fn finish(ls: Option<Vec<Lit>>) -> Option<Vec<Vec<u8>>> {
    let mut ls = ls?;
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
