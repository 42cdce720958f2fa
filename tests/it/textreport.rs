//! The short text report (issue #15): causes ordered by urgency from
//! causes.toml, a length bound on the test logs, messages versus attempts,
//! wrapping that never splits an address, hints only for the MTAs present,
//! and the small things (`<stdin>`, kinds spelled as in pattern files).

use crate::util::{bouncelog, testdata};
use std::fs;

fn run(args: &[&str], log: &std::path::Path) -> String {
    let out = bouncelog().args(args).arg(log).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(args: &[&str], log: &std::path::Path) -> serde_json::Value {
    let mut a = vec!["analyze", "--format", "json"];
    a.extend_from_slice(args);
    serde_json::from_str(&run(&a, log)).expect("json")
}

fn bounce(ts: &str, qid: &str, rcpt: &str, status: &str, reply: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtp[4550]: {qid}: to=<{rcpt}>, relay=mx.isp.example[198.51.100.40]:25, delay=2, delays=0.01/0/1.2/0.8, dsn=5.7.1, status={status} (host mx.isp.example[198.51.100.40] said: {reply} (in reply to RCPT TO command))\n"
    )
}

fn reject(ts: &str, ip: &str, rcpt: &str) -> String {
    format!(
        "Mar 10 {ts} mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<x@spam.example> to=<{rcpt}> proto=ESMTP helo=<spam.example>\n"
    )
}

const LISTED: &str = "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1";

/// Three of our deliveries refused by a blocklist, and ten inbound rejections
/// of unknown users from one spammer (more events, less urgent).
fn blocklisted_log(dir: &std::path::Path) -> std::path::PathBuf {
    let mut log = String::new();
    for i in 0..10 {
        log += &reject(
            &format!("08:0{i}:00"),
            "203.0.113.9",
            &format!("u{i}@example.com"),
        );
    }
    for (i, r) in ["a@isp.example", "b@isp.example", "c@other.example"]
        .iter()
        .enumerate()
    {
        log += &bounce(
            &format!("09:1{i}:00"),
            &format!("{i}A1B2C4D5E"),
            r,
            "bounced",
            LISTED,
        );
    }
    let p = dir.join("mail.log");
    fs::write(&p, log).expect("write");
    p
}

#[test]
fn our_blocklisting_comes_before_a_larger_inbound_group() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = blocklisted_log(dir.path());
    let text = run(&["analyze"], &p);
    let row = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle}: {text}"))
    };
    let ours = row("| blocklisted ");
    let theirs = row("| unknown_user.local_recipient_table ");
    assert!(ours < theirs, "our listing first: {text}");
    assert!(text.contains("| 1 | blocklisted"), "{text}");
    assert!(
        text.contains("1. Sending IP or domain blocklisted"),
        "{text}"
    );
    // The finding names the IP and the list, and comes first.
    let findings = text.find("Findings:").expect("findings");
    assert!(
        text[findings..].contains("192.0.2.1 listed on zen.spamhaus.org"),
        "{text}"
    );
    // JSON keeps its order by count (a contract), and gains the names.
    let v = json(&[], &p);
    assert_eq!(
        v["groups"][0]["cause"],
        "unknown_user.local_recipient_table"
    );
    assert_eq!(v["findings"][0]["kind"], "blocklisted");
    assert_eq!(v["findings"][0]["evidence"]["listed_ips"][0], "192.0.2.1");
    assert_eq!(v["findings"][0]["evidence"]["lists"][0], "zen.spamhaus.org");
}

