//! Pattern sets: the recognition knowledge of bouncelog, loaded from TOML data
//! files (the built-ins under `patterns/` are embedded in the binary; users add
//! or override rules with `--patterns DIR`).
//!
//! This module compiles the files into a [`PatternSet`] and answers three
//! questions: which MTA wrote a program name, which line rule matches a
//! message, and which cause a reply text means. It never reads log files;
//! checking files for mistakes lives in [`check`].

pub mod check;
pub mod schema;

use crate::event::{Direction, Kind, Outcome, Severity};
use regex::bytes::Regex as BytesRegex;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use schema::{HintDef, LineSample, PatternFile};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Largest compiled size allowed for one regex (user patterns included).
const REGEX_SIZE_LIMIT: usize = 4 << 20;

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
    /// Remediation hints.
    pub hints: Vec<HintDef>,
}

/// A compiled reply rule.
#[derive(Debug, Clone)]
pub struct ReplyRule {
    /// Rule id.
    pub id: String,
    /// Cause index.
    pub cause: usize,
    /// Regex source.
    pub regex: String,
    /// Sample texts.
    pub samples: Vec<String>,
    /// File the rule came from.
    pub file: String,
}

/// A compiled line rule.
#[derive(Debug, Clone)]
pub struct LineRule {
    /// Rule id.
    pub id: String,
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
    /// Sample lines.
    pub samples: Vec<LineSample>,
    /// File the rule came from.
    pub file: String,
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
    pub services: HashMap<String, Direction>,
    /// Direction when the service is not listed.
    pub default_direction: Direction,
    /// Meaning of delivery status words.
    pub statuses: HashMap<String, Outcome>,
    /// Line rules in order.
    pub rules: Vec<LineRule>,
}

