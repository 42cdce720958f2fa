//! The on-disk shape of pattern files (`patterns/*.toml`), as serde types.
//!
//! This module only describes the files; compiling and checking them is done by
//! `patterns::mod` and `patterns::check`. Unknown keys are errors so that a typo
//! in a user's pattern file is reported instead of silently ignored.
//!
//! Ids and the fields whose values are checked after parsing are
//! [`Spanned`]: a mistake found there is reported at its own line (and a
//! second rule of the same id at the second one).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// One pattern file. A file may hold any mix of causes, reply rules and one
/// MTA's line rules (the built-in files keep them apart).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternFile {
    /// Schema version of the file format; only 1 exists.
    pub schema: Option<u32>,
    /// The MTA this file's line rules belong to (`postfix`, `exim`, …).
    pub mta: Option<String>,
    /// Human description of the MTA rule set.
    pub description: Option<String>,
    /// Regex matched against the syslog program name (`postfix/smtpd`); the
    /// named group `service` selects the direction of delivery lines.
    pub program: Option<String>,
    /// Direction of delivery lines whose service is not in `services`.
    pub default_direction: Option<String>,
    /// Service name to direction (`smtp = "outbound"`).
    #[serde(default)]
    pub services: BTreeMap<String, String>,
    /// Delivery status word to outcome (`bounced = "hard"`, `sent = "ok"`).
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// The MTA's own line prefix (for logs it writes itself, like Exim's mainlog).
    pub native: Option<NativeDef>,
    /// Lines of the MTA's files that carry no event (header dumps, continuations).
    pub skip: Option<String>,
    /// Regex on a delivery's relay field that names our own mail store (a
    /// unix socket such as `[private/dovecot-lmtp]`): such deliveries are local.
    pub local_relay: Option<String>,
    /// Regex on a delivery's status text that shows a remote server answered
    /// (`host mx.example.net[192.0.2.1] said:`): a delivery by a service of
    /// local direction with such a text is outbound.
    pub remote_text: Option<String>,
    /// Regex on a delivery's status text that shows our own side failed before
    /// any remote server was reached (qmail's `Unable to run qmail-remote`):
    /// such a failure is local whatever the delivery's direction.
    pub local_text: Option<String>,
    /// Relay values that name no host (Postfix writes `relay=none` when no
    /// server was tried): such a delivery has no relay.
    #[serde(default)]
    pub no_relay: Vec<String>,
    /// A CSV log whose columns a `#Fields:` header names (Exchange message tracking).
    pub csv: Option<CsvDef>,
    /// Line rules, tried in order.
    #[serde(default)]
    pub rule: Vec<LineRuleDef>,
    /// Reply-text classification rules, tried in order.
    #[serde(default)]
    pub reply: Vec<ReplyRuleDef>,
    /// Where reply codes stand in a text and what is masked before the
    /// reply rules run (a later file's section replaces an earlier one's).
    pub reply_syntax: Option<ReplySyntaxDef>,
    /// Cause catalogue entries keyed by cause id.
    #[serde(default)]
    pub cause: BTreeMap<Spanned<String>, CauseDef>,
    /// Hints (and data) of each kind of finding, keyed by kind.
    #[serde(default)]
    pub finding: BTreeMap<Spanned<String>, FindingDef>,
}

/// What a kind of finding says and uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingDef {
    /// The detector that emits findings of this kind (`typo`, `harvest`,
    /// `domain_failure`, `our_listing`, `evidence_capped`: see
    /// `findings::detectors`); the table's key is the kind the reports show.
    pub detector: Option<String>,
    /// Heading of the kind's findings in reports ("Likely typos").
    pub title: Option<String>,
    /// Hints; `{subject}` is replaced by the finding's subject.
    #[serde(default)]
    pub hints: Vec<FindingHint>,
    /// Regexes run on the example lines of a finding's groups; their `ip`
    /// and `list` captures name what is listed where (`blocklisted`).
    #[serde(default)]
    pub names: Vec<String>,
    /// Well-known mail domains (typo suggestions).
    #[serde(default)]
    pub known_domains: Vec<String>,
    /// `merge` recomputes this kind from the merged counts: a part's finding
    /// of the kind is not carried over.
    #[serde(default)]
    pub merge_recomputes: bool,
    /// How soon someone must act on a finding of this kind (see `URGENCIES`
    /// in `patterns`): orders the report's findings; absent = `soon`.
    pub urgency: Option<String>,
}

