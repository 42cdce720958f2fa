//! Start-up costs, cold: each measurement starts from a fresh load of the
//! embedded pattern sets, so lazily built automata are built (and lazy DFA
//! caches filled) inside the measurement, as in one `bouncelog` run. Plain
//! `Instant` timing, best and median of N runs (criterion's warm loops would
//! measure the warm path instead). Input is the test data repeated to 1 MiB,
//! so it needs no large files. Run: `cargo bench --bench startup`.

use bouncelog::parse::parse_chunk;
use bouncelog::parse::syslog::TimeContext;
use bouncelog::patterns::{builtin_sources, PatternSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

fn chunk(file: &str) -> Vec<u8> {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let one = std::fs::read(path).expect("testdata");
    let mut data = Vec::with_capacity(1 << 20);
    while data.len() < 1 << 20 {
        data.extend_from_slice(&one);
    }
    data
}

/// Best and median of `RUNS` runs of `setup` then `f` (only `f` is timed).
fn time<S, T>(name: &str, mut setup: impl FnMut() -> S, mut f: impl FnMut(S) -> T) {
    let mut v: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let s = setup();
            let t = Instant::now();
            black_box(f(s));
            t.elapsed()
        })
        .collect();
    v.sort();
    println!(
        "{name:<58} best {:>8.2} ms   median {:>8.2} ms",
        v[0].as_secs_f64() * 1e3,
        v[RUNS / 2].as_secs_f64() * 1e3
    );
}

fn main() {
    let sources = builtin_sources();
    let ctx = TimeContext::at(chrono::Local::now());
    time(
        "load, built-ins (regexes compiled on first use)",
        || (),
        |_| PatternSet::load(None).map(|p| p.causes.len()),
    );
    time(
        "load, every regex compiled now (as with --patterns)",
        || (),
        |_| PatternSet::from_sources(&sources).map(|p| p.causes.len()),
    );
    let load = || PatternSet::load(None).expect("patterns");
    time(
        "first reply classification (builds the automata)",
        load,
        |ps| ps.classify_text("550 5.1.1 <a@example.com>: Recipient address rejected"),
    );
    let warm = load();
    let texts: Vec<String> = warm
        .reply
        .rules
        .iter()
        .flat_map(|r| r.samples.iter().cloned())
        .collect();
    let cold = format!("classify {} reply samples, cold", texts.len());
    time(&cold, load, |ps| {
        texts.iter().filter_map(|t| ps.classify_text(t)).count()
    });
    let warm_name = format!("classify {} reply samples, warm", texts.len());
    time(
        &warm_name,
        || (),
        |_| texts.iter().filter_map(|t| warm.classify_text(t)).count(),
    );
    for (name, file) in [
        ("postfix", "postfix/mail.log"),
        ("exim", "exim/mainlog"),
        ("qmail", "qmail/send-multilog"),
    ] {
        let data = chunk(file);
        time(
            &format!("load + parse_chunk 1 MiB {name}, cold"),
            || (),
            |_| {
                let ps = load();
                parse_chunk(&ps, &ctx, &data).records.len()
            },
        );
        time(
            &format!("parse_chunk 1 MiB {name}, warm"),
            || (),
            |_| parse_chunk(&warm, &ctx, &data).records.len(),
        );
    }
}
