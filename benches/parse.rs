//! Criterion micro-benchmarks of the hot path: parsing a chunk of Postfix
//! lines (syslog envelope, rule set, captures, classification) and
//! classifying reply texts. Input is the test data repeated to 1 MiB, so the
//! benchmark needs no large files. Run: `cargo bench --bench parse`.

use bouncelog::parse::parse_chunk;
use bouncelog::parse::syslog::TimeContext;
use bouncelog::patterns::PatternSet;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn chunk() -> Vec<u8> {
    let one = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/postfix/mail.log"
    ))
    .expect("testdata");
    let mut data = Vec::with_capacity(1 << 20);
    while data.len() < 1 << 20 {
        data.extend_from_slice(&one);
    }
    data
}

fn bench(c: &mut Criterion) {
    let ps = PatternSet::load(None).expect("patterns");
    let ctx = TimeContext::at(chrono::Local::now());
    let data = chunk();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("parse_chunk 1 MiB postfix", |b| {
        b.iter(|| parse_chunk(&ps, &ctx, &data).records.len())
    });
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
