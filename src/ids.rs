//! Typed ids of the catalogue: [`CauseId`], [`MtaId`] and [`RuleId`], and
//! the table that interns their names.
//!
//! An id is an interned name (one pointer to a name kept for the life of the
//! process, `Copy`, compared for equality by identity, hashed by a hash of its
//! text computed once, ordered by its text), so group keys and events carry
//! ids rather than owned strings, the three kinds cannot be mixed up, and a
//! name is read only where a report writes it. Names from the pattern files
//! and from merged reports are interned once and kept; there are as many as
//! the catalogue and the reports name, never one per log line. The table
//! starts empty and grows with the names (a few hundred), so a short run pays
//! nothing for it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex, PoisonError};

/// An interned name: its text and a hash of it (the same in every run).
#[derive(Debug)]
struct Entry {
    hash: u64,
    text: &'static str,
}

/// The interned names, by text.
type Table = HashMap<&'static str, &'static Entry, foldhash::fast::FixedState>;

static NAMES: LazyLock<Mutex<Table>> = LazyLock::new(|| Mutex::new(Table::default()));

/// The one entry of `name`, made and kept the first time it is asked for.
fn intern(name: &str) -> &'static Entry {
    // A panic while the lock was held cannot leave the table inconsistent
    // (an entry is inserted whole or not at all): go on with it.
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = names.get(name) {
        return e;
    }
    let text: &'static str = Box::leak(name.into());
    let hash = foldhash::fast::FixedState::with_seed(0).hash_one(text);
    let entry: &'static Entry = Box::leak(Box::new(Entry { hash, text }));
    names.insert(text, entry);
    entry
}

/// An interned name (what every id is).
#[derive(Clone, Copy)]
struct Name(&'static Entry);

impl PartialEq for Name {
    fn eq(&self, o: &Name) -> bool {
        std::ptr::eq(self.0, o.0)
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, o: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Name {
    fn cmp(&self, o: &Name) -> std::cmp::Ordering {
        if self == o {
            std::cmp::Ordering::Equal
        } else {
            self.0.text.cmp(o.0.text)
        }
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.text)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Name, E> {
                Ok(Name(intern(v)))
            }
        }
        d.deserialize_str(Visit)
    }
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Name);

        impl $name {
            /// The id of a name.
            pub fn new(name: &str) -> $name {
                $name(Name(intern(name)))
            }

            /// The name.
            pub fn as_str(&self) -> &'static str {
                self.0 .0.text
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
