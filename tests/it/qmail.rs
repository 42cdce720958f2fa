//! qmail end to end: the three log forms (multilog TAI64N, tai64nlocal,
//! splogger), delivery → message → recipient joins, qmail's `_`/`/` text
//! encoding, chkuser and rblsmtpd rejections.

use crate::util::{count, events, json, testdata};

fn path(rel: &str) -> String {
    testdata(rel).to_str().expect("path").to_string()
}

#[test]
fn the_three_forms_give_the_same_events() {
    let summary = |rel: &str| {
        let mut v: Vec<(String, String, String)> = events(&[&path(rel)])
            .iter()
            .map(|e| {
                (
                    e["recipient"].as_str().unwrap_or("").to_string(),
                    e["cause"].as_str().expect("c").to_string(),
                    e["direction"].as_str().expect("d").to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let multilog = summary("qmail/send-multilog");
    assert_eq!(multilog, summary("qmail/send-tai64nlocal"));
    assert_eq!(multilog, summary("qmail/maillog-splogger"));
    let expect = [
        ("full@remote.example", "mailbox_full", "outbound"),
        ("ghost@example.com", "unknown_user.no_such_user", "local"),
        (
            "nobody@gmail.example",
            "unknown_user.no_such_user",
            "outbound",
        ),
        (
            "old@partner.example",
            "unknown_user.virtual_alias_table",
            "outbound",
        ),
        ("someone@exmaple.com", "domain_not_found", "outbound"),
    ];
    let got: Vec<(&str, &str, &str)> = multilog
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn deliveries_join_message_sender_and_decoded_text() {
    let ev = events(&[&path("qmail/send-multilog")]);
    let e = ev
        .iter()
        .find(|e| e["recipient"] == "nobody@gmail.example")
        .expect("event");
    assert_eq!(e["queue_id"], "660188");
    assert_eq!(e["sender"], "news@example.com");
    assert_eq!(e["remote_host"], "192.0.2.101");
    assert_eq!(e["severity"], "hard");
    let text = e["text"].as_str().expect("text");
    assert!(
        text.starts_with("Remote host said: 550-5.1.1 The email account"),
        "{text}"
    );
    assert!(!text.contains('_'));
    assert_eq!(e["code"], "550");
    assert_eq!(e["time"], "2025-03-10T09:00:01.099999905Z");
    let full = ev
        .iter()
        .find(|e| e["recipient"] == "full@remote.example")
        .expect("event");
    assert_eq!(full["severity"], "soft");
    let r = json(&[&path("qmail/send-multilog")]);
    assert_eq!(r["totals"]["ndr_sent"], 1);
    assert_eq!(r["totals"]["delivered"], 2);
    assert_eq!(r["lines"]["unrecognised"], 0);
}

#[test]
fn tai64n_labels_decode_exactly() {
    // A real qmail-send line (linux-kernel list, 2004): label 40000000419f13a5 08f3214c.
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("current");
    std::fs::write(
        &p,
        "@40000000419f13a41cea7d1c starting delivery 5: msg 12345 to remote andrea@example.com\n\
         @40000000419f13a508f3214c delivery 5: failure: 192.0.2.11_does_not_like_recipient./Remote_host_said:_550_5.1.1_<andrea@example.com>_is_not_a_valid_mailbox._550_No_such_recipient/Giving_up_on_192.0.2.11./\n",
    )
    .expect("w");
    let ev = events(&[p.to_str().expect("p")]);
    assert_eq!(ev.len(), 1);
    // 0x419f13a5 - 10 = 1100944283 s = 2004-11-20 09:51:23 UTC; 0x08f3214c = 150151500 ns.
    assert_eq!(ev[0]["time"], "2004-11-20T09:51:23.150151500Z");
    assert_eq!(ev[0]["recipient"], "andrea@example.com");
    assert_eq!(ev[0]["cause"], "unknown_user.no_such_user");
}

#[test]
fn chkuser_and_rblsmtpd_rejections_are_inbound() {
    let r = json(&[&path("qmail/smtpd-multilog")]);
    assert_eq!(count(&r, "unknown_user.no_such_user", "inbound"), 3);
    assert_eq!(count(&r, "relay_denied", "inbound"), 1);
    assert_eq!(count(&r, "mailbox_full", "inbound"), 1);
    assert_eq!(count(&r, "rate_limited", "inbound"), 1);
    assert_eq!(count(&r, "blocklisted", "inbound"), 1);
    assert_eq!(
        r["totals"]["failures"], 7,
        "accepted rcpt/sender lines are not failures"
    );
    let g = r["groups"]
        .as_array()
        .expect("g")
        .iter()
        .find(|g| g["cause"] == "unknown_user.no_such_user")
        .cloned()
        .expect("g");
    assert_eq!(g["top_clients"][0]["value"], "unknown:203.0.113.45");
    assert_eq!(g["top_clients"][0]["count"], 2);
    let hints = g["hints"].to_string();
    assert!(
        hints.contains("vadduser") || hints.contains("qmail"),
        "{hints}"
    );
}

#[test]
fn corpus_qmail_lines_are_recognised() {
    // Real multilog lines from ../shared/corpus (read at test time, not copied).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let files = [
        "lkml-qmail-multilog/qmail-send-multilog-2004-11-20.log",
        "indimail-readme/readme-log-lines.log",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if paths.is_empty() {
        eprintln!("skipped: the qmail lines of ../shared/corpus are not beside the checkout");
        return;
    }
    for p in &paths {
        let r = json(&[p.as_str()]);
        let text = std::fs::read_to_string(p).expect("read");
        let failures = text
            .lines()
            .filter(|l| l.contains(": failure: ") || l.contains(": deferral: "))
            .count() as u64;
        let out_local = r["totals"]["outbound"].as_u64().expect("n")
            + r["totals"]["local"].as_u64().expect("n");
        assert_eq!(out_local, failures, "{p}");
        let ok = text.lines().filter(|l| l.contains(": success: ")).count() as u64;
        assert_eq!(r["totals"]["delivered"], ok, "{p}");
    }
}
