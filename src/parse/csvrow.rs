//! One row of a CSV log (see `csvlog`) turned into records: the columns of
//! a `#Fields:` header resolved once (`Layout`), the row's cells read by
//! index, lists split into one record per recipient, the row's text joined
//! again for its fingerprint and example line.

use super::csvlog::{last_error_text, split_list};
use super::stats::LineStats;
use crate::event::{Fields, Record, Text};
use crate::parse::build_record;
use crate::patterns::PatternSet;
use std::borrow::Cow;
use std::collections::HashMap;

/// The fields a row's records are built from, in [`Fields`] terms (`time`
/// gives the record's time).
const FIELDS: [&str; 11] = [
    "time", "queue_id", "client", "sender", "rcpt", "orig_to", "helo", "stage", "relay", "text",
    "service",
];

/// The columns of one `#Fields:` header, resolved once for every row under it.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Number of columns.
    pub(crate) width: usize,
    /// Each `[csv.fields]` entry: its index in [`FIELDS`] (`None` for a
    /// field the records do not read), its column, whether it is a list,
    /// whether it is the reply text.
    fields: Vec<(Option<usize>, Option<usize>, bool, bool)>,
    /// Each rule's `when` columns, in its order.
    when: Vec<Vec<Option<usize>>>,
}

impl Layout {
    /// The layout of the columns `cols` (name → index) for `mta`'s rules.
    pub(crate) fn new(ps: &PatternSet, mta: usize, cols: &HashMap<String, usize>) -> Layout {
        let m = &ps.mtas[mta];
        let fields = m.csv.as_ref().map_or_else(Vec::new, |csv| {
            csv.fields
                .iter()
                .map(|(field, column)| {
                    (
                        FIELDS.iter().position(|f| f == field),
                        cols.get(column).copied(),
                        csv.split.contains(field),
                        field == "text",
                    )
                })
                .collect()
        });
        let when = m
            .rules
            .iter()
            .map(|r| r.when.iter().map(|(c, _)| cols.get(c).copied()).collect())
            .collect();
        Layout {
            width: cols.len(),
            fields,
            when,
        }
    }

    /// Appends the records of one row (several when recipients are listed)
    /// to `out`; `raw` is scratch space for the row's text.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn records_into(
        &self,
        ps: &PatternSet,
        mta_idx: usize,
        row: &csv::ByteRecord,
        line: u64,
        stats: &mut LineStats,
        raw: &mut String,
        out: &mut Vec<Record>,
    ) {
        let mta = &ps.mtas[mta_idx];
        let Some(csv) = mta.csv.as_ref() else {
            return;
        };
        let mut lossy = false;
        // A column as text, borrowed unless it is not UTF-8.
        let mut cell = |col: Option<usize>| {
            let s = String::from_utf8_lossy(row.get(col?)?);
            lossy |= matches!(s, Cow::Owned(_));
            Some(s)
        };
        let Some(rule_idx) = mta.rules.iter().zip(&self.when).position(|(r, cols)| {
            !r.when.is_empty()
                && r.when
                    .iter()
                    .zip(cols)
                    .all(|((_, re), &c)| cell(c).is_some_and(|v| re.is_match(v.as_bytes())))
        }) else {
            return;
        };
        stats.matched += 1;
        let rule = &mta.rules[rule_idx];
        let mut values: [Option<Value<'_>>; FIELDS.len()] = Default::default();
        for &(slot, col, split, is_text) in &self.fields {
            let Some(v) = cell(col).filter(|v| !v.is_empty()) else {
                continue;
            };
            let mut value = if !split {
                Value::One(v)
            } else if !v.contains(csv.separator.as_str()) && !v.trim_start().starts_with('\'') {
                // One member: what `split_list` makes of it, without splitting.
                match v.trim() {
                    "" => Value::Many(Vec::new()),
                    t if t.len() == v.len() => Value::One(v),
                    t => Value::One(Cow::Owned(t.to_string())),
                }
            } else {
                Value::Many(split_list(&v, &csv.separator))
            };
            if is_text {
                // The reply text of a LastError status is its LED value.
                value.map_led();
            }
            if let Some(slot) = slot {
                values[slot] = Some(value);
            }
        }
        let n = csv
            .split
            .iter()
            .filter_map(|f| {
                let slot = FIELDS.iter().position(|x| x == f)?;
                values[slot].as_ref().map(Value::len)
            })
            .max()
            .unwrap_or(1)
            .max(1);
        let get = |f: usize, i: usize| values[f].as_ref().and_then(|v| v.get(i)).map(Text::from);
        let time = values[0]
            .as_ref()
            .and_then(|v| v.get(0))
            .and_then(super::stamp::rfc3339);
        // The example line: the row's fields joined again (quotes are not kept).
        raw.clear();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                raw.push(',');
            }
            raw.push_str(&String::from_utf8_lossy(c));
        }
        let hash = crate::parse::hash_line(raw.as_bytes());
        for i in 0..n {
            let fields = Fields {
                queue_id: get(1, i),
                client: get(2, i),
                sender: get(3, i).map(|s| if s == "<>" { Text::default() } else { s }),
                rcpt: get(4, i),
                orig_to: get(5, i),
                helo: get(6, i),
                stage: get(7, i),
                relay: get(8, i),
                dsn: None,
                status: rule.status.as_deref().map(Text::from),
                text: get(9, i),
                delivery: None,
                service: get(10, i),
            };
            let (mut rec, event) = build_record(ps, mta_idx, rule_idx, line, fields, None, false);
            rec.hash = hash;
            rec.time = time;
            if event {
                rec.raw = Some(raw.clone());
            }
            out.push(rec);
        }
        if lossy {
            stats.invalid_utf8 += 1;
        }
    }
}

/// A field's value in a row: one, or a list's members.
enum Value<'r> {
    One(Cow<'r, str>),
    Many(Vec<String>),
}

impl Value<'_> {
    fn len(&self) -> usize {
        match self {
            Value::One(_) => 1,
            Value::Many(v) => v.len(),
        }
    }

    /// The value for the `i`th recipient: its own, else the last one.
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Value::One(v) => Some(v),
            Value::Many(v) => v.get(i).or(v.last()).map(String::as_str),
        }
    }

    /// Each member replaced by its LED value when it is a LastError status.
    fn map_led(&mut self) {
        match self {
            Value::One(v) => {
                let led = last_error_text(v);
                if led.len() != v.len() {
                    *v = Cow::Owned(led.to_string());
                }
            }
            Value::Many(list) => {
                for t in list {
                    let led = last_error_text(t);
                    if led.len() != t.len() {
                        *t = led.to_string();
                    }
                }
            }
        }
    }
}

/// The records of one row (several when recipients are listed), the columns
/// given by name → index.
pub fn records(
    ps: &PatternSet,
    mta_idx: usize,
    cols: &HashMap<String, usize>,
    row: &csv::ByteRecord,
    line: u64,
    stats: &mut LineStats,
) -> Vec<Record> {
    let mut out = Vec::new();
    let mut raw = String::new();
    Layout::new(ps, mta_idx, cols).records_into(ps, mta_idx, row, line, stats, &mut raw, &mut out);
    out
}
