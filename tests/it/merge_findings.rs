//! Merged reports and one run are one computation, findings included: the
//! halves of a log analysed apart and merged give the findings of the whole
//! log, also those whose evidence is split between the halves (a typo whose
//! delivered neighbour is in the other half, a harvest run across the cut, a
//! domain delivered in one half and failing in the other).

use crate::util::bouncelog;
use std::fs;
use std::path::{Path, PathBuf};

/// The first half: deliveries (local, and to a remote domain) and the start
/// of a harvest run.
fn first_half() -> String {
    let mut s = String::new();
    s.push_str("Mar 10 07:01:46 mx1 postfix/smtpd[4242]: 5C0A21C0011: client=mail.example.org[198.51.100.7]\n");
    s.push_str("Mar 10 07:01:46 mx1 postfix/local[4251]: 5C0A21C0011: to=<john.smith@example.com>, relay=local, delay=0.12, delays=0.08/0.01/0/0.03, dsn=2.0.0, status=sent (delivered to mailbox)\n");
    for (i, who) in ["ann", "bob", "cyd"].iter().enumerate() {
        s.push_str(&format!("Mar 10 07:0{i}:10 mx1 postfix/smtp[4540]: 3A1B2C4D{i}E: to=<{who}@far.example>, relay=mx.far.example[192.0.2.101]:25, delay=1.9, delays=0.05/0/1.1/0.71, dsn=2.0.0, status=sent (250 2.0.0 OK)\n"));
    }
    for i in 0..6 {
        s.push_str(&format!("Mar 10 07:10:0{i} mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[203.0.113.45]: 550 5.1.1 <guess{i}@example.com>: Recipient address rejected: User unknown in local recipient table; from=<x7q@spam.example> to=<guess{i}@example.com> proto=ESMTP helo=<pc-45>\n"));
    }
    s
}

/// The second half: the rest of the harvest run, a typo of a recipient
/// delivered in the first half, and unknown users at the remote domain.
fn second_half() -> String {
    let mut s = String::new();
    for i in 6..12 {
        s.push_str(&format!("Mar 10 07:12:{i:02} mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[203.0.113.45]: 550 5.1.1 <guess{i}@example.com>: Recipient address rejected: User unknown in local recipient table; from=<x7q@spam.example> to=<guess{i}@example.com> proto=ESMTP helo=<pc-45>\n"));
    }
    s.push_str("Mar 10 08:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from mail.example.org[198.51.100.7]: 550 5.1.1 <jonh.smith@example.com>: Recipient address rejected: User unknown in local recipient table; from=<alice@example.org> to=<jonh.smith@example.com> proto=ESMTP helo=<mail.example.org>\n");
    for (i, who) in ["dee", "eve", "fay"].iter().enumerate() {
        s.push_str(&format!("Mar 10 09:0{i}:06 mx1 postfix/smtp[4543]: 4B1B2C4D{i}E: to=<{who}@far.example>, relay=mx.far.example[192.0.2.101]:25, delay=4, delays=0.05/0/3.5/0.45, dsn=5.1.1, status=bounced (host mx.far.example[192.0.2.101] said: 550 5.1.1 <{who}@far.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))\n"));
    }
    s
}

fn analyze(dir: &Path, name: &str, log: &str) -> PathBuf {
    let input = dir.join(format!("{name}.log"));
    fs::write(&input, log).expect("write");
    let out = dir.join(format!("{name}.json"));
    let run = bouncelog()
        .args(["analyze", "--format", "json", "-o"])
        .arg(&out)
        .arg(&input)
        .output()
        .expect("run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

fn read(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(p).expect("read")).expect("json")
}

fn kinds(r: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind").to_string())
        .collect();
    k.sort();
    k
}

#[test]
fn merged_halves_have_the_findings_of_the_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b) = (first_half(), second_half());
    let whole = read(&analyze(dir.path(), "whole", &format!("{a}{b}")));
    assert_eq!(
        kinds(&whole),
        vec!["domain_failure", "harvest", "typo"],
        "{}",
        whole["findings"]
    );
    let ja = analyze(dir.path(), "a", &a);
    let jb = analyze(dir.path(), "b", &b);
    for part in [&ja, &jb] {
        assert!(kinds(&read(part)).is_empty(), "a half alone has no finding");
    }
    let out = bouncelog()
        .args(["merge", "--format", "json"])
        .arg(&ja)
        .arg(&jb)
        .output()
        .expect("merge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(merged["findings"], whole["findings"]);
    assert_eq!(
        merged["evidence"], whole["evidence"],
        "the evidence merges too"
    );
    // The merged report merges again like any other.
    let jm = dir.path().join("m.json");
    fs::write(&jm, &out.stdout).expect("write");
    let again = bouncelog()
        .args(["merge", "--format", "json"])
        .arg(&jm)
        .output()
        .expect("merge");
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(again["findings"], whole["findings"]);
}
