//! `bouncelog explain`: what a reply or a log line means, for each text given
//! (or each line of standard input).

use super::patterns::load;
use crate::config::ExplainConfig;
use crate::error::{Error, Status};
use crate::inspect::explain;
use std::io::{self, BufRead, Write};

/// Runs `explain`; the status is `Crossed` when a text matched no cause.
pub fn run(cfg: &ExplainConfig) -> Result<Status, Error> {
    let ps = load(cfg.patterns.as_deref())?;
    let texts: Vec<String> = if cfg.texts.is_empty() {
        io::stdin()
            .lock()
            .lines()
            .collect::<io::Result<Vec<_>>>()?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        cfg.texts.clone()
    };
    let mut out = io::stdout().lock();
    let mut unknown = false;
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let x = explain::explain_in(&ps, t, cfg.host.as_deref(), cfg.direction);
        unknown |= x.cause.is_none() && x.not_a_failure.is_none();
        write!(out, "{}", explain::render(&ps, t, &x))?;
    }
    Ok(if unknown {
        Status::Crossed
    } else {
        Status::Clean
    })
}
