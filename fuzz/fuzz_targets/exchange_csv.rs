//! Any bytes as an Exchange message tracking log.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static PS: OnceLock<bouncelog::patterns::PatternSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let ps = PS.get_or_init(|| bouncelog::patterns::PatternSet::load(None).expect("patterns"));
    let Some(mta) = ps.mtas.iter().position(|m| m.csv.is_some()) else { return };
    let mut stats = bouncelog::analysis::summary::LineStats::default();
    let _ = bouncelog::parse::csvlog::read(ps, mta, data, &mut stats, &mut |_| {});
});
