//! Postfix logs end to end: every line shape lands in the right cause and
//! direction, and the counts equal what a careful grep finds.

use crate::util::{count, json, lines, testdata};

const MAIL_LOG: &str = "postfix/mail.log";

#[test]
fn every_cause_and_direction_of_the_sample_log() {
    let r = json(&[testdata(MAIL_LOG).to_str().expect("path")]);
    assert_eq!(r["schema"], "bouncelog/1");
    // (cause, direction, events): what each line of the fixture means, read by hand.
    let expected: &[(&str, &str, u64)] = &[
        ("unknown_user.local_recipient_table", "inbound", 5),
        ("unknown_user.virtual_alias_table", "inbound", 2),
        ("unknown_user.virtual_mailbox_table", "inbound", 2),
        ("unknown_user.relay_recipient_table", "inbound", 1),
        ("unknown_user.address_verification", "inbound", 1),
        ("relay_denied", "inbound", 3),
        ("domain_not_found", "inbound", 1),
        ("sender_rejected", "inbound", 1),
        // "Sender address rejected: Domain not found": the sender domain's DNS.
        ("sender_domain_dns", "inbound", 1),
        ("blocklisted", "inbound", 2),
        ("helo_rejected", "inbound", 1),
        ("client_rejected", "inbound", 1),
        ("policy", "inbound", 1),
        ("greylisted", "inbound", 1),
        ("content_rejected", "inbound", 2),
        ("protocol_error", "inbound", 1),
        ("invalid_address", "inbound", 1),
        // Gmail, Yahoo, and Outlook.com's "5.5.0 … mailbox unavailable".
        ("unknown_user.no_such_user", "outbound", 3),
        ("unknown_user.virtual_alias_table", "outbound", 1),
        ("unknown_user.unrouteable", "outbound", 1),
        ("mailbox_disabled", "outbound", 1),
        ("mailbox_full", "outbound", 1),
        ("domain_not_found", "outbound", 1),
        ("blocklisted", "outbound", 1),
        // Yahoo's TSS04 deferral is throttling for reputation, not a listing.
        ("reputation_throttled", "outbound", 1),
        ("greylisted", "outbound", 1),
        ("connection_failed", "outbound", 1),
        ("expired", "outbound", 1),
        ("other", "outbound", 1),
        // local(8) "unknown user", and Dovecot's LMTP answer over a socket: our own store.
        ("unknown_user.no_such_user", "local", 2),
        ("unknown_user.virtual_alias_table", "local", 1),
        ("server_error", "local", 1),
    ];
    for (cause, dir, n) in expected {
        assert_eq!(count(&r, cause, dir), *n, "{cause} {dir}");
    }
    let sum: u64 = expected.iter().map(|e| e.2).sum();
    assert_eq!(r["totals"]["failures"], sum, "no event outside the table");
    assert_eq!(r["totals"]["reject_warnings"], 2);
    assert_eq!(
        r["totals"]["verify_probes"], 2,
        "verify probes are not bounces"
    );
    assert_eq!(r["totals"]["ndr_sent"], 4);
    assert_eq!(r["totals"]["delivered"], 3);
    assert_eq!(r["lines"]["unrecognised"], 1);
    assert_eq!(r["lines"]["other_programs"], 2);
}

#[test]
fn counts_equal_a_careful_grep() {
    let log = lines(MAIL_LOG);
    let r = json(&[testdata(MAIL_LOG).to_str().expect("path")]);
    let rejects: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("reject: ") && !l.contains("reject_warning"))
        .collect();
    let grep = |needle: &str| rejects.iter().filter(|l| l.contains(needle)).count() as u64;
    assert_eq!(r["totals"]["inbound"], rejects.len() as u64);
    for (needle, cause) in [
        (
            "User unknown in local recipient table",
            "unknown_user.local_recipient_table",
        ),
        (
            "User unknown in virtual alias table",
            "unknown_user.virtual_alias_table",
        ),
        (
            "User unknown in virtual mailbox table",
            "unknown_user.virtual_mailbox_table",
        ),
        (
            "User unknown in relay recipient table",
            "unknown_user.relay_recipient_table",
        ),
        ("Relay access denied", "relay_denied"),
        ("blocked using", "blocklisted"),
    ] {
        assert_eq!(count(&r, cause, "inbound"), grep(needle), "{needle}");
    }
    let failed = |st: &str| {
        log.iter()
            .filter(|l| l.contains(" to=<") && l.contains(st))
            .count() as u64
    };
    let expired_msgs = log.iter().filter(|l| l.contains("status=expired")).count() as u64;
    let out_local =
        r["totals"]["outbound"].as_u64().expect("n") + r["totals"]["local"].as_u64().expect("n");
    assert_eq!(
        out_local,
        failed("status=bounced") + failed("status=deferred") + expired_msgs
    );
    assert_eq!(
        r["totals"]["reject_warnings"],
        log.iter().filter(|l| l.contains("reject_warning:")).count() as u64
    );
    let ndr = log
        .iter()
        .filter(|l| l.contains("non-delivery notification"))
        .count() as u64;
    assert_eq!(r["totals"]["ndr_sent"], ndr);
}

