//! Pattern sets: the recognition knowledge of bouncelog, loaded from TOML data
//! files (the built-ins under `patterns/` are embedded in the binary; users add
//! or override rules with `--patterns DIR`).
//!
//! This module compiles the files into a [`PatternSet`] and answers three
//! questions: which MTA wrote a program name, which line rule matches a
//! message, and which cause a reply text means. It never reads log files;
//! checking files for mistakes lives in [`check`](crate::inspect::check).

mod causes;
mod load;
pub mod prefilter;
pub mod reply;
pub mod schema;

pub use crate::ids::{CauseId, MtaId, RuleId};

use crate::event::{Direction, Kind, Outcome, Severity};
use regex::bytes::Regex as BytesRegex;
pub use reply::{Reply, ReplyRule, ReplySet, Tier, Verdict};

use schema::{HintDef, LineSample};

/// Who may have to act on a cause.
pub const ACTORS: [&str; 5] = ["us", "sender", "recipient", "remote_postmaster", "nobody"];

/// What the actor does.
pub const ACTIONS: [&str; 11] = [
    "remove_address",
    "fix_address",
    "fix_our_config",
    "request_delisting",
    "contact_remote_postmaster",
    "change_message",
    "ask_recipient",
    "retry",
    "wait",
    "investigate",
    "nothing",
];
/// How soon someone must act, most urgent first: `now`, a problem on our side
/// (our IP or domain listed, our authentication or TLS failing); `soon`,
/// failed deliveries to act on; `wait`, temporary failures that retry;
/// `intended`, the server refusing as it should (spam, strangers, typos of
/// senders). Reports order groups and findings by it.
pub const URGENCIES: [&str; 4] = ["now", "soon", "wait", "intended"];

/// The rank of an urgency name in [`URGENCIES`] (absent or unknown: `soon`).
pub fn urgency_rank(u: Option<&str>) -> usize {
    u.and_then(|u| URGENCIES.iter().position(|x| *x == u))
        .unwrap_or(1)
}

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Largest compiled size allowed for one regex (user patterns included).
pub(crate) const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// The built-in pattern files, embedded at compile time.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "patterns/causes.toml",
        include_str!("../../patterns/causes.toml"),
    ),
    (
        "patterns/replies.toml",
        include_str!("../../patterns/replies.toml"),
    ),
    (
        "patterns/postfix.toml",
        include_str!("../../patterns/postfix.toml"),
    ),
    (
        "patterns/exim.toml",
        include_str!("../../patterns/exim.toml"),
    ),
    (
        "patterns/qmail.toml",
        include_str!("../../patterns/qmail.toml"),
    ),
    (
        "patterns/findings.toml",
        include_str!("../../patterns/findings.toml"),
    ),
    (
        "patterns/exchange.toml",
        include_str!("../../patterns/exchange.toml"),
    ),
];

