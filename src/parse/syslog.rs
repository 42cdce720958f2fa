//! The syslog envelope of a log line: timestamp, host, program and pid, in the
//! forms real systems write (RFC 3164 with or without `<PRI>`, rsyslog's RFC 3339
//! high-precision stamps, `journalctl -o short-iso`, RFC 5424, Solaris message
//! ids, localised month names, `docker compose logs` prefixes), and the year
//! inference for RFC 3164 stamps, which carry no year.
//!
//! Parsing the envelope is cheap and done for every line; turning the stamp
//! into a time is done only for lines that become events, by `stamp` (the
//! year inference, the time zone, the hand-written decoders), re-exported
//! here.

pub use super::stamp::{local, resolve, TimeContext, Zone};

/// How a line's stamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampForm {
    /// `Mar  3 10:12:01` (RFC 3164, no year, local time).
    Bsd,
    /// `2025-03-10T09:14:08.123456+01:00` or `…+0100` or `…Z`.
    Iso,
    /// `2016-04-01 11:08:00` (syslog-ng's ISO date with a space, local time).
    IsoSpace,
    /// No stamp (`host prog[pid]: msg`, as some journal exports write, or a
    /// bare `prog[pid]: msg` after a container prefix): the time is unknown.
    None,
}

/// The envelope of one syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The stamp bytes.
    pub stamp: &'a [u8],
    /// Its form.
    pub form: StampForm,
    /// Host name (may be empty).
    pub host: &'a [u8],
    /// Program (syslog tag) without the pid.
    pub program: &'a [u8],
    /// Message after `program[pid]: `.
    pub msg: &'a [u8],
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Month names (January first) that `strftime("%b")` writes in German, French
/// and Spanish locales, as `journalctl -o short` puts them in RFC 3164 stamps
/// (`Mär 10 07:01:45`): glibc 2.36's LC_TIME `abmon` of every de_*, fr_* and
/// es_* locale (`locale abmon`): de_AT `Jän`, fr_FR `janv.` … `déc.`, fr_CA
/// and others `fév`, `jui`, es_PE/es_UY `set`. The dot is dropped and ASCII
/// case ignored; names equal to English ones (`feb`, `mar`) are read as those,
/// Latin-1 bytes (ISO-8859-1 locales: `M\xe4r`) as their UTF-8 spelling. Code,
/// not `patterns/`: stamps are read before any pattern set, and this is locale
/// data, not a site's rules.
pub const LOCAL_MONTHS: [&[&str]; 12] = [
    &["Jän", "janv", "ene"],
    &["févr", "fév"],
    &["Mär", "mars"],
    &["avril", "avr", "abr"],
    &["Mai"],
    &["juin"],
    &["juil", "jui"],
    &["août", "aoû", "ago"],
    &["sept", "set"],
    &["Okt"],
    &[],
    &["Dez", "déc", "dic"],
];

/// The month of an RFC 3164 stamp and the length of its name: English names
/// by a three-byte compare (nearly every log), else [`LOCAL_MONTHS`].
pub(crate) fn bsd_month(b: &[u8]) -> Option<(u32, usize)> {
    if b.get(3) == Some(&b' ') {
        if let Some(i) = MONTHS.iter().position(|m| &b[..3] == *m) {
            return Some((i as u32 + 1, 3));
        }
    }
    local_month(b)
}

/// A localised month name (see [`LOCAL_MONTHS`]) and its length with the dot.
fn local_month(b: &[u8]) -> Option<(u32, usize)> {
    // The longest name is "avril." (6 bytes) or "févr." (6 in UTF-8).
    let end = b.iter().take(8).position(|&c| c == b' ')?;
    let word = &b[..end];
    let mut name = word.strip_suffix(b".").unwrap_or(word);
    let mut utf8 = [0u8; 16];
    if std::str::from_utf8(name).is_err() {
        // Latin-1: every byte is the code point of the same value.
        let mut n = 0;
        for &c in name {
            n += char::from(c).encode_utf8(&mut utf8[n..]).len();
        }
        name = &utf8[..n];
    }
    if name.len() < 3 {
        return None;
    }
    if let Some(i) = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name)) {
        return Some((i as u32 + 1, end));
    }
    LOCAL_MONTHS
        .iter()
        .position(|names| {
            names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
        })
        .map(|i| (i as u32 + 1, end))
}

/// Splits off the next space-delimited token, skipping leading spaces.
fn token(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = b.iter().position(|&c| c != b' ')?;
    let b = &b[start..];
    let end = memchr::memchr(b' ', b).unwrap_or(b.len());
    Some((&b[..end], &b[end..]))
}

fn skip_spaces(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ').count();
    &b[n..]
}