#[test]
fn the_order_comes_from_causes_toml() {
    // A site file that declares inbound unknown users urgent puts them first.
    let dir = tempfile::tempdir().expect("tmp");
    let p = blocklisted_log(dir.path());
    let pat = dir.path().join("patterns");
    fs::create_dir(&pat).expect("mkdir");
    let builtin = fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("patterns/causes.toml"),
    )
    .expect("causes.toml");
    let start = builtin
        .find("[cause.\"unknown_user.local_recipient_table\"]")
        .expect("cause");
    let end = start + builtin[start..].find("\n\n").expect("end of cause");
    let cause = builtin[start..end].replace(
        "actor = \"sender\", action = \"fix_address\", urgency = \"intended\"",
        "actor = \"sender\", action = \"fix_address\", urgency = \"now\"",
    );
    assert_ne!(cause, &builtin[start..end], "the urgency was replaced");
    fs::write(pat.join("site.toml"), format!("schema = 1\n\n{cause}\n")).expect("write");
    let text = run(&["analyze", "--patterns", pat.to_str().expect("path")], &p);
    assert!(
        text.contains("| 1 | unknown_user.local_recipient_table"),
        "{text}"
    );
    // A bad urgency is refused by `patterns check`.
    fs::write(
        pat.join("site.toml"),
        format!(
            "schema = 1\n\n{}\n",
            cause.replace("urgency = \"now\"", "urgency = \"asap\"")
        ),
    )
    .expect("write");
    let (code, out) = crate::util::check_dir(&pat);
    assert_ne!(code, Some(0));
    assert!(out.contains("unknown urgency \"asap\""), "{out}");
}

