//! Report formats. Each format lives in its own file and renders a finished
//! [`Summary`](crate::analysis::summary::Summary) (or, for ndjson, single events) to a
//! writer; reports never read files or parse logs.

pub mod csv;
pub mod document;
pub mod html;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod prometheus;
pub mod redact;
pub mod sanitize;
pub mod text;

use crate::analysis::summary::Group;
use crate::event::Event;
use std::io::{self, Write};

/// Output format chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable tables (default).
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per failure event.
    Ndjson,
    /// Markdown, for wikis and tickets.
    Markdown,
    /// One CSV row per group.
    Csv,
    /// Prometheus text exposition format (node_exporter textfile collector).
    Prometheus,
    /// One self-contained HTML page (mail clients, browsers).
    Html,
}

/// Options shared by the summary formats.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Rows in each top list.
    pub top: usize,
    /// Draw tables with Unicode box characters (a terminal) or ASCII.
    pub unicode: bool,
}

/// Where failure events go as they are found: nowhere (the summary formats),
/// `--format ndjson`, or `--format csv --events`.
pub enum EventOut<'a> {
    /// Events are only summarised.
    None,
    /// One JSON object per line.
    Ndjson(&'a mut dyn Write),
    /// One CSV row per event.
    Csv(Box<csv::EventWriter<'a>>),
}

impl<'a> EventOut<'a> {
    /// Events to `w` as ndjson, as CSV rows, or not at all.
    pub fn new(w: &'a mut dyn Write, ndjson: bool, csv: bool) -> EventOut<'a> {
        match (ndjson, csv) {
            (true, _) => EventOut::Ndjson(w),
            (_, true) => EventOut::Csv(Box::new(csv::EventWriter::new(w))),
            _ => EventOut::None,
        }
    }

    /// Writes one event.
    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        match self {
            EventOut::None => Ok(()),
            EventOut::Ndjson(w) => ndjson::write_event(*w, e),
            EventOut::Csv(c) => c.write(e),
        }
    }

    /// Flushes; a CSV without events gets its header unless `quiet`.
    pub fn finish(self, quiet: bool) -> io::Result<()> {
        match self {
            EventOut::Csv(c) => c.finish(!quiet),
            _ => Ok(()),
        }
    }
}

/// Distinct recipients of a group, and whether the count is exact.
pub fn distinct_recipients(g: &Group) -> (usize, bool) {
    (g.recipients.distinct(), !g.recipients.capped())
}

/// The singular or the plural of a noun for a count: `1 line`, `2 lines`,
/// `0 lines`.
pub fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::noun;

    #[test]
    fn one_is_singular() {
        assert_eq!(noun(1, "line", "lines"), "line");
        assert_eq!(noun(0, "line", "lines"), "lines");
        assert_eq!(noun(2, "minute", "minutes"), "minutes");
    }
}