#[test]
fn group_details_name_recipients_clients_and_hints() {
    let r = json(&[testdata(MAIL_LOG).to_str().expect("path"), "--top", "2"]);
    let groups = r["groups"].as_array().expect("groups");
    let g = groups
        .iter()
        .find(|g| g["cause"] == "unknown_user.local_recipient_table" && g["direction"] == "inbound")
        .expect("group");
    assert_eq!(g["severity"], "hard");
    assert_eq!(g["mta"], "postfix");
    assert_eq!(g["distinct_recipients"], 3);
    assert_eq!(
        g["top_recipients"].as_array().expect("top").len(),
        2,
        "--top limits lists"
    );
    assert_eq!(g["top_recipients"][0]["value"], "admin@example.com");
    assert_eq!(g["top_recipients"][0]["count"], 2);
    assert_eq!(g["top_clients"][0]["value"], "unknown[203.0.113.45]");
    assert_eq!(g["top_clients"][0]["count"], 3);
    assert_eq!(
        g["first_seen"].as_str().expect("t")[5..19],
        *"03-10T07:01:45"
    );
    assert!(g["example"]["text"]
        .as_str()
        .expect("ex")
        .contains("jonh.smith@example.com"));
    let hints = g["hints"].as_array().expect("hints");
    assert!(hints
        .iter()
        .any(|h| h.as_str().expect("h").contains("local_recipient_maps")));
    // Outbound groups carry remote hosts and outbound hints, not our maps.
    let o = groups
        .iter()
        .find(|g| g["cause"] == "unknown_user.no_such_user" && g["direction"] == "outbound")
        .expect("group");
    assert!(o["top_remote_hosts"][0]["value"]
        .as_str()
        .expect("host")
        .contains('['));
    assert!(o["hints"]
        .as_array()
        .expect("h")
        .iter()
        .any(|h| h.as_str().expect("h").contains("dig MX")));
    assert!(!o["hints"]
        .as_array()
        .expect("h")
        .iter()
        .any(|h| h.as_str().expect("h").contains("local_recipient_maps")));
}

#[test]
fn outbound_failures_get_sender_and_client_of_their_queue_id() {
    let events = crate::util::events(&[testdata(MAIL_LOG).to_str().expect("path")]);
    let gmail = events
        .iter()
        .find(|e| e["recipient"] == "nobody@gmail.example")
        .expect("event");
    assert_eq!(gmail["sender"], "news@example.com", "from qmgr from=");
    assert_eq!(
        gmail["client"], "laptop.example.com[192.0.2.50]",
        "from smtpd client="
    );
    assert_eq!(gmail["queue_id"], "3A1B2C4D5E");
    assert_eq!(gmail["dsn"], "5.1.1");
    assert_eq!(gmail["code"], "550");
    assert_eq!(gmail["status"], "bounced");
    // dsn=5.0.0 in the log, but the remote text says the alias table: the text wins.
    let alias = events
        .iter()
        .find(|e| e["recipient"] == "old@partner.example")
        .expect("event");
    assert_eq!(alias["cause"], "unknown_user.virtual_alias_table");
    assert_eq!(alias["direction"], "outbound");
    // The expiry names the recipient that was still deferred, with the last reason.
    let expired = events
        .iter()
        .find(|e| e["cause"] == "expired")
        .expect("expired");
    assert_eq!(expired["recipient"], "buyer@slow.example");
    assert_eq!(expired["sender"], "orders@example.com");
    assert!(expired["text"]
        .as_str()
        .expect("text")
        .contains("Connection timed out"));
    // Long queue ids are queue ids too.
    assert!(events.iter().any(|e| e["queue_id"] == "4Z1xYk2QmTz9sXQ"));
    // Every event points at its own line.
    let log = lines(MAIL_LOG);
    for e in &events {
        let n = e["line"].as_u64().expect("line") as usize;
        let line = &log[n - 1];
        if let Some(r) = e["recipient"].as_str() {
            if e["cause"] != "expired" {
                assert!(line.contains(r), "line {n} does not name {r}");
            }
        }
        for k in [
            "time",
            "mta",
            "direction",
            "cause",
            "severity",
            "file",
            "text",
        ] {
            assert!(e.get(k).is_some(), "{k} missing");
        }
    }
}

