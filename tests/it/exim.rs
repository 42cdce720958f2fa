//! Exim end to end: mainlog and rejectlog line shapes, both message-id
//! lengths, optional pid / sub-second / time-zone fields, syslog- and
//! journald-wrapped lines, correlation by message id, and rejections that
//! appear in both mainlog and rejectlog counted once.

use crate::util::{count, json, lines, testdata};

fn path(rel: &str) -> String {
    testdata(rel).to_str().expect("path").to_string()
}

#[test]
fn every_line_lands_in_its_cause_and_direction() {
    let r = json(&[&path("exim/mainlog")]);
    let expected: &[(&str, &str, u64)] = &[
        ("unknown_user.unrouteable", "inbound", 5),
        ("unknown_user.no_such_user", "inbound", 2),
        ("unknown_user.address_verification", "inbound", 1),
        // "Could not complete recipient verify callout": the probe got no answer.
        ("address_verification_tempfail", "inbound", 1),
        ("relay_denied", "inbound", 1),
        ("sender_rejected", "inbound", 2),
        ("blocklisted", "inbound", 1),
        ("content_rejected", "inbound", 2),
        ("policy", "inbound", 1),
        // Gmail's wording and Outlook.com's "5.5.0 … mailbox unavailable".
        ("unknown_user.no_such_user", "outbound", 2),
        ("unknown_user.virtual_alias_table", "outbound", 1),
        ("mailbox_full", "outbound", 1),
        ("domain_not_found", "outbound", 1),
        ("connection_failed", "outbound", 1),
        ("expired", "outbound", 1),
        ("mailbox_full", "local", 1),
        ("server_error", "local", 1),
    ];
    for (cause, dir, n) in expected {
        assert_eq!(count(&r, cause, dir), *n, "{cause} {dir}");
    }
    assert_eq!(
        r["totals"]["failures"],
        expected.iter().map(|e| e.2).sum::<u64>()
    );
    assert_eq!(r["totals"]["ndr_sent"], 2);
    assert_eq!(r["lines"]["unrecognised"], 0);
    let g = r["groups"].as_array().expect("g");
    assert!(g.iter().all(|g| g["mta"] == "exim"));
    // Temporarily rejected = soft.
    assert!(g
        .iter()
        .any(|g| g["cause"] == "address_verification_tempfail" && g["severity"] == "soft"));
    // Hints in Exim terms, not Postfix ones.
    let unr = g
        .iter()
        .find(|g| g["cause"] == "unknown_user.unrouteable")
        .expect("g");
    let hints = unr["hints"].to_string();
    assert!(hints.contains("exim -bt"), "{hints}");
    let relay = g
        .iter()
        .find(|g| g["cause"] == "relay_denied")
        .expect("g")
        .to_string();
    assert!(relay.contains("relay_from_hosts") && !relay.contains("smtpd_relay_restrictions"));
}

#[test]
fn counts_equal_grep() {
    let log = lines("exim/mainlog");
    let r = json(&[&path("exim/mainlog")]);
    let rejects = log
        .iter()
        .filter(|l| l.contains("rejected ") || l.contains("dropped by"))
        .count() as u64;
    assert_eq!(r["totals"]["inbound"], rejects);
    let bounced = log
        .iter()
        .filter(|l| l.contains(" ** ") || l.contains(" == "))
        .count() as u64;
    let out_local =
        r["totals"]["outbound"].as_u64().expect("n") + r["totals"]["local"].as_u64().expect("n");
    assert_eq!(out_local, bounced);
    let unrouteable = log
        .iter()
        .filter(|l| l.contains("rejected RCPT") && l.ends_with("Unrouteable address"))
        .count() as u64;
    assert_eq!(
        count(&r, "unknown_user.unrouteable", "inbound"),
        unrouteable
    );
}