/// A problem found in a pattern file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// True for errors, false for warnings.
    pub error: bool,
    /// File the problem is in.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.error { "error" } else { "warning" };
        match self.line {
            Some(l) => write!(f, "{level}: {}:{l}: {}", self.file, self.message)?,
            None => write!(f, "{level}: {}: {}", self.file, self.message)?,
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// One cause of the catalogue.
#[derive(Debug, Clone)]
pub struct Cause {
    /// Stable id (`unknown_user.local_recipient_table`).
    pub id: String,
    /// Short title.
    pub title: String,
    /// Nature of the failure when nothing else says.
    pub severity: Severity,
    /// What it means.
    pub meaning: String,
    /// Hard failures with this cause go on `bouncelog suppress` lists.
    pub suppress: bool,
    /// The recipient does not exist.
    pub unknown_recipient: bool,
    /// The recipient domain does not exist.
    pub unknown_domain: bool,
    /// Our sending IP or domain is listed.
    pub our_listing: bool,
    /// The cause of failures no rule classifies.
    pub fallback: bool,
    /// Who acts and what to do, per direction.
    pub act: Vec<schema::ActDef>,
    /// Remediation hints.
    pub hints: Vec<HintDef>,
}

/// Capture names the engine reads, in the order of [`LineRule::groups`].
pub const FIELD_NAMES: [&str; 14] = [
    "queue_id", "client", "sender", "rcpt", "orig_to", "helo", "stage", "relay", "dsn", "status",
    "text", "delivery", "service", "soft",
];

/// A compiled line rule.
#[derive(Debug, Clone)]
pub struct LineRule {
    /// Rule id.
    pub id: String,
    /// Index of each engine field's capture group (see `FIELD_NAMES`), looked
    /// up once at load instead of by name on every line.
    pub groups: [Option<usize>; FIELD_NAMES.len()],
    /// What a match means.
    pub kind: Kind,
    /// The compiled regex.
    pub regex: BytesRegex,
    /// Fixed direction.
    pub direction: Option<Direction>,
    /// Fixed cause index.
    pub cause: Option<usize>,
    /// Fallback cause index.
    pub default_cause: Option<usize>,
    /// Text uses `_` for spaces and `/` for line breaks.
    pub underscores: bool,
    /// Text is wrapped in parentheses to remove.
    pub strip_parens: bool,
    /// A later rule this one is a faster special case of.
    pub narrows: Option<String>,
    /// CSV logs: column conditions (all must match).
    pub when: Vec<(String, BytesRegex)>,
    /// CSV logs: the status this row stands for.
    pub status: Option<String>,
    /// Sample lines.
    pub samples: Vec<LineSample>,
    /// File the rule came from.
    pub file: String,
    /// Line of the rule's id in that file.
    pub line: Option<usize>,
}

/// An MTA's own line prefix, compiled.
#[derive(Debug, Clone)]
pub struct Native {
    /// Prefix regex with a `time` group (and optional `tz`).
    pub regex: BytesRegex,
    /// chrono format of the time.
    pub time_format: String,
}

/// The line rules of one MTA.
#[derive(Debug, Clone)]
pub struct MtaSet {
    /// MTA name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Program-name regex (with an optional `service` group).
    pub program: BytesRegex,
    /// Direction of delivery lines per service.
    pub services: rustc_hash::FxHashMap<String, Direction>,
    /// Direction when the service is not listed.
    pub default_direction: Direction,
    /// Meaning of delivery status words.
    pub statuses: rustc_hash::FxHashMap<String, Outcome>,
    /// Line rules in order.
    pub rules: Vec<LineRule>,
    /// Which rules a line could match, by their literals.
    pub prefilter: prefilter::Prefilter,
    /// The MTA's own line prefix, if it writes logs itself.
    pub native: Option<Native>,
    /// Lines to count as recognised without events.
    pub skip: Option<BytesRegex>,
    /// A relay field naming our own store (a socket): the delivery is local.
    pub local_relay: Option<BytesRegex>,
    /// A status text quoting a remote server: a delivery by a service whose
    /// direction is local (Postfix `error`, `retry`) is outbound after all.
    pub remote_text: Option<BytesRegex>,
    /// A status text showing our own side failed: the failure is local.
    pub local_text: Option<BytesRegex>,
    /// The CSV format, for MTAs that log CSV.
    pub csv: Option<Csv>,
}

/// A CSV log format, compiled.
#[derive(Debug, Clone)]
pub struct Csv {
    /// Detects the format from the start of a file.
    pub detect: BytesRegex,
    /// Field → column name.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Fields holding parallel lists.
    pub split: Vec<String>,
    /// List separator.
    pub separator: String,
    /// Column names for reading samples.
    pub sample_fields: Vec<String>,
}

/// Everything bouncelog knows about log lines and causes.
#[derive(Debug, Clone)]
pub struct PatternSet {
    /// Cause catalogue, in file order.
    pub causes: Vec<Cause>,
    cause_index: HashMap<String, usize>,
    /// Reply rules and how replies are read.
    pub reply: ReplySet,
    /// MTA rule sets.
    pub mtas: Vec<MtaSet>,
    /// Index of the `other` cause.
    pub other: usize,
    /// Hints and data of findings, by kind.
    pub findings: HashMap<String, schema::FindingDef>,
}

/// A pattern file's name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Name shown in diagnostics.
    pub name: String,
    /// TOML text.
    pub text: String,
}

/// The built-in files as [`SourceFile`]s.
pub fn builtin_sources() -> Vec<SourceFile> {
    BUILTIN
        .iter()
        .map(|(n, t)| SourceFile {
            name: (*n).to_string(),
            text: (*t).to_string(),
        })
        .collect()
}

