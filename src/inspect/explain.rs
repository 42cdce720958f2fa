//! `bouncelog explain`: what an SMTP reply or a whole log line means, from the
//! same catalogue the analyser uses; and, for failure texts no rule knows, the
//! closest known rule and a ready-to-edit rule stub (`--explain-unmatched`).

use crate::event::{Direction, Kind, Severity};
use crate::inspect::check;
use crate::patterns::PatternSet;
use std::fmt::Write;

/// How a text was recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The cause id, when known.
    pub cause: Option<String>,
    /// Direction, when the text was a log line.
    pub direction: Option<Direction>,
    /// MTA and line rule, when the text was a log line.
    pub line_rule: Option<(String, String)>,
    /// Reply rule that classified the text.
    pub reply_rule: Option<String>,
    /// When the text is a log line that is not a failure.
    pub not_a_failure: Option<String>,
    /// For unknown texts: the most similar known rule and its cause.
    pub closest: Option<(String, String, f64)>,
    /// The event's severity: the delivery status of a log line, else the
    /// reply code's class; `None` when nothing says (a bare text).
    pub severity: Option<Severity>,
    /// Reply code and enhanced status code, where the protocol puts them.
    pub codes: (Option<String>, Option<String>),
}

/// Explains a reply text or a log line.
pub fn explain(ps: &PatternSet, text: &str) -> Explanation {
    explain_in(ps, text, None, None)
}

/// Explains a reply text or a log line; for a bare reply text, `host` (the
/// remote host that answered) and `direction` select provider- and
/// direction-scoped rules as a log line's fields would.
pub fn explain_in(
    ps: &PatternSet,
    text: &str,
    host: Option<&str>,
    direction: Option<Direction>,
) -> Explanation {
    let text = text.trim();
    let mut x = Explanation {
        cause: None,
        direction: None,
        line_rule: None,
        reply_rule: None,
        not_a_failure: None,
        closest: None,
        severity: None,
        codes: (None, None),
    };
    let rec = check::parse_sample(ps, text).or_else(|| {
        ps.mtas
            .iter()
            .enumerate()
            .filter(|(_, m)| m.csv.is_some())
            .find_map(|(i, _)| check::parse_csv_sample(ps, i, text))
    });
    if let Some(rec) = rec {
        let m = &ps.mtas[rec.mta];
        x.line_rule = Some((m.name.clone(), m.rules[rec.rule].id.clone()));
        let failure = matches!(rec.kind, Kind::Reject | Kind::Warning | Kind::Expired)
            || (rec.kind == Kind::Delivery
                && matches!(rec.outcome, Some(crate::event::Outcome::Failed(_))));
        if failure {
            x.cause = Some(ps.causes[rec.cause].id.clone());
            x.direction = Some(rec.direction);
            x.reply_rule = rec.reply_rule.map(|r| ps.reply.rules[r].id.clone());
            x.severity = Some(rec.severity);
            x.codes = (
                rec.code.clone(),
                rec.fields.dsn.as_deref().map(str::to_string),
            );
        } else {
            x.not_a_failure = Some(format!("{:?}", rec.kind).to_lowercase());
        }
        return x;
    }
    let v = ps.classify(&crate::patterns::Reply {
        text,
        host,
        direction,
        dsn: None,
    });
    x.severity = (v.code.is_some() || v.dsn.is_some()).then(|| {
        crate::parse::event_severity(
            Kind::Reject,
            None,
            false,
            v.code.as_deref(),
            v.dsn.as_deref(),
        )
    });
    x.codes = (v.code, v.dsn);
    x.direction = direction;
    if let Some(r) = v.rule {
        x.cause = Some(ps.causes[ps.reply.rules[r].cause].id.clone());
        x.reply_rule = Some(ps.reply.rules[r].id.clone());
        return x;
    }
    x.closest = closest(ps, text);
    x
}

