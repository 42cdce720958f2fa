//! The command line (clap stays in this file): `analyze`, `merge`, `patterns
//! check`, `patterns list`. Turns arguments into calls of the library, prints
//! errors as one line each on stderr, writes reports (atomically with
//! `--output`), and decides the exit status.

pub mod patterns;

use crate::actions::failon::{self, Threshold};
use crate::analysis::pipeline::{self, Problem, RunOptions};
use crate::analysis::summary::Summary;
use crate::analysis::window::{self, Window};
use crate::cli::patterns::load;
use crate::event::Event;
use crate::output::Sink;
use crate::patterns::PatternSet;
use crate::report::{self, ReportOptions};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_HELP: &str = "Exit status: 0 success; 1 a --fail-on threshold was crossed; 2 an error \
(an input could not be read, bad patterns, bad arguments; errors win over thresholds); 3 no \
input reaches into a past --day/--since/--until window (no evidence either way). A closed \
output pipe (`bouncelog analyze … | head`) ends the run quietly with status 0.";

/// Exit status when the inputs hold no line of a past window.
const EXIT_UNCOVERED: u8 = 3;

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
}

impl From<MergeFormat> for FormatArg {
    fn from(f: MergeFormat) -> FormatArg {
        match f {
            MergeFormat::Text => FormatArg::Text,
            MergeFormat::Markdown => FormatArg::Markdown,
            MergeFormat::Csv => FormatArg::Csv,
            MergeFormat::Json => FormatArg::Json,
            MergeFormat::Prometheus => FormatArg::Prometheus,
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
    /// Rows in each top list
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10000))]
    top: u32,
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
            analyze_cmd(a)
        }
        Command::Merge(mut m) => {
            m.out.format = m.format.into();
            merge_cmd(m)
        }
        Command::Explain {
            text,
            patterns,
            host,
            direction,
        } => explain_cmd(
            text,
            patterns.as_deref(),
            host.as_deref(),
            direction
                .as_deref()
                .and_then(crate::event::Direction::parse),
        ),
        Command::Suppress(s) => suppress_cmd(s),
        Command::Patterns { command } => match command {
            PatternsCommand::Check { dir } => crate::cli::patterns::check_cmd(dir.as_deref()),
            PatternsCommand::List { patterns } => {
                crate::cli::patterns::list_cmd(patterns.as_deref())
            }
        },
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bouncelog: {}", crate::source::plain(&e));
            ExitCode::from(2)
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> io::Result<ExitCode> {
    eprintln!("bouncelog: {msg}");
    Ok(ExitCode::from(2))
}

