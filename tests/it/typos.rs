//! Typo findings at scale: 40,000 delivered addresses of one domain and 400
//! failures one edit away (insertion, deletion, substitution, transposition)
//! give 400 suggestions, the same for any number of threads; strings too far
//! apart give none. The index (`findings::typo`) agrees with a comparison of
//! every pair by the rule it replaced, on random strings (dots, non-ASCII).
//! A memory cap reached is said in a finding.

use crate::util::bouncelog;
use bouncelog::findings::typo::{allowed, Automata, Domains, Locals};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    fn letter(&mut self) -> u8 {
        b'a' + self.below(26) as u8
    }
}

fn line(i: usize, rcpt: &str, sent: bool) -> String {
    let (dsn, status) = if sent {
        ("2.0.0", "sent (250 2.0.0 Ok: queued as X)")
    } else {
        ("5.1.1", "bounced (host mx.big.example[198.51.100.30] said: 550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))")
    };
    format!(
        "Mar 10 {:02}:{:02}:{:02} mx1 postfix/smtp[4540]: {:010X}: to=<{rcpt}>, relay=mx.big.example[198.51.100.30]:25, delay=1, delays=0/0/0.5/0.5, dsn={dsn}, status={status}\n",
        i / 3600 % 24,
        i / 60 % 60,
        i % 60,
        0x1000_0000 + i
    )
}

/// `a` with one edit of kind `kind` (0 insertion, 1 deletion, 2 substitution,
/// 3 transposition of two different adjacent letters).
fn edit(a: &[u8], kind: usize, rng: &mut Rng) -> Vec<u8> {
    let mut v = a.to_vec();
    match kind {
        0 => v.insert(rng.below(a.len() + 1), rng.letter()),
        1 => {
            v.remove(rng.below(a.len()));
        }
        2 => {
            let p = rng.below(a.len());
            let mut c = rng.letter();
            while c == a[p] {
                c = rng.letter();
            }
            v[p] = c;
        }
        _ => {
            let p = (0..a.len() - 1)
                .map(|k| (rng.below(a.len() - 1) + k) % (a.len() - 1))
                .find(|&p| a[p] != a[p + 1])
                .unwrap_or(0);
            v.swap(p, p + 1);
        }
    }
    v
}

/// 40,000 delivered local parts (8 to 12 random letters) and 400 failures,
/// each one edit from the delivered address it should be matched with.
fn big_log() -> (String, BTreeMap<String, String>) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut delivered = BTreeSet::new();
    let mut order = Vec::new();
    while delivered.len() < 40_000 {
        let n = 8 + rng.below(5);
        let l: Vec<u8> = (0..n).map(|_| rng.letter()).collect();
        let l = String::from_utf8(l).expect("ascii");
        if delivered.insert(l.clone()) {
            order.push(l);
        }
    }
    let mut typos = BTreeMap::new();
    let mut i = 0;
    while typos.len() < 400 {
        let src = &order[(i * 97) % order.len()];
        let t = String::from_utf8(edit(src.as_bytes(), typos.len() % 4, &mut rng)).expect("a");
        if !delivered.contains(&t) && !typos.contains_key(&t) {
            typos.insert(t, src.clone());
        }
        i += 1;
    }
    let mut log = String::new();
    for (i, l) in order.iter().enumerate() {
        log += &line(i, &format!("{l}@big.example"), true);
    }
    for (i, t) in typos.keys().enumerate() {
        log += &line(40_000 + i, &format!("{t}@big.example"), false);
    }
    let expect = typos
        .into_iter()
        .map(|(t, s)| (format!("{t}@big.example"), format!("{s}@big.example")))
        .collect();
    (log, expect)
}

fn run(path: &std::path::Path, threads: &str) -> (String, serde_json::Value) {
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--threads", threads])
        .arg(path)
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let v = serde_json::from_str(&text).expect("json");
    (text, v)
}

#[test]
fn every_one_edit_typo_among_forty_thousand_addresses_is_suggested() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    let (log, expect) = big_log();
    fs::write(&p, log).expect("w");
    let (one, r) = run(&p, "1");
    let got: BTreeMap<String, String> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "typo")
        .map(|f| {
            assert_eq!(f["evidence"]["because"], "delivered 1 time", "{f}");
            (
                f["subject"].as_str().expect("s").to_string(),
                f["evidence"]["suggestion"].as_str().expect("s").to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), 400);
    assert_eq!(got, expect);
    assert!(!one.contains("evidence_capped"), "no cap was reached");
    // The same report, byte for byte, with two threads.
    let (two, _) = run(&p, "2");
    assert_eq!(one, two);
}

fn rejections(log: &mut String, rcpts: &[&str], sent: bool) {
    for r in rcpts {
        *log += &line(log.lines().count(), r, sent);
    }
}

