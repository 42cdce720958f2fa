//! CSV logs whose columns are named by a `#Fields:` header line, as Microsoft
//! Exchange writes its message tracking logs (`MSGTRK*.LOG`): RFC 4180 quoting,
//! `#Software`/`#Version`/`#Log-type`/`#Date` comment lines, an optional UTF-8
//! BOM, column order read from `#Fields:` (26 columns in Exchange 2010, 30 in
//! 2013–2019). Which rows are failures, and which columns hold what, is data in
//! the MTA's pattern file (`[csv]`, rules with `when`); this module only reads
//! rows and hands their fields to [`build_record`].
//!
//! CSV is read sequentially (a quoted field may hold a newline); message
//! tracking files are capped at 10 MB each by Exchange, so this is not the hot
//! path of the parallel line parser.

use crate::event::{Fields, Record, Text};
use crate::parse::build_record;
use crate::patterns::PatternSet;
use crate::summary::LineStats;
use chrono::DateTime;
use std::collections::HashMap;
use std::io::Read;

/// The MTA whose CSV format the start of a file shows, if any.
pub fn detect(ps: &PatternSet, head: &[u8]) -> Option<usize> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    ps.mtas.iter().position(|m| {
        m.csv
            .as_ref()
            .is_some_and(|c| c.detect.find(head).is_some_and(|f| f.start() == 0))
    })
}

/// Reads a CSV log; `emit` gets every record in order. Returns an error
/// message when the file cannot be read as this format (no `#Fields:`).
pub fn read(
    ps: &PatternSet,
    mta: usize,
    input: impl Read,
    stats: &mut LineStats,
    emit: &mut dyn FnMut(Record),
) -> Result<(), String> {
    if ps.mtas[mta].csv.is_none() {
        return Err("not a CSV format".into());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut columns: Option<HashMap<String, usize>> = None;
    let mut row = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // Bad quoting or invalid UTF-8 inside quotes: count the row and go on.
                stats.total += 1;
                stats.unrecognised += 1;
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(format!("read error: {e}"));
                }
                continue;
            }
        }
        let line = row.position().map_or(0, |p| p.line());
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
                columns = Some(names.into_iter().enumerate().map(|(i, n)| (n, i)).collect());
            }
            continue;
        }
        if row.len() == 1 && first.is_empty() {
            stats.total -= 1; // a blank line is not a row
            continue;
        }
        let Some(cols) = &columns else {
            return Err(
                "no #Fields: header before the first row; not a message tracking log?".into(),
            );
        };
        if row.len() < cols.len() / 2 {
            stats.unrecognised += 1; // a short row: counted, not guessed at
            continue;
        }
        stats.recognised += 1;
        let records = records(ps, mta, cols, &row, line, stats);
        for r in records {
            emit(r);
        }
    }
    if columns.is_none() && stats.recognised > 0 {
        return Err("no #Fields: header; not a message tracking log?".into());
    }
    Ok(())
}

/// Splits a list at `sep`, except where a space follows it: Exchange
/// separates recipient statuses with `;` while a status itself reads
/// `550 5.1.1 RESOLVER.ADR.RecipNotFound; not found`.
pub fn split_list(v: &str, sep: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in v.match_indices(sep) {
        let next = v[i + sep.len()..].chars().next();
        if next.is_some_and(|c| c != ' ') {
            out.push(v[start..i].trim().to_string());
            start = i + sep.len();
        }
    }
    out.push(v[start..].trim().to_string());
    out.retain(|x| !x.is_empty());
    out
}

/// The records of one row (several when recipients are listed).
pub fn records(
    ps: &PatternSet,
    mta_idx: usize,
    cols: &HashMap<String, usize>,
    row: &csv::ByteRecord,
    line: u64,
    stats: &mut LineStats,
) -> Vec<Record> {
    let mta = &ps.mtas[mta_idx];
    let Some(csv) = mta.csv.as_ref() else {
        return Vec::new();
    };
    let mut lossy = false;
    let mut col = |name: &str| -> Option<String> {
        let v = row.get(*cols.get(name)?)?;
        let s = String::from_utf8_lossy(v);
        lossy |= matches!(s, std::borrow::Cow::Owned(_));
        Some(s.into_owned())
    };
    let Some(rule_idx) = mta.rules.iter().position(|r| {
        !r.when.is_empty()
            && r.when
                .iter()
                .all(|(c, re)| col(c).is_some_and(|v| re.is_match(v.as_bytes())))
    }) else {
        return Vec::new();
    };
    stats.matched += 1;
    let rule = &mta.rules[rule_idx];
    let mut values: HashMap<&str, Vec<String>> = HashMap::new();
    for (field, column) in &csv.fields {
        let Some(v) = col(column).filter(|v| !v.is_empty()) else {
            continue;
        };
        let list = if csv.split.contains(field) {
            split_list(&v, &csv.separator)
        } else {
            vec![v]
        };
        values.insert(field.as_str(), list);
    }
    let n = csv
        .split
        .iter()
        .filter_map(|f| values.get(f.as_str()).map(Vec::len))
        .max()
        .unwrap_or(1)
        .max(1);
    let get = |f: &str, i: usize| {
        values
            .get(f)
            .and_then(|v| v.get(i).or(v.last()))
            .map(|v| Text::from(v.as_str()))
    };
    let time = get("time", 0).and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
    // The example line: the row's fields joined again (quotes are not kept).
    let raw = row
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(",");
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let fields = Fields {
            queue_id: get("queue_id", i),
            client: get("client", i),
            sender: get("sender", i).map(|s| if s == "<>" { Text::default() } else { s }),
            rcpt: get("rcpt", i),
            orig_to: get("orig_to", i),
            helo: get("helo", i),
            stage: get("stage", i),
            relay: get("relay", i),
            dsn: None,
            status: rule.status.as_deref().map(Text::from),
            text: get("text", i),
            delivery: None,
            service: get("service", i),
        };
        let (mut rec, event) = build_record(ps, mta_idx, rule_idx, line, fields, None, false);
        rec.hash = crate::parse::hash_line(raw.as_bytes());
        rec.time = time;
        if event {
            rec.raw = Some(raw.clone());
        }
        out.push(rec);
    }
    if lossy {
        stats.invalid_utf8 += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_list;

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
}
