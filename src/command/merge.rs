//! `bouncelog merge`: reads JSON reports, skips those that repeat another's
//! inputs and window, merges the rest and reports them like `analyze`.

use super::{finish, patterns::load, thresholds};
use crate::config::MergeConfig;
use crate::error::{Error, Messages, Status};
use crate::output::Sink;
use crate::report::merge;

/// Runs `merge`.
pub fn run(cfg: &MergeConfig) -> Result<Status, Error> {
    let ps = load(cfg.report.patterns.as_deref())?;
    let thresholds = thresholds(&cfg.report, &ps)?;
    let mut msgs = Messages::default();
    let mut parts = Vec::new();
    let mut names = Vec::new();
    for p in &cfg.reports {
        match merge::read(p) {
            Ok(s) => {
                parts.push(s);
                names.push(p.display().to_string());
            }
            Err(e) => msgs.error(&format!("{}: {e}", p.display())),
        }
    }
    let parts = merge::without_duplicates(parts, &mut |later, first| {
        msgs.warning(&format!(
            "{}: same inputs and window as {}; skipped (merging it would count everything twice)",
            names[later], names[first]
        ));
    });
    let mut merged = merge::merge_all(parts);
    merged.findings = merge::findings(&merged, &ps);
    let sink = Sink::open(cfg.report.output.as_deref())?;
    finish(
        sink,
        &merged,
        &ps,
        &cfg.report,
        &thresholds,
        &mut msgs,
        false,
        None,
    )
}