#[test]
fn text_reports_of_the_test_logs_are_short() {
    let mut checked = 0;
    for dir in ["postfix", "exim", "qmail", "exchange", "lineforms"] {
        for entry in fs::read_dir(testdata(dir)).expect("dir") {
            let p = entry.expect("entry").path();
            let out = bouncelog().arg("analyze").arg(&p).output().expect("run");
            let text = String::from_utf8_lossy(&out.stdout);
            let lines = text.lines().count();
            let j = bouncelog()
                .args(["analyze", "--format", "json"])
                .arg(&p)
                .output()
                .expect("run");
            // A file that is not a log (exit 2) still gets a report.
            let j: serde_json::Value = serde_json::from_slice(&j.stdout).expect("json");
            let groups = j["groups"].as_array().map_or(0, Vec::len);
            // Besides the table's one row per cause, at most 80 lines; with
            // up to ten causes (a typical day), at most 80 in all.
            assert!(
                lines - groups.min(lines) <= 80,
                "{}: {lines} lines",
                p.display()
            );
            if groups <= 10 {
                assert!(lines <= 80, "{}: {lines} lines", p.display());
            }
            // No line passes 100 columns unless one word (kept whole) does.
            for l in text.lines() {
                let one_word = !l.trim().contains(' ');
                assert!(
                    l.chars().count() <= 100 || one_word,
                    "{}: too wide: {l}",
                    p.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} logs");
}

#[test]
fn six_deferrals_of_one_message_are_one_message_of_six_attempts() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = String::new();
    for i in 0..6 {
        log += &bounce(
            &format!("1{i}:00:00"),
            "D3F1A2B3C4",
            "slow@isp.example",
            "deferred",
            "451 4.3.0 Temporary local problem, please try again",
        );
    }
    let p = dir.path().join("mail.log");
    fs::write(&p, log).expect("write");
    let v = json(&[], &p);
    let g = &v["groups"][0];
    assert_eq!(
        (g["count"].as_u64(), g["messages"].as_u64()),
        (Some(6), Some(1))
    );
    let t = &v["totals"];
    assert_eq!(t["failures"], 6, "failures stay attempts");
    assert_eq!(
        (
            &t["messages"],
            &t["deferred"],
            &t["deferral_attempts"],
            &t["bounced"]
        ),
        (&1.into(), &1.into(), &6.into(), &0.into())
    );
    let text = run(&["analyze"], &p);
    assert!(
        text.contains("Failures: 1 message, 6 attempts (inbound 0, outbound 1, local 0)"),
        "{text}"
    );
    assert!(
        text.contains("0 bounced, 1 deferred (6 attempts), 0 expired"),
        "{text}"
    );
    // Trends: six hours, one attempt each.
    assert!(text.contains("Trends (failure attempts"), "{text}");
    // --fail-on counts messages.
    let code = |rule: &str| {
        bouncelog()
            .args(["analyze", "-q", "--fail-on", rule])
            .arg(&p)
            .output()
            .expect("run")
            .status
            .code()
    };
    assert_eq!(code("outbound>1"), Some(0));
    assert_eq!(code("outbound>0"), Some(1));
    let md = run(&["analyze", "--format", "markdown"], &p);
    assert!(md.contains("**1 message (6 attempts)**"), "{md}");
}

#[test]
fn wrapping_never_splits_an_address_or_host() {
    let dir = tempfile::tempdir().expect("tmp");
    let addrs: Vec<String> = (0..6)
        .map(|i| format!("it-dept-{i}-helpdesk-queue@customer-portal-{i}.example.com"))
        .collect();
    let mut log = String::new();
    for (i, a) in addrs.iter().enumerate() {
        log += &format!(
            "Mar 10 08:0{i}:00 mx1 postfix/smtpd[4300]: NOQUEUE: reject: RCPT from mail-relay-{i}.partner-network.example[198.51.100.{i}]: 550 5.1.1 <{a}>: Recipient address rejected: User unknown in virtual alias table; from=<x@example.org> to=<{a}> proto=ESMTP helo=<h>\n"
        );
    }
    let p = dir.path().join("mail.log");
    fs::write(&p, log).expect("write");
    for format in ["text", "markdown"] {
        let text = run(&["analyze", "--top", "6", "--format", format], &p);
        let wrapped = text.lines().any(|l| l.starts_with("                "));
        assert!(wrapped || format == "markdown", "the lists wrap: {text}");
        for a in &addrs {
            assert!(text.contains(a.as_str()), "{format}: {a} split: {text}");
        }
        for i in 0..6 {
            let host = format!("mail-relay-{i}.partner-network.example[198.51.100.{i}]");
            assert!(text.contains(&host), "{format}: {host} split: {text}");
        }
        for l in text.lines() {
            assert!(
                !l.trim_end().ends_with('-'),
                "{format}: broken at a hyphen: {l}"
            );
        }
    }
}

#[test]
fn hints_of_absent_mtas_are_not_shown() {
    // A harvest from one client on a Postfix log: the Postfix hint, not Exim's.
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = String::new();
    for i in 0..15 {
        log += &reject(
            &format!("08:00:{i:02}"),
            "203.0.113.45",
            &format!("h{i}@example.com"),
        );
    }
    let p = dir.path().join("mail.log");
    fs::write(&p, log).expect("write");
    let v = json(&[], &p);
    let f = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == "harvest")
        .expect("harvest")
        .clone();
    let hints = f["hints"].to_string();
    assert!(hints.contains("smtpd_hard_error_limit"), "{hints}");
    assert!(!hints.contains("acl_smtp_rcpt"), "{hints}");
    let text = run(&["analyze", "--details", "40"], &p);
    assert!(text.contains("smtpd_hard_error_limit"), "{text}");
    assert!(!text.contains("acl_smtp_rcpt"), "{text}");
    assert!(!text.contains("Exim"), "{text}");
}

#[test]
fn findings_of_one_kind_share_their_hint() {
    // mail.log has two typo findings: the hint is printed once.
    let text = run(&["analyze"], &testdata("postfix/mail.log"));
    assert!(text.contains("Likely typos (2):"), "{text}");
    assert_eq!(
        text.matches("Correct the address at its source").count(),
        1,
        "{text}"
    );
}

#[test]
fn details_sets_the_causes_shown_in_full() {
    let log = testdata("postfix/mail.log");
    let sections = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("   Who acts:"))
            .count()
    };
    assert_eq!(sections(&run(&["analyze"], &log)), 3);
    assert_eq!(sections(&run(&["analyze", "--details", "0"], &log)), 0);
    let all = run(&["analyze", "--details", "100"], &log);
    assert_eq!(sections(&all), 32, "{all}");
    assert!(!all.contains("are the table's rows only"));
}

