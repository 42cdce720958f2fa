//! CSV logs whose columns are named by a `#Fields:` header line, as Microsoft
//! Exchange writes its message tracking logs (`MSGTRK*.LOG`): RFC 4180 quoting,
//! `#Software`/`#Version`/`#Log-type`/`#Date` comment lines, an optional UTF-8
//! BOM, column order read from `#Fields:` (26 columns in Exchange 2010, 30 in
//! 2013–2019). Which rows are failures, and which columns hold what, is data in
//! the MTA's pattern file (`[csv]`, rules with `when`); this module only reads
//! rows and hands their fields to `build_record`.
//!
//! CSV is read sequentially (a quoted field may hold a newline); message
//! tracking files are capped at 10 MB each by Exchange, so this is not the hot
//! path of the parallel line parser.

use crate::event::{Fields, Record, Text};
use crate::parse::build_record;
use crate::parse::stats::LineStats;
use crate::patterns::PatternSet;
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
    // A column as text; matching rules reads it borrowed (every row is tried
    // against the rules in order, so this runs several times a row).
    let mut cell = |name: &str| {
        let s = String::from_utf8_lossy(row.get(*cols.get(name)?)?);
        lossy |= matches!(s, std::borrow::Cow::Owned(_));
        Some(s)
    };
    let Some(rule_idx) = mta.rules.iter().position(|r| {
        !r.when.is_empty()
            && r.when
                .iter()
                .all(|(c, re)| cell(c).is_some_and(|v| re.is_match(v.as_bytes())))
    }) else {
        return Vec::new();
    };
    let mut col = |name: &str| cell(name).map(std::borrow::Cow::into_owned);
    stats.matched += 1;
    let rule = &mta.rules[rule_idx];
    let mut values: HashMap<&str, Vec<String>> = HashMap::new();
    for (field, column) in &csv.fields {
        let Some(v) = col(column).filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut list = if csv.split.contains(field) {
            split_list(&v, &csv.separator)
        } else {
            vec![v]
        };
        if field == "text" {
            // The reply text of a LastError status is its LED value.
            for t in &mut list {
                let led = last_error_text(t);
                if led.len() != t.len() {
                    *t = led.to_string();
                }
            }
        }
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
    let time = get("time", 0).and_then(|t| super::stamp::rfc3339(&t));
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
