//! The branches of the reply rules as the matcher
//! ([`reply_match`](super::reply_match)) uses them: for the built-in rules
//! the table `build.rs` prepared, for others split now
//! ([`reply_split`](super::reply_split)); and the branches that are a few
//! plain strings ([`Words`]), decided by comparing bytes where their literal
//! was found, as their regex would.

use super::reply_split;
use std::borrow::Cow;

/// The strings of a branch whose matches are a few (see
/// [`reply_split::Words`]).
#[derive(Debug)]
pub(super) struct Words {
    pub(super) ci: bool,
    pub(super) bounds: (bool, bool),
    pub(super) all: Vec<Cow<'static, [u8]>>,
}

impl Words {
    /// Whether one of the strings starts at `at` (with its word boundaries).
    pub(super) fn matches(&self, text: &[u8], at: usize) -> bool {
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
pub(super) type Prepared = (
    Cow<'static, str>,
    Option<Vec<Cow<'static, [u8]>>>,
    Option<Words>,
);

/// The branches of a rule's regex: prepared by `build.rs` for the built-in
/// rules, split here for any other.
pub(super) fn branches_of(re: &str) -> Vec<Prepared> {
    fn borrowed(ls: &'static [&'static [u8]]) -> Vec<Cow<'static, [u8]>> {
        ls.iter().map(|&l| Cow::Borrowed(l)).collect()
    }
    if let Ok(i) = PREPARED.binary_search_by(|(s, _)| (*s).cmp(re)) {
        return PREPARED[i]
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
pub(super) use prepared::PREPARED;