/// Everything bouncelog knows about log lines and causes.
#[derive(Debug, Clone)]
pub struct PatternSet {
    /// Cause catalogue, in file order.
    pub causes: Vec<Cause>,
    cause_index: HashMap<String, usize>,
    /// Reply rules, in match order.
    pub replies: Vec<ReplyRule>,
    reply_set: RegexSet,
    /// MTA rule sets.
    pub mtas: Vec<MtaSet>,
    /// Index of the `other` cause.
    pub other: usize,
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
/// line vanish.
fn compile_bytes(re: &str) -> Result<BytesRegex, String> {
    regex::bytes::RegexBuilder::new(re)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// Compiles a text regex with the size limit used for every pattern.
pub(crate) fn compile_str(re: &str) -> Result<Regex, String> {
    RegexBuilder::new(re)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

fn one_line(s: &str) -> String {
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

    /// Builds a pattern set from files; later files override earlier ones
    /// (same cause id or rule id), and their rules are tried first.
    pub fn from_sources(sources: &[SourceFile]) -> Result<PatternSet, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut parsed = Vec::new();
        for s in sources {
            match toml::from_str::<PatternFile>(&s.text) {
                Ok(f) => {
                    if let Some(v) = f.schema {
                        if v != 1 {
                            diags.push(err(s, None, format!("unsupported schema {v}"), None));
                        }
                    }
                    parsed.push((s, f));
                }
                Err(e) => {
                    let line = e.span().map(|r| line_of(&s.text, r.start));
                    diags.push(err(s, line, one_line(e.message()), None));
                }
            }
        }
        // Causes: later definitions replace earlier ones with the same id.
        let mut causes: Vec<Cause> = Vec::new();
        let mut cause_index: HashMap<String, usize> = HashMap::new();
        for (s, f) in &parsed {
            for (id, c) in &f.cause {
                let Some(severity) = Severity::parse(&c.severity) else {
                    diags.push(err(
                        s,
                        line_of_id(&s.text, id),
                        format!(
                            "cause \"{id}\": severity must be \"hard\" or \"soft\", not \"{}\"",
                            c.severity
                        ),
                        None,
                    ));
                    continue;
                };
                for h in &c.hints {
                    if let Some(d) = &h.direction {
                        if Direction::parse(d).is_none() {
                            diags.push(err(
                                s,
                                line_of_id(&s.text, id),
                                format!("cause \"{id}\": unknown hint direction \"{d}\""),
                                Some("use inbound, outbound or local".into()),
                            ));
                        }
                    }
                }
                let cause = Cause {
                    id: id.clone(),
                    title: c.title.clone(),
                    severity,
                    meaning: c.meaning.clone().unwrap_or_default(),
                    hints: c.hints.clone(),
                };
                match cause_index.get(id) {
                    Some(&i) => causes[i] = cause,
                    None => {
                        cause_index.insert(id.clone(), causes.len());
                        causes.push(cause);
                    }
                }
            }
        }
        let cause_ref = |s: &SourceFile, rule: &str, id: &str, diags: &mut Vec<Diagnostic>| {
            let found = cause_index.get(id).copied();
            if found.is_none() {
                diags.push(err(
                    s,
                    line_of_id(&s.text, rule),
                    format!("rule \"{rule}\": unknown cause \"{id}\""),
                    Some("define it under [cause.\"…\"] in a pattern file, or use an id that `bouncelog patterns list` shows".into()),
                ));
            }
            found
        };
        // Reply rules: later files first, each file in its own order.
        let mut replies: Vec<ReplyRule> = Vec::new();
        for (s, f) in parsed.iter().rev() {
            let mut these = Vec::new();
            for r in &f.reply {
                let Some(cause) = cause_ref(s, &r.id, &r.cause, &mut diags) else {
                    continue;
                };
                if let Err(e) = compile_str(&r.regex) {
                    diags.push(err(
                        s,
                        line_of_id(&s.text, &r.id),
                        format!("rule \"{}\": invalid regex: {e}", r.id),
                        None,
                    ));
                    continue;
                }
                if replies.iter().any(|x| x.id == r.id) {
                    continue; // overridden by a later file
                }
                these.push(ReplyRule {
                    id: r.id.clone(),
                    cause,
                    regex: r.regex.clone(),
                    samples: r.samples.clone(),
                    file: s.name.clone(),
                });
            }
            replies.extend(these);
        }
        // MTA line rules.
        let mut mtas: Vec<MtaSet> = Vec::new();
        for (s, f) in parsed.iter().rev() {
            if f.rule.is_empty() && f.program.is_none() {
                continue;
            }
            let Some(name) = f.mta.clone() else {
                diags.push(err(
                    s,
                    None,
                    "line rules without `mta = \"…\"`".into(),
                    Some("name the MTA these rules belong to".into()),
                ));
                continue;
            };
            let mut fresh = false;
            let pos = match mtas.iter().position(|m| m.name == name) {
                Some(p) => p,
                None => {
                    fresh = true;
                    let Some(program) = f.program.as_deref() else {
                        diags.push(err(
                            s,
                            None,
                            format!("mta \"{name}\" has no `program` regex"),
                            None,
                        ));
                        continue;
                    };
                    match compile_bytes(program) {
                        Ok(program) => mtas.push(MtaSet {
                            name: name.clone(),
                            description: String::new(),
                            program,
                            services: HashMap::new(),
                            default_direction: Direction::Outbound,
                            statuses: HashMap::new(),
                            rules: Vec::new(),
                        }),
                        Err(e) => {
                            diags.push(err(s, None, format!("invalid program regex: {e}"), None));
                            continue;
                        }
                    }
                    mtas.len() - 1
                }
            };
            let m = &mut mtas[pos];
            if m.description.is_empty() {
                m.description = f.description.clone().unwrap_or_default();
            }
            if let Some(d) = &f.default_direction {
                match Direction::parse(d) {
                    Some(d) if fresh => m.default_direction = d,
                    Some(_) => {}
                    None => diags.push(err(
                        s,
                        None,
                        format!("unknown default_direction \"{d}\""),
                        None,
                    )),
                }
            }
            for (svc, d) in &f.services {
                match Direction::parse(d) {
                    Some(d) => {
                        m.services.entry(svc.clone()).or_insert(d);
                    }
                    None => diags.push(err(
                        s,
                        None,
                        format!("service \"{svc}\": unknown direction \"{d}\""),
                        None,
                    )),
                }
            }
            for (st, o) in &f.statuses {
                let o = match o.as_str() {
                    "hard" => Outcome::Failed(Severity::Hard),
                    "soft" => Outcome::Failed(Severity::Soft),
                    "ok" => Outcome::Ok,
                    "probe" => Outcome::Probe,
                    _ => {
                        diags.push(err(
                            s,
                            None,
                            format!("status \"{st}\": must be hard, soft, ok or probe"),
                            None,
                        ));
                        continue;
                    }
                };
                m.statuses.entry(st.clone()).or_insert(o);
            }
            for r in &f.rule {
                let line = line_of_id(&s.text, &r.id);
                let Some(kind) = Kind::parse(&r.kind) else {
                    diags.push(err(
                        s,
                        line,
                        format!("rule \"{}\": unknown kind \"{}\"", r.id, r.kind),
                        Some(
                            "kinds: reject, warning, delivery, expired, anchor, ndr, removed"
                                .into(),
                        ),
                    ));
                    continue;
                };
                let direction = match r.direction.as_deref().map(|d| (d, Direction::parse(d))) {
                    None => None,
                    Some((_, Some(d))) => Some(d),
                    Some((d, None)) => {
                        diags.push(err(
                            s,
                            line,
                            format!("rule \"{}\": unknown direction \"{d}\"", r.id),
                            None,
                        ));
                        continue;
                    }
                };
                let cause = match &r.cause {
                    Some(c) => match cause_ref(s, &r.id, c, &mut diags) {
                        Some(i) => Some(i),
                        None => continue,
                    },
                    None => None,
                };
                let default_cause = match &r.default_cause {
                    Some(c) => match cause_ref(s, &r.id, c, &mut diags) {
                        Some(i) => Some(i),
                        None => continue,
                    },
                    None => None,
                };
                let regex = match compile_bytes(&r.regex) {
                    Ok(re) => re,
                    Err(e) => {
                        diags.push(err(
                            s,
                            line,
                            format!("rule \"{}\": invalid regex: {e}", r.id),
                            None,
                        ));
                        continue;
                    }
                };
                if m.rules.iter().any(|x| x.id == r.id) {
                    continue; // overridden by a later file
                }
                m.rules.push(LineRule {
                    id: r.id.clone(),
                    kind,
                    regex,
                    direction,
                    cause,
                    default_cause,
                    samples: r
                        .sample
                        .iter()
                        .map(|x| LineSample {
                            line: x.line.clone(),
                            expect: x.expect.clone(),
                        })
                        .collect(),
                    file: s.name.clone(),
                });
            }
        }
        // Built-ins come last in `parsed.iter().rev()`, so user rules are first.
        let Some(&other) = cause_index.get("other") else {
            diags.push(Diagnostic {
                error: true,
                file: "patterns".into(),
                line: None,
                message: "the cause \"other\" is not defined".into(),
                help: None,
            });
            return Err(diags);
        };
        if !diags.is_empty() {
            return Err(diags);
        }
        let reply_set = RegexSetBuilder::new(replies.iter().map(|r| r.regex.as_str()))
            .size_limit(REGEX_SIZE_LIMIT * 8)
            .build()
            .map_err(|e| {
                vec![Diagnostic {
                    error: true,
                    file: "patterns".into(),
                    line: None,
                    message: format!(
                        "reply rules together are too large: {}",
                        one_line(&e.to_string())
                    ),
                    help: Some("simplify or remove some reply rules".into()),
                }]
            })?;
        Ok(PatternSet {
            causes,
            cause_index,
            replies,
            reply_set,
            mtas,
            other,
        })
    }

    /// Index of a cause id.
    pub fn cause_id(&self, id: &str) -> Option<usize> {
        self.cause_index.get(id).copied()
    }

    /// The first reply rule whose regex matches `text`.
    pub fn classify_text(&self, text: &str) -> Option<usize> {
        self.reply_set.matches(text).iter().next()
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

fn err(s: &SourceFile, line: Option<usize>, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic {
        error: true,
        file: s.name.clone(),
        line,
        message,
        help,
    }
}
