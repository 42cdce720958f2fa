//! The branches of the reply rules as the matcher
//! ([`reply_match`](super::reply_match)) uses them: for the built-in rules
//! the table `build.rs` prepared, for others split now
//! ([`reply_split`](super::reply_split)), with the strings of those that are
//! a few plain strings ([`Words`]).

use super::reply_split::{self, Words};
use std::borrow::Cow;

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
            let words = reply_split::words(&b);
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
