//! Loading one reply rule (`[[reply]]` of replies.toml or a user's file):
//! its id, its regex source, and its scope and code conditions compiled (now
//! or on first use), each error with the line of the field at fault.

use super::load::{at, valid_id, Located, ID_HELP};
use super::{LazyRegex, ReplyRule};
use crate::event::Direction;

/// Compiles one reply rule: regex syntax, scope and code conditions. An
/// error comes with the line of the field at fault.
pub(super) fn compile_reply_rule(
    s: &Located<'_>,
    r: &super::schema::ReplyRuleDef,
    cause: usize,
    deferred: bool,
) -> Result<ReplyRule, (String, Option<usize>)> {
    type Field = Option<toml::Spanned<String>>;
    let line = at(s, &r.id);
    if !valid_id(r.id.get_ref()) {
        return Err((format!("the id is not valid ({ID_HELP})"), line));
    }
    // The regex itself is compiled with the others into the reply set; a
    // rule that breaks the set is found there, rule by rule (`reply_faults`).
    let regex_line = r.regex.as_ref().and_then(|x| at(s, x)).or(line);
    let regex = r
        .regex
        .as_ref()
        .map(|x| x.get_ref().clone())
        .unwrap_or_default();
    let whole = |what: &str, re: &Field| -> Result<Option<LazyRegex>, (String, Option<usize>)> {
        re.as_ref()
            .map(|x| {
                LazyRegex::new(&format!("^(?:{})$", x.get_ref()), deferred)
                    .map_err(|e| (format!("invalid {what}: {e}"), at(s, x)))
            })
            .transpose()
    };
    let dsn = whole("dsn", &r.dsn)?;
    let code = whole("code", &r.code)?;
    if regex.is_empty() && dsn.is_none() && code.is_none() {
        return Err(("needs a regex, a dsn or a code".into(), line));
    }
    let hosts = r
        .hosts
        .as_ref()
        .map(|h| {
            LazyRegex::new(&format!("(?i){}", h.get_ref()), deferred)
                .map_err(|e| (format!("invalid hosts: {e}"), at(s, h)))
        })
        .transpose()?;
    let direction = match &r.direction {
        None => None,
        Some(d) => Some(Direction::parse(d.get_ref()).ok_or_else(|| {
            (
                format!(
                    "unknown direction \"{}\" (inbound, outbound or local)",
                    d.get_ref()
                ),
                at(s, d),
            )
        })?),
    };
    let tier = match &r.tier {
        None if regex.is_empty() => super::Tier::Fallback,
        None => super::Tier::Specific,
        Some(t) => super::Tier::parse(t.get_ref()).ok_or_else(|| {
            (
                format!(
                    "unknown tier \"{}\" (specific, generic or fallback)",
                    t.get_ref()
                ),
                at(s, t),
            )
        })?,
    };
    Ok(ReplyRule {
        id: r.id.get_ref().clone(),
        cause,
        regex,
        raw: r.raw,
        tier,
        dsn,
        code,
        hosts,
        direction,
        sample_host: r.sample_host.clone(),
        samples: r.samples.clone(),
        file: s.name.clone(),
        line,
        regex_line,
    })
}
