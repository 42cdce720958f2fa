//! The plain configuration the command line hands to the commands: no clap
//! types here, only resolved values (inputs, the window, thresholds as
//! written, paths). `cli` builds it; `command` runs it.

use crate::analysis::window::Window;
use crate::parse::syslog::Zone;
use crate::source::Input;
use std::path::PathBuf;

/// A report format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// The text report for a terminal or a cron mail.
    #[default]
    Text,
    /// Markdown, for tickets and wikis.
    Markdown,
    /// CSV, one row per group.
    Csv,
    /// The JSON report (schema/report.schema.json).
    Json,
    /// One JSON event per line, as they happen.
    Ndjson,
    /// Prometheus textfile-collector metrics.
    Prometheus,
    /// One self-contained HTML page (inline CSS and SVG).
    Html,
}

/// How a report is written (shared by `analyze` and `merge`).
#[derive(Debug, Clone, Default)]
pub struct ReportConfig {
    /// The format.
    pub format: Format,
    /// With CSV: one row per failure event (written as they happen).
    pub events: bool,
    /// Rows in each top list.
    pub top: usize,
    /// Causes shown in full (text and Markdown).
    pub details: usize,
    /// The report file (standard output when `None`).
    pub output: Option<PathBuf>,
    /// Print nothing when there are no failures.
    pub quiet: bool,
    /// The --fail-on thresholds, as written.
    pub fail_on: Vec<String>,
    /// Extra pattern files.
    pub patterns: Option<PathBuf>,
    /// The zone local stamps are read in and times are shown in (`--tz`;
    /// the system's by default).
    pub zone: Zone,
}

/// `bouncelog analyze`.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeConfig {
    /// What to read, in the order given (the journal last).
    pub inputs: Vec<Input>,
    /// How the report is written.
    pub report: ReportConfig,
    /// Only events in this window count.
    pub window: Window,
    /// Replace local parts with stable hashes.
    pub redact: bool,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// Distinct unknown recipients from one client that make a harvest.
    pub harvest_min: usize,
    /// The harvest detector's window.
    pub harvest_window: chrono::Duration,
    /// Where to write harvesting clients' addresses.
    pub emit_blocklist: Option<PathBuf>,
    /// Our own networks, as written (addresses or CIDR networks).
    pub trusted: Vec<String>,
    /// Print a rule stub for each failure text no rule classified.
    pub explain_unmatched: bool,
    /// A previous JSON report to say what changed since.
    pub compare: Option<PathBuf>,
}

/// `bouncelog merge`.
#[derive(Debug, Clone, Default)]
pub struct MergeConfig {
    /// The JSON reports (`-` is standard input).
    pub reports: Vec<PathBuf>,
    /// How the report is written.
    pub report: ReportConfig,
}

/// `bouncelog suppress`.
#[derive(Debug, Clone, Default)]
pub struct SuppressConfig {
    /// What to read.
    pub inputs: Vec<Input>,
    /// JSON instead of CSV.
    pub json: bool,
    /// Temporary failures on this many days also list a recipient.
    pub soft_days: usize,
    /// Extra pattern files.
    pub patterns: Option<PathBuf>,
    /// The list file (standard output when `None`).
    pub output: Option<PathBuf>,
}

/// `bouncelog explain`.
#[derive(Debug, Clone, Default)]
pub struct ExplainConfig {
    /// The replies or lines; empty reads standard input, one per line.
    pub texts: Vec<String>,
    /// Extra pattern files.
    pub patterns: Option<PathBuf>,
    /// The remote host that sent a bare reply.
    pub host: Option<String>,
    /// Who refused the mail, for a bare reply.
    pub direction: Option<crate::event::Direction>,
}
