//! Entries of `journalctl -o json` (one JSON object per line), turned into
//! RFC 5424 syslog lines that the line parser already understands:
//! `SYSLOG_IDENTIFIER`, `_PID`, `_HOSTNAME`, `__REALTIME_TIMESTAMP`
//! (microseconds since 1970, UTC) and `MESSAGE`, which journald writes as a
//! string or, when it is not valid UTF-8, as an array of byte values.

use chrono::{DateTime, SecondsFormat};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "MESSAGE")]
    message: Option<Value>,
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    ident: Option<String>,
    #[serde(rename = "_COMM")]
    comm: Option<String>,
    #[serde(rename = "_PID")]
    pid: Option<String>,
    #[serde(rename = "SYSLOG_PID")]
    syslog_pid: Option<String>,
    #[serde(rename = "_HOSTNAME")]
    host: Option<String>,
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<String>,
}

fn message_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Array(a) => a
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        _ => None,
    }
}

/// The syslog line of a journal entry, or `None` when the line is not one.
pub fn to_syslog(line: &[u8]) -> Option<Vec<u8>> {
    if !line.starts_with(b"{") {
        return None;
    }
    let e: Entry = serde_json::from_slice(line).ok()?;
    let micros: i64 = e.realtime.as_deref()?.parse().ok()?;
    let t = DateTime::from_timestamp_micros(micros)?;
    let ident = e.ident.or(e.comm).unwrap_or_else(|| "-".into());
    let pid = e.syslog_pid.or(e.pid).unwrap_or_else(|| "-".into());
    let host = e.host.unwrap_or_else(|| "-".into());
    let mut msg = message_bytes(e.message.as_ref()?)?;
    for b in msg.iter_mut() {
        if *b == b'\n' || *b == b'\r' {
            *b = b' ';
        }
    }
    let mut out = format!(
        "<22>1 {} {host} {ident} {pid} - - ",
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
    .into_bytes();
    out.extend_from_slice(&msg);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::to_syslog;

    #[test]
    fn string_and_byte_array_messages() {
        let l = br#"{"__REALTIME_TIMESTAMP":"1741598048123456","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"4242","MESSAGE":"NOQUEUE: reject: x"}"#;
        assert_eq!(
            String::from_utf8(to_syslog(l).expect("line")).expect("utf8"),
            "<22>1 2025-03-10T09:14:08.123456Z mx1 postfix/smtpd 4242 - - NOQUEUE: reject: x"
        );
        let b = br#"{"__REALTIME_TIMESTAMP":"1741598048000000","SYSLOG_IDENTIFIER":"postfix/smtp","MESSAGE":[106,246,114,103]}"#;
        let out = to_syslog(b).expect("line");
        assert!(out.ends_with(b"j\xf6rg"));
        assert!(to_syslog(b"{not json").is_none());
        assert!(to_syslog(br#"{"MESSAGE":"no time"}"#).is_none());
    }
}
