//! Hostile and broken input: arbitrary bytes never panic the parsers (seeded
//! property tests, short enough for CI; the cargo-fuzz targets in fuzz/ run
//! the same entry points for longer), huge lines stay bounded, bad pattern
//! files are errors, a full disk is an error, escaping holds in every format.

use crate::util::{bouncelog, json, testdata};
use bouncelog::analysis::summary::LineStats;
use bouncelog::inspect::check;
use bouncelog::parse::syslog::TimeContext;
use bouncelog::patterns::{builtin_sources, PatternSet, SourceFile};
use proptest::prelude::*;
use std::fs;

fn ps() -> &'static PatternSet {
    static PS: std::sync::OnceLock<PatternSet> = std::sync::OnceLock::new();
    PS.get_or_init(|| PatternSet::load(None).expect("patterns"))
}

/// Lines that look like mail logs, mutated: real prefixes with random tails.
fn loggy() -> impl Strategy<Value = Vec<u8>> {
    let prefixes = prop::sample::select(vec![
        "Mar 10 07:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from ",
        "Mar 10 07:01:45 mx1 postfix/smtp[1]: 3A1B2C4D5E: to=<",
        "2025-03-10 09:14:07 1trZD6-0007Ll-2T ** ",
        "2025-03-10 09:14:07 H=(x) [192.0.2.1] F=<a@b> rejected RCPT <",
        "@40000000419f13a508f3214c delivery 5: failure: ",
        "@40000000419f13a41cea7d1c starting delivery 5: msg 1 to remote ",
        "2025-03-10T07:01:45.123Z,,,,EX01,,,ROUTING,FAIL,1,<q@x>,",
        "{\"__REALTIME_TIMESTAMP\":\"1741590000000000\",\"SYSLOG_IDENTIFIER\":\"postfix/smtpd\",\"MESSAGE\":",
        "<22>1 2025-03-10T08:14:10Z mx1 postfix/smtpd 1 - - ",
        "",
    ]);
    (prefixes, prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(p, tail)| {
        let mut v = p.as_bytes().to_vec();
        v.extend(tail);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, rng_algorithm: prop::test_runner::RngAlgorithm::ChaCha, ..ProptestConfig::default() })]

    #[test]
    fn parsing_arbitrary_lines_never_panics(lines in prop::collection::vec(loggy(), 1..20)) {
        let mut chunk = Vec::new();
        for l in &lines {
            chunk.extend_from_slice(l);
            chunk.push(b'\n');
        }
        let ctx = TimeContext::at(chrono::Local::now());
        let r = bouncelog::parse::parse_chunk(ps(), &ctx, &chunk);
        let s = r.stats;
        prop_assert_eq!(s.total, s.recognised + s.unrecognised + s.other_programs + s.blank);
    }


    #[test]
    fn csv_rows_of_arbitrary_bytes_never_panic(row in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut data = b"#Fields: date-time,source,event-id,recipient-address,recipient-status,directionality\n".to_vec();
        data.extend(row);
        let mut stats = LineStats::default();
        let exchange = ps().mtas.iter().position(|m| m.csv.is_some()).expect("csv mta");
        let _ = bouncelog::parse::csvlog::read(ps(), exchange, data.as_slice(), &mut stats, &mut |_| {});
    }
}

proptest! {
    // Each case compiles every built-in pattern (tens of ms): few cases here, more in fuzz/.
    #![proptest_config(ProptestConfig { cases: 24, rng_algorithm: prop::test_runner::RngAlgorithm::ChaCha, ..ProptestConfig::default() })]

    #[test]
    fn pattern_files_of_arbitrary_text_never_panic(text in "[\\[\\]a-z_=\"'{}().*+?\\\\ \\n0-9<>]{0,200}") {
        let mut sources = builtin_sources();
        sources.push(SourceFile { name: "fuzz.toml".into(), text });
        let _ = check::check(&sources);
    }
}

