//! Pattern sets: the recognition knowledge of bouncelog, loaded from TOML data
//! files (the built-ins under `patterns/` are embedded in the binary; users add
//! or override rules with `--patterns DIR`).
//!
//! This module compiles the files into a [`PatternSet`] and answers three
//! questions: which MTA wrote a program name, which line rule matches a
//! message, and which cause a reply text means. It never reads log files;
//! checking files for mistakes lives in [`check`](crate::inspect::check).

mod causes;
mod compile;
mod load;
pub mod prefilter;
pub mod reply;
mod reply_branches;
mod reply_load;
mod reply_match;
mod reply_split;
pub mod schema;
mod split;

pub use crate::ids::{CauseId, MtaId, RuleId};
pub(crate) use compile::{compile_bytes, compile_str, parse_bytes};
pub use compile::{FieldGroups, LazyRegex, LineRegex};
pub use split::Slots;

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
    /// up once, when the regex is compiled, instead of by name on every line.
    pub groups: FieldGroups,
    /// What a match means.
    pub kind: Kind,
    /// The regex (compiled on first use for the built-ins).
    pub regex: LineRegex,
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
    pub when: Vec<(String, LazyRegex)>,
    /// CSV logs: the status this row stands for.
    pub status: Option<String>,
    /// Sample lines.
    pub samples: Vec<LineSample>,
    /// File the rule came from.
    pub file: String,
    /// Line of the rule's id in that file.
    pub line: Option<usize>,
}

impl LineRule {
    /// The id events carry: a narrowing rule is only a faster way to read
    /// the lines of the rule it narrows, so its events name that rule.
    pub fn reported_id(&self) -> &str {
        self.narrows.as_deref().unwrap_or(&self.id)
    }
}

/// An MTA's own line prefix, compiled.
#[derive(Debug, Clone)]
pub struct Native {
    /// Prefix regex with a `time` group (and optional `tz`).
    pub regex: LazyRegex,
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
    pub program: LazyRegex,
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
    pub skip: Option<LazyRegex>,
    /// A relay field naming our own store (a socket): the delivery is local.
    pub local_relay: Option<LazyRegex>,
    /// A status text quoting a remote server: a delivery by a service whose
    /// direction is local (Postfix `error`, `retry`) is outbound after all.
    pub remote_text: Option<LazyRegex>,
    /// A status text showing our own side failed: the failure is local.
    pub local_text: Option<LazyRegex>,
    /// Relay values that name no host (`relay=none`): read as no relay.
    pub no_relay: Vec<String>,
    /// The CSV format, for MTAs that log CSV.
    pub csv: Option<Csv>,
}

/// A CSV log format, compiled.
#[derive(Debug, Clone)]
pub struct Csv {
    /// Detects the format from the start of a file.
    pub detect: LazyRegex,
    /// Field → column name.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Fields holding parallel lists.
    pub split: Vec<String>,
    /// List separator.
    pub separator: String,
    /// Column names for reading samples.
    pub sample_fields: Vec<String>,
    /// Column orders assumed for rows without a `#Fields:` header, by width.
    pub headerless: Vec<Vec<String>>,
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
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset.min(text.len())]).count() + 1
}

