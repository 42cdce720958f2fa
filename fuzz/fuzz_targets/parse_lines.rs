//! Any bytes as a chunk of log lines (every MTA's rules, journald JSON, CSV-less).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static PS: OnceLock<bouncelog::patterns::PatternSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let ps = PS.get_or_init(|| bouncelog::patterns::PatternSet::load(None).expect("patterns"));
    let ctx = bouncelog::parse::syslog::TimeContext::at(chrono::Local::now());
    let r = bouncelog::parse::parse_chunk(ps, &ctx, data);
    let mut corr = bouncelog::analysis::correlate::Correlator::with_cap(64);
    let mut summary = bouncelog::analysis::summary::Summary::default();
    for mut rec in r.records {
        corr.feed(ps, "fuzz", &mut rec, &mut summary, &mut |_| {});
    }
});
