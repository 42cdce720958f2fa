//! Line forms that were lost before issue 12, each on lines in the real shape:
//! localised month names in syslog stamps, docker compose log prefixes,
//! Exchange recipient-status lists with quoted members and LastError
//! brackets, vpopmail's `domain-user@domain` local recipients and qmail's
//! queue-lifetime expiry.

mod util;

use serde_json::Value;
use util::{events, json, testdata};

fn path(rel: &str) -> String {
    testdata(rel).to_str().expect("path").to_string()
}

fn by_recipient<'a>(ev: &'a [Value], rcpt: &str) -> &'a Value {
    ev.iter()
        .find(|e| e["recipient"] == rcpt)
        .unwrap_or_else(|| panic!("no event for {rcpt}: {ev:?}"))
}

// --- qmail: vpopmail recipients, queue-lifetime expiry

#[test]
fn vpopmail_local_recipients_lose_the_domain_prefix() {
    let ev = events(&[&path("lineforms/qmail-vpopmail-expiry")]);
    let bob = by_recipient(&ev, "bob@example.com");
    assert_eq!(bob["direction"], "local");
    assert_eq!(bob["cause"], "unknown_user.no_such_user");
    assert_eq!(bob["sender"], "news@example.com");
    // The first domain-shaped prefix is cut, the user's own "-ext" stays.
    let carol = by_recipient(&ev, "carol.jones-lists@mail.example.org");
    assert_eq!(carol["cause"], "mail_loop");
    // An ordinary dash address is no vpopmail prefix.
    by_recipient(&ev, "owner-list@example.com");
    assert!(
        ev.iter().all(|e| !e["recipient"]
            .as_str()
            .unwrap_or("")
            .starts_with("example.com-")),
        "{ev:?}"
    );
}

#[test]
fn qmail_queue_lifetime_expiry_is_an_expired_failure() {
    let ev = events(&[&path("lineforms/qmail-vpopmail-expiry")]);
    for rcpt in ["buyer@slow.example", "gone@slow.example"] {
        let e = by_recipient(&ev, rcpt);
        assert_eq!(e["cause"], "expired", "{e}");
        assert_eq!(e["severity"], "hard", "{e}");
        assert_eq!(e["status"], "failure", "{e}");
        assert_eq!(e["direction"], "outbound", "{e}");
    }
    // A plain deferral of the same message is not an expiry.
    let later = by_recipient(&ev, "later@slow.example");
    assert_eq!(later["severity"], "soft");
    assert_ne!(later["cause"], "expired");
    let r = json(&[&path("lineforms/qmail-vpopmail-expiry")]);
    assert_eq!(util::count(&r, "expired", "outbound"), 2);
    assert_eq!(r["lines"]["unrecognised"], 0);
}

// --- Exchange: quoted list members and the LastError form

#[test]
fn exchange_last_error_and_quoted_statuses_give_one_event_per_recipient() {
    let file = path("lineforms/MSGTRK2025031007-lasterror.LOG");
    let ev = events(&[&file]);
    assert_eq!(ev.len(), 7, "one event per recipient: {ev:?}");
    let expect: &[(&str, &str, &str)] = &[
        (
            "ghost@example.com",
            "unknown_user.no_such_user",
            "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
        ),
        (
            "it@example.com",
            "policy",
            "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required",
        ),
        // A ";" without a space inside the brackets does not split the status.
        (
            "old@partner.example",
            "blocklisted",
            "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using zen.spamhaus.org;https://www.spamhaus.org/query/ip/192.0.2.1",
        ),
        (
            "list@partner.example",
            "unknown_user.virtual_alias_table",
            "550 5.1.1 <list@partner.example>: Recipient address rejected: User unknown in virtual alias table",
        ),
        // A '…'-quoted member keeps its separator and loses its quotes.
        (
            "a@remote.example",
            "blocklisted",
            "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using zen.spamhaus.org;https://www.spamhaus.org/query/ip/192.0.2.1",
        ),
        (
            "b@remote.example",
            "unknown_user.local_recipient_table",
            "550 5.1.1 <b@remote.example>: Recipient address rejected: User unknown in local recipient table",
        ),
        (
            "buyer@slow.example",
            "connection_failed",
            "441 4.4.1 Error encountered while communicating with primary target IP address: \"Failed to connect. Winsock error code: 10060\"",
        ),
    ];
    for (rcpt, cause, text) in expect {
        let e = by_recipient(&ev, rcpt);
        assert_eq!(e["text"], *text, "{rcpt}");
        assert_eq!(e["cause"], *cause, "{rcpt}");
    }
    assert_eq!(
        by_recipient(&ev, "ghost@example.com")["direction"],
        "inbound"
    );
    assert_eq!(
        by_recipient(&ev, "ghost@example.com")["client"],
        "mail.example.org"
    );
    assert_eq!(by_recipient(&ev, "buyer@slow.example")["severity"], "soft");
    let r = json(&[&file]);
    assert_eq!(r["lines"]["unrecognised"], 0);
    assert_eq!(r["totals"]["failures"], 7);
}
