//! Typed ids of the catalogue: [`CauseId`], [`MtaId`] and [`RuleId`].
//!
//! An id is an interned name (a `ustr` symbol: one pointer, `Copy`, hashed
//! and compared for equality by identity, ordered by its text), so group keys
//! and events carry ids rather than owned strings, the three kinds cannot be
//! mixed up, and a name is read only where a report writes it. Names from the
//! pattern files and from merged reports are interned once and kept for the
//! life of the process; there are as many as the catalogue and the reports
//! name, never one per log line.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(ustr::Ustr);

        impl $name {
            /// The id of a name.
            pub fn new(name: &str) -> $name {
                $name(ustr::ustr(name))
            }

            /// The name.
            pub fn as_str(&self) -> &'static str {
                self.0.as_str()
            }
        }

        impl Default for $name {
            /// The empty name (a field missing from an old report).
            fn default() -> $name {
                $name::new("")
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name::new(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, o: &str) -> bool {
                self.as_str() == o
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, o: &&str) -> bool {
                self.as_str() == *o
            }
        }
    };
}

id!(
    /// A cause of the catalogue (patterns/causes.toml), or one a merged report names.
    CauseId
);
id!(
    /// An MTA's pattern set (`postfix`, `exim` …).
    MtaId
);
id!(
    /// A line rule or a reply rule.
    RuleId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_by_name_and_compare_by_identity() {
        let a = CauseId::new("alpha.one");
        let b = CauseId::new("beta");
        assert!(a < b);
        assert_eq!(a, CauseId::new("alpha.one"));
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "alpha.one");
        assert_eq!(
            serde_json::to_string(&a).ok().as_deref(),
            Some("\"alpha.one\"")
        );
        let back: CauseId = serde_json::from_str("\"beta\"").expect("a string");
        assert_eq!(back, b);
    }
}
