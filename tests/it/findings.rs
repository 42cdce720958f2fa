//! Findings: typos, harvest runs (one client, a network, rotating clients),
//! domain-wide failures and our IP on a blocklist appear with their evidence
//! on logs that contain them, and not on logs that do not; `explain` and
//! `suppress`; unrecognised failure texts and rule stubs.

use crate::util::{bouncelog, json, testdata};
use std::fs;

fn findings(r: &serde_json::Value, kind: &str) -> Vec<serde_json::Value> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == kind)
        .cloned()
        .collect()
}

fn reject(ts: &str, ip: &str, rcpt: &str, sender: &str, helo: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{helo}>\n"
    )
}

fn delivery(ts: &str, qid: &str, rcpt: &str, status: &str, text: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtp[4540]: {qid}: to=<{rcpt}>, relay=mx.partner.example[198.51.100.30]:25, delay=1, delays=0/0/0.5/0.5, dsn={}, status={status} ({text})\n",
        if status == "sent" { "2.0.0" } else { "5.1.1" }
    )
}

/// A log with a harvest run, a rotating-IP harvest, a domain that moved, and a typo.
fn eventful() -> String {
    let mut log = String::new();
    for i in 0..15 {
        log += &reject(
            &format!("07:10:{:02}", i * 3),
            "203.0.113.45",
            &format!("user{i}@example.com"),
            "x7q@spam.example",
            "pc-45",
        );
    }
    for i in 0..12 {
        let ip = format!("198.51.100.{}", 100 + i % 3);
        log += &reject(
            &format!("08:2{}:{:02}", i / 6, i * 4 % 60),
            &ip,
            &format!("guess{i}@example.com"),
            "bulk@botnet.example",
            &format!("h{i}"),
        );
    }
    for (i, u) in ["anna", "bert", "carl"].iter().enumerate() {
        log += &delivery(
            &format!("09:0{i}:00"),
            &format!("A{i}0000001"),
            &format!("{u}@partner.example"),
            "sent",
            "250 2.0.0 Ok: queued as X",
        );
    }
    for (i, u) in ["anna", "bert", "carl", "dora", "emil"].iter().enumerate() {
        log += &delivery(&format!("12:0{i}:00"), &format!("B{i}0000001"), &format!("{u}@partner.example"), "bounced", "host mx.partner.example[198.51.100.30] said: 550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)");
    }
    log += &delivery(
        "13:00:00",
        "C000000001",
        "jane.doe@partner.example",
        "sent",
        "250 ok",
    );
    log += &delivery("13:01:00", "C000000002", "jnae.doe@partner.example", "bounced", "host mx.partner.example[198.51.100.30] said: 550 5.1.1 User unknown (in reply to RCPT TO command)");
    log
}

#[test]
fn each_finding_appears_with_its_evidence() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::write(&p, eventful()).expect("w");
    let bl = dir.path().join("block.txt");
    let out = bouncelog()
        .args(["analyze", "--format", "json", "--emit-blocklist"])
        .arg(&bl)
        .arg(&p)
        .output()
        .expect("run");
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");

    let h = findings(&r, "harvest");
    let one = h
        .iter()
        .find(|f| f["subject"] == "203.0.113.45")
        .expect("single client");
    assert_eq!(one["evidence"]["distinct_in_window"], 15);
    assert_eq!(one["evidence"]["valid"], 0);
    assert!(one["hints"].to_string().contains("smtpd_hard_error_limit"));
    let rotating = h
        .iter()
        .find(|f| f["subject"] == "bulk@botnet.example")
        .expect("rotating clients");
    assert_eq!(rotating["evidence"]["distinct_tried"], 12);
    assert_eq!(
        rotating["evidence"]["clients"].as_array().expect("c").len(),
        3
    );
    let ips = fs::read_to_string(&bl).expect("blocklist");
    assert!(ips.lines().any(|l| l == "203.0.113.45"));
    assert!(
        ips.lines()
            .all(|l| l.starts_with("# ") || l.parse::<std::net::IpAddr>().is_ok()),
        "{ips}"
    );

    let d = findings(&r, "domain_failure");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["subject"], "partner.example");
    assert_eq!(d[0]["evidence"]["distinct_unknown"], 6);
    assert_eq!(d[0]["evidence"]["delivered_before"], 3);
    assert!(d[0]["hints"]
        .to_string()
        .contains("dig MX partner.example +short"));

    let t = findings(&r, "typo");
    let typo = t
        .iter()
        .find(|f| f["subject"] == "jnae.doe@partner.example")
        .expect("typo");
    assert_eq!(typo["evidence"]["suggestion"], "jane.doe@partner.example");
    // Text report shows them ahead of the tables.
    let text = String::from_utf8(
        bouncelog()
            .args(["analyze"])
            .arg(&p)
            .output()
            .expect("run")
            .stdout,
    )
    .expect("utf8");
    let f = text.find("Findings:").expect("findings section");
    assert!(f < text.find("| Cause").expect("table"));
    // Wrapped at spaces only: joined again, the sentence is whole.
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(joined.contains("did you mean jane.doe@partner.example (delivered 1 time)?"));
}

