//! CSV logs whose columns are named by a `#Fields:` header line, as Microsoft
//! Exchange writes its message tracking logs (`MSGTRK*.LOG`): RFC 4180 quoting,
//! `#Software`/`#Version`/`#Log-type`/`#Date` comment lines, an optional UTF-8
//! BOM, column order read from `#Fields:` (26 columns in Exchange 2010, 30 in
//! 2013–2019). Which rows are failures, and which columns hold what, is data in
//! the MTA's pattern file (`[csv]`, rules with `when`); this module only reads
//! rows and hands their fields to `build_record`.
//!
//! CSV is read sequentially (a quoted field may hold a newline), and the rows
//! are parsed in batches on the thread pool, their records handed on in file
//! order.

use crate::event::Record;
use crate::parse::stats::LineStats;
use crate::patterns::PatternSet;
use rayon::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

pub use super::csvrow::records;
use super::csvrow::Layout;

/// The MTA whose CSV format the start of a file shows, if any.
pub fn detect(ps: &PatternSet, head: &[u8]) -> Option<usize> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    ps.mtas.iter().position(|m| {
        m.csv
            .as_ref()
            .is_some_and(|c| c.detect.find(head).is_some_and(|f| f.start() == 0))
    })
}

/// Rows parsed together on the thread pool (a few hundred KB of a tracking log).
const BATCH_ROWS: usize = 512;
/// A row buffer that held a row longer than this is not reused: a reused
/// buffer keeps the size of the longest row it ever held, and thousands of
/// them (the batches in flight) would each keep the size of the rare long
/// rows (`AGENTINFO` custom data).
const REUSED_ROW_BYTES: usize = 1024;
/// Rows one pool task parses.
const TASK_ROWS: usize = 256;
/// Batches being parsed while the reader goes on.
const IN_FLIGHT: usize = 2;

/// What one batch of rows gave: records in row order, its counts, and the
/// rows back (their buffers are reused for the batch after next).
type Parsed = (Vec<Record>, LineStats, Vec<csv::ByteRecord>);

/// Reads a CSV log; `emit` gets every record in order. Returns an error
/// message when the file cannot be read as this format (no `#Fields:`).
///
/// Rows are read here, one after another (a quoted field may hold a line
/// break, so the file cannot be cut anywhere else), and parsed in batches on
/// the thread pool while the next batch is read; `emit` sees every batch's
/// records in file order, so the result is that of reading row by row.
pub fn read(
    ps: &PatternSet,
    mta: usize,
    input: impl Read,
    stats: &mut LineStats,
    emit: &mut dyn FnMut(Record),
) -> Result<(), String> {
    read_noting(ps, mta, input, stats, emit, &mut |_| {})
}

