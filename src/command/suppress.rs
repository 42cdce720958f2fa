//! `bouncelog suppress`: the recipients that hard-bounced (or failed softly
//! on many days), for a list manager, written atomically.

use super::patterns::load;
use crate::analysis::pipeline::Problem;
use crate::config::SuppressConfig;
use crate::error::{Error, Messages, Status};
use crate::output::Sink;

/// Runs `suppress`.
pub fn run(cfg: &SuppressConfig) -> Result<Status, Error> {
    let ps = load(cfg.patterns.as_deref())?;
    let mut msgs = Messages::default();
    let list = crate::actions::suppress::collect(&ps, &cfg.inputs, cfg.soft_days, &mut |p| {
        if let Problem::Error(m) = &p {
            msgs.error(m);
        }
    });
    let mut sink = Sink::open(cfg.output.as_deref())?;
    crate::actions::suppress::write(sink.writer(), &list, cfg.json)?;
    sink.finish()?;
    Ok(if msgs.errored() {
        Status::Failed
    } else {
        Status::Clean
    })
}
