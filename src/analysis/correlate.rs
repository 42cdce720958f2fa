//! Joins the lines of one message by queue id, in input order: the sender
//! (`qmgr from=`) and client (`smtpd client=`) are attached to later failures
//! of the same message, deferred recipients are remembered so that an expiry
//! names them, and non-delivery notices are counted.
//!
//! State for open queue ids is bounded: at most `cap` messages are kept, the
//! oldest forgotten first, so a log with millions of messages cannot grow it.

use crate::analysis::aged::Aged;
use crate::analysis::summary::Summary;
use crate::event::{Direction, Event, Kind, Outcome, Record, Text};
use crate::patterns::{CauseId, MtaId, PatternSet, RuleId};
// Seeded per map: queue ids and line hashes come from logs that strangers write.
use foldhash::HashMap;

/// Default number of open messages remembered.
pub const DEFAULT_OPEN_CAP: usize = 200_000;
/// Deferred recipients remembered per message.
const DEFERRED_CAP: usize = 64;

#[derive(Debug, Clone)]
struct Deferred {
    rcpt: Text,
    event: Event,
}

#[derive(Debug, Default)]
struct Open {
    sender: Option<Text>,
    client: Option<Text>,
    deferred: Vec<Deferred>,
}

/// A message or delivery attempt: the MTA and its queue or delivery id.
type Key = (usize, Text);

/// Correlation state across the lines of a run.
#[derive(Debug)]
pub struct Correlator {
    open: Aged<Key, Open>,
    seq: u64,
    cap: usize,
    /// Messages and delivery attempts forgotten while open because the cap
    /// was reached (reported as `Diagnostics::open_forgotten`).
    pub evicted: u64,
    /// Times each dedupe line was seen in earlier inputs (max over inputs).
    seen_before: HashMap<u64, u32>,
    /// Times each dedupe line was seen in the current input.
    seen_now: HashMap<u64, u32>,
    /// Open delivery attempts (qmail): delivery id → message, recipient, direction.
    deliveries: Aged<Key, Started>,
    /// Counted lines are keyed by time, program, pid and message rather than
    /// by their bytes (the run mixes journal JSON with syslog files: see `dedupe`).
    pub mixed_forms: bool,
    /// Copies of a line in journal JSON and in a file may be stamped one
    /// second apart: try the neighbouring seconds' keys too.
    pub near_seconds: bool,
    /// Only counted lines inside this window go into the summary.
    pub window: crate::analysis::window::Window,
    /// Replace local parts of addresses before events leave (`--redact`).
    pub redact: bool,
    /// Track lines across inputs (only useful with two or more inputs).
    pub dedupe: bool,
    /// The current chunk's delivered recipients were counted by its partial
    /// analysis (`partial`): deliveries here skip that counter.
    pub counted: bool,
}

/// What a `start` line said about a delivery attempt.
#[derive(Debug, Clone)]
struct Started {
    queue_id: Option<Text>,
    rcpt: Option<Text>,
    direction: Direction,
}

/// Most distinct lines remembered for de-duplication across inputs.
const DEDUPE_CAP: usize = 1_000_000;

impl Default for Correlator {
    fn default() -> Self {
        Correlator::with_cap(DEFAULT_OPEN_CAP)
    }
}

impl Correlator {
    /// A correlator remembering at most `cap` open messages.
    pub fn with_cap(cap: usize) -> Correlator {
        Correlator {
            open: Aged::default(),
            seq: 0,
            cap: cap.max(1),
            evicted: 0,
            seen_before: HashMap::default(),
            seen_now: HashMap::default(),
            deliveries: Aged::default(),
            window: crate::analysis::window::Window::default(),
            mixed_forms: false,
            near_seconds: false,
            redact: false,
            dedupe: true,
            counted: false,
        }
    }

    /// Marks the start of a new input. A counted line (failure, warning,
    /// delivery, notice) counts only as often as it appears in any *single*
    /// input: Exim writes each rejection to mainlog and rejectlog, a log and
    /// its rotated copy overlap, and analysing both must count each line once,
    /// while a line repeated within one file still counts each time.
    pub fn start_input(&mut self) {
        for (k, n) in self.seen_now.drain() {
            let e = self.seen_before.entry(k).or_default();
            *e = (*e).max(n);
        }
    }

    /// True when no line of an earlier input was remembered: no line of this
    /// input can then be a duplicate ([`Correlator::feed`] counts each).
    pub fn nothing_seen_before(&self) -> bool {
        self.seen_before.is_empty()
    }