/// The reply rule whose samples look most like the text.
pub fn closest(ps: &PatternSet, text: &str) -> Option<(String, String, f64)> {
    let t = crate::analysis::evidence::normalise(text).to_lowercase();
    ps.reply
        .rules
        .iter()
        .flat_map(|r| r.samples.iter().map(move |s| (r, s)))
        .map(|(r, s)| {
            (
                r,
                strsim::normalized_levenshtein(
                    &t,
                    &crate::analysis::evidence::normalise(s).to_lowercase(),
                ),
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.id.cmp(&a.0.id)))
        .map(|(r, score)| (r.id.clone(), ps.causes[r.cause].id.clone(), score))
}

/// Human text of an explanation, with the cause's meaning and hints.
pub fn render(ps: &PatternSet, text: &str, x: &Explanation) -> String {
    let mut out = String::new();
    let safe = crate::report::sanitize::terminal(text);
    let _ = writeln!(out, "Text: {safe}");
    if let Some((mta, rule)) = &x.line_rule {
        let general = ps
            .mtas
            .iter()
            .filter(|m| &m.name == mta)
            .flat_map(|m| &m.rules)
            .find(|r| &r.id == rule)
            .and_then(|r| r.narrows.as_deref());
        let form = general.map_or(String::new(), |g| format!(" (a narrowed form of {g})"));
        let _ = writeln!(out, "Log line of {mta}, rule {rule}{form}");
    }
    if let Some(kind) = &x.not_a_failure {
        let _ = writeln!(
            out,
            "Not a failure: this line is a {kind} record (no rejection or bounce to explain)."
        );
        return out;
    }
    let Some(cause) = &x.cause else {
        let _ = writeln!(out, "Unknown: no rule classifies this text.");
        if let Some((rule, cause, score)) = &x.closest {
            let _ = writeln!(
                out,
                "Closest known rule: {rule} (cause {cause}, similarity {:.0}%)",
                score * 100.0
            );
        }
        let _ = writeln!(out, "To teach bouncelog this text, add a rule like this to a pattern file (see --patterns):\n");
        out.push_str(&stub(ps, text, 1));
        return out;
    };
    let Some(i) = ps.cause_id(cause) else {
        return out;
    };
    let c = &ps.causes[i];
    let severity = match x.severity {
        Some(s) => s.as_str().to_string(),
        None => format!(
            "no code: {} by nature, the event decides",
            c.severity.as_str()
        ),
    };
    let _ = writeln!(out, "Cause: {} — {} ({severity})", c.id, c.title);
    let codes: Vec<&str> = [x.codes.0.as_deref(), x.codes.1.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !codes.is_empty() {
        let _ = writeln!(out, "Codes: {}", codes.join(" "));
    }
    if let Some(r) = &x.reply_rule {
        let _ = writeln!(out, "Reply rule: {r}");
    }
    let _ = writeln!(out, "Meaning: {}", c.meaning);
    let mta = x.line_rule.as_ref().map(|(m, _)| m.as_str()).unwrap_or("");
    let directions = match x.direction {
        Some(d) => vec![d],
        None => vec![Direction::Inbound, Direction::Outbound, Direction::Local],
    };
    for &d in &directions {
        if let Some((actor, action)) = ps.act(i, Some(d)) {
            let _ = writeln!(
                out,
                "Who acts ({}): {actor} — {}",
                d.as_str(),
                action.replace('_', " ")
            );
        }
    }
    for d in directions {
        let hints = ps.hints(i, d, mta);
        if hints.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "What to do ({}):",
            match d {
                Direction::Inbound => "our server refused it",
                Direction::Outbound => "a remote server refused our mail",
                Direction::Local => "our own delivery failed",
            }
        );
        for h in hints {
            let _ = writeln!(out, "  - {h}");
        }
    }
    out
}

/// A TOML reply-rule stub for a failure text. Reply rules see the masked
/// text (addresses, IPs, host names replaced), so the stub's regex is built
/// from it: numbers and ids (tokens mixing letters and digits) become
/// patterns, everything else stays literal. The stub passes `patterns check`.
pub fn stub(ps: &PatternSet, sample: &str, n: usize) -> String {
    let sample = sample.trim();
    let masked = ps.reply.mask(sample);
    let mut parts = Vec::new();
    for word in masked.split_whitespace() {
        let mixed = word.len() >= 6
            && word.bytes().any(|b| b.is_ascii_digit())
            && word.bytes().any(|b| b.is_ascii_alphabetic());
        if mixed {
            parts.push(r"\S+".to_string());
            continue;
        }
        let mut re = String::new();
        let mut digits = false;
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !digits {
                    re.push_str("[0-9]+");
                }
                digits = true;
            } else {
                digits = false;
                re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            }
        }
        parts.push(re);
    }
    let re = parts.join(r"\s+");
    let quoted = sample.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "[[reply]]\nid = \"local.unmatched_{n}\"\ncause = \"policy\"   # pick the right cause: bouncelog patterns list\nregex = '''(?i){re}'''\nsamples = [\"{quoted}\"]\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_pass_patterns_check() {
        let ps = PatternSet::load(None).expect("patterns");
        let text = "554 Transaction failed id 4Z1xYk2QmTz9sXQ for <a@example.com> from [192.0.2.7] at mx.example.net \"x\" \\ 3 tries";
        let s = stub(&ps, text, 1);
        let mut sources = crate::patterns::builtin_sources();
        sources.push(crate::patterns::SourceFile {
            name: "stub.toml".into(),
            text: format!("schema = 1\n{s}"),
        });
        let diags = check::check(&sources);
        assert!(diags.iter().all(|d| !d.error), "{s}\n{diags:?}");
        let ps = PatternSet::from_sources(&sources).expect("load with stub");
        let other = "554 Transaction failed id Q2w3E4r5T6y7U8 for <b@example.org> from [198.51.100.1] at mx.example.org \"x\" \\ 12 tries";
        let r = ps
            .classify_text(other)
            .expect("the stub matches a sibling text");
        assert_eq!(ps.reply.rules[r].id, "local.unmatched_1");
    }
}
