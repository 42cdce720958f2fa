//! The labelled reply corpus (`testdata/replies/*.tsv`): every entry is
//! classified as the analyser classifies a failure's text, and its cause and
//! severity must be the labelled ones. Prints the accuracy per file.

use bouncelog::event::Direction;
use bouncelog::patterns::{PatternSet, Reply};
use std::collections::BTreeMap;
use std::path::PathBuf;

struct Entry {
    file: String,
    line: usize,
    text: String,
    cause: String,
    severity: String,
    host: Option<String>,
    ambiguous: bool,
}

fn corpus() -> Vec<Entry> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/replies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/replies")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&f).expect("read corpus file");
        let mut header = true;
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            if header {
                header = false;
                assert!(l.starts_with("text\tcause\tseverity"), "{name}: header");
                continue;
            }
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(
                (5..=6).contains(&cols.len()),
                "{name}:{}: {} columns",
                i + 1,
                cols.len()
            );
            assert!(!cols[4].trim().is_empty(), "{name}:{}: no source", i + 1);
            out.push(Entry {
                file: name.clone(),
                line: i + 1,
                text: cols[0].to_string(),
                cause: cols[1].to_string(),
                severity: cols[2].to_string(),
                host: (cols[3] != "-" && !cols[3].is_empty()).then(|| cols[3].to_string()),
                ambiguous: cols.get(5).is_some_and(|n| n.starts_with("ambiguous")),
            });
        }
    }
    out
}

/// Severity of a reply as the analyser gives it when the line says nothing
/// more: the reply code's class, else the enhanced code's.
fn severity(code: Option<&str>, dsn: Option<&str>) -> Option<&'static str> {
    match code.or(dsn)?.as_bytes().first()? {
        b'5' => Some("hard"),
        b'4' => Some("soft"),
        _ => None,
    }
}

#[test]
fn every_corpus_entry_gets_its_labelled_cause_and_severity() {
    let ps = PatternSet::load(None).expect("load");
    let entries = corpus();
    assert!(entries.len() >= 800, "only {} entries", entries.len());
    let mut per_file: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for e in &entries {
        assert!(
            ps.cause_id(&e.cause).is_some(),
            "{}:{}: unknown cause {}",
            e.file,
            e.line,
            e.cause
        );
        // Exim's own ACL log texts ("rejected RCPT <a>: …") are our
        // inbound refusals; every other entry is a reply to our delivery.
        let inbound = ["rejected ", "temporarily rejected ", "sender verify fail"]
            .iter()
            .any(|p| e.text.starts_with(p));
        let direction = if inbound {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let v = ps.classify(&Reply {
            text: &e.text,
            host: e.host.as_deref(),
            direction: Some(direction),
            dsn: None,
        });
        let cause = v
            .rule
            .map(|r| ps.causes[ps.reply.rules[r].cause].id.as_str())
            .unwrap_or("other");
        let sev = severity(v.code.as_deref(), v.dsn.as_deref());
        // The severity of an expiry is the event's (an expired message is
        // returned, a 4.4.7 in a deferral is retried): not compared here.
        let ok = cause == e.cause && (cause == "expired" || sev.is_none_or(|s| s == e.severity));
        let slot = per_file.entry(&e.file).or_default();
        if e.ambiguous {
            slot.2 += 1;
            continue;
        }
        slot.0 += 1;
        if ok {
            slot.1 += 1;
        } else {
            wrong.push(format!(
                "{}:{}: want {} {}, got {} {} (rule {}): {}",
                e.file,
                e.line,
                e.cause,
                e.severity,
                cause,
                sev.unwrap_or("-"),
                v.rule.map_or("-", |r| ps.reply.rules[r].id.as_str()),
                e.text
            ));
        }
    }
    println!("| source file | entries | correct | accuracy | ambiguous (not counted) |");
    println!("|---|---:|---:|---:|---:|");
    for (f, (n, ok, amb)) in &per_file {
        println!(
            "| {f} | {n} | {ok} | {:.1} % | {amb} |",
            100.0 * *ok as f64 / (*n).max(1) as f64
        );
    }
    for w in &wrong {
        println!("{w}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {} entries misclassified",
        wrong.len(),
        entries.len()
    );
}
