//! The analysis pipeline: inputs → chunks of lines → parallel parsing (rayon)
//! → in-order correlation → [`Summary`] and a stream of failure events.
//!
//! Each input runs as a pipeline: a reader thread reads (and gunzips) chunks
//! a few ahead, a parser thread parses batches of them in parallel on the
//! pool, and the calling thread feeds the parsed batches to the correlator in
//! input order (short queues between them), so the result is byte-identical
//! for any number of threads. Per-input errors are reported through a
//! callback and the run goes on with the next input.

use crate::analysis::correlate::Correlator;
use crate::analysis::partial::{self, Partial};
use crate::analysis::summary::{InputInfo, Summary};
use crate::event::Event;
use crate::parse::syslog::TimeContext;
use crate::parse::{parse_chunk, ChunkResult};
use crate::patterns::PatternSet;
use crate::source::{self, looks_binary, Input, Reader};

/// How a run filters and shapes events.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only events in this window are counted.
    pub window: crate::analysis::window::Window,
    /// Replace local parts of addresses with hashes.
    pub redact: bool,
    /// Told of each input started and of the bytes read (the caller decides
    /// whether and how it is drawn).
    pub progress: Option<std::sync::Arc<dyn Progress>>,
    /// Set by the caller (from its event sink, say, when the output pipe
    /// closed) to stop reading at once: the run returns what it has.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The zone local stamps are read in.
    pub zone: crate::parse::syslog::Zone,
}

impl RunOptions {
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Progress of a run, as the caller wants it shown (a bar on a terminal).
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// An input starts.
    fn input(&self, name: &str);
    /// Bytes of the current input were read.
    fn advance(&self, bytes: u64);
}

/// What the caller is told about an input that could not be read fully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The input could not be read (or only partly): an error, exit status 2.
    Error(String),
    /// Something the user should know that is not an error.
    Warning(String),
}

/// Analyses the inputs in order. `sink` sees every failure event in input
/// order; `report` is told of problems as they happen.
pub fn run(
    ps: &PatternSet,
    inputs: &[Input],
    opts: &RunOptions,
    sink: &mut dyn FnMut(&Event),
    report: &mut dyn FnMut(Problem),
) -> Summary {
    let inputs = order_by_content(ps, inputs, &opts.zone);
    let mut summary = Summary::default();
    let mut corr = Correlator::default();
    corr.window = opts.window;
    corr.redact = opts.redact;
    corr.dedupe = inputs.len() > 1;
    // The same events through journald and a syslog file: key lines by content.
    corr.mixed_forms = corr.dedupe && inputs.iter().any(is_journal);
    summary.window = opts.window;
    for what in &inputs {
        if opts.stopped() {
            break;
        }
        let mut input = match source::open(what) {
            Ok(i) => i,
            Err(e) => {
                let msg = e.to_string();
                report(Problem::Error(msg.clone()));
                summary.inputs.push(InputInfo {
                    path: what.name(),
                    bytes: 0,
                    lines: 0,
                    gzip: false,
                    error: Some(msg),
                    fingerprint: None,
                });
                continue;
            }
        };
        if let Some(p) = &opts.progress {
            p.input(&input.name);
        }
        let info = analyze_input(ps, &mut input, &mut corr, &mut summary, sink, report, opts);
        summary.inputs.push(info);
    }
    summary.diag.open_forgotten += corr.evicted;
    summary
}

/// Feeds parsed chunks, in order, to the correlator.
#[allow(clippy::too_many_arguments)]
fn feed(
    parsed: Parsed,
    base: &mut u64,
    recognised: &mut u64,
    corr: &mut Correlator,
    summary: &mut Summary,
    sink: &mut dyn FnMut(&Event),
    name: &str,
    ps: &PatternSet,
) {
    let (mut r, span, part) = parsed;
    if let Some((a, b)) = span {
        summary.note_time(a);
        summary.note_time(b);
    }
    summary.lines.merge(&r.stats);
    *recognised += r.stats.recognised;
    // Before the chunk's records: a folded chunk counts no recipient there.
    part.merge_into(&mut summary.diag);
    corr.counted = part.folded;
    for rec in &mut r.records {
        rec.line += *base;
        corr.feed(ps, name, rec, summary, sink);
    }
    corr.counted = false;
    *base += r.stats.total;
    // Freeing a chunk's records (several strings each) is a pool task:
    // this thread is the pipeline's one sequential stage.
    let records = std::mem::take(&mut r.records);
    rayon::spawn(move || drop(records));
}