/// [`read`], telling `note` what the user should know that is not an error
/// (rows read in an assumed column order).
pub fn read_noting(
    ps: &PatternSet,
    mta: usize,
    input: impl Read,
    stats: &mut LineStats,
    emit: &mut dyn FnMut(Record),
    note: &mut dyn FnMut(String),
) -> Result<(), String> {
    let Some(csv) = &ps.mtas[mta].csv else {
        return Err("not a CSV format".into());
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    // On a pool thread, waiting for another task could wait for itself:
    // batches are then parsed in place.
    let overlap = rayon::current_thread_index().is_none();
    let mut columns: Option<Arc<Layout>> = None;
    let mut seen_fields = false;
    let mut rows: Vec<csv::ByteRecord> = Vec::new();
    let mut spare: Vec<Vec<csv::ByteRecord>> = Vec::new();
    let mut n = 0;
    let mut pending: VecDeque<Receiver<Parsed>> = VecDeque::new();
    let mut take = |p: Parsed, stats: &mut LineStats, spare: &mut Vec<Vec<csv::ByteRecord>>| {
        let (records, counts, mut rows) = p;
        stats.merge(&counts);
        records.into_iter().for_each(&mut *emit);
        for r in &mut rows {
            if r.as_slice().len() > REUSED_ROW_BYTES {
                *r = csv::ByteRecord::new();
            }
        }
        spare.push(rows);
    };
    rayon::in_place_scope(|scope| {
        // Hands rows[..n] to the pool; takes in the oldest batches' results.
        let mut flush = |rows: &mut Vec<csv::ByteRecord>,
                         n: &mut usize,
                         layout: &Option<Arc<Layout>>,
                         last: bool,
                         stats: &mut LineStats,
                         spare: &mut Vec<Vec<csv::ByteRecord>>| {
            if *n > 0 {
                if let Some(layout) = layout {
                    let batch = std::mem::replace(rows, spare.pop().unwrap_or_default());
                    let len = *n;
                    let layout = Arc::clone(layout);
                    if overlap {
                        let (tx, rx) = std::sync::mpsc::sync_channel(1);
                        scope.spawn(move |_| {
                            let parsed = parse_rows(ps, mta, &layout, &batch[..len]);
                            let _ = tx.send((parsed.0, parsed.1, batch));
                        });
                        pending.push_back(rx);
                    } else {
                        let parsed = parse_rows(ps, mta, &layout, &batch[..len]);
                        take((parsed.0, parsed.1, batch), stats, spare);
                    }
                }
                *n = 0;
            }
            while pending.len() > if last { 0 } else { IN_FLIGHT } {
                if let Some(p) = pending.pop_front().and_then(|rx| rx.recv().ok()) {
                    take(p, stats, spare);
                }
            }
        };
        let result = loop {
            if rows.len() == n {
                rows.push(csv::ByteRecord::new());
            }
            let row = &mut rows[n];
            match rdr.read_byte_record(row) {
                Ok(false) => break Ok(()),
                Ok(true) => {}
                Err(e) => {
                    // Bad quoting or invalid UTF-8 inside quotes: count the row and go on.
                    stats.total += 1;
                    stats.unrecognised += 1;
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break Err(format!("read error: {e}"));
                    }
                    continue;
                }
            }
            stats.total += 1;
            let first = row.get(0).unwrap_or_default();
            let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(first);
            if first.starts_with(b"#") {
                stats.recognised += 1;
                if let Some(name) = first.strip_prefix(b"#Fields:") {
                    let mut names = vec![String::from_utf8_lossy(name).trim().to_string()];
                    names.extend(
                        row.iter()
                            .skip(1)
                            .map(|c| String::from_utf8_lossy(c).trim().to_string()),
                    );
                    // The rows so far were read with the columns before.
                    flush(&mut rows, &mut n, &columns, false, stats, &mut spare);
                    columns = Some(layout(ps, mta, names));
                    seen_fields = true;
                }
                continue;
            }
            if row.len() == 1 && first.is_empty() {
                stats.total -= 1; // a blank line is not a row
                continue;
            }
            if columns.is_none() && !seen_fields {
                // No header before the first row: a width the pattern set
                // knows is read in its order; any other is refused below.
                if let Some(names) = csv.headerless.iter().find(|h| h.len() == row.len()) {
                    columns = Some(layout(ps, mta, names.iter().cloned()));
                    seen_fields = true;
                    note(format!(
                        "no #Fields: header before the first row; its {} columns are read in the \
                         standard order of that many (`headerless` in the pattern set)",
                        row.len()
                    ));
                }
            }
            let Some(cols) = &columns else {
                break Err(
                    "no #Fields: header before the first row; not a message tracking log?".into(),
                );
            };
            if row.len() < cols.width / 2 {
                stats.unrecognised += 1; // a short row: counted, not guessed at
                continue;
            }
            stats.recognised += 1;
            n += 1;
            if n == BATCH_ROWS {
                flush(&mut rows, &mut n, &columns, false, stats, &mut spare);
            }
        };
        flush(&mut rows, &mut n, &columns, true, stats, &mut spare);
        result
    })?;
    if !seen_fields && stats.recognised > 0 {
        return Err("no #Fields: header; not a message tracking log?".into());
    }
    Ok(())
}

/// The layout of a header's column names, in column order.
fn layout(ps: &PatternSet, mta: usize, names: impl IntoIterator<Item = String>) -> Arc<Layout> {
    let cols: HashMap<String, usize> = names.into_iter().enumerate().map(|(i, n)| (n, i)).collect();
    Arc::new(Layout::new(ps, mta, &cols))
}

/// Parses rows (all under one `#Fields:` header) in tasks on the thread pool;
/// the records come back in row order.
fn parse_rows(
    ps: &PatternSet,
    mta: usize,
    layout: &Layout,
    rows: &[csv::ByteRecord],
) -> (Vec<Record>, LineStats) {
    let parts: Vec<(Vec<Record>, LineStats)> = rows
        .par_chunks(TASK_ROWS)
        .map(|rows| {
            let mut stats = LineStats::default();
            let mut out = Vec::with_capacity(rows.len());
            let mut raw = String::new();
            for row in rows {
                let line = row.position().map_or(0, |p| p.line());
                layout.records_into(ps, mta, row, line, &mut stats, &mut raw, &mut out);
            }
            (out, stats)
        })
        .collect();
    let mut stats = LineStats::default();
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (recs, st) in parts {
        stats.merge(&st);
        out.extend(recs);
    }
    (out, stats)
}

