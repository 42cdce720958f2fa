//! The values that flow from the parser to the reports: directions, severities,
//! per-line records and correlated failure events.
//!
//! Nothing here reads files or knows a log format.

use crate::ids::{CauseId, MtaId, RuleId};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// Who refused the mail.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Our server refused a client (an SMTP rejection we sent).
    Inbound,
    /// A remote server refused our delivery.
    Outbound,
    /// Our own delivery agent failed.
    Local,
}

impl Direction {
    /// Parses `inbound`, `outbound` or `local`.
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            "local" => Some(Direction::Local),
            _ => None,
        }
    }

    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Local => "local",
        }
    }
}

/// Whether a failure is permanent or will be retried.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Permanent: 5xx, bounced, expired.
    Hard,
    /// Temporary: 4xx, deferred.
    Soft,
}

impl Severity {
    /// Parses `hard` or `soft`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "hard" => Some(Severity::Hard),
            "soft" => Some(Severity::Soft),
            _ => None,
        }
    }

    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Hard => "hard",
            Severity::Soft => "soft",
        }
    }
}

/// What a line rule's match means to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An inbound rejection: one failure event.
    Reject,
    /// A `reject_warning`: counted apart, not a failure.
    Warning,
    /// A delivery status line for one recipient.
    Delivery,
    /// A message gave up after retrying.
    Expired,
    /// Sender/client of a queue id, joined to later failures.
    Anchor,
    /// A non-delivery notice was sent.
    Ndr,
    /// The queue id is finished.
    Removed,
    /// A delivery attempt starts: its delivery id names the message and
    /// recipient that a later result line (by delivery id only) refers to.
    Start,
    /// A line of the MTA that records no attempt and no outcome (Exim's
    /// "retry time not reached", a delivery queued on purpose): recognised
    /// and counted as matched, nothing more.
    Note,
}

impl Kind {
    /// Parses the `kind` of a line rule.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "reject" => Kind::Reject,
            "warning" => Kind::Warning,
            "delivery" => Kind::Delivery,
            "expired" => Kind::Expired,
            "anchor" => Kind::Anchor,
            "ndr" => Kind::Ndr,
            "removed" => Kind::Removed,
            "start" => Kind::Start,
            "note" => Kind::Note,
            _ => return None,
        })
    }
}

/// Outcome of a delivery status word (`[statuses]` of a pattern file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A failure of the given severity.
    Failed(Severity),
    /// Delivered.
    Ok,
    /// An address-verification probe result: neither delivery nor failure.
    Probe,
}

/// A captured value: up to 24 bytes are kept inline, so the queue ids,
/// status words and most addresses of millions of lines cost no allocation.
pub type Text = compact_str::CompactString;

/// Fields captured from one log line. Every value is already converted to
/// text (invalid UTF-8 replaced, counted in the line statistics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// Queue id or message id.
    pub queue_id: Option<Text>,
    /// Client `host[ip]` of an inbound connection.
    pub client: Option<Text>,
    /// Envelope sender.
    pub sender: Option<Text>,
    /// Recipient.
    pub rcpt: Option<Text>,
    /// Original recipient before rewriting.
    pub orig_to: Option<Text>,
    /// HELO name the client announced.
    pub helo: Option<Text>,
    /// SMTP stage of a rejection (`RCPT`, `DATA`, …).
    pub stage: Option<Text>,
    /// Relay (remote host) of a delivery.
    pub relay: Option<Text>,
    /// Enhanced status code logged by the MTA.
    pub dsn: Option<Text>,
    /// Delivery status word.
    pub status: Option<Text>,
    /// Reply or status text.
    pub text: Option<Text>,
    /// Delivery attempt id (qmail's `delivery 251`).
    pub delivery: Option<Text>,
    /// Service named in the line itself (qmail's `to local|remote`).
    pub service: Option<Text>,
}

/// A recognised line, before correlation.
#[derive(Debug, Clone)]
pub struct Record {
    /// 1-based line number within its input.
    pub line: u64,
    /// Index of the MTA in the pattern set.
    pub mta: usize,
    /// What the line means.
    pub kind: Kind,
    /// Index of the line rule that matched.
    pub rule: usize,
    /// Event time, when the kind needs one.
    pub time: Option<DateTime<FixedOffset>>,
    /// Captured fields.
    pub fields: Fields,
    /// Direction for failure kinds.
    pub direction: Direction,
    /// For deliveries: what the status means.
    pub outcome: Option<Outcome>,
    /// Severity for failures.
    pub severity: Severity,
    /// Cause index for failures and warnings.
    pub cause: usize,
    /// Reply rule that classified the text, if any.
    pub reply_rule: Option<usize>,
    /// SMTP reply code found in the text (`550`).
    pub code: Option<String>,
    /// The whole line, for failures (example lines, ndjson).
    pub raw: Option<String>,
    /// Hash of the whole line: the same line in two inputs is counted once.
    pub hash: u64,
}

/// A failure event: one rejected or bounced recipient.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// When it happened, RFC 3339.
    pub time: Option<DateTime<FixedOffset>>,
    /// MTA.
    pub mta: MtaId,
    /// Who refused.
    pub direction: Direction,
    /// Cause.
    pub cause: CauseId,
    /// Hard or soft.
    pub severity: Severity,
    /// Who must act (`us`, `sender`, `recipient`, `remote_postmaster`, `nobody`).
    pub actor: Option<String>,
    /// What to do (`remove_address`, `fix_our_config`, `wait`, …).
    pub action: Option<String>,
    /// Recipient address.
    pub recipient: Option<String>,
    /// Envelope sender.
    pub sender: Option<String>,
    /// Client of an inbound connection, or of the message's submission.
    pub client: Option<String>,
    /// Remote host of an outbound delivery.
    pub remote_host: Option<String>,
    /// HELO name of the client.
    pub helo: Option<String>,
    /// Queue id.
    pub queue_id: Option<String>,
    /// SMTP stage or step at which the mail was refused, as the MTA logged
    /// it (`RCPT`, `DATA`, `CONNECT`, `after DATA`, Exchange's `SMTP`, …).
    pub stage: Option<String>,
    /// Delivery status word as the MTA logged it (`bounced`, `deferred`,
    /// `expired`, qmail's `failure`, …); null for an inbound rejection.
    pub status: Option<String>,
    /// SMTP reply code.
    pub code: Option<String>,
    /// Enhanced status code.
    pub dsn: Option<String>,
    /// Reply or status text.
    pub text: Option<String>,
    /// Input file (`-` for stdin).
    pub file: String,
    /// 1-based line number in the input.
    pub line: u64,
    /// Line rule.
    pub rule: RuleId,
    /// Reply rule, when the cause came from the text.
    pub reply_rule: Option<RuleId>,
    /// The log line itself (not serialised in ndjson; used for examples).
    #[serde(skip)]
    pub raw: Option<String>,
}