#[test]
fn mainlog_and_rejectlog_count_each_rejection_once() {
    let main = json(&[&path("exim/mainlog")]);
    let both = json(&[&path("exim/mainlog"), &path("exim/rejectlog")]);
    let reversed = json(&[&path("exim/rejectlog"), &path("exim/mainlog")]);
    let reject_only = json(&[&path("exim/rejectlog")]);
    for r in [&both, &reversed] {
        assert_eq!(r["totals"]["inbound"], main["totals"]["inbound"]);
        assert_eq!(r["totals"]["failures"], main["totals"]["failures"]);
    }
    let dup = reject_only["totals"]["inbound"].as_u64().expect("n");
    assert!(dup > 10);
    assert_eq!(both["totals"]["duplicates_skipped"], dup);
    // rejectlog's header dumps are part of the format, not unrecognised lines.
    assert_eq!(reject_only["lines"]["unrecognised"], 0);
    // A rejection repeated inside one file still counts each time.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mainlog");
    let line = "2025-03-10 07:01:45 H=mail.example.org [198.51.100.7]:50311 I=[192.0.2.1]:25 F=<alice@example.org> rejected RCPT <x@example.com>: Unrouteable address\n";
    std::fs::write(&p, line.repeat(3)).expect("w");
    assert_eq!(json(&[p.to_str().expect("p")])["totals"]["inbound"], 3);
}

#[test]
fn message_ids_times_and_correlation() {
    let events = crate::util::events(&[&path("exim/mainlog")]);
    let by = |rcpt: &str| {
        events
            .iter()
            .find(|e| e["recipient"] == rcpt)
            .unwrap_or_else(|| panic!("{rcpt}"))
    };
    // 16-character id; sender and client from the <= line.
    let g = by("nobody@gmail.example");
    assert_eq!(g["queue_id"], "1trZC4-0000Cd-4E");
    assert_eq!(g["sender"], "news@example.com");
    assert_eq!(g["client"], "laptop.example.com [192.0.2.50]");
    assert_eq!(g["remote_host"], "gmail-smtp-in.l.google.com [192.0.2.101]");
    assert_eq!(g["time"], "2025-03-10T09:00:03Z");
    // 23-character id (Exim 4.97+), sub-second and time-zone fields.
    let e = events
        .iter()
        .find(|e| e["cause"] == "expired")
        .expect("expired");
    assert_eq!(e["queue_id"], "1trZD6-000000007Ll-0002");
    assert_eq!(e["sender"], "orders@example.com");
    assert_eq!(e["time"], "2025-03-10T11:30:01.020+01:00");
    // Syslog-, journald- and syslog-ng-wrapped lines use the inner (dated) stamp.
    assert_eq!(by("ghost@example.com")["time"], "2025-03-10T12:00:00Z");
    assert_eq!(by("ghost2@example.com")["time"], "2025-03-10T12:00:05Z");
    assert_eq!(by("ghost3@example.com")["time"], "2025-03-10T12:00:09Z");
    // Inbound: client with HELO, sender, recipient.
    let i = by("jonh.smith@example.com");
    assert_eq!(i["direction"], "inbound");
    assert_eq!(i["client"], "mail.example.org [198.51.100.7]");
    assert_eq!(i["sender"], "alice@example.org");
    // `** addr: Unrouteable address` without a host is the domain, not the user.
    assert_eq!(by("someone@exmaple.com")["cause"], "domain_not_found");
    // A pipe stands for the address it was reached by.
    assert_eq!(by("support@example.com")["direction"], "local");
}

#[test]
fn exim_and_postfix_in_one_run() {
    let r = json(&[&path("exim/mainlog"), &path("postfix/mail.log")]);
    let mtas: std::collections::BTreeSet<&str> = r["groups"]
        .as_array()
        .expect("g")
        .iter()
        .map(|g| g["mta"].as_str().expect("m"))
        .collect();
    assert_eq!(
        mtas.into_iter().collect::<Vec<_>>(),
        vec!["exim", "postfix"]
    );
    let e = json(&[&path("exim/mainlog")]);
    let p = json(&[&path("postfix/mail.log")]);
    let sum =
        e["totals"]["failures"].as_u64().expect("n") + p["totals"]["failures"].as_u64().expect("n");
    assert_eq!(r["totals"]["failures"], sum);
}

