//! Turns one log line into a [`Record`] using the pattern set: syslog envelope,
//! MTA by program name, first matching line rule, captured fields, and, for
//! failures, the cause from the reply text.
//!
//! Works on a chunk of whole lines at a time so that chunks can be parsed in
//! parallel; nothing here keeps state between lines (correlation by queue id is
//! `correlate`'s job).

pub mod csvlog;
pub mod csvrow;
pub mod native;
pub mod stamp;
pub mod stats;
pub mod syslog;

use crate::event::{Direction, Fields, Kind, Outcome, Record, Severity, Text};
use crate::patterns::prefilter::Candidates;
use crate::patterns::PatternSet;
use stats::LineStats;
use std::borrow::Cow;
use syslog::TimeContext;

/// What one chunk of lines produced.
#[derive(Debug, Default)]
pub struct ChunkResult {
    /// Line counts.
    pub stats: LineStats,
    /// Recognised lines, in order; `line` is relative to the chunk (1-based).
    pub records: Vec<Record>,
}

/// Per-chunk working memory: program name → MTA (a log has few programs),
/// the candidate rules of the current line, and capture slots per rule.
#[derive(Debug, Default)]
pub struct Scratch {
    programs: rustc_hash::FxHashMap<Vec<u8>, Option<(usize, Option<String>)>>,
    candidates: Candidates,
    all_fields: bool,
    /// Capture slots per MTA and rule, reused from line to line.
    locations: Vec<Vec<crate::patterns::Slots>>,
}

impl Scratch {
    /// Working memory that reads every captured field, even those the
    /// engine does not use for the line's kind (for checking samples).
    pub fn all_fields() -> Scratch {
        Scratch {
            all_fields: true,
            ..Scratch::default()
        }
    }
}

/// Parses every line of `chunk` (which holds whole lines only).
pub fn parse_chunk(ps: &PatternSet, ctx: &TimeContext, chunk: &[u8]) -> ChunkResult {
    let mut out = ChunkResult {
        stats: LineStats::default(),
        // A record per 170–195 bytes of the generated Postfix, Exim and qmail
        // logs (75–100 % of their lines, 90–175 bytes each): sized so that a
        // chunk's list is not grown (a grown list is copied and then about
        // a quarter empty, larger than this).
        records: Vec::with_capacity(chunk.len() / 160),
    };
    let mut cache = Scratch::default();
    if chunk.is_empty() {
        return out;
    }
    let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    let mut line_no = 0u64;
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    for end in ends {
        let line = &body[start..end];
        start = end + 1;
        line_no += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            out.stats.total += 1;
            out.stats.blank += 1;
            continue;
        }
        out.stats.total += 1;
        // journalctl -o json: each entry becomes the syslog line it stands for.
        let converted = if line.first() == Some(&b'{') {
            crate::source::journal::to_syslog(line)
        } else {
            None
        };
        let line = converted.as_deref().unwrap_or(line);
        if let Some(rec) = parse_line(ps, ctx, line, line_no, &mut out.stats, &mut cache) {
            out.records.push(rec);
        }
    }
    out
}