/// Reads the rest of an input whose first chunk is already taken.
struct Rest<'a> {
    input: &'a mut Reader,
    buf: std::io::Cursor<Vec<u8>>,
}

impl std::io::Read for Rest<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.buf.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.input.next_chunk() {
                Some(c) => self.buf = std::io::Cursor::new(c),
                None => return Ok(0),
            }
        }
    }
}

/// A CSV log (Exchange message tracking): read sequentially, rows in order.
#[allow(clippy::too_many_arguments)]
fn read_csv(
    ps: &PatternSet,
    mta: usize,
    input: &mut Reader,
    first: Vec<u8>,
    corr: &mut Correlator,
    summary: &mut Summary,
    sink: &mut dyn FnMut(&Event),
    report: &mut dyn FnMut(Problem),
) -> InputInfo {
    let name = input.name.clone();
    let mut stats = crate::analysis::summary::LineStats::default();
    // Each row's records go to the correlator as they are read: a tracking
    // log is never held in memory whole.
    let result = {
        let rest = Rest {
            input: &mut *input,
            buf: std::io::Cursor::new(first),
        };
        crate::parse::csvlog::read_noting(
            ps,
            mta,
            rest,
            &mut stats,
            &mut |mut r| corr.feed(ps, &name, &mut r, summary, sink),
            &mut |m| report(Problem::Warning(format!("{name}: {m}"))),
        )
    };
    summary.lines.merge(&stats);
    let mut error = None;
    if let Err(m) = result {
        let msg = format!("{name}: {m}");
        report(Problem::Error(msg.clone()));
        error = Some(msg);
    }
    if let Some(e) = input.take_error() {
        let msg = format!(
            "{name}: read error after {} bytes: {}",
            input.bytes,
            source::io_msg(&e)
        );
        report(Problem::Error(msg.clone()));
        error = Some(msg);
    }
    InputInfo {
        path: name,
        bytes: input.bytes,
        lines: stats.total,
        gzip: input.gzip,
        error,
        fingerprint: Some(input.fingerprint()),
    }
}

/// Chunks being parsed or waiting for the correlator, per thread of the pool.
const IN_FLIGHT_PER_THREAD: usize = 4;
/// Chunks read ahead of the parser.
const READ_AHEAD: usize = 8;