/// Parses `program[pid]: msg` or `program: msg`.
fn tag(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let b = skip_spaces(b);
    let end = b
        .iter()
        .position(|&c| c == b'[' || c == b':' || c == b' ')?;
    let program = &b[..end];
    if program.is_empty() {
        return None;
    }
    let mut rest = &b[end..];
    if rest.first() == Some(&b'[') {
        let close = memchr::memchr(b']', rest)?;
        rest = &rest[close + 1..];
    }
    let rest = rest.strip_prefix(b":")?;
    let mut msg = rest.strip_prefix(b" ").unwrap_or(rest);
    // Solaris: "[ID 197553 mail.info] "
    if msg.starts_with(b"[ID ") {
        if let Some(close) = memchr::memchr(b']', msg) {
            msg = skip_spaces(&msg[close + 1..]);
        }
    }
    Some((program, msg))
}

/// An RFC 3164 stamp at the start of `b` and the text after it:
/// `Mar  3 10:12:01`, `Mar 03 10:12:01`, `Mar 3 10:12:01`, or with a
/// localised month name (`Mär 10 07:01:45`, `févr. 10 07:01:45`).
fn bsd_stamp(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, month_len) = bsd_month(b)?;
    let day_start = month_len + b[month_len..].iter().take_while(|&&c| c == b' ').count();
    let day_len = b[day_start..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) || day_start == month_len {
        return None;
    }
    let t = day_start + day_len + 1;
    if b.len() < t + 8 || b[t - 1] != b' ' || b[t + 2] != b':' || b[t + 5] != b':' {
        return None;
    }
    Some((&b[..t + 8], &b[t + 8..]))
}

/// Parses the envelope of a line; `None` when it is not a syslog line. A
/// line of `docker compose logs` is read after its container prefix (see
/// `container`).
pub fn parse_header(line: &[u8]) -> Option<Header<'_>> {
    plain(line).or_else(|| container(line))
}

/// A line of `docker compose logs`: the service name padded with spaces, a
/// bar, the container's output. Compose v2 writes `mail-1  | ` (coloured as a
/// whole on a terminal), v1 `postfix_1  | ` (colour around `name |`); `-t`
/// puts Docker's RFC 3339 stamp first, which is then the line's time (exact,
/// UTC). The output is a syslog line (Postfix's `maillog_file = /dev/stdout`)
/// or a bare `program[pid]: msg`, whose time is unknown (as stamp-less lines).
fn container(line: &[u8]) -> Option<Header<'_>> {
    let rest = container_output(line)?;
    docker_stamped(rest)
        .or_else(|| plain(rest))
        .or_else(|| bare_tag(rest))
}

/// `docker compose logs -t`: Docker's RFC 3339 stamp, then the container's line.
fn docker_stamped(rest: &[u8]) -> Option<Header<'_>> {
    let (st, after) = token(rest)?;
    if st.len() < 20 || !st[0].is_ascii_digit() || st[4] != b'-' || st[10] != b'T' {
        return None;
    }
    let after = skip_spaces(after);
    let inner = plain(after).or_else(|| bare_tag(after))?;
    let (stamp, form) = (st, StampForm::Iso);
    Some(Header {
        stamp,
        form,
        ..inner
    })
}

/// The text after a `docker compose logs` prefix (`name<spaces>| `, with or
/// without ANSI colour codes), or `None` when the line has none.
pub(crate) fn container_output(line: &[u8]) -> Option<&[u8]> {
    let b = skip_sgr(line);
    let name = b
        .iter()
        .take(128)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    let pad = b[name..].iter().take_while(|&&c| c == b' ').count();
    if name == 0 || pad == 0 {
        return None;
    }
    let b = skip_sgr(b[name + pad..].strip_prefix(b"|")?);
    Some(skip_sgr(b.strip_prefix(b" ").unwrap_or(b)))
}

/// Skips ANSI colour codes (`ESC[…m`) at the start of `b`.
fn skip_sgr(mut b: &[u8]) -> &[u8] {
    while let Some(r) = b.strip_prefix(b"\x1b[") {
        let n = r
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b';')
            .count();
        match r.get(n) {
            Some(b'm') => b = &r[n + 1..],
            _ => break,
        }
    }
    b
}

/// `program[pid]: msg` with neither stamp nor host (the pid is required).
fn bare_tag(b: &[u8]) -> Option<Header<'_>> {
    let open = b
        .iter()
        .position(|&c| c == b'[' || c == b':' || c == b' ')?;
    if open == 0 || b[open] != b'[' {
        return None;
    }
    let (program, msg) = tag(b)?;
    Some(Header {
        stamp: b"",
        form: StampForm::None,
        host: b"",
        program,
        msg,
    })
}

