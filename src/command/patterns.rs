//! The pattern commands: loading the built-ins with a user's `--patterns
//! DIR` (checked like `patterns check`), `bouncelog patterns check [DIR]` and
//! `bouncelog patterns list`.

use crate::error::{Error, Status};
use crate::inspect::check;
use crate::patterns::{self, PatternSet};
use std::io::{self, Write};
use std::path::Path;

/// Loads the built-in patterns and DIR's. DIR's files get the checks of
/// `patterns check` first (their samples must match): a rule that does not
/// match its own sample is refused rather than trusted; a DIR without
/// pattern files is an error.
pub fn load(dir: Option<&Path>) -> Result<PatternSet, Error> {
    if let Some(d) = dir {
        let mut sources = patterns::builtin_sources();
        match patterns::dir_sources(d) {
            Ok(s) if s.is_empty() => {
                return Err(Error::Usage(format!(
                    "{}: no *.toml pattern files",
                    d.display()
                )))
            }
            Ok(s) => sources.extend(s),
            // A directory or file that cannot be read: a pattern error, said as one.
            Err(e) => return Err(Error::Patterns(vec![e.to_string()])),
        }
        let mut errors: Vec<String> = check::check(&sources)
            .into_iter()
            .filter(|d| d.error)
            .map(|d| d.to_string())
            .collect();
        if !errors.is_empty() {
            errors.push(format!(
                "`bouncelog patterns check {}` shows every problem",
                d.display()
            ));
            return Err(Error::Patterns(errors));
        }
    }
    PatternSet::load(dir).map_err(|diags| {
        Error::Patterns(
            diags
                .iter()
                .filter(|d| d.error)
                .map(|d| d.to_string())
                .collect(),
        )
    })
}

/// `bouncelog patterns check [DIR]`.
pub fn check_cmd(dir: Option<&Path>) -> Result<Status, Error> {
    let mut sources = patterns::builtin_sources();
    if let Some(d) = dir {
        match patterns::dir_sources(d) {
            Ok(s) if s.is_empty() => {
                return Err(Error::Usage(format!(
                    "{}: no *.toml pattern files",
                    d.display()
                )))
            }
            Ok(s) => sources.extend(s),
            // A directory or file that cannot be read: a pattern error, said as one.
            Err(e) => return Err(Error::Patterns(vec![e.to_string()])),
        }
    }
    let diags = check::check(&sources);
    let mut out = io::stdout().lock();
    for d in &diags {
        writeln!(out, "{d}")?;
    }
    let errors = diags.iter().filter(|d| d.error).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        writeln!(out, "{errors} error(s), {warnings} warning(s)")?;
        return Ok(Status::Failed);
    }
    let ps = load(dir)?;
    let rules: usize = ps.mtas.iter().map(|m| m.rules.len()).sum();
    writeln!(
        out,
        "ok: {} causes, {} reply rules, {} line rules for {} MTA(s); {warnings} warning(s)",
        ps.causes.len(),
        ps.reply.rules.len(),
        rules,
        ps.mtas.len()
    )?;
    Ok(Status::Clean)
}

/// `bouncelog patterns list`.
pub fn list_cmd(dir: Option<&Path>) -> Result<Status, Error> {
    let ps = load(dir)?;
    let mut out = io::stdout().lock();
    writeln!(out, "Causes ({}):", ps.causes.len())?;
    for c in &ps.causes {
        writeln!(
            out,
            "  {:<38} {:<4}  {}",
            c.id,
            c.severity.as_str(),
            c.title
        )?;
    }
    for m in &ps.mtas {
        writeln!(out, "\nLine rules for {} ({}):", m.name, m.description)?;
        for r in &m.rules {
            // Spelled as in pattern files and the README (`reject`, `ndr`).
            let kind = format!("{:?}", r.kind).to_ascii_lowercase();
            writeln!(out, "  {:<38} {kind:<8}  [{}]", r.id, r.file)?;
        }
    }
    writeln!(
        out,
        "\nReply rules, in match order ({}):",
        ps.reply.rules.len()
    )?;
    for r in &ps.reply.rules {
        writeln!(
            out,
            "  {:<38} -> {}  [{}]",
            r.id, ps.causes[r.cause].id, r.file
        )?;
    }
    Ok(Status::Clean)
}