fn analyze_input(
    ps: &PatternSet,
    input: &mut Reader,
    corr: &mut Correlator,
    summary: &mut Summary,
    sink: &mut dyn FnMut(&Event),
    report: &mut dyn FnMut(Problem),
    opts: &RunOptions,
) -> InputInfo {
    let progress = opts.progress.as_ref();
    let ctx = TimeContext::in_zone(input.reference, opts.zone.clone());
    corr.start_input();
    let rekey = corr.mixed_forms;
    // Either copy may be read first, stamped a second before or after the other.
    corr.near_seconds = rekey;
    let in_flight = rayon::current_num_threads().max(1) * IN_FLIGHT_PER_THREAD;
    // Lines counted once across inputs are decided in order: no folding then,
    // unless no earlier input left a line this one could repeat.
    let fold = partial::Fold {
        enabled: !corr.dedupe || corr.nothing_seen_before(),
        window: corr.window,
        redact: corr.redact,
    };
    let fold = &fold;
    let mut base = 0u64;
    let mut recognised = 0u64;
    let mut error = None;
    // The first chunk decides the format.
    let mut first = input.next_chunk();
    if let Some(mta) = first
        .as_deref()
        .and_then(|c| crate::parse::csvlog::detect(ps, c))
    {
        let c = first.take().unwrap_or_default();
        return read_csv(ps, mta, input, c, corr, summary, sink, report);
    }
    if first.as_deref().is_some_and(looks_binary) {
        let msg = format!("{}: binary data, not a text log; skipped", input.name);
        report(Problem::Error(msg.clone()));
        error = Some(msg);
        first = None;
    }
    if let Some(c) = first {
        // A pipeline: a reader thread, a parser thread (batches on the pool)
        // and this thread feeding parsed batches, in order, to the correlator.
        // The queues are short (memory stays bounded) but deep enough that no
        // stage waits for another's slow batch.
        let name = input.name.clone();
        let ctx = &ctx;
        let source = &mut *input;
        let crashed = std::thread::scope(|sc| {
            // Reading (and gunzipping) a few chunks ahead overlaps disk waits with parsing.
            let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(READ_AHEAD);
            let reader = sc.spawn(move || {
                let mut next = Some(c);
                while let Some(c) = next.take().or_else(|| source.next_chunk()) {
                    if chunk_tx.send(c).is_err() {
                        break;
                    }
                }
            });
            // Each chunk is a task on the pool as soon as it is read (no batch
            // waits for its slowest chunk); at most `in_flight` are parsed or
            // waiting to be fed, so memory stays bounded; the results are fed
            // in input order.
            let (tx, rx) = std::sync::mpsc::channel::<(usize, Parsed)>();
            let (slot_tx, slot_rx) = std::sync::mpsc::sync_channel::<()>(in_flight);
            let producer = sc.spawn(move || {
                rayon::in_place_scope(|pool| {
                    for (seq, c) in chunk_rx.iter().enumerate() {
                        if slot_tx.send(()).is_err() {
                            break;
                        }
                        if let Some(p) = progress {
                            p.advance(c.len() as u64);
                        }
                        let tx = tx.clone();
                        pool.spawn(move |_| {
                            let mut r = parse_chunk(ps, ctx, &c);
                            if rekey {
                                crate::analysis::dedupe::rekey(ctx, &c, &mut r.records);
                            }
                            let part = partial::fold(&r.records, fold);
                            // The receiver is gone only when the run stopped.
                            let _ = tx.send((seq, (r, span(ps, ctx, &c), part)));
                        });
                    }
                });
            });
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0usize;
            'feeding: for (seq, parsed) in rx.iter() {
                waiting.insert(seq, parsed);
                while let Some(parsed) = waiting.remove(&next) {
                    if opts.stopped() {
                        break 'feeding;
                    }
                    feed(
                        parsed,
                        &mut base,
                        &mut recognised,
                        corr,
                        summary,
                        sink,
                        &name,
                        ps,
                    );
                    next += 1;
                    // A slot is free again (the producer may be gone).
                    let _ = slot_rx.try_recv();
                }
            }
            // Dropping the queues ends the parser, and so the reader.
            drop(slot_rx);
            drop(rx);
            producer.join().is_err() | reader.join().is_err()
        });
        if opts.stopped() {
            return InputInfo {
                path: input.name.clone(),
                bytes: input.bytes,
                lines: base,
                gzip: input.gzip,
                error: None,
                fingerprint: None,
            };
        }
        if crashed {
            let msg = format!(
                "{}: internal error while parsing; input abandoned",
                input.name
            );
            report(Problem::Error(msg.clone()));
            error = Some(msg);
        }
    }
    if let Some(e) = input.take_error() {
        let what = if input.gzip { "gzip data" } else { "data" };
        let msg = if input.name == source::JOURNAL_NAME {
            // journalctl's own complaint says it all.
            source::io_msg(&e)
        } else {
            format!(
                "{}: read error after {} bytes of {what} ({base} lines): {}",
                input.name,
                input.bytes,
                source::io_msg(&e)
            )
        };
        report(Problem::Error(msg.clone()));
        error = Some(msg);
    }
    if !input.gzip && source::shrank(input.file.as_deref(), input.bytes) {
        report(Problem::Warning(format!(
            "{}: the file shrank while it was read (truncated or rotated by logrotate copytruncate?); the report covers the {} bytes read",
            input.name, input.bytes
        )));
    }
    if error.is_none() && base > 0 && recognised == 0 {
        report(Problem::Warning(format!(
            "{}: none of its {base} line{} is in a known mail-log format",
            input.name,
            if base == 1 { "" } else { "s" }
        )));
    }
    InputInfo {
        path: input.name.clone(),
        bytes: input.bytes,
        lines: base,
        gzip: input.gzip,
        error,
        fingerprint: Some(input.fingerprint()),
    }
}

