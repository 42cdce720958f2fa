//! `bouncelog analyze`: runs the pipeline over the inputs, streams ndjson
//! events when asked, computes the findings, writes the blocklist and the
//! report, and decides the status. The pattern set and the analysis are
//! not freed at the end (the process exits next).

use super::{finish, patterns::load, thresholds};
use crate::analysis::pipeline::{self, Problem, Progress, RunOptions};
use crate::config::{AnalyzeConfig, Format};
use crate::error::{Error, Messages, Status};
use crate::event::Event;
use crate::output::Sink;
use crate::report;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Runs `analyze`; `progress` is told how reading goes (a bar on a terminal).
pub fn run(cfg: &AnalyzeConfig, progress: Option<Arc<dyn Progress>>) -> Result<Status, Error> {
    let trusted = crate::net::parse_list(&cfg.trusted).map_err(Error::Usage)?;
    let ps = load(cfg.report.patterns.as_deref())?;
    let thresholds = thresholds(&cfg.report, &ps)?;
    if let Some(n) = cfg.threads {
        // After loading: idle workers spin for a while and would slow the load.
        // Only fails if a pool exists already, which cannot happen here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    let mut sink = Sink::open(cfg.report.output.as_deref())?;
    let mut msgs = Messages::default();
    let mut write_err: Option<io::Error> = None;
    // A write error (a closed pipe, a full disk) stops the run at once.
    let stop = Arc::new(AtomicBool::new(false));
    let summary = {
        let w = sink.writer();
        let ndjson = cfg.report.format == Format::Ndjson;
        let mut out = report::EventOut::new(w, ndjson, cfg.report.events);
        let mut events = |e: &Event| {
            if write_err.is_none() {
                if let Err(err) = out.write(e) {
                    write_err = Some(err);
                    stop.store(true, Ordering::Relaxed);
                }
            }
        };
        let mut problems = |p: Problem| match p {
            Problem::Error(m) => msgs.error(&m),
            Problem::Warning(m) => msgs.warning(&m),
        };
        let opts = RunOptions {
            window: cfg.window,
            redact: cfg.redact,
            progress,
            stop: Some(stop.clone()),
            zone: cfg.report.zone.clone(),
        };
        let mut summary = pipeline::run(&ps, &cfg.inputs, &opts, &mut events, &mut problems);
        summary.shrink_to_fit();
        if let Err(err) = out.finish(cfg.report.quiet) {
            write_err.get_or_insert(err);
        }
        summary
    };
    if let Some(e) = write_err {
        return Err(e.into());
    }
    let mut fcfg = crate::findings::Config {
        harvest_min: cfg.harvest_min.max(2),
        harvest_window: cfg.harvest_window,
        ..Default::default()
    };
    fcfg.trusted.extend(trusted);
    let findings = crate::findings::compute(&summary, &ps, &fcfg);
    let analysis = crate::findings::Analysis { summary, findings };
    let summary = &analysis.summary;
    if let Some(path) = &cfg.emit_blocklist {
        let mut list = Sink::open(Some(path))?;
        crate::actions::blocklist::write(
            list.writer(),
            &crate::actions::blocklist::entries(&ps, &analysis.findings),
        )?;
        list.finish()?;
    }
    if cfg.explain_unmatched {
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
    let changes = match &cfg.compare {
        None => None,
        Some(p) => match crate::report::merge::read(p) {
            Ok(before) => Some(super::Changes {
                previous: p.display().to_string(),
                list: crate::analysis::compare::compare(&before.summary, summary),
            }),
            Err(e) => {
                msgs.error(&format!("{}: {e}", p.display()));
                None
            }
        },
    };
    let status = finish(
        sink,
        &analysis,
        &ps,
        &cfg.report,
        &thresholds,
        &mut msgs,
        true,
        changes.as_ref(),
    );
    // The report is written and flushed (`finish` consumed the sink) and the
    // process ends next: freeing the pattern set and the analysis piece by
    // piece would only cost time (~2 ms on a small log) the OS saves at exit.
    std::mem::forget(analysis);
    std::mem::forget(ps);
    status
}
