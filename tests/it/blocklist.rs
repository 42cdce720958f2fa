//! Harvest findings and `--emit-blocklist`, which a firewall acts on: a
//! client with valid recipients accepted is no harvester, a network finding
//! needs members that are each suspicious, loopback, private and `--trusted`
//! networks are never listed, IPv6 networks are computed on parsed addresses,
//! and every listed address has a comment saying why.

use crate::util::bouncelog;
use std::fs;
use std::path::Path;

fn reject(ts: &str, ip: &str, rcpt: &str, sender: &str, helo: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{helo}>\n"
    )
}

/// A message from `ip` accepted and delivered to `rcpt` (a valid recipient of that client).
fn accepted(ts: &str, qid: &str, ip: &str, rcpt: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtpd[4301]: {qid}: client=mail.partner.example[{ip}]\n\
         Mar 10 {ts} mx1 postfix/qmgr[815]: {qid}: from=<news@partner.example>, size=900, nrcpt=1 (queue active)\n\
         Mar 10 {ts} mx1 postfix/local[4500]: {qid}: to=<{rcpt}>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
    )
}

/// `n` unknown recipients from `ip`, 20 seconds apart from `minute`.
fn probes(minute: u32, ip: &str, tag: &str, n: u32, helo: &str) -> String {
    (0..n)
        .map(|i| {
            reject(
                &format!("07:{:02}:{:02}", minute + i * 20 / 60, i * 20 % 60),
                ip,
                &format!("{tag}{i}@example.com"),
                &format!("{tag}@sender.example"),
                helo,
            )
        })
        .collect()
}

struct Run {
    report: serde_json::Value,
    blocklist: String,
}

fn run(dir: &Path, log: &str, extra: &[&str]) -> Run {
    let p = dir.join("mail.log");
    fs::write(&p, log).expect("w");
    let bl = dir.join("block.txt");
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--emit-blocklist"])
        .arg(&bl)
        .args(extra)
        .arg(&p)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        report: serde_json::from_slice(&out.stdout).expect("json"),
        blocklist: fs::read_to_string(&bl).expect("blocklist"),
    }
}

fn harvest_subjects(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "harvest")
        .map(|f| f["subject"].as_str().expect("s").to_string())
        .collect()
}

fn listed(blocklist: &str) -> Vec<String> {
    blocklist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn a_partner_with_valid_recipients_is_no_harvester() {
    let dir = tempfile::tempdir().expect("tmp");
    // 12 stale addresses within 4 minutes, but 11 valid recipients accepted from it.
    let mut log = probes(10, "198.51.100.30", "old", 12, "mail.partner.example");
    for i in 0..11 {
        log += &accepted(
            &format!("08:00:{:02}", i),
            &format!("A{i:02}0000001"),
            "198.51.100.30",
            &format!("staff{i}@example.com"),
        );
    }
    // A real harvester beside it.
    log += &probes(30, "203.0.113.45", "guess", 15, "pc-45");
    let r = run(dir.path(), &log, &[]);
    assert_eq!(
        harvest_subjects(&r.report),
        vec!["203.0.113.45"],
        "{}",
        r.report["findings"]
    );
    assert_eq!(listed(&r.blocklist), vec!["203.0.113.45"]);
}

#[test]
fn a_network_finding_needs_each_member_suspicious() {
    let dir = tempfile::tempdir().expect("tmp");
    // Three unrelated servers of one /24: 4 unknown recipients each (12 in the window
    // together), each with many valid recipients accepted.
    let mut log = String::new();
    for (k, ip) in ["192.0.2.10", "192.0.2.20", "192.0.2.30"]
        .iter()
        .enumerate()
    {
        log += &probes(
            10 + k as u32,
            ip,
            &format!("s{k}x"),
            4,
            &format!("mx{k}.example"),
        );
        for i in 0..6 {
            log += &accepted(
                &format!("08:0{k}:{:02}", i),
                &format!("B{k}{i}0000001"),
                ip,
                &format!("user{k}{i}@example.com"),
            );
        }
    }
    let r = run(dir.path(), &log, &[]);
    assert!(
        harvest_subjects(&r.report).is_empty(),
        "{}",
        r.report["findings"]
    );
    assert!(listed(&r.blocklist).is_empty(), "{}", r.blocklist);
    // The same three without valid recipients are each suspicious: one network finding.
    let mut log = String::new();
    for (k, ip) in ["192.0.2.10", "192.0.2.20", "192.0.2.30"]
        .iter()
        .enumerate()
    {
        log += &probes(
            10 + k as u32,
            ip,
            &format!("s{k}x"),
            4,
            &format!("mx{k}.example"),
        );
    }
    let r = run(dir.path(), &log, &[]);
    assert_eq!(harvest_subjects(&r.report), vec!["192.0.2.0/24"]);
    assert_eq!(listed(&r.blocklist).len(), 3);
}

#[test]
fn loopback_private_and_trusted_networks_are_never_listed() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = String::new();
    for (k, ip) in [
        "127.0.0.1",
        "10.1.2.3",
        "fd00::25",
        "198.51.100.77",
        "203.0.113.45",
    ]
    .iter()
    .enumerate()
    {
        log += &probes(k as u32 * 6, ip, &format!("h{k}x"), 15, "pc");
    }
    let r = run(
        dir.path(),
        &log,
        &["--trusted", "198.51.100.0/24 [2001:db8::]/32, 192.0.2.1"],
    );
    // Every one of them harvested: the findings say so ...
    assert_eq!(
        harvest_subjects(&r.report).len(),
        5,
        "{}",
        r.report["findings"]
    );
    // ... but only the stranger goes to the firewall.
    assert_eq!(
        listed(&r.blocklist),
        vec!["203.0.113.45"],
        "{}",
        r.blocklist
    );
    // Without --trusted, the public one is listed too; private ones never are.
    let r = run(dir.path(), &log, &[]);
    assert_eq!(listed(&r.blocklist), vec!["198.51.100.77", "203.0.113.45"]);
    // A bad network is an error, not an empty trust list.
    let out = bouncelog()
        .args(["analyze", "--trusted", "hash:/etc/postfix/network_table"])
        .arg(dir.path().join("mail.log"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--trusted") && err.contains("hash:/etc/postfix/network_table"),
        "{err}"
    );
}

#[test]
fn ipv6_networks_are_computed_on_parsed_addresses() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = probes(10, "2001:db8::25", "a", 6, "v6a");
    log += &probes(12, "2001:db8:0:0:ffff::26", "b", 6, "v6b");
    let r = run(dir.path(), &log, &[]);
    assert_eq!(
        harvest_subjects(&r.report),
        vec!["2001:db8::/64"],
        "{}",
        r.report["findings"]
    );
    assert_eq!(
        listed(&r.blocklist),
        vec!["2001:db8::25", "2001:db8::ffff:0:0:26"]
    );
}

#[test]
fn every_listed_address_says_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = run(
        dir.path(),
        &probes(10, "203.0.113.45", "guess", 15, "pc-45"),
        &[],
    );
    let lines: Vec<&str> = r.blocklist.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "203.0.113.45")
        .expect("listed");
    assert!(at > 0, "{}", r.blocklist);
    let why = lines[at - 1];
    assert!(
        why.starts_with("# 203.0.113.45: ") && why.contains("15 distinct unknown recipients"),
        "{why}"
    );
    for l in &lines {
        assert!(
            l.starts_with('#') || l.parse::<std::net::IpAddr>().is_ok(),
            "{l}"
        );
    }
}
