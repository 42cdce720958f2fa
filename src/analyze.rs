//! The analysis pipeline: inputs → chunks of lines → parallel parsing (rayon)
//! → in-order correlation → [`Summary`] and a stream of failure events.
//!
//! Chunks of one input are parsed in parallel in batches and then fed to the
//! correlator in input order, so the result is byte-identical for any number
//! of threads. Per-input errors are reported through a callback and the run
//! goes on with the next input.

use crate::correlate::Correlator;
use crate::event::Event;
use crate::parse::{parse_chunk, ChunkResult};
use crate::patterns::PatternSet;
use crate::source::{self, looks_binary, Input};
use crate::summary::{InputInfo, Summary};
use crate::syslog::TimeContext;
use rayon::prelude::*;

/// What the caller is told about an input that could not be read fully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The input could not be read (or only partly): an error, exit status 2.
    Error(String),
    /// Something the user should know that is not an error.
    Warning(String),
}

/// Analyses the inputs in order. `sink` sees every failure event in input
/// order; `report` is told of problems as they happen.
pub fn run(
    ps: &PatternSet,
    inputs: &[String],
    sink: &mut dyn FnMut(&Event),
    report: &mut dyn FnMut(Problem),
) -> Summary {
    let mut summary = Summary::default();
    let mut corr = Correlator::default();
    for path in inputs {
        let mut input = match source::open(path) {
            Ok(i) => i,
            Err(msg) => {
                report(Problem::Error(msg.clone()));
                summary.inputs.push(InputInfo {
                    path: path.clone(),
                    bytes: 0,
                    lines: 0,
                    gzip: false,
                    error: Some(msg),
                });
                continue;
            }
        };
        let info = analyze_input(ps, &mut input, &mut corr, &mut summary, sink, report);
        summary.inputs.push(info);
    }
    summary
}

fn analyze_input(
    ps: &PatternSet,
    input: &mut Input,
    corr: &mut Correlator,
    summary: &mut Summary,
    sink: &mut dyn FnMut(&Event),
    report: &mut dyn FnMut(Problem),
) -> InputInfo {
    let ctx = TimeContext::at(input.reference);
    corr.start_input();
    let batch_len = rayon::current_num_threads().max(1) * 4;
    let mut base = 0u64;
    let mut recognised = 0u64;
    let mut first = true;
    let mut error = None;
    'read: loop {
        let mut batch = Vec::with_capacity(batch_len);
        while batch.len() < batch_len {
            match input.next_chunk() {
                Some(c) => {
                    if first {
                        first = false;
                        if looks_binary(&c) {
                            let msg =
                                format!("{}: binary data, not a text log; skipped", input.name);
                            report(Problem::Error(msg.clone()));
                            error = Some(msg);
                            break 'read;
                        }
                    }
                    batch.push(c);
                }
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let results: Vec<ChunkResult> =
            batch.par_iter().map(|c| parse_chunk(ps, &ctx, c)).collect();
        for r in results {
            summary.lines.merge(&r.stats);
            recognised += r.stats.recognised;
            for mut rec in r.records {
                rec.line += base;
                corr.feed(ps, &input.name, rec, summary, sink);
            }
            base += r.stats.total;
        }
    }
    if let Some(e) = input.take_error() {
        let what = if input.gzip { "gzip data" } else { "data" };
        let msg = format!(
            "{}: read error after {} bytes of {what} ({base} lines): {}",
            input.name,
            input.bytes,
            source::io_msg(&e)
        );
        report(Problem::Error(msg.clone()));
        error = Some(msg);
    }
    if error.is_none() && base > 0 && recognised == 0 {
        report(Problem::Warning(format!(
            "{}: none of its {base} lines is in a known mail-log format",
            input.name
        )));
    }
    InputInfo {
        path: input.name.clone(),
        bytes: input.bytes,
        lines: base,
        gzip: input.gzip,
        error,
    }
}
