//! Criterion micro-benchmarks of the hot path: parsing a chunk of Postfix,
//! Exim and qmail lines (syslog envelope or the MTA's own prefix, rule set,
//! captures, classification) and classifying reply texts. Input is the test
//! data repeated to 1 MiB, so the benchmark needs no large files. Run:
//! `cargo bench --bench parse`.

use bouncelog::parse::parse_chunk;
use bouncelog::parse::syslog::TimeContext;
use bouncelog::patterns::PatternSet;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn chunk(file: &str) -> Vec<u8> {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let one = std::fs::read(path).expect("testdata");
    let mut data = Vec::with_capacity(1 << 20);
    while data.len() < 1 << 20 {
        data.extend_from_slice(&one);
    }
    data
}

fn bench(c: &mut Criterion) {
    let ps = PatternSet::load(None).expect("patterns");
    let ctx = TimeContext::at(chrono::Local::now());
    let mut g = c.benchmark_group("parse");
    for (name, file) in [
        ("postfix", "postfix/mail.log"),
        ("exim", "exim/mainlog"),
        ("qmail", "qmail/send-multilog"),
    ] {
        let data = chunk(file);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("parse_chunk 1 MiB {name}"), |b| {
            b.iter(|| parse_chunk(&ps, &ctx, &data).records.len())
        });
    }
    g.finish();
    let texts: Vec<&str> = ps
        .reply
        .rules
        .iter()
        .flat_map(|r| r.samples.iter().map(String::as_str))
        .collect();
    c.bench_function("classify_text (all reply samples)", |b| {
        b.iter(|| texts.iter().filter_map(|t| ps.classify_text(t)).count())
    });
    c.bench_function("pattern set load (embedded)", |b| {
        b.iter(|| PatternSet::load(None).map(|p| p.reply.rules.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