/// Reads every `*.toml` file of a directory, sorted by name.
pub fn dir_sources(dir: &Path) -> Result<Vec<SourceFile>, Diagnostic> {
    let diag = |m: String| Diagnostic {
        error: true,
        file: dir.display().to_string(),
        line: None,
        message: m,
        help: None,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| diag(e.to_string()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| Diagnostic {
            file: p.display().to_string(),
            ..diag(e.to_string())
        })?;
        out.push(SourceFile {
            name: p.display().to_string(),
            text,
        });
    }
    Ok(out)
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Line where `id = "<id>"` is written, for diagnostics about a rule.
pub(crate) fn line_of_id(text: &str, id: &str) -> Option<usize> {
    let needle = format!("\"{id}\"");
    text.find(&needle).map(|o| line_of(text, o))
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

/// Compiles a reply or column regex: bytes, ASCII classes and case folding
/// (reply texts are ASCII SMTP), which keeps the reply set's automaton small
/// enough to stay a fast DFA.
pub(crate) fn compile_str(re: &str) -> Result<BytesRegex, String> {
    compile_bytes(re)
}

/// Compiles the reply rules into one automaton that reports which of them
/// match a text. It only answers "which rules": no capture groups and no
/// literal prefilter (texts are short), which keeps it quick to build.
pub(crate) fn compile_reply_set(res: &[&str]) -> Result<regex_automata::meta::Regex, String> {
    use regex_automata::{meta, nfa::thompson, util::syntax, MatchKind};
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::All)
                .auto_prefilter(false)
                .utf8_empty(false)
                .which_captures(thompson::WhichCaptures::None)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT * 8))
                .hybrid_cache_capacity(64 << 20),
        )
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build_many(res)
        .map_err(|e| one_line(&e.to_string()))
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl PatternSet {
    /// Loads the built-ins plus the files of `extra` (if any). Errors are
    /// returned as diagnostics; warnings are ignored here (see `check`).
    pub fn load(extra: Option<&Path>) -> Result<PatternSet, Vec<Diagnostic>> {
        let mut sources = builtin_sources();
        if let Some(dir) = extra {
            sources.extend(dir_sources(dir).map_err(|d| vec![d])?);
        }
        Self::from_sources(&sources)
    }

    /// Whether failures with this cause id name an address that may be a
    /// typo: the recipient or its domain does not exist.
    pub fn maybe_typo(&self, cause: &str) -> bool {
        self.cause_id(cause)
            .is_some_and(|i| self.causes[i].unknown_recipient || self.causes[i].unknown_domain)
    }

    /// Index of a cause id.
    pub fn cause_id(&self, id: &str) -> Option<usize> {
        self.cause_index.get(id).copied()
    }

    /// The first reply rule whose regex matches `text`.
    pub fn classify_text(&self, text: &str) -> Option<usize> {
        self.reply
            .classify(&Reply {
                text,
                ..Reply::default()
            })
            .rule
    }

    /// Classifies a reply (see [`reply`] for the order of decisions).
    pub fn classify(&self, reply: &Reply<'_>) -> Verdict {
        self.reply.classify(reply)
    }

    /// Who must act on a cause in a direction, and the action.
    pub fn act(&self, cause: usize, direction: Option<Direction>) -> Option<(&str, &str)> {
        self.causes[cause]
            .act
            .iter()
            .find(|a| {
                a.direction
                    .as_deref()
                    .is_none_or(|d| direction.is_none_or(|x| x.as_str() == d))
            })
            .map(|a| (a.actor.as_str(), a.action.as_str()))
    }

    /// How soon someone must act on a cause in a direction: the rank in
    /// [`URGENCIES`] of the first matching `act` entry's `urgency`.
    pub fn urgency(&self, cause: usize, direction: Direction) -> usize {
        let a = self.causes[cause].act.iter().find(|a| {
            a.direction
                .as_deref()
                .is_none_or(|d| d == direction.as_str())
        });
        urgency_rank(a.and_then(|a| a.urgency.as_deref()))
    }

    /// How soon someone must act on a kind of finding (rank in [`URGENCIES`]).
    pub fn finding_urgency(&self, kind: &str) -> usize {
        urgency_rank(self.findings.get(kind).and_then(|d| d.urgency.as_deref()))
    }

    /// The MTA whose program regex matches, and the captured service.
    pub fn mta_for_program(&self, program: &[u8]) -> Option<(usize, Option<String>)> {
        self.mtas.iter().enumerate().find_map(|(i, m)| {
            m.program.captures(program).map(|c| {
                let svc = c
                    .name("service")
                    .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned());
                (i, svc)
            })
        })
    }

    /// Hints of a cause that apply to a direction and an MTA.
    pub fn hints(&self, cause: usize, direction: Direction, mta: &str) -> Vec<&str> {
        self.causes[cause]
            .hints
            .iter()
            .filter(|h| {
                h.direction
                    .as_deref()
                    .is_none_or(|d| d == direction.as_str())
            })
            .filter(|h| h.mta.as_deref().is_none_or(|m| m == mta))
            .map(|h| h.text.as_str())
            .collect()
    }
}
