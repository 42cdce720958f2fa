//! Line forms that were lost before issue 12, each on lines in the real shape:
//! localised month names in syslog stamps, docker compose log prefixes,
//! Exchange recipient-status lists with quoted members and LastError
//! brackets, vpopmail's `domain-user@domain` local recipients and qmail's
//! queue-lifetime expiry.

use crate::util::{events, json, testdata};
use bouncelog::parse::syslog;
use chrono::Datelike;
use serde_json::Value;

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
    assert_eq!(crate::util::count(&r, "expired", "outbound"), 2);
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

// --- syslog stamps with localised month names

/// A copy of a testdata file whose mtime is the end of 2025, so that every
/// year-less stamp in it falls in 2025.
fn dated_copy(rel: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join(rel.replace('/', "_"));
    std::fs::copy(testdata(rel), &p).expect("copy");
    let mtime = chrono::DateTime::parse_from_rfc3339("2025-12-31T12:00:00Z").expect("t");
    let f = std::fs::File::options().write(true).open(&p).expect("open");
    f.set_modified(std::time::SystemTime::from(mtime))
        .expect("mtime");
    let s = p.to_str().expect("p").to_string();
    (dir, s)
}

#[test]
fn localised_month_names_give_the_right_month() {
    // Each file: journalctl -o short ("%b %d %H:%M:%S") under one locale, one
    // reject on the 10th of every month of 2025, to m<MM>@example.com.
    for loc in [
        "de_DE",
        "de_AT",
        "fr_FR",
        "fr_CA",
        "es_ES",
        "es_PE",
        "de_DE.latin1",
        "fr_FR.latin1",
    ] {
        let (_dir, file) = dated_copy(&format!("lineforms/syslog-{loc}.log"));
        let ev = events(&[&file]);
        assert_eq!(ev.len(), 12, "{loc}: {ev:?}");
        for m in 1..=12 {
            let e = by_recipient(&ev, &format!("m{m:02}@example.com"));
            assert_eq!(e["time"], format!("2025-{m:02}-10T07:01:45Z"), "{loc}");
            assert_eq!(e["cause"], "unknown_user.local_recipient_table", "{loc}");
        }
        let r = json(&[&file]);
        assert_eq!(r["lines"]["unrecognised"], 0, "{loc}");
        assert_eq!(r["lines"]["other_programs"], 0, "{loc}");
    }
}

#[test]
fn localised_month_names_dots_case_and_latin1() {
    let ctx = syslog::TimeContext {
        reference: chrono::NaiveDate::from_ymd_opt(2025, 12, 31)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("date"),
        all_times: false,
        zone: syslog::Zone::system(),
    };
    let month = |stamp: &[u8]| {
        let mut line = stamp.to_vec();
        line.extend_from_slice(b" mx1 postfix/smtpd[1]: NOQUEUE: reject: x");
        let h = syslog::parse_header(&line).expect("header");
        assert_eq!(h.form, syslog::StampForm::Bsd);
        assert_eq!(h.host, b"mx1");
        assert_eq!(h.msg, b"NOQUEUE: reject: x");
        syslog::resolve(&h, &ctx).map(|t| (t.month(), t.day()))
    };
    for (stamp, m, d) in [
        (&b"M\xc3\xa4r 10 07:01:45"[..], 3, 10),
        (b"M\xe4r 10 07:01:45", 3, 10),
        (b"Okt  3 07:01:45", 10, 3),
        (b"janv. 10 07:01:45", 1, 10),
        (b"janv 10 07:01:45", 1, 10),
        (b"f\xc3\xa9vr. 10 07:01:45", 2, 10),
        (b"f\xc3\xa9vr 10 07:01:45", 2, 10),
        (b"avril 10 07:01:45", 4, 10),
        (b"avr. 10 07:01:45", 4, 10),
        (b"ao\xc3\xbbt 10 07:01:45", 8, 10),
        (b"sept. 10 07:01:45", 9, 10),
        (b"Sept 10 07:01:45", 9, 10),
        (b"d\xc3\xa9c. 10 07:01:45", 12, 10),
        (b"MAI 10 07:01:45", 5, 10),
        (b"dic 10 07:01:45", 12, 10),
        (b"mar 10 07:01:45", 3, 10),
        (b"set 10 07:01:45", 9, 10),
    ] {
        assert_eq!(
            month(stamp),
            Some((m, d)),
            "{}",
            String::from_utf8_lossy(stamp)
        );
    }
    // Every table entry, with and without a dot, names its month.
    for (i, names) in syslog::LOCAL_MONTHS.iter().enumerate() {
        for name in names.iter() {
            for dot in [&b""[..], b"."] {
                let stamp = [name.as_bytes(), dot, b" 10 07:01:45"].concat();
                let want = Some((i as u32 + 1, 10));
                assert_eq!(month(&stamp), want, "{}", String::from_utf8_lossy(&stamp));
            }
        }
    }
    // Not months: other words, and a host that looks like one keeps the stamp-less form.
    for l in ["Mrz 10 07:01:45 mx1 p[1]: m", "ma 10 07:01:45 mx1 p[1]: m"] {
        assert!(syslog::parse_header(l.as_bytes()).is_none(), "{l}");
    }
    let h = syslog::parse_header(b"mai postfix/smtpd[4242]: NOQUEUE: reject: x").expect("header");
    assert_eq!((h.form, h.host), (syslog::StampForm::None, &b"mai"[..]));
}