/// Line where `id = "<id>"` is written, for diagnostics about a rule.
pub(crate) fn line_of_id(text: &str, id: &str) -> Option<usize> {
    let needle = format!("\"{id}\"");
    text.find(&needle).map(|o| line_of(text, o))
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl PatternSet {
    /// The finding kind a detector emits and its definition: the
    /// findings.toml entry that names the detector (the first kind by name,
    /// should two name it).
    pub fn finding_kind(&self, detector: &str) -> Option<(&str, &schema::FindingDef)> {
        self.findings
            .iter()
            .filter(|(_, d)| d.detector.as_deref() == Some(detector))
            .map(|(k, d)| (k.as_str(), d))
            .min_by_key(|(k, _)| *k)
    }

    /// Loads the built-ins plus the files of `extra` (if any). Errors are
    /// returned as diagnostics; warnings are ignored here (see `check`).
    pub fn load(extra: Option<&Path>) -> Result<PatternSet, Vec<Diagnostic>> {
        let mut sources = builtin_sources();
        if let Some(dir) = extra {
            sources.extend(dir_sources(dir).map_err(|d| vec![d])?);
        }
        // The built-ins alone are known to compile (`builtin_patterns_compile`):
        // each regex is compiled on first use. Users' files are compiled now,
        // so that their errors surface before any input is read.
        Self::from_sources_with(&sources, extra.is_none())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-ins load with every regex deferred (`PatternSet::load`):
    /// this is the test that every one of them compiles, within the limits,
    /// to the same rules as a load that compiles them at once.
    #[test]
    fn builtin_patterns_compile() {
        let eager = PatternSet::from_sources(&builtin_sources()).expect("built-ins compile");
        let lazy = PatternSet::load(None).expect("built-ins load");
        assert_eq!(lazy.reply.compiled(), 0, "nothing compiled before use");
        let text_rules = eager.reply.rules.iter().filter(|r| !r.regex.is_empty());
        assert!(eager.reply.compiled() >= text_rules.count());
        for (e, l) in eager.mtas.iter().zip(&lazy.mtas) {
            assert_eq!(e.rules.len(), l.rules.len());
            for (a, b) in e.rules.iter().zip(&l.rules) {
                assert_eq!(b.regex.as_str(), a.regex.as_str(), "{}", a.id);
                assert_eq!(*b.groups, *a.groups, "{}", a.id);
                assert_eq!(b.regex.captures_len(), a.regex.captures_len(), "{}", a.id);
            }
        }
        for r in &lazy.reply.rules {
            for re in [&r.dsn, &r.code, &r.hosts].into_iter().flatten() {
                assert!(re.captures_len() >= 1, "{}", r.id);
            }
        }
        // The MTAs' own regexes, compiled on first use, compile; a native
        // line regex has its `time` group (checked when loading users' files).
        for m in &lazy.mtas {
            let own = [&m.skip, &m.local_relay, &m.remote_text, &m.local_text];
            let csv = m.csv.as_ref().map(|c| &c.detect);
            for re in own.into_iter().flatten().chain(csv).chain([&m.program]) {
                assert!(re.captures_len() >= 1, "{}: {}", m.name, re.as_str());
            }
            if let Some(n) = &m.native {
                let time = n.regex.capture_names().flatten().any(|c| c == "time");
                assert!(time, "{}: native regex without a time group", m.name);
            }
        }
        // Classifying compiles only the rules the text may match, and
        // decides as the rules compiled at once do.
        lazy.classify_text("550 5.1.1 User unknown in local recipient table");
        assert!(lazy.reply.compiled() > 0);
        assert!(lazy.reply.compiled() < eager.reply.compiled() / 4);
        for r in &eager.reply.rules {
            for s in &r.samples {
                let reply = Reply {
                    text: s,
                    host: r.sample_host.as_deref(),
                    direction: r.direction,
                    dsn: None,
                };
                assert_eq!(lazy.classify(&reply), eager.classify(&reply), "{s}");
            }
        }
    }

    /// Each rule says the line its id and its regex are written on.
    #[test]
    fn rules_know_their_lines() {
        let ps = PatternSet::load(None).expect("built-ins");
        let sources = builtin_sources();
        let mut n = 0;
        for r in &ps.reply.rules {
            let s = sources.iter().find(|s| s.name == r.file).expect("its file");
            let lines: Vec<&str> = s.text.lines().collect();
            assert_eq!(r.line, line_of_id(&s.text, &r.id), "{}", r.id);
            let id_line = lines[r.line.expect("a line") - 1];
            assert!(
                id_line.trim_start().starts_with("id"),
                "{}: {id_line}",
                r.id
            );
            if !r.regex.is_empty() {
                let re_line = lines[r.regex_line.expect("a line") - 1];
                assert!(
                    re_line.trim_start().starts_with("regex"),
                    "{}: {re_line}",
                    r.id
                );
            }
            n += 1;
        }
        assert!(n > 100);
    }

    /// Rules from users' files are compiled when loading: a regex that does
    /// not compile is an error of the load, not of the first line it meets.
    #[test]
    fn user_rules_are_compiled_when_loading() {
        let user = |text: &str| {
            let mut sources = builtin_sources();
            sources.push(SourceFile {
                name: "user.toml".into(),
                text: format!("{text}[cause.\"x.test\"]\ntitle = \"t\"\nseverity = \"hard\"\n"),
            });
            PatternSet::from_sources(&sources)
        };
        user("[[reply]]\nid = \"x.ok\"\ncause = \"x.test\"\nregex = 'fine'\n")
            .expect("a good rule loads");
        for (what, text) in [
            ("reply", "[[reply]]\nid = \"x.bad\"\ncause = \"x.test\"\nregex = '(unclosed'\n"),
            ("reply code", "[[reply]]\nid = \"x.bad\"\ncause = \"x.test\"\ncode = '(5'\n"),
            ("line", "mta = \"x\"\nprogram = 'x'\n[[rule]]\nid = \"x.bad\"\nkind = \"reject\"\nregex = '(unclosed'\n"),
        ] {
            let e = user(text).expect_err(what);
            assert!(
                e.iter().any(|d| d.file == "user.toml" && d.message.contains("x.bad")),
                "{what}: {e:?}"
            );
        }
    }
}
