//! The progress bar: drawn on standard error when it is a terminal (never in
//! cron, never on stdout), and only once a run has taken more than a second.

use crate::analysis::pipeline::Progress;
use crate::source::Input;
use std::sync::Arc;

/// An indicatif bar behind the pipeline's [`Progress`].
#[derive(Debug)]
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    /// Clears the bar at the end of a run.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn input(&self, name: &str) {
        self.0.set_message(name.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// A bar over the inputs' total size, or `None` when stderr is no terminal.
pub fn bar(inputs: &[Input]) -> Option<Arc<Bar>> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter_map(Input::file)
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::hidden(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{elapsed} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style);
    let shown = pb.clone();
    // Show it after a second; fast runs never draw anything.
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if !shown.is_finished() {
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    });
    Some(Arc::new(Bar(pb)))
}
