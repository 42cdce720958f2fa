//! Compiling the pattern sets' regexes: now (users' files, `patterns check`)
//! or on first use (the built-ins, which tests compile whole), behind
//! [`LazyRegex`] and [`LineRegex`] (a line rule's regex and its field groups,
//! compiled together), and the byte-regex settings every rule shares.

use super::split::{self, Slots, Split};
use super::{one_line, BytesRegex, FIELD_NAMES, REGEX_SIZE_LIMIT};
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// A regex compiled now, or on first use (the built-ins, see
/// [`PatternSet::load`](super::PatternSet::load)); it derefs
/// to the compiled regex.
#[derive(Clone)]
pub struct LazyRegex {
    source: Arc<str>,
    compiled: Arc<OnceLock<BytesRegex>>,
}

impl LazyRegex {
    /// Compiles `re` now, or only on first use when `deferred`.
    pub(crate) fn new(re: &str, deferred: bool) -> Result<LazyRegex, String> {
        let compiled = OnceLock::new();
        if !deferred {
            let _ = compiled.set(compile_bytes(re)?);
        }
        Ok(LazyRegex {
            source: re.into(),
            compiled: Arc::new(compiled),
        })
    }

    /// The regex source, without compiling it.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl Deref for LazyRegex {
    type Target = BytesRegex;
    fn deref(&self) -> &BytesRegex {
        self.compiled
            .get_or_init(|| compile_bytes(&self.source).expect("built-in regexes compile"))
    }
}

impl fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyRegex").field(&self.source).finish()
    }
}

/// Capture group index of each of [`FIELD_NAMES`].
type Groups = [Option<usize>; FIELD_NAMES.len()];

/// A line rule's regex and its field groups, compiled together, and its split
/// form (if its shape has one, see [`split`](super::split)), built once a
/// thread has read enough lines with the rule for it to pay.
struct LineCell {
    source: String,
    compiled: OnceLock<(BytesRegex, Groups)>,
    split: OnceLock<Option<Split>>,
    /// Lines read with the whole regex, counted up to [`split::WARM`].
    calls: AtomicU32,
}

impl LineCell {
    fn compile(re: &str) -> Result<(BytesRegex, Groups), String> {
        let regex = compile_bytes(re)?;
        let groups = FIELD_NAMES.map(|n| regex.capture_names().position(|c| c == Some(n)));
        Ok((regex, groups))
    }

    fn get(&self) -> &(BytesRegex, Groups) {
        self.compiled
            .get_or_init(|| Self::compile(&self.source).expect("built-in regexes compile"))
    }

    fn split(&self) -> Option<&Split> {
        self.split
            .get_or_init(|| split::split(&self.source))
            .as_ref()
    }
}

/// A line rule's regex, compiled now or on first use (see [`LazyRegex`]);
/// it derefs to the compiled regex.
#[derive(Clone)]
pub struct LineRegex(Arc<LineCell>);

/// A line rule's field groups (see [`LineRule::groups`](super::LineRule::groups)); reading them
/// compiles the rule's regex if it is not yet.
#[derive(Clone)]
pub struct FieldGroups(Arc<LineCell>);

impl LineRegex {
    /// Compiles a line rule's regex now, or only on first use when `deferred`.
    pub(crate) fn new(re: &str, deferred: bool) -> Result<LineRegex, String> {
        let compiled = OnceLock::new();
        if !deferred {
            let _ = compiled.set(LineCell::compile(re)?);
        }
        Ok(LineRegex(Arc::new(LineCell {
            source: re.to_string(),
            compiled,
            split: OnceLock::new(),
            calls: AtomicU32::new(0),
        })))
    }

    /// The regex source, without compiling it.
    pub fn as_str(&self) -> &str {
        &self.0.source
    }

    /// The field groups of this regex.
    pub fn groups(&self) -> FieldGroups {
        FieldGroups(self.0.clone())
    }

    /// Capture slots for [`read`](Self::read), reused from line to line.
    pub fn slots(&self) -> Slots {
        Slots::new(&self.0.get().0)
    }

    /// This regex's split form, if it has one (see [`split`](super::split)).
    #[cfg(test)]
    pub(crate) fn split_form(&self) -> Option<&Split> {
        self.0.split()
    }

    /// Matches `hay` and fills `slots` (made by [`slots`](Self::slots) of
    /// this regex) with the groups of the whole regex: the same spans as
    /// `captures_read`, read split once these slots have read enough lines.
    pub fn read(&self, slots: &mut Slots, hay: &[u8]) -> bool {
        let regex = &self.0.get().0;
        let calls = &self.0.calls;
        let sp = if calls.load(Relaxed) < split::WARM {
            calls.fetch_add(1, Relaxed);
            None
        } else {
            self.0.split()
        };
        split::read(regex, sp, slots, hay)
    }
}

impl Deref for LineRegex {
    type Target = BytesRegex;
    fn deref(&self) -> &BytesRegex {
        &self.0.get().0
    }
}

impl Deref for FieldGroups {
    type Target = Groups;
    fn deref(&self) -> &Groups {
        &self.0.get().1
    }
}

impl fmt::Debug for LineRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LineRegex").field(&self.0.source).finish()
    }
}

impl fmt::Debug for FieldGroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FieldGroups")
            .field(&self.0.compiled.get().map(|c| c.1))
            .finish()
    }
}

/// Line rules run on raw bytes with Unicode classes off, so that `[^>]*` or
/// `.` also match bytes of invalid UTF-8: a Latin-1 address must not make a
/// line vanish. (It also keeps the automata small and fast to build.)
pub(crate) fn compile_bytes(re: &str) -> Result<BytesRegex, String> {
    regex::bytes::RegexBuilder::new(re)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// The syntax tree of `re` read as [`compile_bytes`] reads it (bytes, no
/// Unicode), for the analyses of a regex's shape; `None` when it does not
/// parse (compiling it reports why).
pub(crate) fn parse_bytes(re: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(re)
        .ok()
}

/// Compiles a reply or column regex: bytes, ASCII classes and case folding
/// (reply texts are ASCII SMTP), which keeps the reply set's automaton small
/// enough to stay a fast DFA.
pub(crate) fn compile_str(re: &str) -> Result<BytesRegex, String> {
    compile_bytes(re)
}
