//! Reply classification: how the text of an SMTP reply or delivery status
//! becomes a cause. Owns the compiled reply rules, the reply syntax (where a
//! reply code may stand, what is masked) and the order of decisions:
//!
//! 1. the reply code and enhanced status code are read only where the
//!    protocol puts them: at the start of the text, or right after a reply
//!    start of the data (`said: `, Exim's `SMTP error … after RCPT TO:<…>: `);
//!    a mark such as qmail's `(#5.1.1)` gives the enhanced code otherwise;
//! 2. addresses, IPs and host names are masked, so that words inside them
//!    (`spamtrap@`, `virus.example.net`) never count;
//! 3. the text rules run on the masked text; among those that match and whose
//!    scope (remote host, direction, code) fits, the lowest tier wins
//!    (specific, then generic), a provider's own rule first within a tier,
//!    then file order;
//! 4. only when no specific or generic text rule matches, the `fallback`
//!    rules decide: the code-only rules, then refusal words without a reason.
//!
//! The knowledge (rules, reply starts, masks) is data in `patterns/`.

use super::reply_match::RuleMatcher;
use super::LazyRegex;
use crate::event::Direction;
use std::borrow::Cow;
use std::sync::LazyLock;

/// When a reply rule is tried, relative to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Names the exact reason (the default).
    Specific,
    /// A generic wording (`Access denied`, `mailbox unavailable`).
    Generic,
    /// Decides by the codes alone, when no text rule matches.
    Fallback,
}

impl Tier {
    /// Parses `specific`, `generic` or `fallback`.
    pub fn parse(s: &str) -> Option<Tier> {
        match s {
            "specific" => Some(Tier::Specific),
            "generic" => Some(Tier::Generic),
            "fallback" => Some(Tier::Fallback),
            _ => None,
        }
    }

    /// The name used in pattern files.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Specific => "specific",
            Tier::Generic => "generic",
            Tier::Fallback => "fallback",
        }
    }
}

/// A compiled reply rule.
#[derive(Debug, Clone)]
pub struct ReplyRule {
    /// Rule id.
    pub id: String,
    /// Cause index.
    pub cause: usize,
    /// Regex source (empty for code-only rules).
    pub regex: String,
    /// Matches the unmasked text.
    pub raw: bool,
    /// Tier.
    pub tier: Tier,
    /// Enhanced status code condition.
    pub dsn: Option<LazyRegex>,
    /// Reply code condition.
    pub code: Option<LazyRegex>,
    /// Remote host condition (the provider's own rule).
    pub hosts: Option<LazyRegex>,
    /// Direction condition.
    pub direction: Option<Direction>,
    /// Host the samples come from.
    pub sample_host: Option<String>,
    /// Sample texts.
    pub samples: Vec<String>,
    /// File the rule came from.
    pub file: String,
    /// Line of the rule's id in that file.
    pub line: Option<usize>,
    /// Line of its regex (of its id when it has none).
    pub regex_line: Option<usize>,
}

/// The reply syntax, compiled.
#[derive(Debug, Clone, Default)]
pub struct ReplySyntax {
    /// Reply starts, as one alternation.
    pub starts: Option<LazyRegex>,
    /// Enhanced-code marks, each with a `dsn` group.
    pub marks: Vec<LazyRegex>,
    /// Masks in order: regex, replacement, name.
    pub masks: Vec<(LazyRegex, String, String)>,
    /// For each mask, the bytes every match of it holds: a text without one
    /// is left alone without running the regex.
    pub mask_needs: Vec<Vec<u8>>,
}

/// The compiled rules and the matchers that find which of them match.
#[derive(Debug, Clone)]
pub struct ReplySet {
    /// Rules in file order (later files first).
    pub rules: Vec<ReplyRule>,
    /// Reading and masking.
    pub syntax: ReplySyntax,
    /// Matcher over the masked text: pattern p is rule `masked_ids[p]`.
    masked: RuleMatcher,
    masked_ids: Vec<usize>,
    /// Matcher over the raw text.
    raw: RuleMatcher,
    raw_ids: Vec<usize>,
    /// Code-only rules, in order.
    code_only: Vec<usize>,
}

/// What a reply says, for classification.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reply<'a> {
    /// The reply or status text.
    pub text: &'a str,
    /// Name of the remote host that answered, when known.
    pub host: Option<&'a str>,
    /// Direction of the failure, when known.
    pub direction: Option<Direction>,
    /// Enhanced status code from a field of the log line (Postfix `dsn=`).
    pub dsn: Option<&'a str>,
}

/// The result of classifying a reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The reply rule that decided, if any.
    pub rule: Option<usize>,
    /// The three-digit reply code, where the protocol puts it.
    pub code: Option<String>,
    /// The enhanced status code (from the line's field, else from the text).
    pub dsn: Option<String>,
}

/// A reply code with an optional enhanced code right after it, or an
/// enhanced code alone (RFC 5321 §4.2, RFC 3463 §2): protocol syntax, read at
/// a position where a reply starts.
static CODE_AT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^(?:([245][0-9][0-9])(?:[ -]+|$)(?:#?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$))?|([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$))",
    )
    .expect("static regex")
});

