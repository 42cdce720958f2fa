//! How a failure is classified, on whole log lines in the shapes the MTAs
//! write: masked words, codes only where a reply starts, severity from the
//! event, specific before generic, the outer verdict, direction by who
//! answered, fields, and provider-scoped rules.

use crate::util::{bouncelog, events};
use serde_json::Value;
use std::fs;

/// The events of a log made of `lines`.
fn run(lines: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    fs::write(&p, lines.join("\n") + "\n").expect("write");
    events(&[p.to_str().expect("path")])
}

/// The one event of a one-line log.
fn one(line: &str) -> Value {
    let e = run(&[line]);
    assert_eq!(e.len(), 1, "{line}: {e:?}");
    e.into_iter().next().expect("event")
}

fn reject(text: &str) -> String {
    format!(
        "Mar 10 07:01:45 mx1 postfix/smtpd[4242]: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.7]: {text}; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<mail.example.org>"
    )
}

fn bounce(relay: &str, status: &str, text: &str) -> String {
    format!(
        "Mar 10 09:00:00 mx1 postfix/smtp[5000]: 4B1C2D3E4F: to=<b@example.net>, relay={relay}, delay=1, delays=0/0/0.5/0.5, dsn=5.0.0, status={status} ({text})"
    )
}

#[test]
fn words_inside_addresses_and_hosts_do_not_count() {
    for local in ["spamtrap", "virus", "rbl", "greylist"] {
        let e = one(&reject(&format!(
            "554 5.7.1 <{local}@example.com>: Recipient address rejected: Access denied"
        )));
        assert_eq!(e["cause"], "policy", "{local}");
    }
    let e = one(&bounce(
        "spam-filter.example.net[192.0.2.9]:25",
        "bounced",
        "host spam-filter.example.net[192.0.2.9] said: 550 5.1.1 <b@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
    ));
    assert_eq!(e["cause"], "unknown_user.virtual_mailbox_table");
}

#[test]
fn codes_are_read_only_where_a_reply_starts() {
    let e = one("2025-03-10 10:00:04 H=client.example.org [198.51.100.9] F=<s@example.org> rejected RCPT <x@example.com>: Access denied - Invalid HELO name (See RFC2821 4.1.1.1)");
    assert_eq!(e["cause"], "helo_rejected");
    assert_eq!(e["dsn"], Value::Null, "4.1.1.1 is prose, not a code");
    assert_eq!(
        e["severity"], "hard",
        "an Exim ACL denial with no code is a 550"
    );
    let e = one(&bounce(
        "mx.example.net[192.0.2.108]:587",
        "deferred",
        "connect to mx.example.net[192.0.2.108]:587: Connection refused",
    ));
    assert_eq!(e["code"], Value::Null);
    assert_eq!(e["cause"], "connection_failed");
}

/// Exim's lmtp transport (and smtp with `protocol = lmtp`, or PRDR) writes
/// "LMTP error after <command>: <reply>" (transports/lmtp.c, smtp.c): the
/// reply's codes are read there, as after "SMTP error from remote mail server".
#[test]
fn exim_lmtp_errors_give_their_codes() {
    let e = one("2025-03-10 10:02:00 1trZD6-0007Ll-2T ** erin@example.com R=local_user T=dovecot_lmtp: LMTP error after RCPT TO:<erin@example.com>: 550 5.1.1 <erin@example.com> User doesn't exist: erin@example.com");
    assert_eq!(e["code"], "550");
    assert_eq!(e["dsn"], "5.1.1");
    assert_eq!(e["cause"], "unknown_user.no_such_user");
    let e = one("2025-03-10 10:03:00 1trZD7-0007Lm-3U == henry@example.com R=local_user T=dovecot_lmtp defer (-46): LMTP error after end of data: 452 4.2.2 <henry@example.com> Quota exceeded (mailbox for user is full)");
    assert_eq!(e["code"], "452");
    assert_eq!(e["dsn"], "4.2.2");
    assert_eq!(e["cause"], "mailbox_full");
    assert_eq!(e["severity"], "soft");
}