/// Parses one line (no newline), updating `stats`.
pub fn parse_line(
    ps: &PatternSet,
    ctx: &TimeContext,
    line: &[u8],
    line_no: u64,
    stats: &mut LineStats,
    cache: &mut Scratch,
) -> Option<Record> {
    let header = syslog::parse_header(line);
    let Scratch {
        programs,
        candidates,
        all_fields,
        locations,
    } = cache;
    let mut target = None;
    if let Some(h) = &header {
        let known = match programs.get(h.program) {
            Some(k) => k,
            None => programs
                .entry(h.program.to_vec())
                .or_insert_with(|| ps.mta_for_program(h.program)),
        };
        target = known.as_ref().map(|(m, svc)| (*m, svc.as_deref(), h.msg));
    }
    // Lines an MTA writes itself (Exim's mainlog): its own prefix, with a time.
    let mut native_time = None;
    if target.is_none() {
        // An MTA's own line, bare or after a `docker compose logs` prefix.
        let own = syslog::container_output(line).unwrap_or(line);
        target = ps.mtas.iter().enumerate().find_map(|(i, m)| {
            let (time, end) = stamp::native_prefix(m.native.as_ref()?, own, &ctx.zone)?;
            native_time = Some(time);
            Some((i, None, &own[end..]))
        });
    }
    let Some((mta_idx, service, mut msg)) = target else {
        // Lines of an MTA's files that carry no event (header dumps, continuations).
        if ps
            .mtas
            .iter()
            .any(|m| m.skip.as_ref().is_some_and(|k| k.is_match(line)))
        {
            stats.recognised += 1;
        } else if header.is_some() {
            stats.other_programs += 1;
        } else {
            stats.unrecognised += 1;
        }
        return None;
    };
    stats.recognised += 1;
    let mta = &ps.mtas[mta_idx];
    // Syslog-wrapped native lines: drop the inner prefix, keep its time (it has a year).
    if header.is_some() {
        if let Some(n) = &mta.native {
            if let Some(m) = n.regex.find(msg) {
                native_time = stamp::native_prefix(n, msg, &ctx.zone).map(|(t, _)| t);
                msg = &msg[m.end()..];
            }
        }
    }
    // One pass of the literal prefilter names the rules that could match;
    // the first of them that does gives the captures.
    mta.prefilter.candidates(msg, candidates);
    // Capture slots are reused from line to line (one set per rule).
    if locations.len() <= mta_idx {
        locations.resize_with(mta_idx + 1, Vec::new);
    }
    let locs = &mut locations[mta_idx];
    if locs.is_empty() {
        *locs = mta.rules.iter().map(|r| r.regex.slots()).collect();
    }
    let rule_idx = candidates
        .iter()
        .find(|&i| mta.rules[i].regex.read(&mut locs[i], msg))?;
    let caps = &locs[rule_idx];
    stats.matched += 1;
    let rule = &mta.rules[rule_idx];
    let groups = &rule.groups;
    let span = |field: usize| {
        groups[field]
            .and_then(|g| caps.get(g))
            .map(|(a, b)| &msg[a..b])
    };
    // Successful deliveries and probes (a third of a busy log) only need to
    // say who got mail: the reply text and relay are read for failures only.
    let ok_status = || {
        span(const { field("status") }).is_some_and(|st| {
            std::str::from_utf8(st)
                .is_ok_and(|st| matches!(mta.statuses.get(st), Some(Outcome::Ok | Outcome::Probe)))
        })
    };
    let light = !*all_fields
        && (rule.kind == Kind::Removed || (rule.kind == Kind::Delivery && ok_status()));
    let mut lossy = false;
    let mut get = |field: usize, always: bool| {
        if light && !always {
            return None;
        }
        span(field).map(|m| match std::str::from_utf8(m) {
            Ok(s) => Text::from(s),
            Err(_) => {
                lossy = true;
                Text::from(String::from_utf8_lossy(m))
            }
        })
    };
    let fields = Fields {
        queue_id: get(const { field("queue_id") }, true),
        client: get(const { field("client") }, true),
        sender: get(const { field("sender") }, false).map(|s| {
            if s == "<>" {
                Text::default()
            } else {
                s
            }
        }),
        rcpt: get(const { field("rcpt") }, true),
        orig_to: get(const { field("orig_to") }, false),
        helo: get(const { field("helo") }, false),
        stage: get(const { field("stage") }, false),
        relay: get(const { field("relay") }, false)
            .filter(|r| !mta.no_relay.iter().any(|n| n.as_str() == r.as_str())),
        dsn: get(const { field("dsn") }, false),
        status: get(const { field("status") }, true),
        text: get(const { field("text") }, false),
        delivery: get(const { field("delivery") }, true),
        service: get(const { field("service") }, true),
    };
    let soft = span(const { field("soft") }).is_some();
    let (mut rec, needs_event) =
        build_record(ps, mta_idx, rule_idx, line_no, fields, service, soft);
    if !matches!(rec.kind, Kind::Anchor | Kind::Removed | Kind::Start) {
        rec.hash = hash_line(line);
    }
    if needs_event || (ctx.all_times && matches!(rec.kind, Kind::Delivery | Kind::Ndr)) {
        rec.time = native_time.or_else(|| header.as_ref().and_then(|h| syslog::resolve(h, ctx)));
    }
    if needs_event {
        let raw = String::from_utf8_lossy(line);
        lossy |= matches!(raw, Cow::Owned(_));
        rec.raw = Some(raw.into_owned());
    }
    if lossy {
        stats.invalid_utf8 += 1;
    }
    Some(rec)
}

/// Completes a record from its captured fields: direction, delivery outcome,
/// and for failures the reply code, DSN, cause (from the text) and severity.
/// Returns whether the record is a failure or warning event (which then
/// needs its time and line). Shared by line logs and CSV logs.
pub(crate) fn build_record(
    ps: &PatternSet,
    mta_idx: usize,
    rule_idx: usize,
    line_no: u64,
    fields: Fields,
    service: Option<&str>,
    soft: bool,
) -> (Record, bool) {
    let mta = &ps.mtas[mta_idx];
    let rule = &mta.rules[rule_idx];
    let mut rec = Record {
        line: line_no,
        mta: mta_idx,
        kind: rule.kind,
        rule: rule_idx,
        time: None,
        fields,
        direction: rule.direction.unwrap_or(Direction::Inbound),
        outcome: None,
        severity: Severity::Hard,
        cause: ps.other,
        reply_rule: None,
        code: None,
        raw: None,
        hash: 0,
    };
    let needs_event = match rule.kind {
        Kind::Reject | Kind::Warning | Kind::Expired => true,
        Kind::Delivery => {
            let status = rec.fields.status.as_deref().unwrap_or("");
            let outcome = mta.statuses.get(status).copied();
            rec.outcome = outcome;
            let svc = rec.fields.service.as_deref().or(service);
            rec.direction = rule.direction.unwrap_or_else(|| direction_of(mta, svc));
            if rule.direction.is_none() {
                rec.direction = who_answered(mta, rec.direction, &rec.fields);
            }
            matches!(outcome, Some(Outcome::Failed(_)))
        }
        Kind::Start => {
            rec.direction = rule
                .direction
                .unwrap_or_else(|| direction_of(mta, rec.fields.service.as_deref()));
            false
        }
        Kind::Anchor | Kind::Ndr | Kind::Removed | Kind::Note => false,
    };
    if rule.strip_parens {
        if let Some(t) = rec.fields.text.as_mut() {
            if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
                *t = Text::from(inner);
            }
        }
    }
    if rule.underscores {
        if let Some(t) = rec.fields.text.as_mut() {
            *t = Text::from(t.replace(['_', '/'], " ").trim_end());
        }
    }
    if needs_event {
        classify(ps, &mut rec, rule, soft);
    }
    (rec, needs_event)
}