impl ReplySet {
    /// Compiles every rule's regex now (rules from users' files: an error
    /// must surface when loading).
    pub fn new(rules: Vec<ReplyRule>, syntax: ReplySyntax) -> Result<ReplySet, String> {
        let set = ReplySet::deferred(rules, syntax);
        set.masked.build()?;
        set.raw.build()?;
        Ok(set)
    }

    /// The reply set whose rules are compiled on first need: for rules known
    /// to compile (the built-ins; a test compiles them).
    pub fn deferred(rules: Vec<ReplyRule>, syntax: ReplySyntax) -> ReplySet {
        let mut masked_ids = Vec::new();
        let mut raw_ids = Vec::new();
        let mut code_only = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.regex.is_empty() {
                code_only.push(i);
            } else if r.raw {
                raw_ids.push(i);
            } else {
                masked_ids.push(i);
            }
        }
        let matcher =
            |ids: &[usize]| RuleMatcher::new(ids.iter().map(|&i| rules[i].regex.clone()).collect());
        let masked = matcher(&masked_ids);
        let raw = matcher(&raw_ids);
        ReplySet {
            rules,
            syntax,
            masked,
            masked_ids,
            raw,
            raw_ids,
            code_only,
        }
    }

    /// How many rules' regexes are compiled so far (0 before the first
    /// use of the built-ins; every text rule's once a user's file loads).
    pub fn compiled(&self) -> usize {
        self.masked.compiled() + self.raw.compiled()
    }

    /// The reply code and enhanced status code of a text, read only where a
    /// reply starts.
    pub fn codes(&self, text: &str) -> (Option<String>, Option<String>) {
        let lead = text.len() - text.trim_start_matches(['(', ' ', '\t']).len();
        let mut positions = vec![lead];
        if let Some(st) = &self.syntax.starts {
            positions.extend(st.find_iter(text.as_bytes()).map(|m| m.end()));
        }
        let mut code = None;
        let mut dsn = None;
        for p in positions {
            let Some(c) = text.get(p..).and_then(|t| CODE_AT.captures(t)) else {
                continue;
            };
            if let Some(m) = c.get(1) {
                if code.is_none() {
                    code = Some(m.as_str().to_string());
                    dsn = c.get(2).map(|m| m.as_str().to_string());
                }
            } else if let Some(m) = c.get(3) {
                // An enhanced code alone (a milter's `5.7.1 …`).
                if code.is_none() && dsn.is_none() {
                    dsn = Some(m.as_str().to_string());
                }
            }
            if code.is_some() && dsn.is_some() {
                break;
            }
        }
        // The enhanced code belongs with the reply code: only when the reply
        // that gave the code has none does a mark supply one.
        if dsn.is_none() {
            dsn = self.syntax.marks.iter().find_map(|m| {
                let c = m.captures(text.as_bytes())?;
                let d = c.name("dsn")?;
                std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
            });
        }
        (code, dsn)
    }

    /// The text the reply rules see: addresses, IPs and host names masked.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out: Cow<'t, [u8]> = Cow::Borrowed(text.as_bytes());
        for ((re, rep, _), needs) in self.syntax.masks.iter().zip(&self.syntax.mask_needs) {
            if !needs.iter().all(|&b| memchr::memchr(b, &out).is_some()) {
                continue;
            }
            if let Cow::Owned(v) = re.replace_all(&out, rep.as_bytes()) {
                out = Cow::Owned(v);
            }
        }
        match out {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        }
    }

    /// Classifies a reply: its codes and the rule that names its cause.
    pub fn classify(&self, reply: &Reply<'_>) -> Verdict {
        let (code, text_dsn) = self.codes(reply.text);
        let dsn = reply
            .dsn
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .or(text_dsn.clone());
        // The text's own enhanced code is the more specific one when the
        // field is a generic x.0.0 (Postfix logs dsn=5.0.0 for a 5.1.1 reply).
        let rule_dsn = match (&dsn, &text_dsn) {
            (Some(d), Some(t)) if d.ends_with(".0.0") => t.clone(),
            (Some(d), _) => d.clone(),
            (None, _) => String::new(),
        };
        let scope_ok = |r: &ReplyRule| {
            r.direction.is_none_or(|d| reply.direction == Some(d))
                && r.hosts
                    .as_ref()
                    .is_none_or(|h| reply.host.is_some_and(|host| h.is_match(host.as_bytes())))
                && r.dsn
                    .as_ref()
                    .is_none_or(|re| !rule_dsn.is_empty() && re.is_match(rule_dsn.as_bytes()))
                && r.code
                    .as_ref()
                    .is_none_or(|re| code.as_deref().is_some_and(|c| re.is_match(c.as_bytes())))
        };
        let key = |i: usize| {
            let r = &self.rules[i];
            (r.tier, r.hosts.is_none(), i)
        };
        // Every rule the text matches, ranked; the best whose scope fits
        // wins. Ranked first, the scopes (whose regexes compile on first use)
        // are checked only down to the winner.
        let mut ranked: Vec<(Tier, bool, usize)> = Vec::new();
        let masked = self.mask(reply.text);
        let mut found = Vec::new();
        for (set, ids, text) in [
            (&self.masked, &self.masked_ids, masked.as_ref()),
            (&self.raw, &self.raw_ids, reply.text),
        ] {
            if set.pattern_len() == 0 {
                continue;
            }
            set.which(text.as_bytes(), &mut found);
            ranked.extend(found.iter().map(|&p| key(ids[p])));
        }
        // Code-only rules are of the fallback tier unless their file says
        // `generic` (an informative code that outranks a generic wording):
        // ranked like any rule, so a text rule of a lower tier outranks them.
        if code.is_some() || !rule_dsn.is_empty() {
            ranked.extend(self.code_only.iter().map(|&i| key(i)));
        }
        ranked.sort_unstable();
        let best = ranked
            .into_iter()
            .find(|&(_, _, i)| scope_ok(&self.rules[i]));
        Verdict {
            rule: best.map(|(_, _, i)| i),
            code,
            dsn,
        }
    }
}