/// The --fail-on thresholds, each parsed and checked against the causes known.
fn thresholds(out: &OutputArgs, ps: &PatternSet) -> Result<Vec<Threshold>, String> {
    let t = out
        .fail_on
        .iter()
        .map(|s| failon::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    failon::validate(&t, ps)?;
    Ok(t)
}

/// Writes a finished summary in a summary format, then applies --quiet and --fail-on.
fn finish(
    mut sink: Sink,
    summary: &Summary,
    ps: &PatternSet,
    out: &OutputArgs,
    thresholds: &[Threshold],
    errored: bool,
    check_coverage: bool,
) -> io::Result<ExitCode> {
    let opts = ReportOptions {
        top: out.top as usize,
        unicode: out.output.is_none() && io::stdout().is_terminal(),
    };
    let now = chrono::Local::now().fixed_offset();
    let silent = out.quiet && summary.failures() == 0 && !errored && out.output.is_none();
    if !silent {
        let w = sink.writer();
        match out.format {
            FormatArg::Text => report::text::write(w, summary, ps, &opts)?,
            FormatArg::Markdown => report::markdown::write(w, summary, ps, &opts)?,
            FormatArg::Csv => report::csv::write(w, summary, ps, &opts)?,
            FormatArg::Json => {
                let mut v = report::json::to_value(summary, ps, &opts);
                if check_coverage || summary.first_line.is_some() {
                    window::annotate_json(&mut v, summary, now);
                }
                let report = crate::analysis::evidence_json::WithEvidence(&v, &summary.diag);
                serde_json::to_writer_pretty(&mut *w, &report).map_err(io::Error::other)?;
                writeln!(w)?;
            }
            FormatArg::Ndjson => {}
            FormatArg::Prometheus => {
                report::prometheus::write(w, summary, ps.findings.keys().map(String::as_str), now)?
            }
        }
    }
    sink.finish()?;
    // A past window the inputs do not reach into is no evidence of a clean period.
    let note = check_coverage
        .then(|| window::coverage_note(summary, now))
        .flatten();
    let uncovered = match note {
        Some((msg, none)) => {
            eprintln!("bouncelog: {msg}");
            none
        }
        None => false,
    };
    if errored {
        return Ok(ExitCode::from(2));
    }
    if uncovered {
        return Ok(ExitCode::from(EXIT_UNCOVERED));
    }
    let mut crossed = false;
    for t in thresholds {
        if let Some(msg) = t.crossed(summary) {
            eprintln!("bouncelog: {msg}");
            crossed = true;
        }
    }
    Ok(if crossed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn set_tz(tz: &str) -> Result<(), String> {
    let known = tz == "UTC" || tz == "local" || Path::new("/usr/share/zoneinfo").join(tz).is_file();
    if !known || tz.contains("..") {
        return Err(format!("unknown time zone '{tz}': use UTC or a name from /usr/share/zoneinfo such as Europe/Paris"));
    }
    if tz != "local" {
        // Read by chrono's Local for year-less stamps and window bounds.
        std::env::set_var("TZ", tz);
    }
    Ok(())
}

fn window_of(a: &AnalyzeArgs) -> Result<Window, String> {
    window::from_args(
        a.day.as_deref(),
        a.since.as_deref(),
        a.until.as_deref(),
        chrono::Local::now(),
    )
}

fn analyze_cmd(a: AnalyzeArgs) -> io::Result<ExitCode> {
    if let Some(tz) = &a.tz {
        if let Err(e) = set_tz(tz) {
            return fail(e);
        }
    }
    let window = match window_of(&a) {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    let trusted = match crate::actions::blocklist::parse_list(&a.trusted) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let ps = match load(a.out.patterns.as_deref()) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let thresholds = match thresholds(&a.out, &ps) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if let Some(n) = a.threads {
        // After loading: idle workers spin for a while and would slow the load.
        // Only fails if a pool exists already, which cannot happen here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global();
    }
    let mut files = a.files.clone();
    if a.journal {
        files.push(crate::source::journal_spec(&window));
    } else if files.is_empty() {
        if io::stdin().is_terminal() {
            // Not a hang: say what it waits for.
            eprintln!("bouncelog: reading the log from standard input (end it with Ctrl-D, or give files: bouncelog analyze /var/log/mail.log)");
        }
        files.push("-".to_string());
    }
    let mut sink = Sink::open(a.out.output.as_deref())?;
    let ndjson = a.out.format == FormatArg::Ndjson;
    let mut errored = false;
    let mut write_err: Option<io::Error> = None;
    // A write error (a closed pipe, a full disk) stops the run at once.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let summary = {
        let w = sink.writer();
        let mut events = |e: &Event| {
            if ndjson && write_err.is_none() {
                if let Err(err) = report::ndjson::write_event(w, e) {
                    write_err = Some(err);
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        };
        let mut problems = |p: Problem| match p {
            Problem::Error(m) => {
                errored = true;
                eprintln!("bouncelog: {}", crate::report::sanitize::terminal(&m));
            }
            Problem::Warning(m) => {
                eprintln!(
                    "bouncelog: warning: {}",
                    crate::report::sanitize::terminal(&m)
                )
            }
        };
        let opts = RunOptions {
            window,
            redact: a.redact,
            progress: pipeline::progress_bar(&files),
            stop: Some(stop.clone()),
        };
        let summary = pipeline::run(&ps, &files, &opts, &mut events, &mut problems);
        if let Some(pb) = &opts.progress {
            pb.finish_and_clear();
        }
        summary
    };
    if let Some(e) = write_err {
        return Err(e);
    }
    let mut summary = summary;
    let mut cfg = crate::findings::Config {
        harvest_min: a.harvest_min.max(2),
        harvest_window: chrono::Duration::minutes(a.harvest_window),
        ..Default::default()
    };
    cfg.trusted.extend(trusted);
    summary.findings = crate::findings::compute(&summary, &ps, &cfg);
    if let Some(path) = &a.emit_blocklist {
        let mut list = Sink::open(Some(path))?;
        crate::actions::blocklist::write(
            list.writer(),
            &crate::actions::blocklist::entries(&summary.findings),
        )?;
        list.finish()?;
    }
    if a.explain_unmatched {
        let mut v: Vec<_> = summary.diag.unmatched.iter().collect();
        v.sort_by(|x, y| y.1 .0.cmp(&x.1 .0).then(x.0.cmp(y.0)));
        let mut err = io::stderr().lock();
        for (i, (t, (n, sample))) in v.into_iter().enumerate() {
            writeln!(
                err,
                "# {n} failure(s) like: {}",
                crate::report::sanitize::terminal(t)
            )?;
            writeln!(err, "{}", crate::inspect::explain::stub(&ps, sample, i + 1))?;
        }
    }
    finish(sink, &summary, &ps, &a.out, &thresholds, errored, true)
}

fn explain_cmd(
    text: Vec<String>,
    patterns: Option<&Path>,
    host: Option<&str>,
    direction: Option<crate::event::Direction>,
) -> io::Result<ExitCode> {
    let ps = match load(patterns) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let texts: Vec<String> = if text.is_empty() {
        io::stdin()
            .lines()
            .collect::<io::Result<Vec<_>>>()?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        vec![text.join(" ")]
    };
    let mut out = io::stdout().lock();
    let mut unknown = false;
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let x = crate::inspect::explain::explain_in(&ps, t, host, direction);
        unknown |= x.cause.is_none() && x.not_a_failure.is_none();
        write!(out, "{}", crate::inspect::explain::render(&ps, t, &x))?;
    }
    Ok(if unknown {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn suppress_cmd(a: SuppressArgs) -> io::Result<ExitCode> {
    let ps = match load(a.patterns.as_deref()) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let files = if a.files.is_empty() {
        vec!["-".to_string()]
    } else {
        a.files.clone()
    };
    let mut errored = false;
    let list = crate::actions::suppress::collect(&ps, &files, a.soft_days, &mut |p: Problem| {
        if let Problem::Error(m) = &p {
            errored = true;
            eprintln!("bouncelog: {}", crate::report::sanitize::terminal(m));
        }
    });
    let mut sink = Sink::open(a.output.as_deref())?;
    crate::actions::suppress::write(sink.writer(), &list, a.format == ListFormat::Json)?;
    sink.finish()?;
    Ok(if errored {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn merge_cmd(m: MergeArgs) -> io::Result<ExitCode> {
    let ps = match load(m.out.patterns.as_deref()) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let thresholds = match thresholds(&m.out, &ps) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let mut parts = Vec::new();
    let mut names = Vec::new();
    let mut errored = false;
    for p in &m.reports {
        match crate::analysis::merge::read(p) {
            Ok(s) => {
                parts.push(s);
                names.push(p.display().to_string());
            }
            Err(e) => {
                eprintln!("bouncelog: {}: {e}", p.display());
                errored = true;
            }
        }
    }
    let parts = crate::analysis::merge::without_duplicates(parts, &mut |later, first| {
        eprintln!(
            "bouncelog: warning: {}: same inputs and window as {}; skipped (merging it would count everything twice)",
            names[later], names[first]
        );
    });
    let mut summary = crate::analysis::merge::merge_all(parts);
    summary.findings = crate::analysis::merge::findings(&summary, &ps);
    let sink = Sink::open(m.out.output.as_deref())?;
    finish(sink, &summary, &ps, &m.out, &thresholds, errored, false)
}