#[test]
fn stdin_is_named_and_kinds_are_spelled_as_in_pattern_files() {
    let line = fs::read_to_string(testdata("postfix/mail.log")).expect("log");
    let out = bouncelog()
        .args(["analyze"])
        .write_stdin(line)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Example (<stdin>:"), "{text}");
    let list = bouncelog()
        .args(["patterns", "list"])
        .output()
        .expect("run");
    let list = String::from_utf8_lossy(&list.stdout);
    let rule = list
        .lines()
        .find(|l| l.trim_start().starts_with("postfix.qmgr.expired"))
        .or_else(|| list.lines().find(|l| l.contains(" expired ")))
        .expect("an expiry rule");
    assert!(rule.contains(" expired "), "{rule}");
    assert!(!list.contains(" Reject "), "kinds in lower case");
}

#[test]
fn trends_show_each_hour_and_each_day() {
    // Three days, the same three inbound hours and one deferral a day.
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = String::new();
    for d in 10..13 {
        let day = format!("Mar {d}");
        for h in [8, 9, 14] {
            let ip = format!("203.0.113.{}", d + h);
            log += &reject(
                &format!("{h:02}:00:00"),
                &ip,
                &format!("u{d}{h}@example.com"),
            )
            .replace("Mar 10", &day);
        }
        let reply = "451 4.7.1 greylisted, try again later";
        log += &bounce(
            "10:00:00",
            "1A2B3C4D5E",
            "slow@isp.example",
            "deferred",
            reply,
        )
        .replace("Mar 10", &day);
    }
    let p = dir.path().join("mail.log");
    fs::write(&p, log).expect("write");
    let text = run(&["analyze"], &p);
    let head = text
        .lines()
        .find(|l| l.contains(" total "))
        .unwrap_or_else(|| panic!("no trends: {text}"));
    assert!(head.ends_with("03-10  03-11  03-12"), "{head}");
    let all = text
        .lines()
        .find(|l| l.trim_start().starts_with("all failures"))
        .expect("all row");
    let cols: Vec<&str> = all.split_whitespace().collect();
    assert_eq!(&cols[cols.len() - 4..], ["12", "4", "4", "4"], "{all}");
    // The hours: 08, 09, 10 and 14 have failures, the others none.
    let spark = cols[2];
    let marked: Vec<usize> = spark
        .char_indices()
        .filter(|(_, c)| *c != '.')
        .map(|(i, _)| i)
        .collect();
    assert_eq!(marked, [8, 9, 10, 14], "{all}");
    assert!(text.contains("greylisted out"), "{text}");
    assert!(text.contains("1 message (3 attempts)"), "{text}");
}

#[test]
fn many_findings_of_one_kind_are_capped_with_a_count_of_the_rest() {
    // 15 delivered addresses and a one-letter typo of each that bounced:
    // 15 typo findings; the text and Markdown reports list max(--top, 10).
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("typos.log");
    let mut log = String::new();
    for i in 0..15 {
        for (n, rcpt, status) in [
            (2 * i, format!("customer{i:02}@big.example"), "sent (250 2.0.0 Ok: queued as X)"),
            (2 * i + 1, format!("custmer{i:02}@big.example"), "bounced (host mx.big.example[198.51.100.30] said: 550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))"),
        ] {
            let dsn = if status.starts_with("sent") { "2.0.0" } else { "5.1.1" };
            log.push_str(&format!(
                "Mar 10 10:{:02}:{:02} mx1 postfix/smtp[4540]: {:010X}: to=<{rcpt}>, relay=mx.big.example[198.51.100.30]:25, delay=1, delays=0/0/0.5/0.5, dsn={dsn}, status={status}\n",
                n / 60,
                n % 60,
                0x1000_0000 + n
            ));
        }
    }
    std::fs::write(&p, log).expect("w");
    let v = crate::util::json(&[p.to_str().expect("p")]);
    let typos = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "typo")
        .count();
    assert_eq!(typos, 15, "JSON has every finding");
    for format in ["text", "markdown"] {
        let out = crate::util::bouncelog()
            .args(["analyze", "--format", format])
            .arg(&p)
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        // The typo lines listed before the count of the rest.
        let findings = &text[..text.find("more (").unwrap_or(text.len())];
        let listed = findings.matches("custmer").count();
        assert!(
            (10..15).contains(&listed),
            "{format}: {listed} typo lines\n{text}"
        );
        assert!(text.contains("… and 5 more"), "{format}\n{text}");
    }
}