/// Splits a list field at `sep` into its members, as Exchange writes
/// multi-valued fields (`recipient-address`, `recipient-status`):
///
/// - a member that holds the separator may be quoted with `'`, a `'` inside
///   it doubled (`'a;b';c` is `a;b` and `c`);
/// - nothing inside `[…]` or `{…}` is split: Exchange 2013+ writes a status as
///   `[{LRT=…};{LED=…};{FQDN=…};{IP=…}]` (see [`last_error_text`]);
/// - a separator followed by a space belongs to the text: a status reads
///   `550 5.1.1 RESOLVER.ADR.RecipNotFound; not found`.
///
/// Unbalanced brackets in a member do not swallow the rest of the list: that
/// member is split again as if it had none.
pub fn split_list(v: &str, sep: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = Some(v);
    while let Some(r) = rest {
        let r = r.trim_start();
        let (member, next) = match r.strip_prefix('\'') {
            Some(q) => quoted(q, sep).unwrap_or_else(|| unquoted(r, sep)),
            None => unquoted(r, sep),
        };
        out.push(member.trim().to_string());
        rest = next;
    }
    out.retain(|x| !x.is_empty());
    out
}

/// The first member of `s` (no opening quote) and the text after its separator.
fn unquoted<'a>(s: &'a str, sep: &str) -> (String, Option<&'a str>) {
    let split = |brackets: bool| {
        let mut depth = 0usize;
        for (i, c) in s.char_indices() {
            match c {
                '[' | '{' if brackets => depth += 1,
                ']' | '}' if brackets => depth = depth.saturating_sub(1),
                _ if depth == 0 && s[i..].starts_with(sep) => {
                    let after = &s[i + sep.len()..];
                    if after.chars().next().is_some_and(|c| c != ' ') {
                        return (Some((i, after)), 0);
                    }
                }
                _ => {}
            }
        }
        (None, depth)
    };
    let (at, depth) = split(true);
    let at = if at.is_none() && depth > 0 {
        split(false).0
    } else {
        at
    };
    match at {
        Some((i, after)) => (s[..i].to_string(), Some(after)),
        None => (s.to_string(), None),
    }
}

/// A `'`-quoted member (`q` is the text after the opening quote): its value
/// with `''` undoubled, and the text after the separator that follows it.
/// `None` when the quote is not closed (the member is then read unquoted).
fn quoted<'a>(q: &'a str, sep: &str) -> Option<(String, Option<&'a str>)> {
    let mut value = String::new();
    let mut chars = q.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
            chars.next();
            value.push('\'');
            continue;
        }
        // The closing quote: anything up to the next separator is kept too.
        let (tail, next) = unquoted(&q[i + 1..], sep);
        value.push_str(tail.trim_end());
        return Some((value, next));
    }
    None
}