/// Compiles the reply syntax; errors name the regex. When `deferred` (the
/// built-ins, which tests compile and check), each regex is compiled on
/// first use and not checked here.
pub fn compile_syntax(
    def: &super::schema::ReplySyntaxDef,
    deferred: bool,
) -> Result<ReplySyntax, String> {
    let compile = |re: &str| LazyRegex::new(re, deferred);
    let starts = if def.starts.is_empty() {
        None
    } else {
        let alt = def
            .starts
            .iter()
            .map(|s| format!("(?:{s})"))
            .collect::<Vec<_>>()
            .join("|");
        Some(compile(&alt).map_err(|e| format!("reply_syntax.starts: {e}"))?)
    };
    let mut marks = Vec::new();
    for m in &def.marks {
        let re = compile(m).map_err(|e| format!("reply_syntax.marks {m:?}: {e}"))?;
        if !deferred && re.capture_names().flatten().all(|n| n != "dsn") {
            return Err(format!(
                "reply_syntax.marks {m:?}: needs a (?P<dsn>…) group"
            ));
        }
        marks.push(re);
    }
    let mut masks = Vec::new();
    for m in &def.mask {
        let re = compile(&m.regex).map_err(|e| format!("reply_syntax.mask {}: {e}", m.name))?;
        if !deferred && re.is_match(b"") {
            return Err(format!(
                "reply_syntax.mask {}: matches the empty text",
                m.name
            ));
        }
        masks.push((re, m.replace.clone(), m.name.clone()));
    }
    let mask_needs = def
        .mask
        .iter()
        .map(|m| super::prefilter::required_bytes(&m.regex))
        .collect();
    Ok(ReplySyntax {
        starts,
        marks,
        masks,
        mask_needs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> super::super::schema::ReplySyntaxDef {
        super::super::schema::ReplySyntaxDef {
            starts: vec![r"said:\s*".into()],
            marks: vec![r"\(#(?P<dsn>[245]\.[0-9]\.[0-9]+)".into()],
            mask: vec![],
        }
    }

    fn set() -> ReplySet {
        let syntax = compile_syntax(&def(), false).expect("syntax");
        ReplySet::new(Vec::new(), syntax).expect("set")
    }

    #[test]
    fn deferred_syntax_reads_the_same() {
        let lazy = ReplySet::deferred(Vec::new(), compile_syntax(&def(), true).expect("syntax"));
        let eager = set();
        for t in [
            "host x said: 550 5.1.1 no",
            "no such user (#5.1.1)",
            "451 later",
        ] {
            assert_eq!(lazy.codes(t), eager.codes(t), "{t}");
        }
        // Only an eager compile checks the marks' groups.
        let mut bad = def();
        bad.marks = vec![r"\(#[245]\.[0-9]\.[0-9]+".into()];
        assert!(compile_syntax(&bad, false).is_err());
        assert!(compile_syntax(&bad, true).is_ok());
    }

    #[test]
    fn codes_only_where_a_reply_starts() {
        let s = set();
        let c = |t: &str| s.codes(t);
        assert_eq!(
            c("550 5.1.1 <a@example.com>: Recipient address rejected"),
            (Some("550".into()), Some("5.1.1".into()))
        );
        assert_eq!(
            c("host mx.example.net[192.0.2.1]:25 said: 450-4.2.1 try later"),
            (Some("450".into()), Some("4.2.1".into()))
        );
        assert_eq!(
            c("5.7.1 Blocked by SpamAssassin"),
            (None, Some("5.7.1".into()))
        );
        assert_eq!(
            c("Access denied - Invalid HELO name (See RFC2821 4.1.1.1)"),
            (None, None)
        );
        assert_eq!(
            c("connect to [192.0.2.189]:53343: port 587 refused"),
            (None, None)
        );
        assert_eq!(
            c("Sorry, no mailbox here by that name. (#5.1.1)"),
            (None, Some("5.1.1".into()))
        );
        assert_eq!(
            c("550 #5.1.0 Address rejected"),
            (Some("550".into()), Some("5.1.0".into()))
        );
        assert_eq!(
            c("(550 Requested action not taken)"),
            (Some("550".into()), None)
        );
    }
}