/// [`parse_header`] without container prefixes.
fn plain(line: &[u8]) -> Option<Header<'_>> {
    let mut b = line;
    // <PRI>
    if b.first() == Some(&b'<') {
        let close = b.iter().take(5).position(|&c| c == b'>')?;
        if close < 2 || !b[1..close].iter().all(u8::is_ascii_digit) {
            return None;
        }
        b = &b[close + 1..];
        // RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG"
        if b.starts_with(b"1 ") {
            return rfc5424(&b[2..]);
        }
    }
    if b.len() < 16 {
        return None;
    }
    let (stamp, form, rest) = if b[0].is_ascii_digit() {
        let (st, rest) = token(b)?;
        if st.len() >= 19 && st[4] == b'-' && st[10] == b'T' {
            (st, StampForm::Iso, rest)
        } else if st.len() == 10 && st[4] == b'-' && st[7] == b'-' {
            let (t, rest) = token(rest)?;
            if t.len() < 8 || t[2] != b':' || t[5] != b':' {
                return None;
            }
            (&b[..b.len() - rest.len()], StampForm::IsoSpace, rest)
        } else {
            return None;
        }
    } else if let Some((stamp, rest)) = bsd_stamp(b) {
        (stamp, StampForm::Bsd, rest)
    } else {
        // "host prog[pid]: msg" without a stamp; the pid is required so that
        // arbitrary "word word: text" lines are not taken for syslog.
        let (host, after) = token(b)?;
        let h = bare_tag(skip_spaces(after))?;
        // Not "ESC[33mpostfix_1  |ESC[0m …" (a coloured container prefix).
        if host.iter().chain(h.program).any(u8::is_ascii_control) {
            return None;
        }
        return Some(Header { host, ..h });
    };
    let (first, after) = token(rest)?;
    // Some writers omit the host: the first token is already the tag.
    let (host, (program, msg)) = if first.contains(&b'[') || first.ends_with(b":") {
        (&b""[..], tag(rest)?)
    } else {
        (first, tag(after)?)
    };
    Some(Header {
        stamp,
        form,
        host,
        program,
        msg,
    })
}