    /// True when this line was already counted from an earlier input.
    fn duplicate(&mut self, k: u64) -> bool {
        if self.near_seconds {
            // The copy in a file may carry the neighbouring second.
            for near in [
                k.wrapping_sub(crate::analysis::dedupe::STEP),
                k.wrapping_add(crate::analysis::dedupe::STEP),
            ] {
                let now = self.seen_now.get(&near).copied().unwrap_or(0);
                if self.seen_before.get(&near).copied().unwrap_or(0) > now
                    && self.seen_before.get(&k).copied().unwrap_or(0)
                        <= self.seen_now.get(&k).copied().unwrap_or(0)
                {
                    *self.seen_now.entry(near).or_default() += 1;
                    return true;
                }
            }
        }
        if self.seen_now.len() + self.seen_before.len() >= DEDUPE_CAP
            && !self.seen_now.contains_key(&k)
        {
            return false;
        }
        let n = self.seen_now.entry(k).or_default();
        *n += 1;
        *n <= self.seen_before.get(&k).copied().unwrap_or(0)
    }

    /// Remembers a delivery attempt, forgetting the oldest beyond the cap.
    fn start_delivery(&mut self, key: Key, started: Started) {
        self.seq += 1;
        self.deliveries.insert(key, self.seq, started);
        while self.deliveries.len() > self.cap {
            match self.deliveries.pop_oldest() {
                None => break,
                Some(kept) => self.evicted += u64::from(kept),
            }
        }
    }

    /// Messages currently remembered.
    pub fn open_len(&self) -> usize {
        self.open.len()
    }

    fn entry(&mut self, key: Key) -> &mut Open {
        if self.open.get(&key).is_none() {
            self.seq += 1;
            self.open.insert(key.clone(), self.seq, Open::default());
            while self.open.len() > self.cap {
                match self.open.pop_oldest() {
                    None => break,
                    Some(kept) => self.evicted += u64::from(kept),
                }
            }
        }
        self.open.get_mut(&key).expect("inserted above")
    }

