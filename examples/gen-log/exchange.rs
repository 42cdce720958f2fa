//! `--mta exchange`: the realistic traffic as Exchange 2013–2019 message
//! tracking rows (`MSGTRK*.LOG`, 30 columns, CSV): RECEIVE, AGENTINFO,
//! SUBMIT, DELIVER, SEND, FAIL, DEFER and DSN rows, with the `#Software` …
//! `#Fields:` header Exchange starts each file with, repeated every 10 MiB
//! (the files of a day concatenated, as Exchange caps each at 10 MB).

use super::traffic::{ymd_hms, Counted, Fate, Host, Refusal, Shape};
use super::Rng;
use std::io::{self, Write};

const FIELDS: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version";
const SUBJECTS: [&str; 6] = [
    "Quarterly report",
    "Re: meeting on Tuesday",
    "Invoice 2026-0314",
    "FW: the draft, \"final\" version",
    "Lunch?",
    "Weekly digest",
];

pub struct Exchange<W: Write> {
    out: Counted<W>,
    next_header: u64,
}

/// One row's varying columns.
#[derive(Default)]
struct Row<'a> {
    client: Option<&'a Host>,
    server: Option<&'a Host>,
    source: &'a str,
    event: &'a str,
    connector: &'a str,
    msg: u64,
    rcpts: String,
    status: String,
    sender: &'a str,
    incoming: bool,
    reference: String,
    custom: &'a str,
}