#[test]
fn only_near_enough_addresses_are_suggested() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    let mut log = String::new();
    rejections(
        &mut log,
        &[
            "bob@big.example",
            "alexandra@big.example",
            "j.doe@big.example",
        ],
        true,
    );
    rejections(
        &mut log,
        &[
            "bxb@big.example",       // one substitution from bob: suggested
            "bxx@big.example",       // two edits from bob (short): not
            "alexnadar@big.example", // two transpositions from alexandra: suggested
            "xlexnadar@big.example", // three edits: not
            "jdoe@big.example",      // j.doe but for the dot: suggested
            "bob@bgi.example",       // a domain typo of a delivered domain
            "bob@far.example",       // nothing near: not
        ],
        false,
    );
    fs::write(&p, log).expect("w");
    let (_, r) = run(&p, "2");
    let got: BTreeMap<&str, &str> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "typo")
        .map(|f| {
            (
                f["subject"].as_str().expect("s"),
                f["evidence"]["suggestion"].as_str().expect("s"),
            )
        })
        .collect();
    let want: BTreeMap<&str, &str> = [
        ("bxb@big.example", "bob@big.example"),
        ("alexnadar@big.example", "alexandra@big.example"),
        ("jdoe@big.example", "j.doe@big.example"),
        ("bob@bgi.example", "bob@big.example"),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

#[test]
fn a_cap_reached_is_said() {
    // One more distinct delivered recipient than the evidence keeps.
    let n = bouncelog::analysis::summary::COUNTER_CAP + 1;
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    let mut log = String::with_capacity(n * 220);
    for i in 0..n {
        log += &line(i, &format!("u{i}@d{}.example", i % 50), true);
    }
    log += &line(n, "nobody@d1.example", false);
    fs::write(&p, log).expect("w");
    let (_, r) = run(&p, "2");
    let capped: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "evidence_capped")
        .collect();
    assert_eq!(capped.len(), 1, "{}", r["findings"]);
    assert_eq!(capped[0]["evidence"]["delivered_not_kept"], 1);
    assert!(capped[0]["message"]
        .as_str()
        .expect("m")
        .contains("typos next to those are not suggested"));
    // The finding is part of the published report schema.
    let schema_text = fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
    )
    .expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema json");
    let v = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("validator");
    let errors: Vec<String> = v.iter_errors(&r).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The rule the index replaced: every delivered local part of the domain
/// compared with the failed one.
fn pairwise<'a>(local: &str, delivered: &[(&'a str, u64)]) -> Option<(usize, &'a str, u64)> {
    let undotted = |s: &str| s.replace('.', "");
    delivered
        .iter()
        .filter(|(l, _)| *l != local && l.len().abs_diff(local.len()) <= 2)
        .map(|(l, m)| {
            let d = if undotted(l) == undotted(local) {
                0
            } else {
                strsim::osa_distance(local, l)
            };
            (d, *l, *m)
        })
        .filter(|(d, l, _)| *d <= allowed(local.len().min(l.len())))
        .min_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)).then(a.1.cmp(b.1)))
}

/// The same for domains: delivered ones (sorted) first, then well-known ones.
fn pairwise_domain(domain: &str, delivered: &[(&str, u64)], known: &[&str]) -> Option<String> {
    let mut c: Vec<(&str, u64)> = delivered.to_vec();
    c.sort();
    c.into_iter()
        .map(|(d, _)| d)
        .chain(known.iter().copied())
        .map(|d| (strsim::osa_distance(domain, d), d))
        .filter(|(dist, d)| *dist > 0 && *dist <= allowed(domain.len().min(d.len())))
        .min_by_key(|x| x.0)
        .map(|x| x.1.to_string())
}

/// Short strings over a small alphabet (so that near strings are common),
/// with dots and a two-byte letter.
fn word() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop::sample::select(vec!['a', 'b', 'c', '.', 'é']), 0..8)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_index_agrees_with_comparing_every_pair(
        delivered in proptest::collection::btree_map(word(), 1u64..4, 0..40),
        queries in proptest::collection::vec(word(), 1..20),
    ) {
        let items: Vec<(&str, u64)> = delivered.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let ix = Locals::new(items.clone());
        let automata = Automata::default();
        // All queries at once (the neighbourhoods when they are many) and
        // each alone (a walk of the index when the words are many).
        let asked: Vec<&str> = queries.iter().map(String::as_str).collect();
        for (q, near) in queries.iter().zip(ix.candidates(&asked, &automata)) {
            prop_assert_eq!(ix.best(q, near), pairwise(q, &items), "query {:?}", q);
            let alone = ix.candidates(&[q.as_str()], &automata).swap_remove(0);
            prop_assert_eq!(ix.best(q, alone), pairwise(q, &items), "query {:?} alone", q);
        }
        let known = ["abc.a", "bb", "cab"];
        let domains = Domains::new(items.clone(), known.to_vec());
        let guesses: Vec<&str> = queries
            .iter()
            .map(String::as_str)
            .filter(|q| !delivered.contains_key(*q) && !known.contains(q))
            .collect();
        for (q, near) in guesses.iter().zip(domains.candidates(&guesses, &automata)) {
            prop_assert_eq!(
                domains.best(q, near).map(|x| x.0.to_string()),
                pairwise_domain(q, &items, &known),
                "domain {:?}", q
            );
        }
    }
}