#[test]
fn gzip_cut_anywhere_is_an_error_not_a_panic() {
    use std::io::Write;
    let data = fs::read(testdata("postfix/mail.log")).expect("read");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&data).expect("gz");
    let gz = e.finish().expect("gz");
    let dir = tempfile::tempdir().expect("tmp");
    for cut in [3, 10, 20, gz.len() / 3, gz.len() - 9, gz.len() - 1] {
        let p = dir.path().join(format!("cut{cut}.gz"));
        fs::write(&p, &gz[..cut]).expect("w");
        let out = bouncelog().arg("analyze").arg(&p).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "cut at {cut}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("cut{cut}.gz")) && err.lines().count() == 1,
            "{err}"
        );
    }
}

#[test]
fn huge_lines_and_no_newline_stay_bounded() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("huge.log");
    let mut data = fs::read(testdata("postfix/mail.log")).expect("read");
    data.extend(std::iter::repeat_n(b'x', 40 << 20)); // a 40 MiB line, no newline at the end
    fs::write(&p, &data).expect("w");
    let out = bouncelog()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        r["totals"]["failures"], 45,
        "the log before the junk still counts"
    );
    assert!(r["lines"]["unrecognised"].as_u64().expect("n") >= 1);
}

#[test]
fn oversized_and_catch_all_user_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("big.toml"), format!("schema = 1\n[[reply]]\nid = \"local.big\"\ncause = \"policy\"\nregex = '{}'\nsamples = [\"a\"]\n", "(a|b|c|d)?".repeat(40_000)))
        .expect("w");
    let (code, text) = crate::util::check_dir(dir.path());
    assert_eq!(code, Some(2));
    assert!(
        text.contains("big.toml") && text.contains("invalid regex"),
        "{text}"
    );
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("all.toml"), "schema = 1\n[[reply]]\nid = \"local.all\"\ncause = \"policy\"\nregex = '.*'\nsamples = [\"anything\"]\n").expect("w");
    let out = bouncelog()
        .args(["patterns", "check"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("matches any text"));
}

#[test]
fn a_full_disk_is_an_error() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: this system has no /dev/full");
        return;
    }
    let full = fs::File::options()
        .write(true)
        .open("/dev/full")
        .expect("open");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("bouncelog"))
        .args(["analyze", "--format", "json"])
        .arg(testdata("postfix/mail.log"))
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("no space"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn escaping_in_every_human_format() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("evil.log");
    fs::write(
        &p,
        "Mar 10 15:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 550 5.1.1 <\x1b]0;pwned\x07@example.com>: Recipient address rejected: User unknown in local recipient table; from=<=HYPERLINK(\"x\")@example.org> to=<\x1b]0;pwned\x07@example.com> proto=ESMTP helo=<\u{202e}moc.elpmaxe>\n",
    )
    .expect("w");
    for format in ["text", "markdown", "csv"] {
        let out = bouncelog()
            .args(["analyze", "--format", format])
            .arg(&p)
            .output()
            .expect("run");
        let text = String::from_utf8(out.stdout).expect("utf8");
        assert!(
            !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'),
            "{format}"
        );
    }
    // suppress lists outbound hard bounces: one whose address carries escapes.
    let bounce = dir.path().join("bounce.log");
    fs::write(
        &bounce,
        "Mar 10 15:00:01 mx1 postfix/smtp[2]: 4AB12C3D4E: to=<\x1b]0;pwned\x07bob@example.com>, relay=mx.example.net[192.0.2.1]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command))\n",
    )
    .expect("w");
    let out = bouncelog()
        .args(["suppress", "--soft-days", "1"])
        .arg(&bounce)
        .output()
        .expect("run");
    let list = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        list.lines().count(),
        2,
        "a header and the bounced address: {list}"
    );
    assert!(list.contains("bob@example.com"), "{list}");
    assert!(!list.contains('\x1b') && !list.contains('\x07'), "{list}");
    let r = json(&[p.to_str().expect("p")]);
    assert_eq!(
        r["groups"][0]["top_senders"][0]["value"], "=HYPERLINK(\"x\")@example.org",
        "JSON stays exact"
    );
}