/// The reply text of a status in Exchange 2013+'s LastError form,
/// `[{LRT=…};{LED=550 5.1.1 RESOLVER.ADR.RecipNotFound; not found};{FQDN=…};{IP=…}]`:
/// the value of `LED` (last error description), else of `MSG` (Exchange
/// Online writes both); any other text is returned as it is.
pub fn last_error_text(status: &str) -> &str {
    let t = status.trim();
    let Some(inner) = t.strip_prefix("[{").and_then(|x| x.strip_suffix("}]")) else {
        return status;
    };
    let value = |key: &str| {
        inner
            .split("};{")
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    value("LED").or_else(|| value("MSG")).unwrap_or(status)
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    /// Rows read in batches on the pool give the records of reading them
    /// one by one, in order, across batch ends and a change of `#Fields:`.
    #[test]
    fn batches_keep_row_order_and_headers() {
        let ps = PatternSet::load(None).expect("built-in patterns");
        let mta = ps
            .mtas
            .iter()
            .position(|m| m.csv.is_some())
            .expect("csv mta");
        let a = "date-time,event-id,source,recipient-address,recipient-status,sender-address,directionality,message-id";
        let b = "message-id,recipient-status,recipient-address,event-id,source,date-time,sender-address,directionality";
        let row = |i: usize, order: &str| {
            let ev = ["FAIL", "DELIVER", "DEFER", "RECEIVE"][i % 4];
            let values: HashMap<&str, String> = [
                (
                    "date-time",
                    format!("2025-03-10T07:{:02}:{:02}.000Z", i / 60 % 60, i % 60),
                ),
                ("event-id", ev.to_string()),
                ("source", "SMTP".to_string()),
                (
                    "recipient-address",
                    format!("u{i}@example.com;v{i}@example.net"),
                ),
                (
                    "recipient-status",
                    format!("550 5.1.1 unknown {i};451 4.4.0 later {i}"),
                ),
                ("sender-address", format!("s{i}@example.org")),
                ("directionality", "Originating".to_string()),
                ("message-id", format!("<m{i}@example.org>")),
            ]
            .into_iter()
            .collect();
            order
                .split(',')
                .map(|c| values[c].clone())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut log = format!("#Fields: {a}\n");
        let mut expected = Vec::new();
        for i in 0..3000 {
            let (order, head) = if i < 1500 { (a, a) } else { (b, b) };
            if i == 1500 {
                log.push_str(&format!("#Fields: {b}\n"));
            }
            let line = row(i, order);
            let cols: HashMap<String, usize> = head
                .split(',')
                .enumerate()
                .map(|(i, c)| (c.to_string(), i))
                .collect();
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let rec = rdr.byte_records().next().expect("row").expect("csv");
            let mut st = LineStats::default();
            for r in records(&ps, mta, &cols, &rec, 0, &mut st) {
                expected.push(format!("{:?}", r.fields));
            }
            log.push_str(&line);
            log.push('\n');
        }
        let mut got = Vec::new();
        let mut stats = LineStats::default();
        read(&ps, mta, log.as_bytes(), &mut stats, &mut |r| {
            got.push(format!("{:?}", r.fields))
        })
        .expect("read");
        assert_eq!(stats.total, 3002);
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "records differ or are out of order");
    }
}

#[cfg(test)]
mod tests {
    use super::{last_error_text, split_list};

    #[test]
    fn status_lists_split_between_entries_not_inside() {
        assert_eq!(
            split_list("550 5.1.1 RESOLVER.ADR.RecipNotFound; not found;550 5.2.2 STOREDRV.Deliver: mailbox full", ";"),
            vec!["550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "550 5.2.2 STOREDRV.Deliver: mailbox full"]
        );
        assert_eq!(
            split_list("a@example.com;b@example.com", ";"),
            vec!["a@example.com", "b@example.com"]
        );
        assert_eq!(split_list("", ";"), Vec::<String>::new());
    }

    #[test]
    fn quoted_members_keep_their_separators() {
        assert_eq!(
            split_list(
                "'550 5.7.1 blocked;see https://example.com/x;y';550 5.1.1 unknown",
                ";"
            ),
            vec![
                "550 5.7.1 blocked;see https://example.com/x;y",
                "550 5.1.1 unknown"
            ]
        );
        assert_eq!(split_list("'it''s;here';'b'", ";"), vec!["it's;here", "b"]);
        // An unclosed quote is read as plain text, never lost.
        assert_eq!(split_list("'abc;def", ";"), vec!["'abc", "def"]);
        // A quote inside a member is not a member quote.
        assert_eq!(
            split_list("450 4.7.0 failed with '451 4.4.0 x';a", ";"),
            vec!["450 4.7.0 failed with '451 4.4.0 x'", "a"]
        );
    }

    #[test]
    fn last_error_brackets_are_one_member_each() {
        let one = "[{LRT=};{LED=550 5.1.1 RESOLVER.ADR.RecipNotFound; not found};{FQDN=mx.example.net};{IP=192.0.2.1}]";
        let two = "[{LRT=3/10/2025 7:01:45 AM};{LED=550 5.7.1 RESOLVER.RST.AuthRequired;authentication required};{FQDN=};{IP=}]";
        let list = split_list(&format!("{one};{two}"), ";");
        assert_eq!(list, vec![one, two]);
        assert_eq!(
            last_error_text(&list[0]),
            "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
        );
        assert_eq!(
            last_error_text(&list[1]),
            "550 5.7.1 RESOLVER.RST.AuthRequired;authentication required"
        );
        // Exchange Online's order, MSG when LED is empty, plain texts unchanged.
        assert_eq!(
            last_error_text("[{LED=550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup};{MSG=};{FQDN=};{IP=};{LRT=}]"),
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
        );
        assert_eq!(
            last_error_text("[{LRT=};{LED=};{MSG=421 4.4.2 x};{FQDN=}]"),
            "421 4.4.2 x"
        );
        assert_eq!(last_error_text("550 5.1.1 [x]"), "550 5.1.1 [x]");
        // Unbalanced brackets do not swallow the rest of the list.
        assert_eq!(
            split_list("550 see [x;b@example.com", ";"),
            vec!["550 see [x", "b@example.com"]
        );
    }
}