#[test]
fn no_findings_without_evidence() {
    for rel in [
        "postfix/loopback-postlogd.log",
        "exim/loopback-mainlog",
        "qmail/send-multilog",
        "exchange/MSGTRK2010-v14.LOG",
    ] {
        let r = json(&[testdata(rel).to_str().expect("p")]);
        for kind in ["harvest", "domain_failure", "blocklisted"] {
            assert!(
                findings(&r, kind).is_empty(),
                "{rel}: {kind}: {}",
                r["findings"]
            );
        }
    }
    // A few unknown users from one client, or a bounce without earlier deliveries, are not findings.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("quiet.log");
    let mut log = String::new();
    for i in 0..5 {
        log += &reject(
            &format!("07:10:{:02}", i),
            "203.0.113.45",
            &format!("user{i}@example.com"),
            "x@spam.example",
            "pc",
        );
    }
    log += &delivery(
        "12:00:00",
        "B000000001",
        "anna@partner.example",
        "bounced",
        "host x said: 550 5.1.1 User unknown (in reply to RCPT TO command)",
    );
    fs::write(&p, log).expect("w");
    let r = json(&[p.to_str().expect("p")]);
    assert_eq!(r["findings"], serde_json::json!([]), "{}", r["findings"]);
}

#[test]
fn typo_suggestions_need_evidence() {
    // testdata/postfix/mail.log: jonh.smith was rejected while john.smith was delivered.
    let r = json(&[testdata("postfix/mail.log").to_str().expect("p")]);
    let t = findings(&r, "typo");
    let j = t
        .iter()
        .find(|f| f["subject"] == "jonh.smith@example.com")
        .expect("typo");
    assert_eq!(j["evidence"]["suggestion"], "john.smith@example.com");
    let d = t
        .iter()
        .find(|f| f["subject"] == "someone@exmaple.com")
        .expect("domain typo");
    assert_eq!(d["evidence"]["suggestion"], "someone@example.com");
    assert!(d["evidence"]["because"]
        .as_str()
        .expect("b")
        .contains("delivered"));
    // No suggestion for an unknown user with no near delivered address.
    assert!(!t.iter().any(|f| f["subject"] == "admin@example.com"));
}

#[test]
fn blocklisting_of_our_ip_is_a_finding() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    let mut log = String::new();
    for (i, d) in ["a.example", "b.example", "c.example"].iter().enumerate() {
        log += &format!("Mar 10 09:1{i}:02 mx1 postfix/smtp[4550]: 7D8E9F0A1{i}: to=<x@{d}>, relay=mx.{d}[198.51.100.4{i}]:25, delay=2, delays=0.01/0/1.2/0.8, dsn=5.7.1, status=bounced (host mx.{d}[198.51.100.4{i}] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org (in reply to RCPT TO command))\n");
    }
    fs::write(&p, log).expect("w");
    let r = json(&[p.to_str().expect("p")]);
    let b = findings(&r, "blocklisted");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["evidence"]["rejections"], 3);
    assert!(b[0]["hints"].to_string().contains("delisting"));
}

#[test]
fn explain_classifies_every_rule_sample_to_its_cause() {
    let ps = bouncelog::patterns::PatternSet::load(None).expect("patterns");
    let mut n = 0;
    for r in &ps.reply.rules {
        for s in &r.samples {
            let x = bouncelog::inspect::explain::explain_in(
                &ps,
                s,
                r.sample_host.as_deref(),
                r.direction,
            );
            assert_eq!(
                x.cause.as_deref(),
                Some(ps.causes[r.cause].id.as_str()),
                "{}: {s}",
                r.id
            );
            n += 1;
        }
    }
    for m in &ps.mtas {
        for rule in &m.rules {
            for s in &rule.samples {
                let x = bouncelog::inspect::explain::explain(&ps, &s.line);
                assert_eq!(
                    x.line_rule.as_ref().map(|l| l.1.as_str()),
                    Some(rule.id.as_str()),
                    "{}",
                    s.line
                );
                if let Some(c) = s.expect.get("cause") {
                    assert_eq!(x.cause.as_deref(), Some(c.as_str()), "{}", s.line);
                }
                n += 1;
            }
        }
    }
    assert!(n > 100, "{n}");
}