/// The inputs in the order of the time of their first dated line, so that
/// rotated logs given in any order (`mail.log mail.log.2.gz mail.log.1`) are
/// read oldest first: correlation across files (a deferral in one, the expiry
/// in the next) and the order of ndjson events then follow the logs' time.
/// Inputs whose first lines have no time (stdin, unreadable files) keep their
/// place relative to each other, after the dated ones.
pub fn order_by_content(
    ps: &PatternSet,
    inputs: &[Input],
    zone: &crate::parse::syslog::Zone,
) -> Vec<Input> {
    if inputs.len() < 2 {
        return inputs.to_vec();
    }
    let mut keyed: Vec<(Option<chrono::DateTime<chrono::FixedOffset>>, usize, &Input)> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.file().and_then(|_| first_time(ps, p, zone)), i, p))
        .collect();
    keyed.sort_by_key(|(t, i, _)| (t.is_none(), *t, *i));
    keyed.into_iter().map(|(_, _, p)| p.clone()).collect()
}

type Time = chrono::DateTime<chrono::FixedOffset>;
/// A parsed chunk: its records, the times it spans, its partial analysis.
type Parsed = (ChunkResult, Span, Partial);
/// Times of the first and last dated line of a chunk.
type Span = Option<(Time, Time)>;

/// The first and last dated lines of a chunk (a few lines tried at each end),
/// for the window's coverage: any dated line shows the log reaches that time.
fn span(ps: &PatternSet, ctx: &TimeContext, chunk: &[u8]) -> Span {
    let lines = || chunk.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let first = lines().take(50).find_map(|l| line_time(ps, ctx, l))?;
    let last = lines()
        .rev()
        .take(50)
        .find_map(|l| line_time(ps, ctx, l))
        .unwrap_or(first);
    Some((first.min(last), first.max(last)))
}

/// Whether an input is the journal, or a file of `journalctl -o json` entries.
fn is_journal(input: &Input) -> bool {
    match input {
        Input::Journal { .. } => return true,
        Input::Stdin => return false,
        Input::File(_) => {}
    }
    source::open(input)
        .ok()
        .and_then(|mut i| i.next_chunk())
        .is_some_and(|c| c.starts_with(b"{"))
}

/// Time of the first line of a file that has one (within its first chunk).
fn first_time(ps: &PatternSet, what: &Input, zone: &crate::parse::syslog::Zone) -> Option<Time> {
    let mut input = source::open(what).ok()?;
    let chunk = input.next_chunk()?;
    let ctx = TimeContext::in_zone(input.reference, zone.clone());
    chunk
        .split(|&b| b == b'\n')
        .take(2000)
        .find_map(|l| line_time(ps, &ctx, l))
}

/// The time of one line in any known form (syslog, journald JSON, an MTA's
/// own stamp, a CSV log's leading date-time).
fn line_time(ps: &PatternSet, ctx: &TimeContext, line: &[u8]) -> Option<Time> {
    let converted = crate::source::journal::to_syslog(line);
    let line = converted.as_deref().unwrap_or(line);
    if let Some(h) = crate::parse::syslog::parse_header(line) {
        let inner = ps
            .mtas
            .iter()
            .filter_map(|m| m.native.as_ref())
            .find_map(|n| {
                n.regex
                    .captures(h.msg)
                    .and_then(|c| crate::parse::native_stamp(&c, &n.time_format, &ctx.zone))
            });
        if let Some(t) = inner.or_else(|| crate::parse::syslog::resolve(&h, ctx)) {
            return Some(t);
        }
    }
    for n in ps.mtas.iter().filter_map(|m| m.native.as_ref()) {
        if let Some(t) = n
            .regex
            .captures(line)
            .and_then(|c| crate::parse::native_stamp(&c, &n.time_format, &ctx.zone))
        {
            return Some(t);
        }
    }
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    if line.first().is_some_and(u8::is_ascii_digit) {
        // CSV logs: a leading ISO date-time column.
        let end = line.iter().position(|&b| b == b',').unwrap_or(line.len());
        if let Some(t) = std::str::from_utf8(&line[..end])
            .ok()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        {
            return Some(t);
        }
    }
    None
}
