//! `--format csv`: one row per group, for spreadsheets, and with `--events`
//! one row per failure event ([`EventWriter`]). Cells are escaped against
//! formula injection (a cell starting with `=`, `+`, `-`, `@`, tab or CR gets
//! a leading `'`) and control characters are shown as escapes.

use super::ReportOptions;
use crate::analysis::summary::Counter;
use crate::event::Event;
use crate::findings::Analysis;
use crate::patterns::PatternSet;
use crate::report::sanitize::terminal;
use chrono::SecondsFormat;
use std::io::{self, Write};

/// A spreadsheet-safe cell.
pub fn safe(s: &str) -> String {
    let s = terminal(s).into_owned();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn list(c: &Counter, n: usize) -> String {
    c.top(n)
        .into_iter()
        .map(|(v, n)| format!("{v} ({n})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes the CSV report (with a header row).
pub fn write(
    w: &mut dyn Write,
    a: &Analysis,
    ps: &PatternSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let s = &a.summary;
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "cause",
        "title",
        "direction",
        "severity",
        "mta",
        "count",
        "distinct_recipients",
        "first_seen",
        "last_seen",
        "top_recipients",
        "top_domains",
        "top_clients_or_hosts",
        "top_senders",
        "example_file",
        "example_line",
        "example_text",
        "meaning",
        "hints",
        "actor",
        "action",
    ])?;
    for (k, g) in s.sorted_groups() {
        let idx = ps.cause_id(&k.cause);
        let title = idx.map(|i| ps.causes[i].title.clone()).unwrap_or_default();
        let act = idx.and_then(|i| ps.act(i, Some(k.direction)));
        let hints = idx
            .map(|i| ps.hints(i, k.direction, &k.mta).join(" | "))
            .unwrap_or_default();
        let t = |x: Option<chrono::DateTime<chrono::FixedOffset>>| {
            x.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                .unwrap_or_default()
        };
        let row = [
            k.cause.to_string(),
            title,
            k.direction.as_str().into(),
            k.severity.as_str().into(),
            k.mta.to_string(),
            g.count.to_string(),
            g.recipients.distinct().to_string(),
            t(g.first),
            t(g.last),
            list(&g.recipients, opts.top),
            list(&g.domains, opts.top),
            list(&g.peers, opts.top),
            list(&g.senders, opts.top),
            g.example
                .as_ref()
                .map(|e| e.file.clone())
                .unwrap_or_default(),
            g.example
                .as_ref()
                .map(|e| e.line.to_string())
                .unwrap_or_default(),
            g.example
                .as_ref()
                .map(|e| e.text.clone())
                .unwrap_or_default(),
            idx.map(|i| ps.causes[i].meaning.clone())
                .unwrap_or_default(),
            hints,
            act.map(|a| a.0.to_string()).unwrap_or_default(),
            act.map(|a| a.1.to_string()).unwrap_or_default(),
        ];
        out.write_record(row.iter().map(|c| safe(c)))?;
    }
    out.flush()
}

/// Columns of `--format csv --events`, one row per failure event.
pub const EVENT_COLUMNS: [&str; 21] = [
    "time",
    "mta",
    "direction",
    "severity",
    "stage",
    "status",
    "cause",
    "rule",
    "reply_rule",
    "code",
    "dsn",
    "client_host",
    "client_ip",
    "remote_host",
    "remote_ip",
    "sender",
    "recipient",
    "queue_id",
    "file",
    "line",
    "text",
];

/// `host[ip]`, `host[ip]:port`, Exim's `host (helo) [ip]` or a bare host or
/// IP, as host and IP (either may be empty). A bracketed value that is not
/// an IP address (`private/dovecot-lmtp`) stays part of the host.
pub fn host_ip(s: &str) -> (String, String) {
    let ip = |t: &str| {
        let t = t.strip_prefix("IPv6:").unwrap_or(t);
        t.parse::<std::net::IpAddr>().ok().map(|a| a.to_string())
    };
    if let (Some(open), Some(close)) = (s.rfind('['), s.rfind(']')) {
        if open < close {
            if let Some(addr) = ip(&s[open + 1..close]) {
                let mut host = s[..open].trim_end();
                // Exim puts the HELO name in parentheses before the address.
                if host.ends_with(')') {
                    if let Some(p) = host.rfind('(') {
                        host = host[..p].trim_end();
                    }
                }
                return (host.to_string(), addr);
            }
        }
    }
    match ip(s.trim()) {
        Some(a) => (String::new(), a),
        None => (s.trim().to_string(), String::new()),
    }
}

/// Writes `--format csv --events`: the header before the first event (or at
/// the end, for a run without events), then one row per event as it is found.
pub struct EventWriter<'a> {
    out: csv::Writer<&'a mut dyn Write>,
    header: bool,
}

impl<'a> EventWriter<'a> {
    /// A writer over `w`; nothing is written yet.
    pub fn new(w: &'a mut dyn Write) -> EventWriter<'a> {
        EventWriter {
            out: csv::Writer::from_writer(w),
            header: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.out.write_record(EVENT_COLUMNS)?;
        }
        Ok(())
    }

    /// Writes one event's row.
    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        self.header()?;
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let (client_host, client_ip) = e.client.as_deref().map(host_ip).unwrap_or_default();
        let (remote_host, remote_ip) = e.remote_host.as_deref().map(host_ip).unwrap_or_default();
        let row: [String; 21] = [
            e.time
                .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                .unwrap_or_default(),
            e.mta.to_string(),
            e.direction.as_str().into(),
            e.severity.as_str().into(),
            o(&e.stage),
            o(&e.status),
            e.cause.to_string(),
            e.rule.to_string(),
            e.reply_rule.map(|r| r.to_string()).unwrap_or_default(),
            o(&e.code),
            o(&e.dsn),
            client_host,
            client_ip,
            remote_host,
            remote_ip,
            match e.sender.as_deref() {
                Some("") => "<>".into(),
                s => s.unwrap_or_default().into(),
            },
            o(&e.recipient),
            o(&e.queue_id),
            e.file.clone(),
            e.line.to_string(),
            o(&e.text),
        ];
        self.out
            .write_record(row.iter().map(|c| safe(c)))
            .map_err(io::Error::from)
    }

    /// Flushes; writes the header first when no event was written and
    /// `header` is true (an empty spreadsheet still has its columns).
    pub fn finish(mut self, header: bool) -> io::Result<()> {
        if header {
            self.header()?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::{host_ip, safe};

    #[test]
    fn hosts_and_ips_are_split() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            host_ip("mail.example.org[198.51.100.7]"),
            s("mail.example.org", "198.51.100.7")
        );
        assert_eq!(
            host_ip("mx.example[198.51.100.30]:25"),
            s("mx.example", "198.51.100.30")
        );
        assert_eq!(
            host_ip("unknown[203.0.113.45]"),
            s("unknown", "203.0.113.45")
        );
        assert_eq!(
            host_ip("mx.example.net (mx.example.net) [192.0.2.3]"),
            s("mx.example.net", "192.0.2.3")
        );
        assert_eq!(host_ip("(helo.example) [192.0.2.3]"), s("", "192.0.2.3"));
        assert_eq!(host_ip("h[IPv6:2001:db8::1]"), s("h", "2001:db8::1"));
        assert_eq!(
            host_ip("mail[private/dovecot-lmtp]"),
            s("mail[private/dovecot-lmtp]", "")
        );
        assert_eq!(host_ip("192.0.2.9"), s("", "192.0.2.9"));
        assert_eq!(host_ip("mx.example.com"), s("mx.example.com", ""));
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe("-1+2"), "'-1+2");
        assert_eq!(safe("@cmd"), "'@cmd");
        assert_eq!(safe("user@example.com"), "user@example.com");
        assert_eq!(safe("a\x1bb"), "a\\x1bb");
    }
}