fn rfc5424(b: &[u8]) -> Option<Header<'_>> {
    let (stamp, rest) = token(b)?;
    let (host, rest) = token(rest)?;
    let (app, rest) = token(rest)?;
    let (_procid, rest) = token(rest)?;
    let (_msgid, rest) = token(rest)?;
    let rest = skip_spaces(rest);
    let rest = if rest.first() == Some(&b'[') {
        let end = memchr::memmem::find(rest, b"] ")
            .map(|i| i + 2)
            .unwrap_or(rest.len());
        &rest[end..]
    } else {
        rest.strip_prefix(b"-").unwrap_or(rest)
    };
    let msg = skip_spaces(rest);
    let msg = msg.strip_prefix("\u{feff}".as_bytes()).unwrap_or(msg);
    if stamp.len() < 19 || app == b"-" {
        return None;
    }
    Some(Header {
        stamp,
        form: StampForm::Iso,
        host: if host == b"-" { b"" } else { host },
        program: app,
        msg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Timelike};

    fn hdr(line: &str) -> Header<'_> {
        parse_header(line.as_bytes()).expect("header")
    }

    #[test]
    fn rfc3164_forms() {
        let h = hdr("Mar  3 10:12:01 mx1 postfix/smtpd[4242]: NOQUEUE: reject: x");
        assert_eq!(h.host, b"mx1");
        assert_eq!(h.program, b"postfix/smtpd");
        assert_eq!(h.msg, b"NOQUEUE: reject: x");
        let h = hdr("<22>Mar 13 10:12:01 mx1 postfix-out/smtp[1]: A1: to=<a@b>");
        assert_eq!(h.program, b"postfix-out/smtp");
        let h = hdr("Mar 7 02:09:33 server postfix/smtpd[27246]: x");
        assert_eq!(h.stamp, b"Mar 7 02:09:33");
        let h = hdr("Sep 14 09:58:09 gandalf qmail: 1063526289.744259 delivery 251: success");
        assert_eq!(h.program, b"qmail");
        assert_eq!(h.msg, b"1063526289.744259 delivery 251: success");
    }

    #[test]
    fn solaris_message_id_is_skipped() {
        let h =
            hdr("Mar  3 10:12:01 mx1 postfix/smtpd[1]: [ID 197553 mail.info] NOQUEUE: reject: x");
        assert_eq!(h.msg, b"NOQUEUE: reject: x");
    }

    #[test]
    fn iso_forms() {
        let ctx = TimeContext::in_zone(chrono::Utc::now(), Zone::utc());
        let h = hdr("2025-03-10T09:14:08.123456+01:00 mx1 postfix/smtpd[9]: hello");
        assert_eq!(h.form, StampForm::Iso);
        let t = resolve(&h, &ctx).expect("time");
        assert_eq!(t.to_rfc3339(), "2025-03-10T09:14:08.123456+01:00");
        let h = hdr("2025-03-10T09:14:08+0100 mx1 postfix/smtpd[9]: hello");
        assert_eq!(
            resolve(&h, &ctx).expect("time").to_rfc3339(),
            "2025-03-10T09:14:08+01:00"
        );
        let h = hdr("<34>1 2025-03-10T08:14:08Z mx1 postfix/smtpd 77 - - hello there");
        assert_eq!(h.program, b"postfix/smtpd");
        assert_eq!(h.msg, b"hello there");
        assert_eq!(
            resolve(&h, &ctx).expect("time").to_rfc3339(),
            "2025-03-10T08:14:08+00:00"
        );
    }

    #[test]
    fn iso_space_and_stampless_forms() {
        let h = hdr("2016-04-01 11:08:00 info exim[8003]: [8003] SMTP protocol error");
        assert_eq!(
            (h.form, h.host, h.program),
            (StampForm::IsoSpace, &b"info"[..], &b"exim"[..])
        );
        assert_eq!(h.msg, b"[8003] SMTP protocol error");
        let h = hdr(
            "mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed",
        );
        assert_eq!((h.form, h.program), (StampForm::None, &b"exim"[..]));
        assert!(h.msg.starts_with(b"2021-07-17"));
        // Exim's own lines are not syslog
        for l in [
            "2025-03-10 09:14:07 1trZD6-0007Ll-2T <= a@example.com H=x [192.0.2.1] P=esmtp",
            "2013-06-10 18:33:32 [10099] H=(x) [192.0.2.1]:3755 F=a@b rejected RCPT c@d: relay not permitted",
            "words words: more words",
        ] {
            assert!(parse_header(l.as_bytes()).is_none(), "{l}");
        }
    }

    #[test]
    fn not_syslog() {
        for l in [
            "",
            "garbage",
            "\x00\x01\x02 binary junk here ok",
            "Foo  3 10:12:01 mx1 p[1]: m",
            "2025-03-10 09:14:07 1trZD6-0007Ll-2T <= a@b",
        ] {
            assert!(parse_header(l.as_bytes()).is_none(), "{l:?}");
        }
    }

    #[test]
    fn year_rollover() {
        let reference = NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(6, 0, 0))
            .expect("date");
        let ctx = TimeContext {
            reference,
            all_times: false,
            zone: Zone::utc(),
        };
        let dec = resolve(&hdr("Dec 31 23:59:59 mx p[1]: m"), &ctx).expect("t");
        let jan = resolve(&hdr("Jan  1 00:00:01 mx p[1]: m"), &ctx).expect("t");
        assert_eq!((dec.year(), jan.year()), (2025, 2026));
        assert!(dec < jan);
        let leap = resolve(&hdr("Feb 29 12:00:00 mx p[1]: m"), &ctx).expect("t");
        assert_eq!(leap.year(), 2024);
    }

    #[test]
    fn year_less_stamps_are_read_in_the_context_zone() {
        let reference = NaiveDate::from_ymd_opt(2025, 6, 2)
            .and_then(|d| d.and_hms_opt(6, 0, 0))
            .expect("date")
            .and_utc();
        let line = hdr("Jun  1 10:00:00 mx p[1]: m");
        let at = |name: &str| {
            let zone = Zone::named(name).expect("zone");
            resolve(&line, &TimeContext::in_zone(reference, zone)).expect("t")
        };
        let (utc, tokyo) = (at("UTC"), at("Asia/Tokyo"));
        assert_eq!(utc.to_rfc3339(), "2025-06-01T10:00:00+00:00");
        assert_eq!(tokyo.to_rfc3339(), "2025-06-01T10:00:00+09:00");
        assert_eq!((utc - tokyo).num_hours(), 9);
        // The reference is read in the zone too: 23:00 UTC is the next day in Tokyo.
        let late = NaiveDate::from_ymd_opt(2025, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 0, 0))
            .expect("date")
            .and_utc();
        let jan = hdr("Jan  1 07:00:00 mx p[1]: m");
        let tokyo = TimeContext::in_zone(late, Zone::named("Asia/Tokyo").expect("zone"));
        assert_eq!(resolve(&jan, &tokyo).expect("t").year(), 2026);
        let utc = TimeContext::in_zone(late, Zone::utc());
        assert_eq!(resolve(&jan, &utc).expect("t").year(), 2025);
        assert_eq!(resolve(&jan, &utc).expect("t").hour(), 7);
    }
}
