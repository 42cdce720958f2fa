//! The command line, the only place that knows clap: parses the arguments,
//! turns them into the plain configurations of [`crate::config`] (inputs,
//! window, thresholds as written) and runs the command; the exit status is
//! decided once, by [`crate::error::exit_status`].

mod progress;

use crate::analysis::window;
use crate::config::{self, Format};
use crate::error::{exit_status, Error};
use crate::parse::syslog::Zone;
use crate::source::Input;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_HELP: &str = "Exit status: 0 success; 1 a --fail-on threshold was crossed; 2 an error \
(an input could not be read, bad patterns, bad arguments; errors win over thresholds); 3 no \
input reaches into a past --day/--since/--until window (no evidence either way). A closed \
output pipe (`bouncelog analyze … | head`) ends the run quietly with status 0.";

/// Why mail is rejected or bounced, by cause, with what to do about it.
#[derive(Debug, Parser)]
#[command(name = "bouncelog", version, about, after_help = EXIT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read mail logs and report rejections and bounces by cause
    #[command(after_help = EXIT_HELP)]
    Analyze(AnalyzeArgs),
    /// Combine JSON reports (from several hosts or days) into one report
    #[command(after_help = EXIT_HELP)]
    Merge(MergeArgs),
    /// Explain an SMTP reply or a log line: cause, meaning, what to do (TEXT or stdin)
    Explain {
        /// The reply or line (several words are joined); none reads standard input
        text: Vec<String>,
        /// Directory of extra pattern files (*.toml)
        #[arg(long, value_name = "DIR")]
        patterns: Option<PathBuf>,
        /// For a bare reply: the remote host that sent it (applies the provider's own rules)
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        /// For a bare reply: who refused the mail (applies direction-scoped rules)
        #[arg(long, value_parser = ["inbound", "outbound", "local"])]
        direction: Option<String>,
    },
    /// List recipients that hard-bounced (unknown user, disabled, domain not found), for list cleanup
    Suppress(SuppressArgs),
    /// Inspect the pattern sets (built-in and your own)
    Patterns {
        #[command(subcommand)]
        command: PatternsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum PatternsCommand {
    /// Check pattern files: regexes, causes, and that every sample matches its rule
    Check {
        /// Directory of extra pattern files (*.toml) to check with the built-ins
        dir: Option<PathBuf>,
    },
    /// List the causes and rules known
    List {
        /// Directory of extra pattern files (*.toml)
        #[arg(long)]
        patterns: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    #[default]
    Text,
    Markdown,
    Csv,
    Json,
    Ndjson,
    Prometheus,
    Html,
}

/// The formats `merge` writes: the summary formats (events are not kept in
/// reports, so no ndjson).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MergeFormat {
    Text,
    Markdown,
    Csv,
    Json,
    Prometheus,
    Html,
}

impl From<MergeFormat> for FormatArg {
    fn from(f: MergeFormat) -> FormatArg {
        match f {
            MergeFormat::Text => FormatArg::Text,
            MergeFormat::Markdown => FormatArg::Markdown,
            MergeFormat::Csv => FormatArg::Csv,
            MergeFormat::Json => FormatArg::Json,
            MergeFormat::Prometheus => FormatArg::Prometheus,
            MergeFormat::Html => FormatArg::Html,
        }
    }
}

/// Options shared by `analyze` and `merge`: how the report is written.
#[derive(Debug, clap::Args)]
struct OutputArgs {
    /// The format chosen: each command has its own --format option, since
    /// they accept different formats; it sets this.
    #[arg(skip)]
    format: FormatArg,
    /// Set by `analyze --events`: the events were the report.
    #[arg(skip)]
    events: bool,
    /// Rows in each top list of a detailed cause (recipients, domains, clients or remote
    /// hosts, senders) and unrecognised texts shown
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10000))]
    top: u32,
    /// Causes shown in full in the text and Markdown reports, most urgent first (the others
    /// are rows of the table); 0 shows the table only
    #[arg(long, value_name = "N", default_value_t = crate::report::DEFAULT_DETAILS as u32)]
    details: u32,
    /// Write the report to FILE: a regular file atomically (temporary file renamed into place,
    /// through symlinks, keeping its mode), a device or FIFO in place
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print nothing when there are no failures (for cron)
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Exit with status 1 when a count crosses a threshold, e.g. 'unknown_user>100',
    /// 'outbound:blocklisted>0', 'hard>10', '*>=500/h' (busiest hour); may be repeated.
    /// An unknown cause, direction or severity is an error (exit 2)
    #[arg(long, value_name = "RULE")]
    fail_on: Vec<String>,
    /// Directory of extra pattern files (*.toml) that add or override rules and causes
    #[arg(long, value_name = "DIR")]
    patterns: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// Log files (plain or gzip, any order); `-` or none reads standard input
    files: Vec<String>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: FormatArg,
    /// With --format csv: one row per failure event instead of one per cause
    #[arg(long)]
    events: bool,
    #[command(flatten)]
    out: OutputArgs,
    /// Count only events at or after this time: today, yesterday, -24h, -7d, 2025-03-10, an RFC 3339 time
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    since: Option<String>,
    /// Count only events before this time (a day means its end: --until yesterday)
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    until: Option<String>,
    /// Count only the events of one day: today, yesterday or YYYY-MM-DD (the cron shorthand)
    #[arg(long, value_name = "DAY", allow_hyphen_values = true, conflicts_with_all = ["since", "until"])]
    day: Option<String>,
    /// Time zone for year-less log stamps and for --since/--until/--day (e.g. UTC, Europe/Paris)
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Replace the local part of every address with a stable short hash (domains are kept)
    #[arg(long)]
    redact: bool,
    /// Also read the systemd journal (runs `journalctl -o json SYSLOG_FACILITY=2`, the mail facility)
    #[arg(long)]
    journal: bool,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Distinct unknown recipients from one client within --harvest-window that make a harvest finding
    #[arg(long, default_value_t = 10, value_name = "N")]
    harvest_min: usize,
    /// Time window of the harvest detector, in minutes
    #[arg(long, default_value_t = 10, value_name = "MINUTES", value_parser = clap::value_parser!(i64).range(1..=10080))]
    harvest_window: i64,
    /// Write the IP addresses of harvesting clients to FILE, one per line after a comment
    /// saying why (for a firewall)
    #[arg(long, value_name = "FILE")]
    emit_blocklist: Option<PathBuf>,
    /// Our own networks, never on the blocklist (loopback and private networks never are):
    /// addresses or CIDR networks separated by spaces or commas, e.g. "$(postconf -h mynetworks)"
    #[arg(long, value_name = "NETS")]
    trusted: Vec<String>,
    /// Print a ready-to-edit pattern rule for each failure text no rule classified
    #[arg(long)]
    explain_unmatched: bool,
    /// Say what changed since a previous JSON report (`--format json` of an earlier run):
    /// new causes, spikes (at least twice as many messages, and 5 more), causes gone
    #[arg(long, value_name = "PREVIOUS.json")]
    compare: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