    /// Feeds one record; failure events go to `sink` and into `summary`.
    pub fn feed(
        &mut self,
        ps: &PatternSet,
        file: &str,
        rec: &mut Record,
        summary: &mut Summary,
        sink: &mut dyn FnMut(&Event),
    ) {
        if let Some(t) = rec.time {
            summary.note_time(t);
        }
        let mta = &ps.mtas[rec.mta];
        let window = self.window;
        let redact = self.redact;
        let mut emit = |summary: &mut Summary, mut e: Event| {
            if !window.contains(e.time) {
                summary.outside_window += 1;
                return;
            }
            if redact {
                crate::analysis::redact::event(&mut e);
            }
            let cause = ps.cause_id(&e.cause);
            let unknown = cause.is_some_and(|c| ps.causes[c].unknown_recipient);
            summary.diag.failure(&e, unknown, cause == Some(ps.other));
            summary.add_event(&e);
            sink(&e);
        };
        let counted = matches!(
            rec.kind,
            Kind::Reject | Kind::Warning | Kind::Delivery | Kind::Expired | Kind::Ndr
        );
        if counted && self.dedupe && self.duplicate(rec.hash) {
            summary.duplicates += 1;
            return;
        }
        let inside = window.contains(rec.time);
        if !inside && matches!(rec.kind, Kind::Ndr | Kind::Warning) {
            summary.outside_window += 1;
            return;
        }
        if rec.kind == Kind::Delivery && rec.fields.rcpt.is_none() {
            // A result line that names only its delivery attempt.
            if let Some(d) = rec.fields.delivery.clone() {
                if let Some((_, st)) = self.deliveries.remove(&(rec.mta, d)) {
                    rec.fields.rcpt = st.rcpt;
                    rec.fields.queue_id = rec.fields.queue_id.take().or(st.queue_id);
                    rec.direction = crate::parse::who_answered(mta, st.direction, &rec.fields);
                }
            }
        }
        let key = rec.fields.queue_id.clone().map(|q| (rec.mta, q));
        match rec.kind {
            Kind::Start => {
                if let Some(d) = rec.fields.delivery.clone() {
                    let started = Started {
                        queue_id: rec.fields.queue_id.clone(),
                        rcpt: rec.fields.rcpt.clone(),
                        direction: rec.direction,
                    };
                    self.start_delivery((rec.mta, d), started);
                }
            }
            Kind::Anchor => {
                if let Some(k) = key {
                    let o = self.entry(k);
                    if rec.fields.sender.is_some() {
                        o.sender = rec.fields.sender.take();
                    }
                    if rec.fields.client.is_some() {
                        o.client = rec.fields.client.take();
                    }
                }
            }
            Kind::Removed => {
                if let Some(k) = key {
                    self.open.remove(&k);
                }
            }
            Kind::Note => {}
            Kind::Ndr => summary.ndr_sent += 1,
            Kind::Warning => summary.add_warning(
                MtaId::new(&mta.name),
                CauseId::new(&ps.causes[rec.cause].id),
            ),
            Kind::Reject => {
                let known = key.as_ref().and_then(|k| self.open.get(k));
                let mut e = to_event(ps, file, rec);
                if e.sender.is_none() {
                    e.sender = known.and_then(|o| owned(&o.sender));
                }
                if e.client.is_none() {
                    e.client = known.and_then(|o| owned(&o.client));
                }
                emit(summary, e);
            }
            Kind::Delivery => match rec.outcome {
                Some(Outcome::Ok) => {
                    // One lookup of the message serves the client and the deferrals.
                    let open = key.as_ref().and_then(|k| self.open.get_mut(k));
                    if inside {
                        summary.delivered += 1;
                        if let Some(r) = rec.fields.rcpt.as_deref().filter(|r| r.contains('@')) {
                            let client = rec
                                .fields
                                .client
                                .as_deref()
                                .or_else(|| open.as_ref().and_then(|o| o.client.as_deref()));
                            let r: std::borrow::Cow<'_, str> = if redact {
                                crate::analysis::redact::text(r).into()
                            } else {
                                r.into()
                            };
                            summary
                                .diag
                                .delivered_to(&r, client, rec.time, !self.counted);
                        }
                    } else {
                        summary.outside_window += 1;
                    }
                    if let (Some(o), Some(r)) = (open, rec.fields.rcpt.as_deref()) {
                        if !o.deferred.is_empty() {
                            o.deferred.retain(|d| d.rcpt != r);
                        }
                    }
                }
                Some(Outcome::Probe) if inside => summary.probes += 1,
                Some(Outcome::Probe) => summary.outside_window += 1,
                Some(Outcome::Failed(_)) => {
                    let mut e = to_event(ps, file, rec);
                    if let Some(k) = key {
                        let o = self.entry(k);
                        e.sender = e.sender.or_else(|| owned(&o.sender));
                        e.client = e.client.or_else(|| owned(&o.client));
                        let rcpt = Text::from(e.recipient.as_deref().unwrap_or_default());
                        o.deferred.retain(|d| d.rcpt != rcpt);
                        // Remembered by outcome (a temporary failure: Postfix
                        // `deferred`, Exim `==`, qmail `deferral`, Exchange
                        // DEFER), for a later expiry of the message.
                        if rec.outcome == Some(Outcome::Failed(crate::event::Severity::Soft))
                            && o.deferred.len() < DEFERRED_CAP
                        {
                            o.deferred.push(Deferred {
                                rcpt,
                                event: e.clone(),
                            });
                        }
                    }
                    emit(summary, e);
                }
                None => {}
            },
            Kind::Expired => {
                let base = to_event(ps, file, rec);
                let pending = key.and_then(|k| self.open.get_mut(&k)).map(|o| {
                    (
                        std::mem::take(&mut o.deferred),
                        o.sender.clone(),
                        o.client.clone(),
                    )
                });
                let (pending, sender, client) = pending.unwrap_or_default();
                if pending.is_empty() {
                    let mut e = base.clone();
                    e.sender = e.sender.or_else(|| owned(&sender));
                    e.client = e.client.or_else(|| owned(&client));
                    emit(summary, e);
                }
                if window.contains(base.time) {
                    summary.expired += pending.len().max(1) as u64;
                }
                for d in pending {
                    // The recipient and the last deferral's reason, at the expiry's time and line.
                    let mut e = base.clone();
                    e.recipient = Some(d.rcpt.into_string());
                    e.remote_host = d.event.remote_host;
                    e.text = d.event.text.or(e.text);
                    e.code = d.event.code;
                    e.dsn = d.event.dsn;
                    e.sender = e.sender.or_else(|| owned(&sender));
                    e.client = e.client.or_else(|| owned(&client));
                    emit(summary, e);
                }
            }
        }
    }
}

/// A captured value as an event's owned string.
fn owned(t: &Option<Text>) -> Option<String> {
    t.as_deref().map(str::to_owned)
}