fn csv(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

impl<W: Write> Exchange<W> {
    pub fn new(out: W) -> Self {
        Exchange {
            out: Counted { out, written: 0 },
            next_header: 0,
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.out.flush()
    }

    fn row(&mut self, rng: &mut Rng, t: u64, r: Row<'_>) -> io::Result<()> {
        if self.out.written >= self.next_header {
            self.next_header = self.out.written + (10 << 20);
            let (d, h) = ymd_hms(t);
            for l in [
                "\u{feff}#Software: Microsoft Exchange Server".to_string(),
                "#Version: 15.02.1544.004".into(),
                "#Log-type: Message Tracking Log".into(),
                format!("#Date: {d}T{h}.000Z"),
                format!("#Fields: {FIELDS}"),
            ] {
                self.out.put(&l)?;
            }
        }
        let (d, h) = ymd_hms(t);
        let ms = rng.below(1000);
        let (cip, chost) = r
            .client
            .map_or(("", ""), |c| (c.ip.as_str(), c.name.as_str()));
        let (sip, shost) = r
            .server
            .map_or(("", "EX01"), |c| (c.ip.as_str(), c.name.as_str()));
        let ctx = if r.source == "SMTP" {
            format!(
                "08DD5F0E{:08X};{d}T{h}.{ms:03}Z;0",
                rng.next() & 0xffff_ffff
            )
        } else {
            String::new()
        };
        let subject = SUBJECTS[(r.msg % 6) as usize];
        let cols = [
            format!("{d}T{h}.{ms:03}Z"),
            cip.into(),
            chost.into(),
            sip.into(),
            shost.into(),
            ctx,
            r.connector.into(),
            r.source.into(),
            r.event.into(),
            (100_000 + r.msg).to_string(),
            format!(
                "<{}.{}@{}>",
                r.msg,
                r.msg * 31 % 100_000,
                if r.incoming {
                    "example.net"
                } else {
                    "example.com"
                }
            ),
            format!("0f1e2d3c-{:04x}-4000-8000-{:012x}", r.msg % 65_536, r.msg),
            r.rcpts.clone(),
            r.status.clone(),
            (1_000 + r.msg * 7 % 90_000).to_string(),
            (r.rcpts.matches(';').count() + 1).to_string(),
            String::new(),
            r.reference.clone(),
            subject.into(),
            r.sender.into(),
            r.sender.into(),
            String::new(),
            if r.incoming {
                "Incoming"
            } else {
                "Originating"
            }
            .into(),
            String::new(),
            String::new(),
            String::new(),
            r.custom.into(),
            "Email".into(),
            format!("0f1e2d3c-0000-4000-8000-{:012x}", r.msg),
            "15.02.1544.004".into(),
        ];
        let line: Vec<String> = cols.iter().map(|c| csv(c)).collect();
        self.out.put(&line.join(","))
    }
}

impl<W: Write> Shape for Exchange<W> {
    fn written(&self) -> u64 {
        self.out.written
    }

    fn refused(
        &mut self,
        rng: &mut Rng,
        t: u64,
        c: &Host,
        sender: &str,
        rcpt: &str,
        why: Refusal,
    ) -> io::Result<()> {
        // Exchange tracks a refused recipient as the message's RECEIVE and a FAIL row.
        let msg = 1_000_000_000 + rng.below(1_000_000_000);
        self.row(
            rng,
            t,
            Row {
                client: Some(c),
                source: "SMTP",
                event: "RECEIVE",
                connector: "EX01\\Default Frontend EX01",
                msg,
                rcpts: rcpt.into(),
                sender,
                incoming: true,
                custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                ..Row::default()
            },
        )?;
        let (source, status) = match why {
            Refusal::Unknown => (
                "ROUTING",
                "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found".to_string(),
            ),
            Refusal::Blocklisted => (
                "AGENT",
                format!(
                    "550 5.7.1 Service unavailable; Client host [{}] blocked using Spamhaus",
                    c.ip
                ),
            ),
            Refusal::Relay => (
                "ROUTING",
                "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain".to_string(),
            ),
            Refusal::Spam => (
                "AGENT",
                "550 5.7.1 Message rejected as spam by Content Filtering.".to_string(),
            ),
        };
        self.row(
            rng,
            t,
            Row {
                source,
                event: "FAIL",
                msg,
                rcpts: rcpt.into(),
                status,
                sender,
                incoming: true,
                custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                ..Row::default()
            },
        )
    }

    fn received(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        sender: &str,
        client: Option<&Host>,
        rcpts: &[String],
    ) -> io::Result<()> {
        let incoming = client.is_some_and(|c| !c.ip.starts_with("10."));
        let (source, connector) = if incoming {
            ("SMTP", "EX01\\Default Frontend EX01")
        } else {
            ("STOREDRIVER", "")
        };
        let all = rcpts.join(";");
        self.row(
            rng,
            t,
            Row {
                client,
                source,
                event: "RECEIVE",
                connector,
                msg,
                rcpts: all.clone(),
                sender,
                incoming,
                custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                ..Row::default()
            },
        )?;
        self.row(
            rng,
            t,
            Row {
                source: "AGENT",
                event: "AGENTINFO",
                msg,
                rcpts: all.clone(),
                sender,
                incoming,
                custom: "S:CompCost=|ETR=0;S:DeliveryPriority=Normal;S:AccountForest=corp.example.com;S:AMA=SUM|v=0|action=|error=|atch=0;S:TRA=ETRI|ruleId=|ruleName=|action=",
                ..Row::default()
            },
        )?;
        if !incoming {
            self.row(
                rng,
                t,
                Row {
                    source: "STOREDRIVER",
                    event: "SUBMIT",
                    msg,
                    rcpts: all,
                    sender,
                    custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                    ..Row::default()
                },
            )?;
        }
        Ok(())
    }

    fn delivery(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        rcpt: &str,
        relay: &Host,
        fate: Fate,
    ) -> io::Result<()> {
        let (source, event, status, incoming) = match fate {
            Fate::Local => ("STOREDRIVER", "DELIVER", "250 2.0.0 OK".to_string(), true),
            Fate::Sent => ("SMTP", "SEND", "250 2.6.0 Queued mail for delivery".to_string(), false),
            Fate::Unknown => ("SMTP", "FAIL", format!("550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown"), false),
            Fate::Spam => ("SMTP", "FAIL", "554 5.7.1 Message rejected as spam by Content Filtering".to_string(), false),
            Fate::Deferred(n) => ("SMTP", "DEFER", format!("[{{LRT={n}/3/2026 7:01:45 AM}};{{LED=451 4.2.0 Mailbox busy, try again later}};{{FQDN={}}};{{IP={}}}]", relay.name, relay.ip), false),
        };
        let server = (source == "SMTP").then_some(relay);
        self.row(
            rng,
            t,
            Row {
                server,
                source,
                event,
                connector: if source == "SMTP" {
                    "Internet Send Connector"
                } else {
                    ""
                },
                msg,
                rcpts: rcpt.into(),
                status,
                sender: if incoming {
                    "partner@example.net"
                } else {
                    "staff@example.com"
                },
                incoming,
                custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                ..Row::default()
            },
        )
    }

    fn expired(&mut self, rng: &mut Rng, t: u64, msg: u64, rcpt: &str) -> io::Result<()> {
        self.row(
            rng,
            t,
            Row {
                source: "SMTP",
                event: "FAIL",
                connector: "Internet Send Connector",
                msg,
                rcpts: rcpt.into(),
                status: "550 4.4.7 QUEUE.Expired; message expired".into(),
                sender: "staff@example.com",
                custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                ..Row::default()
            },
        )
    }

    fn bounced(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        ndr: u64,
        sender: &str,
    ) -> io::Result<()> {
        self.row(
            rng,
            t,
            Row {
                source: "DSN",
                event: "DSN",
                msg: ndr,
                rcpts: sender.into(),
                sender: "postmaster@example.com",
                reference: format!("<{}.{}@example.com>", msg, msg * 31 % 100_000),
                custom: "S:DeliveryPriority=Normal;S:AccountForest=corp.example.com",
                ..Row::default()
            },
        )
    }

    fn completed(&mut self, _: &mut Rng, _: u64, _: u64) -> io::Result<()> {
        Ok(())
    }

    fn idle(&mut self, _: &mut Rng, _: u64) -> io::Result<()> {
        Ok(())
    }
}