struct SuppressArgs {
    /// Log files (any MTA, plain or gzip); none or `-` reads standard input
    files: Vec<String>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "csv")]
    format: ListFormat,
    /// Also list recipients with temporary failures on at least this many different days
    #[arg(long, default_value_t = 3, value_name = "DAYS")]
    soft_days: usize,
    /// Directory of extra pattern files (*.toml)
    #[arg(long, value_name = "DIR")]
    patterns: Option<PathBuf>,
    /// Write the list to FILE (atomically)
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// JSON reports written by `bouncelog analyze --format json` (`-` reads one from stdin)
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Output format (a summary format: reports keep no events)
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: MergeFormat,
    #[command(flatten)]
    out: OutputArgs,
}

/// Runs the program; the binary's `main` calls this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(mut a) => {
            a.out.format = a.format;
            a.out.events = a.events;
            analyze_config(a).and_then(|cfg| {
                let bar = progress::bar(&cfg.inputs);
                crate::command::analyze::run(&cfg, bar.clone().map(|b| b as _)).inspect(|_| {
                    if let Some(b) = &bar {
                        b.finish();
                    }
                })
            })
        }
        Command::Merge(mut m) => {
            m.out.format = m.format.into();
            crate::command::merge::run(&config::MergeConfig {
                reports: m.reports,
                report: report_config(&m.out, Zone::system()),
            })
        }
        Command::Explain {
            text,
            patterns,
            host,
            direction,
        } => crate::command::explain::run(&config::ExplainConfig {
            texts: if text.is_empty() {
                Vec::new()
            } else {
                vec![text.join(" ")]
            },
            patterns,
            host,
            direction: direction
                .as_deref()
                .and_then(crate::event::Direction::parse),
        }),
        Command::Suppress(s) => crate::command::suppress::run(&config::SuppressConfig {
            inputs: inputs(&s.files),
            json: s.format == ListFormat::Json,
            soft_days: s.soft_days,
            patterns: s.patterns,
            output: s.output,
        }),
        Command::Patterns { command } => match command {
            PatternsCommand::Check { dir } => crate::command::patterns::check_cmd(dir.as_deref()),
            PatternsCommand::List { patterns } => {
                crate::command::patterns::list_cmd(patterns.as_deref())
            }
        },
    };
    ExitCode::from(exit_status(result))
}

