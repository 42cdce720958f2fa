//! Compiles pattern files into a [`PatternSet`]: merges causes, reply rules
//! and MTA line rules across files (later files override and come first),
//! and reports every structural mistake as a [`Diagnostic`] with file and line.

use super::schema::{LineSample, PatternFile};
use super::{
    compile_str, line_of, one_line, Diagnostic, LazyRegex, LineRule, MtaSet, PatternSet, ReplyRule,
    SourceFile,
};
use crate::event::{Direction, Kind, Outcome, Severity};
use std::collections::HashMap;

/// A regex that matches nothing: the line regex of CSV rules.
const NEVER: &str = r"[^\x00-\xff]";

/// A pattern file with where each of its lines starts, so that the line of
/// each of its values (every rule says where it is written) is found by a
/// binary search rather than by counting from the start of the file.
pub(super) struct Located<'a> {
    file: &'a SourceFile,
    /// Offset of the start of each line after the first.
    starts: Vec<usize>,
}

impl<'a> Located<'a> {
    fn new(file: &'a SourceFile) -> Located<'a> {
        let starts = memchr::memchr_iter(b'\n', file.text.as_bytes())
            .map(|i| i + 1)
            .collect();
        Located { file, starts }
    }
}

impl std::ops::Deref for Located<'_> {
    type Target = SourceFile;
    fn deref(&self) -> &SourceFile {
        self.file
    }
}

/// The line where a spanned value of a file is written.
pub(super) fn at<T>(s: &Located<'_>, v: &toml::Spanned<T>) -> Option<usize> {
    let offset = v.span().start;
    Some(s.starts.partition_point(|&start| start <= offset) + 1)
}

impl PatternSet {
    /// Builds a pattern set from files; later files override earlier ones
    /// (same cause id or rule id), and their rules are tried first. Every
    /// regex is compiled now.
    pub fn from_sources(sources: &[SourceFile]) -> Result<PatternSet, Vec<Diagnostic>> {
        Self::from_sources_with(sources, false)
    }

