//! The same event arriving through journald and a syslog file: where rsyslog
//! writes `/var/log/mail.log` from the journal, `--journal /var/log/mail.log*`
//! (or a `journalctl -o json` dump next to the files) holds every line twice,
//! in two forms (`Mar 10 07:01:45 mx1 postfix/smtpd[4242]: …` and a JSON
//! entry with microseconds). When a run mixes journal JSON with other inputs,
//! counted lines are keyed not by their bytes but by what both forms share:
//! the time to the second, the program, the pid and the message (not the
//! host, which one form may write short and the other fully qualified).
//!
//! The key is `hash(program, pid, message) + second × STEP` (wrapping), so
//! the correlator can also try the neighbouring seconds of a journal entry
//! (`key ± STEP`): the two copies are stamped by different daemons and may
//! fall on either side of a second's boundary.

use crate::event::{Kind, Record};
use crate::parse::syslog::TimeContext;

/// Distance between the keys of the same line one second apart (odd, so
/// that nearby seconds never give the same key).
pub const STEP: u64 = 0x9e37_79b9_7f4a_7c15;

/// Whether a record is of a kind that is counted (and so de-duplicated).
pub fn counted(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Reject | Kind::Warning | Kind::Delivery | Kind::Expired | Kind::Ndr
    )
}

/// The pid after the program in a syslog line: `prog[4242]:` or RFC 5424's `prog 4242 `.
fn pid<'a>(line: &'a [u8], program: &[u8]) -> &'a [u8] {
    let end = (program.as_ptr() as usize)
        .wrapping_sub(line.as_ptr() as usize)
        .saturating_add(program.len());
    let Some(rest) = line.get(end..) else {
        return b"";
    };
    let (open, close) = match rest.first() {
        Some(b'[') => (1, b']'),
        Some(b' ') => (1, b' '),
        _ => return b"",
    };
    let rest = &rest[open..];
    let n = rest.iter().position(|&b| b == close).unwrap_or(0);
    let p = &rest[..n];
    if p.iter().all(u8::is_ascii_digit) {
        p
    } else {
        b""
    }
}

/// The form-independent key of a line (syslog or journal JSON), if it has a time.
pub fn key(ctx: &TimeContext, line: &[u8]) -> Option<u64> {
    let converted = crate::source::journal::to_syslog(line);
    let line = converted.as_deref().unwrap_or(line);
    let h = crate::parse::syslog::parse_header(line)?;
    let t = crate::parse::syslog::resolve(&h, ctx)?;
    let mut x = xxhash_rust::xxh3::Xxh3::new();
    x.update(h.program);
    x.update(b"\0");
    x.update(pid(line, h.program));
    x.update(b"\0");
    x.update(h.msg.trim_ascii_end());
    Some(
        x.digest()
            .wrapping_add((t.timestamp() as u64).wrapping_mul(STEP)),
    )
}

/// Re-keys the counted records of a parsed chunk by [`key`].
pub fn rekey(ctx: &TimeContext, chunk: &[u8], records: &mut [Record]) {
    if !records.iter().any(|r| counted(r.kind)) {
        return;
    }
    let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    for r in records.iter_mut().filter(|r| counted(r.kind)) {
        let Some(line) = usize::try_from(r.line)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| lines.get(i))
        else {
            continue;
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(k) = key(ctx, line) {
            r.hash = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_a_line_have_one_key() {
        let ctx = TimeContext::at(chrono::Local::now());
        let file = b"2025-03-10T09:14:08+00:00 mx1 postfix/smtpd[4242]: NOQUEUE: reject: x";
        let journal = br#"{"__REALTIME_TIMESTAMP":"1741598048123456","_HOSTNAME":"mx1.example.com","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"4242","MESSAGE":"NOQUEUE: reject: x"}"#;
        let a = key(&ctx, file).expect("key");
        assert_eq!(Some(a), key(&ctx, journal));
        let other_pid = b"2025-03-10T09:14:08+00:00 mx1 postfix/smtpd[4243]: NOQUEUE: reject: x";
        assert_ne!(Some(a), key(&ctx, other_pid));
        let next_second = b"2025-03-10T09:14:09+00:00 mx1 postfix/smtpd[4242]: NOQUEUE: reject: x";
        assert_eq!(key(&ctx, next_second), Some(a.wrapping_add(STEP)));
        assert_eq!(pid(b"prog: x", &b"prog: x"[..4]), b"");
    }
}