/// The event of a failure record, before correlation.
fn to_event(ps: &PatternSet, file: &str, rec: &Record) -> Event {
    let mta = &ps.mtas[rec.mta];
    let f = &rec.fields;
    let (client, remote_host) = match rec.direction {
        Direction::Inbound => (owned(&f.client), None),
        _ => (owned(&f.client), owned(&f.relay)),
    };
    Event {
        time: rec.time,
        mta: MtaId::new(&mta.name),
        direction: rec.direction,
        cause: CauseId::new(&ps.causes[rec.cause].id),
        severity: rec.severity,
        actor: ps
            .act(rec.cause, Some(rec.direction))
            .map(|a| a.0.to_string()),
        action: ps
            .act(rec.cause, Some(rec.direction))
            .map(|a| a.1.to_string()),
        // A pipe, file or bare local part stands for the address it was reached by.
        recipient: match (&f.rcpt, &f.orig_to) {
            (Some(r), Some(o)) if !r.contains('@') && o.contains('@') => Some(o.to_string()),
            (r, _) => owned(r).filter(|r| !r.is_empty()),
        },
        sender: owned(&f.sender),
        client,
        remote_host,
        helo: owned(&f.helo),
        queue_id: owned(&f.queue_id),
        stage: owned(&f.stage),
        status: owned(&f.status),
        code: rec.code.clone(),
        dsn: owned(&f.dsn),
        text: owned(&f.text),
        file: file.to_string(),
        line: rec.line,
        rule: RuleId::new(mta.rules[rec.rule].reported_id()),
        reply_rule: rec.reply_rule.map(|r| RuleId::new(&ps.reply.rules[r].id)),
        raw: rec.raw.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Fields, Severity};

    fn anchor(ps: &PatternSet, qid: &str) -> Record {
        Record {
            line: 1,
            mta: 0,
            kind: Kind::Anchor,
            rule: 0,
            time: None,
            fields: Fields {
                queue_id: Some(qid.into()),
                sender: Some(format!("{qid}@example.com").into()),
                ..Fields::default()
            },
            direction: Direction::Outbound,
            outcome: None,
            severity: Severity::Hard,
            cause: ps.other,
            reply_rule: None,
            code: None,
            raw: None,
            hash: 0,
        }
    }

    #[test]
    fn open_messages_are_bounded_and_oldest_are_forgotten() {
        let ps = PatternSet::load(None).expect("patterns");
        let mut c = Correlator::with_cap(100);
        let mut s = Summary::default();
        for i in 0..10_000 {
            c.feed(
                &ps,
                "t",
                &mut anchor(&ps, &format!("Q{i:05}")),
                &mut s,
                &mut |_| {},
            );
            assert!(c.open_len() <= 100);
            assert!(c.open.order.len() <= 2 * 100 + 1024 + 1);
        }
        assert_eq!(c.evicted, 9_900);
        assert!(c.open.contains_key(&(0, "Q09999".into())));
        assert!(!c.open.contains_key(&(0, "Q00000".into())));
    }

    #[test]
    fn removed_messages_free_their_state() {
        let ps = PatternSet::load(None).expect("patterns");
        let mut c = Correlator::with_cap(100);
        let mut s = Summary::default();
        for i in 0..5_000 {
            let q = format!("R{i:05}");
            c.feed(&ps, "t", &mut anchor(&ps, &q), &mut s, &mut |_| {});
            let mut r = anchor(&ps, &q);
            r.kind = Kind::Removed;
            c.feed(&ps, "t", &mut r, &mut s, &mut |_| {});
        }
        assert_eq!(c.open_len(), 0);
        assert_eq!(c.evicted, 0);
        assert!(
            c.open.order.len() <= 2 * 100 + 1024 + 1,
            "stale order entries are compacted"
        );
    }

    #[test]
    fn stale_order_follows_the_open_messages_not_the_cap() {
        // A large cap with few messages open at a time (the usual traffic):
        // the order holds about what is open, not up to twice the cap.
        let ps = PatternSet::load(None).expect("patterns");
        let mut c = Correlator::with_cap(200_000);
        let mut s = Summary::default();
        for i in 0..20_000 {
            let q = format!("S{i:05}");
            c.feed(&ps, "t", &mut anchor(&ps, &q), &mut s, &mut |_| {});
            assert!(c.open.order.len() <= 2 * c.open_len() + 1024);
            let mut r = anchor(&ps, &q);
            r.kind = Kind::Removed;
            c.feed(&ps, "t", &mut r, &mut s, &mut |_| {});
        }
        assert_eq!(c.open_len(), 0);
        assert!(
            c.open.order.capacity() < 8 * 1024,
            "no burst-sized buffer is kept"
        );
    }
}