    /// [`from_sources`](Self::from_sources); when `deferred` (files known to
    /// compile: the built-ins), each regex is compiled on first use instead.
    pub(super) fn from_sources_with(
        sources: &[SourceFile],
        deferred: bool,
    ) -> Result<PatternSet, Vec<Diagnostic>> {
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
                    parsed.push((Located::new(s), f));
                }
                Err(e) => {
                    let line = e.span().map(|r| line_of(&s.text, r.start));
                    diags.push(err(s, line, one_line(e.message()), None));
                }
            }
        }
        super::causes::check_findings(&parsed, &mut diags, deferred);
        // Causes: later definitions replace earlier ones with the same id.
        let (causes, cause_index) = super::causes::causes(&parsed, &mut diags);
        let cause_ref = |s: &Located<'_>,
                         rule: &str,
                         id: &toml::Spanned<String>,
                         diags: &mut Vec<Diagnostic>| {
            let found = cause_index.get(id.get_ref()).copied();
            if found.is_none() {
                diags.push(err(
                    s,
                    at(s, id),
                    format!("rule \"{rule}\": unknown cause \"{}\"", id.get_ref()),
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
                let Some(cause) = cause_ref(s, r.id.get_ref(), &r.cause, &mut diags) else {
                    continue;
                };
                match super::reply_load::compile_reply_rule(s, r, cause, deferred) {
                    Ok(rule) => {
                        if replies.iter().any(|x| x.id == *r.id.get_ref()) {
                            continue; // overridden by a later file
                        }
                        these.push(rule);
                    }
                    Err((m, line)) => diags.push(err(
                        s,
                        line,
                        format!("rule \"{}\": {m}", r.id.get_ref()),
                        None,
                    )),
                }
            }
            replies.extend(these);
        }
        // MTA line rules.
        let mut mtas: Vec<MtaSet> = Vec::new();
        // A file may add rules to an MTA whose `program` another file defines.
        let mut programs: HashMap<&str, &str> = HashMap::new();
        for (_, f) in parsed.iter().rev() {
            if let (Some(m), Some(p)) = (f.mta.as_deref(), f.program.as_deref()) {
                programs.entry(m).or_insert(p);
            }
        }
        for (s, f) in parsed.iter().rev() {
            if f.rule.is_empty() && f.program.is_none() && f.native.is_none() {
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
                    let Some(program) = f
                        .program
                        .as_deref()
                        .or(programs.get(name.as_str()).copied())
                    else {
                        diags.push(err(
                            s,
                            None,
                            format!("mta \"{name}\" has no `program` regex"),
                            None,
                        ));
                        continue;
                    };
                    match LazyRegex::new(program, deferred) {
                        Ok(program) => mtas.push(MtaSet {
                            name: name.clone(),
                            description: String::new(),
                            program,
                            services: Default::default(),
                            default_direction: Direction::Outbound,
                            statuses: Default::default(),
                            rules: Vec::new(),
                            prefilter: super::prefilter::Prefilter::new([]),
                            native: None,
                            skip: None,
                            local_relay: None,
                            remote_text: None,
                            local_text: None,
                            no_relay: Vec::new(),
                            csv: None,
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
            if let Some(n) = &f.native {
                if m.native.is_none() {
                    // The built-ins' are compiled on first use (their test
                    // compiles them now and checks the group).
                    match LazyRegex::new(&n.regex, deferred) {
                        Ok(regex)
                            if deferred || regex.capture_names().flatten().any(|c| c == "time") =>
                        {
                            m.native = Some(super::Native {
                                regex,
                                time_format: n.time_format.clone(),
                            })
                        }
                        Ok(_) => diags.push(err(
                            s,
                            None,
                            "native.regex has no `time` group".into(),
                            None,
                        )),
                        Err(e) => {
                            diags.push(err(s, None, format!("invalid native.regex: {e}"), None))
                        }
                    }
                }
            }
            if let Some(c) = &f.csv {
                if m.csv.is_none() {
                    match LazyRegex::new(&c.detect, deferred) {
                        Ok(detect) => {
                            m.csv = Some(super::Csv {
                                detect,
                                fields: c.fields.clone(),
                                split: c.split.clone(),
                                separator: c.separator.clone(),
                                sample_fields: column_names(&c.sample_fields),
                                headerless: c.headerless.iter().map(|h| column_names(h)).collect(),
                            })
                        }
                        Err(e) => {
                            diags.push(err(s, None, format!("invalid csv.detect regex: {e}"), None))
                        }
                    }
                }
            }
            for (key, src, slot) in [
                ("local_relay", &f.local_relay, &mut m.local_relay),
                ("remote_text", &f.remote_text, &mut m.remote_text),
                ("local_text", &f.local_text, &mut m.local_text),
            ] {
                if let (Some(k), None) = (src, &slot) {
                    match LazyRegex::new(k, deferred) {
                        Ok(re) => *slot = Some(re),
                        Err(e) => {
                            diags.push(err(s, None, format!("invalid {key} regex: {e}"), None))
                        }
                    }
                }
            }
            for v in &f.no_relay {
                if !m.no_relay.contains(v) {
                    m.no_relay.push(v.clone());
                }
            }
            if let Some(k) = &f.skip {
                if m.skip.is_none() {
                    match LazyRegex::new(k, deferred) {
                        Ok(re) => m.skip = Some(re),
                        Err(e) => {
                            diags.push(err(s, None, format!("invalid skip regex: {e}"), None))
                        }
                    }
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
                let id = r.id.get_ref();
                let line = at(s, &r.id);
                if !valid_id(id) {
                    diags.push(err(
                        s,
                        line,
                        format!("rule id {id:?} is not valid"),
                        Some(ID_HELP.into()),
                    ));
                    continue;
                }
                let Some(kind) = Kind::parse(r.kind.get_ref()) else {
                    diags.push(err(
                        s,
                        at(s, &r.kind),
                        format!("rule \"{id}\": unknown kind \"{}\"", r.kind.get_ref()),
                        Some(
                            "kinds: reject, warning, delivery, expired, anchor, ndr, removed, start, note"
                                .into(),
                        ),
                    ));
                    continue;
                };
                let direction = match &r.direction {
                    None => None,
                    Some(d) => match Direction::parse(d.get_ref()) {
                        Some(d) => Some(d),
                        None => {
                            diags.push(err(
                                s,
                                at(s, d),
                                format!("rule \"{id}\": unknown direction \"{}\"", d.get_ref()),
                                None,
                            ));
                            continue;
                        }
                    },
                };
                let cause = match &r.cause {
                    Some(c) => match cause_ref(s, id, c, &mut diags) {
                        Some(i) => Some(i),
                        None => continue,
                    },
                    None => None,
                };
                let default_cause = match &r.default_cause {
                    Some(c) => match cause_ref(s, id, c, &mut diags) {
                        Some(i) => Some(i),
                        None => continue,
                    },
                    None => None,
                };
                // Rules of CSV logs have no line regex: one that never matches stands in.
                let mut when = Vec::new();
                for (col, re) in &r.when {
                    match LazyRegex::new(re, deferred) {
                        Ok(x) => when.push((col.clone(), x)),
                        Err(e) => diags.push(err(
                            s,
                            line,
                            format!("rule \"{id}\": invalid regex for column {col}: {e}"),
                            None,
                        )),
                    }
                }
                if r.regex.is_none() && r.when.is_empty() {
                    diags.push(err(
                        s,
                        line,
                        format!("rule \"{id}\": needs `regex` (line logs) or `when` (CSV logs)"),
                        None,
                    ));
                    continue;
                }
                let source = r.regex.as_ref().map_or(NEVER, |x| x.get_ref().as_str());
                let regex_line = r.regex.as_ref().and_then(|x| at(s, x)).or(line);
                let regex = match super::LineRegex::new(source, deferred) {
                    Ok(re) => re,
                    Err(e) => {
                        diags.push(err(
                            s,
                            regex_line,
                            format!("rule \"{id}\": invalid regex: {e}"),
                            None,
                        ));
                        continue;
                    }
                };
                if r.onepass && !deferred {
                    if let Err(e) = super::prefilter::one_pass(source) {
                        diags.push(err(
                            s,
                            regex_line,
                            format!("rule \"{id}\": `onepass = true`, but the regex is not one-pass: {e}"),
                            Some("each byte must decide the next step: no two branches or repeats may go on alike".into()),
                        ));
                    }
                }
                if m.rules.iter().any(|x| x.id == *id) {
                    continue; // overridden by a later file
                }
                let groups = regex.groups();
                m.rules.push(LineRule {
                    id: id.clone(),
                    groups,
                    kind,
                    regex,
                    direction,
                    cause,
                    default_cause,
                    underscores: r.underscores,
                    strip_parens: r.strip_parens,
                    narrows: r.narrows.clone(),
                    when,
                    status: r.status.clone(),
                    samples: r
                        .sample
                        .iter()
                        .map(|x| LineSample {
                            line: x.line.clone(),
                            expect: x.expect.clone(),
                        })
                        .collect(),
                    file: s.name.clone(),
                    line,
                });
            }
        }
        // Built-ins come last in `parsed.iter().rev()`, so user rules are first.
        let fallbacks: Vec<usize> = (0..causes.len()).filter(|&i| causes[i].fallback).collect();
        let [other] = fallbacks[..] else {
            let ids: Vec<&str> = fallbacks.iter().map(|&i| causes[i].id.as_str()).collect();
            diags.push(Diagnostic {
                error: true,
                file: "patterns".into(),
                line: None,
                message: format!(
                    "exactly one cause must have `fallback = true` (the cause of failures no rule classifies); found {}",
                    if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
                ),
                help: Some("a file that redefines the fallback cause keeps `fallback = true`".into()),
            });
            return Err(diags);
        };
        for m in &mut mtas {
            m.prefilter =
                super::prefilter::Prefilter::new(m.rules.iter().map(|r| r.regex.as_str()));
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        // Reply syntax: the last file that defines it.
        let mut syntax = super::reply::ReplySyntax::default();
        for (s, f) in &parsed {
            if let Some(def) = &f.reply_syntax {
                match super::reply::compile_syntax(def, deferred) {
                    Ok(x) => syntax = x,
                    Err(m) => diags.push(err(s, None, m, None)),
                }
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        // Only syntax was checked above: each rule's regex is compiled alone
        // (now, or on first need for the built-ins); those that fail are
        // reported with their file and line.
        let reply = if deferred {
            super::ReplySet::deferred(replies, syntax)
        } else {
            match super::ReplySet::new(replies.clone(), syntax) {
                Ok(set) => set,
                Err(e) => {
                    let mut faults: Vec<Diagnostic> = replies
                        .iter()
                        .filter(|r| !r.regex.is_empty())
                        .filter_map(|r| {
                            let e = compile_str(&r.regex).err()?;
                            let s = sources.iter().find(|s| s.name == r.file)?;
                            Some(err(
                                s,
                                r.regex_line,
                                format!("rule \"{}\": invalid regex: {e}", r.id),
                                None,
                            ))
                        })
                        .collect();
                    if faults.is_empty() {
                        faults.push(Diagnostic {
                            error: true,
                            file: "patterns".into(),
                            line: None,
                            message: format!("reply rules do not compile: {e}"),
                            help: None,
                        });
                    }
                    return Err(faults);
                }
            }
        };
        // Findings: later files replace a kind's definition; one that does
        // not say its `detector` keeps the detector of the one it replaces.
        let mut findings: HashMap<String, super::schema::FindingDef> = HashMap::new();
        for (_, f) in &parsed {
            for (kind, d) in &f.finding {
                let mut d = d.clone();
                if d.detector.is_none() {
                    d.detector = findings
                        .get(kind.get_ref())
                        .and_then(|o| o.detector.clone());
                }
                findings.insert(kind.get_ref().clone(), d);
            }
        }
        Ok(PatternSet {
            findings,
            causes,
            cause_index,
            reply,
            mtas,
            other,
        })
    }
}

pub(super) fn err(
    s: &SourceFile,
    line: Option<usize>,
    message: String,
    help: Option<String>,
) -> Diagnostic {
    Diagnostic {
        error: true,
        file: s.name.clone(),
        line,
        message,
        help,
    }
}

/// What an id may be made of: it appears in reports, metrics labels and
/// `--fail-on`, so no quotes, spaces or control characters.
pub(super) const ID_HELP: &str =
    "ids are letters, digits, `_`, `.` and `-`, starting with a letter or digit";

/// Whether `id` is a valid cause or rule id.
pub(super) fn valid_id(id: &str) -> bool {
    id.len() <= 128
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The column names of a comma-separated `#Fields:`-style header.
fn column_names(header: &str) -> Vec<String> {
    header.split(',').map(|x| x.trim().to_string()).collect()
}