/// A hint of a finding: a text for every MTA, or one for a single MTA (shown
/// only when that MTA's lines are in the inputs).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FindingHint {
    /// For every MTA.
    Text(String),
    /// For one MTA.
    Mta {
        /// MTA name.
        mta: String,
        /// The hint.
        text: String,
    },
}

/// A rule that recognises one shape of log message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRuleDef {
    /// Unique rule id, e.g. `postfix.smtpd.reject`.
    pub id: Spanned<String>,
    /// What the engine does with a match (see `patterns/postfix.toml`).
    pub kind: Spanned<String>,
    /// The regex, matched against the message after `program[pid]: `
    /// (line logs; absent in CSV logs, which use `when`).
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    /// CSV logs: column name → regex the column's value must match.
    #[serde(default)]
    pub when: BTreeMap<String, String>,
    /// CSV logs: the status word this row stands for (looked up in `[statuses]`).
    pub status: Option<String>,
    /// Fixed direction; otherwise from the service.
    pub direction: Option<Spanned<String>>,
    /// Fixed cause; otherwise the captured `text` is classified.
    pub cause: Option<Spanned<String>>,
    /// Cause used when no reply rule matches the text.
    pub default_cause: Option<Spanned<String>>,
    /// The text writes spaces as `_` and line breaks as `/` (qmail-send):
    /// turn them back before classification.
    #[serde(default)]
    pub underscores: bool,
    /// The captured text is wrapped in one pair of parentheses to remove.
    #[serde(default)]
    pub strip_parens: bool,
    /// Id of a later, more general rule this one is a faster special case of
    /// (its samples must match that rule too; the overlap is not a warning).
    #[serde(default)]
    pub narrows: Option<String>,
    /// The regex is one-pass (each byte decides the next step, so the regex
    /// engine captures with its fastest engine in one scan): loading fails
    /// when it is not. Meant for the rules of a log's most common lines.
    #[serde(default)]
    pub onepass: bool,
    /// Sample lines with the values the rule must capture.
    #[serde(default)]
    pub sample: Vec<LineSample>,
}

/// A CSV log format with a `#Fields:` header line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvDef {
    /// Regex matched against the start of a file (after a UTF-8 BOM): a match
    /// makes the whole file this format.
    pub detect: String,
    /// Field (`rcpt`, `text`, `sender`, `client`, `relay`, `queue_id`, `time`, …) → column name.
    pub fields: BTreeMap<String, String>,
    /// Fields holding parallel lists (one event per element).
    #[serde(default)]
    pub split: Vec<String>,
    /// Separator of those lists.
    #[serde(default = "semicolon")]
    pub separator: String,
    /// The `#Fields:` header used to read rule samples.
    pub sample_fields: String,
    /// Column orders for rows that come without a `#Fields:` header (rows cut
    /// out of a log with grep, or shipped one by one), each a comma-separated
    /// header: a file whose first row has exactly as many columns as one of
    /// them is read in that order, and the user is told so.
    #[serde(default)]
    pub headerless: Vec<String>,
}

fn semicolon() -> String {
    ";".into()
}

/// How an MTA prefixes the lines it writes itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeDef {
    /// Regex of the prefix; the named group `time` (and optional `tz`, `+0100`)
    /// holds the stamp. Lines whose prefix has a time belong to this MTA.
    pub regex: String,
    /// chrono format of `time` (`%Y-%m-%d %H:%M:%S%.f`); local time unless `tz`.
    pub time_format: String,
}

/// A sample line of a line rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSample {
    /// A complete log line, as the MTA writes it.
    pub line: String,
    /// Expected captures, plus `cause`, `direction` and `severity` of the event.
    #[serde(default)]
    pub expect: BTreeMap<String, String>,
}

