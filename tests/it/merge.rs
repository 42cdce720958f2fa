//! `merge` safety: a report given twice (or a copy of it) is skipped with a
//! warning instead of doubling every count; reports of the same log for other
//! windows still merge; `-` reads a report from stdin. `--redact` leaves no
//! local part in reports, also where servers quote it without a domain.

use crate::util::{bouncelog, testdata};
use std::fs;
use std::path::{Path, PathBuf};

fn report(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let out = bouncelog()
        .args(["analyze", "--format", "json", "-o"])
        .arg(&p)
        .args(args)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p
}

fn merged(args: &[&Path], stdin: Option<&Path>) -> (serde_json::Value, String, Option<i32>) {
    let mut cmd = bouncelog();
    cmd.args(["merge", "--format", "json"]).args(args);
    if let Some(p) = stdin {
        cmd.pipe_stdin(p).expect("stdin");
    }
    let out = cmd.output().expect("run");
    (
        serde_json::from_slice(&out.stdout).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn log() -> String {
    testdata("postfix/mail.log")
        .to_str()
        .expect("p")
        .to_string()
}

#[test]
fn the_same_report_twice_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = report(dir.path(), "a.json", &[&log()]);
    let copy = dir.path().join("copy-of-a.json");
    fs::copy(&a, &copy).expect("copy");
    for twice in [
        vec![a.as_path(), a.as_path()],
        vec![a.as_path(), copy.as_path()],
    ] {
        let (r, err, code) = merged(&twice, None);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(r["totals"]["failures"], 45, "counted once");
        assert!(err.contains("warning") && err.contains("skipped"), "{err}");
        assert!(err.contains(twice[1].to_str().expect("p")), "{err}");
    }
    // Every input carries its fingerprint.
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&a).expect("r")).expect("json");
    assert_eq!(
        v["inputs"][0]["fingerprint"].as_str().map(str::len),
        Some(32)
    );
}

#[test]
fn the_same_log_for_other_windows_still_merges() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::write(
        &p,
        "2026-03-09T12:00:00+00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[198.51.100.7]: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table; from=<s@example.org> to=<a@example.com> proto=ESMTP helo=<x>\n\
         2026-03-10T12:00:00+00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[198.51.100.7]: 550 5.1.1 <b@example.com>: Recipient address rejected: User unknown in local recipient table; from=<s@example.org> to=<b@example.com> proto=ESMTP helo=<x>\n",
    )
    .expect("w");
    let p = p.to_str().expect("p");
    let d9 = report(dir.path(), "9.json", &["--day", "2026-03-09", p]);
    let d10 = report(dir.path(), "10.json", &["--day", "2026-03-10", p]);
    let (r, err, code) = merged(&[&d9, &d10], None);
    assert_eq!(code, Some(0));
    assert_eq!(r["totals"]["failures"], 2);
    assert!(!err.contains("skipped"), "{err}");
}

#[test]
fn merge_reads_a_report_from_stdin() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = report(dir.path(), "a.json", &[&log()]);
    let b = report(
        dir.path(),
        "b.json",
        &[testdata("exim/mainlog").to_str().expect("p")],
    );
    let (alone, _, _) = merged(&[&a], None);
    let (r, err, code) = merged(&[Path::new("-")], Some(&a));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(r["totals"], alone["totals"]);
    let (both, err, code) = merged(&[Path::new("-"), &b], Some(&a));
    assert_eq!(code, Some(0), "{err}");
    let (expected, _, _) = merged(&[&a, &b], None);
    assert_eq!(both["totals"], expected["totals"]);
    // Not JSON on stdin: one plain line.
    let junk = dir.path().join("junk");
    fs::write(&junk, "hello").expect("w");
    let (_, err, code) = merged(&[Path::new("-")], Some(&junk));
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("bouncelog: -: not a JSON report"), "{err}");
}

#[test]
fn redact_hides_local_parts_quoted_without_a_domain() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::write(
        &p,
        "2026-03-10T07:01:45+00:00 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from mail.example.org[198.51.100.7]: 504 5.5.2 <johnsmith>: Recipient address rejected: need fully-qualified address; from=<alice@example.org> to=<johnsmith> proto=ESMTP helo=<mail.example.org>\n\
         2026-03-10T07:02:00+00:00 mx1 postfix/smtp[4540]: 1A2B3C4D5E: to=<ghostwriter@remote.example>, relay=mx.remote.example[198.51.100.30]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.remote.example[198.51.100.30] said: 550 5.1.1 unknown user: \"ghostwriter\" (in reply to RCPT TO command))\n",
    )
    .expect("w");
    let p = p.to_str().expect("p");
    for format in ["ndjson", "json", "text", "csv"] {
        let out = bouncelog()
            .args(["analyze", "--redact", "--format", format, p])
            .output()
            .expect("run");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("remote.example"), "{format}: {text}");
        for secret in ["johnsmith", "ghostwriter", "alice@"] {
            assert!(!text.contains(secret), "{format}: {secret} leaked: {text}");
        }
    }
    let r = crate::util::json(&["--redact", p]);
    assert_eq!(r["totals"]["failures"], 2, "both lines are failures");
}

#[test]
fn findings_of_merged_counts_appear_in_the_merge() {
    // Four deliveries refused by blocklists, two in each half: neither half reaches
    // the threshold of three, the whole does, and so must the merge.
    let bounce = |i: u32| {
        format!(
        "2026-03-10T1{i}:00:00+00:00 mx1 postfix/smtp[4560]: 9A8B7C6D{i}E: to=<buyer{i}@far{i}.example>, relay=mx.far{i}.example[198.51.100.5{i}]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx.far{i}.example[198.51.100.5{i}] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org (in reply to RCPT TO command))\n"
    )
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b, whole) = (
        dir.path().join("a.log"),
        dir.path().join("b.log"),
        dir.path().join("w.log"),
    );
    fs::write(&a, format!("{}{}", bounce(1), bounce(2))).expect("w");
    fs::write(&b, format!("{}{}", bounce(3), bounce(4))).expect("w");
    fs::write(
        &whole,
        format!("{}{}{}{}", bounce(1), bounce(2), bounce(3), bounce(4)),
    )
    .expect("w");
    let kinds = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .expect("f")
            .iter()
            .map(|f| f["kind"].as_str().expect("k").to_string())
            .collect()
    };
    let w = crate::util::json(&[whole.to_str().expect("p")]);
    assert_eq!(kinds(&w), vec!["blocklisted"], "{}", w["findings"]);
    let ja = report(dir.path(), "a.json", &[a.to_str().expect("p")]);
    let jb = report(dir.path(), "b.json", &[b.to_str().expect("p")]);
    let part: serde_json::Value = serde_json::from_slice(&fs::read(&ja).expect("r")).expect("json");
    assert!(kinds(&part).is_empty());
    let (m, err, code) = merged(&[&ja, &jb], None);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(m["findings"], w["findings"]);
}
