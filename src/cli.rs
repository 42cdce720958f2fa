//! The command line (clap stays in this file): `analyze`, `patterns check`,
//! `patterns list`. Turns arguments into calls of the library, prints errors
//! as one line each on stderr, and decides the exit status.

use crate::analyze::{self, Problem};
use crate::event::Event;
use crate::patterns::{self, check, PatternSet};
use crate::report::{self, Format, ReportOptions};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_HELP: &str = "Exit status: 0 success; 2 an error (an input could not be read, bad patterns, bad arguments). \
A closed output pipe (`bouncelog analyze … | head`) ends the run quietly with status 0.";

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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Ndjson,
}

#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// Log files (plain or gzip); `-` or none reads standard input
    files: Vec<String>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: FormatArg,
    /// Rows in each top list
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10000))]
    top: u32,
    /// Directory of extra pattern files (*.toml) that add or override rules
    #[arg(long, value_name = "DIR")]
    patterns: Option<PathBuf>,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

/// Runs the program; the binary's `main` calls this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => analyze_cmd(a),
        Command::Patterns { command } => match command {
            PatternsCommand::Check { dir } => check_cmd(dir.as_deref()),
            PatternsCommand::List { patterns } => list_cmd(patterns.as_deref()),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bouncelog: {e}");
            ExitCode::from(2)
        }
    }
}

fn load(dir: Option<&Path>) -> Result<PatternSet, ExitCode> {
    PatternSet::load(dir).map_err(|diags| {
        for d in diags.iter().filter(|d| d.error) {
            eprintln!("bouncelog: {d}");
        }
        ExitCode::from(2)
    })
}

fn analyze_cmd(a: AnalyzeArgs) -> io::Result<ExitCode> {
    if let Some(n) = a.threads {
        // Only fails if a pool exists already, which cannot happen here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global();
    }
    let ps = match load(a.patterns.as_deref()) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let files = if a.files.is_empty() {
        vec!["-".to_string()]
    } else {
        a.files
    };
    let format = match a.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Ndjson => Format::Ndjson,
    };
    let stdout = io::stdout();
    let unicode = stdout.is_terminal();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut errored = false;
    let mut write_err: Option<io::Error> = None;
    let mut sink = |e: &Event| {
        if format == Format::Ndjson && write_err.is_none() {
            if let Err(err) = report::ndjson::write_event(&mut out, e) {
                write_err = Some(err);
            }
        }
    };
    let mut problems = |p: Problem| match p {
        Problem::Error(m) => {
            errored = true;
            eprintln!("bouncelog: {}", crate::sanitize::terminal(&m));
        }
        Problem::Warning(m) => eprintln!("bouncelog: warning: {}", crate::sanitize::terminal(&m)),
    };
    let summary = analyze::run(&ps, &files, &mut sink, &mut problems);
    if let Some(e) = write_err {
        return Err(e);
    }
    let opts = ReportOptions {
        top: a.top as usize,
        unicode,
    };
    match format {
        Format::Text => report::text::write(&mut out, &summary, &ps, &opts)?,
        Format::Json => report::json::write(&mut out, &summary, &ps, &opts)?,
        Format::Ndjson => {}
    }
    out.flush()?;
    Ok(if errored {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_cmd(dir: Option<&Path>) -> io::Result<ExitCode> {
    let mut sources = patterns::builtin_sources();
    if let Some(d) = dir {
        match patterns::dir_sources(d) {
            Ok(s) if s.is_empty() => {
                eprintln!("bouncelog: {}: no *.toml pattern files", d.display());
                return Ok(ExitCode::from(2));
            }
            Ok(s) => sources.extend(s),
            Err(e) => {
                eprintln!("bouncelog: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let diags = check::check(&sources);
    let mut out = io::stdout().lock();
    for d in &diags {
        writeln!(out, "{d}")?;
    }
    let errors = diags.iter().filter(|d| d.error).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        writeln!(out, "{errors} error(s), {warnings} warning(s)")?;
        return Ok(ExitCode::from(2));
    }
    let ps = match load(dir) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let rules: usize = ps.mtas.iter().map(|m| m.rules.len()).sum();
    writeln!(
        out,
        "ok: {} causes, {} reply rules, {} line rules for {} MTA(s); {warnings} warning(s)",
        ps.causes.len(),
        ps.replies.len(),
        rules,
        ps.mtas.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn list_cmd(dir: Option<&Path>) -> io::Result<ExitCode> {
    let ps = match load(dir) {
        Ok(ps) => ps,
        Err(code) => return Ok(code),
    };
    let mut out = io::stdout().lock();
    writeln!(out, "Causes ({}):", ps.causes.len())?;
    for c in &ps.causes {
        writeln!(
            out,
            "  {:<38} {:<4}  {}",
            c.id,
            c.severity.as_str(),
            c.title
        )?;
    }
    for m in &ps.mtas {
        writeln!(out, "\nLine rules for {} ({}):", m.name, m.description)?;
        for r in &m.rules {
            writeln!(out, "  {:<38} {:?}  [{}]", r.id, r.kind, r.file)?;
        }
    }
    writeln!(out, "\nReply rules, in match order ({}):", ps.replies.len())?;
    for r in &ps.replies {
        writeln!(
            out,
            "  {:<38} -> {}  [{}]",
            r.id, ps.causes[r.cause].id, r.file
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