/// How reply texts are read before the reply rules run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplySyntaxDef {
    /// Regexes after whose match a quoted reply starts (`said: `, Exim's
    /// `SMTP error from remote mail server after …: `). A reply code is read
    /// only at the start of the text or right after one of these.
    #[serde(default)]
    pub starts: Vec<String>,
    /// Regexes with a `dsn` group that mark an enhanced status code anywhere
    /// (qmail's `(#5.1.1)`), used when no reply start carries one.
    #[serde(default)]
    pub marks: Vec<String>,
    /// Replacements applied, in order, to the text the reply rules see:
    /// addresses, IPs and host names, so that words inside them never count.
    #[serde(default)]
    pub mask: Vec<MaskDef>,
}

/// One masking step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskDef {
    /// What is masked (for `patterns list`).
    pub name: String,
    /// The regex (case-sensitive unless it says `(?i)`).
    pub regex: String,
    /// What each match is replaced with.
    pub replace: String,
}

/// A rule that maps an SMTP reply or status text to a cause.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRuleDef {
    /// Unique rule id.
    pub id: Spanned<String>,
    /// Cause id in the catalogue.
    pub cause: Spanned<String>,
    /// Regex matched anywhere in the masked text (the raw text with `raw`).
    /// A rule without one decides by `dsn` / `code` alone.
    pub regex: Option<Spanned<String>>,
    /// Match the text as logged, without masking (for rules that need a
    /// host name or an address, such as Exchange's IMCEAEX- addresses).
    #[serde(default)]
    pub raw: bool,
    /// `specific` (default), `generic` (after every specific rule) or
    /// `fallback` (after every text rule: code-only rules).
    pub tier: Option<Spanned<String>>,
    /// Regex matched against the enhanced status code read from the text
    /// (whole code, `5.1.1`); the rule applies only when it matches.
    pub dsn: Option<Spanned<String>>,
    /// Regex matched against the three-digit reply code (whole code).
    pub code: Option<Spanned<String>>,
    /// Regex matched against the name of the remote host that answered:
    /// the rule is the provider's own and applies only to its replies.
    pub hosts: Option<Spanned<String>>,
    /// The rule applies only to failures of this direction.
    pub direction: Option<Spanned<String>>,
    /// Remote host the samples are checked as coming from (with `hosts`).
    pub sample_host: Option<String>,
    /// Texts this rule (and no earlier rule) must classify.
    #[serde(default)]
    pub samples: Vec<String>,
}

/// One cause of the catalogue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseDef {
    /// Short title for reports.
    pub title: String,
    /// `hard` or `soft`: the nature of the failure when nothing else says.
    pub severity: Spanned<String>,
    /// What the cause means, in one or two sentences.
    pub meaning: Option<String>,
    /// Recipients that hard-failed with this cause belong on a suppression list.
    #[serde(default)]
    pub suppress: bool,
    /// The recipient does not exist (evidence for typo and harvest findings).
    #[serde(default)]
    pub unknown_recipient: bool,
    /// The recipient domain does not exist (with `unknown_recipient`: the
    /// failed addresses that typo findings look at).
    #[serde(default)]
    pub unknown_domain: bool,
    /// Our sending IP or domain is listed (evidence for the "our IP blocklisted" finding).
    #[serde(default)]
    pub our_listing: bool,
    /// The cause of failures no rule classifies (exactly one cause has it).
    #[serde(default)]
    pub fallback: bool,
    /// Who must act and what to do, per direction (first match wins).
    #[serde(default)]
    pub act: Vec<ActDef>,
    /// Remediation hints.
    #[serde(default)]
    pub hints: Vec<HintDef>,
}

/// Who must act on a cause, and the action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActDef {
    /// `inbound`, `outbound` or `local`; absent = every direction.
    pub direction: Option<String>,
    /// `us`, `sender`, `recipient`, `remote_postmaster` or `nobody`.
    pub actor: String,
    /// What to do (see `ACTIONS` in `patterns`).
    pub action: String,
    /// How soon someone must act (see `URGENCIES` in `patterns`): orders the
    /// report's groups and findings; absent = `soon`.
    pub urgency: Option<String>,
}

/// One remediation hint, optionally limited to a direction and/or MTA.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HintDef {
    /// `inbound`, `outbound` or `local`; absent = every direction.
    pub direction: Option<String>,
    /// MTA name; absent = every MTA.
    pub mta: Option<String>,
    /// The hint itself.
    pub text: String,
}
