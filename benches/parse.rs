//! Criterion micro-benchmarks of the hot path: parsing a chunk of Postfix,
//! Exim and qmail lines (syslog envelope or the MTA's own prefix, rule set,
//! captures, classification) and classifying reply texts. Input is the test
//! data repeated to 1 MiB, so the benchmark needs no large files; and the
//! typo search's two exact ways for one query (a walk of an fst, a scan of
//! every word), by lexicon size, which sets `single::SCAN_PAIRS`. Run:
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

/// Local parts shaped like a big domain's delivered ones: first names, some
/// with a last name or digits (deterministic).
fn local_parts(n: usize, seed: u64) -> Vec<String> {
    const NAMES: [&str; 16] = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
        "mallory", "oscar", "peggy", "trent", "victor", "walter",
    ];
    let mut x = seed;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|_| {
            let (a, b) = (NAMES[next() % 16], NAMES[next() % 16]);
            match next() % 3 {
                0 => format!("{a}{}", next() % 1000),
                1 => format!("{a}.{b}"),
                _ => format!("{a}{b}{}", next() % 100),
            }
        })
        .collect()
}

fn bench_near(c: &mut Criterion) {
    use bouncelog::findings::single;
    let mut g = c.benchmark_group("near");
    let queries = local_parts(32, 7);
    for n in [256usize, 1024, 4096, 16384] {
        let mut words = local_parts(n, 1);
        words.sort();
        words.dedup();
        let bytes: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        let build = || fst::raw::Fst::from_iter_set(bytes.iter().copied()).expect("sorted");
        let set = build();
        g.bench_function(format!("fst build, {n} words"), |b| {
            b.iter(|| build().len())
        });
        g.bench_function(format!("walk, {n} words, 32 queries"), |b| {
            b.iter(|| {
                queries
                    .iter()
                    .map(|q| single::walk(&set, q.as_bytes(), 2, usize::MAX).map_or(0, |v| v.len()))
                    .sum::<usize>()
            })
        });
        g.bench_function(format!("scan, {n} words, 32 queries"), |b| {
            b.iter(|| {
                queries
                    .iter()
                    .map(|q| single::scan(&bytes, q.as_bytes(), 2).len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_near);
criterion_main!(benches);