/// Names the cause and severity of a failure record: the line rule's fixed
/// cause, else the reply rules on its text (see `patterns::reply`); the
/// severity comes from the event (delivery status, `soft` capture, reply
/// code), never from the cause's usual nature.
fn classify(ps: &PatternSet, rec: &mut Record, rule: &crate::patterns::LineRule, soft: bool) {
    let host = rec.fields.relay.as_deref().map(host_name);
    let verdict = ps.classify(&crate::patterns::Reply {
        text: rec.fields.text.as_deref().unwrap_or(""),
        host,
        direction: Some(rec.direction),
        dsn: rec.fields.dsn.as_deref(),
    });
    rec.code = verdict.code;
    if rec.fields.dsn.is_none() {
        rec.fields.dsn = verdict.dsn.map(Text::from);
    }
    let (cause, reply) = match (rule.cause, verdict.rule) {
        (Some(c), _) => (c, None),
        (None, Some(r)) => (ps.reply.rules[r].cause, Some(r)),
        (None, None) => (rule.default_cause.unwrap_or(ps.other), None),
    };
    rec.cause = cause;
    rec.reply_rule = reply;
    rec.severity = event_severity(
        rule.kind,
        rec.outcome,
        soft,
        rec.code.as_deref(),
        rec.fields.dsn.as_deref(),
    );
}

/// The severity of a failure event: the delivery status decides (bounced,
/// deferred); a give-up is permanent; an inbound refusal is temporary when
/// its code (or the line's wording, `soft`) says so and permanent otherwise.
pub(crate) fn event_severity(
    kind: Kind,
    outcome: Option<Outcome>,
    soft: bool,
    code: Option<&str>,
    dsn: Option<&str>,
) -> Severity {
    if let Some(Outcome::Failed(s)) = outcome {
        return s;
    }
    if kind == Kind::Expired {
        return Severity::Hard;
    }
    if soft {
        return Severity::Soft;
    }
    severity_of(code, dsn).unwrap_or(Severity::Hard)
}

/// The host name of a relay field (`mx.example.net[192.0.2.1]:25`).
fn host_name(relay: &str) -> &str {
    relay.split('[').next().unwrap_or(relay)
}

/// Index of a field in [`FIELD_NAMES`](crate::patterns::FIELD_NAMES), resolved
/// at compile time (an unknown name does not compile).
const fn field(name: &str) -> usize {
    let names = crate::patterns::FIELD_NAMES;
    let mut i = 0;
    while i < names.len() {
        let (a, b) = (names[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("unknown field name")
}

/// Hash of a line's bytes, to recognise the same line in two inputs (XXH3:
/// a well-tested 64-bit fingerprint, an order of magnitude faster than SipHash
/// on lines of this length).
pub(crate) fn hash_line(line: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(line)
}

/// Direction by who answered: a relay that is our own store (a socket), or a
/// text saying our own side failed, makes a delivery local; a status text quoting a remote server makes a delivery
/// of a locally-directed service (Postfix `error`, `retry`) outbound.
pub(crate) fn who_answered(
    mta: &crate::patterns::MtaSet,
    by_service: Direction,
    f: &Fields,
) -> Direction {
    let relay = f.relay.as_deref().unwrap_or("").as_bytes();
    let text = f.text.as_deref().unwrap_or("").as_bytes();
    let matches = |re: &Option<crate::patterns::LazyRegex>, b: &[u8]| {
        re.as_ref().is_some_and(|r| r.is_match(b))
    };
    if matches(&mta.local_relay, relay) || matches(&mta.local_text, text) {
        return Direction::Local;
    }
    if by_service == Direction::Local && matches(&mta.remote_text, text) {
        return Direction::Outbound;
    }
    by_service
}

/// Direction of a service name by the MTA's `[services]` map.
fn direction_of(mta: &crate::patterns::MtaSet, service: Option<&str>) -> Direction {
    service
        .and_then(|s| mta.services.get(s).copied())
        .unwrap_or(mta.default_direction)
}

pub(crate) use stamp::native_stamp;

/// Severity from a reply code or enhanced status code: 5 is permanent, 4 temporary.
fn severity_of(code: Option<&str>, dsn: Option<&str>) -> Option<Severity> {
    let first = code.or(dsn)?.as_bytes().first().copied()?;
    match first {
        b'5' => Some(Severity::Hard),
        b'4' => Some(Severity::Soft),
        _ => None,
    }
}