/// The files given, `-` as standard input; none is standard input.
fn inputs(files: &[String]) -> Vec<Input> {
    if files.is_empty() {
        return vec![Input::Stdin];
    }
    files.iter().map(|f| Input::from(f.as_str())).collect()
}

fn report_config(out: &OutputArgs, zone: Zone) -> config::ReportConfig {
    config::ReportConfig {
        format: match out.format {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Ndjson => Format::Ndjson,
            FormatArg::Prometheus => Format::Prometheus,
            FormatArg::Html => Format::Html,
        },
        events: out.events,
        top: out.top as usize,
        details: out.details as usize,
        output: out.output.clone(),
        quiet: out.quiet,
        fail_on: out.fail_on.clone(),
        patterns: out.patterns.clone(),
        zone,
    }
}

/// The zone year-less stamps and window bounds are read in (`--tz`; `local`
/// is the system's).
fn parse_zone(tz: &str) -> Result<Zone, Error> {
    Zone::named(tz).ok_or_else(|| {
        Error::Usage(format!("unknown time zone '{tz}': use UTC or a name from /usr/share/zoneinfo such as Europe/Paris"))
    })
}

fn analyze_config(a: AnalyzeArgs) -> Result<config::AnalyzeConfig, Error> {
    if a.events && a.format != FormatArg::Csv {
        return Err(Error::Usage(
            "--events goes with --format csv (--format ndjson writes the events as JSON)".into(),
        ));
    }
    let zone = match &a.tz {
        Some(tz) => parse_zone(tz)?,
        None => Zone::system(),
    };
    let window = window::from_args(
        a.day.as_deref(),
        a.since.as_deref(),
        a.until.as_deref(),
        chrono::Utc::now(),
        &zone,
    )
    .map_err(Error::Usage)?;
    let mut inputs: Vec<Input> = a.files.iter().map(|f| Input::from(f.as_str())).collect();
    if a.journal {
        inputs.push(Input::Journal {
            since: window.since,
            until: window.until,
        });
    } else if inputs.is_empty() {
        if io::stdin().is_terminal() {
            // Not a hang: say what it waits for.
            crate::error::say("reading the log from standard input (end it with Ctrl-D, or give files: bouncelog analyze /var/log/mail.log)");
        }
        inputs.push(Input::Stdin);
    }
    Ok(config::AnalyzeConfig {
        inputs,
        report: report_config(&a.out, zone),
        window,
        redact: a.redact,
        threads: a.threads.map(usize::from),
        harvest_min: a.harvest_min,
        harvest_window: chrono::Duration::minutes(a.harvest_window),
        emit_blocklist: a.emit_blocklist,
        trusted: a.trusted,
        explain_unmatched: a.explain_unmatched,
        compare: a.compare,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_become_inputs() {
        assert_eq!(inputs(&[]), vec![Input::Stdin]);
        assert_eq!(
            inputs(&["-".into(), "/var/log/mail.log".into()]),
            vec![Input::Stdin, Input::File("/var/log/mail.log".into())]
        );
    }

    #[test]
    fn an_unknown_zone_is_a_usage_error() {
        assert!(matches!(parse_zone("Mars/Olympus"), Err(Error::Usage(_))));
        assert!(matches!(
            parse_zone("../../etc/passwd"),
            Err(Error::Usage(_))
        ));
        let Err(e) = parse_zone("Mars/Olympus") else {
            panic!("Mars/Olympus is no zone")
        };
        assert_eq!(
            e.to_string(),
            "unknown time zone 'Mars/Olympus': use UTC or a name from /usr/share/zoneinfo such as Europe/Paris"
        );
    }

    #[test]
    fn a_known_zone_is_a_value_and_leaves_the_environment_alone() {
        let before = std::env::var_os("TZ");
        for tz in ["UTC", "Asia/Tokyo", "local"] {
            assert!(parse_zone(tz).is_ok(), "{tz}");
        }
        assert_eq!(parse_zone("UTC").ok(), Some(Zone::utc()));
        assert_eq!(std::env::var_os("TZ"), before);
    }
}