#[test]
fn exim_test_suite_corpus_shapes_are_recognised() {
    // Real Exim line syntax from Exim's own regression suite (in ../shared/corpus, GPL: read
    // at test time only, never copied into the repo). Skipped when the corpus is absent.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/exim-testsuite/log");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: ../shared/corpus/exim-testsuite is not beside the checkout");
        return;
    };
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().display().to_string())
        .collect();
    files.sort();
    // One input: the suite's files are separate runs whose normalised lines repeat across
    // files, which the cross-input de-duplication would (rightly, for real logs) count once.
    let all: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    let tmp = tempfile::tempdir().expect("tmp");
    let one = tmp.path().join("mainlog");
    std::fs::write(&one, all).expect("w");
    let args = ["--top", "1", one.to_str().expect("p")];
    let r = json(&args);
    let log: Vec<String> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let dated: Vec<&String> = log
        .iter()
        .filter(|l| l.len() > 19 && l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b' ')
        .collect();
    // Deferrals that record no attempt (waiting for the retry time, queued on
    // purpose) are matched but are not failures.
    let not_attempted = |l: &str| {
        l.contains(" == ")
            && [
                "etry time not reached",
                "etry time not yet reached",
                "SMTP delivery explicitly queued",
                "first-pass only routing due to -odqs, queue_smtp_domains or control=queue",
                "domain is held",
                "domain is in queue_domains",
            ]
            .iter()
            .any(|t| l.ends_with(t) || l.contains(&format!("{t} for any host")))
    };
    let bounces = dated
        .iter()
        .filter(|l| (l.contains(" ** ") || l.contains(" == ")) && !not_attempted(l))
        .count() as u64;
    assert!(
        dated.iter().any(|l| not_attempted(l)),
        "the corpus has deferrals without an attempt"
    );
    let out_local =
        r["totals"]["outbound"].as_u64().expect("n") + r["totals"]["local"].as_u64().expect("n");
    let skipped = r["totals"]["duplicates_skipped"].as_u64().expect("n");
    assert_eq!(out_local, bounces, "every ** and == line is one event");
    let rejects = dated
        .iter()
        .filter(|l| l.contains("rejected RCPT") || l.contains("rejected after DATA"))
        .count() as u64;
    assert!(r["totals"]["inbound"].as_u64().expect("n") + skipped >= rejects);
}

#[test]
fn real_exim_logs_from_loopback() {
    // Written by a real Exim 4.96 (Debian 12 exim4-daemon-light) on loopback; see
    // testdata/README.md. The rejectlog repeats the mainlog's rejections.
    let main = path("exim/loopback-mainlog");
    let rej = path("exim/loopback-rejectlog");
    let r = json(&[&main, &rej]);
    let log = lines("exim/loopback-mainlog");
    let grep = |a: &str| log.iter().filter(|l| l.contains(a)).count() as u64;
    assert_eq!(r["lines"]["unrecognised"], 0);
    assert_eq!(r["totals"]["inbound"], grep(" rejected RCPT "));
    assert_eq!(
        r["totals"]["duplicates_skipped"],
        lines("exim/loopback-rejectlog").len() as u64
    );
    let out_local =
        r["totals"]["outbound"].as_u64().expect("n") + r["totals"]["local"].as_u64().expect("n");
    assert_eq!(out_local, grep(" ** ") + grep(" == "));
    assert_eq!(
        count(&r, "unknown_user.unrouteable", "inbound"),
        grep("rejected RCPT") - grep("relay not permitted")
    );
    assert_eq!(
        count(&r, "relay_denied", "inbound"),
        grep("relay not permitted")
    );
    assert_eq!(
        count(&r, "expired", "outbound"),
        grep("retry timeout exceeded")
    );
    assert_eq!(count(&r, "greylisted", "outbound"), grep("Greylisted"));
    let gmail = log
        .iter()
        .filter(|l| {
            l.contains(" ** ")
                && (l.contains("does not exist")
                    // Outlook.com's wording for an address it does not have.
                    || l.contains("5.5.0 Requested action not taken: mailbox unavailable"))
        })
        .count() as u64;
    assert_eq!(count(&r, "unknown_user.no_such_user", "outbound"), gmail);
    assert_eq!(r["totals"]["ndr_sent"], grep(" <= <> R="));
}
