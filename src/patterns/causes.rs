//! The cause catalogue and finding kinds of the pattern files, checked and
//! merged (later files replace a cause or kind of the same id): severity,
//! hint directions, `act` entries (actor, action, urgency) and the finding
//! kinds' `names` regexes and urgency. Part of loading ([`super::load`]).

use super::load::{at, err, valid_id, Located, ID_HELP};
use super::schema::PatternFile;
use super::{one_line, Cause, Diagnostic};
use crate::event::{Direction, Severity};
use std::collections::HashMap;

/// Checks the finding kinds' `names` regexes and urgencies.
pub(super) fn check_findings(
    parsed: &[(Located<'_>, PatternFile)],
    diags: &mut Vec<Diagnostic>,
    deferred: bool,
) {
    for (s, f) in parsed {
        for (key, d) in &f.finding {
            let (kind, line) = (key.get_ref(), at(s, key));
            // Deferred: the built-ins, whose regexes tests compile.
            for r in d.names.iter().filter(|_| !deferred) {
                if let Err(e) = regex::Regex::new(r) {
                    diags.push(err(
                        s,
                        line,
                        format!(
                            "finding \"{kind}\": bad `names` regex: {}",
                            one_line(&e.to_string())
                        ),
                        None,
                    ));
                }
            }
            if let Some(u) = d
                .urgency
                .as_deref()
                .filter(|u| !super::URGENCIES.contains(u))
            {
                diags.push(err(
                    s,
                    line,
                    format!("finding \"{kind}\": unknown urgency \"{u}\""),
                    Some(format!("use one of {}", super::URGENCIES.join(", "))),
                ));
            }
        }
    }
}

/// The causes of all files (a later definition replaces an earlier one with
/// the same id) and the index of each id.
pub(super) fn causes(
    parsed: &[(Located<'_>, PatternFile)],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Cause>, HashMap<String, usize>) {
    let mut causes: Vec<Cause> = Vec::new();
    let mut cause_index: HashMap<String, usize> = HashMap::new();
    for (s, f) in parsed {
        for (key, c) in &f.cause {
            // Mistakes in a cause are reported at its `[cause."…"]` header.
            let (id, line) = (key.get_ref(), at(s, key));
            if !valid_id(id) {
                diags.push(err(
                    s,
                    line,
                    format!("cause id {id:?} is not valid"),
                    Some(ID_HELP.into()),
                ));
                continue;
            }
            let Some(severity) = Severity::parse(c.severity.get_ref()) else {
                diags.push(err(
                    s,
                    at(s, &c.severity),
                    format!(
                        "cause \"{id}\": severity must be \"hard\" or \"soft\", not \"{}\"",
                        c.severity.get_ref()
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
                            line,
                            format!("cause \"{id}\": unknown hint direction \"{d}\""),
                            Some("use inbound, outbound or local".into()),
                        ));
                    }
                }
            }
            for a in &c.act {
                let bad_dir = a
                    .direction
                    .as_deref()
                    .is_some_and(|d| Direction::parse(d).is_none());
                let bad_actor = !super::ACTORS.contains(&a.actor.as_str());
                let bad_action = !super::ACTIONS.contains(&a.action.as_str());
                if let Some(u) = a.urgency.as_deref() {
                    if !super::URGENCIES.contains(&u) {
                        diags.push(err(
                            s,
                            line,
                            format!("cause \"{id}\": unknown urgency \"{u}\""),
                            Some(format!("use one of {}", super::URGENCIES.join(", "))),
                        ));
                    }
                }
                if bad_dir || bad_actor || bad_action {
                    diags.push(err(
                        s,
                        line,
                        format!(
                            "cause \"{id}\": act {{ actor = \"{}\", action = \"{}\" }} is not valid",
                            a.actor, a.action
                        ),
                        Some(format!(
                            "actor is one of {}; action one of {}; direction inbound, outbound or local",
                            super::ACTORS.join(", "),
                            super::ACTIONS.join(", ")
                        )),
                    ));
                }
            }
            let cause = Cause {
                id: id.clone(),
                title: c.title.clone(),
                severity,
                meaning: c.meaning.clone().unwrap_or_default(),
                suppress: c.suppress,
                unknown_recipient: c.unknown_recipient,
                unknown_domain: c.unknown_domain,
                our_listing: c.our_listing,
                fallback: c.fallback,
                act: c.act.clone(),
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
    (causes, cause_index)
}