#[test]
fn logwatch_corpus_lines_are_all_understood() {
    // Real Postfix message bodies from postfix-logwatch's test data (MIT).
    let rel = "postfix/logwatch-td.log";
    let r = json(&[testdata(rel).to_str().expect("path")]);
    let log = lines(rel);
    assert_eq!(r["lines"]["unrecognised"], 0);
    let warnings = log.iter().filter(|l| l.contains("reject_warning:")).count() as u64;
    assert_eq!(r["totals"]["reject_warnings"], warnings);
    let rejects = log
        .iter()
        .filter(|l| l.contains("reject: ") && !l.contains("reject_warning:"))
        .count() as u64;
    assert_eq!(r["totals"]["inbound"], rejects);
    let failures = r["totals"]["failures"].as_u64().expect("n");
    let other = count(&r, "other", "inbound")
        + count(&r, "other", "outbound")
        + count(&r, "other", "local");
    assert!(other * 20 < failures, "{other} of {failures} unclassified");
}

#[test]
fn real_postfix_log_from_loopback() {
    // Written by a real Postfix 3.7 (maillog_file, i.e. postlogd) on loopback, driven by swaks
    // and a scripted SMTP peer; see testdata/README.md.
    let rel = "postfix/loopback-postlogd.log";
    let r = json(&[testdata(rel).to_str().expect("path")]);
    let log = lines(rel);
    let grep = |a: &str, b: &str| {
        log.iter()
            .filter(|l| l.contains(a) && l.contains(b))
            .count() as u64
    };
    assert_eq!(r["lines"]["recognised"], log.len() as u64);
    for (table, cause) in [
        (
            "local recipient table",
            "unknown_user.local_recipient_table",
        ),
        ("virtual alias table", "unknown_user.virtual_alias_table"),
        (
            "virtual mailbox table",
            "unknown_user.virtual_mailbox_table",
        ),
        (
            "relay recipient table",
            "unknown_user.relay_recipient_table",
        ),
    ] {
        assert_eq!(
            count(&r, cause, "inbound"),
            grep(" reject: ", table),
            "{table}"
        );
        assert_eq!(
            count(&r, cause, "outbound"),
            grep("postfix/smtp[", table),
            "{table}"
        );
    }
    assert_eq!(
        count(&r, "relay_denied", "inbound"),
        grep(" reject: ", "Relay access denied")
    );
    assert_eq!(
        count(&r, "greylisted", "outbound"),
        grep("status=deferred", "Greylisted")
    );
    assert_eq!(
        count(&r, "mailbox_full", "outbound"),
        grep("status=deferred", "Mailbox full")
    );
    assert_eq!(
        count(&r, "unknown_user.no_such_user", "outbound"),
        // Gmail's wording, and Outlook.com's for an address it does not have.
        grep("status=bounced", "does not exist")
            + grep(
                "status=bounced",
                "5.5.0 Requested action not taken: mailbox unavailable"
            )
    );
    assert_eq!(
        count(&r, "mailbox_disabled", "outbound"),
        grep("status=bounced", "is disabled")
    );
    assert_eq!(
        count(&r, "blocklisted", "outbound"),
        grep("status=bounced", "blocked using")
    );
    assert_eq!(
        count(&r, "unknown_user.no_such_user", "local"),
        grep("postfix/local[", "unknown user")
    );
    // Two recipients were still deferred when the message expired.
    assert_eq!(count(&r, "expired", "outbound"), 2);
    assert_eq!(r["totals"]["reject_warnings"], grep("reject_warning:", ""));
    assert_eq!(r["totals"]["inbound"], grep(" reject: ", ""));
    assert_eq!(
        r["totals"]["ndr_sent"],
        grep("non-delivery notification", "")
    );
}