// --- docker compose log prefixes

#[test]
fn docker_compose_prefixes_with_and_without_stamps() {
    let file = path("lineforms/docker-compose.log");
    let ev = events(&[&file]);
    let time = |rcpt: &str| by_recipient(&ev, rcpt)["time"].clone();
    // The year comes from the file's mtime: compare month, day and clock only.
    for (rcpt, hms) in [
        ("v2@example.com", "03-10T07:01:45Z"),
        ("v1@example.com", "03-10T07:01:46Z"),
        ("colour2@example.com", "03-10T07:01:47Z"),
        ("colour1@example.com", "03-10T07:01:47Z"),
    ] {
        let t = time(rcpt);
        assert!(t.as_str().is_some_and(|t| t.ends_with(hms)), "{rcpt}: {t}");
    }
    // `docker compose logs -t`: Docker's own UTC stamp wins over the inner one.
    assert_eq!(
        time("stamped@example.com"),
        "2025-03-10T07:01:48.123456789Z"
    );
    assert_eq!(
        time("stamped-bare@example.com"),
        "2025-03-10T07:01:49.000000001Z"
    );
    // No stamp after the bar: recognised, time unknown.
    assert!(time("bare@example.com").is_null());
    for e in &ev[..] {
        if e["direction"] == "inbound" {
            assert_eq!(e["cause"], "unknown_user.local_recipient_table", "{e}");
            assert_eq!(e["sender"], "alice@example.org", "{e}");
        }
    }
    // Bare lines of one message still join by queue id.
    let out = by_recipient(&ev, "nobody@example.net");
    assert_eq!(out["sender"], "news@example.com");
    assert_eq!(out["cause"], "unknown_user.virtual_mailbox_table");
    assert_eq!(out["direction"], "outbound");
    assert_eq!(ev.len(), 8);
    let r = json(&[&file]);
    // The web server's line and the empty one are not mail lines.
    assert_eq!(r["lines"]["unrecognised"], 2);
    assert_eq!(r["lines"]["other_programs"], 0);
}

#[test]
fn container_prefix_parsing() {
    let h =
        syslog::parse_header(b"mail-1  | postfix/smtpd[4242]: NOQUEUE: reject: x").expect("header");
    assert_eq!(h.form, syslog::StampForm::None);
    assert_eq!((h.host, h.program), (&b""[..], &b"postfix/smtpd"[..]));
    assert_eq!(h.msg, b"NOQUEUE: reject: x");
    let h = syslog::parse_header(b"postfix_1  | Mar 10 07:01:45 mx1 postfix/smtpd[4242]: m")
        .expect("header");
    assert_eq!((h.stamp, h.host), (&b"Mar 10 07:01:45"[..], &b"mx1"[..]));
    // Only a name, padding and the bar make a prefix; the pid is required
    // after a bare bar, and ordinary text with a bar is not syslog.
    for l in [
        "mail-1  | postfix/smtpd: no pid here",
        "mail-1 |",
        "a | b c: d",
        " | Mar 10 07:01:45 mx1 postfix/smtpd[4242]: m",
        "mail-1| Mar 10 07:01:45 mx1 postfix/smtpd[4242]: m",
        "mail-1  | some words [1]: here",
    ] {
        assert!(syslog::parse_header(l.as_bytes()).is_none(), "{l}");
    }
}

#[test]
fn exim_native_lines_inside_a_container_are_recognised() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("compose.log");
    std::fs::write(
        &p,
        "exim-1  | 2025-03-10 09:14:07 H=mail.example.org [198.51.100.7] F=<a@example.org> rejected RCPT <b@example.com>: Unrouteable address\n",
    )
    .expect("write");
    let ev = events(&[p.to_str().expect("p")]);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["mta"], "exim");
    assert_eq!(ev[0]["cause"], "unknown_user.unrouteable");
    assert_eq!(ev[0]["time"], "2025-03-10T09:14:07Z");
}