#[test]
fn explain_command() {
    let out = bouncelog()
        .args([
            "explain",
            "550-5.1.1 The email account that you tried to reach does not exist. Please try",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("Cause: unknown_user.no_such_user"));
    assert!(text.contains("a remote server refused our mail"));
    // A whole log line on stdin: direction known, hints for it only.
    let line = "Mar  3 10:12:01 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[192.0.2.5]: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table; from=<a@example.org> to=<bob@example.com> proto=ESMTP helo=<x>";
    let out = bouncelog()
        .arg("explain")
        .write_stdin(line)
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("rule postfix.smtpd.reject") && text.contains("our server refused it"));
    assert!(!text.contains("a remote server refused our mail"));
    // Unknown text: exit 1, closest rule and a stub that parses as a pattern file.
    let out = bouncelog()
        .args(["explain", "554 Sorry, your message smells funny"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("Closest known rule:"));
    let stub = &text[text.find("[[reply]]").expect("stub")..];
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("local.toml"), format!("schema = 1\n{stub}")).expect("w");
    bouncelog()
        .args(["patterns", "check"])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn unmatched_texts_are_listed_with_stubs() {
    let out = bouncelog()
        .args(["analyze", "--explain-unmatched", "--format", "json"])
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let u = r["unmatched"].as_array().expect("u");
    assert_eq!(u.len(), 1);
    assert_eq!(u[0]["count"], 1);
    assert!(u[0]["text"]
        .as_str()
        .expect("t")
        .contains("<n> Transaction failed"));
    let stubs = String::from_utf8(out.stderr).expect("utf8");
    assert!(stubs.contains("[[reply]]") && stubs.contains("Transaction failed"));
}

#[test]
fn suppression_list_of_hard_bounces() {
    let out = bouncelog()
        .args(["suppress"])
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let mut rdr = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.get(0).expect("r")).collect();
    for must in [
        "nobody@gmail.example",
        "closed@gmail.example",
        "someone@exmaple.com",
        "ghost@example.com",
    ] {
        assert!(names.contains(&must), "{must} missing: {names:?}");
    }
    for never in [
        "full@remote.example",
        "buyer@slow.example",
        "friend@gmail.example",
        "jonh.smith@example.com",
    ] {
        assert!(!names.contains(&never), "{never} listed");
    }
    // A refusal because of us (421 4.7.0 [TSS04]: our IP is throttled) is no evidence
    // against the address, however often it repeats.
    let out = bouncelog()
        .args(["suppress", "--soft-days", "1", "--format", "json"])
        .arg(testdata("postfix/mail.log"))
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let listed: Vec<&str> = v
        .as_array()
        .expect("a")
        .iter()
        .map(|x| x["recipient"].as_str().expect("r"))
        .collect();
    assert!(!listed.contains(&"accounts@big.example"), "{listed:?}");
    assert!(v
        .as_array()
        .expect("a")
        .iter()
        .all(|x| x["severity"] == "hard"));
}

#[test]
fn only_the_recipients_own_causes_go_on_the_suppression_list() {
    let bounce = |day: u32, rcpt: &str, dsn: &str, status: &str, reply: &str| {
        format!("2026-03-{day:02}T10:00:00+00:00 mx1 postfix/smtp[4560]: 9A8B7C6D{day:02}: to=<{rcpt}>, relay=mx.far.example[198.51.100.50]:25, delay=1, delays=0/0/0.5/0.5, dsn={dsn}, status={status} (host mx.far.example[198.51.100.50] said: {reply} (in reply to RCPT TO command))\n")
    };
    let mut log = String::new();
    for day in [10, 11, 12] {
        // Our IP on a blocklist (hard 554) and greylisting (soft): both about us.
        log += &bounce(
            day,
            "listed@far.example",
            "5.7.1",
            "bounced",
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        );
        log += &bounce(
            day,
            "grey@far.example",
            "4.2.0",
            "deferred",
            "450 4.2.0 <grey@far.example>: Recipient address rejected: Greylisted",
        );
        // A temporary "no such user", day after day: the recipient's own.
        log += &bounce(day, "flaky@far.example", "4.1.1", "deferred", "450 4.1.1 <flaky@far.example>: Recipient address rejected: User unknown in virtual mailbox table");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::write(&p, log).expect("w");
    let out = bouncelog()
        .args(["suppress", "--soft-days", "1", "--format", "json"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v.as_array().expect("a");
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["recipient"], "flaky@far.example");
    assert_eq!(rows[0]["severity"], "soft");
    assert_eq!(rows[0]["days"], 3);
    assert!(rows[0]["cause"]
        .as_str()
        .expect("c")
        .starts_with("repeated_soft:unknown_user"));
}