#[test]
fn severity_comes_from_the_event() {
    let soft = one("2025-03-10 09:14:07 H=mail.example.org [198.51.100.7] F=<a@example.org> temporarily rejected RCPT <b@example.com>: Could not complete recipient verify callout");
    assert_eq!(soft["severity"], "soft");
    assert_eq!(soft["cause"], "address_verification_tempfail");
    // A deferral is soft whatever the quoted code says.
    let d = one(&bounce(
        "mx.example.net[192.0.2.1]:25",
        "deferred",
        "host mx.example.net[192.0.2.1] said: 554 5.7.1 Service unavailable; Client host [192.0.2.3] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
    ));
    assert_eq!(d["severity"], "soft");
    // explain gives the severity analyze gives.
    let out = bouncelog()
        .args([
            "explain",
            "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to user complaints",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(soft)"), "{text}");
}

#[test]
fn text_beats_code_and_specific_beats_generic() {
    let cases = [
        (
            "550 5.2.1 <a@example.jp>... User Unknown",
            "unknown_user.no_such_user",
        ),
        ("530 5.7.0 Must issue a STARTTLS command first", "tls_required"),
        (
            "450 4.2.0 <b@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
            "greylisted",
        ),
        (
            "450 4.7.1 Client host rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
            "greylisted",
        ),
    ];
    for (text, cause) in cases {
        assert_eq!(one(&reject(text))["cause"], cause, "{text}");
    }
    let ptr = one(&bounce(
        "mx00.example.net[192.0.2.30]:25",
        "bounced",
        "host mx00.example.net[192.0.2.30] refused to talk to me: 554-mx00.example.net 554 Bad DNS PTR resource record",
    ));
    assert_eq!(ptr["cause"], "client_rejected");
    let dns = one(&bounce(
        "mx00.example.net[192.0.2.30]:25",
        "bounced",
        "host mx00.example.net[192.0.2.30] said: 550-Requested action not taken: mailbox unavailable 550 invalid DNS MX or A/AAAA resource record (in reply to MAIL FROM command)",
    ));
    assert_eq!(dns["cause"], "sender_domain_dns");
}

#[test]
fn the_outer_verdict_decides() {
    let e = one(&reject("450 4.1.1 <b@example.com>: Recipient address rejected: unverified address: host backend.example.com[192.0.2.20] said: 451 4.7.0 Temporary server error. Please try again later (in reply to RCPT TO command)"));
    assert_eq!(e["cause"], "address_verification_tempfail");
    assert_eq!(e["severity"], "soft");
    let e = one(&reject(
        "550 5.1.0 <a@example.org>: Sender address rejected: User unknown in local recipient table",
    ));
    assert_eq!(e["cause"], "sender_rejected");
    let e = one("2025-03-10 09:20:11 H=relay.example.net [198.51.100.20] F=<a@example.net> rejected RCPT <left@example.com>: host [192.0.2.20] : SMTP error from remote mail server after RCPT TO:<left@example.com>: 550 5.1.1 <left@example.com>: Recipient address rejected: User unknown in virtual mailbox table");
    assert_eq!(e["cause"], "unknown_user.address_verification");
    assert_eq!(e["direction"], "inbound");
}

#[test]
fn direction_comes_from_who_answered() {
    let e = run(&[
        "Mar 10 09:00:01 mx1 postfix/lmtp[5001]: 4B1C2D3E4F: to=<u1@example.org>, relay=mail.example.org[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host mail.example.org[private/dovecot-lmtp] said: 550 5.1.1 <u1@example.org> User doesn't exist: u1@example.org (in reply to RCPT TO command))",
        "Mar 10 09:00:02 mx1 postfix/error[5002]: 5C2D3E4F5A: to=<a@example.net>, relay=none, delay=300, delays=300/0/0/0, dsn=4.7.0, status=deferred (delivery temporarily suspended: host mx.example.net[192.0.2.7] refused to talk to me: 421 4.7.0 Try again later)",
    ]);
    assert_eq!(e[0]["direction"], "local");
    assert_eq!(e[0]["cause"], "unknown_user.no_such_user");
    assert_eq!(e[1]["direction"], "outbound");
    assert_eq!(e[1]["remote_host"], Value::Null, "relay=none is no host");
}

#[test]
fn a_fault_of_our_own_before_any_remote_server_is_local() {
    let e = run(&[
        "@400000006789abcd00000000 starting delivery 12: msg 1234 to remote a@example.net",
        "@400000006789abcd00000001 delivery 12: deferral: Unable_to_run_qmail-remote./",
    ]);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["recipient"], "a@example.net");
    assert_eq!(e[0]["direction"], "local");
    assert_eq!(e[0]["cause"], "server_error");
}

#[test]
fn exim_fields_in_both_orders() {
    let e = run(&[
        "2025-03-10 10:00:01 1tZabc-000124-AB == b@example.net R=dnslookup T=remote_smtp defer (111): Connection refused H=mx.example.net [192.0.2.1]",
        "2025-03-10 10:00:02 1tZabc-000125-AB ** c@example.net R=dnslookup T=remote_smtp: host mx.example.net [192.0.2.1]: 554 5.7.1 Service unavailable; Client host [198.51.100.1] blocked using zen.spamhaus.org",
    ]);
    assert_eq!(e[0]["recipient"], "b@example.net");
    assert_eq!(e[0]["text"], "Connection refused");
    assert_eq!(e[0]["remote_host"], "mx.example.net [192.0.2.1]");
    assert_eq!(e[1]["remote_host"], "mx.example.net [192.0.2.1]");
    assert_eq!(e[1]["cause"], "blocklisted");
    assert_eq!(e[1]["code"], "554");
}

#[test]
fn provider_rules_apply_to_the_providers_hosts_only() {
    let text = "host {h}[192.0.2.40] said: 451 4.7.500 Server busy. Please try again later from [192.0.2.10]. (S77714) (in reply to RCPT TO command)";
    let ms = "example-com.mail.protection.outlook.com";
    let e = one(&bounce(
        &format!("{ms}[192.0.2.40]:25"),
        "deferred",
        &text.replace("{h}", ms),
    ));
    assert_eq!(e["cause"], "reputation_throttled");
    let other = one(&bounce(
        "mx.example.net[192.0.2.40]:25",
        "deferred",
        &text.replace("{h}", "mx.example.net"),
    ));
    assert_ne!(other["cause"], "reputation_throttled");
}

#[test]
fn each_event_says_who_acts() {
    let e = one(&bounce(
        "mx.example.net[192.0.2.1]:25",
        "bounced",
        "host mx.example.net[192.0.2.1] said: 550 5.1.1 <b@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
    ));
    assert_eq!(e["actor"], "us");
    assert_eq!(e["action"], "remove_address");
    let inbound = one(&reject(
        "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org",
    ));
    assert_eq!(inbound["actor"], "nobody");
}

#[test]
fn recipients_refused_because_of_our_sender_domain_are_not_suppressed() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mail.log");
    let lines = [
        bounce(
            "mx00.example.net[192.0.2.30]:25",
            "bounced",
            "host mx00.example.net[192.0.2.30] said: 550-Requested action not taken: mailbox unavailable 550 invalid DNS MX or A/AAAA resource record (in reply to MAIL FROM command)",
        ),
        bounce(
            "mx.example.net[192.0.2.1]:25",
            "bounced",
            "host mx.example.net[192.0.2.1] said: 550 5.1.1 <b@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
        )
        .replace("to=<b@example.net>", "to=<gone@example.net>"),
    ];
    fs::write(&p, lines.join("\n") + "\n").expect("write");
    let out = bouncelog()
        .args(["suppress", p.to_str().expect("p")])
        .output()
        .expect("run");
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("gone@example.net"), "{list}");
    assert!(!list.contains("b@example.net"), "{list}");
}

#[test]
fn a_dsn_diagnostic_code_reads_as_its_reply() {
    let out = bouncelog()
        .args([
            "explain",
            "Diagnostic-Code: smtp; 550 5.1.1 <x@example.com>... User Unknown",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Cause: unknown_user.no_such_user"), "{text}");
    assert!(text.contains("Codes: 550 5.1.1"), "{text}");
    let out = bouncelog()
        .args([
            "explain",
            "Status: 4.2.2 Diagnostic-Code: X-Postfix; mailbox is full",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(soft)"), "{text}");
}
