//! Report formats. Each format lives in its own file and renders a finished
//! [`Summary`](crate::analysis::summary::Summary) (or, for ndjson, single events) to a
//! writer; reports never read files or parse logs.

pub mod csv;
pub mod document;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod prometheus;
pub mod redact;
pub mod sanitize;
pub mod text;

use crate::analysis::summary::Group;

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
}

/// Options shared by the summary formats.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Rows in each top list.
    pub top: usize,
    /// Draw tables with Unicode box characters (a terminal) or ASCII.
    pub unicode: bool,
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
